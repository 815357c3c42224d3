"""The Dramatiq actors: one screening actor per agency, and the one that records exhaustion.

Actors are thin: they call application services with the work id the outbox gave their
message, so a redelivered or duplicated message is recognised and changes nothing.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import dramatiq

from border_gate.documents.policy import (
    CLEARANCE_QUEUE,
    CLEARANCE_RENDER_ACTOR,
    DOCUMENT_QUEUE,
    RENDER_ACTOR,
)
from border_gate.documents.service import issue_document
from border_gate.messaging.policy import screening_actor, screening_queue
from border_gate.notifications.service import (
    DELIVER_ACTOR,
    NOTIFICATION_QUEUE,
    WebhookDeliveryFailed,
    deliver,
)
from border_gate.platform import message_time
from border_gate.screening.service import AGENCIES, record_check_failure, run_screening
from border_gate.workers.context import WorkerContext

log = logging.getLogger("border_gate.workers")

EXHAUSTED_ACTOR = "check_exhausted"
EXHAUSTED_QUEUE = "attention"


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exceeded|Interrupt|Closed)\b.*")


def last_exception_line(traceback_text: str) -> str:
    """The 'SomeError: message' line a person needs from a formatted traceback."""
    found = [line for line in traceback_text.splitlines() if _EXCEPTION_LINE.match(line)]
    return found[-1] if found else (traceback_text.strip().splitlines() or ["unknown error"])[-1]


def register_actors(
    broker: dramatiq.Broker, context: WorkerContext
) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Declare every actor on `broker` (which also declares their queues)."""
    actors: dict[str, dramatiq.Actor[Any, Any]] = {}
    settings = context.settings

    for agency in AGENCIES:
        name = screening_actor(agency)

        async def screen(
            declaration_id: str,
            round: int,
            work_id: str,
            requested_at: str | None = None,
            requested_real: str | None = None,
            _agency: str = agency,
            _name: str = name,
        ) -> None:
            with message_time(requested_at, requested_real):
                outcome = await run_screening(
                    context.platform,
                    context.rules,
                    agency=_agency,
                    declaration_id=declaration_id,
                    round_=round,
                    work_id=work_id,
                    actor_name=_name,
                )
            log.debug("%s %s round %s: %s", _name, declaration_id, round, outcome)

        screen.__name__ = name
        actors[name] = dramatiq.actor(
            screen,
            broker=broker,
            actor_name=name,
            queue_name=screening_queue(agency),
            time_limit=settings.check_time_limit_ms,
            max_retries=settings.check_max_retries,
            on_retry_exhausted=EXHAUSTED_ACTOR,
        )

    def render_actor(actor_name: str) -> Any:
        async def render_document(
            declaration_id: str,
            kind: str,
            stage: str | None,
            work_id: str,
            requested_at: str | None = None,
            requested_real: str | None = None,
        ) -> None:
            """Render, sign and store one document (CPU-heavy: runs in a thread of its own)."""
            with message_time(requested_at, requested_real):
                outcome = await issue_document(
                    context.platform,
                    declaration_id=declaration_id,
                    kind=kind,
                    stage=stage,
                    work_id=work_id,
                    actor_name=actor_name,
                )
            log.debug("%s %s %s %s: %s", actor_name, declaration_id, kind, stage, outcome)

        render_document.__name__ = actor_name
        return render_document

    for actor_name, queue_name, priority in (
        (RENDER_ACTOR, DOCUMENT_QUEUE, 0),
        # Lower runs first when several documents wait for this process's threads.
        (CLEARANCE_RENDER_ACTOR, CLEARANCE_QUEUE, -5),
    ):
        actors[actor_name] = dramatiq.actor(
            render_actor(actor_name),
            broker=broker,
            actor_name=actor_name,
            queue_name=queue_name,
            priority=priority,
            time_limit=max(settings.check_time_limit_ms, 120_000),
            max_retries=settings.check_max_retries,
            on_retry_exhausted=EXHAUSTED_ACTOR,
        )

    async def deliver_webhook(
        delivery_id: str,
        work_id: str,
        requested_at: str | None = None,
        requested_real: str | None = None,
    ) -> None:
        """One attempt at a webhook delivery; a failure raises and is retried with backoff.

        Its own queue, so a slow or dead receiver never holds up screening or documents;
        the attempt count lives in the delivery row, which marks it failed at the bound.
        """
        with message_time(requested_at, requested_real):
            try:
                await deliver(context.platform, delivery_id)
            except WebhookDeliveryFailed as failed:
                # Expected (the receiver's fault): retried with backoff, logged without a trace.
                raise dramatiq.Retry(str(failed)) from None

    actors[DELIVER_ACTOR] = dramatiq.actor(
        deliver_webhook,
        broker=broker,
        actor_name=DELIVER_ACTOR,
        queue_name=NOTIFICATION_QUEUE,
        # Ahead of document rendering when both wait for this process's worker threads
        # (lower runs first): a webhook is a few milliseconds, a document a second of CPU.
        priority=-10,
        time_limit=(settings.webhook_timeout_seconds + 30) * 1000,
        # One more than the bound: the last attempt marks the delivery failed and returns.
        max_retries=settings.webhook_max_attempts,
        min_backoff=settings.webhook_min_backoff_ms,
        max_backoff=settings.webhook_max_backoff_ms,
    )

    async def check_exhausted(message: dict[str, Any], retry_info: dict[str, Any]) -> None:
        """A check gave up: record it for an admin and flag the declaration's stage."""
        options = message.get("options", {})
        kwargs = dict(message.get("kwargs", {}))
        with message_time(kwargs.get("requested_at"), kwargs.get("requested_real")):
            await record_check_failure(
                context.platform,
                actor_name=message["actor_name"],
                queue_name=message["queue_name"],
                kwargs=kwargs,
                error=last_exception_line(str(options.get("traceback", ""))),
                attempts=int(retry_info.get("retries", 0)) + 1,
            )

    # Recording must not itself give up quietly: many retries, long backoff.
    actors[EXHAUSTED_ACTOR] = dramatiq.actor(
        check_exhausted,
        broker=broker,
        actor_name=EXHAUSTED_ACTOR,
        queue_name=EXHAUSTED_QUEUE,
        max_retries=100,
        time_limit=settings.check_time_limit_ms,
    )
    return actors
