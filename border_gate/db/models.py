"""SQLAlchemy models. The schema changes only through Alembic (migrations/)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from border_gate.db.types import BigId, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), date: Date()}


class Organisation(Base):
    __tablename__ = "organisations"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    organisation_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    gates: Mapped[list[UserGate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserGate.gate"
    )


class UserGate(Base):
    """The gates an officer or yard operator works at."""

    __tablename__ = "user_gates"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    gate: Mapped[str] = mapped_column(String(32), primary_key=True)


class DeclarationRow(Base):
    """The current state of a declaration: a projection of its events, kept for queries."""

    __tablename__ = "declarations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    organisation_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    direction: Mapped[str] = mapped_column(String(10))
    gate: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(10))
    plate: Mapped[str] = mapped_column(String(16))
    plate_key: Mapped[str] = mapped_column(String(16))
    trailer_plate: Mapped[str | None] = mapped_column(String(16))
    vehicle_country: Mapped[str] = mapped_column(String(2))
    driver_name: Mapped[str] = mapped_column(String(200))
    driver_document_number: Mapped[str] = mapped_column(String(20))
    driver_nationality: Mapped[str] = mapped_column(String(2))
    driver_document_expiry: Mapped[date | None]
    consignor: Mapped[str] = mapped_column(String(200))
    consignee: Mapped[str] = mapped_column(String(200))
    planned_arrival: Mapped[datetime]
    workflow: Mapped[str] = mapped_column(Text)  # JSON: stage -> stages it waits for
    submitted: Mapped[bool] = mapped_column(Boolean)
    screening_round: Mapped[int] = mapped_column(Integer)
    cancelled: Mapped[bool] = mapped_column(Boolean)
    yard_position: Mapped[str | None] = mapped_column(String(32))
    last_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    departed_at: Mapped[datetime | None]
    # The electronic queue (border_gate/queue/): see workflows/queueing.py.
    slot_start: Mapped[datetime | None]
    slot_end: Mapped[datetime | None]
    waiting_at: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    queue_position: Mapped[int | None] = mapped_column(Integer)
    expected_call_at: Mapped[datetime | None]
    expected_crossing_at: Mapped[datetime | None]

    cargo: Mapped[list[CargoLineRow]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="CargoLineRow.line_no",
        passive_deletes=True,
    )
    stages: Mapped[list[StageStateRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    __table_args__ = (
        Index("ix_declarations_organisation_id", "organisation_code", "id"),
        # One truck per yard slot: two gate-ins racing for a slot cannot both win.
        Index(
            "uq_declarations_yard_slot",
            "gate",
            "yard_position",
            unique=True,
            postgresql_where=text("yard_position IS NOT NULL AND departed_at IS NULL"),
            sqlite_where=text("yard_position IS NOT NULL AND departed_at IS NULL"),
        ),
        Index("ix_declarations_gate_status", "gate", "status"),
        Index("ix_declarations_gate_plate", "gate", "plate_key", "status"),
        Index("ix_declarations_gate_created", "gate", "created_at"),
        Index("ix_declarations_gate_waiting", "gate", "direction", "called_at", "waiting_at"),
    )


class CargoLineRow(Base):
    __tablename__ = "cargo_lines"

    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    hs_code: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(500))
    gross_weight_kg: Mapped[float] = mapped_column(Double)
    packages: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Double)
    currency: Mapped[str] = mapped_column(String(3))
    origin_country: Mapped[str] = mapped_column(String(2))


class StageStateRow(Base):
    """One agency stage of one declaration; gate is copied here for officers' queues."""

    __tablename__ = "stage_states"

    declaration_id: Mapped[str] = mapped_column(
        ForeignKey("declarations.id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # order in the workflow
    gate: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    screened: Mapped[bool] = mapped_column(Boolean)
    auto_approve: Mapped[bool] = mapped_column(Boolean)
    findings: Mapped[str] = mapped_column(Text)  # JSON list
    needs_attention: Mapped[bool] = mapped_column(Boolean)
    assignee: Mapped[str | None] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime | None]
    review_started_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_stage_states_queue", "gate", "stage", "state", "opened_at"),)


class EventRow(Base):
    """The append-only audit trail; each row carries the hash of the one before it."""

    __tablename__ = "declaration_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("declaration_id", "version", name="uq_declaration_events_version"),
        Index("ix_declaration_events_at", "at"),
    )


