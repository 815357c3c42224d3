"""The queue's ordering and expected-time arithmetic (pure, with hypothesis properties)."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.queueing import (
    CallRelease,
    Lane,
    QueuePolicy,
    WaitingTruck,
    call_order,
    expected_call_times,
    hourly_calls,
    moved_enough,
    percentile,
    planned_calls,
    release_schedule,
    scale_to_total,
    walk_in_lane_for,
    weighted_round_robin,
)

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=ZONE)

weights_st = st.dictionaries(
    st.sampled_from("abcd"), st.integers(min_value=1, max_value=7), min_size=1, max_size=4
)


@given(weights=weights_st, lengths=st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_round_robin_keeps_every_item_once_and_each_lane_in_order(
    weights: dict[str, int], lengths: list[int]
) -> None:
    lanes = {
        lane: [f"{lane}{i}" for i in range(n)] for lane, n in zip(weights, lengths, strict=False)
    }
    merged = weighted_round_robin(lanes, weights)
    assert sorted(item for _, item in merged) == sorted(
        i for items in lanes.values() for i in items
    )
    for lane, items in lanes.items():
        assert [item for picked, item in merged if picked == lane] == items


@given(weights=weights_st, length=st.integers(1, 60))
def test_no_lane_starves_while_every_lane_has_trucks(weights: dict[str, int], length: int) -> None:
    """While every lane is busy, each is picked at least once in every sum(weights) picks."""
    lanes = {lane: list(range(length)) for lane in weights}
    merged = [lane for lane, _ in weighted_round_robin(lanes, weights)]
    total = sum(weights.values())
    first_empty = min(
        max(i for i, picked in enumerate(merged) if picked == lane) for lane in weights
    )
    busy = merged[: first_empty + 1]
    for lane in weights:
        picks = [-1] + [i for i, picked in enumerate(busy) if picked == lane]
        gaps = [b - a for a, b in itertools.pairwise(picks)]
        gaps.append(len(busy) - 1 - picks[-1])  # still waiting when the busy stretch ends
        assert max(gaps) <= total, (lane, gaps, weights)


arrivals_st = st.lists(
    st.lists(
        st.tuples(st.sampled_from([Lane.PERISHABLE, Lane.AEO, Lane.OTHER]), st.booleans()),
        max_size=3,
    ),
    min_size=1,
    max_size=150,
)


@settings(max_examples=150, deadline=None)
@given(arrivals=arrivals_st)
def test_live_queue_calling_one_at_a_time_starves_no_lane(
    arrivals: list[list[tuple[Lane, bool]]],
) -> None:
    """The live system: each recompute builds a fresh order and calls its head, keeping the
    lanes' credits. However trucks arrive, the truck at the head of a lane is called within
    twice its lane's nominal turn: 2 x (top cycle / top weight) x (class cycle / share)."""
    policy = QueuePolicy()
    top_total = policy.booked_weight + policy.walk_in_weight
    class_total = sum(policy.class_shares.values())
    bound = {Lane.BOOKED: 2 * math.ceil(top_total / policy.booked_weight)}
    for lane, share in policy.class_shares.items():
        bound[lane] = 2 * math.ceil(top_total / policy.walk_in_weight * class_total / share)
    waiting: list[WaitingTruck] = []
    credits: dict[str, int] = {}
    waited: Counter[tuple[Lane, str]] = Counter()
    number = 0
    for step in [*arrivals, *([[]] * 400)]:
        for lane, booked in step:
            waiting.append(
                _truck(number, lane, -number, NOW - timedelta(minutes=5) if booked else None)
            )
            number += 1
        if not waiting:
            continue
        plan = planned_calls(waiting, NOW, policy, credits)
        _, called, credits = plan[0]
        waiting.remove(called)
        heads: dict[Lane, WaitingTruck] = {}
        for lane, truck, _ in plan[1:]:
            heads.setdefault(lane, truck)
        for lane, truck in heads.items():
            waited[(lane, truck.declaration_id)] += 1
            assert waited[(lane, truck.declaration_id)] <= bound[lane], (lane, bound)
    assert not waiting


