"""Shared set-up for benchmarks: scratch PostgreSQL databases and RabbitMQ virtual hosts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BASE = os.environ.get("BENCH_PG_URL_BASE", "postgresql://postgres@127.0.0.1:5432")
RABBIT_BASE = os.environ.get("BENCH_RABBIT_URL_BASE", "amqp://guest:guest@127.0.0.1:5672")


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def scratch_database(prefix: str = "bench", *, keep: bool = False) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (postgresql:// URL), dropped afterwards
    unless `keep`."""
    from border_gate.db.migrate import upgrade_to_head

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_to_head(f"postgresql+asyncpg://{PG_BASE.split('://', 1)[1]}/{name}")
        yield f"{PG_BASE}/{name}"
    finally:
        if not keep:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=120)


@contextmanager
def scratch_vhost(prefix: str = "bench") -> Iterator[str]:
    vhost = f"{prefix}_{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"{RABBIT_BASE}/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]
