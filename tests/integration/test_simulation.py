"""The traffic simulator drives trucks through the real services, on a compressed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from border_gate.audit import verify_all
from border_gate.db.models import DeclarationRow, EventRow
from border_gate.fees.models import FeeCharge
from border_gate.platform import build_platform
from border_gate.reports.query import ReportQuery
from border_gate.reports.service import throughput_report
from border_gate.simulation.command import run_simulation
from border_gate.simulation.runner import SimulationConfig
from border_gate.simulation.traffic import firms, trucks
from tests.conftest import make_settings


def test_traffic_is_reproducible_and_plausible() -> None:
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    day = trucks(7, 300, gate="HUU_NGHI", start=start, hours=12, firm_list=firms())
    again = trucks(7, 300, gate="HUU_NGHI", start=start, hours=12, firm_list=firms())
    assert [t.body for t in day] == [t.body for t in again]
    assert len({t.plate for t in day}) == 300
    exports = sum(t.direction.value == "export" for t in day)
    assert 150 < exports < 240
    assert all(start <= t.filing <= t.arrival <= start + timedelta(hours=12) for t in day)
    described = {t.body["cargo"][0]["description"] for t in day}
    assert {
        "Sầu riêng tươi",
        "Thanh long ruột đỏ",
        "Sắn lát khô",
        "Máy móc, thiết bị công nghiệp",
    } <= described


async def test_a_simulated_morning_moves_trucks_through_every_stage(
    tmp_path: Path, sqlite_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path, sqlite_database, WORKER_THREADS="4")
    config = SimulationConfig(
        gate="HUU_NGHI", trucks=25, hours=3, speedup=450, seed=11, progress=False
    )
    assert await run_simulation(settings, config) == 0
    platform = build_platform(settings)
    try:
        async with platform.unit_of_work() as uow:
            statuses = dict(
                (
                    await uow.session.execute(
                        select(DeclarationRow.status, func.count()).group_by(DeclarationRow.status)
                    )
                ).all()
            )
            first, last = (
                await uow.session.execute(select(func.min(EventRow.at), func.max(EventRow.at)))
            ).one()
        assert sum(statuses.values()) == 25
        # trucks reached the end of the line (how many depends on how fast this machine is)
        assert statuses.get("departed", 0) + statuses.get("cleared", 0) >= 3, statuses
        assert statuses.get("in_yard", 0) + statuses.get("departed", 0) >= 10, statuses
        # everything happened in the simulated window, which ends about now
        now = datetime.now(UTC)
        assert now - timedelta(hours=3, minutes=5) <= first.replace(tzinfo=UTC)
        assert last.replace(tzinfo=UTC) <= now + timedelta(minutes=1)
        report = await verify_all(platform, progress=False)
        assert report.ok, report.summary()
        # It ends with the throughput report, whose counts match the declarations' own.
        printed = capsys.readouterr().out
        assert "throughput report HUU_NGHI" in printed and "bottleneck" in printed
        declared = sum(n for status, n in statuses.items() if status != "draft")
        assert f"declared {declared}, " in printed, printed
        assert f"departed {statuses.get('departed', 0)}, " in printed, printed
        # Recounted independently from the event log: people's decisions per stage, arrivals.
        start = first.replace(tzinfo=UTC, minute=0, second=0, microsecond=0)
        end = last.replace(tzinfo=UTC, minute=0, second=0, microsecond=0) + timedelta(hours=1)
        gate = platform.gates.get("HUU_NGHI")
        throughput = await throughput_report(
            platform, None, ReportQuery(gate, None, start, end, "hour")
        )
        async with platform.unit_of_work() as uow:
            decided = dict(
                (
                    await uow.session.execute(
                        select(EventRow.stage, func.count())
                        .where(
                            EventRow.action.in_(("approve", "reject", "request_amendment")),
                            EventRow.actor.like("user:%"),
                        )
                        .group_by(EventRow.stage)
                    )
                ).all()
            )
            gated_in = await uow.session.scalar(
                select(func.count()).where(EventRow.action == "gate_in")
            )
        assert {s.stage: s.decisions for s in throughput.stages if s.decisions} == decided
        assert throughput.totals.arrived == gated_in
        # Drivers pay at the kiosk after gate-in: paid charges add up to the tariff's amounts.
        async with platform.unit_of_work() as uow:
            charges = (await uow.session.execute(select(FeeCharge))).scalars().all()
        assert len(charges) == gated_in
        paid = [c for c in charges if c.status == "paid"]
        assert paid and all(
            c.payment_reference and c.payment_reference.startswith("SIM-") for c in paid
        )
        assert f"fees paid: {len(paid)}" in printed, printed
    finally:
        await platform.close()
