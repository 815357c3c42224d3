"""Property-based tests of the shared state machine: random commands, invariants after each."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from workflows.definitions import (
    SCREENED_BY,
    WorkflowDefinition,
    build_definition,
    default_definitions,
    screenings_for,
)
from workflows.errors import InvalidTransition, NotPermitted, ReasonRequired, WorkflowError
from workflows.machine import (
    MAX_REASON_LENGTH,
    Amend,
    Cancel,
    Command,
    Create,
    Decide,
    Decision,
    Event,
    FlagAttention,
    GateIn,
    GateOut,
    Screen,
    ScreenedStage,
    Submit,
    decide,
    evolve,
    replay,
    verify_chain,
)
from workflows.model import (
    DONE_STATES,
    OPEN_STATES,
    Channel,
    Declaration,
    DeclarationFacts,
    Direction,
    Stage,
    StageState,
    Status,
)
from workflows.roles import STAGE_ROLE, Actor, Role, can_see

# --- The world the commands act in ---------------------------------------------------------

#: Examples per property; raise it (e.g. PROPERTY_EXAMPLES=5000) for a longer hunt.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "200"))
FIRM_CODE = "F1"
GATES = ("HUU_NGHI", "TAN_THANH")
START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
REASON = "Hồ sơ đã kiểm tra / papers checked"


def facts_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "direction": "export",
        "gate": "HUU_NGHI",
        "vehicle": {"plate": "12C-345.67", "trailer_plate": None, "country": "VN"},
        "driver": {"name": "Nguyễn Văn Đức", "document_number": "C1234567", "nationality": "VN"},
        "cargo": [
            {
                "hs_code": "081060",
                "description": "Sầu riêng tươi",
                "gross_weight_kg": 18000,
                "packages": 900,
                "value": 54000,
                "currency": "USD",
                "origin_country": "VN",
            }
        ],
        "consignor": "Công ty TNHH Nông sản Đồng Đăng",
        "consignee": "Pingxiang Fruit Trading Co.",
        "planned_arrival": "2026-12-01T08:00:00+07:00",
    }
    body.update(overrides)
    return body


def make_facts(direction: Direction, gate: str, **overrides: Any) -> DeclarationFacts:
    return msgspec.convert(
        facts_body(direction=direction.value, gate=gate, **overrides), DeclarationFacts
    )


DEFAULTS = default_definitions()
#: Besides the defaults, one valid override per direction with fewer stages and a chain.
DEFINITIONS: dict[Direction, tuple[WorkflowDefinition, ...]] = {
    Direction.EXPORT: (
        DEFAULTS[Direction.EXPORT],
        build_definition(
            "chain-export",
            Direction.EXPORT,
            {
                "yard": [],
                "customs": ["yard"],
                "plant_quarantine": ["customs"],
                "border_guard": ["customs", "plant_quarantine"],
            },
        ),
    ),
    Direction.IMPORT: (
        DEFAULTS[Direction.IMPORT],
        build_definition(
            "chain-import",
            Direction.IMPORT,
            {
                "border_guard": [],
                "yard": ["border_guard"],
                "customs": ["yard"],
                "health_quarantine": ["yard"],
                "plant_quarantine": ["customs"],
            },
        ),
    ),
}

FACTS: tuple[DeclarationFacts, ...] = (
    make_facts(Direction.EXPORT, "HUU_NGHI"),
    make_facts(Direction.IMPORT, "HUU_NGHI"),
    make_facts(Direction.EXPORT, "TAN_THANH"),
    make_facts(
        Direction.IMPORT,
        "HUU_NGHI",
        vehicle={"plate": "桂A·12345", "trailer_plate": "桂F12345", "country": "CN"},
        cargo=[
            {
                "hs_code": "0207",
                "description": "Thịt gà đông lạnh",
                "gross_weight_kg": 20000,
                "packages": 1000,
                "value": 40000,
                "currency": "CNY",
                "origin_country": "CN",
            }
        ],
    ),
)

FIRM = Actor(name="user:firm", role=Role.FIRM_USER, organisation=FIRM_CODE)
SYSTEM = Actor(name="system:screening", role=Role.SYSTEM)


def officer(stage: Stage) -> Actor:
    role = STAGE_ROLE[stage]
    return Actor(
        name=f"user:{role.value}", role=role, organisation="AGENCY", gates=frozenset(GATES)
    )


AGENCY_STAGES: dict[str, tuple[Stage, ...]] = {
    agency: tuple(s for s in Stage if SCREENED_BY[s] == agency)
    for agency in ("customs", "quarantine", "border_guard")
}
HUMAN_DECISIONS = (
    Decision.APPROVE,
    Decision.REJECT,
    Decision.HOLD,
    Decision.RESUME,
    Decision.REQUEST_AMENDMENT,
)


# --- Steps: a command and who fires it ------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One command by one actor; a Screen's round is taken relative to the current round."""

    command: Command
    actor: Actor
    round_offset: int = 0


