"""The one-command demo: demo users (logins printed at start) and a simulated day under way.

`border-gate serve --demo` creates, once, an organisation and a user for every role at
Hữu Nghị, with passwords kept in DATA_DIR/demo-logins.txt; fills the last eight hours
with simulated traffic as fast as the machine allows (timelines stay true: each action
carries its own simulated time); then keeps trucks coming at the real pace, so the first
page a newcomer opens has trucks in every state and the reports have numbers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from border_gate.db.models import DeclarationRow
from border_gate.errors import Conflict
from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import Platform, build_platform
from border_gate.simulation.runner import Simulation, SimulationConfig

log = logging.getLogger("border_gate.demo")

GATE = "HUU_NGHI"
BACKFILL_HOURS = 8.0
BACKFILL_TRUCKS = 140
LIVE_TRUCKS_PER_HOUR = 12

#: (username, role, organisation code, kind, organisation name, gate-bound)
DEMO_PEOPLE = [
    (
        "doanhnghiep",
        "firm_user",
        "DEMO_DN",
        "firm",
        "Công ty TNHH Nông sản Đồng Đăng (demo)",
        False,
    ),
    (
        "haiquan",
        "customs_officer",
        "DEMO_HQ",
        "customs",
        "Chi cục Hải quan cửa khẩu Hữu Nghị (demo)",
        True,
    ),
    (
        "kdtv",
        "plant_quarantine_officer",
        "DEMO_KDTV",
        "plant_quarantine",
        "Trạm Kiểm dịch thực vật Hữu Nghị (demo)",
        True,
    ),
    (
        "kddv",
        "animal_quarantine_officer",
        "DEMO_KDDV",
        "animal_quarantine",
        "Trạm Kiểm dịch động vật Lạng Sơn (demo)",
        True,
    ),
    (
        "kdyt",
        "health_quarantine_officer",
        "DEMO_KDYT",
        "health_quarantine",
        "Trung tâm Kiểm dịch y tế quốc tế (demo)",
        True,
    ),
    (
        "bienphong",
        "border_guard_officer",
        "DEMO_BP",
        "border_guard",
        "Đồn Biên phòng cửa khẩu quốc tế Hữu Nghị (demo)",
        True,
    ),
    ("khobai", "yard_operator", "DEMO_BAI", "yard", "Công ty Kho bãi Hữu Nghị (demo)", True),
    (
        "banquanly",
        "management",
        "DEMO_BQL",
        "management",
        "Ban quản lý Khu kinh tế cửa khẩu Đồng Đăng – Lạng Sơn (demo)",
        False,
    ),
    (
        "quantri",
        "admin",
        "DEMO_BQL",
        "management",
        "Ban quản lý Khu kinh tế cửa khẩu Đồng Đăng – Lạng Sơn (demo)",
        False,
    ),
]


def _logins_file(platform: Platform) -> Path:
    return platform.settings.data_dir / "demo-logins.txt"


def _read_logins(path: Path) -> dict[str, str]:
    logins = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            name, _, password = line.partition(" ")
            if name and password:
                logins[name] = password
    return logins


async def ensure_demo_people(platform: Platform) -> dict[str, str]:
    """Create the demo organisations and users once; their passwords live in DATA_DIR."""
    path = _logins_file(platform)
    logins = _read_logins(path)
    for username, role, org, kind, name, gated in DEMO_PEOPLE:
        try:
            await create_organisation(platform, code=org, kind=kind, name=name)
        except Conflict:
            pass
        if username in logins:
            continue
        password = secrets.token_urlsafe(9)
        try:
            await create_user(
                platform,
                username=username,
                role=role,
                organisation_code=org,
                password=password,
                gates=[GATE] if gated else None,
                full_name=None,
            )
        except Conflict:
            continue  # made by an earlier run whose logins file was lost: leave it alone
        logins[username] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{name} {password}\n" for name, password in logins.items())
    return logins


def print_logins(platform: Platform, logins: dict[str, str]) -> None:
    roles = {username: role for username, role, *_ in DEMO_PEOPLE}
    url = platform.settings.public_url
    lines = [
        "",
        f"Tài khoản demo / demo logins ({url}/login; also in {_logins_file(platform)}):",
        *(
            f"  {roles.get(name, '?'):<28} {name:<12} {password}"
            for name, password in logins.items()
        ),
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)


async def _recent_traffic(platform: Platform) -> int:
    since = datetime.now(UTC) - timedelta(hours=BACKFILL_HOURS)
    async with platform.unit_of_work() as uow:
        return int(
            (
                await uow.session.execute(
                    select(func.count(DeclarationRow.id)).where(
                        DeclarationRow.gate == GATE,
                        DeclarationRow.organisation_code.like("SIM_%"),
                        DeclarationRow.planned_arrival >= since,
                    )
                )
            ).scalar_one()
        )


async def run_demo_traffic(api_platform: Platform) -> None:
    """Backfill the last hours if they are empty, then keep trucks coming at the real pace."""
    platform = build_platform(api_platform.settings, pool_size=3)
    platform.outbox_listeners = api_platform.outbox_listeners  # wake the server's relay
    try:
        if await _recent_traffic(platform) < BACKFILL_TRUCKS // 2:
            print(
                "Demo: đang mô phỏng 8 giờ qua / simulating the last 8 hours …",
                file=sys.stderr,
                flush=True,
            )
            config = SimulationConfig(
                gate=GATE,
                trucks=BACKFILL_TRUCKS,
                hours=BACKFILL_HOURS,
                speedup=5000,
                progress=False,
                seed=int(datetime.now(UTC).strftime("%Y%m%d")),
            )
            await Simulation(platform, config).run()
            print(
                "Demo: xong 8 giờ qua; xe tiếp tục đến / backfill done; trucks keep coming",
                file=sys.stderr,
                flush=True,
            )
        day = 0
        while True:
            config = SimulationConfig(
                gate=GATE,
                trucks=LIVE_TRUCKS_PER_HOUR * 24,
                hours=24,
                speedup=1.0,
                start=datetime.now(UTC),
                progress=False,
                seed=int(datetime.now(UTC).strftime("%Y%m%d")) + 1000 + day,
            )
            await Simulation(platform, config).run()
            day += 1
    finally:
        await platform.close()


async def start_demo(platform: Platform) -> Callable[[], Awaitable[None]]:
    """Background part of `serve --demo`."""
    logins = await ensure_demo_people(platform)
    print_logins(platform, logins)

    async def traffic() -> None:
        try:
            await run_demo_traffic(platform)
        except asyncio.CancelledError:
            raise
        except Exception:  # the demo traffic must never take the server down
            log.exception("demo traffic stopped")

    task = asyncio.create_task(traffic(), name="demo-traffic")

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return stop