def test_without_kept_credits_the_heaviest_lane_would_win_every_recompute() -> None:
    """Why the credits are kept: a fresh order's head is always the heaviest lane."""
    policy = QueuePolicy()
    trucks = [_truck(i, Lane.OTHER, i, NOW - timedelta(minutes=5)) for i in range(5)]
    trucks.append(_truck(9, Lane.OTHER, 60))  # a walk-in
    fresh = [call_order(trucks, NOW, policy)[0][0] for _ in range(3)]
    assert fresh == [Lane.BOOKED] * 3
    credits: dict[str, int] = {}
    called: list[Lane] = []
    for _ in range(4):
        lane, truck, credits = planned_calls(trucks, NOW, policy, credits)[0]
        trucks.remove(truck)
        called.append(lane)
    assert Lane.OTHER in called


@given(weights=weights_st, cycles=st.integers(1, 8))
def test_shares_are_exact_over_full_cycles(weights: dict[str, int], cycles: int) -> None:
    """With every lane busy, n full cycles give each lane exactly n times its weight."""
    total = sum(weights.values())
    lanes = {lane: list(range(total * cycles + total)) for lane in weights}
    merged = weighted_round_robin(lanes, weights)[: total * cycles]
    counts = Counter(lane for lane, _ in merged)
    assert counts == {lane: w * cycles for lane, w in weights.items()}


@given(weights=weights_st, n=st.integers(1, 120))
def test_every_prefix_stays_within_one_truck_of_the_shares(weights: dict[str, int], n: int) -> None:
    total = sum(weights.values())
    lanes = {lane: list(range(n + 1)) for lane in weights}
    merged = weighted_round_robin(lanes, weights)[:n]
    counts = Counter(lane for lane, _ in merged)
    for lane, weight in weights.items():
        assert abs(counts[lane] - n * weight / total) < len(weights), (lane, counts, weights)


def _truck(i: int, lane: Lane, minutes: int, slot: datetime | None = None) -> WaitingTruck:
    return WaitingTruck(
        declaration_id=f"{i:04d}",
        waiting_since=NOW - timedelta(minutes=minutes),
        walk_in_lane=lane,
        slot_start=slot,
    )


trucks_st = st.lists(
    st.tuples(
        st.sampled_from([Lane.PERISHABLE, Lane.AEO, Lane.OTHER]),
        st.integers(0, 600),
        st.none() | st.integers(-180, 600),
    ),
    max_size=80,
)


@settings(max_examples=200)
@given(raw=trucks_st)
def test_call_order_never_calls_out_of_order_within_a_lane(
    raw: list[tuple[Lane, int, int | None]],
) -> None:
    policy = QueuePolicy()
    trucks = [
        _truck(i, lane, waited, None if slot is None else NOW + timedelta(minutes=slot))
        for i, (lane, waited, slot) in enumerate(raw)
    ]
    order = call_order(trucks, NOW, policy)
    assert sorted(t.declaration_id for _, t in order) == sorted(t.declaration_id for t in trucks)
    for lane in Lane:
        in_lane = [t for picked, t in order if picked is lane]
        if lane is Lane.BOOKED:
            keys = [(t.slot_start, t.waiting_since) for t in in_lane]
        else:
            keys = [(t.waiting_since, "") for t in in_lane]  # type: ignore[misc]
        assert keys == sorted(keys)  # type: ignore[type-var]
        for truck in in_lane:  # a booked slot far ahead does not put a truck in the booked lane
            if lane is Lane.BOOKED:
                assert truck.slot_start is not None
                assert truck.slot_start - policy.booked_lead <= NOW


@settings(max_examples=200)
@given(raw=trucks_st)
def test_walk_ins_and_others_never_starve(raw: list[tuple[Lane, int, int | None]]) -> None:
    """Whatever the mix, an 'other' walk-in is called within a bounded number of calls."""
    policy = QueuePolicy()
    trucks = [
        _truck(i, lane, waited, None if slot is None else NOW + timedelta(minutes=slot))
        for i, (lane, waited, slot) in enumerate(raw)
    ]
    order = call_order(trucks, NOW, policy)
    top_cycle = policy.booked_weight + policy.walk_in_weight
    class_cycle = sum(policy.class_shares.values())
    bound = (
        top_cycle * class_cycle
    )  # walk-in turns come every top cycle; class turns every class cycle
    positions = [i for i, (lane, _) in enumerate(order) if lane is not Lane.BOOKED]
    for lane in (Lane.OTHER, Lane.PERISHABLE, Lane.AEO):
        picks = [i for i, (picked, _) in enumerate(order) if picked is lane]
        if picks:
            gaps = [picks[0] + 1] + [b - a for a, b in itertools.pairwise(picks)]
            assert max(gaps) <= bound, (lane, gaps)
    if positions:
        gaps = [positions[0] + 1] + [b - a for a, b in itertools.pairwise(positions)]
        assert max(gaps) <= top_cycle


