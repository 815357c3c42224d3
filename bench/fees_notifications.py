"""Benchmark: what fees and webhooks cost a gate-in, the payment callback, webhook delivery.

    .venv/bin/python -m bench.fees_notifications [--trucks 100]

In one process against a scratch PostgreSQL database (API through ASGI, workers and relay
in-process on the embedded broker), it prints:
1. gate-in latency (median, p90) with the firm having no webhook endpoint, then with three
   endpoints subscribed to every topic, one of them a dead receiver: the hooks' cost, and
   proof that a dead receiver does not slow a transition;
2. payment callbacks: latency of a first (applying) callback and of its replay;
3. webhook delivery: deliveries/s to a local receiver and latency from the delivery row's
   creation to the receiver reading it (median, p90).
"""

from __future__ import annotations

import argparse
import asyncio
import platform as host
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
from sqlalchemy import func, select

from bench.common import percentile, scratch_database
from border_gate.app import create_app
from border_gate.notifications.models import WebhookAttempt, WebhookDelivery
from border_gate.platform import build_platform
from border_gate.workers.runner import start_in_process
from tests.conftest import make_settings, running_lifespan
from tests.integration.fees_support import FEE_ENV, callback_body, post_callback, screen_green
from tests.integration.webhook_receiver import closed_port_url, receiver
from tests.support import MACHINERY, build_world

ALL_TOPICS = [
    "declaration.screened",
    "declaration.amendment_requested",
    "declaration.cleared",
    "document.issued",
    "fee.charged",
    "fee.paid",
]


def plate(i: int) -> str:
    return f"29H-{i // 100:03d}.{i % 100:02d}"


async def ready_trucks(world: Any, first: int, count: int) -> list[str]:
    ids = []
    for i in range(first, first + count):
        created = await world.file(
            cargo=MACHINERY, vehicle={"plate": plate(i), "trailer_plate": None, "country": "VN"}
        )
        await world.submit(created["id"])
        await screen_green(world, created["id"])
        ids.append(created["id"])
    return ids


async def gate_in_latencies(world: Any, first: int, count: int) -> list[float]:
    await ready_trucks(world, first, count)
    timings = []
    for i in range(first, first + count):
        started = time.perf_counter()
        response = await world.gate_event("gate_in", plate(i))
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.text
    return timings


def line(label: str, values: list[float], unit: str = "ms") -> str:
    return (
        f"{label:<58} median {percentile(values, 0.5):7.1f} {unit}   "
        f"p90 {percentile(values, 0.9):7.1f} {unit}   (n={len(values)})"
    )


async def drained(platform: Any, timeout: float = 900) -> float:  # noqa: ASYNC109
    """Wait until every outbox row is sent and no live delivery waits for its first attempt."""
    from border_gate.db.models import OutboxRow

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        async with platform.unit_of_work() as uow:
            unsent = await uow.session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
            waiting = await uow.session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.attempts == 0)
            )
        if not unsent and not waiting:
            break
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


