"""`border-gate simulate`: run simulated traffic against the configured platform, then report."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import Any

from border_gate.platform import build_platform
from border_gate.settings import Settings
from border_gate.simulation.runner import Simulation, SimulationConfig, parse_pairs


def add_simulate_command(sub: Any) -> None:
    simulate = sub.add_parser(
        "simulate",
        help="drive simulated traffic through the platform (DATABASE_URL, BROKER_URL)",
        description="Firms file, trucks arrive, officers decide, on a compressed clock that "
        "ends at about now. See docs/simulation.md for the assumptions.",
    )
    simulate.add_argument("--gate", default="HUU_NGHI")
    simulate.add_argument("--trucks", type=int, default=200)
    simulate.add_argument("--hours", type=float, default=8.0, help="simulated hours")
    simulate.add_argument(
        "--speedup", type=float, default=120.0, help="simulated seconds per real second"
    )
    simulate.add_argument("--seed", type=int, default=2026)
    simulate.add_argument(
        "--start", help="simulated start (ISO 8601 with offset); default: now − hours"
    )
    simulate.add_argument("--staff", help="officers per stage, e.g. customs=3,border_guard=2")
    simulate.add_argument("--service-minutes", help="mean minutes per decision, e.g. customs=18")
    simulate.add_argument("--amendment-rate", type=float, default=0.03)
    simulate.add_argument("--rejection-rate", type=float, default=0.007)
    simulate.add_argument("--quiet", action="store_true", help="no progress line")
    simulate.set_defaults(func=cmd_simulate)


def config_from(args: argparse.Namespace) -> SimulationConfig:
    problems = []
    if not 1 <= args.trucks <= 100_000:
        problems.append("--trucks: 1..100000")
    if not 0 < args.hours <= 24 * 31:
        problems.append("--hours: more than 0, at most 744")
    if not 0 < args.speedup <= 100_000:
        problems.append("--speedup: more than 0, at most 100000")
    for name in ("amendment_rate", "rejection_rate"):
        if not 0 <= getattr(args, name) <= 0.5:
            problems.append(f"--{name.replace('_', '-')}: 0..0.5")
    try:
        staff = parse_pairs(args.staff, int)
        minutes = parse_pairs(args.service_minutes, float)
    except ValueError as exc:
        problems.append(str(exc))
        staff, minutes = {}, {}
    start = None
    if args.start:
        try:
            start = datetime.fromisoformat(args.start)
            if start.tzinfo is None:
                raise ValueError
        except ValueError:
            problems.append("--start: ISO 8601 with an offset, e.g. 2026-11-23T06:00:00+07:00")
    if problems:
        raise SystemExit("simulate: " + "; ".join(problems))
    config = SimulationConfig(
        gate=args.gate.upper(),
        trucks=args.trucks,
        hours=args.hours,
        speedup=args.speedup,
        seed=args.seed,
        amendment_rate=args.amendment_rate,
        rejection_rate=args.rejection_rate,
        start=start,
        progress=not args.quiet,
    )
    config.staff.update(staff)
    config.service_minutes.update(minutes)
    return config


async def run_simulation(settings: Settings, config: SimulationConfig) -> int:
    from border_gate.workers.runner import start_in_process

    platform = build_platform(settings)
    if config.gate not in platform.gates:
        await platform.close()
        print(f"simulate: không có cửa khẩu / no gate {config.gate}", file=sys.stderr)
        return 2
    # A relay to publish what we write; with no BROKER_URL also in-process workers, so the
    # embedded platform screens our trucks even when no `serve` is running.
    stop = await start_in_process(platform)
    try:
        simulation = Simulation(platform, config)
        tally = await simulation.run()
        await asyncio.sleep(2)  # let the last automated results land
        print(await simulation_summary(simulation, tally))
    finally:
        await stop()
        await platform.close()
    return 0


async def simulation_summary(simulation: Simulation, tally: Any) -> str:
    from border_gate.simulation.report import summary

    return await summary(simulation, tally)


def cmd_simulate(args: argparse.Namespace) -> int:
    from border_gate.cli import ensure_schema
    from border_gate.settings import load_settings

    settings = load_settings()
    ensure_schema(settings)
    return asyncio.run(run_simulation(settings, config_from(args)))
