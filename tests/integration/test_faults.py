"""Fault tests against real PostgreSQL, RabbitMQ and separate processes: nothing is lost,
nothing is applied twice, and every trail replays to its stored state."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from border_gate.audit import check_declaration
from border_gate.db.models import DeclarationRow, OutboxRow
from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import Platform, build_platform
from tests.conftest import make_settings
from tests.processes import Processes, processes
from tests.support import MACHINERY, PASSWORD, declaration_body

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.rabbitmq]

AGENCY_ACTORS = {
    "system:customs-screening",
    "system:quarantine-screening",
    "system:border_guard-screening",
}


@pytest.fixture
def fault_env(tmp_path: Path, pg_database: str, rabbit_url: str) -> dict[str, str]:
    rules = tmp_path / "customs.toml"
    rules.write_text(
        (Path(__file__).parents[2] / "agencies/rules/customs.toml")
        .read_text()
        .replace("random_red_rate = 0.03", "random_red_rate = 0.0")
    )
    return {
        "DATABASE_URL": pg_database,
        "BROKER_URL": rabbit_url,
        "SECRET_KEY": "fault-test-secret-key-0123456789abcdef",
        "DATA_DIR": str(tmp_path / "data"),
        "ARGON2_LIGHT": "1",
        "CUSTOMS_RULES_FILE": str(rules),
        "CHECK_MAX_RETRIES": "10",
        "LOG_LEVEL": "WARNING",
    }


@pytest.fixture
async def fault_platform(tmp_path: Path, fault_env: dict[str, str]) -> AsyncIterator[Platform]:
    env = dict(fault_env)
    settings = make_settings(tmp_path, env.pop("DATABASE_URL"), **env)
    platform = build_platform(settings)
    await create_organisation(
        platform, code="FIRM_A", kind="firm", name="Công ty TNHH Nông sản Đồng Đăng"
    )
    await create_user(
        platform, username="firm_a", role="firm_user", organisation_code="FIRM_A", password=PASSWORD
    )
    yield platform
    await platform.close()


async def _token(url: str) -> dict[str, str]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{url}/api/v1/auth/token", json={"username": "firm_a", "password": PASSWORD}
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _body(i: int) -> dict[str, Any]:
    plate = {"plate": f"29H-{10000 + i}", "country": "VN"}
    if i % 3 == 0:
        return declaration_body(vehicle=plate)  # durian: plant + health quarantine
    return declaration_body(vehicle=plate, cargo=MACHINERY)


async def submit_many(
    urls: list[str], count: int, *, on_progress: Any = None, tolerate_errors: bool = False
) -> list[str]:
    """File and submit `count` declarations spread over the API processes at `urls`."""
    headers = await _token(urls[0])
    ids: list[str] = []
    limit = asyncio.Semaphore(8)
    done = 0

    async def one(client: httpx.AsyncClient, i: int) -> None:
        nonlocal done
        url = urls[i % len(urls)]
        async with limit:
            try:
                created = await client.post(
                    f"{url}/api/v1/declarations", json=_body(i), headers=headers
                )
                assert created.status_code == 201, created.text
                declaration_id = created.json()["id"]
                ids.append(declaration_id)
                submitted = await client.post(
                    f"{url}/api/v1/declarations/{declaration_id}/submit", headers=headers
                )
                assert submitted.status_code == 200, submitted.text
            except (httpx.HTTPError, AssertionError):
                if not tolerate_errors:
                    raise
            done += 1
            if on_progress is not None:
                await on_progress(done)

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client, i) for i in range(count)))
    return ids


async def wait_all_screened(platform: Platform, *, timeout: float = 180.0) -> None:  # noqa: ASYNC109
    """Until no submitted declaration is still waiting for a check, and the outbox is empty."""
    deadline = time.monotonic() + timeout
    waiting = pending = -1
    while time.monotonic() < deadline:
        async with platform.unit_of_work() as uow:
            waiting = (
                await uow.session.execute(
                    select(func.count(DeclarationRow.id)).where(
                        DeclarationRow.status == "submitted"
                    )
                )
            ).scalar_one()
            pending = (
                await uow.session.execute(
                    select(func.count(OutboxRow.id)).where(OutboxRow.sent_at.is_(None))
                )
            ).scalar_one()
        if waiting == 0 and pending == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(
        f"still {waiting} declarations waiting for screening, {pending} outbox rows unsent; "
        f"queues: {_queue_report(platform)}; missing: {await _missing_screens(platform)}"
    )


async def _missing_screens(platform: Platform) -> dict[str, int]:
    """For declarations still waiting: which agencies' results are missing, counted."""
    async with platform.unit_of_work() as uow:
        ids = list(
            (
                await uow.session.scalars(
                    select(DeclarationRow.id).where(DeclarationRow.status == "submitted")
                )
            ).all()
        )
        missing: Counter[str] = Counter()
        for declaration_id in ids:
            events = await uow.declarations.events(declaration_id)
            have = {e.actor for e in events if e.action == "screen"}
            missing[",".join(sorted(AGENCY_ACTORS - have))] += 1
            outbox = (
                await uow.session.scalars(
                    select(OutboxRow).where(OutboxRow.declaration_id == declaration_id)
                )
            ).all()
            missing[f"outbox_rows={len(outbox)}"] += 1
    return dict(missing)


