"""Benchmark: last approval → clearance certificate downloadable, under a steady load of trucks.

    .venv/bin/python -m bench.clearance [--rate 1.0] [--seconds 60] [--workers 2]
    .venv/bin/python -m bench.clearance --certificates-only     # no other documents in the load

Against the real PostgreSQL and RabbitMQ (a scratch database and a scratch vhost, removed
afterwards), one real API process and `--workers` real `border-gate worker` processes.

1. Before the clock: export trucks carrying durian (customs, plant and health quarantine,
   border guard) are filed, submitted and screened, gated in, their gate fee paid (the
   provider's signed callback), and every stage approved over HTTP as the officers would,
   except the border guard's, which is the truly last stage of an export (it waits for
   customs and every quarantine). Their yard tickets, fee receipts, customs releases and
   quarantine certificates are issued by the workers and the documents queue drained
   before the clock starts.
2. The clock: at `--rate` trucks a second the border guard approves one of them over HTTP
   (the truck becomes cleared and the clearance certificate is queued). So that the load
   is "one cleared truck a second with all of its documents", each tick also drives a
   second, fresh truck through gate-in, fee payment and its customs / plant / health
   approvals, which queue its yard ticket, fee receipt, customs release and quarantine
   certificates — the documents of the truck behind it in the line
   (`--certificates-only` leaves this out).
3. Latency of each certificate: from the time of the border guard's `approve` event (the
   platform's own stamp) to the moment `GET /api/v1/documents/{id}` answers 200 with a
   PDF. The bench finds the document by polling the database every 50 ms for the
   certificate's row (the row and the signed bytes commit in one transaction, so a row
   seen is a document downloadable), then downloads it over HTTP and stops the clock when
   the PDF has arrived. The row's `issued_at` is not used as the end: the worker stamps it
   before rendering, so it would leave out the render itself.
4. Beside it, in the same run: a bare WeasyPrint render of the same certificate's HTML
   (documents/s in one process, the machine's ceiling), the documents/s the workers
   achieved during the timed window, and the load average before and after. Where the
   time of each certificate went: relay (approve → published), queue (published → a
   worker starts it), render + sign + store (start → committed), download.

A benchmark prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import percentile, scratch_database, scratch_vhost
from border_gate.db.models import DocumentRow, EventRow, Organisation, OutboxRow, ProcessedMessage
from border_gate.documents.policy import (
    CLEARANCE_CERTIFICATE,
    CLEARANCE_RENDER_ACTOR,
    RENDER_ACTOR,
)
from border_gate.platform import Platform, build_platform
from border_gate.settings import load_settings
from tests.integration.fees_support import PAYMENT_SECRET, callback_body, fees_of, post_callback
from tests.processes import processes
from tests.support import GATE, World, build_world

RENDER_ACTORS = (RENDER_ACTOR, CLEARANCE_RENDER_ACTOR)
AIM_SECONDS = 3.0
POLL_SECONDS = 0.05
BARE_RENDERS = 30
LAST_STAGE = "border_guard"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def check(response: httpx.Response) -> None:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")


def plate_of(n: int) -> str:
    return f"29H-{10000 + n}"


#: One yard camera: the platform refuses concurrent slot assignments loudly (409), so
#: trucks are gated in one at a time, as at the real gate.
YARD_CAMERA = asyncio.Lock()


async def gate_in(w: World, declaration_id: str, plate: str) -> None:
    async with YARD_CAMERA:
        response = await w.client.post(
            f"/api/v1/gates/{GATE}/events",
            json={"kind": "gate_in", "plate": plate, "declaration_id": declaration_id},
            headers=w.as_("yard"),
        )
    check(response)


async def pay_fee(w: World, declaration_id: str) -> None:
    """The firm pays the gate fee charged at gate-in; the provider's signed callback lands."""
    (charge,) = await fees_of(w, declaration_id)
    check(await post_callback(w, callback_body(charge)))


async def arrive(w: World, declaration_id: str, plate: str) -> None:
    """Gate-in, fee paid, every stage approved but the border guard's."""
    await gate_in(w, declaration_id, plate)
    await pay_fee(w, declaration_id)
    await approve_all_but_last(w, declaration_id)