@dataclass(frozen=True)
class Progress:
    """Whatever command moves the truck on from where it is, fired by the right actor."""

    variant: int


@dataclass(frozen=True)
class DecideOpen:
    """A decision on one of the stages open at the time, by its officer or by `actor`."""

    decision: Decision
    reason: str | None
    pick: int
    actor: Actor | None = None  # None: the stage's own officer


Plan = Sequence[Step | Progress | DecideOpen]


def resolve(step: Step | Progress | DecideOpen, state: Declaration) -> tuple[Command, Actor] | None:
    if isinstance(step, Progress):
        return progress(step.variant, state)
    if isinstance(step, DecideOpen):
        open_stages = [s for s, r in state.stages.items() if r.state in OPEN_STATES]
        if not open_stages:
            return None
        stage = open_stages[step.pick % len(open_stages)]
        return Decide(stage, step.decision, step.reason), step.actor or officer(stage)
    command = step.command
    if isinstance(command, Screen):
        command = msgspec.structs.replace(
            command, round=max(0, state.screening_round + step.round_offset)
        )
    return command, step.actor


def progress(variant: int, state: Declaration) -> tuple[Command, Actor] | None:
    status = state.status
    if status in (Status.DRAFT, Status.AMENDMENT_REQUESTED):
        return Submit(), FIRM
    for agency in screenings_for(state.stages):
        stages = [s for s in state.stages if SCREENED_BY[s] == agency]
        if any(not state.stages[s].screened for s in stages):
            results = {
                s: ScreenedStage(
                    required=(variant + i) % 3 != 0 or s is Stage.BORDER_GUARD,
                    auto_approve=(variant + i) % 2 == 0,
                )
                for i, s in enumerate(stages)
            }
            channel = Channel.GREEN if agency == "customs" else None
            return Screen(agency, state.screening_round, results, channel), SYSTEM
    yard = state.stages[Stage.YARD]
    if yard.state is StageState.IN_REVIEW:
        return GateIn(observed_at=START, yard_position="P001"), officer(Stage.YARD)
    for stage, record in state.stages.items():
        if record.state is StageState.ON_HOLD:
            return Decide(stage, Decision.RESUME, REASON), officer(stage)
        if record.state is StageState.IN_REVIEW and stage is not Stage.YARD:
            return Decide(stage, Decision.APPROVE, REASON), officer(stage)
    if status is Status.CLEARED:
        return GateOut(observed_at=START + timedelta(hours=2)), officer(Stage.YARD)
    return None


any_actor = st.builds(
    Actor,
    name=st.sampled_from(["user:a", "user:b", "system:x"]),
    role=st.sampled_from(list(Role)),
    organisation=st.sampled_from([FIRM_CODE, "F2", "AGENCY", None]),
    gates=st.frozensets(st.sampled_from([*GATES, "CHI_MA"])),
)
wrong_gate_officer = st.sampled_from(list(Stage)).map(
    lambda stage: Actor(
        name="user:elsewhere",
        role=STAGE_ROLE[stage],
        organisation="AGENCY",
        gates=frozenset({"CHI_MA"}),
    )
)