def test_perishables_go_first_among_walk_ins_and_booked_trucks_first_overall() -> None:
    policy = QueuePolicy()
    trucks = [
        _truck(1, Lane.OTHER, 300),
        _truck(2, Lane.PERISHABLE, 10),
        _truck(3, Lane.AEO, 200, slot=NOW - timedelta(minutes=30)),
        _truck(4, Lane.OTHER, 250),
    ]
    order = [t.declaration_id for _, t in call_order(trucks, NOW, policy)]
    assert order == ["0003", "0002", "0001", "0004"]


def test_lane_from_cargo_and_firm() -> None:
    policy = QueuePolicy(aeo_organisations=frozenset({"FIRM_B"}))
    assert walk_in_lane_for(["847989", "081060"], "FIRM_A", policy) is Lane.PERISHABLE
    assert walk_in_lane_for(["847989"], "FIRM_B", policy) is Lane.AEO
    assert walk_in_lane_for(["847989"], "FIRM_A", policy) is Lane.OTHER


@given(profile=st.lists(st.integers(0, 50), min_size=24, max_size=24), total=st.integers(0, 3000))
def test_quota_spread_over_hours_adds_up(profile: list[int], total: int) -> None:
    scaled = scale_to_total(profile, total)
    if sum(profile) == 0:
        assert scaled == [0] * 24
        return
    assert sum(scaled) == total
    for hour, base in enumerate(profile):
        if base == 0:
            assert scaled[hour] == 0
        assert abs(scaled[hour] - base * total / sum(profile)) < 1


def test_release_schedule_backlog_now_then_hour_by_hour() -> None:
    calls = [0] * 7 + [10] * 12 + [0] * 5  # 07:00-19:00, ten an hour

    def calls_for_day(day: date) -> list[int]:
        return calls

    # 09:30: hours 7, 8, 9 released (30), 25 called: 5 available now, then 10 at 10:00 ...
    schedule = release_schedule(NOW, ZONE, calls_for_day, called_today=25, days=1)
    assert schedule[0] == CallRelease(at=NOW, count=5)
    assert schedule[1] == CallRelease(at=datetime(2026, 11, 24, 10, tzinfo=ZONE), count=10)
    assert schedule[-1].at == datetime(2026, 11, 24, 18, tzinfo=ZONE)
    times = expected_call_times(16, schedule)
    assert times[:5] == [NOW] * 5
    assert times[5:15] == [datetime(2026, 11, 24, 10, tzinfo=ZONE)] * 10
    assert times[15] == datetime(2026, 11, 24, 11, tzinfo=ZONE)


def test_halving_the_quota_pushes_later_trucks_later() -> None:
    profile = [0] * 7 + [20] * 12 + [0] * 5
    full = hourly_calls([30] * 24, scale_to_total(profile, 240))
    half = hourly_calls([30] * 24, scale_to_total(profile, 120))
    before = expected_call_times(60, release_schedule(NOW, ZONE, lambda d: full, 40))
    after = expected_call_times(60, release_schedule(NOW, ZONE, lambda d: half, 40))
    assert all(a >= b for a, b in zip(after, before, strict=False))
    assert after[-1] > before[-1]


def test_beyond_the_horizon_the_estimate_keeps_growing() -> None:
    schedule = [CallRelease(at=NOW, count=1)]
    times = expected_call_times(3, schedule)
    assert times == [NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)]


def test_threshold_and_percentile() -> None:
    policy = QueuePolicy(record_threshold=timedelta(minutes=15))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert moved_enough(None, at, policy)
    assert not moved_enough(at, at + timedelta(minutes=14), policy)
    assert moved_enough(at, at - timedelta(minutes=15), policy)
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([5], 0.5) == 5
