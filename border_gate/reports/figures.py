"""The report's pure computations: percentiles, local-time buckets, SLA share, bottleneck.

No I/O and no clock: the service reads rows and calls these; the unit tests call them
directly. PostgreSQL computes the same percentiles in SQL (percentile_cont), so the two
backends agree (the integration tests check exact numbers on both).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The `fraction` percentile by linear interpolation between closest ranks.

    The same definition as PostgreSQL's percentile_cont and numpy's default: for n sorted
    values the position is fraction * (n - 1). None for no values.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def share_within(values: Sequence[float], target_seconds: float) -> float | None:
    """The share (0..1) of `values` at or below the target; None for no values."""
    if not values:
        return None
    return sum(1 for v in values if v <= target_seconds) / len(values)


class StageLoad(msgspec.Struct, frozen=True):
    """What the bottleneck rule needs to know of one stage in the period."""

    stage: str
    decisions: int
    total_seconds: float  # sum of open-to-decision times of its decisions
    p90_seconds: float | None


def bottleneck(stages: Sequence[StageLoad]) -> str | None:
    """The stage trucks spent the most time in, summed over its decisions in the period.

    That is the stage whose speeding-up would shorten the gate's total release time most
    (the Time Release Study view). Ties go to the higher p90, then to the earlier stage in
    the given order. None when no stage decided anything.
    """
    candidates = [(i, s) for i, s in enumerate(stages) if s.decisions > 0]
    if not candidates:
        return None
    best = max(
        candidates,
        key=lambda pair: (pair[1].total_seconds, pair[1].p90_seconds or 0.0, -pair[0]),
    )
    return best[1].stage


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def bucket_edges(
    start: datetime, end: datetime, granularity: str, zone: ZoneInfo
) -> list[datetime]:
    """Bucket boundaries from `start` to `end` (both aware), in UTC.

    Days are local calendar days (a DST day is 23 or 25 hours long); hours are whole
    local hours. The first and last bucket may be partial when start or end is not on a
    boundary.
    """
    edges = [start.astimezone(UTC)]
    local = start.astimezone(zone)
    if granularity == "day":
        day = local.date() + timedelta(days=1)
        while (edge := local_midnight(day, zone).astimezone(UTC)) < end:
            edges.append(edge)
            day += timedelta(days=1)
    else:
        edge = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC) + timedelta(hours=1)
        while edge < end:
            edges.append(edge)
            edge += timedelta(hours=1)
    edges.append(end.astimezone(UTC))
    return edges


def bucket_index(edges: Sequence[datetime], moment: datetime) -> int | None:
    """Which bucket [edges[i], edges[i+1]) holds `moment`, or None if outside them all."""
    if moment < edges[0] or moment >= edges[-1]:
        return None
    return bisect_right(edges, moment) - 1


def queue_over_time(
    start_count: int, arrivals: Sequence[int], departures: Sequence[int]
) -> list[int]:
    """Trucks in the yard at the end of each bucket, from the count at the start."""
    counts, current = [], start_count
    for arrived, left in zip(arrivals, departures, strict=True):
        current += arrived - left
        counts.append(current)
    return counts
