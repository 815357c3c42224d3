"""The dashboard's figures per gate, read from the existing tables.

This is the one seam between the dashboard and where its numbers come from. A reports
service (border_gate/reports/) is being built separately; when it lands, the integrator
reimplements `dashboard_figures` on top of it and nothing else on the pages changes.
Read-only: it never writes, and it is shown to management and admins only.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from itertools import pairwise

import msgspec
from sqlalchemy import and_, or_, select

from border_gate.db.models import DeclarationRow, StageStateRow
from border_gate.gates import Gate
from border_gate.platform import Platform
from workflows.model import Stage, StageState

#: period -> (how far back, bucket size)
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(days=1)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}
DEFAULT_PERIOD = "24h"
WAITING_STATES = (StageState.IN_REVIEW.value, StageState.ON_HOLD.value)


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


def _count(times: list[datetime], start: datetime, end: datetime) -> int:
    return sum(1 for t in times if start <= t < end)


async def dashboard_figures(
    platform: Platform, gate: Gate, period: str, now: datetime
) -> DashboardFigures:
    period = period if period in PERIODS else DEFAULT_PERIOD
    edges = bucket_edges(period, now, gate)
    since, until = edges[0], edges[-1]
    async with platform.unit_of_work() as uow:
        session = uow.session
        moves = (
            await session.execute(
                select(
                    DeclarationRow.submitted_at,
                    DeclarationRow.arrived_at,
                    DeclarationRow.cleared_at,
                    DeclarationRow.departed_at,
                    DeclarationRow.yard_position,
                ).where(
                    DeclarationRow.gate == gate.code,
                    or_(
                        DeclarationRow.submitted_at >= since,
                        DeclarationRow.arrived_at >= since,
                        DeclarationRow.cleared_at >= since,
                        DeclarationRow.departed_at >= since,
                        and_(
                            DeclarationRow.arrived_at.is_not(None),
                            DeclarationRow.departed_at.is_(None),
                        ),
                    ),
                )
            )
        ).all()
        decided = (
            await session.execute(
                select(
                    StageStateRow.stage, StageStateRow.opened_at, StageStateRow.decided_at
                ).where(
                    StageStateRow.gate == gate.code,
                    StageStateRow.stage != Stage.YARD.value,
                    StageStateRow.decided_at >= since,
                    StageStateRow.opened_at.is_not(None),
                    StageStateRow.decided_by.is_not(None),
                    StageStateRow.decided_by.not_like("system:%"),
                )
            )
        ).all()
        waiting = (
            await session.execute(
                select(StageStateRow.stage, StageStateRow.opened_at).where(
                    StageStateRow.gate == gate.code,
                    StageStateRow.stage != Stage.YARD.value,
                    StageStateRow.state.in_(WAITING_STATES),
                )
            )
        ).all()

    declared = [m.submitted_at for m in moves if m.submitted_at]
    arrived = [m.arrived_at for m in moves if m.arrived_at]
    cleared = [m.cleared_at for m in moves if m.cleared_at]
    departed = [m.departed_at for m in moves if m.departed_at]
    stays = [(m.arrived_at, m.departed_at) for m in moves if m.arrived_at]
    buckets = [
        Bucket(
            start=start,
            end=end,
            declared=_count(declared, start, end),
            arrived=_count(arrived, start, end),
            cleared=_count(cleared, start, end),
            departed=_count(departed, start, end),
            in_yard=sum(1 for a, d in stays if a < end and (d is None or d >= end)),
        )
        for start, end in pairwise(edges)
    ]
    in_yard_now = sum(
        1 for m in moves if m.arrived_at and m.departed_at is None and m.yard_position
    )

    stages: list[StageFigure] = []
    for stage in Stage:
        if stage is Stage.YARD:
            continue
        durations = [
            (row.decided_at - row.opened_at).total_seconds() / 60
            for row in decided
            if row.stage == stage.value and row.decided_at >= row.opened_at
        ]
        ages = [
            (now - row.opened_at).total_seconds() / 60
            for row in waiting
            if row.stage == stage.value and row.opened_at
        ]
        stages.append(
            StageFigure(
                stage=stage,
                decisions=len(durations),
                median_minutes=statistics.median(durations) if durations else None,
                waiting_now=sum(1 for row in waiting if row.stage == stage.value),
                oldest_minutes=max(ages) if ages else None,
                waiting_minutes_total=sum(ages),
            )
        )
    busiest = max(stages, key=lambda s: (s.waiting_minutes_total, s.waiting_now), default=None)
    bottleneck = busiest.stage if busiest and busiest.waiting_now else None
    return DashboardFigures(
        gate=gate.code,
        period=period,
        since=since,
        until=until,
        buckets=buckets,
        stages=stages,
        in_yard_now=in_yard_now,
        capacity=gate.yard_capacity,
        bottleneck=bottleneck,
    )
