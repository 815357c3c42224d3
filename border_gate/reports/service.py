"""The throughput report and the open data, read from the rollup tables.

Every query is bounded by gate and period and served by an index (see tables.py), so a
report's cost grows with the period asked, not with the history stored. PostgreSQL
computes percentiles in SQL (percentile_cont); SQLite hands the rows to figures.py,
which uses the same definition.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import case, false, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from border_gate.db.uow import UnitOfWork
from border_gate.errors import Forbidden
from border_gate.fees.report import fee_section
from border_gate.gates import Gate
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from border_gate.queue.report import queue_section
from border_gate.reports.changes import DECISION_OUTCOMES
from border_gate.reports.figures import (
    StageLoad,
    bottleneck,
    bucket_edges,
    bucket_index,
    local_midnight,
    percentile,
    queue_over_time,
    share_within,
)
from border_gate.reports.query import ReportQuery
from border_gate.reports.schemas import (
    Bucket,
    EndToEnd,
    ExtraSection,
    OpenData,
    OpenDataDay,
    ReasonCount,
    StageFigures,
    ThroughputReport,
    Times,
    Totals,
)
from border_gate.reports.sla import ServiceLevels
from border_gate.reports.tables import HOURLY, JOURNEYS, VISITS
from workflows.labels import STAGE_LABELS
from workflows.model import Stage
from workflows.roles import ROLE_STAGE, Role

#: Stages reported on: the agencies' (the yard's "visit" is waiting for the truck).
REPORT_STAGES = tuple(s for s in Stage if s is not Stage.YARD)
TOP_REASONS = 5
#: Open data leaves out a median drawn from fewer trucks than this (it could single one out).
OPEN_DATA_MIN_COUNT = 3

#: Extension point: other features add sections (fee totals per day, expected-time accuracy
#: …) by appending an async function here; it gets the session and the query and returns a
#: section, or None to add nothing. JSON, CSV and PDF render every section the same way.
SectionProvider = Callable[[Platform, UnitOfWork, ReportQuery], Awaitable[ExtraSection | None]]
REPORT_SECTIONS: list[SectionProvider] = [fee_section, queue_section]


def report_scope(user: CurrentUser, gate: Gate) -> str | None:
    """None for the whole report; a stage for an officer who may see only their own."""
    if user.role in (Role.MANAGEMENT, Role.ADMIN):
        return None
    stage = ROLE_STAGE.get(user.role)
    if stage is None or stage is Stage.YARD:
        raise Forbidden(
            "Báo cáo dành cho ban quản lý và các cơ quan kiểm soát",
            "reports are for the management board and the control agencies",
        )
    if gate.code not in user.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {gate.code}", f"you do not work at gate {gate.code}"
        )
    return stage.value


def _levels(platform: Platform) -> ServiceLevels:
    return platform.settings.report_service_levels


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _short_queries(session: AsyncSession) -> None:
    """No JIT for this transaction's queries (PostgreSQL).

    Their cost estimates grow with the tables and cross `jit_above_cost` on a large
    history; compiling then costs more than the indexed scans themselves, so a report
    would slow down as the history grows although it reads the same rows.
    """
    if _is_postgres(session):
        await session.execute(text("SET LOCAL jit = off"))


async def throughput_report(
    platform: Platform, user: CurrentUser | None, query: ReportQuery
) -> ThroughputReport:
    """The report for `query`; `user` None means a trusted caller (CLI, simulator)."""
    scope = report_scope(user, query.gate) if user is not None else None
    levels = _levels(platform)
    gate = query.gate
    edges = bucket_edges(query.start, query.end, query.granularity, gate.zone)
    async with platform.unit_of_work() as uow:
        session = uow.session
        await _short_queries(session)
        totals, buckets = await _counts(session, query, edges)
        stages = await _stage_figures(session, query, levels, scope)
        end_to_end = await _end_to_end(session, query)
        reasons = await _reasons(session, query, scope)
        sections = []
        # Sections are the board's figures: an officer's report covers their own stage only.
        for provider in REPORT_SECTIONS if scope is None else []:
            section = await provider(platform, uow, query)
            if section is not None:
                sections.append(section)
    loads = [StageLoad(s.stage, s.decisions, s.total_seconds, s.p90_seconds) for s in stages]
    return ThroughputReport(
        gate=gate.code,
        gate_name_vi=gate.name_vi,
        gate_name_en=gate.name_en,
        timezone=gate.timezone,
        direction=query.direction,
        from_=query.start.astimezone(gate.zone),
        to=query.end.astimezone(gate.zone),
        granularity=query.granularity,
        generated_at=platform.now().astimezone(gate.zone),
        scope=scope or "all",
        service_level_bar=levels.share,
        totals=totals,
        buckets=buckets,
        stages=stages,
        bottleneck=bottleneck(loads) if scope is None else None,
        end_to_end=end_to_end,
        reasons=reasons,
        sections=sections,
    )


def _where_gate(table: Any, query: ReportQuery) -> list[Any]:
    conditions = [table.c.gate == query.gate.code]
    if query.direction is not None:
        conditions.append(table.c.direction == query.direction)
    return conditions


async def _counts(
    session: AsyncSession, query: ReportQuery, edges: list[datetime]
) -> tuple[Totals, list[Bucket]]:
    rows = (
        await session.execute(
            select(HOURLY.c.hour, HOURLY.c.metric, func.sum(HOURLY.c.count))
            .where(
                *_where_gate(HOURLY, query), HOURLY.c.hour >= query.start, HOURLY.c.hour < query.end
            )
            .group_by(HOURLY.c.hour, HOURLY.c.metric)
        )
    ).all()
    totals: dict[str, int] = {}
    per_bucket: list[dict[str, int]] = [{} for _ in range(len(edges) - 1)]
    for hour, metric, count in rows:
        hour = hour if hour.tzinfo else hour.replace(tzinfo=UTC)
        totals[metric] = totals.get(metric, 0) + int(count)
        index = bucket_index(edges, hour)
        if index is not None:
            per_bucket[index][metric] = per_bucket[index].get(metric, 0) + int(count)
    in_yard_at_start = await _in_yard_at(session, query, query.start)
    in_yard = queue_over_time(
        in_yard_at_start,
        [b.get("arrived", 0) for b in per_bucket],
        [b.get("departed", 0) + b.get("turned_back", 0) for b in per_bucket],
    )
    zone = query.gate.zone
    buckets = [
        Bucket(
            start=edges[i].astimezone(zone),
            end=edges[i + 1].astimezone(zone),
            declared=b.get("declared", 0),
            arrived=b.get("arrived", 0),
            cleared=b.get("cleared", 0),
            departed=b.get("departed", 0),
            rejected=b.get("rejected", 0),
            cancelled=b.get("cancelled", 0),
            in_yard=in_yard[i],
        )
        for i, b in enumerate(per_bucket)
    ]
    known = set(Totals.__struct_fields__)
    return Totals(**{k: v for k, v in totals.items() if k in known}), buckets


async def _in_yard_at(session: AsyncSession, query: ReportQuery, moment: datetime) -> int:
    """Trucks in the yard at `moment`: two index range scans (left later; not left yet)."""
    common = [*_where_gate(JOURNEYS, query), JOURNEYS.c.arrived_at < moment]
    left_later = await session.scalar(
        select(func.count()).where(*common, JOURNEYS.c.left_at >= moment)
    )
    still_there = await session.scalar(
        select(func.count()).where(*common, JOURNEYS.c.left_at.is_(None))
    )
    return int(left_later or 0) + int(still_there or 0)


async def _stage_figures(
    session: AsyncSession, query: ReportQuery, levels: ServiceLevels, scope: str | None
) -> list[StageFigures]:
    decided = [
        *_where_gate(VISITS, query),
        VISITS.c.closed_at >= query.start,
        VISITS.c.closed_at < query.end,
        VISITS.c.outcome.in_(DECISION_OUTCOMES),
    ]
    if scope is not None:
        decided.append(VISITS.c.stage == scope)
    human = [*decided, VISITS.c.automatic.is_(false())]
    stats: dict[str, dict[str, Any]] = {}
    if _is_postgres(session):
        target = case(
            {s.value: levels.target_for(s.value) for s in REPORT_STAGES},
            value=VISITS.c.stage,
            else_=float("inf"),
        )

        def pc(fraction: float, column: Any) -> Any:
            return func.percentile_cont(fraction).within_group(column)

        rows = (
            await session.execute(
                select(
                    VISITS.c.stage,
                    func.count(),
                    pc(0.5, VISITS.c.total_seconds),
                    pc(0.9, VISITS.c.total_seconds),
                    pc(0.95, VISITS.c.total_seconds),
                    pc(0.5, VISITS.c.waiting_seconds),
                    pc(0.5, VISITS.c.working_seconds),
                    func.sum(VISITS.c.waiting_seconds),
                    func.sum(VISITS.c.working_seconds),
                    func.sum(VISITS.c.total_seconds),
                    func.sum(case((VISITS.c.total_seconds <= target, 1), else_=0)),
                )
                .where(*human)
                .group_by(VISITS.c.stage)
            )
        ).all()
        for row in rows:
            n = int(row[1])
            stats[row[0]] = {
                "decisions": n,
                "median": row[2],
                "p90": row[3],
                "p95": row[4],
                "waiting_median": row[5],
                "working_median": row[6],
                "waiting_total": float(row[7] or 0),
                "working_total": float(row[8] or 0),
                "total": float(row[9] or 0),
                "within": int(row[10]) / n if n else None,
            }
    else:
        rows = (
            await session.execute(
                select(
                    VISITS.c.stage,
                    VISITS.c.total_seconds,
                    VISITS.c.waiting_seconds,
                    VISITS.c.working_seconds,
                ).where(*human)
            )
        ).all()
        grouped: dict[str, list[tuple[float, float, float]]] = {}
        for stage, total, waiting, working in rows:
            grouped.setdefault(stage, []).append((total, waiting, working))
        for stage, values in grouped.items():
            totals = [v[0] for v in values]
            stats[stage] = {
                "decisions": len(values),
                "median": percentile(totals, 0.5),
                "p90": percentile(totals, 0.9),
                "p95": percentile(totals, 0.95),
                "waiting_median": percentile([v[1] for v in values], 0.5),
                "working_median": percentile([v[2] for v in values], 0.5),
                "waiting_total": sum(v[1] for v in values),
                "working_total": sum(v[2] for v in values),
                "total": sum(totals),
                "within": share_within(totals, levels.target_for(stage)),
            }
    automatic: dict[str, int] = dict(
        (
            await session.execute(
                select(VISITS.c.stage, func.count())
                .where(*decided, VISITS.c.automatic.is_(True))
                .group_by(VISITS.c.stage)
            )
        ).all()
    )
    open_at_end = await _open_at(session, query, query.end, scope)
    figures = []
    for stage in REPORT_STAGES:
        if scope is not None and stage.value != scope:
            continue
        s = stats.get(stage.value, {})
        within = s.get("within")
        figures.append(
            StageFigures(
                stage=stage.value,
                label_vi=STAGE_LABELS[stage][0],
                label_en=STAGE_LABELS[stage][1],
                decisions=s.get("decisions", 0),
                automatic_decisions=int(automatic.get(stage.value, 0)),
                median_seconds=_float(s.get("median")),
                p90_seconds=_float(s.get("p90")),
                p95_seconds=_float(s.get("p95")),
                waiting_median_seconds=_float(s.get("waiting_median")),
                working_median_seconds=_float(s.get("working_median")),
                waiting_total_seconds=s.get("waiting_total", 0.0),
                working_total_seconds=s.get("working_total", 0.0),
                total_seconds=s.get("total", 0.0),
                sla_target_seconds=levels.target_for(stage.value),
                within_target_share=within,
                meets_service_level=None if within is None else within >= levels.share,
                open_at_end=open_at_end.get(stage.value, 0),
            )
        )
    return figures


def _float(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


async def _open_at(
    session: AsyncSession, query: ReportQuery, moment: datetime, scope: str | None
) -> dict[str, int]:
    common = [*_where_gate(VISITS, query), VISITS.c.opened_at < moment]
    if scope is not None:
        common.append(VISITS.c.stage == scope)
    counts: dict[str, int] = {}
    for condition in (VISITS.c.closed_at >= moment, VISITS.c.closed_at.is_(None)):
        rows = (
            await session.execute(
                select(VISITS.c.stage, func.count())
                .where(*common, condition)
                .group_by(VISITS.c.stage)
            )
        ).all()
        for stage, n in rows:
            counts[stage] = counts.get(stage, 0) + int(n)
    return counts


def _epoch(later: Any, earlier: Any) -> Any:
    return func.extract("epoch", later - earlier)


async def _end_to_end(session: AsyncSession, query: ReportQuery) -> EndToEnd:
    crossed = [
        *_where_gate(JOURNEYS, query),
        JOURNEYS.c.left_at >= query.start,
        JOURNEYS.c.left_at < query.end,
        JOURNEYS.c.outcome == "departed",
    ]
    spans = (
        ("arrival_to_departure", JOURNEYS.c.left_at, JOURNEYS.c.arrived_at),
        ("arrival_to_clearance", JOURNEYS.c.cleared_at, JOURNEYS.c.arrived_at),
        ("declared_to_departure", JOURNEYS.c.left_at, JOURNEYS.c.declared_at),
    )
    result: dict[str, Times] = {}
    if _is_postgres(session):
        columns: list[Any] = []
        for _name, later, earlier in spans:
            seconds = _epoch(later, earlier)
            columns.extend(
                [func.count(seconds)]
                + [func.percentile_cont(f).within_group(seconds) for f in (0.5, 0.9, 0.95)]
            )
        row = (await session.execute(select(*columns).where(*crossed))).one()
        for i, (name, _later, _earlier) in enumerate(spans):
            count, median, p90, p95 = row[i * 4 : i * 4 + 4]
            result[name] = Times(int(count), _float(median), _float(p90), _float(p95))
    else:
        rows = (
            await session.execute(
                select(
                    JOURNEYS.c.declared_at,
                    JOURNEYS.c.arrived_at,
                    JOURNEYS.c.cleared_at,
                    JOURNEYS.c.left_at,
                ).where(*crossed)
            )
        ).all()
        pairs = {
            "arrival_to_departure": [(r.left_at, r.arrived_at) for r in rows],
            "arrival_to_clearance": [(r.cleared_at, r.arrived_at) for r in rows],
            "declared_to_departure": [(r.left_at, r.declared_at) for r in rows],
        }
        for name, values in pairs.items():
            seconds_list = [(a - b).total_seconds() for a, b in values if a and b]
            result[name] = times_of(seconds_list)
    return EndToEnd(**result)


def times_of(seconds: Sequence[float]) -> Times:
    return Times(
        len(seconds),
        _float(percentile(seconds, 0.5)),
        _float(percentile(seconds, 0.9)),
        _float(percentile(seconds, 0.95)),
    )


async def _reasons(
    session: AsyncSession, query: ReportQuery, scope: str | None
) -> list[ReasonCount]:
    conditions = [
        *_where_gate(VISITS, query),
        VISITS.c.closed_at >= query.start,
        VISITS.c.closed_at < query.end,
        VISITS.c.outcome.in_(("rejected", "amendment_requested")),
        VISITS.c.reason.is_not(None),
    ]
    if scope is not None:
        conditions.append(VISITS.c.stage == scope)
    n = func.count().label("n")
    rows = (
        await session.execute(
            select(VISITS.c.stage, VISITS.c.outcome, VISITS.c.reason, n)
            .where(*conditions)
            .group_by(VISITS.c.stage, VISITS.c.outcome, VISITS.c.reason)
            .order_by(n.desc(), VISITS.c.stage, VISITS.c.reason)
        )
    ).all()
    top: list[ReasonCount] = []
    taken: dict[str, int] = {}
    for stage, outcome, reason, count in rows:
        if taken.get(outcome, 0) >= TOP_REASONS:
            continue
        taken[outcome] = taken.get(outcome, 0) + 1
        top.append(ReasonCount(stage, outcome, reason, int(count)))
    return top


# --- Open data -------------------------------------------------------------------------------


async def open_data_daily(
    platform: Platform, gate: Gate | None, first: date, last: date
) -> OpenData:
    """Per gate and local day: counts and medians only, no firm, truck or person."""
    gates = [gate] if gate is not None else list(platform.gates)
    days: list[OpenDataDay] = []
    async with platform.unit_of_work() as uow:
        session = uow.session
        await _short_queries(session)
        for chosen in gates:
            zone = chosen.zone
            start = local_midnight(first, zone).astimezone(UTC)
            end = local_midnight(last + timedelta(days=1), zone).astimezone(UTC)
            edges = bucket_edges(start, end, "day", zone)
            counts = (
                await session.execute(
                    select(HOURLY.c.hour, HOURLY.c.metric, func.sum(HOURLY.c.count))
                    .where(
                        HOURLY.c.gate == chosen.code, HOURLY.c.hour >= start, HOURLY.c.hour < end
                    )
                    .group_by(HOURLY.c.hour, HOURLY.c.metric)
                )
            ).all()
            per_day: list[dict[str, int]] = [{} for _ in range(len(edges) - 1)]
            for hour, metric, count in counts:
                index = bucket_index(edges, hour)
                if index is not None:
                    per_day[index][metric] = per_day[index].get(metric, 0) + int(count)
            stage_medians, crossing_medians = await _daily_medians(
                session, chosen, start, end, edges
            )
            for i, counted in enumerate(per_day):
                days.append(
                    OpenDataDay(
                        gate=chosen.code,
                        date=edges[i].astimezone(zone).date(),
                        declared=counted.get("declared", 0),
                        arrived=counted.get("arrived", 0),
                        cleared=counted.get("cleared", 0),
                        departed=counted.get("departed", 0),
                        rejected=counted.get("rejected", 0),
                        cancelled=counted.get("cancelled", 0),
                        median_arrival_to_departure_seconds=crossing_medians[i],
                        median_stage_seconds={
                            s.value: stage_medians[i].get(s.value) for s in REPORT_STAGES
                        },
                    )
                )
    return OpenData(
        from_=first,
        to=last,
        licence="CC BY 4.0",
        notes=(
            "Số liệu theo ngày giờ địa phương của cửa khẩu; trung vị bỏ trống khi ít hơn "
            f"{OPEN_DATA_MIN_COUNT} xe / counts per gate and local day; a median is left "
            f"empty when drawn from fewer than {OPEN_DATA_MIN_COUNT} trucks"
        ),
        days=days,
    )


async def _daily_medians(
    session: AsyncSession, gate: Gate, start: datetime, end: datetime, edges: list[datetime]
) -> tuple[list[dict[str, float | None]], list[float | None]]:
    """Per local day: median decision time per stage, and median arrival-to-departure.

    PostgreSQL groups and takes the medians in SQL (a public endpoint must not pull a
    quarter's rows into Python); SQLite hands the rows over.
    """
    days = len(edges) - 1
    stage_medians: list[dict[str, float | None]] = [{} for _ in range(days)]
    crossing_medians: list[float | None] = [None] * days
    decided = [
        VISITS.c.gate == gate.code,
        VISITS.c.closed_at >= start,
        VISITS.c.closed_at < end,
        VISITS.c.outcome.in_(DECISION_OUTCOMES),
        VISITS.c.automatic.is_(false()),
    ]
    crossed = [
        JOURNEYS.c.gate == gate.code,
        JOURNEYS.c.left_at >= start,
        JOURNEYS.c.left_at < end,
        JOURNEYS.c.outcome == "departed",
        JOURNEYS.c.arrived_at.is_not(None),
    ]
    first_day = edges[0].astimezone(gate.zone).date()
    if _is_postgres(session):
        closed_day = func.date(func.timezone(gate.timezone, VISITS.c.closed_at))
        for day, stage, n, median in (
            await session.execute(
                select(
                    closed_day,
                    VISITS.c.stage,
                    func.count(),
                    func.percentile_cont(0.5).within_group(VISITS.c.total_seconds),
                )
                .where(*decided)
                .group_by(closed_day, VISITS.c.stage)
            )
        ).all():
            index = (day - first_day).days
            if 0 <= index < days and n >= OPEN_DATA_MIN_COUNT:
                stage_medians[index][stage] = _float(median)
        left_day = func.date(func.timezone(gate.timezone, JOURNEYS.c.left_at))
        for day, n, median in (
            await session.execute(
                select(
                    left_day,
                    func.count(),
                    func.percentile_cont(0.5).within_group(
                        _epoch(JOURNEYS.c.left_at, JOURNEYS.c.arrived_at)
                    ),
                )
                .where(*crossed)
                .group_by(left_day)
            )
        ).all():
            index = (day - first_day).days
            if 0 <= index < days and n >= OPEN_DATA_MIN_COUNT:
                crossing_medians[index] = _float(median)
        return stage_medians, crossing_medians
    stage_times: list[dict[str, list[float]]] = [{} for _ in range(days)]
    for closed_at, stage, seconds in (
        await session.execute(
            select(VISITS.c.closed_at, VISITS.c.stage, VISITS.c.total_seconds).where(*decided)
        )
    ).all():
        index = bucket_index(edges, closed_at)
        if index is not None:
            stage_times[index].setdefault(stage, []).append(seconds)
    crossings: list[list[float]] = [[] for _ in range(days)]
    for left_at, arrived_at in (
        await session.execute(select(JOURNEYS.c.left_at, JOURNEYS.c.arrived_at).where(*crossed))
    ).all():
        index = bucket_index(edges, left_at)
        if index is not None:
            crossings[index].append((left_at - arrived_at).total_seconds())
    for index in range(days):
        stage_medians[index] = {
            stage: _safe_median(values) for stage, values in stage_times[index].items()
        }
        crossing_medians[index] = _safe_median(crossings[index])
    return stage_medians, crossing_medians


def _safe_median(values: list[float]) -> float | None:
    if len(values) < OPEN_DATA_MIN_COUNT:
        return None
    return _float(percentile(values, 0.5))


__all__ = [
    "REPORT_SECTIONS",
    "bottleneck_now",
    "in_yard_now",
    "open_data_daily",
    "report_scope",
    "throughput_report",
    "times_of",
    "waiting_now",
]


# --- Now: what is waiting at a gate (the dashboard's live tiles) -----------------------------


class StageWaiting(msgspec.Struct, frozen=True):
    stage: str
    count: int  # visits open now: waiting for, or with, the agency
    oldest_seconds: float | None
    total_seconds: float  # summed age of the open visits


async def waiting_now(platform: Platform, gate: Gate, now: datetime) -> list[StageWaiting]:
    """Per stage, the trucks an agency has open right now (from the open-visits index)."""
    async with platform.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(VISITS.c.stage, VISITS.c.opened_at).where(
                    VISITS.c.gate == gate.code, VISITS.c.closed_at.is_(None)
                )
            )
        ).all()
    ages: dict[str, list[float]] = {}
    for stage, opened_at in rows:
        ages.setdefault(stage, []).append(max((now - opened_at).total_seconds(), 0.0))
    return [
        StageWaiting(
            stage=s.value,
            count=len(ages.get(s.value, [])),
            oldest_seconds=max(ages[s.value]) if ages.get(s.value) else None,
            total_seconds=sum(ages.get(s.value, [])),
        )
        for s in REPORT_STAGES
    ]


def bottleneck_now(waiting: Sequence[StageWaiting]) -> str | None:
    """The stage whose waiting trucks have waited longest in total, if any truck waits."""
    busiest = max(waiting, key=lambda w: (w.total_seconds, w.count), default=None)
    return busiest.stage if busiest is not None and busiest.count else None


async def in_yard_now(platform: Platform, gate: Gate) -> int:
    async with platform.unit_of_work() as uow:
        count = await uow.session.scalar(
            select(func.count()).where(
                JOURNEYS.c.gate == gate.code,
                JOURNEYS.c.arrived_at.is_not(None),
                JOURNEYS.c.left_at.is_(None),
            )
        )
    return int(count or 0)
