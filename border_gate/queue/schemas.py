"""What the queue API sends and receives (msgspec structs, documented in OpenAPI)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from msgspec import Meta, Struct

from border_gate.queue.service import BookingView, QueueEntry, QueuePlan
from workflows.model import PRINTABLE, Direction
from workflows.queueing import LANE_LABELS, Lane


class BookingIn(Struct, frozen=True, forbid_unknown_fields=True):
    slot_start: Annotated[datetime, Meta(tz=True, description="start of a one-hour slot")]


class QuotaIn(Struct, frozen=True, forbid_unknown_fields=True):
    direction: Direction
    day: date
    quota: Annotated[int, Meta(ge=0, le=100_000)]
    reason: Annotated[str, Meta(min_length=1, max_length=1000, pattern=PRINTABLE)]


class WaitingAreaIn(Struct, frozen=True, forbid_unknown_fields=True):
    plate: Annotated[str, Meta(min_length=4, max_length=20)]
    observed_at: Annotated[datetime, Meta(tz=True)] | None = None
    declaration_id: Annotated[str, Meta(max_length=36)] | None = None


class LabelOut(Struct, frozen=True):
    vi: str
    en: str


class BookingOut(Struct, frozen=True):
    declaration_id: str
    number: str
    gate: str
    direction: str
    status: str
    version: int
    slot_start: datetime | None
    slot_end: datetime | None
    lane: str  # the walk-in class (perishable, aeo, other); booked while its slot applies
    lane_label: LabelOut
    waiting_at: datetime | None
    called_at: datetime | None
    arrived_at: datetime | None
    position: int | None  # 1 = next to be called; 0 = called; None = not in the queue
    expected_call_at: datetime | None
    expected_crossing_at: datetime | None


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def booking_out(view: BookingView, zone: ZoneInfo) -> BookingOut:
    declaration, entry = view.declaration, view.entry
    lane = Lane(entry.lane) if entry and entry.lane in Lane._value2member_map_ else view.lane
    expected_call = entry.expected_call_at if entry else None
    expected_crossing = entry.expected_crossing_at if entry else None
    if entry is None and declaration.arrived_at is None and declaration.slot_start is not None:
        expected_call = declaration.slot_start  # not in the waiting area yet: the slot is the plan
    vi, en = LANE_LABELS[lane]
    return BookingOut(
        declaration_id=declaration.id,
        number=declaration.number,
        gate=declaration.facts.gate,
        direction=declaration.facts.direction.value,
        status=declaration.status.value,
        version=declaration.version,
        slot_start=_local(declaration.slot_start, zone),
        slot_end=_local(declaration.slot_end, zone),
        lane=lane.value,
        lane_label=LabelOut(vi=vi, en=en),
        waiting_at=_local(declaration.waiting_at, zone),
        called_at=_local(declaration.called_at, zone),
        arrived_at=_local(declaration.arrived_at, zone),
        position=entry.position if entry else None,
        expected_call_at=_local(expected_call, zone),
        expected_crossing_at=_local(expected_crossing, zone),
    )


class QueueEntryOut(Struct, frozen=True):
    declaration_id: str
    number: str
    plate: str
    organisation: str
    lane: str
    lane_label: LabelOut
    position: int
    waiting_at: datetime | None
    slot_start: datetime | None
    called_at: datetime | None
    expected_call_at: datetime
    expected_crossing_at: datetime


class QueueBoardOut(Struct, frozen=True):
    gate: str
    direction: str
    called_today: int
    released_today: int
    callable_now: int
    entries: list[QueueEntryOut]


def _lane_label(lane: str) -> LabelOut:
    if lane in Lane._value2member_map_:
        vi, en = LANE_LABELS[Lane(lane)]
    else:
        vi, en = ("Đã gọi vào", "Called forward")
    return LabelOut(vi=vi, en=en)


def entry_out(entry: QueueEntry, zone: ZoneInfo) -> QueueEntryOut:
    return QueueEntryOut(
        declaration_id=entry.declaration_id,
        number=entry.number,
        plate=entry.plate,
        organisation=entry.organisation,
        lane=entry.lane,
        lane_label=_lane_label(entry.lane),
        position=entry.position,
        waiting_at=_local(entry.waiting_at, zone),
        slot_start=_local(entry.slot_start, zone),
        called_at=_local(entry.called_at, zone),
        expected_call_at=entry.expected_call_at.astimezone(zone),
        expected_crossing_at=entry.expected_crossing_at.astimezone(zone),
    )


def board_out(plan: QueuePlan, zone: ZoneInfo) -> QueueBoardOut:
    return QueueBoardOut(
        gate=plan.gate,
        direction=plan.direction.value,
        called_today=plan.called_today,
        released_today=plan.released_today,
        callable_now=plan.to_call,
        entries=[entry_out(e, zone) for e in plan.entries],
    )