OFFICER_OF = {
    "customs": "customs",
    "plant_quarantine": "plant",
    "animal_quarantine": "animal",
    "health_quarantine": "health",
    "border_guard": "guard",
}


async def approve_all_but_last(w: World, declaration_id: str) -> None:
    """Approve every open stage, as its officer, until only the border guard's is left."""
    for _ in range(10):
        current = await w.get(declaration_id)
        open_stages = [
            stage
            for stage, record in current["stages"].items()
            if record["state"] == "in_review" and stage != LAST_STAGE
        ]
        if not open_stages:
            break
        stage = open_stages[0]
        response = await w.client.post(
            f"/api/v1/declarations/{declaration_id}/stages/{stage}/decision",
            json={"decision": "approve", "reason": "Đạt / OK"},
            headers=w.as_(OFFICER_OF[stage], **{"If-Match": f'"{current["version"]}"'}),
        )
        check(response)
    current = await w.get(declaration_id)
    state = current["stages"][LAST_STAGE]["state"]
    if state != "in_review":
        raise RuntimeError(f"{declaration_id}: border guard stage is {state}, not in_review")


async def approve_last(w: World, declaration_id: str) -> None:
    current = await w.get(declaration_id)
    response = await w.client.post(
        f"/api/v1/declarations/{declaration_id}/stages/{LAST_STAGE}/decision",
        json={"decision": "approve", "reason": "Kiểm tra xe đạt, cho xuất cảnh"},
        headers=w.as_("guard", **{"If-Match": f'"{current["version"]}"'}),
    )
    check(response)
    if response.json()["status"] != "cleared":
        raise RuntimeError(f"{declaration_id}: not cleared after the border guard's approval")


async def file_and_screen(w: World, count: int, offset: int) -> list[tuple[str, str]]:
    """(declaration id, plate) of `count` durian exports, submitted and screened."""
    limit = asyncio.Semaphore(8)
    trucks: list[tuple[str, str]] = []

    async def one(n: int) -> None:
        plate = plate_of(n)
        async with limit:
            created = await w.file(vehicle={"plate": plate, "country": "VN"})
            await w.submit(created["id"])
        trucks.append((created["id"], plate))

    await asyncio.gather(*(one(offset + i) for i in range(count)))
    ids = [declaration_id for declaration_id, _ in trucks]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        statuses = await declaration_statuses(w.platform, ids)
        if len(statuses) == len(ids) and all(
            status not in ("draft", "submitted") for status in statuses.values()
        ):
            return sorted(trucks, key=lambda t: t[1])
        await asyncio.sleep(0.2)
    raise RuntimeError("screening did not finish in time")


async def declaration_statuses(platform: Platform, ids: list[str]) -> dict[str, str]:
    from border_gate.db.models import DeclarationRow

    async with platform.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(DeclarationRow.id, DeclarationRow.status).where(DeclarationRow.id.in_(ids))
            )
        ).all()
    return {declaration_id: status for declaration_id, status in rows}


async def bring_to_last_approval(w: World, trucks: list[tuple[str, str]]) -> None:
    limit = asyncio.Semaphore(6)

    async def one(declaration_id: str, plate: str) -> None:
        async with limit:
            await arrive(w, declaration_id, plate)

    await asyncio.gather(*(one(i, p) for i, p in trucks))


async def render_backlog(platform: Platform) -> int:
    """Document messages written to the outbox and not yet processed by a worker."""
    async with platform.unit_of_work() as uow:
        queued = (
            await uow.session.execute(
                select(func.count(OutboxRow.id)).where(OutboxRow.actor_name.in_(RENDER_ACTORS))
            )
        ).scalar_one()
        done = (
            await uow.session.execute(
                select(func.count(ProcessedMessage.message_id)).where(
                    ProcessedMessage.actor_name.in_(RENDER_ACTORS)
                )
            )
        ).scalar_one()
    return int(queued) - int(done)


async def wait_drained(platform: Platform, timeout: float = 1200) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await render_backlog(platform) <= 0:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the documents queue did not drain in time")


async def document_count(platform: Platform) -> int:
    async with platform.unit_of_work() as uow:
        return int((await uow.session.execute(select(func.count(DocumentRow.id)))).scalar_one())


