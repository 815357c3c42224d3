"""Which events matter to a firm, as webhook topics. Pure: events in, notices out.

Queue events (`book_slot`, `call_forward`, `queue_position`) come from the slot-booking
and queue work; they are mapped here by action name, so they notify as soon as they exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from workflows.machine import Event
from workflows.model import Declaration, Status

SCREENED = "declaration.screened"
AMENDMENT_REQUESTED = "declaration.amendment_requested"
SLOT_CONFIRMED = "slot.confirmed"
CALLED_FORWARD = "queue.called_forward"
EXPECTED_TIME_CHANGED = "queue.expected_time_changed"
CLEARED = "declaration.cleared"
DOCUMENT_ISSUED = "document.issued"
FEE_CHARGED = "fee.charged"
FEE_PAID = "fee.paid"
PING = "ping"

#: Every topic a firm may subscribe to, with what it means (shown in the API docs).
TOPICS: dict[str, str] = {
    SCREENED: "all agencies' screening landed (customs channel, stages required)",
    AMENDMENT_REQUESTED: "an officer asked the firm to amend the declaration",
    SLOT_CONFIRMED: "an arrival slot was booked and confirmed",
    CALLED_FORWARD: "the truck is called forward from the waiting area",
    EXPECTED_TIME_CHANGED: "the expected call time moved by more than the threshold",
    CLEARED: "every stage approved: the truck may leave",
    DOCUMENT_ISSUED: "a signed document was issued for the declaration",
    FEE_CHARGED: "the infrastructure fee was charged at gate-in",
    FEE_PAID: "the fee was paid (a receipt follows as document.issued)",
}

#: Statuses a declaration is in before every agency's screening has landed.
_UNSCREENED = frozenset({Status.DRAFT, Status.SUBMITTED})


class Notice(msgspec.Struct, frozen=True):
    """One thing to tell the firm that owns the declaration."""

    topic: str
    at: datetime
    data: dict[str, Any] = {}


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def expected_time_notice(event: Event, threshold: timedelta) -> Notice | None:
    """A queue_position event moved the expected call time by more than `threshold`."""
    new = _instant(event.data.get("expected_call_at"))
    old = _instant(event.data.get("previous_expected_call_at"))
    if new is None or old is None:
        return None  # the first estimate is not a change; a missing one is nothing to say
    moved = new - old
    if abs(moved) <= threshold:
        return None
    return Notice(
        topic=EXPECTED_TIME_CHANGED,
        at=event.at,
        data={
            "expected_call_at": new.isoformat(),
            "previous_expected_call_at": old.isoformat(),
            "change_minutes": round(moved.total_seconds() / 60, 1),
            **{k: v for k, v in event.data.items() if k in ("position", "reason")},
        },
    )


def notices_for(
    before: Declaration | None,
    after: Declaration,
    events: list[Event],
    *,
    expected_time_threshold: timedelta,
) -> list[Notice]:
    """The notices one transition (its events, and the state before and after) calls for."""
    notices: list[Notice] = []
    for event in events:
        if event.action == "request_amendment":
            notices.append(
                Notice(
                    topic=AMENDMENT_REQUESTED,
                    at=event.at,
                    data={
                        "stage": event.stage.value if event.stage else None,
                        "reason": event.reason,
                    },
                )
            )
        elif event.action == "book_slot":
            notices.append(Notice(topic=SLOT_CONFIRMED, at=event.at, data=dict(event.data)))
        elif event.action == "call_forward":
            notices.append(Notice(topic=CALLED_FORWARD, at=event.at, data=dict(event.data)))
        elif event.action == "queue_position":
            if (notice := expected_time_notice(event, expected_time_threshold)) is not None:
                notices.append(notice)
    at = events[-1].at if events else None
    if at is not None and before is not None:
        if before.status in _UNSCREENED and after.status not in _UNSCREENED:
            notices.append(
                Notice(
                    topic=SCREENED,
                    at=at,
                    data={
                        "channel": after.channel.value if after.channel else None,
                        "round": after.screening_round,
                        "stages": {
                            stage.value: record.state.value
                            for stage, record in after.stages.items()
                        },
                    },
                )
            )
        if after.status is Status.CLEARED and before.status is not Status.CLEARED:
            notices.append(Notice(topic=CLEARED, at=at, data={}))
    return notices
