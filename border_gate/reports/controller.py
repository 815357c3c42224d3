"""HTTP: the throughput report (JSON, CSV, signed PDF) and the public open data."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import QueryParameter

from border_gate.api.http import current_user
from border_gate.platform import Platform
from border_gate.reports.exports import open_data_csv, report_csv, report_pdf
from border_gate.reports.query import parse_gate, parse_open_data_days, parse_report_query
from border_gate.reports.schemas import OpenData, ThroughputReport
from border_gate.reports.service import open_data_daily, throughput_report

JSON, CSV, PDF = "application/json", "text/csv", "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"

# Lengths and formats are checked by reports/query.py, so every wrong value is a 400
# problem that names the parameter (the framework's own check would answer 422).
Text64 = str | None
From = Annotated[str | None, QueryParameter(name="from")]
To = Annotated[str | None, QueryParameter(name="to")]


def wanted(request: Request[Any, Any, Any], *choices: str) -> str:
    return request.accept.best_match(list(choices), default=choices[0]) or choices[0]


async def provide_report(
    request: Request[Any, Any, Any],
    platform: Platform,
    gate: Text64 = None,
    direction: Text64 = None,
    start: From = None,
    end: To = None,
    granularity: Text64 = None,
) -> ThroughputReport:
    """The report the query asks for, for whoever asks: one dependency for every format."""
    query = parse_report_query(
        platform, gate=gate, direction=direction, start=start, end=end, granularity=granularity
    )
    return await throughput_report(platform, current_user(request), query)


def file_name(report: ThroughputReport, extension: str) -> str:
    return f"throughput-{report.gate}-{report.from_:%Y%m%d%H}-{report.to:%Y%m%d%H}.{extension}"


def csv_response(report: ThroughputReport) -> Response[str]:
    return Response(
        report_csv(report),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{file_name(report, "csv")}"'},
    )


async def pdf_response(platform: Platform, report: ThroughputReport) -> Response[bytes]:
    document_id, pdf = await report_pdf(platform, report)
    return Response(
        pdf,
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(report, "pdf")}"',
            "X-Document-Id": document_id,
        },
    )


class ReportController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    dependencies = {"report": Provide(provide_report)}

    @get(
        "/throughput",
        summary="Throughput report per gate and period (management, admin; officers: own stage)",
        description="JSON by default; `Accept: text/csv` for CSV, `Accept: application/pdf` "
        "for the signed PDF with charts. `from`/`to`: a local date (to inclusive) or an "
        "ISO 8601 time on a whole hour.",
    )
    async def throughput(
        self, request: Request[Any, Any, Any], platform: Platform, report: ThroughputReport
    ) -> Response[Any]:
        kind = wanted(request, JSON, CSV, PDF)
        if kind == CSV:
            return csv_response(report)
        if kind == PDF:
            return await pdf_response(platform, report)
        return Response(report, media_type=JSON)

    @get("/throughput.csv", summary="The throughput report as CSV")
    async def throughput_csv(self, report: ThroughputReport) -> Response[str]:
        return csv_response(report)

    @get("/throughput.pdf", summary="The throughput report as a signed PDF with charts")
    async def throughput_pdf(self, platform: Platform, report: ThroughputReport) -> Response[bytes]:
        return await pdf_response(platform, report)


class OpenDataController(Controller):
    path = "/api/v1/open-data"
    tags = ["open data"]
    opt = {"exclude_from_auth": True}

    async def _data(
        self, platform: Platform, gate: str | None, start: str | None, end: str | None
    ) -> OpenData:
        chosen = parse_gate(platform, gate, required=False)
        first, last = parse_open_data_days(platform, chosen, start, end)
        return await open_data_daily(platform, chosen, first, last)

    @get(
        "/daily",
        summary="Public: per gate and local day, counts and median times (no firm, truck or person)",
    )
    async def daily(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Text64 = None,
        start: From = None,
        end: To = None,
    ) -> Response[Any]:
        data = await self._data(platform, gate, start, end)
        if wanted(request, JSON, CSV) == CSV:
            return Response(open_data_csv(data), media_type=CSV_TYPE)
        return Response(data, media_type=JSON)

    @get("/daily.csv", summary="Public: the daily open data as CSV")
    async def daily_csv(
        self,
        platform: Platform,
        gate: Text64 = None,
        start: From = None,
        end: To = None,
    ) -> Response[str]:
        data = await self._data(platform, gate, start, end)
        return Response(
            open_data_csv(data),
            media_type=CSV_TYPE,
            headers={"Content-Disposition": 'attachment; filename="open-data-daily.csv"'},
        )
