"""The fees section of the throughput report: charged, paid and outstanding per local day."""

from __future__ import annotations

from datetime import timedelta

from border_gate.db.uow import UnitOfWork
from border_gate.fees.service import daily_fee_totals
from border_gate.platform import Platform
from border_gate.reports.query import ReportQuery
from border_gate.reports.schemas import ExtraSection


async def fee_section(_platform: Platform, uow: UnitOfWork, query: ReportQuery) -> ExtraSection:
    zone = query.gate.zone
    first = query.start.astimezone(zone).date()
    last = (query.end - timedelta(microseconds=1)).astimezone(zone).date()
    days = await daily_fee_totals(uow.session, query.gate, first, last, direction=query.direction)
    rows: list[list[str | int | float | None]] = [
        [d.day.isoformat(), d.vehicles, d.charged_vnd, d.paid_vnd, d.outstanding_vnd] for d in days
    ]
    rows.append(
        [
            "Tổng / total",
            sum(d.vehicles for d in days),
            sum(d.charged_vnd for d in days),
            sum(d.paid_vnd for d in days),
            sum(d.outstanding_vnd for d in days),
        ]
    )
    return ExtraSection(
        key="fees",
        title_vi="Phí sử dụng hạ tầng theo ngày (VND)",
        title_en="Infrastructure fees per day (VND)",
        columns=["date", "vehicles", "charged_vnd", "paid_vnd", "outstanding_vnd"],
        rows=rows,
    )
