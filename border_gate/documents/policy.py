"""Which decisions issue which document: outbox messages for the document workers. Pure."""

from __future__ import annotations

from border_gate.messaging.outbox import OutboxMessage
from workflows.machine import Event
from workflows.model import QUARANTINE_STAGES, Declaration, Stage, StageState, Status

DOCUMENT_QUEUE = "documents"
RENDER_ACTOR = "render_document"
#: The clearance certificate is what the truck waits for at the gate: it has a queue of its own
#: (so it never queues in RabbitMQ behind a backlog of other documents) and runs first among
#: the documents a worker process holds. Same function, another actor name and queue.
CLEARANCE_QUEUE = "documents_clearance"
CLEARANCE_RENDER_ACTOR = "render_clearance_certificate"

YARD_TICKET = "yard_ticket"
QUARANTINE_CERTIFICATE = "quarantine_certificate"
CUSTOMS_RELEASE = "customs_release"
CLEARANCE_CERTIFICATE = "clearance_certificate"
#: Issued when a gate fee is paid (border_gate/fees), never by a transition.
FEE_RECEIPT = "fee_receipt"


def _render(declaration: Declaration, kind: str, stage: Stage | None = None) -> OutboxMessage:
    urgent = kind == CLEARANCE_CERTIFICATE
    return OutboxMessage(
        actor_name=CLEARANCE_RENDER_ACTOR if urgent else RENDER_ACTOR,
        queue_name=CLEARANCE_QUEUE if urgent else DOCUMENT_QUEUE,
        kwargs={
            "declaration_id": declaration.id,
            "kind": kind,
            "stage": stage.value if stage else None,
        },
        declaration_id=declaration.id,
    )


def stage_document(stage: Stage) -> str | None:
    if stage is Stage.CUSTOMS:
        return CUSTOMS_RELEASE
    if stage in QUARANTINE_STAGES:
        return QUARANTINE_CERTIFICATE
    return None


def document_follow_ups(
    before: Declaration | None, after: Declaration, events: list[Event]
) -> list[OutboxMessage]:
    """The documents these events call for: a yard ticket at gate-in, a release or a
    certificate per approval, the clearance certificate when the truck is cleared, and
    fresh copies of everything still valid after an amendment is resubmitted."""
    messages: list[OutboxMessage] = []
    for event in events:
        if event.action == "gate_in":
            messages.append(_render(after, YARD_TICKET))
        elif event.action == "approve" and event.stage is not None:
            if (kind := stage_document(event.stage)) is not None:
                stage = event.stage if kind == QUARANTINE_CERTIFICATE else None
                messages.append(_render(after, kind, stage))
        elif event.action == "submit" and event.data.get("round", 1) > 1:
            if after.arrived_at is not None:
                messages.append(_render(after, YARD_TICKET))
            for stage, record in after.stages.items():
                kind = stage_document(stage)
                if kind is not None and record.state is StageState.APPROVED:
                    messages.append(
                        _render(after, kind, stage if kind == QUARANTINE_CERTIFICATE else None)
                    )
    was_cleared = before is not None and before.status is Status.CLEARED
    if after.status is Status.CLEARED and not was_cleared:
        messages.append(_render(after, CLEARANCE_CERTIFICATE))
    return messages
