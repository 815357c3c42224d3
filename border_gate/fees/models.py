"""Tables of the fees: one charge per declaration (made at gate-in) and the payments of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from border_gate.db.models import Base


class FeeCharge(Base):
    """The infrastructure fee a truck owes, charged in its gate-in's transaction."""

    __tablename__ = "fee_charges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Unique: a declaration is charged exactly once, whatever retries the gate-in sees.
    declaration_id: Mapped[str] = mapped_column(ForeignKey("declarations.id"), unique=True)
    organisation: Mapped[str] = mapped_column(String(32))
    gate: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(16))
    vehicle_type: Mapped[str] = mapped_column(String(20))
    gross_weight_kg: Mapped[float] = mapped_column(Double)
    tariff_rule: Mapped[str] = mapped_column(String(220))  # "vi / en" of the rule applied
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # due | paid
    charged_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    payment_reference: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_fee_charges_gate_charged", "gate", "charged_at"),)


class FeePayment(Base):
    """A payment the provider reported, keyed by its reference (the idempotency key)."""

    __tablename__ = "fee_payments"

    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    charge_id: Mapped[str] = mapped_column(ForeignKey("fee_charges.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime]  # as the provider says
    received_at: Mapped[datetime]  # when the callback reached us
