"""Fixtures: a fresh, migrated database per test on PostgreSQL and on SQLite; API clients.

PostgreSQL databases are cloned from a template migrated once per run (CREATE DATABASE …
TEMPLATE), SQLite files are copied from a migrated file: every test gets its own data and
nothing depends on another test's leftovers. Integration tests fail (they do not skip)
when PostgreSQL is not reachable: start it as DEVELOPERS.md / .ci/test says.
"""

from __future__ import annotations

import os

os.environ.setdefault("ARGON2_LIGHT", "1")  # before border_gate is imported: cheap hashing

import asyncio
import contextlib
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from border_gate.app import create_app
from border_gate.db.migrate import upgrade_to_head
from border_gate.platform import Platform, build_platform
from border_gate.settings import Settings, load_settings

PG_ADMIN_DSN = os.environ.get("TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL_BASE = os.environ.get("TEST_PG_URL_BASE", "postgresql://postgres@127.0.0.1:5432")
RUN_ID = uuid.uuid4().hex[:8]
PG_TEMPLATE = f"bg_template_{RUN_ID}"


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg(sql: str) -> None:
    asyncio.run(_admin(sql))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        _pg(f'CREATE DATABASE "{PG_TEMPLATE}"')
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`"
        )
    upgrade_to_head(f"postgresql+asyncpg://{PG_URL_BASE.split('://', 1)[1]}/{PG_TEMPLATE}")
    yield PG_TEMPLATE
    _pg(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade_to_head(f"sqlite+aiosqlite:///{path}")
    return path


def make_settings(tmp_path: Path, database_url: str, **env: str) -> Settings:
    base = {
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "LOG_LEVEL": "WARNING",
    }
    base.update(env)
    return load_settings(base)


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database; yields its postgresql:// URL."""
    name = f"bg_test_{uuid.uuid4().hex[:12]}"
    _pg(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield f"{PG_URL_BASE}/{name}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "border-gate.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on the embedded SQLite default and on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_database")  # type: ignore[no-any-return]
    return request.getfixturevalue("sqlite_database")  # type: ignore[no-any-return]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
async def platform(settings: Settings) -> AsyncIterator[Platform]:
    running = build_platform(settings)
    yield running
    await running.close()


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The app served in the test's own event loop, sharing the test's platform."""
    app = create_app(platform=platform)
    async with running_lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as test_client:
            yield test_client


@contextlib.asynccontextmanager
async def running_lifespan(app: Any) -> AsyncIterator[None]:
    """Run the app's lifespan in one task of its own (anyio scopes must exit where entered)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raises what the start-up raised
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def world(platform: Platform, client: httpx.AsyncClient) -> Any:
    from tests.support import build_world

    return await build_world(platform, client)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    """A RabbitMQ virtual host of this test's own on the real broker; deleted afterwards."""
    vhost = f"bg_test_{uuid.uuid4().hex[:10]}"
    try:
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.fail(f"RabbitMQ is not usable ({exc}); start it with `rabbitmq-server -detached`")
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Worker tests run twice: SQLite + in-process broker, and PostgreSQL + RabbitMQ."""
    if request.param == "embedded":
        return {"DATABASE_URL": request.getfixturevalue("sqlite_database")}
    return {
        "DATABASE_URL": request.getfixturevalue("pg_database"),
        "BROKER_URL": request.getfixturevalue("rabbit_url"),
    }


SCREENING_TEST_ENV = {
    # Deterministic channels in tests: no random sampling, no "new firm" rule unless a test
    # asks for it through its own rules file.
    "CHECK_MAX_RETRIES": "2",
    "WORKER_THREADS": "4",
}


@pytest.fixture
def worker_settings(tmp_path: Path, stack: dict[str, str]) -> Settings:
    rules = tmp_path / "customs.toml"
    rules.write_text(
        (Path(__file__).parent.parent / "agencies/rules/customs.toml")
        .read_text()
        .replace("random_red_rate = 0.03", "random_red_rate = 0.0")
        .replace("first_declarations = 3", "first_declarations = 0")
    )
    env = {**SCREENING_TEST_ENV, "CUSTOMS_RULES_FILE": str(rules), **stack}
    return make_settings(tmp_path, env.pop("DATABASE_URL"), **env)


@pytest.fixture
async def worker_platform(worker_settings: Settings) -> AsyncIterator[Platform]:
    """A platform with its relay and Dramatiq workers running in this process."""
    from border_gate.workers.runner import start_in_process

    running = build_platform(worker_settings)
    stop = await start_in_process(running, consume=True)
    yield running
    await stop()
    await running.close()


@pytest.fixture
async def worker_world(worker_platform: Platform) -> AsyncIterator[Any]:
    from tests.support import build_world

    app = create_app(platform=worker_platform)
    async with running_lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=60
        ) as c:
            yield await build_world(worker_platform, c)
