"""Benchmark: what fees and webhooks cost a gate-in, the payment callback, webhook delivery.

    .venv/bin/python -m bench.fees_notifications [--trucks 50]

In one process against a scratch PostgreSQL database (API through ASGI, workers and relay
in-process on the embedded broker), it prints:
1. gate-in latency (median, p90) with the firm having no webhook endpoint, then with three
   endpoints subscribed to every topic, one of them a dead receiver: the hooks' cost, and
   proof that a dead receiver does not slow a transition (no workers run meanwhile);
2. payment callbacks: latency of a first (applying) callback and of its replay;
3. webhook delivery by a dedicated notifications worker (as in production), trucks gated in
   at 10/s: latency from the delivery row's creation to the receiver reading it, and the
   HTTP attempt alone;
4. the same with the embedded default's shared worker threads, where document rendering
   competes for the process (GIL) and the threads.
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
from tests.support import MACHINERY, build_world, screened, wait_until

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


async def ready_trucks(world: Any, first: int, count: int, *, screeners: bool = False) -> list[str]:
    """Trucks awaiting arrival: screened here, or by the running screening workers."""
    ids = []
    for i in range(first, first + count):
        created = await world.file(
            cargo=MACHINERY, vehicle={"plate": plate(i), "trailer_plate": None, "country": "VN"}
        )
        await world.submit(created["id"])
        if not screeners:
            await screen_green(world, created["id"])
        ids.append(created["id"])
    for declaration_id in ids if screeners else []:
        await wait_until(world, declaration_id, screened, timeout=300)
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


async def start_notifications_worker(platform: Any) -> Any:
    """A relay and Dramatiq worker threads consuming only the `notifications` queue."""
    import dramatiq
    from dramatiq.asyncio import get_event_loop_thread

    from border_gate.workers.actors import register_actors
    from border_gate.workers.broker import build_broker
    from border_gate.workers.context import WorkerContext
    from border_gate.workers.relay import OutboxRelay

    broker = build_broker(platform.settings)
    context = WorkerContext(
        platform.settings, outbox_listeners=platform.outbox_listeners, clock=platform.clock
    )
    register_actors(broker, context)
    worker = dramatiq.Worker(broker, worker_threads=4, queues={"notifications"})
    worker.start()
    relay = OutboxRelay(platform, broker)
    platform.outbox_listeners.append(relay.wake)
    task = asyncio.create_task(relay.run())

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        platform.outbox_listeners.remove(relay.wake)
        relay.close()
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            await asyncio.to_thread(loop_thread.run_coroutine, context.close())
        await asyncio.to_thread(worker.stop)
        await asyncio.to_thread(broker.close)

    return stop


async def delivery_series(
    world: Any, platform: Any, hook: Any, first: int, trucks: int, number: str, label: str
) -> None:
    """Gate in fresh trucks at 10/s; time their fee.charged deliveries to the live receiver."""
    ids = set(await ready_trucks(world, first, trucks, screeners=label == "embedded"))
    await drained(platform)  # start from an idle worker
    mark = len(hook.snapshot())
    started = time.perf_counter()
    for i in range(first, first + trucks):
        response = await world.gate_event("gate_in", plate(i))
        assert response.status_code == 201, response.text
        await asyncio.sleep(0.1)  # a steady 10 trucks/s at the gate

    def fresh() -> list[Any]:
        found = []
        for r in hook.snapshot()[mark:]:
            payload = msgspec.json.decode(r.body)
            if payload["topic"] == "fee.charged" and payload["declaration"]["id"] in ids:
                found.append((r, payload))
        return found

    while time.perf_counter() - started < 600:
        got = fresh()
        if len(got) >= 2 * trucks:
            break
        await asyncio.sleep(0.1)
    async with platform.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(WebhookDelivery.id, WebhookDelivery.created_at).where(
                    WebhookDelivery.declaration_id.in_(list(ids))
                )
            )
        ).all()
        attempts = (
            await uow.session.execute(
                select(WebhookAttempt.duration_ms)
                .join(WebhookDelivery, WebhookAttempt.delivery_id == WebhookDelivery.id)
                .where(
                    WebhookDelivery.declaration_id.in_(list(ids)),
                    WebhookDelivery.topic == "fee.charged",
                    WebhookAttempt.status_code == 200,
                )
            )
        ).all()
    created = {row.id: row.created_at.timestamp() for row in rows}
    latencies = [(r.received_at - created[payload["id"]]) * 1000 for r, payload in got]
    print(
        f"{number}a. {label}: fee.charged to 2 live endpoints at 10 gate-ins/s: "
        f"{len(got)} of {2 * trucks} received in {time.perf_counter() - started:.1f} s"
    )
    print(line(f"{number}b. {label}: delivery row created → receiver read it", latencies))
    print(line(f"{number}c. {label}: the HTTP attempt itself", [float(a[0]) for a in attempts]))


async def run(trucks: int, database_url: str, data_dir: Path) -> None:
    settings = make_settings(data_dir, database_url, **{**FEE_ENV, "WORKER_THREADS": "4"})
    platform = build_platform(settings)
    app = create_app(platform=platform)
    stop = None
    try:
        async with running_lifespan(app):
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
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

                    # 3. A dedicated notifications worker (as in production: `border-gate
                    # worker --queue notifications`): nothing else competes for its threads.
                    # Other messages go to a broker nobody consumes here and are dropped.
                    dedicated = await start_notifications_worker(platform)
                    await delivery_series(world, platform, hook, 2000, trucks, "3", "dedicated")
                    await dedicated()

                    # 4. The embedded default: one pool of worker threads for every queue,
                    # sharing the process (and its GIL) with document rendering.
                    stop = await start_in_process(platform, consume=True)
                    await delivery_series(world, platform, hook, 4000, trucks, "4", "embedded")
    finally:
        if stop is not None:
            await stop()
        await platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=50)
    args = parser.parse_args()
    if not 1 <= args.trucks <= 70:
        parser.error("--trucks must be 1..70: four series and a warm-up fit the yard (300)")
    with scratch_database("bench_fees") as url, tempfile.TemporaryDirectory() as data_dir:
        asyncio.run(run(args.trucks, url, Path(data_dir)))


if __name__ == "__main__":
    main()
