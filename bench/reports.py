"""Benchmark: a month's throughput report for one gate, as the history grows to 1M trucks.

    .venv/bin/python -m bench.reports [--sizes 10000,100000,1000000] [--rate 1000] [--runs 7]

For each size, in a scratch PostgreSQL database migrated to head:
1. generate N declarations at a steady rate (default 1,000 a day over the four gates, so
   1M is ~2.7 years of history) with their events and report rollups, bulk-loaded with
   COPY through asyncpg (progress printed), then ANALYZE;
2. time the report of the last 30 local days for Hữu Nghị through the real service
   (`throughput_report`): cold (first call on a new engine: empty connection pool and
   statement caches; PostgreSQL's own buffers may hold pages from the load) and warm
   (median of --runs calls), and a 7-day and a 1-day report to show the cost follows the
   period asked;
and once, the machine's ceiling in the same run: `pgbench -S` (read-only primary-key
selects) for a few seconds on a scratch database, whose latency is the floor of any query.

The generated traffic is not the simulator's: it is the shape the report reads (stage
visits with waiting and working time, green-channel automatic approvals, amendments,
rejections, cancellations), produced fast enough to reach a million trucks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.common import PG_ADMIN, PG_BASE, _admin, scratch_database
from border_gate.platform import build_platform
from border_gate.reports.changes import hour_of
from border_gate.reports.figures import local_midnight
from border_gate.reports.query import ReportQuery
from border_gate.reports.service import throughput_report
from border_gate.settings import load_settings

GATES = (("HUU_NGHI", 0.5), ("TAN_THANH", 0.25), ("CHI_MA", 0.15), ("COC_NAM", 0.10))
CHUNK = 20_000
ZONE_HOURS = 7  # Asia/Ho_Chi_Minh, for the synthetic day rhythm only
END = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=ZONE_HOURS)  # local midnight


def minutes(rng: random.Random, mean: float) -> timedelta:
    return timedelta(minutes=rng.expovariate(1 / mean))


class Generated:
    """Rows for one chunk of declarations, in COPY column order."""

    def __init__(self) -> None:
        self.declarations: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.visits: list[tuple[Any, ...]] = []
        self.journeys: list[tuple[Any, ...]] = []


DECLARATION_COLUMNS = (
    "id number organisation_code direction gate status version channel plate plate_key "
    "trailer_plate vehicle_country driver_name driver_document_number driver_nationality "
    "driver_document_expiry consignor consignee planned_arrival workflow submitted "
    "screening_round cancelled yard_position last_hash created_at updated_at submitted_at "
    "arrived_at cleared_at departed_at"
).split()
EVENT_COLUMNS = (
    "declaration_id version at actor role action stage reason data prev_hash hash".split()
)
VISIT_COLUMNS = (
    "declaration_id stage opened_version gate direction opened_at started_at closed_at outcome "
    "reason automatic total_seconds waiting_seconds working_seconds"
).split()
JOURNEY_COLUMNS = (
    "declaration_id gate direction filed_at declared_at arrived_at cleared_at left_at outcome"
).split()
WORKFLOW = (
    '{"yard":[],"customs":["yard"],"plant_quarantine":["yard"],"border_guard":'
    '["customs","plant_quarantine"]}'
)
REASONS = (
    "Thiếu hoá đơn thương mại / commercial invoice missing",
    "Sai mã HS / wrong HS code",
    "Trọng lượng không khớp / weight does not match",
)


class Trail:
    """One generated declaration's events and stage visits, as they are added."""

    def __init__(
        self,
        did: str,
        gate: str,
        direction: str,
        events: list[tuple[datetime, str, str | None, str | None]],
        visits: list[tuple[Any, ...]],
    ) -> None:
        self.did, self.gate, self.direction = did, gate, direction
        self.events, self.visits = events, visits
        self.version_of_open: dict[str, int] = {}

    def add_visit(
        self,
        stage: str,
        opened: datetime,
        waiting: timedelta,
        working: timedelta,
        result: str,
        reason: str | None = None,
        automatic: bool = False,
    ) -> datetime:
        self.events.append((opened, "open", stage, None))
        self.version_of_open[stage] = len(self.events)
        started = opened + waiting
        if not automatic:
            self.events.append((started, "start_review", stage, None))
        closed = started + working
        action = {"approved": "approve", "rejected": "reject"}.get(result, result)
        self.events.append((closed, action, stage, reason))
        self.visits.append(
            (
                self.did,
                stage,
                self.version_of_open[stage],
                self.gate,
                self.direction,
                opened,
                None if automatic else started,
                closed,
                result,
                reason,
                automatic,
                (closed - opened).total_seconds(),
                (started - opened).total_seconds(),
                (closed - started).total_seconds(),
            )
        )
        return closed


