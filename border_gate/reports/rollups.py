"""Keep the report rollups: live in each transition's transaction, or rebuilt from the trail.

`rollup_hook` is registered in `Platform.transition_hooks` (and run by `file_declaration`
for the `create` event), so a state change and its rollup rows commit together or not at
all. `rebuild_rollups` empties the tables and folds every declaration's events again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from border_gate.db.models import DeclarationRow, EventRow
from border_gate.db.repository import row_to_event
from border_gate.db.uow import UnitOfWork
from border_gate.reports.changes import (
    Change,
    Counted,
    VisitClosed,
    VisitOpened,
    VisitStarted,
    hour_of,
    journey_of,
    rollup_changes,
)
from border_gate.reports.tables import HOURLY, JOURNEYS, VISITS
from workflows.machine import Event, evolve
from workflows.model import Declaration

HourKey = tuple[str, datetime, str, str]  # gate, hour, direction, metric


def visit_durations(
    opened_at: datetime, started_at: datetime | None, closed_at: datetime
) -> dict[str, float]:
    """Total, waiting-for-the-agency and agency-working seconds of one visit.

    Waiting runs from the opening until an officer took the declaration (or, if nobody
    took it explicitly, until the decision); working runs from then to the decision.
    """
    started = min(max(started_at or closed_at, opened_at), closed_at)
    return {
        "total_seconds": (closed_at - opened_at).total_seconds(),
        "waiting_seconds": (started - opened_at).total_seconds(),
        "working_seconds": (closed_at - started).total_seconds(),
    }


async def rollup_hook(
    uow: UnitOfWork, before: Declaration | None, after: Declaration, events: list[Event]
) -> None:
    """Write the rollup rows for one transition, inside its transaction."""
    session = uow.session
    changes = rollup_changes(before, events)
    gate, direction = after.facts.gate, after.facts.direction.value
    counts: Counter[HourKey] = Counter()
    for change in changes:
        if isinstance(change, VisitOpened):
            await session.execute(
                insert(VISITS).values(
                    declaration_id=after.id,
                    stage=change.stage,
                    opened_version=change.version,
                    gate=gate,
                    direction=direction,
                    opened_at=change.at,
                    automatic=False,
                )
            )
        elif isinstance(change, VisitStarted):
            await session.execute(
                update(VISITS)
                .where(
                    VISITS.c.declaration_id == after.id,
                    VISITS.c.stage == change.stage,
                    VISITS.c.closed_at.is_(None),
                    VISITS.c.started_at.is_(None),
                )
                .values(started_at=change.at)
            )
        elif isinstance(change, VisitClosed):
            visit = (
                await session.execute(
                    select(VISITS.c.opened_version, VISITS.c.opened_at, VISITS.c.started_at).where(
                        VISITS.c.declaration_id == after.id,
                        VISITS.c.stage == change.stage,
                        VISITS.c.closed_at.is_(None),
                    )
                )
            ).first()
            if visit is None:
                continue  # opened before the rollups existed and never rebuilt
            await session.execute(
                update(VISITS)
                .where(
                    VISITS.c.declaration_id == after.id,
                    VISITS.c.stage == change.stage,
                    VISITS.c.opened_version == visit.opened_version,
                )
                .values(
                    closed_at=change.at,
                    outcome=change.outcome,
                    reason=change.reason,
                    automatic=change.automatic,
                    **visit_durations(visit.opened_at, visit.started_at, change.at),
                )
            )
        elif isinstance(change, Counted):
            counts[(gate, hour_of(change.at), direction, change.metric)] += 1
    await add_counts(session, counts)
    journey = journey_of(after).__struct_fields__
    values = {name: getattr(journey_of(after), name) for name in journey}
    if before is None:
        await session.execute(insert(JOURNEYS).values(**values))
    else:
        result: Any = await session.execute(
            update(JOURNEYS).where(JOURNEYS.c.declaration_id == after.id).values(**values)
        )
        if result.rowcount == 0:
            await session.execute(insert(JOURNEYS).values(**values))


async def add_counts(session: AsyncSession, counts: Counter[HourKey]) -> None:
    """Add to the hourly counters (insert or increment), in key order so writers never deadlock."""
    if not counts:
        return
    dialect = session.get_bind().dialect.name
    upsert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    for (gate, hour, direction, metric), n in sorted(counts.items()):
        statement = upsert(HOURLY).values(
            gate=gate, hour=hour, direction=direction, metric=metric, count=n
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["gate", "hour", "direction", "metric"],
                set_={"count": HOURLY.c.count + statement.excluded.count},
            )
        )


# --- Rebuild from the event log ------------------------------------------------------------


class RollupAccumulator:
    """The rollup rows of many declarations, built in memory from their changes."""

    def __init__(self) -> None:
        self.visits: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.journeys: list[dict[str, Any]] = []
        self.counts: Counter[HourKey] = Counter()

    def add(self, declaration: Declaration, changes: Iterable[Change]) -> None:
        gate, direction = declaration.facts.gate, declaration.facts.direction.value
        open_visit: dict[str, tuple[str, str, int]] = {}
        for change in changes:
            if isinstance(change, VisitOpened):
                key = (declaration.id, change.stage, change.version)
                open_visit[change.stage] = key
                self.visits[key] = {
                    "declaration_id": declaration.id,
                    "stage": change.stage,
                    "opened_version": change.version,
                    "gate": gate,
                    "direction": direction,
                    "opened_at": change.at,
                    "started_at": None,
                    "closed_at": None,
                    "outcome": None,
                    "reason": None,
                    "automatic": False,
                    "total_seconds": None,
                    "waiting_seconds": None,
                    "working_seconds": None,
                }
            elif isinstance(change, VisitStarted):
                if change.stage in open_visit:
                    row = self.visits[open_visit[change.stage]]
                    if row["started_at"] is None:
                        row["started_at"] = change.at
            elif isinstance(change, VisitClosed):
                if change.stage not in open_visit:
                    continue
                row = self.visits[open_visit.pop(change.stage)]
                row.update(
                    closed_at=change.at,
                    outcome=change.outcome,
                    reason=change.reason,
                    automatic=change.automatic,
                    **visit_durations(row["opened_at"], row["started_at"], change.at),
                )
            elif isinstance(change, Counted):
                self.counts[(gate, hour_of(change.at), direction, change.metric)] += 1
        journey = journey_of(declaration)
        self.journeys.append({name: getattr(journey, name) for name in journey.__struct_fields__})

    async def flush_rows(self, session: AsyncSession) -> None:
        """Insert the visits and journeys gathered so far (counts wait for `flush_counts`)."""
        if self.visits:
            await session.execute(insert(VISITS), list(self.visits.values()))
        if self.journeys:
            await session.execute(insert(JOURNEYS), self.journeys)
        self.visits.clear()
        self.journeys.clear()

    async def flush_counts(self, session: AsyncSession) -> None:
        rows = [
            {"gate": g, "hour": h, "direction": d, "metric": m, "count": n}
            for (g, h, d, m), n in sorted(self.counts.items())
        ]
        for start in range(0, len(rows), 5000):
            await session.execute(insert(HOURLY), rows[start : start + 5000])
        self.counts.clear()


async def rebuild_rollups(
    uow_factory: Callable[[], UnitOfWork],
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the rollup tables and refill them from every declaration's events, in one
    transaction (readers see the old figures until it commits). Returns declarations done."""
    accumulator = RollupAccumulator()
    async with uow_factory() as uow:
        session = uow.session
        for table in (VISITS, JOURNEYS, HOURLY):
            await session.execute(delete(table))
        ids = list(
            (await session.scalars(select(DeclarationRow.id).order_by(DeclarationRow.id))).all()
        )
        done = 0
        for start in range(0, len(ids), batch):
            chunk = ids[start : start + batch]
            rows = (
                await session.execute(
                    select(EventRow)
                    .where(EventRow.declaration_id.in_(chunk))
                    .order_by(EventRow.declaration_id, EventRow.version)
                )
            ).scalars()
            trails: dict[str, list[Event]] = {}
            for row in rows:
                trails.setdefault(row.declaration_id, []).append(row_to_event(row))
            for events in trails.values():
                state: Declaration | None = None
                for event in events:
                    state = evolve(state, event)
                assert state is not None
                accumulator.add(state, rollup_changes(None, events))
            await accumulator.flush_rows(session)
            done += len(chunk)
            if progress is not None:
                progress(done, len(ids))
        await accumulator.flush_counts(session)
        await uow.commit()
    return done
