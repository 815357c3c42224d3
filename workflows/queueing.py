"""The waiting-area queue, pure: who is called next, how capacity is shared, expected times.

No clock and no I/O: callers pass `now`, the trucks waiting and the capacity plan. The same
functions drive the live queue (border_gate/queue/) and the backtest (bench/queue_backtest.py).

Ordering rule (docs/queue.md): two levels of smooth weighted round robin (SWRR, as nginx
balances upstreams). Top level: the booked lane against the walk-in lane, weights
`booked_weight : walk_in_weight` per lane (booked slots are capacity reserved by
`booking_share`, so the booked lane's weight must not grow with its length). Inside the
walk-in lane: perishables, authorised economic operators (AEO) and others, with
`class_shares` *per truck*: at each pick a class's weight is its share times the trucks
still waiting in it, so a perishable truck is served at 3x the rate of an ordinary one
whatever the mix (per-lane weights gave 80 % of the walk-ins half of the calls). Within a
lane: first come, first served (booked trucks by slot start). Every waiting truck keeps a
positive weight, so nobody starves; the bounds are in docs/queue.md and tested with hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Struct

HOUR = timedelta(hours=1)


class Lane(StrEnum):
    BOOKED = "booked"
    PERISHABLE = "perishable"
    AEO = "aeo"
    OTHER = "other"


WALK_IN_LANES = (Lane.PERISHABLE, Lane.AEO, Lane.OTHER)

LANE_LABELS: dict[Lane, tuple[str, str]] = {
    Lane.BOOKED: ("Đã đặt lịch", "Booked slot"),
    Lane.PERISHABLE: ("Hàng dễ hỏng", "Perishable goods"),
    Lane.AEO: ("Doanh nghiệp ưu tiên (AEO)", "Authorised economic operator"),
    Lane.OTHER: ("Hàng thông thường", "Other goods"),
}


class QueuePolicy(Struct, frozen=True):
    """How the queue shares the gate; loaded from border_gate/queue/queue.toml."""

    booked_weight: int = 3
    walk_in_weight: int = 1
    class_shares: dict[Lane, int] = msgspec.field(
        default_factory=lambda: {Lane.PERISHABLE: 3, Lane.AEO: 2, Lane.OTHER: 1}
    )
    perishable_hs_prefixes: tuple[str, ...] = ("07", "08", "03", "02", "04")
    aeo_organisations: frozenset[str] = frozenset()
    #: A booked truck joins the booked lane this long before its slot starts; earlier it
    #: waits in its walk-in lane (so booking a late slot is not a way to jump the line).
    booked_lead: timedelta = HOUR
    #: A queue_position event is recorded only when the expected call time moves this much.
    record_threshold: timedelta = timedelta(minutes=15)


class WaitingTruck(Struct, frozen=True):
    """One truck in the waiting area, not called yet."""

    declaration_id: str
    waiting_since: datetime
    walk_in_lane: Lane  # perishable, aeo or other: what it is without a booking
    slot_start: datetime | None = None


def walk_in_lane_for(hs_codes: Sequence[str], organisation: str, policy: QueuePolicy) -> Lane:
    """Perishable if any cargo line's HS code starts with a perishable prefix, else AEO, else other."""
    if any(code.startswith(policy.perishable_hs_prefixes) for code in hs_codes):
        return Lane.PERISHABLE
    if organisation in policy.aeo_organisations:
        return Lane.AEO
    return Lane.OTHER


def lane_of(truck: WaitingTruck, now: datetime, policy: QueuePolicy) -> Lane:
    if truck.slot_start is not None and truck.slot_start - policy.booked_lead <= now:
        return Lane.BOOKED
    return truck.walk_in_lane


K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


#: Round-robin credit per lane ("booked", "walk_in" at the top level; "perishable", "aeo",
#: "other" among walk-ins). The live queue keeps it between recomputes: each recompute
#: calls only the head of a fresh order, so without it the heaviest lane would win every time.
Credits = dict[str, int]


