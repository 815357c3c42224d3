"""How long the queue takes to recompute with N trucks waiting, on PostgreSQL.

    .venv/bin/python -m bench.queue_recompute [--trucks 200]

Files, submits and checks in N trucks at Hữu Nghị through the services (the quota at 0 so
nobody is called), then times: reading the board (plan_queue), a recompute that changes
nothing, a quota cut that moves every estimate (a queue_position event per truck), and a
quota rise that calls trucks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from bench.common import scratch_database
from border_gate.declarations.service import file_declaration, submit_declaration
from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import build_platform
from border_gate.queue import service
from border_gate.settings import load_settings
from workflows.model import DeclarationFacts, Direction

GATE = "HUU_NGHI"


def _facts(index: int) -> DeclarationFacts:
    hs_code = "081060" if index % 2 else "847989"
    return msgspec.convert(
        {
            "direction": "export",
            "gate": GATE,
            "vehicle": {"plate": f"29H-{index // 100:03d}.{index % 100:02d}", "country": "VN"},
            "driver": {
                "name": "Nguyễn Văn Đức",
                "document_number": "C1234567",
                "nationality": "VN",
            },
            "cargo": [
                {
                    "hs_code": hs_code,
                    "description": "Hàng thử",
                    "gross_weight_kg": 10000,
                    "packages": 10,
                    "value": 1000,
                    "currency": "USD",
                    "origin_country": "VN",
                }
            ],
            "consignor": "Công ty A",
            "consignee": "Công ty B",
            "planned_arrival": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        },
        DeclarationFacts,
    )


async def run(count: int, database_url: str, data_dir: Path) -> None:
    settings = load_settings(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijkl",
            "LOG_LEVEL": "WARNING",
        }
    )
    platform = build_platform(settings)
    try:
        for code, kind in (("FIRM", "firm"), ("YARD", "yard"), ("BQL", "management")):
            await create_organisation(platform, code=code, kind=kind, name=code)
        firm = await create_user(
            platform, username="firm", role="firm_user", organisation_code="FIRM", password="x" * 12
        )
        yard = await create_user(
            platform,
            username="yard",
            role="yard_operator",
            organisation_code="YARD",
            password="x" * 12,
            gates=[GATE],
        )
        board = await create_user(
            platform,
            username="board",
            role="management",
            organisation_code="BQL",
            password="x" * 12,
        )
        today = platform.now().astimezone(platform.gates.get(GATE).zone).date()
        await service.set_far_side_quota(
            platform, board, GATE, Direction.EXPORT, today, 0, "bench: closed"
        )
        started = time.perf_counter()
        for index in range(count):
            declaration, _ = await file_declaration(platform, firm, _facts(index))
            await submit_declaration(platform, firm, declaration.id, expected_version=None)
            await service.arrive_waiting_area(
                platform, yard, GATE, declaration.facts.vehicle.plate, None
            )
        fill = time.perf_counter() - started
        print(f"Queue recompute at {GATE}, {count} trucks waiting, PostgreSQL")
        print(f"  filing + check-in (each check-in recomputes): {fill / count * 1000:.0f} ms/truck")

        async def timed(label: str, work) -> None:  # type: ignore[no-untyped-def]
            begin = time.perf_counter()
            await work()
            print(f"  {label}: {(time.perf_counter() - begin) * 1000:.0f} ms")

        async def board_read() -> None:
            await service.queue_board(platform, board, GATE, Direction.EXPORT)

        async def idle_refresh() -> None:
            await service.refresh_queue(platform, GATE, Direction.EXPORT)

        async def cut() -> None:  # tomorrow's default applies: every estimate moves
            await service.set_far_side_quota(
                platform, board, GATE, Direction.EXPORT, today + timedelta(days=1), 0, "bench: cut"
            )

        async def rise() -> None:
            await service.set_far_side_quota(
                platform, board, GATE, Direction.EXPORT, today, 2400, "bench: reopened"
            )

        await timed("read the board (plan_queue)", board_read)
        await timed("recompute, nothing moved", idle_refresh)
        await timed("quota cut, every estimate moves (one event per truck)", cut)
        await timed("quota rise, trucks called up to the call window", rise)
    finally:
        await platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("ARGON2_LIGHT", "1")
    with scratch_database("bench_queue") as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args.trucks, url, Path(tmp)))


if __name__ == "__main__":
    main()