def mostly(right: st.SearchStrategy[Actor]) -> st.SearchStrategy[Actor]:
    """The right actor most of the time; otherwise anyone, or an officer of another gate."""
    return st.one_of(right, right, right, right, any_actor, wrong_gate_officer)


reasons = st.one_of(
    st.just(REASON),
    st.just(REASON),
    st.just(REASON),
    st.sampled_from([None, "", "   ", "x" * 1001, "Thiếu chứng thư kiểm dịch"]),
)
observed = st.one_of(
    st.just(START),
    st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2027, 1, 1)).map(
        lambda t: t.replace(tzinfo=HANOI)
    ),
)
facts_choice = st.sampled_from(FACTS)


screened_stage = st.builds(
    ScreenedStage,
    required=st.booleans(),
    auto_approve=st.booleans(),
    findings=st.sampled_from([(), ("Danh sách theo dõi / watchlist hit",)]),
)
#: Now and then a verdict on a stage the agency does not screen.
stray_verdict = st.one_of(*[st.none()] * 9, st.tuples(st.sampled_from(list(Stage)), screened_stage))


def screen_steps(agency: str) -> st.SearchStrategy[Step]:
    """A screening by `agency`: a verdict for most of its stages, any round, any channel."""
    own = AGENCY_STAGES.get(agency, ())
    verdict = st.one_of(screened_stage, screened_stage, screened_stage, st.none())

    def build(
        verdicts: tuple[ScreenedStage | None, ...],
        stray: tuple[Stage, ScreenedStage] | None,
        channel: Channel | None,
        actor: Actor,
        offset: int,
    ) -> Step:
        stages = {s: v for s, v in zip(own, verdicts, strict=True) if v is not None}
        if stray is not None:
            stages[stray[0]] = stray[1]
        return Step(Screen(agency=agency, round=0, stages=stages, channel=channel), actor, offset)

    return st.builds(
        build,
        st.tuples(*[verdict] * len(own)),
        stray_verdict,
        st.one_of(st.none(), st.sampled_from(list(Channel))),
        mostly(st.just(SYSTEM)),
        st.sampled_from([0, 0, 0, 0, -1, 1]),
    )


screenings = st.one_of(
    screen_steps("customs"),
    screen_steps("quarantine"),
    screen_steps("quarantine"),
    screen_steps("border_guard"),
    screen_steps("no_such_agency"),
)


@st.composite
def decide_steps(draw: st.DrawFn) -> Step:
    stage = draw(st.sampled_from(list(Stage)))
    decision = draw(
        st.sampled_from([Decision.APPROVE] * 5 + [Decision.START_REVIEW] * 2 + list(Decision))
    )
    return Step(Decide(stage, decision, draw(reasons)), draw(mostly(st.just(officer(stage)))))


def amend_steps() -> st.SearchStrategy[Step]:
    def build(facts: DeclarationFacts, which: int, actor: Actor) -> Step:
        options = DEFINITIONS[facts.direction]
        return Step(Amend(facts, options[which % len(options)]), actor)

    return st.builds(build, facts_choice, st.integers(0, 1), mostly(st.just(FIRM)))


def create_steps() -> st.SearchStrategy[Step]:
    def build(facts: DeclarationFacts, actor: Actor) -> Step:
        return Step(Create("other", "HN-2026-999999", facts, DEFAULTS[facts.direction]), actor)

    return st.builds(build, facts_choice, mostly(st.just(FIRM)))


decide_open_steps = st.builds(
    DecideOpen,
    st.sampled_from(list(Decision)),
    reasons,
    st.integers(0, 5),
    st.one_of(*[st.none()] * 5, any_actor, wrong_gate_officer),
)
yard = st.just(officer(Stage.YARD))
progresses = st.builds(Progress, st.integers(0, 5))
steps = st.one_of(
    *[progresses] * 8,
    screenings,
    screenings,
    decide_steps(),
    decide_open_steps,
    decide_open_steps,
    st.builds(Step, st.just(Submit()), mostly(st.just(FIRM))),
    st.builds(Step, st.builds(GateIn, observed, st.sampled_from([None, "P007"])), mostly(yard)),
    st.builds(Step, st.builds(GateOut, observed), mostly(yard)),
    st.builds(Step, st.builds(Cancel, reasons), mostly(st.just(FIRM))),
    amend_steps(),
    st.builds(
        Step,
        st.builds(
            FlagAttention,
            st.sampled_from(["customs", "quarantine", "no_such_agency"]),
            reasons.map(str),
        ),
        mostly(st.just(SYSTEM)),
    ),
    create_steps(),
)


