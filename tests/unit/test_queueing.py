"""The queue's ordering and expected-time arithmetic (pure, with hypothesis properties)."""

from __future__ import annotations

import itertools
import math
import random
import statistics
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
        max_size=6,
    ),
    min_size=1,
    max_size=150,
)
shares_st = st.fixed_dictionaries(
    {lane: st.integers(1, 7) for lane in (Lane.PERISHABLE, Lane.AEO, Lane.OTHER)}
)


def walk_in_wait_bound(policy: QueuePolicy, lane: Lane, most_waiting: int) -> float:
    """Walk-in calls a walk-in truck may wait in the live queue, checked below: twice its
    class's turn among the most walk-in trucks ever waiting at once (docs/queue.md)."""
    shares = policy.class_shares
    return 2 * max(shares.values()) / shares[lane] * most_waiting + 1


@settings(max_examples=150, deadline=None)
@given(arrivals=arrivals_st, shares=shares_st)
def test_live_queue_calling_one_at_a_time_starves_nobody(
    arrivals: list[list[tuple[Lane, bool]]], shares: dict[Lane, int]
) -> None:
    """The live system: each recompute builds a fresh order and calls its head, keeping the
    lanes' credits. However trucks arrive: the head of the booked lane is called within
    2 x (top cycle / booked weight) calls, walk-ins as a whole get one of every
    2 x (top cycle / walk-in weight) calls, and a walk-in truck is called within
    `walk_in_wait_bound` walk-in calls of checking in."""
    policy = QueuePolicy(class_shares=shares)
    top_total = policy.booked_weight + policy.walk_in_weight
    booked_bound = 2 * math.ceil(top_total / policy.booked_weight)
    walk_in_bound = 2 * math.ceil(top_total / policy.walk_in_weight)
    waiting: list[WaitingTruck] = []
    credits: dict[str, int] = {}
    waited: Counter[str] = Counter()
    checked_in_at: dict[str, int] = {}  # walk-in calls made before the truck checked in
    walk_in_calls = 0
    walk_ins_waited = 0  # booked calls in a row while walk-ins wait
    most_walk_ins = 0
    number = 0
    for step in [*arrivals, *([[]] * 1000)]:
        for lane, booked in step:
            truck = _truck(number, lane, -number, NOW - timedelta(minutes=5) if booked else None)
            waiting.append(truck)
            checked_in_at[truck.declaration_id] = walk_in_calls
            number += 1
        if not waiting:
            continue
        most_walk_ins = max(most_walk_ins, sum(1 for t in waiting if t.slot_start is None))
        plan = planned_calls(waiting, NOW, policy, credits)
        lane, called, credits = plan[0]
        waiting.remove(called)
        walk_ins_left = any(planned is not Lane.BOOKED for planned, _, _ in plan[1:])
        if lane is not Lane.BOOKED:
            walk_in_calls += 1
            wait = walk_in_calls - checked_in_at[called.declaration_id]
            assert wait <= walk_in_wait_bound(policy, lane, most_walk_ins), (lane, wait, shares)
        walk_ins_waited = walk_ins_waited + 1 if lane is Lane.BOOKED and walk_ins_left else 0
        assert walk_ins_waited < walk_in_bound
        booked_head = next((t for lane, t, _ in plan[1:] if lane is Lane.BOOKED), None)
        if booked_head is not None:
            waited[booked_head.declaration_id] += 1
            assert waited[booked_head.declaration_id] <= booked_bound
    assert not waiting


def test_the_wait_bound_must_count_the_longest_line_not_just_the_one_at_check_in() -> None:
    """The kept credits remember an earlier long line. 300 perishables and one ordinary truck
    are called (the ordinary one leaves its lane in debt); then, with the line short (one
    perishable arrives per call), the next ordinary truck waits far longer than the bound
    counted from the line it saw would allow, and within the bound counted from the longest
    line the gate has had."""
    policy = QueuePolicy()
    waiting = [_truck(i, Lane.PERISHABLE, -i) for i in range(300)]
    waiting.append(_truck(300, Lane.OTHER, -300))
    credits: dict[str, int] = {}
    while waiting:
        _, called, credits = planned_calls(waiting, NOW, policy, credits)[0]
        waiting.remove(called)
    assert credits[Lane.OTHER] < -100  # the debt the other lane keeps
    late = _truck(301, Lane.OTHER, -301)
    waiting.append(late)
    longest_since_check_in = 0
    for call in range(1, 2000):
        waiting.append(_truck(301 + call, Lane.PERISHABLE, -301 - call))
        longest_since_check_in = max(longest_since_check_in, len(waiting))
        _, called, credits = planned_calls(waiting, NOW, policy, credits)[0]
        waiting.remove(called)
        if called is late:
            break
    else:
        raise AssertionError("the late ordinary truck was never called")
    assert call > walk_in_wait_bound(policy, Lane.OTHER, longest_since_check_in)
    assert call <= walk_in_wait_bound(policy, Lane.OTHER, 301)


