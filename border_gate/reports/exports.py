"""The throughput report as CSV and as a signed PDF with SVG charts; the open data as CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from border_gate.db.models import DocumentRow
from border_gate.ids import new_id
from border_gate.platform import Platform
from border_gate.reports.schemas import OpenData, ThroughputReport

#: Excel needs the byte-order mark to read UTF-8 (Vietnamese) correctly.
CSV_BOM = "\ufeff"
REPORT_PDF_ISSUER = "Ban quản lý KKT cửa khẩu / Border gate authority"
#: The web charts take their colours from the page's stylesheet; a PDF has none of it, so
#: the classes become presentation attributes.
_CHART_STYLE = {
    'class="s1"': 'fill="#0a6ebd"',
    'class="s2"': 'fill="#2e9e5b"',
    'class="s3"': 'fill="#c9822b"',
    'class="s4"': 'fill="#b8323c"',
    'class="grid"': 'stroke="#d8dee4" stroke-width="1"',
    'class="tick"': 'font-size="11" fill="#555555"',
    'class="legend"': 'font-size="12" fill="#222222"',
    'class="area"': 'fill="#0a6ebd" fill-opacity="0.15"',
    'class="line"': 'fill="none" stroke="#0a6ebd" stroke-width="2.5"',
    'class="dot"': 'fill="#0a6ebd"',
}
_CLASS = re.compile("|".join(re.escape(k) for k in _CHART_STYLE))


def _seconds_text(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value / 60:.1f}"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f} %"


def _rows(report: ThroughputReport) -> Iterable[list[Any]]:
    """The CSV: sections one under another, each with its own header row."""
    yield ["# Báo cáo thông quan / throughput report", report.gate, report.gate_name_en]
    yield ["# từ / from", report.from_.isoformat(), "đến / to", report.to.isoformat()]
    yield ["# hướng / direction", report.direction or "all", "múi giờ / zone", report.timezone]
    yield []
    yield ["section", "metric", "value"]
    for name in report.totals.__struct_fields__:
        yield ["totals", name, getattr(report.totals, name)]
    yield ["totals", "bottleneck", report.bottleneck or ""]
    yield []
    yield [
        "section",
        "bucket_start",
        "bucket_end",
        "declared",
        "arrived",
        "cleared",
        "departed",
        "rejected",
        "cancelled",
        "in_yard",
    ]
    for b in report.buckets:
        yield [
            "buckets",
            b.start.isoformat(),
            b.end.isoformat(),
            b.declared,
            b.arrived,
            b.cleared,
            b.departed,
            b.rejected,
            b.cancelled,
            b.in_yard,
        ]
    yield []
    yield [
        "section",
        "stage",
        "decisions",
        "automatic_decisions",
        "median_seconds",
        "p90_seconds",
        "p95_seconds",
        "waiting_median_seconds",
        "working_median_seconds",
        "waiting_total_seconds",
        "working_total_seconds",
        "sla_target_seconds",
        "within_target_share",
        "open_at_end",
    ]
    for s in report.stages:
        yield [
            "stages",
            s.stage,
            s.decisions,
            s.automatic_decisions,
            _seconds_text(s.median_seconds),
            _seconds_text(s.p90_seconds),
            _seconds_text(s.p95_seconds),
            _seconds_text(s.waiting_median_seconds),
            _seconds_text(s.working_median_seconds),
            _seconds_text(s.waiting_total_seconds),
            _seconds_text(s.working_total_seconds),
            _seconds_text(s.sla_target_seconds),
            "" if s.within_target_share is None else f"{s.within_target_share:.4f}",
            s.open_at_end,
        ]
    yield []
    yield ["section", "span", "count", "median_seconds", "p90_seconds", "p95_seconds"]
    for name in report.end_to_end.__struct_fields__:
        t = getattr(report.end_to_end, name)
        yield [
            "end_to_end",
            name,
            t.count,
            _seconds_text(t.median_seconds),
            _seconds_text(t.p90_seconds),
            _seconds_text(t.p95_seconds),
        ]
    yield []
    yield ["section", "stage", "outcome", "reason", "count"]
    for r in report.reasons:
        yield ["reasons", r.stage, r.outcome, r.reason, r.count]
    for section in report.sections:
        yield []
        yield ["section", *section.columns]
        for row in section.rows:
            yield [section.key, *row]


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def report_csv(report: ThroughputReport) -> str:
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    for row in _rows(report):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def open_data_csv(data: OpenData) -> str:
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    stages = list(data.days[0].median_stage_seconds) if data.days else []
    writer.writerow(
        [
            "gate",
            "date",
            "declared",
            "arrived",
            "cleared",
            "departed",
            "rejected",
            "cancelled",
            "median_arrival_to_departure_seconds",
            *(f"median_{s}_seconds" for s in stages),
        ]
    )
    for day in data.days:
        writer.writerow(
            [
                day.gate,
                day.date.isoformat(),
                day.declared,
                day.arrived,
                day.cleared,
                day.departed,
                day.rejected,
                day.cancelled,
                _seconds_text(day.median_arrival_to_departure_seconds),
                *(_seconds_text(day.median_stage_seconds[s]) for s in stages),
            ]
        )
    return out.getvalue()


# --- PDF -----------------------------------------------------------------------------------


def pdf_chart(svg: str) -> str:
    return _CLASS.sub(lambda m: _CHART_STYLE[m.group(0)], str(svg))


def _label(moment: datetime, granularity: str) -> str:
    return moment.strftime("%H:%M" if granularity == "hour" else "%d/%m")


def report_content(platform: Platform, report: ThroughputReport, document_id: str) -> Any:
    """The report as the document library's ReportContent: sections of charts and tables."""
    from border_gate.documents.content import ReportContent, ReportSection, ReportTable

    # Imported here: the web package imports the reports for its dashboard.
    from border_gate.web.charts import Series, area_line, grouped_bars, horizontal_bars

    labels = [_label(b.start, report.granularity) for b in report.buckets]
    t = report.totals
    summary = ReportTable(
        columns=["Chỉ số / measure", "Số / count"],
        rows=[
            ["Đã khai / declared", str(t.declared)],
            ["Đã vào bãi / arrived", str(t.arrived)],
            ["Đã thông quan / cleared", str(t.cleared)],
            ["Đã xuất/nhập cảnh / departed", str(t.departed)],
            ["Bị từ chối / rejected", str(t.rejected)],
            ["Quay đầu / turned back", str(t.turned_back)],
            ["Đã huỷ / cancelled", str(t.cancelled)],
            ["Yêu cầu bổ sung / amendments requested", str(t.amendment_requested)],
        ],
        numeric_columns=[1],
    )
    bottleneck = next((s for s in report.stages if s.stage == report.bottleneck), None)
    throughput_chart = grouped_bars(
        labels,
        [
            Series("Khai / declared", "s1", [b.declared for b in report.buckets]),
            Series("Vào bãi / arrived", "s2", [b.arrived for b in report.buckets]),
            Series("Thông quan / cleared", "s3", [b.cleared for b in report.buckets]),
            Series("Qua cửa khẩu / departed", "s4", [b.departed for b in report.buckets]),
        ],
        title="Lưu lượng / throughput",
        desc="declared, arrived, cleared, departed per period",
        chart_id="pdf-throughput",
    )
    stage_chart = horizontal_bars(
        [
            (
                s.label_vi,  # the chart's label column is narrow; the table is bilingual
                (s.median_seconds or 0) / 60,
                f"{_minutes(s.median_seconds)} min · n={s.decisions}",
                s.stage == report.bottleneck,
            )
            for s in report.stages
        ],
        title="Thời gian trung vị mỗi giai đoạn (phút) / median time per stage (minutes)",
        desc="median minutes from opening to decision",
        chart_id="pdf-stages",
    )
    queue_chart = area_line(
        labels,
        [b.in_yard for b in report.buckets],
        title="Xe trong bãi / trucks in the yard",
        desc="trucks in the yard at the end of each period",
        chart_id="pdf-queue",
    )
    stage_table = ReportTable(
        caption="Phút; chờ và xử lý là trung vị / minutes; waiting and working are medians",
        columns=[
            "Giai đoạn / stage",
            "Số QĐ / n",
            "Trung vị / median",
            "P90",
            "P95",
            "Chờ / wait",
            "Xử lý / work",
            "Đúng hạn / on time",
        ],
        rows=[
            [
                f"{s.label_vi} / {s.label_en}",
                f"{s.decisions} (+{s.automatic_decisions} auto)",
                _minutes(s.median_seconds),
                _minutes(s.p90_seconds),
                _minutes(s.p95_seconds),
                _minutes(s.waiting_median_seconds),
                _minutes(s.working_median_seconds),
                _share(s.within_target_share),
            ]
            for s in report.stages
        ],
        numeric_columns=[1, 2, 3, 4, 5, 6, 7],
    )
    e2e = report.end_to_end
    e2e_table = ReportTable(
        caption="Phút / minutes",
        columns=["Khoảng / span", "Số xe / trucks", "Trung vị / median", "P90", "P95"],
        rows=[
            [
                name,
                str(times.count),
                _minutes(times.median_seconds),
                _minutes(times.p90_seconds),
                _minutes(times.p95_seconds),
            ]
            for name, times in (
                ("Vào bãi → qua cửa khẩu / arrival → departure", e2e.arrival_to_departure),
                ("Vào bãi → thông quan / arrival → clearance", e2e.arrival_to_clearance),
                ("Khai → qua cửa khẩu / declared → departure", e2e.declared_to_departure),
            )
        ],
        numeric_columns=[1, 2, 3, 4],
    )
    sections = [
        ReportSection(
            heading_vi="Tổng hợp",
            heading_en="Summary",
            paragraphs=[
                (
                    f"Điểm nghẽn / bottleneck: {bottleneck.label_vi} / {bottleneck.label_en}"
                    if bottleneck
                    else "Không có điểm nghẽn trong kỳ / no bottleneck in the period"
                ),
                f"Chuẩn đúng hạn / service-level bar: {report.service_level_bar * 100:.1f} %",
            ],
            tables=[summary],
        ),
        ReportSection(
            heading_vi="Lưu lượng theo thời gian",
            heading_en="Throughput over time",
            charts_svg=[pdf_chart(throughput_chart), pdf_chart(queue_chart)],
        ),
        ReportSection(
            heading_vi="Thời gian từng giai đoạn",
            heading_en="Time per stage",
            paragraphs=[
                "Chờ: từ khi giai đoạn mở đến khi cán bộ nhận xử lý; xử lý: từ đó đến khi quyết định "
                "/ waiting: from the stage opening until an officer took it; working: from then "
                "until the decision"
            ],
            charts_svg=[pdf_chart(stage_chart)],
            tables=[stage_table, e2e_table],
        ),
    ]
    if report.reasons:
        sections.append(
            ReportSection(
                heading_vi="Lý do từ chối và yêu cầu bổ sung",
                heading_en="Reasons for rejection and amendment",
                tables=[
                    ReportTable(
                        columns=[
                            "Giai đoạn / stage",
                            "Kết quả / outcome",
                            "Lý do / reason",
                            "Số / count",
                        ],
                        rows=[
                            [r.stage, r.outcome, r.reason[:300], str(r.count)]
                            for r in report.reasons
                        ],
                        numeric_columns=[3],
                    )
                ],
            )
        )
    for extra in report.sections:
        sections.append(
            ReportSection(
                heading_vi=extra.title_vi,
                heading_en=extra.title_en,
                tables=[
                    ReportTable(
                        columns=extra.columns,
                        rows=[["" if v is None else str(v) for v in row] for row in extra.rows],
                    )
                ],
            )
        )
    zone = platform.gates.get(report.gate).zone
    return ReportContent(
        document_id=document_id,
        title_vi="Báo cáo thông quan",
        title_en="Throughput report",
        issued_at=platform.now(),
        issuer=REPORT_PDF_ISSUER,
        verify_url=f"{platform.settings.public_url}/verify/{document_id}",
        period=(
            f"{report.from_.astimezone(zone):%d/%m/%Y %H:%M} – "
            f"{report.to.astimezone(zone):%d/%m/%Y %H:%M}"
        ),
        gate_code=report.gate,
        gate_name_vi=report.gate_name_vi,
        gate_name_en=report.gate_name_en,
        sections=sections,
        timezone=report.timezone,
    )


async def report_pdf(platform: Platform, report: ThroughputReport) -> tuple[str, bytes]:
    """Render and sign the report (off the event loop), store it so its QR verifies.

    Returns (document id, signed PDF bytes).
    """
    from border_gate.documents.pipeline import produce

    document_id = new_id()
    content = report_content(platform, report, document_id)
    produced = await asyncio.to_thread(produce, content, platform.authority())
    store = platform.document_store()
    async with platform.unit_of_work() as uow:
        uow.session.add(
            DocumentRow(
                id=document_id,
                declaration_id=None,
                kind="report",
                stage=None,
                status="current",
                sha256=produced.sha256,
                size=produced.size,
                storage=store.name,
                storage_key=document_id,
                issued_at=content.issued_at,
                issued_by=content.issuer,
                gate=report.gate,
                title=f"Báo cáo thông quan / throughput report {content.period}"[:200],
            )
        )
        await uow.session.flush()
        await store.put(uow.session, document_id, produced.pdf)
        await uow.commit()
    return produced.document_id, produced.pdf
