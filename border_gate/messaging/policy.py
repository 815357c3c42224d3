"""What a transition asks to happen next, as outbox messages. Pure: events in, messages out."""

from __future__ import annotations

from border_gate.documents.policy import document_follow_ups
from border_gate.messaging.outbox import OutboxMessage
from workflows.definitions import screenings_for
from workflows.machine import Event
from workflows.model import Declaration


def screening_actor(agency: str) -> str:
    return f"screen_{agency}"


def screening_queue(agency: str) -> str:
    """One queue per agency, so each agency's checks can be given their own workers."""
    return f"screening_{agency}"


def follow_ups(
    before: Declaration | None, after: Declaration, events: list[Event]
) -> list[OutboxMessage]:
    """Messages for the work these events trigger, committed in the same transaction."""
    messages: list[OutboxMessage] = []
    for event in events:
        if event.action == "submit":
            for agency in screenings_for(after.stages):
                messages.append(
                    OutboxMessage(
                        actor_name=screening_actor(agency),
                        queue_name=screening_queue(agency),
                        kwargs={"declaration_id": after.id, "round": event.data["round"]},
                        declaration_id=after.id,
                    )
                )
    return messages + document_follow_ups(before, after, events)