class OutboxRow(Base):
    """Work a transition asked for, committed with it; the relay publishes and marks it sent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    queue_name: Mapped[str] = mapped_column(String(100))
    actor_name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)  # JSON {"args": [...], "kwargs": {...}}
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    publish_attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "available_at",
            postgresql_where=text("sent_at IS NULL"),
            sqlite_where=text("sent_at IS NULL"),
        ),
    )


class ProcessedMessage(Base):
    """Work whose effect is committed (keyed by work id); a redelivered message is skipped."""

    __tablename__ = "processed_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the work id
    actor_name: Mapped[str] = mapped_column(String(100))
    processed_at: Mapped[datetime]


class IdempotencyKey(Base):
    """A create request already answered, so a retried POST returns the same resource."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime]


class DeclarationNumber(Base):
    """Counters behind human-readable declaration numbers, per gate and year."""

    __tablename__ = "declaration_numbers"

    gate: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class WatchlistEntryRow(Base):
    """A plate or travel document the border guard watches, until it expires or is removed."""

    __tablename__ = "watchlist_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # plate | document
    value: Mapped[str] = mapped_column(String(40))
    value_key: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]
    removed_by: Mapped[str | None] = mapped_column(String(100))
    removal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_watchlist_entries_key", "kind", "value_key"),)


class CheckFailureRow(Base):
    """An automated check that kept failing after its retries: shown to admins, retryable."""

    __tablename__ = "check_failures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    work_id: Mapped[str] = mapped_column(String(36), index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    queue_name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    agency: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open | retried | resolved
    failed_at: Mapped[datetime]
    retried_at: Mapped[datetime | None]
    retried_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_check_failures_status", "status", "failed_at"),)


class DocumentRow(Base):
    """A signed document the platform issued: what it is, where its bytes are, whether current."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    declaration_id: Mapped[str | None] = mapped_column(ForeignKey("declarations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # current | superseded | revoked
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    storage: Mapped[str] = mapped_column(String(16))  # database | directory
    storage_key: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(100))
    declaration_version: Mapped[int | None] = mapped_column(Integer)
    # What the public verify page may show, fixed when issued (no cargo values, no consignee).
    declaration_number: Mapped[str | None] = mapped_column(String(40))
    plate: Mapped[str | None] = mapped_column(String(16))
    gate: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(200))
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    status_changed_at: Mapped[datetime | None]
    status_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_documents_declaration", "declaration_id", "kind", "stage", "status"),
    )


class DocumentBlob(Base):
    """The exact signed bytes, when documents are stored in the database."""

    __tablename__ = "document_blobs"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class FarSideQuotaRow(Base):
    """A daily quota the far side accepts, set by the management board; the latest row wins.

    Append-only: every change stays, with who set it, when and why.
    """

    __tablename__ = "far_side_quotas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gate: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]
    quota: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime]

    __table_args__ = (Index("ix_far_side_quotas_day", "gate", "direction", "day", "id"),)


class SlotCounterRow(Base):
    """Bookings held per arrival slot; the conditional increment is what makes the last slot
    go to exactly one of two racing firms."""

    __tablename__ = "slot_counters"

    gate: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(Integer)


class CallCounterRow(Base):
    """Trucks released toward the far side per local day (called forward or gated in)."""

    __tablename__ = "call_counters"

    gate: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    called: Mapped[int] = mapped_column(Integer)


class QueueCreditRow(Base):
    """The queue's round-robin credit per lane, kept between recomputes (workflows/queueing.py)."""

    __tablename__ = "queue_lane_credits"

    gate: Mapped[str] = mapped_column(String(32), primary_key=True)
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    credits: Mapped[str] = mapped_column(Text)  # JSON {lane: credit}
    updated_at: Mapped[datetime]