@dataclass
class Watch:
    """Certificates seen committed and then downloaded, by declaration id."""

    ids: set[str]
    seen: dict[str, datetime] = field(default_factory=dict)
    downloaded: dict[str, datetime] = field(default_factory=dict)
    document_of: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


async def watch_certificates(w: World, watch: Watch, stop: asyncio.Event) -> None:
    downloads: list[asyncio.Task[None]] = []

    async def download(declaration_id: str, document_id: str) -> None:
        response = await w.client.get(f"/api/v1/documents/{document_id}", headers=w.as_("firm_a"))
        if response.status_code == 200 and response.content.startswith(b"%PDF-"):
            watch.downloaded[declaration_id] = datetime.now(UTC)
        else:
            watch.failures.append(f"{document_id}: {response.status_code} {response.text[:200]}")

    ids = list(watch.ids)
    while not stop.is_set():
        async with w.platform.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(DocumentRow.declaration_id, DocumentRow.id).where(
                        DocumentRow.kind == CLEARANCE_CERTIFICATE,
                        DocumentRow.declaration_id.in_(ids),
                    )
                )
            ).all()
        now = datetime.now(UTC)
        for declaration_id, document_id in rows:
            if declaration_id is not None and declaration_id not in watch.seen:
                watch.seen[declaration_id] = now
                watch.document_of[declaration_id] = document_id
                downloads.append(asyncio.create_task(download(declaration_id, document_id)))
        if len(watch.seen) == len(ids):
            break
        await asyncio.sleep(POLL_SECONDS)
    await asyncio.gather(*downloads)


async def breakdown(platform: Platform, ids: list[str]) -> dict[str, dict[str, datetime]]:
    """Per declaration: approve event, certificate message published, worker started it."""
    times: dict[str, dict[str, datetime]] = {i: {} for i in ids}
    async with platform.unit_of_work() as uow:
        for declaration_id, at in (
            await uow.session.execute(
                select(EventRow.declaration_id, EventRow.at).where(
                    EventRow.declaration_id.in_(ids),
                    EventRow.action == "approve",
                    EventRow.stage == LAST_STAGE,
                )
            )
        ).all():
            times[declaration_id]["approved"] = at
        for outbox_declaration, payload, sent_at in (
            await uow.session.execute(
                select(OutboxRow.declaration_id, OutboxRow.payload, OutboxRow.sent_at).where(
                    OutboxRow.declaration_id.in_(ids), OutboxRow.actor_name.in_(RENDER_ACTORS)
                )
            )
        ).all():
            kind = json.loads(payload)["kwargs"]["kind"]
            if outbox_declaration is not None and kind == CLEARANCE_CERTIFICATE and sent_at:
                times[outbox_declaration]["published"] = sent_at
        for document_declaration, issued_at in (
            await uow.session.execute(
                select(DocumentRow.declaration_id, DocumentRow.issued_at).where(
                    DocumentRow.declaration_id.in_(ids),
                    DocumentRow.kind == CLEARANCE_CERTIFICATE,
                )
            )
        ).all():
            if document_declaration is not None:
                times[document_declaration]["started"] = issued_at
    return times


def aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def seconds_between(start: datetime, end: datetime) -> float:
    return (aware(end) - aware(start)).total_seconds()


async def certificate_html(platform: Platform, declaration_id: str) -> str:
    """The HTML of a clearance certificate of this run's trucks, as a worker would render it."""
    from border_gate.documents import render
    from border_gate.documents.service import build_content
    from border_gate.ids import new_id

    async with platform.unit_of_work() as uow:
        declaration = await uow.declarations.get(declaration_id)
        assert declaration is not None
        firm = await uow.session.get(Organisation, declaration.organisation)
        firm_name = firm.name if firm else declaration.organisation
    content = build_content(platform, declaration, firm_name, CLEARANCE_CERTIFICATE, None, new_id())
    return render.render_html(content)


def bare_render_rate(html: str, count: int) -> tuple[float, float]:
    """Documents/s and median ms of a bare WeasyPrint render of `html`, in this process."""
    from bench.documents import bare_render

    bare_render(html)  # the engine (fonts, stylesheet) is built once, outside the timing
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        bare_render(html)
        durations.append(time.perf_counter() - started)
    return 1 / statistics.mean(durations), 1000 * statistics.median(durations)