def generate(
    first: int, count: int, total: int, rate: float, rng: random.Random, counts: Counter[Any]
) -> Generated:
    out = Generated()
    span = timedelta(days=total / rate)
    start = END - span
    step = span / total
    names = [name for name, _ in GATES]
    weights = [weight for _, weight in GATES]
    for i in range(first, first + count):
        did = str(uuid.UUID(int=rng.getrandbits(128)))
        gate = rng.choices(names, weights)[0]
        direction = "export" if rng.random() < 0.7 else "import"
        filed = start + step * i + timedelta(seconds=rng.random() * 60)
        declared = filed + minutes(rng, 10)
        fate = rng.random()
        events: list[tuple[datetime, str, str | None, str | None]] = [
            (filed, "create", None, None),
            (declared, "submit", None, None),
        ]
        visits: list[tuple[Any, ...]] = []
        arrived = cleared = left = None
        outcome: str | None

        trail = Trail(did, gate, direction, events, visits)
        add_visit = trail.add_visit

        if fate < 0.02:
            outcome = "cancelled"
            events.append((declared + minutes(rng, 30), "cancel", None, None))
            counts[(gate, hour_of(events[-1][0]), direction, "cancelled")] += 1
        else:
            arrived = declared + timedelta(hours=1 + rng.random() * 5)
            events.append((arrived, "gate_in", "yard", None))
            counts[(gate, hour_of(arrived), direction, "arrived")] += 1
            green = rng.random() < 0.3
            if green:
                customs_done = add_visit(
                    "customs", arrived, timedelta(0), timedelta(0), "approved", None, True
                )
            else:
                opened = arrived
                if rng.random() < 0.03:
                    asked = add_visit(
                        "customs",
                        opened,
                        minutes(rng, 15),
                        minutes(rng, 10),
                        "amendment_requested",
                        rng.choice(REASONS),
                    )
                    counts[(gate, hour_of(asked), direction, "amendment_requested")] += 1
                    opened = asked + minutes(rng, 40)
                    events.append((opened, "submit", None, None))
                result = "rejected" if fate < 0.04 else "approved"
                customs_done = add_visit(
                    "customs",
                    opened,
                    minutes(rng, 20),
                    minutes(rng, 30),
                    result,
                    rng.choice(REASONS) if result == "rejected" else "Đạt / OK",
                )
            plant_done = arrived
            if rng.random() < 0.6 and fate >= 0.04:
                plant_done = add_visit(
                    "plant_quarantine", arrived, minutes(rng, 25), minutes(rng, 20), "approved"
                )
            if fate < 0.04:
                outcome = "turned_back"
                counts[(gate, hour_of(customs_done), direction, "rejected")] += 1
                left = customs_done + minutes(rng, 20)
                events.append((left, "gate_out", None, None))
                counts[(gate, hour_of(left), direction, "turned_back")] += 1
            else:
                guard_open = max(customs_done, plant_done)
                cleared = add_visit(
                    "border_guard", guard_open, minutes(rng, 8), minutes(rng, 4), "approved"
                )
                counts[(gate, hour_of(cleared), direction, "cleared")] += 1
                left = cleared + minutes(rng, 15)
                events.append((left, "gate_out", None, None))
                counts[(gate, hour_of(left), direction, "departed")] += 1
                outcome = "departed"
        counts[(gate, hour_of(filed), direction, "filed")] += 1
        counts[(gate, hour_of(declared), direction, "declared")] += 1
        status = {"cancelled": "cancelled", "turned_back": "rejected", "departed": "departed"}[
            outcome
        ]
        last_at = events[-1][0]
        plate = f"{10 + i % 89}C-{i % 100000:05d}"
        out.declarations.append(
            (
                did,
                f"{gate[:2]}-{i:08d}",
                f"FIRM_{i % 500}",
                direction,
                gate,
                status,
                len(events),
                "yellow",
                plate,
                plate.replace("-", ""),
                None,
                "VN",
                "Nguyễn Văn A",
                f"C{i:08d}",
                "VN",
                None,
                "Công ty TNHH Nông sản",
                "Pingxiang Trading Co.",
                declared + timedelta(hours=2),
                WORKFLOW,
                True,
                1,
                outcome == "cancelled",
                None,
                f"{i:064x}",
                filed,
                last_at,
                declared,
                arrived,
                cleared,
                left,
            )
        )
        previous = ""
        for version, (at, action, stage, reason) in enumerate(events, start=1):
            digest = f"{i:056x}{version:08x}"
            out.events.append(
                (
                    did,
                    version,
                    at,
                    "system:bench",
                    "system",
                    action,
                    stage,
                    reason,
                    "{}",
                    previous,
                    digest,
                )
            )
            previous = digest
        out.visits.extend(visits)
        out.journeys.append(
            (did, gate, direction, filed, declared, arrived, cleared, left, outcome)
        )
    return out


