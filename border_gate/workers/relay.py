"""The outbox relay: publish committed outbox rows to the broker, then mark them sent.

Every process that writes outbox rows (API and worker processes) runs one, woken right
after its own commits and sweeping every second for rows others left behind (a crashed
process, a delayed message). On PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED,
so any number of relays can run. If a relay dies after publishing but before marking the
rows sent, they are published again: consumers de-duplicate on the work id, so the copy
changes nothing. While the broker is down rows simply wait; the relay backs off and
resumes when it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import dramatiq
import msgspec
from sqlalchemy import select, update

from border_gate.db.models import OutboxRow
from border_gate.platform import Platform

log = logging.getLogger("border_gate.relay")


class OutboxRelay:
    def __init__(
        self,
        platform: Platform,
        broker: dramatiq.Broker,
        *,
        batch: int = 200,
        sweep_seconds: float = 1.0,
    ) -> None:
        self.platform = platform
        self.broker = broker
        self.batch = batch
        self.sweep_seconds = sweep_seconds
        self.published = 0
        self.failures = 0
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # pika connections are per thread: publish from one thread, always the same one.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-relay")

    def wake(self) -> None:
        """Ask the relay to look now (thread-safe; called after a commit wrote outbox rows)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def _publish(self, messages: list[dramatiq.Message[object]]) -> None:
        for message in messages:
            self.broker.enqueue(message)

    async def publish_pending(self, *, mark_sent: bool = True) -> int:
        """Publish one batch of due rows; returns how many. `mark_sent=False` leaves them
        pending as if the process had died right after publishing (used by fault tests)."""
        now = datetime.now(UTC)
        async with self.platform.unit_of_work() as uow:
            rows = (
                await uow.session.scalars(
                    select(OutboxRow)
                    .where(
                        OutboxRow.sent_at.is_(None),
                        OutboxRow.available_at <= max(now, self.platform.now()),
                    )
                    .order_by(OutboxRow.id)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            messages = [
                dramatiq.Message(
                    queue_name=row.queue_name,
                    actor_name=row.actor_name,
                    args=(),
                    kwargs=msgspec.json.decode(row.payload)["kwargs"],
                    options={},
                    message_id=row.message_id,
                    message_timestamp=int(time.time() * 1000),
                )
                for row in rows
            ]
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._publish, messages)
            if not mark_sent:
                return len(rows)
            await uow.session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row.id for row in rows]))
                .values(sent_at=now, publish_attempts=OutboxRow.publish_attempts + 1)
            )
            await uow.commit()
        self.published += len(rows)
        return len(rows)

    async def run(self) -> None:
        """Relay until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        backoff = 0.5
        while True:
            try:
                count = await self.publish_pending()
                backoff = 0.5
                if count == self.batch:
                    continue  # more are waiting
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or database down: wait and try again
                self.failures += 1
                log.warning(
                    "outbox relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, backoff
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.sweep_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
