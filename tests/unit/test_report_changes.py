"""What a transition changes in the report rollups, derived from the machine's own events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from border_gate.gates import load_gates
from border_gate.reports.changes import Counted, VisitClosed, VisitOpened, rollup_changes
from tests.support import declaration_body
from workflows.machine import (
    Create,
    Decide,
    Decision,
    GateIn,
    Screen,
    ScreenedStage,
    Submit,
    decide,
    evolve,
)
from workflows.model import Channel, Declaration, Stage, facts_from_builtins
from workflows.roles import Actor, Role, system_actor

T0 = datetime(2026, 11, 20, 1, tzinfo=UTC)
FIRM = Actor(name="user:firm_a", role=Role.FIRM_USER, organisation="FIRM_A")
YARD = Actor(name="user:yard", role=Role.YARD_OPERATOR, gates=frozenset({"HUU_NGHI"}))
GUARD = Actor(name="user:guard", role=Role.BORDER_GUARD_OFFICER, gates=frozenset({"HUU_NGHI"}))


def apply(
    state: Declaration | None, command: object, actor: Actor, at: datetime
) -> tuple[Declaration, list[object]]:
    events = decide(state, command, actor, at)  # type: ignore[arg-type]
    changes = rollup_changes(state, events)
    for event in events:
        state = evolve(state, event)
    assert state is not None
    return state, list(changes)


def test_green_channel_is_an_automatic_decision_and_filing_is_counted() -> None:
    gate = load_gates(None).get("HUU_NGHI")
    facts = facts_from_builtins(declaration_body())
    create = Create(
        "0" * 8 + "-0000-0000-0000-" + "0" * 12, "HN-1", facts, gate.workflows[facts.direction]
    )
    state, changes = apply(None, create, FIRM, T0)
    assert changes == [Counted("filed", T0)]
    state, changes = apply(state, Submit(), FIRM, T0)
    assert Counted("declared", T0) in changes
    screenings = [
        Screen(
            "customs",
            1,
            {Stage.CUSTOMS: ScreenedStage(required=True, auto_approve=True)},
            Channel.GREEN,
        ),
        Screen(
            "quarantine",
            1,
            {
                Stage.PLANT_QUARANTINE: ScreenedStage(required=False),
                Stage.ANIMAL_QUARANTINE: ScreenedStage(required=False),
                Stage.HEALTH_QUARANTINE: ScreenedStage(required=False),
            },
        ),
        Screen("border_guard", 1, {Stage.BORDER_GUARD: ScreenedStage(required=True)}),
    ]
    for screen in screenings:
        state, changes = apply(state, screen, system_actor(f"{screen.agency}-screening"), T0)
    arrived = T0 + timedelta(minutes=30)
    state, changes = apply(state, GateIn(observed_at=arrived), YARD, arrived)
    assert Counted("arrived", arrived) in changes
    assert VisitOpened("customs", state.version - 2, arrived) in changes
    closed = [c for c in changes if isinstance(c, VisitClosed)]
    assert closed == [VisitClosed("customs", arrived, "approved", closed[0].reason, True)]
    # Customs done and no quarantine: the border guard opens at once, for a person to decide.
    assert any(isinstance(c, VisitOpened) and c.stage == "border_guard" for c in changes)
    later = arrived + timedelta(minutes=5)
    state, changes = apply(
        state,
        Decide(Stage.BORDER_GUARD, Decision.REJECT, "Giấy tờ giả / forged papers"),
        GUARD,
        later,
    )
    assert (
        VisitClosed("border_guard", later, "rejected", "Giấy tờ giả / forged papers", False)
        in changes
    )
    assert Counted("rejected", later) in changes
