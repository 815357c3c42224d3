"""The dashboard's figures per gate, from the reports service (border_gate/reports/).

This is the one seam between the dashboard and where its numbers come from: the period's
buckets and stage times are the throughput report's, the live tiles (trucks in the yard,
what each agency has open, the bottleneck now) come from the same rollup tables.
Read-only: it never writes, and it is shown to management and admins only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from border_gate.gates import Gate
from border_gate.platform import Platform
from border_gate.reports.query import ReportQuery
from border_gate.reports.service import (
    bottleneck_now,
    in_yard_now,
    throughput_report,
    waiting_now,
)
from workflows.model import Stage

#: period -> (how far back, bucket size)
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(days=1)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
DEFAULT_PERIOD = "24h"


class Bucket(msgspec.Struct, frozen=True):
    start: datetime  # in the gate's zone
    end: datetime
    declared: int
    arrived: int
    cleared: int
    departed: int
    in_yard: int  # trucks in the yard at the end of the bucket


class StageFigure(msgspec.Struct, frozen=True):
    stage: Stage
    decisions: int  # officers' decisions in the period (automatic approvals left out)
    median_minutes: float | None
    waiting_now: int
    oldest_minutes: float | None
    waiting_minutes_total: float


class DashboardFigures(msgspec.Struct, frozen=True):
    gate: str
    period: str
    since: datetime
    until: datetime
    buckets: list[Bucket]
    stages: list[StageFigure]
    in_yard_now: int
    capacity: int
    bottleneck: Stage | None


def bucket_edges(period: str, now: datetime, gate: Gate) -> list[datetime]:
    """Bucket boundaries in the gate's local time: whole hours, or local midnights."""
    back, size = PERIODS[period]
    local_now = now.astimezone(gate.zone)
    if size == timedelta(hours=1):
        last = local_now.replace(minute=0, second=0, microsecond=0)
        count = int(back / size)
        starts = [last - size * i for i in range(count - 1, -1, -1)]
        return [*starts, last + size]
    today = local_now.date()
    days = int(back / size)
    edges = [
        datetime.combine(today - timedelta(days=i), datetime.min.time(), tzinfo=gate.zone)
        for i in range(days - 1, -2, -1)
    ]
    return edges


def report_query(gate: Gate, period: str, now: datetime) -> ReportQuery:
    """The throughput-report query behind a dashboard period."""
    period = period if period in PERIODS else DEFAULT_PERIOD
    edges = bucket_edges(period, now, gate)
    granularity = "hour" if PERIODS[period][1] == timedelta(hours=1) else "day"
    return ReportQuery(gate, None, edges[0].astimezone(UTC), edges[-1].astimezone(UTC), granularity)


async def dashboard_figures(
    platform: Platform, gate: Gate, period: str, now: datetime
) -> DashboardFigures:
    period = period if period in PERIODS else DEFAULT_PERIOD
    query = report_query(gate, period, now)
    report = await throughput_report(platform, None, query)
    waiting = {w.stage: w for w in await waiting_now(platform, gate, now)}
    buckets = [
        Bucket(
            start=b.start,
            end=b.end,
            declared=b.declared,
            arrived=b.arrived,
            cleared=b.cleared,
            departed=b.departed,
            in_yard=b.in_yard,
        )
        for b in report.buckets
    ]
    stages = []
    for figure in report.stages:
        now_open = waiting[figure.stage]
        stages.append(
            StageFigure(
                stage=Stage(figure.stage),
                decisions=figure.decisions,
                median_minutes=None
                if figure.median_seconds is None
                else figure.median_seconds / 60,
                waiting_now=now_open.count,
                oldest_minutes=None
                if now_open.oldest_seconds is None
                else now_open.oldest_seconds / 60,
                waiting_minutes_total=now_open.total_seconds / 60,
            )
        )
    busiest = bottleneck_now(list(waiting.values()))
    return DashboardFigures(
        gate=gate.code,
        period=period,
        since=query.start.astimezone(gate.zone),
        until=query.end.astimezone(gate.zone),
        buckets=buckets,
        stages=stages,
        in_yard_now=await in_yard_now(platform, gate),
        capacity=gate.yard_capacity,
        bottleneck=Stage(busiest) if busiest else None,
    )
