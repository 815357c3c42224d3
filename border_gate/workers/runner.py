"""Running the workers: inside `serve` (embedded) or as `border-gate worker` processes.

One code path: the same broker factory, actors, relay and services in both. Only the
broker differs (in-process vs RabbitMQ) and where the threads live.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from border_gate.platform import Platform
from border_gate.settings import Settings
from border_gate.workers.actors import register_actors
from border_gate.workers.broker import build_broker
from border_gate.workers.context import WorkerContext
from border_gate.workers.relay import OutboxRelay

log = logging.getLogger("border_gate.workers")


async def start_in_process(
    platform: Platform, *, consume: bool | None = None
) -> Callable[[], Awaitable[None]]:
    """Start the relay (always) and, with no BROKER_URL, Dramatiq worker threads in this process.

    `consume=True` also consumes from RabbitMQ in this process (tests and small sites).

    Returns the coroutine function that stops them. Pending outbox rows left by an earlier
    run are picked up by the relay's first sweep, so work resumes after a restart.
    """
    settings = platform.settings
    broker = build_broker(settings)
    context = WorkerContext(
        settings,
        outbox_listeners=platform.outbox_listeners,
        clock=platform.clock,
    )
    register_actors(broker, context)
    worker: dramatiq.Worker | None = None
    if consume if consume is not None else not settings.broker_url:
        worker = dramatiq.Worker(broker, worker_threads=settings.worker_threads, worker_timeout=100)
        worker.start()
    relay = OutboxRelay(platform, broker)
    platform.outbox_listeners.append(relay.wake)
    relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
    from border_gate.queue.service import tick_forever

    queue_task = asyncio.create_task(tick_forever(platform), name="queue-tick")
    platform.background = {"relay": relay, "broker": broker, "worker": worker, "context": context}

    async def stop() -> None:
        relay_task.cancel()
        queue_task.cancel()
        await asyncio.gather(relay_task, queue_task, return_exceptions=True)
        if relay.wake in platform.outbox_listeners:
            platform.outbox_listeners.remove(relay.wake)
        relay.close()
        if worker is not None:
            loop_thread = get_event_loop_thread()
            if loop_thread is not None:
                await asyncio.to_thread(loop_thread.run_coroutine, context.close())
            await asyncio.to_thread(worker.stop)
        await asyncio.to_thread(broker.close)

    return stop


def run_worker_process(settings: Settings, *, threads: int, queues: set[str] | None) -> int:
    """`border-gate worker`: consume from RabbitMQ until SIGTERM/SIGINT, relaying as we go."""
    if not settings.broker_url:
        print(
            "border-gate worker cần BROKER_URL=amqp://…; chế độ nhúng chạy worker trong `serve` / "
            "border-gate worker needs BROKER_URL=amqp://…; the embedded default runs workers inside `serve`"
        )
        return 2
    broker = build_broker(settings)
    listeners: list[Callable[[], None]] = []
    context = WorkerContext(settings, outbox_listeners=listeners)
    register_actors(broker, context)
    worker = dramatiq.Worker(broker, worker_threads=threads, queues=queues)
    worker.start()
    loop_thread = get_event_loop_thread()
    assert loop_thread is not None

    async def relay_forever() -> None:
        relay = OutboxRelay(context.platform, broker)
        listeners.append(relay.wake)
        try:
            await relay.run()
        finally:
            relay.close()

    relay_future = asyncio.run_coroutine_threadsafe(relay_forever(), loop_thread.loop)
    stopping = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %s: stopping after current messages", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    queue_text = ", ".join(sorted(queues)) if queues else "tất cả / all"
    print(
        f"Worker: {threads} luồng / threads, hàng đợi / queues: {queue_text}; broker {broker.__class__.__name__}",
        flush=True,
    )
    stopping.wait()
    relay_future.cancel()
    try:
        loop_thread.run_coroutine(context.close())
    except Exception as exc:  # closing connections at exit must not hide the stop
        log.warning("closing the database pool: %s", exc)
    worker.stop()
    broker.close()
    return 0
