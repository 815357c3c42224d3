"""Benchmark: end-to-end screening throughput and latency beside the raw broker's ceiling.

    .venv/bin/python -m bench.screening [--declarations 600] [--rate 20] [--seconds 15]

Measured in one run on this machine, against the real PostgreSQL and RabbitMQ:
1. the ceiling: raw publish (persistent, publisher confirms) + consume (ack) messages/s
   through the same RabbitMQ with pika, in one publisher and one consumer thread;
2. screening throughput: declarations submitted through a real API process until every one
   of their three checks (customs, quarantine, border guard) has landed, with 1 and 2
   `border-gate worker` processes (submissions/s, and check messages/s);
3. latency at a steady load (default 20 submissions/s): time from the submit event to the
   last screening event of each declaration, both stamped by the platform's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as host
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pika
from sqlalchemy import func, select

from bench.common import percentile, scratch_database, scratch_vhost
from border_gate.db.models import DeclarationRow, EventRow, OutboxRow
from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import build_platform
from border_gate.settings import load_settings
from tests.processes import processes
from tests.support import MACHINERY, declaration_body

PASSWORD = "bench-password-123"


def raw_broker_rate(url: str, count: int) -> float:
    """Messages/s published with confirms and consumed with acks, end to end."""
    params = pika.URLParameters(url)
    setup = pika.BlockingConnection(params)
    setup.channel().queue_declare("bench_raw", durable=True)
    setup.close()
    body = (
        b'{"queue_name":"screening_customs","actor_name":"screen_customs","args":[],'
        + b'"kwargs":{"declaration_id":"'
        + b"0" * 36
        + b'","round":1,"work_id":"'
        + b"0" * 36
        + b'"},"options":{}}'
    )
    received = threading.Event()

    def consume() -> None:
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=100)
        seen = 0
        for method, _props, _body in channel.consume("bench_raw"):
            channel.basic_ack(method.delivery_tag)
            seen += 1
            if seen == count:
                break
        channel.cancel()
        connection.close()
        received.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for _ in range(count):
        channel.basic_publish(
            "", "bench_raw", body, pika.BasicProperties(delivery_mode=2), mandatory=True
        )
    received.wait()
    elapsed = time.perf_counter() - started
    connection.close()
    consumer.join()
    return count / elapsed


async def prepare(env: dict[str, str]) -> None:
    settings = load_settings({**os.environ, **env})
    platform = build_platform(settings)
    try:
        await create_organisation(
            platform, code="FIRM_A", kind="firm", name="Công ty Nông sản Đồng Đăng"
        )
        await create_user(
            platform,
            username="firm_a",
            role="firm_user",
            organisation_code="FIRM_A",
            password=PASSWORD,
        )
    finally:
        await platform.close()


async def file_many(url: str, headers: dict[str, str], count: int, offset: int) -> list[str]:
    ids: list[str] = []
    limit = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, i: int) -> None:
        n = offset + i
        body = declaration_body(vehicle={"plate": f"29H-{10000 + n}", "country": "VN"})
        if n % 3:
            body["cargo"] = MACHINERY
        async with limit:
            response = await client.post(f"{url}/api/v1/declarations", json=body, headers=headers)
        response.raise_for_status()
        ids.append(response.json()["id"])

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(client, i) for i in range(count)))
    return ids


async def screened_count(platform: Any, ids: list[str]) -> int:
    async with platform.unit_of_work() as uow:
        return int(
            (
                await uow.session.execute(
                    select(func.count(EventRow.id)).where(
                        EventRow.action == "screen", EventRow.declaration_id.in_(ids)
                    )
                )
            ).scalar_one()
        )


async def wait_screened(platform: Any, ids: list[str], timeout: float = 300) -> float:  # noqa: ASYNC109
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if await screened_count(platform, ids) >= 3 * len(ids):
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise RuntimeError("screening did not finish in time")


async def latencies(platform: Any, ids: list[str]) -> list[float]:
    """Per declaration: last screening event time minus submit event time, in ms."""
    async with platform.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(EventRow.declaration_id, EventRow.action, func.max(EventRow.at))
                .where(EventRow.declaration_id.in_(ids), EventRow.action.in_(["submit", "screen"]))
                .group_by(EventRow.declaration_id, EventRow.action)
            )
        ).all()
    times: dict[str, dict[str, Any]] = {}
    for declaration_id, action, at in rows:
        times.setdefault(declaration_id, {})[action] = at
    return [
        (t["screen"] - t["submit"]).total_seconds() * 1000 for t in times.values() if len(t) == 2
    ]


async def run_platform(
    env: dict[str, str], workers: int, count: int, rate: float, seconds: float, log_dir: Path
) -> dict[str, float]:
    settings = load_settings({**os.environ, **env})
    platform = build_platform(settings, pool_size=4)
    result: dict[str, float] = {}
    try:
        with processes(env, log_dir) as group:
            url = group.api()
            for _ in range(workers):
                group.worker(threads=8)
            async with httpx.AsyncClient(timeout=30) as client:
                token = (
                    await client.post(
                        f"{url}/api/v1/auth/token",
                        json={"username": "firm_a", "password": PASSWORD},
                    )
                ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            # warm up: a few submissions through the whole pipe
            warm = await file_many(url, headers, 10, 0)
            async with httpx.AsyncClient(timeout=30) as client:
                for declaration_id in warm:
                    await client.post(
                        f"{url}/api/v1/declarations/{declaration_id}/submit", headers=headers
                    )
            await wait_screened(platform, warm)

            # 1. throughput: submit `count` as fast as the API takes them
            ids = await file_many(url, headers, count, 100)
            limit = asyncio.Semaphore(16)
            started = time.perf_counter()

            async def submit(client: httpx.AsyncClient, declaration_id: str) -> None:
                async with limit:
                    response = await client.post(
                        f"{url}/api/v1/declarations/{declaration_id}/submit", headers=headers
                    )
                response.raise_for_status()

            async with httpx.AsyncClient(timeout=60) as client:
                await asyncio.gather(*(submit(client, i) for i in ids))
            submitted = time.perf_counter()
            finished = await wait_screened(platform, ids)
            result["submit_rate"] = count / (submitted - started)
            result["throughput"] = count / (finished - started)
            result["check_messages"] = 3 * count / (finished - started)

            # 2. latency at a steady rate
            steady = await file_many(url, headers, int(rate * seconds), 100 + count)
            async with httpx.AsyncClient(timeout=60) as client:
                tasks = []
                tick = time.perf_counter()
                for i, declaration_id in enumerate(steady):
                    delay = tick + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(submit(client, declaration_id)))
                await asyncio.gather(*tasks)
            await wait_screened(platform, steady)
            values = await latencies(platform, steady)
            result["latency_median_ms"] = percentile(values, 0.5)
            result["latency_p95_ms"] = percentile(values, 0.95)
            async with platform.unit_of_work() as uow:
                result["unsent"] = (
                    await uow.session.execute(
                        select(func.count(OutboxRow.id)).where(OutboxRow.sent_at.is_(None))
                    )
                ).scalar_one()
                result["declarations"] = (
                    await uow.session.execute(select(func.count(DeclarationRow.id)))
                ).scalar_one()
    finally:
        await platform.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--declarations", type=int, default=600)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--raw-messages", type=int, default=20000)
    args = parser.parse_args()
    print(f"Máy / machine: {host.node()}, {os.cpu_count()} CPU, Python {host.python_version()}")
    with scratch_vhost() as url:
        raw = raw_broker_rate(url, args.raw_messages)
    print(f"Trần / ceiling: raw RabbitMQ publish+consume (confirms, acks): {raw:,.0f} msg/s")
    rows = []
    for workers in (1, 2):
        with (
            scratch_database() as database_url,
            scratch_vhost() as broker_url,
            tempfile.TemporaryDirectory() as tmp,
        ):
            env = {
                "DATABASE_URL": database_url,
                "BROKER_URL": broker_url,
                "SECRET_KEY": "bench-secret-key-0123456789abcdefghijkl",
                "DATA_DIR": tmp,
                "ARGON2_LIGHT": "1",
                "LOG_LEVEL": "WARNING",
            }
            asyncio.run(prepare(env))
            print(
                f"… {workers} worker process(es): {args.declarations} submissions, then {args.rate:g}/s for {args.seconds:g} s",
                flush=True,
            )
            result = asyncio.run(
                run_platform(
                    env, workers, args.declarations, args.rate, args.seconds, Path(tmp) / "logs"
                )
            )
            rows.append((workers, result))
    print()
    print(
        "| workers | submissions/s accepted | screened declarations/s | check messages/s | vs raw broker | latency median | latency p95 |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for workers, r in rows:
        print(
            f"| {workers} | {r['submit_rate']:.0f} | {r['throughput']:.1f} | {r['check_messages']:.0f} | "
            f"{r['check_messages'] / raw:.1%} | {r['latency_median_ms']:.0f} ms | {r['latency_p95_ms']:.0f} ms |"
        )
    print(
        f"\nraw broker ceiling: {raw:,.0f} msg/s; aim: check messages/s ≥ 1/3 of it, median latency < 200 ms at {args.rate:g}/s"
    )


if __name__ == "__main__":
    main()
