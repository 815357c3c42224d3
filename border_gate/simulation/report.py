"""What a finished simulation prints: its tally and the throughput report of its window."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from border_gate.reports.query import MAX_SPAN, ReportQuery
from border_gate.reports.schemas import ThroughputReport
from border_gate.reports.service import throughput_report
from workflows.labels import STATUS_LABELS
from workflows.model import Status


async def summary(simulation: Any, tally: Any) -> str:
    counts = await simulation.counts()
    gate = simulation.gate
    start = simulation.start.astimezone(gate.zone)
    end = simulation.end.astimezone(gate.zone)
    lines = [
        "",
        f"Mô phỏng / simulation: {gate.name_vi} ({gate.code}), {start:%d/%m/%Y %H:%M} – {end:%H:%M} "
        f"(UTC{start:%z})",
        f"  xe đã khai / trucks filed: {tally.filed}; vào bãi / gated in: {tally.gated_in}; "
        f"qua cửa khẩu / departed: {tally.departed}; đã nộp phí / fees paid: {tally.fees_paid}",
        "  quyết định / decisions: "
        + ", ".join(f"{name} {n}" for name, n in sorted(tally.decisions.items())),
        "  trạng thái cuối / final status: "
        + ", ".join(
            f"{STATUS_LABELS[s][1].lower()} {counts[s.value]}" for s in Status if counts[s.value]
        ),
    ]
    report = await throughput_report(simulation.platform, None, window_query(simulation))
    lines.extend(throughput_lines(report))
    return "\n".join(lines)


def window_query(simulation: Any) -> ReportQuery:
    """The simulated window, widened to whole hours (reports count per hour)."""
    start = simulation.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = simulation.end.astimezone(UTC)
    if end.minute or end.second or end.microsecond:
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    granularity = "hour" if end - start <= timedelta(days=2) else "day"
    end = min(end, start + MAX_SPAN[granularity])
    return ReportQuery(simulation.gate, None, start, end, granularity)


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}"


def throughput_lines(report: ThroughputReport) -> list[str]:
    """The throughput report in a few lines: totals, per stage median/p90, bottleneck."""
    t = report.totals
    lines = [
        "",
        f"Báo cáo thông quan / throughput report {report.gate}, "
        f"{report.from_:%d/%m %H:%M} – {report.to:%d/%m %H:%M} (UTC{report.from_:%z}):",
        f"  khai / declared {t.declared}, vào bãi / arrived {t.arrived}, thông quan / cleared "
        f"{t.cleared}, qua / departed {t.departed}, từ chối / rejected {t.rejected}, "
        f"huỷ / cancelled {t.cancelled}",
        "  giai đoạn / stage: quyết định / decisions, trung vị / median, p90 (phút / minutes)",
    ]
    for stage in report.stages:
        lines.append(
            f"    {stage.label_en:<18} n={stage.decisions:<5} (+{stage.automatic_decisions} auto) "
            f"median {_minutes(stage.median_seconds):>6}  p90 {_minutes(stage.p90_seconds):>6}  "
            f"chờ / waiting {_minutes(stage.waiting_median_seconds):>6}  "
            f"xử lý / working {_minutes(stage.working_median_seconds):>6}"
        )
    bottleneck = next((s for s in report.stages if s.stage == report.bottleneck), None)
    lines.append(
        "  điểm nghẽn / bottleneck: "
        + (f"{bottleneck.label_vi} / {bottleneck.label_en}" if bottleneck else "—")
    )
    crossing = report.end_to_end.arrival_to_departure
    lines.append(
        f"  vào bãi → qua cửa khẩu / arrival → departure: trung vị / median "
        f"{_minutes(crossing.median_seconds)} min, p90 {_minutes(crossing.p90_seconds)} min "
        f"(n={crossing.count})"
    )
    return lines