# --- The invariants -------------------------------------------------------------------------

TERMINAL = (Status.REJECTED, Status.CANCELLED, Status.DEPARTED)


@dataclass
class Trail:
    """The declaration, its events, and what each screening last said about each stage."""

    state: Declaration
    events: list[Event]
    verdicts: dict[Stage, tuple[int, bool]]


def check_event(before: Declaration, event: Event, verdicts: dict[Stage, tuple[int, bool]]) -> None:
    """What must hold of one event given the state it was decided against."""
    assert event.version == before.version + 1
    assert event.prev_hash == before.last_hash
    stage, action = event.stage, event.action
    graph = before.workflow
    if action == "open":
        assert stage is not None
        record = before.stages[stage]
        assert record.state is StageState.PENDING, f"{stage} opened from {record.state}"
        assert record.screened, f"{stage} opened before its screening landed"
        waiting = [p for p in graph[stage] if before.stages[p].state not in DONE_STATES]
        assert not waiting, f"{stage} opened while waiting for {waiting}"
    if action == "close":
        assert stage is not None
        assert before.stages[stage].state is StageState.IN_REVIEW
        assert any(before.stages[p].state not in DONE_STATES for p in graph[stage])
    if action in {d.value for d in Decision}:
        assert stage is not None
        record = before.stages[stage]
        recalled = (
            action == Decision.HOLD.value
            and record.state is StageState.APPROVED
            and stage is not Stage.YARD
            and before.departed_at is None
        )  # an officer may put an approved stage on hold until the truck has left
        assert record.state in OPEN_STATES or recalled, (
            f"{action} of {stage} while it was {record.state}"
        )
        if event.role == Role.SYSTEM.value:
            assert action == "approve" and event.data.get("automatic") is True
            assert record.auto_approve and record.state is StageState.IN_REVIEW
        else:
            assert event.role == STAGE_ROLE[stage].value
            if action != Decision.START_REVIEW.value:
                assert (event.reason or "").strip(), f"human {action} without a reason"
    if action == "gate_in":
        assert event.role == Role.YARD_OPERATOR.value
        assert before.stages[Stage.YARD].state is StageState.IN_REVIEW
    if action == "gate_out":
        assert event.role == Role.YARD_OPERATOR.value
        turned_back = before.status is Status.REJECTED and before.arrived_at is not None
        assert before.status is Status.CLEARED or turned_back
        assert before.departed_at is None
    if action in ("create", "amend", "submit", "cancel"):
        assert event.role == Role.FIRM_USER.value
    if action == "cancel":
        entries = [s for s, preds in graph.items() if not preds]
        assert before.arrived_at is None, "cancelled after gate-in"
        assert all(
            before.stages[s].state in (StageState.PENDING, StageState.IN_REVIEW) for s in entries
        ), "cancelled after the truck passed its first stage"
    if action in ("screen", "needs_attention", "open", "close"):
        assert event.role == Role.SYSTEM.value
    if action == "screen":
        assert event.data["round"] == before.screening_round
        for raw, result in event.data["stages"].items():
            verdicts[Stage(raw)] = (event.data["round"], result["required"])


