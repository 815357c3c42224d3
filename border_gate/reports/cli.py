"""`border-gate reports rebuild` (rollups from the event log) and `reports show` (a report)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def add_reports_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reports = subparsers.add_parser("reports", help="throughput reports / báo cáo thông quan")
    commands = reports.add_subparsers(dest="reports_command", required=True)
    rebuild = commands.add_parser(
        "rebuild",
        help="recompute the report rollups from the event log (after upgrading a database "
        "that already has traffic, or to check them)",
    )
    rebuild.add_argument("--batch", type=int, default=500, help="declarations per read")
    rebuild.add_argument("--quiet", action="store_true", help="no progress line")
    rebuild.set_defaults(func=cmd_reports_rebuild)
    show = commands.add_parser("show", help="print a throughput report as JSON")
    show.add_argument("--gate", required=True)
    show.add_argument("--from", dest="start")
    show.add_argument("--to", dest="end")
    show.add_argument("--direction")
    show.add_argument("--granularity")
    show.set_defaults(func=cmd_reports_show)


def cmd_reports_rebuild(args: argparse.Namespace) -> int:
    from border_gate.cli import _run, _settings, _with_platform, ensure_schema
    from border_gate.reports.rollups import rebuild_rollups

    settings = _settings()
    ensure_schema(settings)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(
                f"\r  tờ khai / declarations {done:,} / {total:,} ({rate:,.0f}/s)",
                end="",
                file=sys.stderr,
                flush=True,
            )

    async def body(platform: Any) -> int:
        done = await rebuild_rollups(platform.unit_of_work, batch=args.batch, progress=progress)
        if not args.quiet:
            print(file=sys.stderr)
        print(
            f"Đã dựng lại số liệu báo cáo từ {done:,} tờ khai / rebuilt the report rollups "
            f"from {done:,} declarations in {time.perf_counter() - started:.1f} s"
        )
        return 0

    return _run(_with_platform(settings, body))


def cmd_reports_show(args: argparse.Namespace) -> int:
    import msgspec

    from border_gate.cli import _run, _settings, _with_platform, ensure_schema
    from border_gate.reports.query import parse_report_query
    from border_gate.reports.service import throughput_report

    settings = _settings()
    ensure_schema(settings)

    async def body(platform: Any) -> int:
        query = parse_report_query(
            platform,
            gate=args.gate,
            direction=args.direction,
            start=args.start,
            end=args.end,
            granularity=args.granularity,
        )
        report = await throughput_report(platform, None, query)
        print(msgspec.json.format(msgspec.json.encode(report).decode(), indent=2))
        return 0

    return _run(_with_platform(settings, body))