async def run(
    env: dict[str, str],
    *,
    rate: float,
    seconds: float,
    workers: int,
    threads: int,
    with_documents: bool,
    grace: float,
    log_dir: Path,
) -> dict[str, Any]:
    settings = load_settings({**os.environ, **env})
    platform = build_platform(settings, pool_size=4)
    count = max(1, round(rate * seconds))
    result: dict[str, Any] = {"count": count}
    try:
        with processes(env, log_dir) as group:
            url = group.api()
            for _ in range(workers):
                group.worker(threads=threads)
            async with httpx.AsyncClient(base_url=url, timeout=120) as client:
                w = await build_world(platform, client)
                started_prep = time.perf_counter()
                # Warm-up: the firm's first declarations (yellow channel as a new firm), and
                # two trucks cleared end to end so every worker thread has built its engine.
                warm = await file_and_screen(w, 4, 0)
                await bring_to_last_approval(w, warm)
                for declaration_id, _ in warm:
                    await approve_last(w, declaration_id)
                to_clear = await file_and_screen(w, count, 100)
                await bring_to_last_approval(w, to_clear)
                behind = await file_and_screen(w, count, 100 + count) if with_documents else []
                await wait_drained(platform)
                result["prepare_s"] = time.perf_counter() - started_prep

                html = await certificate_html(platform, warm[0][0])
                result["load_before"] = load_average()
                result["bare_before"] = await asyncio.to_thread(
                    bare_render_rate, html, BARE_RENDERS
                )

                ids = [declaration_id for declaration_id, _ in to_clear]
                watch = Watch(ids=set(ids))
                stop = asyncio.Event()
                documents_at_start = await document_count(platform)
                watcher = asyncio.create_task(watch_certificates(w, watch, stop))
                clock_start = time.perf_counter()
                tasks: list[asyncio.Task[None]] = []
                lateness: list[float] = []
                for i, declaration_id in enumerate(ids):
                    delay = clock_start + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    else:
                        lateness.append(-delay)
                    tasks.append(asyncio.create_task(approve_last(w, declaration_id)))
                    if behind:
                        truck, plate = behind[i]

                        tasks.append(asyncio.create_task(arrive(w, truck, plate)))
                await asyncio.gather(*tasks)
                last_approval = time.perf_counter()
                try:
                    await asyncio.wait_for(asyncio.shield(watcher), timeout=grace)
                except TimeoutError:
                    stop.set()
                    await watcher
                window = time.perf_counter() - clock_start
                documents_issued = await document_count(platform) - documents_at_start
                result["load_after"] = load_average()
                # Again with the workers idle: the ceiling moves with the other sessions' load.
                result["bare_after"] = await asyncio.to_thread(bare_render_rate, html, BARE_RENDERS)
                result["fire_s"] = last_approval - clock_start
                result["behind_schedule_max_s"] = max(lateness, default=0.0)
                result["window_s"] = window
                result["documents_issued"] = documents_issued
                result["worker_rate"] = documents_issued / window
                result["backlog_after"] = await render_backlog(platform)
                times = await breakdown(platform, ids)
                latencies, relay, queue, work, fetch = [], [], [], [], []
                for declaration_id in ids:
                    t = times[declaration_id]
                    done = watch.downloaded.get(declaration_id)
                    if done is None or "approved" not in t:
                        continue
                    latencies.append(seconds_between(t["approved"], done))
                    if {"published", "started"} <= set(t):
                        relay.append(seconds_between(t["approved"], t["published"]))
                        queue.append(seconds_between(t["published"], t["started"]))
                        work.append(seconds_between(t["started"], watch.seen[declaration_id]))
                        fetch.append(seconds_between(watch.seen[declaration_id], done))
                result["latencies"] = latencies
                result["parts"] = {
                    "relay (approve → published)": relay,
                    "queue (published → worker starts)": queue,
                    "render + sign + store (→ committed, seen)": work,
                    "download (seen → PDF received)": fetch,
                }
                result["missing"] = count - len(latencies)
                async with platform.unit_of_work() as uow:
                    result["kinds"] = sorted(
                        f"{kind}{'/' + stage if stage else ''}"
                        for kind, stage in (
                            await uow.session.execute(
                                select(DocumentRow.kind, DocumentRow.stage).where(
                                    DocumentRow.declaration_id == ids[0]
                                )
                            )
                        ).all()
                    )
                result["failures"] = watch.failures
    finally:
        await platform.close()
    return result


