"""Tables of the notifications: firms' webhook endpoints, deliveries, and each attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from border_gate.db.models import Base
from border_gate.db.types import BigId


class WebhookEndpoint(Base):
    """Where a firm wants to hear about its declarations, and which topics."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    topics: Mapped[str] = mapped_column(Text)  # JSON list of topic names
    description: Mapped[str | None] = mapped_column(String(200))
    # Kept to sign each delivery (HMAC needs the secret itself); shown once at creation.
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None]  # deleted endpoints keep their log but get nothing


class WebhookDelivery(Base):
    """One notice for one endpoint; its id is the idempotency key receivers de-duplicate on."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    topic: Mapped[str] = mapped_column(String(40))
    declaration_id: Mapped[str | None] = mapped_column(String(36))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body every attempt sends
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery: what the receiver answered, or why it failed."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
