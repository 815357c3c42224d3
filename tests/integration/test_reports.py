"""Reports on both databases: a controlled clock drives three trucks through the real
services, and the report's numbers are checked exactly (JSON, CSV, PDF, open data),
together with who may read it, hostile query parameters, and the rollup rebuild."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from border_gate.declarations import service as declarations
from border_gate.fees.models import FeeCharge
from border_gate.identity.service import CurrentUser, authenticate
from border_gate.platform import Platform
from border_gate.reports.rollups import rebuild_rollups
from border_gate.reports.tables import HourlyCountRow, JourneyRow, StageVisitRow
from border_gate.settings import Settings
from border_gate.workers.runner import start_in_process
from tests.conftest import make_settings
from tests.support import GATE, PASSWORD, World, declaration_body, screened, wait_until
from workflows.machine import Decision, Screen, ScreenedStage
from workflows.model import Channel, DeclarationFacts, Stage, facts_from_builtins
from workflows.roles import system_actor

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 at Hữu Nghị (UTC+7)
DAY = {"gate": GATE, "from": "2026-11-20", "to": "2026-11-20", "granularity": "hour"}
AMEND_REASON = "Thiếu hoá đơn thương mại / commercial invoice missing"
REJECT_REASON = "Hàng thuộc danh mục cấm / prohibited goods"


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at

    def minute(self, minutes: float) -> None:
        self.at = T0 + timedelta(minutes=minutes)


async def _user(platform: Platform, username: str) -> CurrentUser:
    user = await authenticate(platform, username, PASSWORD)
    assert user is not None
    return user


def _facts(plate: str) -> DeclarationFacts:
    return facts_from_builtins(declaration_body(vehicle={"plate": plate, "country": "VN"}))


async def _screen(platform: Platform, declaration_id: str, round_: int) -> None:
    results = {
        "customs": Screen(
            "customs",
            round_,
            {Stage.CUSTOMS: ScreenedStage(required=True)},
            channel=Channel.YELLOW,
        ),
        "quarantine": Screen(
            "quarantine",
            round_,
            {
                Stage.PLANT_QUARANTINE: ScreenedStage(required=True),
                Stage.ANIMAL_QUARANTINE: ScreenedStage(required=False),
                Stage.HEALTH_QUARANTINE: ScreenedStage(required=False),
            },
        ),
        "border_guard": Screen(
            "border_guard", round_, {Stage.BORDER_GUARD: ScreenedStage(required=True)}
        ),
    }
    for agency, command in results.items():
        await declarations.change_declaration(
            platform, system_actor(f"{agency}-screening"), declaration_id, command, lock=True
        )


async def drive_three_trucks(platform: Platform) -> dict[str, str]:
    """A crosses; B is asked to amend, then rejected and turned back; C is cancelled."""
    clock = Clock()
    platform.clock = clock
    firm, customs, plant, guard, yard = [
        await _user(platform, name) for name in ("firm_a", "customs", "plant", "guard", "yard")
    ]

    async def decide(
        user: CurrentUser, did: str, stage: Stage, what: Decision, reason: str | None = "Đạt / OK"
    ) -> None:
        await declarations.decide_stage(
            platform, user, did, stage, what, reason, expected_version=None
        )

    a, _ = await declarations.file_declaration(platform, firm, _facts("12C-345.67"))
    await declarations.submit_declaration(platform, firm, a.id, expected_version=None)
    clock.minute(1)
    await _screen(platform, a.id, 1)
    clock.minute(5)
    b, _ = await declarations.file_declaration(platform, firm, _facts("29H-1234"))
    await declarations.submit_declaration(platform, firm, b.id, expected_version=None)
    clock.minute(6)
    await _screen(platform, b.id, 1)
    clock.minute(10)
    await declarations.record_gate_event(platform, yard, GATE, "gate_in", "12C-345.67", None)
    clock.minute(15)
    c, _ = await declarations.file_declaration(platform, firm, _facts("30A-5678"))
    await declarations.submit_declaration(platform, firm, c.id, expected_version=None)
    clock.minute(20)
    await decide(customs, a.id, Stage.CUSTOMS, Decision.START_REVIEW, None)
    await declarations.cancel_declaration(
        platform, firm, c.id, reason="Đổi xe / truck changed", expected_version=None
    )
    clock.minute(30)
    await declarations.record_gate_event(platform, yard, GATE, "gate_in", "29H-1234", None)
    clock.minute(40)
    await decide(customs, b.id, Stage.CUSTOMS, Decision.REQUEST_AMENDMENT, AMEND_REASON)
    clock.minute(50)
    await decide(customs, a.id, Stage.CUSTOMS, Decision.APPROVE)
    clock.minute(60)
    resubmitted = await declarations.submit_declaration(platform, firm, b.id, expected_version=None)
    await _screen(platform, b.id, resubmitted.screening_round)
    clock.minute(70)
    await decide(plant, a.id, Stage.PLANT_QUARANTINE, Decision.APPROVE)
    clock.minute(75)
    await decide(guard, a.id, Stage.BORDER_GUARD, Decision.START_REVIEW, None)
    clock.minute(80)
    await decide(guard, a.id, Stage.BORDER_GUARD, Decision.APPROVE)
    clock.minute(90)
    await declarations.record_gate_event(platform, yard, GATE, "gate_out", "12C-345.67", None)
    await decide(customs, b.id, Stage.CUSTOMS, Decision.REJECT, REJECT_REASON)
    clock.minute(110)
    await declarations.record_gate_event(platform, yard, GATE, "gate_out", "29H-1234", None)
    clock.minute(180)
    return {"a": a.id, "b": b.id, "c": c.id}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, REPORT_SLA_MINUTES="customs=35")


@pytest.fixture
async def driven(world: World) -> World:
    await drive_three_trucks(world.platform)
    return world


async def test_report_numbers_are_exact(driven: World) -> None:
    w = driven
    response = await w.client.get("/api/v1/reports/throughput", params=DAY, headers=w.as_("board"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["from"] == "2026-11-20T00:00:00+07:00"
    assert report["to"] == "2026-11-21T00:00:00+07:00"
    assert report["totals"] == {
        "filed": 3,
        "declared": 3,
        "arrived": 2,
        "cleared": 1,
        "departed": 1,
        "turned_back": 1,
        "rejected": 1,
        "cancelled": 1,
        "amendment_requested": 1,
    }
    stages = {s["stage"]: s for s in report["stages"]}
    customs = stages["customs"]
    # Decisions 600 s (amendment), 1800 s (rejection after resubmission), 2400 s (approval).
    assert customs["decisions"] == 3
    assert customs["median_seconds"] == 1800
    assert customs["p90_seconds"] == 2280
    assert customs["p95_seconds"] == 2340
    assert customs["waiting_median_seconds"] == 600
    assert customs["working_median_seconds"] == 0
    assert customs["waiting_total_seconds"] == 3000
    assert customs["working_total_seconds"] == 1800
    assert customs["sla_target_seconds"] == 2100
    assert customs["within_target_share"] == pytest.approx(2 / 3)
    assert customs["meets_service_level"] is False
    plant = stages["plant_quarantine"]  # B's plant visit was stopped by the rejection
    assert (plant["decisions"], plant["median_seconds"], plant["waiting_total_seconds"]) == (
        1,
        3600,
        3600,
    )
    guard = stages["border_guard"]
    assert (
        guard["median_seconds"],
        guard["waiting_median_seconds"],
        guard["working_median_seconds"],
    ) == (600, 300, 300)
    assert stages["animal_quarantine"]["decisions"] == 0
    assert stages["animal_quarantine"]["median_seconds"] is None
    assert report["bottleneck"] == "customs"
    assert report["end_to_end"]["arrival_to_departure"] == {
        "count": 1,
        "median_seconds": 4800,
        "p90_seconds": 4800,
        "p95_seconds": 4800,
    }
    assert report["end_to_end"]["arrival_to_clearance"]["median_seconds"] == 4200
    assert report["end_to_end"]["declared_to_departure"]["median_seconds"] == 5400
    assert {(r["stage"], r["outcome"], r["reason"], r["count"]) for r in report["reasons"]} == {
        ("customs", "amendment_requested", AMEND_REASON, 1),
        ("customs", "rejected", REJECT_REASON, 1),
    }
    buckets = report["buckets"]
    assert len(buckets) == 24
    eight, nine = buckets[8], buckets[9]
    assert eight["start"] == "2026-11-20T08:00:00+07:00"
    assert (eight["declared"], eight["arrived"], eight["cancelled"], eight["in_yard"]) == (
        3,
        2,
        1,
        2,
    )
    assert (nine["cleared"], nine["departed"], nine["rejected"], nine["in_yard"]) == (1, 1, 1, 0)
    assert sum(b["declared"] for b in buckets) == 3

    # Who was still with an agency at 09:00: A and B at plant quarantine.
    morning = {**DAY, "from": "2026-11-20T08:00+07:00", "to": "2026-11-20T09:00:00+07:00"}
    response = await w.client.get(
        "/api/v1/reports/throughput", params=morning, headers=w.as_("admin")
    )
    assert response.status_code == 200, response.text
    open_now = {s["stage"]: s["open_at_end"] for s in response.json()["stages"]}
    assert open_now == {
        "customs": 0,
        "plant_quarantine": 2,
        "animal_quarantine": 0,
        "health_quarantine": 0,
        "border_guard": 0,
    }
    # The export direction has all of it, the import direction nothing.
    response = await w.client.get(
        "/api/v1/reports/throughput", params={**DAY, "direction": "import"}, headers=w.as_("board")
    )
    assert response.json()["totals"]["declared"] == 0


async def rollup_snapshot(platform: Platform) -> dict[str, list[Any]]:
    async with platform.unit_of_work() as uow:
        result = {}
        for table in (StageVisitRow, JourneyRow, HourlyCountRow):
            rows = (await uow.session.execute(select(table.__table__))).all()
            result[table.__tablename__] = sorted(tuple(r) for r in rows)
        return result


async def test_rebuilt_rollups_equal_the_live_ones(driven: World) -> None:
    platform = driven.platform

    async def snapshot() -> dict[str, list[Any]]:
        return await rollup_snapshot(platform)

    live = await snapshot()
    assert len(live["report_stage_visits"]) == 6  # A: 3; B: customs twice, plant once
    assert len(live["report_journeys"]) == 3
    seen: list[tuple[int, int]] = []
    done = await rebuild_rollups(
        platform.unit_of_work, batch=2, progress=lambda d, n: seen.append((d, n))
    )
    assert done == 3 and seen == [(2, 3), (3, 3)]
    assert await snapshot() == live


async def test_rollups_written_by_in_process_workers_equal_a_rebuild(world: World) -> None:
    """The embedded workers' transitions run each hook once: counted once, like a rebuild."""
    platform = world.platform
    firm = await _user(platform, "firm_a")
    stop = await start_in_process(platform)
    try:
        ids = []
        for plate in ("12C-345.67", "29H-1234"):
            filed, _ = await declarations.file_declaration(platform, firm, _facts(plate))
            await declarations.submit_declaration(platform, firm, filed.id, expected_version=None)
            ids.append(filed.id)
        for declaration_id in ids:
            await wait_until(world, declaration_id, screened, what="screened by the workers")
        worker_platform = platform.background["context"]._platform
        assert len(worker_platform.transition_hooks) == len(platform.transition_hooks), (
            "a hook would run twice in the workers"
        )
    finally:
        await stop()
    live = await rollup_snapshot(platform)
    await rebuild_rollups(platform.unit_of_work, batch=10, progress=lambda d, n: None)
    assert await rollup_snapshot(platform) == live


