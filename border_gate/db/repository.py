"""Declarations in and out of the database: the domain state <-> projection rows, events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from border_gate.db.models import (
    CargoLineRow,
    DeclarationNumber,
    DeclarationRow,
    EventRow,
    StageStateRow,
)
from workflows.machine import Event
from workflows.model import (
    CargoLine,
    Channel,
    Declaration,
    DeclarationFacts,
    Direction,
    Driver,
    Stage,
    StageRecord,
    StageState,
    Vehicle,
    plate_key,
)

_json = msgspec.json.Encoder(order="sorted")


# Reading goes through plain attribute access, so ORM rows and Core rows both work; writing
# is SQLAlchemy Core: the ORM's unit of work cost more CPU per change than everything else
# a transition does (docs/performance.md).
DECLARATIONS = DeclarationRow.__table__
STAGES = StageStateRow.__table__
CARGO = CargoLineRow.__table__


def _facts(row: Any, cargo: Iterable[Any]) -> DeclarationFacts:
    """The filed facts from stored columns (valid when stored: no re-validation needed)."""
    return DeclarationFacts(
        direction=Direction(row.direction),
        gate=row.gate,
        vehicle=Vehicle(
            plate=row.plate, trailer_plate=row.trailer_plate, country=row.vehicle_country
        ),
        driver=Driver(
            name=row.driver_name,
            document_number=row.driver_document_number,
            nationality=row.driver_nationality,
            document_expiry=row.driver_document_expiry,
        ),
        cargo=[
            CargoLine(
                hs_code=line.hs_code,
                description=line.description,
                gross_weight_kg=line.gross_weight_kg,
                packages=line.packages,
                value=line.value,
                currency=line.currency,
                origin_country=line.origin_country,
            )
            for line in sorted(cargo, key=lambda line: line.line_no)
        ],
        consignor=row.consignor,
        consignee=row.consignee,
        planned_arrival=row.planned_arrival,
    )


def to_domain(
    row: Any, stages: Iterable[Any] | None = None, cargo: Iterable[Any] | None = None
) -> Declaration:
    """A declaration from its row, stage rows and cargo rows (ORM rows carry their own)."""
    stage_rows = list(row.stages if stages is None else stages)
    cargo_rows = list(row.cargo if cargo is None else cargo)
    workflow = {
        Stage(stage): tuple(Stage(p) for p in preds)
        for stage, preds in msgspec.json.decode(row.workflow).items()
    }
    records = {
        Stage(s.stage): StageRecord(
            state=StageState(s.state),
            screened=s.screened,
            auto_approve=s.auto_approve,
            findings=tuple(msgspec.json.decode(s.findings)),
            opened_at=s.opened_at,
            review_started_at=s.review_started_at,
            assignee=s.assignee,
            decided_at=s.decided_at,
            decided_by=s.decided_by,
            reason=s.reason,
            needs_attention=s.needs_attention,
        )
        for s in sorted(stage_rows, key=lambda s: s.position)
    }
    return Declaration(
        id=row.id,
        number=row.number,
        organisation=row.organisation_code,
        facts=_facts(row, cargo_rows),
        workflow=workflow,
        stages=records,
        version=row.version,
        created_at=row.created_at,
        submitted=row.submitted,
        screening_round=row.screening_round,
        channel=Channel(row.channel) if row.channel else None,
        cancelled=row.cancelled,
        submitted_at=row.submitted_at,
        arrived_at=row.arrived_at,
        cleared_at=row.cleared_at,
        departed_at=row.departed_at,
        yard_position=row.yard_position,
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        waiting_at=row.waiting_at,
        called_at=row.called_at,
        queue_position=row.queue_position,
        expected_call_at=row.expected_call_at,
        expected_crossing_at=row.expected_crossing_at,
        last_hash=row.last_hash,
    )


def _fact_columns(facts: DeclarationFacts) -> dict[str, Any]:
    return {
        "direction": facts.direction.value,
        "gate": facts.gate,
        "plate": facts.vehicle.plate,
        "plate_key": plate_key(facts.vehicle.plate),
        "trailer_plate": facts.vehicle.trailer_plate,
        "vehicle_country": facts.vehicle.country,
        "driver_name": facts.driver.name,
        "driver_document_number": facts.driver.document_number,
        "driver_nationality": facts.driver.nationality,
        "driver_document_expiry": facts.driver.document_expiry,
        "consignor": facts.consignor,
        "consignee": facts.consignee,
        "planned_arrival": facts.planned_arrival,
    }


def _state_columns(declaration: Declaration, now: datetime) -> dict[str, Any]:
    return {
        "status": declaration.status.value,
        "version": declaration.version,
        "channel": declaration.channel.value if declaration.channel else None,
        "workflow": _json.encode(
            {s.value: [p.value for p in preds] for s, preds in declaration.workflow.items()}
        ).decode(),
        "submitted": declaration.submitted,
        "screening_round": declaration.screening_round,
        "cancelled": declaration.cancelled,
        "yard_position": declaration.yard_position,
        "last_hash": declaration.last_hash,
        "submitted_at": declaration.submitted_at,
        "arrived_at": declaration.arrived_at,
        "cleared_at": declaration.cleared_at,
        "departed_at": declaration.departed_at,
        "slot_start": declaration.slot_start,
        "slot_end": declaration.slot_end,
        "waiting_at": declaration.waiting_at,
        "called_at": declaration.called_at,
        "queue_position": declaration.queue_position,
        "expected_call_at": declaration.expected_call_at,
        "expected_crossing_at": declaration.expected_crossing_at,
        "updated_at": now,
    }


def _cargo_rows(declaration: Declaration) -> list[dict[str, Any]]:
    return [
        {
            "declaration_id": declaration.id,
            "line_no": line_no,
            "hs_code": line.hs_code,
            "description": line.description,
            "gross_weight_kg": line.gross_weight_kg,
            "packages": line.packages,
            "value": line.value,
            "currency": line.currency,
            "origin_country": line.origin_country,
        }
        for line_no, line in enumerate(declaration.facts.cargo, start=1)
    ]


def _stage_row(
    declaration: Declaration, position: int, stage: Stage, record: StageRecord
) -> dict[str, Any]:
    return {
        "declaration_id": declaration.id,
        "stage": stage.value,
        "position": position,
        "gate": declaration.facts.gate,
        "state": record.state.value,
        "screened": record.screened,
        "auto_approve": record.auto_approve,
        "findings": _json.encode(list(record.findings)).decode(),
        "needs_attention": record.needs_attention,
        "assignee": record.assignee,
        "decided_by": record.decided_by,
        "reason": record.reason,
        "opened_at": record.opened_at,
        "review_started_at": record.review_started_at,
        "decided_at": record.decided_at,
    }


def _stage_rows(declaration: Declaration) -> list[dict[str, Any]]:
    return [
        _stage_row(declaration, position, stage, record)
        for position, (stage, record) in enumerate(declaration.stages.items())
    ]


def event_to_row(declaration_id: str, event: Event) -> dict[str, Any]:
    return {
        "declaration_id": declaration_id,
        "version": event.version,
        "at": event.at,
        "actor": event.actor,
        "role": event.role,
        "action": event.action,
        "stage": event.stage.value if event.stage else None,
        "reason": event.reason,
        "data": _json.encode(event.data).decode(),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def row_to_event(row: EventRow) -> Event:
    return Event(
        version=row.version,
        at=row.at,
        actor=row.actor,
        role=row.role,
        action=row.action,
        stage=Stage(row.stage) if row.stage else None,
        reason=row.reason,
        data=msgspec.json.decode(row.data),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class DeclarationFilters(msgspec.Struct, frozen=True):
    status: tuple[str, ...] = ()
    gate: str | None = None
    direction: str | None = None
    stage: str | None = None
    stage_state: tuple[str, ...] = ()
    channel: str | None = None
    plate: str | None = None
    organisation: str | None = None
    gates: frozenset[str] | None = None  # the caller's gates, for gate-bound roles
    needs_attention: bool | None = None


class DeclarationRepository:
    """Loads and stores declarations; a write names the version it was made against."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, declaration_id: str, *, lock: bool = False) -> Declaration | None:
        """The declaration: its row, then its stages and cargo lines.

        `lock=True` takes the row lock first (PostgreSQL; SQLite transactions are serial
        anyway), so concurrent automated writers queue instead of retrying after a lost race;
        the stage and cargo reads that follow see what the previous writer committed.
        """
        statement = select(DECLARATIONS).where(DECLARATIONS.c.id == declaration_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).first()
        if row is None:
            return None
        stages = (
            await self.session.execute(
                select(STAGES).where(STAGES.c.declaration_id == declaration_id)
            )
        ).all()
        cargo = (
            await self.session.execute(
                select(CARGO).where(CARGO.c.declaration_id == declaration_id)
            )
        ).all()
        return to_domain(row, stages, cargo)

    async def get_many(self, ids: list[str]) -> list[Declaration]:
        if not ids:
            return []
        rows = (
            await self.session.scalars(select(DeclarationRow).where(DeclarationRow.id.in_(ids)))
        ).all()
        by_id = {row.id: row for row in rows}
        return [to_domain(by_id[i]) for i in ids if i in by_id]

    async def add(self, declaration: Declaration, events: list[Event], now: datetime) -> None:
        await self.session.execute(
            insert(DECLARATIONS).values(
                id=declaration.id,
                number=declaration.number,
                organisation_code=declaration.organisation,
                created_at=declaration.created_at or now,
                **_fact_columns(declaration.facts),
                **_state_columns(declaration, now),
            )
        )
        await self.session.execute(insert(STAGES), _stage_rows(declaration))
        await self.session.execute(insert(CARGO), _cargo_rows(declaration))
        await self._append_events(declaration.id, events)

    async def save(
        self, before: Declaration, after: Declaration, events: list[Event], now: datetime
    ) -> None:
        """Write `after` over `before`; raises StaleDataError if someone else wrote first."""
        values = _state_columns(after, now)
        facts_changed = after.facts != before.facts
        if facts_changed:
            values.update(_fact_columns(after.facts))
        result = await self.session.execute(
            update(DECLARATIONS)
            .where(DECLARATIONS.c.id == before.id, DECLARATIONS.c.version == before.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise StaleDataError(
                f"declaration {before.id} is no longer at version {before.version}"
            )
        if after.workflow != before.workflow:
            await self.session.execute(delete(STAGES).where(STAGES.c.declaration_id == after.id))
            await self.session.execute(insert(STAGES), _stage_rows(after))
        else:
            changed = [
                _stage_row(after, position, stage, record)
                for position, (stage, record) in enumerate(after.stages.items())
                if before.stages.get(stage) != record or facts_changed
            ]
            if changed:
                await self.session.execute(
                    update(STAGES)
                    .where(
                        STAGES.c.declaration_id == bindparam("b_declaration_id"),
                        STAGES.c.stage == bindparam("b_stage"),
                    )
                    .values(
                        {
                            c: bindparam(c)
                            for c in changed[0]
                            if c not in ("declaration_id", "stage")
                        }
                    ),
                    [
                        {**row, "b_declaration_id": row["declaration_id"], "b_stage": row["stage"]}
                        for row in changed
                    ],
                )
        if facts_changed and after.facts.cargo != before.facts.cargo:
            await self.session.execute(delete(CARGO).where(CARGO.c.declaration_id == after.id))
            await self.session.execute(insert(CARGO), _cargo_rows(after))
        await self._append_events(after.id, events)

    async def _append_events(self, declaration_id: str, events: list[Event]) -> None:
        if events:
            await self.session.execute(
                insert(EventRow), [event_to_row(declaration_id, e) for e in events]
            )

    async def events(self, declaration_id: str, *, after_version: int = 0) -> list[Event]:
        rows = await self.session.scalars(
            select(EventRow)
            .where(EventRow.declaration_id == declaration_id, EventRow.version > after_version)
            .order_by(EventRow.version)
        )
        return [row_to_event(r) for r in rows]

    async def next_number(self, gate: str, prefix: str, year: int) -> str:
        """The next human-readable number for `gate` in `year`, e.g. HN-2026-000123."""
        dialect = self.session.bind.dialect.name if self.session.bind else "postgresql"
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
        statement = (
            upsert(DeclarationNumber)
            .values(gate=gate, year=year, last_number=1)
            .on_conflict_do_update(
                index_elements=["gate", "year"],
                set_={"last_number": DeclarationNumber.last_number + 1},
            )
            .returning(DeclarationNumber.last_number)
        )
        number = (await self.session.execute(statement)).scalar_one()
        return f"{prefix}-{year}-{number:06d}"

    async def awaiting_arrival(self, gate: str, key: str) -> list[Declaration]:
        """Declarations at `gate` whose truck with this plate the yard may admit now."""
        statement = (
            select(DeclarationRow)
            .join(StageStateRow, StageStateRow.declaration_id == DeclarationRow.id)
            .where(
                DeclarationRow.gate == gate,
                DeclarationRow.plate_key == key,
                StageStateRow.stage == Stage.YARD.value,
                StageStateRow.state == StageState.IN_REVIEW.value,
                DeclarationRow.cancelled.is_(False),
            )
            .order_by(DeclarationRow.planned_arrival)
        )
        rows = (await self.session.scalars(statement)).all()
        return [to_domain(r) for r in rows]

    async def by_plate(self, gate: str, key: str, statuses: tuple[str, ...]) -> list[Declaration]:
        statement = (
            select(DeclarationRow)
            .where(
                DeclarationRow.gate == gate,
                DeclarationRow.plate_key == key,
                DeclarationRow.status.in_(statuses),
            )
            .order_by(DeclarationRow.created_at)
        )
        rows = (await self.session.scalars(statement)).all()
        return [to_domain(r) for r in rows]

    async def in_yard_positions(self, gate: str) -> set[str]:
        statement = select(DeclarationRow.yard_position).where(
            DeclarationRow.gate == gate,
            DeclarationRow.yard_position.is_not(None),
            DeclarationRow.departed_at.is_(None),
        )
        return {p for p in (await self.session.scalars(statement)).all() if p}

    def list_query(self, filters: DeclarationFilters) -> Select[tuple[DeclarationRow]]:
        statement = select(DeclarationRow)
        conditions = []
        if filters.organisation is not None:
            conditions.append(DeclarationRow.organisation_code == filters.organisation)
        if filters.gates is not None:
            conditions.append(DeclarationRow.gate.in_(sorted(filters.gates)))
        if filters.status:
            conditions.append(DeclarationRow.status.in_(filters.status))
        if filters.gate:
            conditions.append(DeclarationRow.gate == filters.gate)
        if filters.direction:
            conditions.append(DeclarationRow.direction == filters.direction)
        if filters.channel:
            conditions.append(DeclarationRow.channel == filters.channel)
        if filters.plate:
            conditions.append(DeclarationRow.plate_key == plate_key(filters.plate))
        if filters.stage or filters.needs_attention is not None:
            stage_conditions = [StageStateRow.declaration_id == DeclarationRow.id]
            if filters.stage:
                stage_conditions.append(StageStateRow.stage == filters.stage)
                if filters.stage_state:
                    stage_conditions.append(StageStateRow.state.in_(filters.stage_state))
            if filters.needs_attention is not None:
                stage_conditions.append(StageStateRow.needs_attention.is_(filters.needs_attention))
            conditions.append(select(StageStateRow.stage).where(and_(*stage_conditions)).exists())
        if conditions:
            statement = statement.where(and_(*conditions))
        return statement

    async def list(
        self, filters: DeclarationFilters, *, after_id: str | None, limit: int
    ) -> list[Declaration]:
        """Newest first, keyset-paginated on the time-ordered id."""
        statement = self.list_query(filters)
        if after_id is not None:
            statement = statement.where(DeclarationRow.id < after_id)
        statement = statement.order_by(DeclarationRow.id.desc()).limit(limit)
        rows = (await self.session.scalars(statement)).all()
        return [to_domain(r) for r in rows]

    async def waiting_longest(
        self, filters: DeclarationFilters, stage: str, states: tuple[str, ...], limit: int
    ) -> list[Declaration]:
        """An agency's queue: `stage` in one of `states`, the longest-waiting first."""
        statement = (
            self.list_query(filters)
            .join(
                StageStateRow,
                and_(
                    StageStateRow.declaration_id == DeclarationRow.id,
                    StageStateRow.stage == stage,
                ),
            )
            .where(StageStateRow.state.in_(states))
            .order_by(StageStateRow.opened_at.asc().nulls_last(), DeclarationRow.id)
            .limit(limit)
        )
        rows = (await self.session.scalars(statement)).unique().all()
        return [to_domain(r) for r in rows]

    async def in_yard(self, gate: str) -> list[Declaration]:
        """Trucks gated in at `gate` and not yet out, earliest arrival first."""
        statement = (
            select(DeclarationRow)
            .where(
                DeclarationRow.gate == gate,
                DeclarationRow.arrived_at.is_not(None),
                DeclarationRow.departed_at.is_(None),
                DeclarationRow.cancelled.is_(False),
            )
            .order_by(DeclarationRow.arrived_at)
        )
        rows = (await self.session.scalars(statement)).all()
        return [to_domain(r) for r in rows]

    async def count(self, filters: DeclarationFilters) -> int:
        sub = self.list_query(filters).subquery()
        return (await self.session.execute(select(func.count()).select_from(sub))).scalar_one()
