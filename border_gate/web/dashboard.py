"""Management's dashboard per gate (charts, bottleneck, report links) and the admin's failed checks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from border_gate.platform import Platform
from border_gate.reports.controller import csv_response, pdf_response
from border_gate.reports.schemas import ThroughputReport
from border_gate.reports.service import throughput_report
from border_gate.screening import service as screening
from border_gate.web import i18n
from border_gate.web.charts import Series, area_line, grouped_bars, horizontal_bars
from border_gate.web.dashboard_data import (
    DEFAULT_PERIOD,
    PERIODS,
    DashboardFigures,
    dashboard_figures,
    report_query,
)
from border_gate.web.render import BOARD_ROLES, redirect, render, set_flash, viewer
from workflows.roles import Role

ADMIN = frozenset({Role.ADMIN})


def report_links(gate: str, period: str) -> list[tuple[str, str]]:
    """The period's throughput report to download with the page's session (text key, URL)."""
    query = urlencode({"gate": gate, "period": period})
    return [
        ("dash.report_csv", f"/dashboard/throughput.csv?{query}"),
        ("dash.report_pdf", f"/dashboard/throughput.pdf?{query}"),
    ]


def _labels(figures: DashboardFigures) -> list[str]:
    hourly = figures.period == "24h"
    return [b.start.strftime("%H:%M" if hourly else "%d/%m") for b in figures.buckets]


def charts(figures: DashboardFigures, lang: str) -> dict[str, Any]:
    t = lambda key: i18n.text(key, lang)  # noqa: E731 - a short local alias keeps the calls readable
    labels = _labels(figures)
    throughput = grouped_bars(
        labels,
        [
            Series(t("dash.declared"), "s1", [b.declared for b in figures.buckets]),
            Series(t("dash.arrived"), "s2", [b.arrived for b in figures.buckets]),
            Series(t("dash.cleared"), "s3", [b.cleared for b in figures.buckets]),
            Series(t("dash.departed"), "s4", [b.departed for b in figures.buckets]),
        ],
        title=t("dash.throughput"),
        desc=f"{t('dash.declared')}, {t('dash.arrived')}, {t('dash.cleared')}, {t('dash.departed')}",
        chart_id="chart-throughput",
    )
    minutes = t("dash.minutes")
    rows = []
    for figure in figures.stages:
        median = figure.median_minutes
        note = f"{median:.0f} {minutes} · n={figure.decisions}" if median is not None else "—"
        rows.append(
            (
                i18n.stage_label(figure.stage, lang),
                median,
                note,
                figure.stage == figures.bottleneck,
            )
        )
    stage_time = horizontal_bars(
        rows, title=t("dash.stage_time"), desc=t("dash.stage_time_note"), chart_id="chart-stages"
    )
    queue = area_line(
        labels,
        [b.in_yard for b in figures.buckets],
        title=t("dash.queue"),
        desc=t("dash.queue"),
        chart_id="chart-queue",
    )
    return {"throughput": throughput, "stage_time": stage_time, "queue": queue}


class DashboardPages(Controller):
    path = "/"
    opt = {"roles": BOARD_ROLES}

    @get("/dashboard", name="page-dashboard")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        period: Annotated[str, Parameter(pattern=r"^(24h|7d|30d)$")] = DEFAULT_PERIOD,
    ) -> Any:
        user = viewer(request)
        assert user is not None
        code = (gate or platform.gates.codes[0]).upper()
        chosen = platform.gates.get(code) if code in platform.gates else next(iter(platform.gates))
        figures = await dashboard_figures(platform, chosen, period, platform.now())
        lang = i18n.language_of(request)
        failures = (
            await screening.list_check_failures(platform, user, status="open", limit=100)
            if user.role is Role.ADMIN
            else None
        )
        return render(
            request,
            "dashboard.html",
            gate=chosen,
            zone=chosen.zone,
            figures=figures,
            charts=charts(figures, lang),
            periods=list(PERIODS),
            period=figures.period,
            reports=report_links(chosen.code, figures.period),
            failures=failures,
            labels=_labels(figures),
        )

    async def _report(
        self, request: Request[Any, Any, Any], platform: Platform, gate: str | None, period: str
    ) -> ThroughputReport:
        user = viewer(request)
        assert user is not None
        code = (gate or platform.gates.codes[0]).upper()
        chosen = platform.gates.get(code) if code in platform.gates else next(iter(platform.gates))
        query = report_query(chosen, period, platform.now())
        return await throughput_report(platform, user, query)

    @get("/dashboard/throughput.csv", name="page-report-csv")
    async def report_csv(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        period: Annotated[str, Parameter(pattern=r"^(24h|7d|30d)$")] = DEFAULT_PERIOD,
    ) -> Response[str]:
        return csv_response(await self._report(request, platform, gate, period))

    @get("/dashboard/throughput.pdf", name="page-report-pdf")
    async def report_pdf(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        period: Annotated[str, Parameter(pattern=r"^(24h|7d|30d)$")] = DEFAULT_PERIOD,
    ) -> Response[bytes]:
        return await pdf_response(platform, await self._report(request, platform, gate, period))

    @post(
        "/admin/check-failures/{failure_id:str}/retry",
        name="page-check-retry",
        opt={"roles": ADMIN},
    )
    async def retry(
        self, request: Request[Any, Any, Any], platform: Platform, failure_id: str
    ) -> Any:
        user = viewer(request)
        assert user is not None
        await screening.retry_check_failure(platform, user, failure_id)
        set_flash(request, i18n.TEXTS["dash.retried"])
        posted = await request.form()
        gate = str(posted.get("gate", ""))
        return redirect(f"/dashboard?{urlencode({'gate': gate})}" if gate else "/dashboard")