async def load(url: str, total: int, rate: float, seed: int) -> dict[str, int]:
    """Generate and COPY `total` declarations; returns row counts per table."""
    rng = random.Random(seed)
    connection = await asyncpg.connect(url)
    counts: Counter[Any] = Counter()
    written: Counter[str] = Counter()
    try:
        await connection.copy_records_to_table(
            "organisations",
            records=[(f"FIRM_{n}", "firm", f"Firm {n}", datetime.now(UTC)) for n in range(500)],
            columns=["code", "kind", "name", "created_at"],
        )
        started = time.perf_counter()
        for first in range(0, total, CHUNK):
            chunk = generate(first, min(CHUNK, total - first), total, rate, rng, counts)
            for table, columns, rows in (
                ("declarations", DECLARATION_COLUMNS, chunk.declarations),
                ("declaration_events", EVENT_COLUMNS, chunk.events),
                ("report_stage_visits", VISIT_COLUMNS, chunk.visits),
                ("report_journeys", JOURNEY_COLUMNS, chunk.journeys),
            ):
                await connection.copy_records_to_table(table, records=rows, columns=columns)
                written[table] += len(rows)
            done = min(first + CHUNK, total)
            elapsed = time.perf_counter() - started
            print(
                f"\r  loaded {done:>9,} / {total:,} declarations "
                f"({written['declaration_events']:,} events) in {elapsed:5.0f} s",
                end="",
                flush=True,
            )
        print()
        hourly = [(g, h, d, m, n) for (g, h, d, m), n in sorted(counts.items())]
        await connection.copy_records_to_table(
            "report_hourly_counts",
            records=hourly,
            columns=["gate", "hour", "direction", "metric", "count"],
        )
        written["report_hourly_counts"] = len(hourly)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return dict(written)


