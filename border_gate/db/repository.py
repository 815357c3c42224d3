"""Declarations in and out of the database: the domain state <-> projection rows, events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, and_, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

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
    Stage,
    StageRecord,
    StageState,
    plate_key,
)

_json = msgspec.json.Encoder(order="sorted")


def _facts(row: DeclarationRow) -> DeclarationFacts:
    return msgspec.convert(
        {
            "direction": row.direction,
            "gate": row.gate,
            "vehicle": {
                "plate": row.plate,
                "trailer_plate": row.trailer_plate,
                "country": row.vehicle_country,
            },
            "driver": {
                "name": row.driver_name,
                "document_number": row.driver_document_number,
                "nationality": row.driver_nationality,
                "document_expiry": row.driver_document_expiry,
            },
            "cargo": [
                {
                    "hs_code": line.hs_code,
                    "description": line.description,
                    "gross_weight_kg": line.gross_weight_kg,
                    "packages": line.packages,
                    "value": line.value,
                    "currency": line.currency,
                    "origin_country": line.origin_country,
                }
                for line in row.cargo
            ],
            "consignor": row.consignor,
            "consignee": row.consignee,
            "planned_arrival": row.planned_arrival,
        },
        DeclarationFacts,
        from_attributes=True,
    )


def to_domain(row: DeclarationRow) -> Declaration:
    workflow = {
        Stage(stage): tuple(Stage(p) for p in preds)
        for stage, preds in msgspec.json.decode(row.workflow).items()
    }
    by_stage = {Stage(s.stage): s for s in row.stages}
    stages = {
        stage: StageRecord(
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
        for stage, s in sorted(by_stage.items(), key=lambda item: item[1].position)
    }
    return Declaration(
        id=row.id,
        number=row.number,
        organisation=row.organisation_code,
        facts=_facts(row),
        workflow=workflow,
        stages=stages,
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
        last_hash=row.last_hash,
    )


def _write_facts(row: DeclarationRow, facts: DeclarationFacts) -> None:
    row.direction = facts.direction.value
    row.gate = facts.gate
    row.plate = facts.vehicle.plate
    row.plate_key = plate_key(facts.vehicle.plate)
    row.trailer_plate = facts.vehicle.trailer_plate
    row.vehicle_country = facts.vehicle.country
    row.driver_name = facts.driver.name
    row.driver_document_number = facts.driver.document_number
    row.driver_nationality = facts.driver.nationality
    row.driver_document_expiry = facts.driver.document_expiry
    row.consignor = facts.consignor
    row.consignee = facts.consignee
    row.planned_arrival = facts.planned_arrival
    existing = {line.line_no: line for line in row.cargo}
    for line_no, line in enumerate(facts.cargo, start=1):
        target = existing.pop(line_no, None)
        if target is None:
            target = CargoLineRow(declaration_id=row.id, line_no=line_no)
            row.cargo.append(target)
        _write_line(target, line)
    for leftover in existing.values():
        row.cargo.remove(leftover)


def _write_line(target: CargoLineRow, line: CargoLine) -> None:
    target.hs_code = line.hs_code
    target.description = line.description
    target.gross_weight_kg = line.gross_weight_kg
    target.packages = line.packages
    target.value = line.value
    target.currency = line.currency
    target.origin_country = line.origin_country


def _write_stages(row: DeclarationRow, declaration: Declaration) -> None:
    existing = {s.stage: s for s in row.stages}
    for position, (stage, record) in enumerate(declaration.stages.items()):
        target = existing.pop(stage.value, None)
        if target is None:
            target = StageStateRow(declaration_id=row.id, stage=stage.value)
            row.stages.append(target)
        target.position = position
        target.gate = declaration.facts.gate
        target.state = record.state.value
        target.screened = record.screened
        target.auto_approve = record.auto_approve
        target.findings = _json.encode(list(record.findings)).decode()
        target.needs_attention = record.needs_attention
        target.assignee = record.assignee
        target.decided_by = record.decided_by
        target.reason = record.reason
        target.opened_at = record.opened_at
        target.review_started_at = record.review_started_at
        target.decided_at = record.decided_at
    for leftover in existing.values():
        row.stages.remove(leftover)


def _write_state(row: DeclarationRow, declaration: Declaration, now: datetime) -> None:
    row.status = declaration.status.value
    row.version = declaration.version
    row.channel = declaration.channel.value if declaration.channel else None
    row.workflow = _json.encode(
        {s.value: [p.value for p in preds] for s, preds in declaration.workflow.items()}
    ).decode()
    row.submitted = declaration.submitted
    row.screening_round = declaration.screening_round
    row.cancelled = declaration.cancelled
    row.yard_position = declaration.yard_position
    row.last_hash = declaration.last_hash
    row.submitted_at = declaration.submitted_at
    row.arrived_at = declaration.arrived_at
    row.cleared_at = declaration.cleared_at
    row.departed_at = declaration.departed_at
    row.updated_at = now


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
        self._rows: dict[str, DeclarationRow] = {}

    async def get(self, declaration_id: str, *, lock: bool = False) -> Declaration | None:
        """The declaration, in one round trip (cargo and stages joined in).

        `lock=True` takes the row lock (PostgreSQL; SQLite transactions are serial anyway), so
        concurrent automated writers queue instead of retrying after a lost race.
        """
        if lock:
            # Lock first, then read in a new statement: a locking SELECT that had to wait
            # re-reads only the locked row, while rows it joins (stages, cargo) would still
            # come from the snapshot taken before the other writer committed.
            await self.session.execute(
                select(DeclarationRow.id)
                .where(DeclarationRow.id == declaration_id)
                .with_for_update()
            )
        row = await self.session.get(
            DeclarationRow,
            declaration_id,
            options=[joinedload(DeclarationRow.cargo), joinedload(DeclarationRow.stages)],
        )
        if row is None:
            return None
        self._rows[row.id] = row
        return to_domain(row)

    async def get_many(self, ids: list[str]) -> list[Declaration]:
        if not ids:
            return []
        rows = (
            await self.session.scalars(select(DeclarationRow).where(DeclarationRow.id.in_(ids)))
        ).all()
        by_id = {row.id: row for row in rows}
        return [to_domain(by_id[i]) for i in ids if i in by_id]

    async def add(self, declaration: Declaration, events: list[Event], now: datetime) -> None:
        row = DeclarationRow(
            id=declaration.id,
            number=declaration.number,
            organisation_code=declaration.organisation,
            created_at=declaration.created_at or now,
            cargo=[],
            stages=[],
        )
        _write_facts(row, declaration.facts)
        _write_state(row, declaration, now)
        _write_stages(row, declaration)
        self.session.add(row)
        await self.session.flush()
        self._rows[row.id] = row
        await self._append_events(declaration.id, events)

    async def save(
        self, before: Declaration, after: Declaration, events: list[Event], now: datetime
    ) -> None:
        """Write `after` over `before`; raises StaleDataError if someone else wrote first."""
        row = self._rows.get(before.id) or await self.session.get(DeclarationRow, before.id)
        assert row is not None
        if after.facts is not before.facts:
            _write_facts(row, after.facts)
        _write_state(row, after, now)
        _write_stages(row, after)
        await self.session.flush()  # the UPDATE ... WHERE version = before.version
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
        for row in rows:
            self._rows[row.id] = row
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
        for row in rows:
            self._rows[row.id] = row
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
