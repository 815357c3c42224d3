"""The declaration and its stages: plain values, no I/O, no clock."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta, Struct


class Direction(StrEnum):
    EXPORT = "export"
    IMPORT = "import"


class Stage(StrEnum):
    YARD = "yard"
    CUSTOMS = "customs"
    PLANT_QUARANTINE = "plant_quarantine"
    ANIMAL_QUARANTINE = "animal_quarantine"
    HEALTH_QUARANTINE = "health_quarantine"
    BORDER_GUARD = "border_guard"


QUARANTINE_STAGES = (Stage.PLANT_QUARANTINE, Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE)


class StageState(StrEnum):
    NOT_REQUIRED = "not_required"
    PENDING = "pending"  # not open yet: predecessors or screening outstanding
    IN_REVIEW = "in_review"  # open: the agency's turn
    APPROVED = "approved"
    REJECTED = "rejected"
    ON_HOLD = "on_hold"
    AMENDMENT_REQUESTED = "amendment_requested"


#: States in which a stage no longer blocks the stages after it.
DONE_STATES = frozenset({StageState.APPROVED, StageState.NOT_REQUIRED})
#: States in which the stage is open to its agency.
OPEN_STATES = frozenset({StageState.IN_REVIEW, StageState.ON_HOLD, StageState.AMENDMENT_REQUESTED})


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    AWAITING_ARRIVAL = "awaiting_arrival"
    IN_YARD = "in_yard"
    CLEARED = "cleared"
    DEPARTED = "departed"
    AMENDMENT_REQUESTED = "amendment_requested"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TERMINAL_STATUSES = frozenset({Status.REJECTED, Status.CANCELLED, Status.DEPARTED})


class Channel(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


# --- What a firm files -------------------------------------------------------------------

# Vietnamese plates: province code, series (letters, maybe a digit), then 4 or 5 digits,
# written 12C-345.67 or 29H-1234; people type them with or without the dash and dot.
_VN_PLATE = re.compile(r"^(\d{2})([A-Z]{1,2}\d?)-?(\d{3}\.?\d{2}|\d{4})$")
# Chinese plates: a province character, a letter, then five (six for new-energy)
# letters/digits, often written with a middle dot: 桂A·12345.
_CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_CN_PLATE = re.compile(rf"^[{_CN_PROVINCES}][A-Z][·.\- ]?[A-Z0-9]{{5,6}}$")
_OTHER_PLATE = re.compile(r"^[A-Z0-9][A-Z0-9 .\-]{2,14}[A-Z0-9]$")


def plate_key(plate: str) -> str:
    """The plate reduced to what identifies it, so '12C-345.67' and '12c34567' match."""
    return "".join(ch for ch in plate.upper() if ch.isalnum())


def plate_problem(plate: str, country: str) -> str | None:
    """Why a plate cannot be right for a vehicle registered in `country`, or None."""
    text = plate.strip().upper()
    if country == "VN" and not _VN_PLATE.match(text):
        return (
            f"Biển số Việt Nam không hợp lệ: {plate!r} (ví dụ 12C-345.67) / "
            f"not a Vietnamese plate: {plate!r} (e.g. 12C-345.67)"
        )
    if country == "CN" and not _CN_PLATE.match(text):
        return (
            f"Biển số Trung Quốc không hợp lệ: {plate!r} (ví dụ 桂A·12345) / "
            f"not a Chinese plate: {plate!r} (e.g. 桂A·12345)"
        )
    if country not in ("VN", "CN") and not _OTHER_PLATE.match(text):
        return f"Biển số không hợp lệ: {plate!r} / not a valid plate: {plate!r}"
    return None


#: HS chapters in use: 01-97, chapter 77 being reserved by the WCO.
def hs_chapter(hs_code: str) -> int:
    return int(hs_code[:2])


def hs_code_problem(hs_code: str) -> str | None:
    chapter = hs_chapter(hs_code)
    if chapter < 1 or chapter > 97 or chapter == 77:
        return (
            f"Mã HS {hs_code} thuộc chương {chapter:02d} không tồn tại / "
            f"HS code {hs_code}: chapter {chapter:02d} does not exist"
        )
    return None


#: Printable text: no NUL or other control characters (tabs and newlines allowed).
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Text = Annotated[str, Meta(min_length=1, max_length=200, pattern=PRINTABLE)]
LongText = Annotated[str, Meta(min_length=1, max_length=500, pattern=PRINTABLE)]
CountryCode = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
CurrencyCode = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
GateCode = Annotated[str, Meta(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Plate = Annotated[str, Meta(min_length=4, max_length=16)]


class Vehicle(Struct, frozen=True, forbid_unknown_fields=True):
    plate: Plate
    trailer_plate: Plate | None = None
    country: CountryCode = "VN"

    def __post_init__(self) -> None:
        for name, plate in (("plate", self.plate), ("trailer_plate", self.trailer_plate)):
            if plate is not None and (problem := plate_problem(plate, self.country)):
                raise ValueError(f"{name}: {problem}")  # "field: message" names the field


class Driver(Struct, frozen=True, forbid_unknown_fields=True):
    name: Text
    document_number: Annotated[str, Meta(pattern=r"^[A-Za-z0-9]{5,20}$")]
    nationality: CountryCode
    document_expiry: date | None = None


class CargoLine(Struct, frozen=True, forbid_unknown_fields=True):
    hs_code: Annotated[str, Meta(pattern=r"^\d{4,10}$")]
    description: LongText
    gross_weight_kg: Annotated[float, Meta(gt=0, le=100_000)]
    packages: Annotated[int, Meta(ge=1, le=1_000_000)]
    value: Annotated[float, Meta(gt=0, le=1e10)]
    currency: CurrencyCode
    origin_country: CountryCode

    def __post_init__(self) -> None:
        if problem := hs_code_problem(self.hs_code):
            raise ValueError(f"hs_code: {problem}")

    @property
    def chapter(self) -> int:
        return hs_chapter(self.hs_code)


MAX_TRUCK_GROSS_KG = 100_000.0


class DeclarationFacts(Struct, frozen=True, forbid_unknown_fields=True):
    """Everything the firm states about one truck and its cargo."""

    direction: Direction
    gate: GateCode
    vehicle: Vehicle
    driver: Driver
    cargo: Annotated[list[CargoLine], Meta(min_length=1, max_length=200)]
    consignor: Text
    consignee: Text
    planned_arrival: Annotated[datetime, Meta(tz=True)]

    def __post_init__(self) -> None:
        total = sum(line.gross_weight_kg for line in self.cargo)
        if total > MAX_TRUCK_GROSS_KG:
            raise ValueError(
                f"cargo: Tổng trọng lượng {total:,.0f} kg vượt quá {MAX_TRUCK_GROSS_KG:,.0f} kg của một xe / "
                f"total gross weight {total:,.0f} kg exceeds one truck's {MAX_TRUCK_GROSS_KG:,.0f} kg"
            )

    @property
    def gross_weight_kg(self) -> float:
        return sum(line.gross_weight_kg for line in self.cargo)


def facts_to_builtins(facts: DeclarationFacts) -> dict:
    return msgspec.to_builtins(facts)


def facts_from_builtins(raw: dict) -> DeclarationFacts:
    return msgspec.convert(raw, DeclarationFacts)


# --- The state the workflow keeps --------------------------------------------------------


class StageRecord(Struct, frozen=True):
    """One agency stage of one declaration."""

    state: StageState = StageState.PENDING
    screened: bool = False  # the agency's automated screening has landed for this round
    auto_approve: bool = False  # screening lets the system approve when the stage opens
    findings: tuple[str, ...] = ()  # why screening flagged it, for the officer
    opened_at: datetime | None = None
    review_started_at: datetime | None = None
    assignee: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None  # the last human (or system) decision's reason
    needs_attention: bool = False  # an automated check kept failing


class Declaration(Struct, frozen=True):
    """The shared record. Built only by folding events (see machine.evolve)."""

    id: str
    number: str
    organisation: str  # code of the filing firm
    facts: DeclarationFacts
    workflow: dict[Stage, tuple[Stage, ...]]  # what each stage waits for, fixed at filing
    stages: dict[Stage, StageRecord]
    version: int = 0
    created_at: datetime | None = None
    submitted: bool = False
    screening_round: int = 0
    channel: Channel | None = None
    cancelled: bool = False
    submitted_at: datetime | None = None
    arrived_at: datetime | None = None
    cleared_at: datetime | None = None
    departed_at: datetime | None = None
    yard_position: str | None = None
    # The electronic queue (workflows/queueing.py): the booked arrival slot, when the truck
    # reached the waiting area, when it was called forward, and its last announced place.
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    waiting_at: datetime | None = None
    called_at: datetime | None = None
    queue_position: int | None = None
    expected_call_at: datetime | None = None
    expected_crossing_at: datetime | None = None
    last_hash: str = ""

    @property
    def status(self) -> Status:
        return derive_status(self)


def derive_status(declaration: Declaration) -> Status:
    """The overall status, derived from the stages so it can never disagree with them."""
    states = {record.state for record in declaration.stages.values()}
    if declaration.cancelled:
        return Status.CANCELLED
    if StageState.REJECTED in states:
        return Status.REJECTED
    if declaration.departed_at is not None:
        return Status.DEPARTED
    if not declaration.submitted:
        return Status.DRAFT
    if StageState.AMENDMENT_REQUESTED in states:
        return Status.AMENDMENT_REQUESTED
    if StageState.ON_HOLD in states:
        return Status.ON_HOLD
    if states <= DONE_STATES:
        return Status.CLEARED
    if declaration.stages.get(Stage.YARD, StageRecord()).state is StageState.APPROVED:
        return Status.IN_YARD
    if not all(record.screened for record in declaration.stages.values()):
        return Status.SUBMITTED
    return Status.AWAITING_ARRIVAL
