"""What the API sends and receives about declarations (msgspec structs, documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta, Struct

from workflows.labels import (
    CHANNEL_LABELS,
    STAGE_LABELS,
    STAGE_STATE_LABELS,
    STATUS_LABELS,
)
from workflows.machine import Decision, Event
from workflows.model import (
    DONE_STATES,
    PRINTABLE,
    CargoLine,
    Declaration,
    Driver,
    Vehicle,
)


class Label(Struct, frozen=True):
    vi: str
    en: str


class StageOut(Struct, frozen=True):
    state: str
    label: Label
    state_label: Label
    waiting_for: list[str]
    findings: list[str]
    needs_attention: bool
    assignee: str | None
    decided_by: str | None
    reason: str | None
    opened_at: datetime | None
    review_started_at: datetime | None
    decided_at: datetime | None


class DeclarationLinks(Struct, frozen=True):
    self: str
    events: str
    documents: str


class DeclarationOut(Struct, frozen=True):
    id: str
    number: str
    organisation: str
    direction: str
    gate: str
    status: str
    status_label: Label
    version: int
    channel: str | None
    channel_label: Label | None
    vehicle: Vehicle
    driver: Driver
    cargo: list[CargoLine]
    consignor: str
    consignee: str
    planned_arrival: datetime
    stages: dict[str, StageOut]
    screening_round: int
    yard_position: str | None
    gross_weight_kg: float
    created_at: datetime | None
    submitted_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None
    departed_at: datetime | None
    links: DeclarationLinks


class DeclarationPage(Struct, frozen=True):
    items: list[DeclarationOut]
    next_cursor: str | None
    limit: int


class EventOut(Struct, frozen=True):
    seq: int
    version: int
    at: datetime
    actor: str
    role: str
    action: str
    stage: str | None
    reason: str | None
    data: dict[str, Any]
    hash: str
    prev_hash: str


class EventTrail(Struct, frozen=True):
    declaration_id: str
    number: str
    chain_valid: bool
    events: list[EventOut]


class DecisionIn(Struct, frozen=True, forbid_unknown_fields=True):
    decision: Decision
    reason: Annotated[str, Meta(max_length=1000, pattern=PRINTABLE)] | None = None


class CancelIn(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=1000, pattern=PRINTABLE)] | None = None


class GateEventIn(Struct, frozen=True, forbid_unknown_fields=True):
    kind: Annotated[str, Meta(pattern=r"^(gate_in|gate_out)$")]
    plate: Annotated[str, Meta(min_length=4, max_length=20, pattern=PRINTABLE)]
    observed_at: Annotated[datetime, Meta(tz=True)] | None = None
    declaration_id: Annotated[str, Meta(min_length=36, max_length=36)] | None = None


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def _label(pair: tuple[str, str]) -> Label:
    return Label(vi=pair[0], en=pair[1])


def declaration_out(declaration: Declaration, zone: ZoneInfo) -> DeclarationOut:
    """The declaration as the API shows it: times in the gate's zone, labels in both languages."""
    facts = declaration.facts
    stages: dict[str, StageOut] = {}
    for stage, record in declaration.stages.items():
        waiting = [
            p.value
            for p in declaration.workflow.get(stage, ())
            if declaration.stages[p].state not in DONE_STATES
        ]
        stages[stage.value] = StageOut(
            state=record.state.value,
            label=_label(STAGE_LABELS[stage]),
            state_label=_label(STAGE_STATE_LABELS[record.state]),
            waiting_for=waiting,
            findings=list(record.findings),
            needs_attention=record.needs_attention,
            assignee=record.assignee,
            decided_by=record.decided_by,
            reason=record.reason,
            opened_at=_local(record.opened_at, zone),
            review_started_at=_local(record.review_started_at, zone),
            decided_at=_local(record.decided_at, zone),
        )
    base = f"/api/v1/declarations/{declaration.id}"
    return DeclarationOut(
        id=declaration.id,
        number=declaration.number,
        organisation=declaration.organisation,
        direction=facts.direction.value,
        gate=facts.gate,
        status=declaration.status.value,
        status_label=_label(STATUS_LABELS[declaration.status]),
        version=declaration.version,
        channel=declaration.channel.value if declaration.channel else None,
        channel_label=_label(CHANNEL_LABELS[declaration.channel]) if declaration.channel else None,
        vehicle=facts.vehicle,
        driver=facts.driver,
        cargo=list(facts.cargo),
        consignor=facts.consignor,
        consignee=facts.consignee,
        planned_arrival=facts.planned_arrival.astimezone(zone),
        stages=stages,
        screening_round=declaration.screening_round,
        yard_position=declaration.yard_position,
        gross_weight_kg=facts.gross_weight_kg,
        created_at=_local(declaration.created_at, zone),
        submitted_at=_local(declaration.submitted_at, zone),
        arrived_at=_local(declaration.arrived_at, zone),
        cleared_at=_local(declaration.cleared_at, zone),
        departed_at=_local(declaration.departed_at, zone),
        links=DeclarationLinks(self=base, events=f"{base}/events", documents=f"{base}/documents"),
    )


def event_out(event: Event, zone: ZoneInfo) -> EventOut:
    return EventOut(
        seq=event.version,
        version=event.version,
        at=event.at.astimezone(zone),
        actor=event.actor,
        role=event.role,
        action=event.action,
        stage=event.stage.value if event.stage else None,
        reason=event.reason,
        data=event.data,
        hash=event.hash,
        prev_hash=event.prev_hash,
    )


def facts_document(declaration: Declaration) -> dict[str, Any]:
    """The filed body as plain JSON, the base a merge patch applies to."""
    return msgspec.to_builtins(declaration.facts)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
