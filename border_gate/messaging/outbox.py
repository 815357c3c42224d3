"""The transactional outbox: work a transition asks for, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from border_gate.db.models import OutboxRow


class OutboxMessage(msgspec.Struct, frozen=True):
    """A message for one actor; `kwargs` must be JSON builtins."""

    actor_name: str
    queue_name: str
    kwargs: dict[str, Any]
    declaration_id: str | None = None
    delay: timedelta = timedelta(0)


class Outbox:
    """Adds messages to the session's transaction; they are published only if it commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.added = 0

    async def add(self, messages: list[OutboxMessage], now: datetime) -> list[str]:
        if not messages:
            return []
        rows = []
        real_now = datetime.now(UTC).isoformat()
        for message in messages:
            message_id = str(uuid.uuid4())
            # work_id is what consumers de-duplicate on; a retry of the same work keeps it.
            # requested_at/requested_real carry the transition's time to the worker's clock.
            kwargs = {
                "work_id": message_id,
                "requested_at": now.isoformat(),
                "requested_real": real_now,
                **message.kwargs,
            }
            rows.append(
                {
                    "message_id": message_id,
                    "queue_name": message.queue_name,
                    "actor_name": message.actor_name,
                    "payload": msgspec.json.encode({"kwargs": kwargs}).decode(),
                    "declaration_id": message.declaration_id,
                    "created_at": now,
                    "available_at": now + message.delay,
                    "sent_at": None,
                    "publish_attempts": 0,
                }
            )
        await self.session.execute(insert(OutboxRow), rows)
        self.added += len(rows)
        return [r["message_id"] for r in rows]