def check_status(d: Declaration) -> None:
    """derive_status agrees with the stages and the facts of the declaration."""
    states = {r.state for r in d.stages.values()}
    all_done = states <= DONE_STATES
    status = d.status
    live = not d.cancelled and StageState.REJECTED not in states and d.departed_at is None
    assert (status is Status.CANCELLED) == d.cancelled
    assert (status is Status.REJECTED) == (not d.cancelled and StageState.REJECTED in states)
    assert (status is Status.DEPARTED) == (
        d.departed_at is not None and not d.cancelled and StageState.REJECTED not in states
    )
    assert (status is Status.DRAFT) == (live and not d.submitted)
    assert (status is Status.CLEARED) == (live and d.submitted and all_done)
    amending = StageState.AMENDMENT_REQUESTED in states
    assert (status is Status.AMENDMENT_REQUESTED) == (live and d.submitted and amending)
    holding = StageState.ON_HOLD in states
    assert (status is Status.ON_HOLD) == (live and d.submitted and holding and not amending)
    yard_passed = d.stages[Stage.YARD].state is StageState.APPROVED
    if status is Status.IN_YARD:
        assert yard_passed and not all_done
    if status is Status.AWAITING_ARRIVAL:
        assert not yard_passed and all(r.screened for r in d.stages.values())
    if status is Status.SUBMITTED:
        assert not yard_passed and not all(r.screened for r in d.stages.values())
    if not d.submitted:
        assert states <= {StageState.PENDING, StageState.NOT_REQUIRED}
    if status in (Status.CLEARED, Status.DEPARTED):
        assert d.cleared_at is not None
    if d.departed_at is not None:
        assert d.arrived_at is not None


def check_trail(trail: Trail) -> None:
    """What must hold after every step: numbering, chain, replay, status, departure."""
    d, events = trail.state, trail.events
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert d.version == len(events)
    assert d.last_hash == events[-1].hash
    assert verify_chain(events) is None
    assert replay(events) == d
    check_status(d)
    if d.departed_at is not None or d.status is Status.DEPARTED:
        undone = {s: r.state for s, r in d.stages.items() if r.state not in DONE_STATES}
        rejected_turned_back = d.status is Status.REJECTED
        if not rejected_turned_back:
            assert not undone, f"departed while {undone}"
            assert d.stages[Stage.BORDER_GUARD].state is StageState.APPROVED
            assert d.stages[Stage.YARD].state is StageState.APPROVED
    for stage, record in d.stages.items():
        if record.state is StageState.NOT_REQUIRED:
            # Only this round's screening may excuse a stage: the facts may have been amended.
            assert trail.verdicts.get(stage) == (d.screening_round, False), (
                f"{stage} not required on a verdict of round {trail.verdicts.get(stage)}, "
                f"the declaration is at round {d.screening_round}"
            )


def fingerprint(value: object) -> bytes:
    return msgspec.json.encode(msgspec.to_builtins(value, order="sorted"))


def apply(trail: Trail, command: Command, actor: Actor, at: datetime) -> list[Event]:
    """Run one command against the trail, checking everything that must hold on the way."""
    before = trail.state
    status_before = before.status
    state_bytes, command_bytes = fingerprint(before), fingerprint(command)
    try:
        events = decide(before, command, actor, at)
    except WorkflowError:
        events = []
        refused = True
    except Exception as exc:  # anything else is a bug in decide
        raise AssertionError(f"decide raised {type(exc).__name__}: {exc} for {command!r}") from exc
    else:
        refused = False
    assert fingerprint(before) == state_bytes, "decide mutated the declaration"
    assert fingerprint(command) == command_bytes, "decide mutated the command"
    if refused:
        return []
    if events:
        # Only an actor who may see the declaration changes it, and the first event is theirs.
        assert can_see(actor, organisation=before.organisation, gate=before.facts.gate)
        assert (events[0].actor, events[0].role) == (actor.name, actor.role.value)
    if isinstance(command, Decide) and command.decision is not Decision.START_REVIEW:
        reason = (command.reason or "").strip()
        assert reason and len(reason) <= MAX_REASON_LENGTH, (
            f"a human {command.decision} went through without a proper reason"
        )
    state = before
    for e in events:
        check_event(state, e, trail.verdicts)
        state = evolve(state, e)
    if status_before in TERMINAL:
        turned_back = (
            status_before is Status.REJECTED
            and isinstance(command, GateOut)
            and [e.action for e in events] == ["gate_out"]
            and events[0].data.get("turned_back") is True
        )
        assert not events or turned_back, f"{status_before} declaration changed: {events}"
        assert state.status is status_before
    if events:
        assert state.version > before.version
        if isinstance(command, Screen | FlagAttention):
            # Messages arrive at least once: one that changes nothing must add no event.
            unchanged = msgspec.structs.replace(
                state, version=before.version, last_hash=before.last_hash
            )
            assert unchanged != before, f"{command!r} appended events that changed nothing"
    trail.state = state
    trail.events.extend(events)
    return events