def _round_robin(
    lanes: dict[K, list[T]],
    weights: dict[K, int],
    credit: dict[K, int],
    *,
    per_item: bool = False,
) -> list[tuple[K, T, dict[K, int]]]:
    """Smooth weighted round robin from `credit`; each pick with the credit after it.

    With `per_item`, a lane's weight at each pick is its weight times the items it still
    holds, so the weight belongs to each item (each truck) rather than to the lane.
    """
    queues = {lane: list(items) for lane, items in lanes.items() if items}
    for lane in queues:
        if weights.get(lane, 0) < 1:
            raise ValueError(f"lane {lane!r} needs a positive weight")
    running = {lane: credit.get(lane, 0) for lane in queues}
    kept = {lane: value for lane, value in credit.items() if lane not in queues}
    heads = dict.fromkeys(queues, 0)
    merged: list[tuple[K, T, dict[K, int]]] = []
    while queues:
        total = 0
        for lane in queues:
            weight = weights[lane] * (len(queues[lane]) - heads[lane] if per_item else 1)
            running[lane] += weight
            total += weight
        pick = max(queues, key=lambda lane: running[lane])  # max keeps the first on ties
        running[pick] -= total
        item = queues[pick][heads[pick]]
        heads[pick] += 1
        if heads[pick] == len(queues[pick]):
            del queues[pick]
            kept[pick] = running.pop(pick)
        merged.append((pick, item, {**kept, **running}))
    return merged


def weighted_round_robin(
    lanes: dict[K, list[T]], weights: dict[K, int], credit: dict[K, int] | None = None
) -> list[tuple[K, T]]:
    """Merge FIFO lanes by smooth weighted round robin; every item appears exactly once.

    Each pick adds every non-empty lane's weight to its credit, takes the lane with the most
    credit (ties: the lane listed first), and charges it the total weight of the non-empty
    lanes. A lane that empties drops out and the others share its turns.
    """
    return [(lane, item) for lane, item, _ in _round_robin(lanes, weights, credit or {})]


def planned_calls(
    trucks: Sequence[WaitingTruck],
    now: datetime,
    policy: QueuePolicy,
    credits: Credits | None = None,
) -> list[tuple[Lane, WaitingTruck, Credits]]:
    """Every waiting truck in call order, its lane, and the credits once it is called."""
    credits = credits or {}
    lanes: dict[Lane, list[WaitingTruck]] = {lane: [] for lane in Lane}
    for truck in trucks:
        lanes[lane_of(truck, now, policy)].append(truck)
    lanes[Lane.BOOKED].sort(key=lambda t: (t.slot_start, t.waiting_since, t.declaration_id))
    for lane in WALK_IN_LANES:
        lanes[lane].sort(key=lambda t: (t.waiting_since, t.declaration_id))
    walk_in_credit = {lane.value: credits.get(lane.value, 0) for lane in WALK_IN_LANES}
    walk_in = _round_robin(
        {lane.value: lanes[lane] for lane in WALK_IN_LANES},
        {lane.value: share for lane, share in policy.class_shares.items()},
        walk_in_credit,
        per_item=True,  # shares are per truck: see the module docstring
    )
    top = _round_robin(
        {
            "booked": [(Lane.BOOKED, t, walk_in_credit) for t in lanes[Lane.BOOKED]],
            "walk_in": [(Lane(lane), t, after) for lane, t, after in walk_in],
        },
        {"booked": policy.booked_weight, "walk_in": policy.walk_in_weight},
        {key: credits.get(key, 0) for key in ("booked", "walk_in")},
    )
    planned: list[tuple[Lane, WaitingTruck, Credits]] = []
    class_credit = walk_in_credit
    for _, (lane, truck, after_walk_in), after_top in top:
        if lane is not Lane.BOOKED:
            class_credit = after_walk_in
        planned.append((lane, truck, {**credits, **class_credit, **after_top}))
    return planned


def call_order(
    trucks: Sequence[WaitingTruck],
    now: datetime,
    policy: QueuePolicy,
    credits: Credits | None = None,
) -> list[tuple[Lane, WaitingTruck]]:
    """Every waiting truck in the order it will be called, with the lane it is called from."""
    return [(lane, truck) for lane, truck, _ in planned_calls(trucks, now, policy, credits)]


# --- Capacity ------------------------------------------------------------------------------