async def time_reports(url: str, runs: int) -> dict[str, Any]:
    settings = load_settings({**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    platform = build_platform(settings, pool_size=2)
    gate = platform.gates.get("HUU_NGHI")
    end = local_midnight(END.astimezone(gate.zone).date(), gate.zone).astimezone(UTC)

    def query(days: int) -> ReportQuery:
        return ReportQuery(gate, None, end - timedelta(days=days), end, "day")

    result: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        month = await throughput_report(platform, None, query(30))
        result["cold_ms"] = (time.perf_counter() - started) * 1000
        for days in (30, 7, 1):
            timings = []
            for _ in range(runs):
                started = time.perf_counter()
                await throughput_report(platform, None, query(days))
                timings.append((time.perf_counter() - started) * 1000)
            result[f"warm_{days}d_ms"] = statistics.median(timings)
        result["month_declared"] = month.totals.declared
        result["month_departed"] = month.totals.departed
        result["bottleneck"] = month.bottleneck
        customs = next(s for s in month.stages if s.stage == "customs")
        result["customs_median_min"] = (customs.median_seconds or 0) / 60
    finally:
        await platform.close()
    return result


def pgbench_ceiling(seconds: int) -> dict[str, float]:
    """Read-only primary-key selects (pgbench -S) on a scratch database."""
    name = f"bench_pgbench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = f"{PG_BASE}/{name}"
    try:
        subprocess.run(["pgbench", "-i", "-s", "10", "-q", url], check=True, capture_output=True)
        out = subprocess.run(
            ["pgbench", "-S", "-n", "-c", "2", "-j", "2", "-T", str(seconds), url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))  # type: ignore[union-attr]
    return {"tps": tps, "latency_ms": latency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rate", type=float, default=1000.0, help="declarations per day")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument(
        "--keep", action="store_true", help="keep the last size's database (prints its URL)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"PostgreSQL at {PG_ADMIN.rsplit('@', 1)[-1]}; {os.cpu_count()} CPUs")
    ceiling = pgbench_ceiling(args.pgbench_seconds)
    print(
        f"ceiling: pgbench -S (2 clients, {args.pgbench_seconds} s): {ceiling['tps']:,.0f} "
        f"selects/s, {ceiling['latency_ms']:.3f} ms each"
    )
    rows = []
    for size in sizes:
        print(f"{size:,} declarations at {args.rate:,.0f} a day ({size / args.rate:,.0f} days):")
        with scratch_database("bench_reports", keep=args.keep and size == sizes[-1]) as url:
            started = time.perf_counter()
            written = asyncio.run(load(url, size, args.rate, args.seed))
            load_s = time.perf_counter() - started
            figures = asyncio.run(time_reports(url, args.runs))
            if args.keep and size == sizes[-1]:
                print(f"  kept {url}")
        rows.append((size, written, load_s, figures))
        print(
            f"  month report (HUU_NGHI, 30 days, {figures['month_declared']:,} declared): "
            f"cold {figures['cold_ms']:.0f} ms, warm {figures['warm_30d_ms']:.0f} ms; "
            f"7 days {figures['warm_7d_ms']:.0f} ms; 1 day {figures['warm_1d_ms']:.0f} ms"
        )
    print()
    print(
        "| declarations | events | days of history | month declared (HUU_NGHI) | "
        "cold ms | warm ms (30 d) | warm ms (7 d) | warm ms (1 d) | load s |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size, written, load_s, f in rows:
        print(
            f"| {size:,} | {written['declaration_events']:,} | {size / args.rate:,.0f} | "
            f"{f['month_declared']:,} | {f['cold_ms']:.0f} | {f['warm_30d_ms']:.0f} | "
            f"{f['warm_7d_ms']:.0f} | {f['warm_1d_ms']:.0f} | {load_s:.0f} |"
        )
    print(
        f"\nceiling: pgbench -S {ceiling['tps']:,.0f} selects/s, {ceiling['latency_ms']:.3f} ms "
        "per select (a report runs about 12 queries)"
    )


if __name__ == "__main__":
    main()