def run(facts: DeclarationFacts, which: int, plan: Plan) -> Trail:
    definition = DEFINITIONS[facts.direction][which % 2]
    created = decide(None, Create("d1", "HN-2026-000001", facts, definition), FIRM, START)
    trail = Trail(state=replay(created), events=list(created), verdicts={})
    check_trail(trail)
    for i, step in enumerate(plan):
        at = START + timedelta(minutes=i + 1)
        resolved = resolve(step, trail.state)
        if resolved is None:
            continue
        apply(trail, *resolved, at)
        check_trail(trail)
    return trail


# --- Regression examples found by the properties (see also the plain tests below) ------------

#: Create sent against an existing declaration restarted the trail at version 1.
CREATE_AGAIN: Plan = [
    Step(Create("other", "HN-2026-999999", FACTS[0], DEFAULTS[Direction.EXPORT]), FIRM),
]
#: After an amendment a stage stayed not required on the previous round's verdict.
RESUBMIT_STALE_NOT_REQUIRED: Plan = [
    Step(Submit(), FIRM),
    Step(
        Screen(
            "quarantine", 0, {s: ScreenedStage(required=False) for s in AGENCY_STAGES["quarantine"]}
        ),
        SYSTEM,
    ),
    Step(
        Screen("customs", 0, {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.YELLOW), SYSTEM
    ),
    Step(GateIn(observed_at=START), officer(Stage.YARD)),
    Step(
        Decide(Stage.CUSTOMS, Decision.REQUEST_AMENDMENT, "Bổ sung hoá đơn"), officer(Stage.CUSTOMS)
    ),
    Step(Submit(), FIRM),
]
#: A border guard screening saying "not required" let the truck leave unchecked.
BORDER_GUARD_WAIVED: Plan = [
    Step(Submit(), FIRM),
    Step(Screen("customs", 0, {Stage.CUSTOMS: ScreenedStage(True, True)}, Channel.GREEN), SYSTEM),
    Step(
        Screen("quarantine", 0, {s: ScreenedStage(False) for s in AGENCY_STAGES["quarantine"]}),
        SYSTEM,
    ),
    Step(Screen("border_guard", 0, {Stage.BORDER_GUARD: ScreenedStage(False)}), SYSTEM),
    Step(GateIn(observed_at=START), officer(Stage.YARD)),
    Step(GateOut(observed_at=START + timedelta(hours=1)), officer(Stage.YARD)),
]
#: A screening delivered twice appended a second event that changed nothing.
DUPLICATE_SCREENING: Plan = [
    Step(Submit(), FIRM),
    Step(Screen("customs", 0, {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.RED), SYSTEM),
    Step(Screen("customs", 0, {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.RED), SYSTEM),
]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(facts=facts_choice, which=st.integers(0, 1), plan=st.lists(steps, min_size=15, max_size=60))
@example(facts=FACTS[0], which=0, plan=CREATE_AGAIN)
@example(facts=FACTS[0], which=0, plan=RESUBMIT_STALE_NOT_REQUIRED)
@example(facts=FACTS[0], which=0, plan=DUPLICATE_SCREENING)
@example(facts=FACTS[0], which=0, plan=BORDER_GUARD_WAIVED)
@example(facts=FACTS[0], which=0, plan=[Progress(1)] * 12)
@example(facts=FACTS[1], which=0, plan=[Progress(2)] * 14)
def test_random_commands_keep_the_invariants(
    facts: DeclarationFacts, which: int, plan: Plan
) -> None:
    trail = run(facts, which, plan)
    event(f"{facts.direction.value}: ended {trail.state.status.value}")


def ending(how: str, state: Declaration) -> tuple[Command, Actor] | None:
    """The command that ends the declaration `how`: "reject", "cancel" or "depart"."""
    if how == "cancel":
        return Cancel("Khách huỷ đơn / the buyer cancelled"), FIRM
    if how == "reject":
        for stage, record in state.stages.items():
            if record.state in (StageState.IN_REVIEW, StageState.ON_HOLD):
                return Decide(stage, Decision.REJECT, "Hàng cấm / prohibited goods"), officer(stage)
    return progress(0, state)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    facts=facts_choice,
    which=st.integers(0, 1),
    before=st.lists(progresses, max_size=14),
    how=st.sampled_from(["reject", "cancel", "depart"]),
    after=st.lists(steps, min_size=5, max_size=25),
)
def test_the_end_is_final(
    facts: DeclarationFacts,
    which: int,
    before: list[Progress],
    how: str,
    after: Plan,
) -> None:
    """Once rejected, cancelled or departed, no command changes the status again."""
    trail = run(facts, which, before)
    for _ in range(20):
        if trail.state.status in TERMINAL:
            break
        resolved = ending(how, trail.state)
        if resolved is None:
            break
        apply(trail, *resolved, START + timedelta(hours=1))
        check_trail(trail)
    status = trail.state.status
    event(f"{how}: {status.value}")
    if status not in TERMINAL:
        return
    for i, step in enumerate(after):
        resolved = resolve(step, trail.state)
        if resolved is not None:
            apply(trail, *resolved, START + timedelta(days=1, minutes=i))
            check_trail(trail)
        assert trail.state.status is status


# --- Plain tests: the happy path, reasons, and the regressions ------------------------------


@pytest.mark.parametrize("facts", [FACTS[0], FACTS[1]], ids=["export", "import"])
def test_progress_alone_takes_a_truck_across(facts: DeclarationFacts) -> None:
    trail = run(facts, 0, [Progress(1)] * 20)
    assert trail.state.status is Status.DEPARTED
    assert trail.state.stages[Stage.BORDER_GUARD].state is StageState.APPROVED


def open_customs(direction: Direction) -> Trail:
    """A declaration whose customs stage is open to the officer (nothing automatic)."""
    facts = FACTS[0] if direction is Direction.EXPORT else FACTS[1]
    plan: list[Step] = [
        Step(Submit(), FIRM),
        *[
            Step(Screen(agency, 0, {s: ScreenedStage(required=True) for s in stages}), SYSTEM)
            for agency, stages in AGENCY_STAGES.items()
        ],
    ]
    if direction is Direction.IMPORT:
        guard = officer(Stage.BORDER_GUARD)
        plan.append(Step(Decide(Stage.BORDER_GUARD, Decision.APPROVE, REASON), guard))
    plan.append(Step(GateIn(observed_at=START), officer(Stage.YARD)))
    trail = run(facts, 0, plan)
    assert trail.state.stages[Stage.CUSTOMS].state is StageState.IN_REVIEW
    return trail


@pytest.mark.parametrize("decision", HUMAN_DECISIONS)
@pytest.mark.parametrize("reason", [None, "", "   \n\t"])
def test_human_decisions_need_a_reason(decision: Decision, reason: str | None) -> None:
    trail = open_customs(Direction.EXPORT)
    state = trail.state
    if decision is Decision.RESUME:
        hold = Decide(Stage.CUSTOMS, Decision.HOLD, REASON)
        state = replay([*trail.events, *decide(state, hold, officer(Stage.CUSTOMS), START)])
    with pytest.raises(ReasonRequired):
        decide(state, Decide(Stage.CUSTOMS, decision, reason), officer(Stage.CUSTOMS), START)


def test_start_review_needs_no_reason() -> None:
    trail = open_customs(Direction.IMPORT)
    command = Decide(Stage.CUSTOMS, Decision.START_REVIEW, None)
    events = decide(trail.state, command, officer(Stage.CUSTOMS), START)
    assert [e.action for e in events] == ["start_review"]
    assert evolve(trail.state, events[0]).stages[Stage.CUSTOMS].assignee == "user:customs_officer"


def test_create_against_an_existing_declaration_is_refused() -> None:
    trail = run(FACTS[0], 0, [])
    command = Create("other", "HN-2026-999999", FACTS[0], DEFAULTS[Direction.EXPORT])
    with pytest.raises(InvalidTransition):
        decide(trail.state, command, FIRM, START)


def test_resubmission_waits_for_this_rounds_screening_of_not_required_stages() -> None:
    trail = run(FACTS[0], 0, RESUBMIT_STALE_NOT_REQUIRED)
    state = trail.state
    assert state.screening_round == 2
    for stage in AGENCY_STAGES["quarantine"]:
        assert state.stages[stage].state is StageState.PENDING
        assert not state.stages[stage].screened
    # Customs approves the amendment; the border guard must still wait for quarantine.
    apply(trail, Decide(Stage.CUSTOMS, Decision.APPROVE, REASON), officer(Stage.CUSTOMS), START)
    bg = Screen("border_guard", 2, {Stage.BORDER_GUARD: ScreenedStage(required=True)})
    apply(trail, bg, SYSTEM, START)
    assert trail.state.stages[Stage.BORDER_GUARD].state is StageState.PENDING
    # The amended cargo now needs plant quarantine: the round-2 verdict says so.
    verdict = {
        Stage.PLANT_QUARANTINE: ScreenedStage(required=True),
        Stage.ANIMAL_QUARANTINE: ScreenedStage(required=False),
        Stage.HEALTH_QUARANTINE: ScreenedStage(required=False),
    }
    apply(trail, Screen("quarantine", 2, verdict), SYSTEM, START)
    assert trail.state.stages[Stage.PLANT_QUARANTINE].state is StageState.IN_REVIEW
    assert trail.state.stages[Stage.BORDER_GUARD].state is StageState.PENDING
    check_trail(trail)


def test_a_screening_delivered_twice_changes_nothing_the_second_time() -> None:
    trail = run(FACTS[0], 0, DUPLICATE_SCREENING[:2])
    again = Screen("customs", 1, {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.RED)
    assert decide(trail.state, again, SYSTEM, START) == []
    different = Screen("customs", 1, {Stage.CUSTOMS: ScreenedStage(required=False)}, Channel.GREEN)
    assert decide(trail.state, different, SYSTEM, START) != []


def test_screening_cannot_waive_the_border_guard() -> None:
    trail = run(FACTS[0], 0, BORDER_GUARD_WAIVED[:3])
    waiver = Screen("border_guard", 1, {Stage.BORDER_GUARD: ScreenedStage(required=False)})
    with pytest.raises(NotPermitted):
        decide(trail.state, waiver, SYSTEM, START)
    clear = Screen("border_guard", 1, {Stage.BORDER_GUARD: ScreenedStage(True, auto_approve=True)})
    apply(trail, clear, SYSTEM, START)
    apply(trail, GateIn(observed_at=START), officer(Stage.YARD), START)
    apply(trail, GateOut(observed_at=START), officer(Stage.YARD), START)
    assert trail.state.status is Status.DEPARTED
    assert trail.state.stages[Stage.BORDER_GUARD].decided_by == "system:border_guard-screening"
    check_trail(trail)


@settings(max_examples=50, deadline=None)
@given(
    facts=facts_choice,
    plan=st.lists(progresses, min_size=3, max_size=20),
    pick=st.integers(min_value=0),
    field=st.sampled_from(["reason", "actor", "at", "data"]),
)
def test_a_tampered_event_is_found_by_the_chain(
    facts: DeclarationFacts, plan: list[Progress], pick: int, field: str
) -> None:
    events = run(facts, 0, plan).events
    index = pick % len(events)
    target = events[index]
    forgeries: dict[str, dict[str, Any]] = {
        "reason": {"reason": (target.reason or "") + "!"},
        "actor": {"actor": "user:mallory"},
        "at": {"at": target.at + timedelta(seconds=1)},
        "data": {"data": {**target.data, "forged": True}},
    }
    changed = forgeries[field]
    tampered = [*events[:index], msgspec.structs.replace(target, **changed), *events[index + 1 :]]
    assert verify_chain(tampered) == target.version