def scale_to_total(profile: Sequence[int], total: int) -> list[int]:
    """`profile` scaled to sum exactly `total` (largest remainder); zero hours stay zero.

    The far side's daily quota is spread over the hours in the proportions of its default
    hourly acceptance, so a cut quota slows every open hour rather than closing the evening.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    weight = sum(profile)
    if weight == 0:
        return [0] * len(profile)
    exact = [hours * total / weight for hours in profile]
    scaled = [math.floor(x) for x in exact]
    missing = total - sum(scaled)
    by_remainder = sorted(range(len(profile)), key=lambda i: (-(exact[i] - scaled[i]), i))
    for i in by_remainder[:missing]:
        scaled[i] += 1
    return scaled


def hourly_calls(yard_in: Sequence[int], far_side: Sequence[int]) -> list[int]:
    """Trucks the gate can release per local hour: what the yard takes and the far side accepts."""
    return [min(y, f) for y, f in zip(yard_in, far_side, strict=True)]


def bookable(calls_in_hour: int, booking_share: float) -> int:
    """Booking slots an hour offers: its share of the hour's calls; the rest is for walk-ins."""
    return math.floor(calls_in_hour * booking_share)


def released_by(now: datetime, zone: ZoneInfo, calls: Sequence[int]) -> int:
    """Calls released so far today: the hour's calls are released when its hour begins."""
    return sum(calls[: now.astimezone(zone).hour + 1])


class CallRelease(Struct, frozen=True):
    """`count` calls become available at `at`."""

    at: datetime
    count: int


def release_schedule(
    now: datetime,
    zone: ZoneInfo,
    calls_for_day: Callable[[date], Sequence[int]],
    called_today: int,
    *,
    days: int = 3,
) -> list[CallRelease]:
    """When calls become available from `now` on: today's backlog now, then hour by hour."""
    local = now.astimezone(zone)
    today = local.date()
    schedule: list[CallRelease] = []
    backlog = max(0, released_by(now, zone, calls_for_day(today)) - called_today)
    if backlog:
        schedule.append(CallRelease(at=now, count=backlog))
    for offset in range(days):
        day = today + timedelta(days=offset)
        calls = calls_for_day(day)
        first = local.hour + 1 if offset == 0 else 0
        for hour in range(first, 24):
            if calls[hour]:
                start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
                schedule.append(CallRelease(at=start, count=calls[hour]))
    return schedule


def expected_call_times(
    count: int, schedule: Sequence[CallRelease], fallback_gap: timedelta = HOUR
) -> list[datetime]:
    """The expected call time of the 1st..`count`-th truck in line, from the release schedule.

    Beyond the schedule's horizon the last known time is extended by `fallback_gap` per truck,
    so an estimate is always given (and visibly late).
    """
    times: list[datetime] = []
    for release in schedule:
        for _ in range(release.count):
            if len(times) == count:
                return times
            times.append(release.at)
    last = schedule[-1].at if schedule else None
    while len(times) < count:
        last = (last or datetime.min) + fallback_gap
        times.append(last)
    return times


def estimate_calls(
    count: int,
    callable_now: int,
    schedule: Sequence[CallRelease],
    now: datetime,
    times: StageTimes,
) -> list[datetime]:
    """Expected call times of the waiting line: the release schedule, except that trucks past
    the ones callable now wait for the call window (about one call-to-gate-in), not 'now'.

    The estimate takes today's order as it stands; trucks of higher-weighted lanes arriving
    later overtake, which is the main source of error (docs/queue.md, backtest).
    """
    expected = expected_call_times(count, schedule)
    wait = timedelta(seconds=times.call_to_gate_in)
    return [
        now + wait if index >= callable_now and at <= now else at
        for index, at in enumerate(expected)
    ]


def median(values: Sequence[float], default: float) -> float:
    if not values:
        return default
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (e.g. fraction=0.9)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class StageTimes(Struct, frozen=True):
    """Measured recent service times at a gate, in seconds (medians)."""

    call_to_gate_in: float
    gate_in_to_gate_out: float


def expected_crossing(call_at: datetime, times: StageTimes) -> datetime:
    return call_at + timedelta(seconds=times.call_to_gate_in + times.gate_in_to_gate_out)


def moved_enough(previous: datetime | None, new: datetime, policy: QueuePolicy) -> bool:
    """Whether a new expected call time is worth an event (and a version bump)."""
    return previous is None or abs(new - previous) >= policy.record_threshold
