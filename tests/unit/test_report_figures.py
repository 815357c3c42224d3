"""The report's pure computations: percentiles, local-time buckets, SLA share, bottleneck,
the rollup changes of a transition, and the service-level settings."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from border_gate.reports.figures import (
    StageLoad,
    bottleneck,
    bucket_edges,
    bucket_index,
    percentile,
    queue_over_time,
    share_within,
)
from border_gate.reports.rollups import visit_durations
from border_gate.reports.sla import DEFAULT_SHARE, service_levels
from border_gate.settings import SettingsError, load_settings

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
PARIS = ZoneInfo("Europe/Paris")


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([600, 2400, 1800], 0.5) == 1800
    assert percentile([600, 1800, 2400], 0.9) == pytest.approx(2280)
    assert percentile([600, 1800, 2400], 0.95) == pytest.approx(2340)
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


@given(st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=50))
def test_median_matches_the_standard_library(values: list[float]) -> None:
    assert percentile(values, 0.5) == pytest.approx(statistics.median(values))


@given(st.lists(st.floats(min_value=0, max_value=1e7), min_size=1, max_size=50))
def test_percentiles_are_ordered_and_within_range(values: list[float]) -> None:
    p50, p90, p95 = (percentile(values, f) for f in (0.5, 0.9, 0.95))
    assert p50 is not None and p90 is not None and p95 is not None
    assert min(values) <= p50 <= p90 <= p95 <= max(values) + 1e-6


def test_share_within_target() -> None:
    assert share_within([], 60) is None
    assert share_within([60, 61, 30], 60) == pytest.approx(2 / 3)
    assert share_within([10] * 999 + [100], 60) == pytest.approx(0.999)


def test_bottleneck_is_the_stage_with_most_time_then_p90_then_order() -> None:
    assert bottleneck([]) is None
    assert bottleneck([StageLoad("customs", 0, 0.0, None)]) is None
    loads = [
        StageLoad("customs", 3, 4800.0, 2280.0),
        StageLoad("plant_quarantine", 1, 3600.0, 3600.0),
    ]
    assert bottleneck(loads) == "customs"
    tie = [StageLoad("customs", 2, 100.0, 60.0), StageLoad("border_guard", 1, 100.0, 100.0)]
    assert bottleneck(tie) == "border_guard"
    same = [StageLoad("customs", 1, 100.0, 100.0), StageLoad("border_guard", 1, 100.0, 100.0)]
    assert bottleneck(same) == "customs"


def test_daily_buckets_are_local_days() -> None:
    start = datetime(2026, 11, 1, tzinfo=HCM)
    end = datetime(2026, 11, 4, tzinfo=HCM)
    edges = bucket_edges(start, end, "day", HCM)
    assert [e.astimezone(HCM).isoformat() for e in edges] == [
        "2026-11-01T00:00:00+07:00",
        "2026-11-02T00:00:00+07:00",
        "2026-11-03T00:00:00+07:00",
        "2026-11-04T00:00:00+07:00",
    ]
    assert all(e.tzinfo is UTC for e in edges)
    # 23:30 UTC on the 1st is 06:30 local on the 2nd: the second bucket.
    assert bucket_index(edges, datetime(2026, 11, 1, 23, 30, tzinfo=UTC)) == 1
    assert bucket_index(edges, datetime(2026, 10, 31, 16, 59, tzinfo=UTC)) is None
    assert bucket_index(edges, end) is None


def test_daylight_saving_days_are_23_and_25_hours() -> None:
    edges = bucket_edges(
        datetime(2026, 3, 28, tzinfo=PARIS), datetime(2026, 3, 30, tzinfo=PARIS), "day", PARIS
    )
    assert [b - a for a, b in pairwise(edges)] == [
        timedelta(hours=24),
        timedelta(hours=23),
    ]
    edges = bucket_edges(
        datetime(2026, 10, 25, tzinfo=PARIS), datetime(2026, 10, 26, tzinfo=PARIS), "day", PARIS
    )
    assert edges[1] - edges[0] == timedelta(hours=25)


def test_hourly_buckets_and_a_partial_last_one() -> None:
    start = datetime(2026, 11, 20, 8, tzinfo=HCM)
    edges = bucket_edges(start, start + timedelta(hours=3), "hour", HCM)
    assert len(edges) == 4
    assert edges[1].astimezone(HCM).hour == 9


def test_queue_over_time() -> None:
    assert queue_over_time(4, [2, 0, 1], [1, 3, 0]) == [5, 2, 3]


def test_waiting_and_working_split() -> None:
    opened = datetime(2026, 11, 20, 1, tzinfo=UTC)
    taken = opened + timedelta(minutes=10)
    decided = opened + timedelta(minutes=40)
    assert visit_durations(opened, taken, decided) == {
        "total_seconds": 2400.0,
        "waiting_seconds": 600.0,
        "working_seconds": 1800.0,
    }
    # Nobody took it: all of it was waiting for the agency.
    assert visit_durations(opened, None, decided)["waiting_seconds"] == 2400.0
    # A take recorded before the (re)opening counts from the opening.
    assert visit_durations(opened, opened - timedelta(hours=1), decided)["waiting_seconds"] == 0


def test_service_levels_from_the_environment() -> None:
    levels = service_levels({})
    assert levels.share == DEFAULT_SHARE
    assert levels.target_for("customs") == 7200
    levels = service_levels(
        {"REPORT_SLA_MINUTES": "customs=35, border_guard=10", "REPORT_SLA_SHARE": "0.99"}
    )
    assert (levels.target_for("customs"), levels.target_for("border_guard"), levels.share) == (
        2100,
        600,
        0.99,
    )
    for env, word in (
        ({"REPORT_SLA_MINUTES": "yard=5"}, "unknown stage"),
        ({"REPORT_SLA_MINUTES": "customs=soon"}, "not a number"),
        ({"REPORT_SLA_MINUTES": "customs=-1"}, "more than 0"),
        ({"REPORT_SLA_SHARE": "2"}, "REPORT_SLA_SHARE"),
    ):
        with pytest.raises(ValueError, match=word):
            service_levels(env)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"REPORT_SLA_MINUTES": "yard=5"}, "REPORT_SLA_MINUTES"),
        ({"REPORT_SLA_SHARE": "1.5"}, "REPORT_SLA_SHARE"),
    ],
)
def test_wrong_service_levels_stop_start_up_with_the_setting_named(
    tmp_path: Path, extra: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as failed:
        load_settings({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 40, **extra})
    assert any(named in problem for problem in failed.value.problems)


def test_service_levels_come_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {"DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 40, "REPORT_SLA_MINUTES": "customs=35"}
    )
    assert settings.report_service_levels.target_for("customs") == 35 * 60
    assert settings.report_service_levels.share == 0.999
