"""What one transition changes in the report rollups: derived purely from the events.

The live hook (rollups.rollup_hook) and the rebuild from the event log
(rollups.rebuild_rollups) both fold the same events through `rollup_changes`, so the two
can only disagree if the way the changes are applied differs; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from workflows.machine import Event, evolve
from workflows.model import Declaration, Stage, StageState, Status

#: Outcomes of a stage visit that are an agency's decision (the others just end the visit).
DECISION_OUTCOMES = ("approved", "rejected", "amendment_requested")
#: Counted per gate, direction and hour (see tables.HourlyCountRow).
METRICS = (
    "filed",
    "declared",
    "arrived",
    "cleared",
    "departed",
    "turned_back",
    "rejected",
    "cancelled",
    "amendment_requested",
)
#: States in which a stage visit runs: the agency's turn, or held by it. An amendment
#: request ends the visit (the ball is in the firm's court); resubmission starts a new one.
VISIT_STATES = frozenset({StageState.IN_REVIEW, StageState.ON_HOLD})
_CLOSING = {
    StageState.APPROVED: "approved",
    StageState.REJECTED: "rejected",
    StageState.AMENDMENT_REQUESTED: "amendment_requested",
    StageState.PENDING: "closed",  # closed again by the workflow after an amendment
    StageState.NOT_REQUIRED: "closed",  # a new screening round found it not needed
}


class VisitOpened(msgspec.Struct, frozen=True):
    stage: str
    version: int
    at: datetime


class VisitStarted(msgspec.Struct, frozen=True):
    stage: str
    at: datetime


class VisitClosed(msgspec.Struct, frozen=True):
    stage: str
    at: datetime
    outcome: str
    reason: str | None
    automatic: bool


class Counted(msgspec.Struct, frozen=True):
    metric: str
    at: datetime


Change = VisitOpened | VisitStarted | VisitClosed | Counted


class Journey(msgspec.Struct, frozen=True):
    declaration_id: str
    gate: str
    direction: str
    filed_at: datetime
    declared_at: datetime | None
    arrived_at: datetime | None
    cleared_at: datetime | None
    left_at: datetime | None
    outcome: str | None


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rollup_changes(before: Declaration | None, events: list[Event]) -> list[Change]:
    """The rollup changes `events` cause, applied one by one from `before`."""
    changes: list[Change] = []
    state = before
    for event in events:
        after = evolve(state, event)
        changes.extend(_event_changes(state, after, event))
        state = after
    return changes


def _event_changes(before: Declaration | None, after: Declaration, event: Event) -> list[Change]:
    at = event.at
    changes: list[Change] = []
    if before is None:
        return [Counted("filed", at)]
    for stage, record in after.stages.items():
        if stage is Stage.YARD:
            continue  # the yard's "visit" is waiting for the truck, not an agency's work
        was = before.stages.get(stage)
        was_open = was is not None and was.state in VISIT_STATES
        now_open = record.state in VISIT_STATES
        if now_open and not was_open:
            changes.append(VisitOpened(stage.value, event.version, at))
        elif was_open and not now_open:
            changes.append(
                VisitClosed(
                    stage.value,
                    at,
                    _CLOSING.get(record.state, "closed"),
                    event.reason,
                    event.actor.startswith("system:"),
                )
            )
            if record.state is StageState.AMENDMENT_REQUESTED:
                changes.append(Counted("amendment_requested", at))
        if (
            now_open
            and record.review_started_at is not None
            and (was is None or record.review_started_at != was.review_started_at)
        ):
            changes.append(VisitStarted(stage.value, record.review_started_at))
    was_status, status = before.status, after.status
    if before.submitted_at is None and after.submitted_at is not None:
        changes.append(Counted("declared", after.submitted_at))
    if before.arrived_at is None and after.arrived_at is not None:
        changes.append(Counted("arrived", after.arrived_at))
    if before.cleared_at is None and after.cleared_at is not None:
        changes.append(Counted("cleared", after.cleared_at))
    if before.departed_at is None and after.departed_at is not None:
        turned_back = status is Status.REJECTED
        changes.append(Counted("turned_back" if turned_back else "departed", after.departed_at))
    if was_status is not Status.REJECTED and status is Status.REJECTED:
        changes.append(Counted("rejected", at))
    if not before.cancelled and after.cancelled:
        changes.append(Counted("cancelled", at))
    if status in (Status.REJECTED, Status.CANCELLED) and was_status not in (
        Status.REJECTED,
        Status.CANCELLED,
    ):
        # The journey ended: visits still open at other stages end too, as no decision.
        for stage, record in after.stages.items():
            if stage is not Stage.YARD and record.state in VISIT_STATES:
                changes.append(VisitClosed(stage.value, at, "stopped", None, True))
    return changes


def journey_of(declaration: Declaration, ended_at: datetime | None = None) -> Journey:
    """The declaration's milestones as the journeys table keeps them."""
    status = declaration.status
    outcome: str | None = None
    if declaration.departed_at is not None:
        outcome = "turned_back" if status is Status.REJECTED else "departed"
    elif status is Status.REJECTED:
        outcome = "rejected"
    elif status is Status.CANCELLED:
        outcome = "cancelled"
    assert declaration.created_at is not None
    return Journey(
        declaration_id=declaration.id,
        gate=declaration.facts.gate,
        direction=declaration.facts.direction.value,
        filed_at=declaration.created_at,
        declared_at=declaration.submitted_at,
        arrived_at=declaration.arrived_at,
        cleared_at=declaration.cleared_at,
        left_at=declaration.departed_at,
        outcome=outcome,
    )