def _queue_report(platform: Platform) -> str:
    """What RabbitMQ holds for this test's virtual host, to explain a timeout."""
    vhost = (platform.settings.broker_url or "").rsplit("/", 1)[-1]
    result = subprocess.run(
        [
            "rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            vhost,
            "name",
            "messages_ready",
            "messages_unacknowledged",
            "consumers",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.replace("\n", "; ")


async def assert_consistent(platform: Platform) -> int:
    """Every submitted declaration: each agency's result exactly once; trail replays to state."""
    async with platform.unit_of_work() as uow:
        ids = list((await uow.session.scalars(select(DeclarationRow.id))).all())
    for declaration_id in ids:
        broken, same = await check_declaration(platform, declaration_id)
        assert broken is None, f"{declaration_id}: hash chain broken at event {broken}"
        assert same, f"{declaration_id}: replaying the trail does not give the stored state"
        async with platform.unit_of_work() as uow:
            events = await uow.declarations.events(declaration_id)
        if not any(e.action == "submit" for e in events):
            continue
        screens = Counter(e.actor for e in events if e.action == "screen")
        assert set(screens) == AGENCY_ACTORS and set(screens.values()) == {1}, (
            declaration_id,
            screens,
        )
    return len(ids)


def _rabbitmq(command: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", command], check=True, capture_output=True, timeout=120)


async def test_worker_killed_mid_check_is_redelivered_and_applied_once(
    fault_platform: Platform, fault_env: dict[str, str], tmp_path: Path
) -> None:
    with processes(fault_env, tmp_path / "logs") as group:
        api = group.api()
        doomed = group.worker()
        killed = False

        async def kill_when_busy(done: int) -> None:
            nonlocal killed
            if done >= 60 and not killed:
                killed = True
                Processes.kill(doomed)  # mid-run: its prefetched, unacked messages go back
                group.worker()

        await submit_many([api], 200, on_progress=kill_when_busy)
        assert killed
        await wait_all_screened(fault_platform)
    assert await assert_consistent(fault_platform) == 200


async def test_broker_stopped_and_started_during_submissions(
    fault_platform: Platform, fault_env: dict[str, str], tmp_path: Path
) -> None:
    with processes(fault_env, tmp_path / "logs") as group:
        api = group.api()
        group.worker()
        stopped = started = False

        async def bounce(done: int) -> None:
            nonlocal stopped, started
            if done >= 50 and not stopped:
                stopped = True
                await asyncio.to_thread(_rabbitmq, "stop_app")
            if done >= 120 and stopped and not started:
                started = True
                await asyncio.sleep(1)
                await asyncio.to_thread(_rabbitmq, "start_app")

        try:
            # Filing and submitting keep working while the broker is away: the outbox waits.
            ids = await submit_many([api], 200, on_progress=bounce)
        finally:
            if stopped and not started:
                _rabbitmq("start_app")
        assert len(ids) == 200
        await wait_all_screened(fault_platform)
    assert await assert_consistent(fault_platform) == 200


async def test_api_killed_while_relaying_leaves_nothing_behind(
    fault_platform: Platform, fault_env: dict[str, str], tmp_path: Path
) -> None:
    """An API process dies mid-burst (possibly between publishing and marking rows sent)."""
    with processes(fault_env, tmp_path / "logs") as group:
        doomed_url = group.api()
        doomed = group.running[-1]
        survivor = group.api()
        group.worker()
        killed = False

        async def kill_api(done: int) -> None:
            nonlocal killed
            if done >= 80 and not killed:
                killed = True
                Processes.kill(doomed)

        await submit_many([doomed_url, survivor], 200, on_progress=kill_api, tolerate_errors=True)
        assert killed
        await wait_all_screened(fault_platform)
    assert await assert_consistent(fault_platform) >= 100


async def test_two_apis_and_two_workers_stay_consistent(
    fault_platform: Platform, fault_env: dict[str, str], tmp_path: Path
) -> None:
    with processes(fault_env, tmp_path / "logs") as group:
        apis = [group.api(), group.api()]
        group.worker()
        group.worker()
        ids = await submit_many(apis, 200)
        await wait_all_screened(fault_platform)
    assert len(ids) == 200
    assert await assert_consistent(fault_platform) == 200