@given(perishables=st.integers(0, 300), share_p=st.integers(1, 9), share_o=st.integers(1, 9))
def test_one_ordinary_truck_among_perishables_is_called_within_its_per_truck_turn(
    perishables: int, share_p: int, share_o: int
) -> None:
    """One ordinary truck (at the back) and N perishables, fresh credits: at the k-th pick the
    ordinary lane has earned k x share_o and the perishable lane (its weight falling as its
    trucks leave) has k x share_p x ... net -(k-1) x share_o + share_p x (N-k+1); the ordinary
    truck goes at the first k with (2k-1) x share_o > share_p x (N-k+1), which is at most
    N x share_p / share_o + 1 walk-in picks."""
    policy = QueuePolicy(class_shares={Lane.PERISHABLE: share_p, Lane.AEO: 1, Lane.OTHER: share_o})
    trucks = [_truck(i, Lane.PERISHABLE, 600 - i) for i in range(perishables)]
    trucks.append(_truck(perishables, Lane.OTHER, 0))
    order = [lane for lane, _ in call_order(trucks, NOW, policy)]
    picked_at = order.index(Lane.OTHER) + 1
    exact = min(
        perishables + 1,
        (share_p * perishables + share_p + share_o) // (2 * share_o + share_p) + 1,
    )
    assert picked_at == exact
    assert picked_at <= perishables * share_p / share_o + 1


@settings(max_examples=60, deadline=None)
@given(perishable_share=st.floats(0.1, 0.9), seed=st.integers(0, 2**32 - 1))
def test_in_a_steady_mix_perishables_wait_less_than_ordinary_trucks(
    perishable_share: float, seed: int
) -> None:
    """The live queue at full load (on average one truck arrives per call, in pairs, after a
    backlog of 20), any mix from 10 % to 90 % perishable: the mean wait of perishable walk-ins
    is lower than that of ordinary walk-ins. With per-lane shares (the old rule) this failed
    from about 75 % perishable: the perishable lane's half of the calls was less than its
    share of the traffic."""
    rng = random.Random(seed)
    policy = QueuePolicy()
    waiting: list[WaitingTruck] = []
    credits: dict[str, int] = {}
    checked_in_at: dict[str, int] = {}
    waits: dict[Lane, list[int]] = {Lane.PERISHABLE: [], Lane.OTHER: []}
    call = 0

    def arrive() -> None:
        lane = Lane.PERISHABLE if rng.random() < perishable_share else Lane.OTHER
        truck = _truck(len(checked_in_at), lane, -len(checked_in_at))
        waiting.append(truck)
        checked_in_at[truck.declaration_id] = call

    for _ in range(20):
        arrive()
    while len(checked_in_at) < 400 or waiting:
        if len(checked_in_at) < 400 and rng.random() < 0.5:
            arrive()
            arrive()
        call += 1
        if waiting:
            _, called, credits = planned_calls(waiting, NOW, policy, credits)[0]
            waiting.remove(called)
            waits[called.walk_in_lane].append(call - checked_in_at[called.declaration_id])
    assert waits[Lane.PERISHABLE] and waits[Lane.OTHER]
    assert statistics.mean(waits[Lane.PERISHABLE]) < statistics.mean(waits[Lane.OTHER])


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
@given(raw=trucks_st, shares=shares_st)
def test_walk_ins_and_others_never_starve(
    raw: list[tuple[Lane, int, int | None]], shares: dict[Lane, int]
) -> None:
    """Whatever the mix, in a fresh order: walk-ins get a call in every top cycle, and the
    first truck of each walk-in class comes within total walk-in weight / its lane's weight
    walk-in picks (the weights being share x trucks waiting, as at the first pick)."""
    policy = QueuePolicy(class_shares=shares)
    trucks = [
        _truck(i, lane, waited, None if slot is None else NOW + timedelta(minutes=slot))
        for i, (lane, waited, slot) in enumerate(raw)
    ]
    order = call_order(trucks, NOW, policy)
    walk_ins = [lane for lane, _ in order if lane is not Lane.BOOKED]
    counts = Counter(walk_ins)
    total_weight = sum(shares[lane] * n for lane, n in counts.items())
    for lane, n in counts.items():
        assert walk_ins.index(lane) + 1 <= math.ceil(total_weight / (shares[lane] * n)), lane
    top_cycle = policy.booked_weight + policy.walk_in_weight
    positions = [i for i, (lane, _) in enumerate(order) if lane is not Lane.BOOKED]
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