async def test_rebuild_command(
    driven: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from border_gate.cli import main

    platform = driven.platform
    async with platform.unit_of_work() as uow:
        before = sorted(
            tuple(r) for r in (await uow.session.execute(select(HourlyCountRow.__table__))).all()
        )
        await uow.session.execute(HourlyCountRow.__table__.delete())  # rollups gone wrong
        await uow.commit()
    monkeypatch.setenv("DATABASE_URL", platform.settings.database_url)
    monkeypatch.setenv("DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("SECRET_KEY", platform.settings.secret_key)
    assert await asyncio.to_thread(main, ["reports", "rebuild"]) == 0
    captured = capsys.readouterr()
    assert (
        "3 / 3" in captured.err and "rebuilt the report rollups from 3 declarations" in captured.out
    )
    async with platform.unit_of_work() as uow:
        after = sorted(
            tuple(r) for r in (await uow.session.execute(select(HourlyCountRow.__table__))).all()
        )
    assert after == before


async def test_officers_see_their_own_stage_only(driven: World) -> None:
    w = driven
    url = "/api/v1/reports/throughput"
    response = await w.client.get(url, params=DAY, headers=w.as_("customs"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["scope"] == "customs"
    assert [s["stage"] for s in report["stages"]] == ["customs"]
    assert report["bottleneck"] is None
    assert all(r["stage"] == "customs" for r in report["reasons"])
    response = await w.client.get(url, params=DAY, headers=w.as_("plant"))
    assert [s["stage"] for s in response.json()["stages"]] == ["plant_quarantine"]
    assert response.json()["reasons"] == []
    for username, status in (("customs_tt", 403), ("firm_a", 403), ("yard", 403)):
        response = await w.client.get(url, params=DAY, headers=w.as_(username))
        assert response.status_code == status, (username, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await w.client.get(url, params=DAY)).status_code == 401
    assert (
        await w.client.get(url + ".csv", params=DAY, headers=w.as_("firm_a"))
    ).status_code == 403
    assert (
        await w.client.get(url + ".pdf", params=DAY, headers=w.as_("firm_a"))
    ).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-20"}, "gate"),
        ({"gate": "NOWHERE"}, "gate"),
        ({"gate": "'; DROP TABLE declarations; --"}, "gate"),
        ({"gate": GATE, "from": "2026-11-21", "to": "2026-11-20"}, "from"),
        ({"gate": GATE, "from": "2026-13-01"}, "from"),
        ({"gate": GATE, "from": "yesterday"}, "from"),
        ({"gate": GATE, "to": "2026-11-20T08:30+07:00"}, "to"),
        ({"gate": GATE, "from": "2026-01-01", "to": "2026-06-30", "granularity": "hour"}, "to"),
        ({"gate": GATE, "from": "2020-01-01", "to": "2026-06-30"}, "to"),
        ({"gate": GATE, "granularity": "minute"}, "granularity"),
        ({"gate": GATE, "direction": "sideways"}, "direction"),
        ({"gate": GATE, "from": "1900-01-01"}, "from"),
        ({"gate": GATE, "to": "9999-12-31"}, "to"),
        ({"gate": GATE, "from": "\x00\x01"}, "from"),
    ],
)
async def test_hostile_query_parameters_get_a_400_naming_them(
    world: World, params: dict[str, str], field: str
) -> None:
    response = await world.client.get(
        "/api/v1/reports/throughput", params=params, headers=world.as_("board")
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert field in (problem.get("field"), *(e.get("field") for e in problem.get("errors", [])))


async def test_oversized_and_open_data_hostile_parameters(world: World) -> None:
    response = await world.client.get(
        "/api/v1/reports/throughput", params={"gate": "X" * 5000}, headers=world.as_("board")
    )
    assert response.status_code == 400
    for params in (
        {"from": "2026-11-20T08:00"},
        {"from": "2026-11-10", "to": "2026-11-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
        {"gate": "NOWHERE"},
    ):
        response = await world.client.get("/api/v1/open-data/daily", params=params)
        assert response.status_code == 400, (params, response.text)


async def test_csv_has_the_same_numbers(driven: World) -> None:
    w = driven
    for response in (
        await w.client.get("/api/v1/reports/throughput.csv", params=DAY, headers=w.as_("board")),
        await w.client.get(
            "/api/v1/reports/throughput", params=DAY, headers=w.as_("board", Accept="text/csv")
        ),
    ):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        text = response.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        totals = {r[1]: r[2] for r in rows if r and r[0] == "totals"}
        assert totals["declared"] == "3" and totals["departed"] == "1"
        assert totals["bottleneck"] == "customs"
        customs = next(r for r in rows if r[:2] == ["stages", "customs"])
        assert customs[2:7] == ["3", "0", "1800", "2280", "2340"]
        assert sum(1 for r in rows if r and r[0] == "buckets") == 24
        reasons = [r for r in rows if r and r[0] == "reasons"]
        assert ["reasons", "customs", "rejected", REJECT_REASON, "1"] in reasons


async def test_pdf_is_signed_and_verifies(driven: World, tmp_path: Path) -> None:
    w = driven
    response = await w.client.get(
        "/api/v1/reports/throughput", params=DAY, headers=w.as_("board", Accept="application/pdf")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    upload = await w.client.post(
        "/api/v1/documents/verify", content=pdf, headers={"Content-Type": "application/pdf"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["genuine"] is True, upload.text
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdfsig"):
        out = (
            await asyncio.to_thread(
                subprocess.run, ["pdfsig", str(path)], capture_output=True, text=True
            )
        ).stdout
        assert "Signature is Valid" in out, out
    if shutil.which("pdftotext"):
        text = (
            await asyncio.to_thread(
                subprocess.run, ["pdftotext", str(path), "-"], capture_output=True, text=True
            )
        ).stdout
        assert "Tổng hợp" in text and "Throughput over time" in text
        assert "Điểm nghẽn / bottleneck" in text
    route = await w.client.get("/api/v1/reports/throughput.pdf", params=DAY, headers=w.as_("admin"))
    assert route.status_code == 200 and route.content.startswith(b"%PDF")


async def test_open_data_is_public_and_names_nobody(driven: World) -> None:
    w = driven
    response = await w.client.get(
        "/api/v1/open-data/daily", params={"gate": GATE, "from": "2026-11-20", "to": "2026-11-20"}
    )
    assert response.status_code == 200, response.text
    data = response.json()
    [day] = data["days"]
    assert day["date"] == "2026-11-20"
    assert (
        day["declared"],
        day["arrived"],
        day["departed"],
        day["rejected"],
        day["cancelled"],
    ) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert day["median_stage_seconds"]["customs"] == 1800  # three decisions: shown
    assert day["median_stage_seconds"]["plant_quarantine"] is None  # one: withheld
    assert day["median_arrival_to_departure_seconds"] is None
    everything = (
        response.text
        + (
            await w.client.get(
                "/api/v1/open-data/daily.csv", params={"from": "2026-11-20", "to": "2026-11-20"}
            )
        ).text
    )
    body = declaration_body()
    for secret in (
        "12C-345.67",
        "12C34567",
        "29H-1234",
        "30A-5678",
        "FIRM_A",
        body["consignor"],
        body["consignee"],
        body["driver"]["name"],
        body["driver"]["document_number"],
        "firm_a",
        "customs",
        AMEND_REASON,
        REJECT_REASON,
    ):
        if secret == "customs":
            # the stage name appears as a column key; no officer's username does
            assert "user:customs" not in everything
            continue
        assert secret not in everything, secret
    all_gates = await w.client.get(
        "/api/v1/open-data/daily", params={"from": "2026-11-20", "to": "2026-11-20"}
    )
    assert {d["gate"] for d in all_gates.json()["days"]} == {g.code for g in w.platform.gates}


async def test_fee_totals_per_day_are_in_the_boards_report(driven: World) -> None:
    """Issue 7: fee totals per day appear in the management report, from the charges."""
    w = driven
    async with w.platform.unit_of_work() as uow:
        charged = (await uow.session.execute(select(FeeCharge.amount_vnd))).scalars().all()
    assert len(charged) == 2  # A and B were gated in
    response = await w.client.get("/api/v1/reports/throughput", params=DAY, headers=w.as_("board"))
    sections = {s["key"]: s for s in response.json()["sections"]}
    fees = sections["fees"]
    assert fees["columns"] == ["date", "vehicles", "charged_vnd", "paid_vnd", "outstanding_vnd"]
    assert fees["rows"] == [
        ["2026-11-20", 2, sum(charged), 0, sum(charged)],
        ["Tổng / total", 2, sum(charged), 0, sum(charged)],
    ]
    csv_text = (
        await w.client.get("/api/v1/reports/throughput.csv", params=DAY, headers=w.as_("board"))
    ).text
    assert str(sum(charged)) in csv_text
    officer = await w.client.get("/api/v1/reports/throughput", params=DAY, headers=w.as_("customs"))
    assert officer.json()["sections"] == []