async def run(trucks: int, database_url: str, data_dir: Path) -> None:
    settings = make_settings(data_dir, database_url, **{**FEE_ENV, "WORKER_THREADS": "4"})
    platform = build_platform(settings)
    app = create_app(platform=platform)
    stop = None
    try:
        async with running_lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=120
            ) as client:
                world = await build_world(platform, client)
                print(f"# {trucks} trucks per series, PostgreSQL, {host.machine()}")
                print("# series 1-2 without workers running (no rendering competes for the CPU)")

                await gate_in_latencies(world, 3000, 10)  # warm-up: pools, caches, plans
                bare = await gate_in_latencies(world, 0, trucks)
                print(line("1a. gate-in, no webhook endpoint", bare))

                with receiver() as hook:
                    for url in (hook.url, hook.url + "/second", closed_port_url()):
                        response = await client.post(
                            "/api/v1/webhooks",
                            json={"url": url, "topics": ALL_TOPICS},
                            headers=world.as_("firm_a"),
                        )
                        assert response.status_code == 201, response.text
                    hooked = await gate_in_latencies(world, 1000, trucks)
                    print(line("1b. gate-in, 3 endpoints on every topic (one dead)", hooked))

                    first, replay = [], []
                    for i in range(1000, 1000 + trucks):
                        found = await client.get(
                            "/api/v1/declarations",
                            params={"plate": plate(i)},
                            headers=world.as_("firm_a"),
                        )
                        declaration_id = found.json()["items"][0]["id"]
                        fees = await client.get(
                            f"/api/v1/declarations/{declaration_id}/fees",
                            headers=world.as_("firm_a"),
                        )
                        body = callback_body(fees.json()[0])
                        started = time.perf_counter()
                        response = await post_callback(world, body)
                        first.append((time.perf_counter() - started) * 1000)
                        assert response.status_code == 200, response.text
                        started = time.perf_counter()
                        response = await post_callback(world, body)
                        replay.append((time.perf_counter() - started) * 1000)
                        assert response.headers["idempotent-replayed"] == "true"
                    print(line("2a. payment callback, applied", first))
                    print(line("2b. payment callback, replayed", replay))

                    stop = await start_in_process(platform, consume=True)
                    took_from = time.perf_counter()
                    backlog = len(hook.snapshot())
                    took = await drained(platform)
                    broker = platform.background["broker"]
                    if hasattr(broker, "join"):  # the embedded broker: let rendering finish too
                        await asyncio.to_thread(broker.join, "documents", timeout=900_000)
                    took = time.perf_counter() - took_from
                    got = len(hook.snapshot()) - backlog
                    print(
                        f"3a. backlog after starting workers: {got} webhook deliveries (and the "
                        f"receipts, yard tickets) drained in {took:.1f} s"
                    )
                    ids = await ready_trucks(world, 2000, trucks)
                    before = len(hook.snapshot())
                    started = time.perf_counter()
                    for i in range(2000, 2000 + trucks):
                        response = await world.gate_event("gate_in", plate(i))
                        assert response.status_code == 201, response.text
                        await asyncio.sleep(0.1)  # a steady 10 trucks/s at the gate
                    await drained(platform)
                    fresh = [
                        r
                        for r in hook.snapshot()[before:]
                        if msgspec.json.decode(r.body)["declaration"]["id"] in set(ids)
                        and msgspec.json.decode(r.body)["topic"] == "fee.charged"
                    ]
                    async with platform.unit_of_work() as uow:
                        rows = (
                            await uow.session.execute(
                                select(WebhookDelivery.id, WebhookDelivery.created_at)
                            )
                        ).all()
                    created = {row.id: row.created_at.timestamp() for row in rows}
                    latencies = [
                        (r.received_at - created[msgspec.json.decode(r.body)["id"]]) * 1000
                        for r in fresh
                    ]
                    print(
                        f"3b. fee.charged deliveries to 2 live endpoints at 10 gate-ins/s: "
                        f"{len(fresh)} of {2 * trucks} in {time.perf_counter() - started:.1f} s"
                    )
                    print(line("3c. delivery latency, row created → receiver read it", latencies))
                    async with platform.unit_of_work() as uow:
                        attempts = (
                            await uow.session.execute(
                                select(
                                    WebhookDelivery.created_at,
                                    WebhookAttempt.at,
                                    WebhookAttempt.duration_ms,
                                )
                                .join(
                                    WebhookAttempt, WebhookAttempt.delivery_id == WebhookDelivery.id
                                )
                                .where(
                                    WebhookDelivery.declaration_id.in_(ids),
                                    WebhookDelivery.topic == "fee.charged",
                                    WebhookAttempt.attempt == 1,
                                    WebhookAttempt.status_code == 200,
                                )
                            )
                        ).all()
                    print(
                        line(
                            "3d. of which: waiting for a worker (created → attempt)",
                            [(a.at - a.created_at).total_seconds() * 1000 for a in attempts],
                        )
                    )
                    print(
                        line(
                            "3e. of which: the HTTP attempt itself",
                            [float(a.duration_ms) for a in attempts],
                        )
                    )
    finally:
        if stop is not None:
            await stop()
        await platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=100)
    args = parser.parse_args()
    with scratch_database("bench_fees") as url, tempfile.TemporaryDirectory() as data_dir:
        asyncio.run(run(args.trucks, url, Path(data_dir)))


if __name__ == "__main__":
    main()
