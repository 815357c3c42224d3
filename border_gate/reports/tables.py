"""Rollup (fact) tables behind the reports, maintained in each transition's transaction.

They are derived data: `border-gate reports rebuild` recomputes them from the event log.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Boolean, Double, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from border_gate.db.models import Base


class StageVisitRow(Base):
    """One opening of one agency stage for one declaration, until it was decided or closed.

    A stage opened again (after an amendment, or closed and reopened) is a new visit; the
    visit is keyed by the version of the event that opened it.
    """

    __tablename__ = "report_stage_visits"

    declaration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    gate: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime]
    started_at: Mapped[datetime | None]  # an officer took it (start_review)
    closed_at: Mapped[datetime | None]
    #: approved | rejected | amendment_requested (decisions) or closed | stopped (not decisions)
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    total_seconds: Mapped[float | None] = mapped_column(Double)
    waiting_seconds: Mapped[float | None] = mapped_column(Double)
    working_seconds: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (
        Index("ix_report_stage_visits_gate_closed", "gate", "closed_at"),
        Index(
            "ix_report_stage_visits_open",
            "gate",
            "stage",
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )


class JourneyRow(Base):
    """One declaration's milestones, for end-to-end times and the yard queue."""

    __tablename__ = "report_journeys"

    declaration_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    gate: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(10))
    filed_at: Mapped[datetime]
    declared_at: Mapped[datetime | None]  # first submission
    arrived_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]  # gate-out, crossed or turned back
    #: departed | turned_back | rejected | cancelled, once the journey ended
    outcome: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_report_journeys_gate_left", "gate", "left_at"),
        Index(
            "ix_report_journeys_in_yard",
            "gate",
            "arrived_at",
            postgresql_where=text("arrived_at IS NOT NULL AND left_at IS NULL"),
            sqlite_where=text("arrived_at IS NOT NULL AND left_at IS NULL"),
        ),
    )


class HourlyCountRow(Base):
    """How many times `metric` happened at a gate, per direction and UTC hour."""

    __tablename__ = "report_hourly_counts"

    gate: Mapped[str] = mapped_column(String(32), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # UTC, start of the hour
    direction: Mapped[str] = mapped_column(String(10), primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


#: The tables for Core statements (insert/update/select without the ORM).
VISITS = cast(Table, StageVisitRow.__table__)
JOURNEYS = cast(Table, JourneyRow.__table__)
HOURLY = cast(Table, HourlyCountRow.__table__)
REPORT_TABLES = (VISITS, JOURNEYS, HOURLY)