def report(args: argparse.Namespace, r: dict[str, Any]) -> None:
    values = r["latencies"]
    late = sum(1 for v in values if v > AIM_SECONDS)
    print(
        f"\n{r['count']} trucks cleared at {args.rate:g}/s on {args.workers} worker process(es) "
        f"× {args.threads} threads, "
        + (
            "each tick also driving a fresh truck's yard ticket, fee receipt, customs release "
            "and quarantine certificates"
            if not args.certificates_only
            else "clearance certificates only"
        )
    )
    print(f"  documents of one cleared truck: {', '.join(r['kinds'])}")
    print(f"  load average before / after: {r['load_before']} / {r['load_after']}")
    print(
        f"  ceiling, bare WeasyPrint render of the same certificate HTML, one process: "
        f"{r['bare_before'][0]:.2f} documents/s ({r['bare_before'][1]:.0f} ms median) before the "
        f"clock, {r['bare_after'][0]:.2f} documents/s ({r['bare_after'][1]:.0f} ms) after"
    )
    print(
        f"  workers achieved: {r['worker_rate']:.2f} documents/s "
        f"({r['documents_issued']} documents in {r['window_s']:.1f} s from the first approval "
        f"to the last certificate seen); backlog left: {r['backlog_after']}"
    )
    print(
        f"  approvals fired in {r['fire_s']:.1f} s "
        f"(at most {r['behind_schedule_max_s']:.2f} s behind schedule); preparation took "
        f"{r['prepare_s']:.0f} s"
    )
    print(
        f"  approval → certificate downloadable: median {percentile(values, 0.5):.2f} s, "
        f"p95 {percentile(values, 0.95):.2f} s, max {max(values, default=float('nan')):.2f} s; "
        f"late (> {AIM_SECONDS:g} s): {late}, missing after {args.grace:g} s: {r['missing']}"
    )
    print(f"  {'where the time went':<44}{'median s':>9}{'p95 s':>9}")
    for name, parts in r["parts"].items():
        print(f"    {name:<42}{percentile(parts, 0.5):9.2f}{percentile(parts, 0.95):9.2f}")
    for failure in r["failures"][:5]:
        print(f"  download failed: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=1.0, help="cleared trucks per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process")
    parser.add_argument(
        "--certificates-only",
        action="store_true",
        help="no fresh trucks behind: only clearance certificates in the documents queue",
    )
    parser.add_argument(
        "--grace", type=float, default=300.0, help="seconds to wait for the last certificates"
    )
    args = parser.parse_args()
    trucks = round(args.rate * args.seconds) * (1 if args.certificates_only else 2) + 4
    if trucks > 300:
        parser.error(
            f"{trucks} trucks would not fit the Hữu Nghị yard (300 slots): lower --rate × --seconds"
        )
    print(f"Máy / machine: {host.node()}, {os.cpu_count()} CPU, Python {host.python_version()}")
    print(f"load average at start: {load_average()}", flush=True)
    with (
        scratch_database("bench_clearance") as database_url,
        scratch_vhost("bench_clearance") as broker_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env = {
            "DATABASE_URL": database_url,
            "BROKER_URL": broker_url,
            "SECRET_KEY": "bench-secret-key-0123456789abcdefghijkl",
            "DATA_DIR": tmp,
            "ARGON2_LIGHT": "1",
            "LOG_LEVEL": "WARNING",
            "PAYMENT_CALLBACK_SECRET": PAYMENT_SECRET,
        }
        result = asyncio.run(
            run(
                env,
                rate=args.rate,
                seconds=args.seconds,
                workers=args.workers,
                threads=args.threads,
                with_documents=not args.certificates_only,
                grace=args.grace,
                log_dir=Path(tmp) / "logs",
            )
        )
    report(args, result)


if __name__ == "__main__":
    main()
