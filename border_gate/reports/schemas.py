"""What the reports answer: msgspec structs for the JSON, the CSV and the PDF alike."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from border_gate.errors import ApplicationError


class InvalidQuery(ApplicationError):
    """A report's query parameter is wrong (a 400 naming the parameter)."""

    code = "invalid-query"
    status = 400


class Totals(msgspec.Struct, frozen=True):
    filed: int = 0  # drafts created
    declared: int = 0  # first submissions
    arrived: int = 0  # yard gate-in
    cleared: int = 0  # every stage done
    departed: int = 0  # gate-out after clearance: crossed
    turned_back: int = 0  # gate-out of a rejected truck
    rejected: int = 0
    cancelled: int = 0
    amendment_requested: int = 0  # requests, not declarations


class Bucket(msgspec.Struct, frozen=True):
    start: datetime  # with the gate's offset
    end: datetime
    declared: int
    arrived: int
    cleared: int
    departed: int
    rejected: int
    cancelled: int
    in_yard: int  # trucks in the yard at the end of the bucket (the queue)


class Times(msgspec.Struct, frozen=True):
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    p95_seconds: float | None


class StageFigures(msgspec.Struct, frozen=True):
    stage: str
    label_vi: str
    label_en: str
    decisions: int  # by people (automatic approvals are counted apart)
    automatic_decisions: int
    median_seconds: float | None  # opening to decision
    p90_seconds: float | None
    p95_seconds: float | None
    waiting_median_seconds: float | None  # opening until an officer took it
    working_median_seconds: float | None  # taken until decided
    waiting_total_seconds: float
    working_total_seconds: float
    total_seconds: float
    sla_target_seconds: float
    within_target_share: float | None  # 0..1 of decisions within the target
    meets_service_level: bool | None  # within_target_share >= the configured bar
    open_at_end: int  # still waiting for, or with, the agency at the end of the period


class EndToEnd(msgspec.Struct, frozen=True):
    arrival_to_departure: Times
    arrival_to_clearance: Times
    declared_to_departure: Times


class ReasonCount(msgspec.Struct, frozen=True):
    stage: str
    outcome: str  # rejected | amendment_requested
    reason: str
    count: int


class ExtraSection(msgspec.Struct, frozen=True):
    """A section another feature adds to the report (fees, queue estimates …): a table."""

    key: str
    title_vi: str
    title_en: str
    columns: list[str]
    rows: list[list[str | int | float | None]]


class ThroughputReport(msgspec.Struct, frozen=True, rename={"from_": "from"}):
    gate: str
    gate_name_vi: str
    gate_name_en: str
    timezone: str
    direction: str | None
    from_: datetime
    to: datetime
    granularity: str
    generated_at: datetime
    scope: str  # "all", or the one stage an agency officer sees
    service_level_bar: float  # share of decisions that must be within target (e.g. 0.999)
    totals: Totals
    buckets: list[Bucket]
    stages: list[StageFigures]
    bottleneck: str | None
    end_to_end: EndToEnd
    reasons: list[ReasonCount]
    sections: list[ExtraSection] = msgspec.field(default_factory=list)


class OpenDataDay(msgspec.Struct, frozen=True):
    """One gate, one local day: counts and median times, nothing about a firm or a truck."""

    gate: str
    date: date
    declared: int
    arrived: int
    cleared: int
    departed: int
    rejected: int
    cancelled: int
    median_arrival_to_departure_seconds: float | None
    median_stage_seconds: dict[str, float | None]


class OpenData(msgspec.Struct, frozen=True, rename={"from_": "from"}):
    from_: date
    to: date
    licence: str
    notes: str
    days: list[OpenDataDay]
