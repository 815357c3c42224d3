"""The shared state machine: decide(state, command) -> events; evolve(state, event) -> state.

Every change to a declaration is a list of events. `decide` checks the actor and the
state and returns the events a command causes, including the workflow's own consequences
(stages that open, green-channel releases); `evolve` applies one event. The stored state
is `fold(evolve, events)`, so the audit trail can always be replayed and compared.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import msgspec
from msgspec import Struct

from workflows.definitions import SCREENED_BY, WorkflowDefinition, topological_order
from workflows.errors import (
    InvalidTransition,
    NotPermitted,
    NotVisible,
    ReasonRequired,
    StageNotInWorkflow,
    StageNotOpen,
    StaleScreening,
)
from workflows.labels import STATUS_LABELS, stage_en, stage_vi
from workflows.model import (
    DONE_STATES,
    TERMINAL_STATUSES,
    Channel,
    Declaration,
    DeclarationFacts,
    Stage,
    StageRecord,
    StageState,
    Status,
    derive_status,
    facts_from_builtins,
    facts_to_builtins,
)
from workflows.roles import QUEUE_ACTION_ROLES, STAGE_ROLE, Actor, Role, can_see

MAX_REASON_LENGTH = 1000


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    HOLD = "hold"
    RESUME = "resume"
    REQUEST_AMENDMENT = "request_amendment"
    START_REVIEW = "start_review"  # an officer takes the declaration; no reason needed


# --- Commands ------------------------------------------------------------------------------


class Create(Struct, frozen=True):
    declaration_id: str
    number: str
    facts: DeclarationFacts
    definition: WorkflowDefinition


class Amend(Struct, frozen=True):
    facts: DeclarationFacts
    definition: WorkflowDefinition  # for facts.direction at facts.gate


class Submit(Struct, frozen=True):
    pass


class Cancel(Struct, frozen=True):
    reason: str | None = None


class ScreenedStage(Struct, frozen=True):
    required: bool
    auto_approve: bool = False
    findings: tuple[str, ...] = ()


class Screen(Struct, frozen=True):
    """An agency's automated screening for one submission round."""

    agency: str
    round: int
    stages: dict[Stage, ScreenedStage]
    channel: Channel | None = None


class Decide(Struct, frozen=True):
    stage: Stage
    decision: Decision
    reason: str | None = None


class GateIn(Struct, frozen=True):
    observed_at: datetime
    yard_position: str | None = None


class GateOut(Struct, frozen=True):
    observed_at: datetime


class FlagAttention(Struct, frozen=True):
    """An automated check for `agency` keeps failing: show it to people."""

    agency: str
    reason: str


class BookSlot(Struct, frozen=True):
    """The firm books (or rebooks) the truck's arrival slot; capacity is the service's job."""

    slot_start: datetime
    slot_end: datetime


class CancelBooking(Struct, frozen=True):
    reason: str | None = None


class ArriveWaitingArea(Struct, frozen=True):
    """The yard operator checks the truck in at the waiting area, before the yard gate."""

    observed_at: datetime


class AnnounceQueuePosition(Struct, frozen=True):
    """The queue's new estimate for a waiting truck (recorded when it moved enough)."""

    position: int
    expected_call_at: datetime
    expected_crossing_at: datetime


class CallForward(Struct, frozen=True):
    """The gate can take the truck now: it leaves the waiting area for the yard gate."""

    lane: str
    position: int = 1


Command = (
    Create
    | Amend
    | Submit
    | Cancel
    | Screen
    | Decide
    | GateIn
    | GateOut
    | FlagAttention
    | BookSlot
    | CancelBooking
    | ArriveWaitingArea
    | AnnounceQueuePosition
    | CallForward
)


# --- Events --------------------------------------------------------------------------------


class Event(Struct, frozen=True):
    """One entry of a declaration's append-only trail; `data` holds only JSON builtins."""

    version: int  # the declaration's version after this event (also its sequence number)
    at: datetime
    actor: str
    role: str
    action: str
    stage: Stage | None = None
    reason: str | None = None
    data: dict[str, Any] = {}
    prev_hash: str = ""
    hash: str = ""


def canonical_event_bytes(event: Event) -> bytes:
    """The exact bytes the hash covers: every field but the hash, keys sorted, UTC times."""
    body = {
        "version": event.version,
        "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "role": str(event.role),
        "action": event.action,
        "stage": event.stage.value if event.stage else None,
        "reason": event.reason,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }
    return msgspec.json.encode(body, order="sorted")


def chain_hash(event: Event) -> str:
    return hashlib.sha256(canonical_event_bytes(event)).hexdigest()


def seal(event: Event, prev_hash: str) -> Event:
    """The event linked to its predecessor by hash."""
    linked = msgspec.structs.replace(event, prev_hash=prev_hash, hash="")
    return msgspec.structs.replace(linked, hash=chain_hash(linked))


def verify_chain(events: list[Event]) -> int | None:
    """The version of the first event whose hash or link is wrong, or None if all hold."""
    prev = ""
    for event in events:
        if event.prev_hash != prev or chain_hash(event) != event.hash:
            return event.version
        prev = event.hash
    return None


# --- decide --------------------------------------------------------------------------------


class _Draft(Struct):
    """An event before it is numbered and sealed."""

    action: str
    actor: Actor
    stage: Stage | None = None
    reason: str | None = None
    data: dict[str, Any] = {}


def decide(
    declaration: Declaration | None, command: Command, actor: Actor, at: datetime
) -> list[Event]:
    """The events `command` by `actor` causes at time `at`, or a WorkflowError saying why not.

    An empty list means the command changes nothing (e.g. a screening for a declaration
    that was cancelled meanwhile).
    """
    if isinstance(command, Create):
        if declaration is not None:
            raise InvalidTransition(
                "Tờ khai đã được khai báo; không thể khai lại", "the declaration is already filed"
            )
        return _number([_create(command, actor)], None, at)
    if declaration is None:
        raise ValueError("only Create works without a declaration")
    if not can_see(actor, organisation=declaration.organisation, gate=declaration.facts.gate):
        raise NotVisible("Không tìm thấy tờ khai", "declaration not found")
    drafts = _primary(declaration, command, actor)
    if not drafts:
        return []
    events: list[Event] = []
    state = declaration
    for draft in drafts:
        event = _seal_draft(draft, state, at)
        state = evolve(state, event)
        events.append(event)
    for _ in range(64):  # the cascade is bounded by the number of stages; this is a guard
        consequence = _next_consequence(state)
        if not consequence:
            break
        for draft in consequence:
            event = _seal_draft(draft, state, at)
            state = evolve(state, event)
            events.append(event)
    return events


def _seal_draft(draft: _Draft, state: Declaration | None, at: datetime) -> Event:
    version = (state.version if state else 0) + 1
    event = Event(
        version=version,
        at=at,
        actor=draft.actor.name,
        role=draft.actor.role.value,
        action=draft.action,
        stage=draft.stage,
        reason=draft.reason,
        data=draft.data,
    )
    return seal(event, state.last_hash if state else "")


def _number(drafts: list[_Draft], state: Declaration | None, at: datetime) -> list[Event]:
    events = []
    for draft in drafts:
        event = _seal_draft(draft, state, at)
        state = evolve(state, event)
        events.append(event)
    return events


def _require_role(actor: Actor, *roles: Role, doing: tuple[str, str]) -> None:
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise NotPermitted(
            f"Vai trò {actor.role.value} không được {doing[0]} (chỉ {allowed})",
            f"role {actor.role.value} may not {doing[1]} (only {allowed})",
            role=actor.role.value,
        )


def _human_reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if not text:
        if required:
            raise ReasonRequired(
                "Quyết định phải có lý do", "a decision must carry a reason", field="reason"
            )
        return None
    if len(text) > MAX_REASON_LENGTH:
        raise ReasonRequired(
            f"Lý do dài quá {MAX_REASON_LENGTH} ký tự",
            f"the reason is longer than {MAX_REASON_LENGTH} characters",
            field="reason",
        )
    return text


def _refuse_closed(declaration: Declaration, doing: tuple[str, str]) -> None:
    status = declaration.status
    if status in TERMINAL_STATUSES:
        vi, en = STATUS_LABELS[status]
        raise InvalidTransition(
            f"Không thể {doing[0]}: tờ khai đã ở trạng thái cuối ({vi.lower()})",
            f"cannot {doing[1]}: the declaration is {en.lower()}",
            status=status.value,
        )


def _create(command: Create, actor: Actor) -> _Draft:
    _require_role(actor, Role.FIRM_USER, doing=("khai báo", "file a declaration"))
    if actor.organisation is None:
        raise NotPermitted("Người dùng không thuộc doanh nghiệp nào", "user has no firm")
    return _Draft(
        action="create",
        actor=actor,
        data={
            "id": command.declaration_id,
            "number": command.number,
            "organisation": actor.organisation,
            "facts": facts_to_builtins(command.facts),
            "workflow": _graph_to_builtins(command.definition),
        },
    )


def _graph_to_builtins(definition: WorkflowDefinition) -> dict[str, list[str]]:
    return {s.value: [p.value for p in preds] for s, preds in definition.depends_on.items()}


def _primary(declaration: Declaration, command: Command, actor: Actor) -> list[_Draft]:
    if isinstance(command, Amend):
        return [_amend(declaration, command, actor)]
    if isinstance(command, Submit):
        return [_submit(declaration, actor)]
    if isinstance(command, Cancel):
        return [_cancel(declaration, command, actor)]
    if isinstance(command, Screen):
        return _screen(declaration, command, actor)
    if isinstance(command, Decide):
        return [_decide_stage(declaration, command, actor)]
    if isinstance(command, GateIn):
        return [_gate_in(declaration, command, actor)]
    if isinstance(command, GateOut):
        return [_gate_out(declaration, command, actor)]
    if isinstance(command, FlagAttention):
        return _flag_attention(declaration, command, actor)
    if isinstance(command, BookSlot):
        return _book_slot(declaration, command, actor)
    if isinstance(command, CancelBooking):
        return [_cancel_booking(declaration, command, actor)]
    if isinstance(command, ArriveWaitingArea):
        return [_arrive_waiting_area(declaration, command, actor)]
    if isinstance(command, AnnounceQueuePosition):
        return _queue_position(declaration, command, actor)
    if isinstance(command, CallForward):
        return _call_forward(declaration, command, actor)
    raise TypeError(f"unknown command {command!r}")


def _amend(declaration: Declaration, command: Amend, actor: Actor) -> _Draft:
    _require_role(actor, Role.FIRM_USER, doing=("sửa tờ khai", "amend a declaration"))
    status = declaration.status
    if status not in (Status.DRAFT, Status.AMENDMENT_REQUESTED):
        vi, en = STATUS_LABELS[status]
        raise InvalidTransition(
            f"Chỉ sửa được bản nháp hoặc tờ khai bị yêu cầu bổ sung; hiện tại: {vi.lower()}",
            f"only a draft or a declaration asked to amend can change; it is {en.lower()}",
            status=status.value,
        )
    facts = command.facts
    data: dict[str, Any] = {"facts": facts_to_builtins(facts)}
    if status is Status.AMENDMENT_REQUESTED:
        before = declaration.facts
        if facts.direction != before.direction or facts.gate != before.gate:
            raise InvalidTransition(
                "Sau khi nộp không thể đổi hướng hoặc cửa khẩu; hãy huỷ và khai tờ mới",
                "direction and gate cannot change after submission; cancel and file anew",
            )
    elif (facts.direction, facts.gate) != (declaration.facts.direction, declaration.facts.gate):
        if command.definition.direction is not facts.direction:
            raise ValueError("the workflow definition given does not match the new direction")
        data["workflow"] = _graph_to_builtins(command.definition)
    return _Draft(action="amend", actor=actor, data=data)


def _submit(declaration: Declaration, actor: Actor) -> _Draft:
    _require_role(actor, Role.FIRM_USER, doing=("nộp tờ khai", "submit a declaration"))
    status = declaration.status
    if status not in (Status.DRAFT, Status.AMENDMENT_REQUESTED):
        vi, en = STATUS_LABELS[status]
        raise InvalidTransition(
            f"Tờ khai đã nộp ({vi.lower()}); chỉ nộp lại khi được yêu cầu bổ sung",
            f"already submitted ({en.lower()}); resubmit only after an amendment request",
            status=status.value,
        )
    return _Draft(action="submit", actor=actor, data={"round": declaration.screening_round + 1})


def has_arrived(declaration: Declaration) -> bool:
    """The truck has passed its first stage (yard gate-in for export, border guard for import)."""
    graph = declaration_graph(declaration)
    entries = [s for s, preds in graph.items() if not preds]
    return declaration.arrived_at is not None or any(
        declaration.stages[s].state not in (StageState.PENDING, StageState.IN_REVIEW)
        for s in entries
    )


def _cancel(declaration: Declaration, command: Cancel, actor: Actor) -> _Draft:
    _require_role(actor, Role.FIRM_USER, doing=("huỷ tờ khai", "cancel a declaration"))
    _refuse_closed(declaration, ("huỷ", "cancel"))
    if has_arrived(declaration):
        raise InvalidTransition(
            "Xe đã đến cửa khẩu; chỉ huỷ được trước khi xe đến",
            "the truck has arrived; a declaration can be cancelled only before arrival",
        )
    return _Draft(
        action="cancel", actor=actor, reason=_human_reason(command.reason, required=False)
    )


def _screen(declaration: Declaration, command: Screen, actor: Actor) -> list[_Draft]:
    _require_role(actor, Role.SYSTEM, doing=("ghi kết quả sàng lọc", "record a screening"))
    if command.round != declaration.screening_round:
        raise StaleScreening(
            f"Kết quả sàng lọc của lần nộp {command.round}, tờ khai đang ở lần {declaration.screening_round}",
            f"screening for round {command.round}; the declaration is at round "
            f"{declaration.screening_round}",
        )
    if declaration.status in TERMINAL_STATUSES:
        return []
    if not declaration.submitted:
        raise InvalidTransition(
            "Tờ khai chưa nộp thì chưa sàng lọc", "a draft is not screened until it is submitted"
        )
    if command.channel is not None and command.agency != "customs":
        raise NotPermitted(
            "Chỉ hải quan phân luồng", "only the customs screening assigns a channel"
        )
    stages = {}
    for stage, result in command.stages.items():
        if stage not in declaration.stages:
            continue  # this gate's workflow has no such stage
        if SCREENED_BY[stage] != command.agency:
            raise NotPermitted(
                f"{command.agency} không sàng lọc giai đoạn {stage_vi(stage)}",
                f"{command.agency} does not screen the {stage_en(stage)} stage",
            )
        if stage is Stage.BORDER_GUARD and not result.required:
            # Every truck passes border control; screening may clear it, never waive it.
            raise NotPermitted(
                "Sàng lọc không thể bỏ qua giai đoạn biên phòng",
                "screening cannot waive the border guard stage (auto_approve may clear it)",
            )
        stages[stage.value] = msgspec.to_builtins(result)
    data: dict[str, Any] = {"agency": command.agency, "round": command.round, "stages": stages}
    if command.channel is not None:
        data["channel"] = command.channel.value
    findings = [f for result in command.stages.values() for f in result.findings]
    reason = "; ".join(dict.fromkeys(findings)) or None
    draft = _Draft(action="screen", actor=actor, reason=reason, data=data)
    if _changes_nothing(declaration, draft):
        return []  # e.g. the same screening delivered twice
    return [draft]


_PROBE_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def _changes_nothing(declaration: Declaration, draft: _Draft) -> bool:
    """Whether applying `draft` would leave the declaration as it is, but for its version."""
    probe = _seal_draft(draft, declaration, _PROBE_TIME)  # the time changes nothing here
    after = msgspec.structs.replace(
        evolve(declaration, probe), version=declaration.version, last_hash=declaration.last_hash
    )
    return after == declaration


_DECISION_FROM: dict[Decision, tuple[frozenset[StageState], StageState | None]] = {
    Decision.APPROVE: (frozenset({StageState.IN_REVIEW}), StageState.APPROVED),
    Decision.REJECT: (
        frozenset({StageState.IN_REVIEW, StageState.ON_HOLD}),
        StageState.REJECTED,
    ),
    # An approved stage may be put on hold again (new information after a release) until
    # the truck has left; the documents it issued are revoked until it is approved again.
    Decision.HOLD: (frozenset({StageState.IN_REVIEW, StageState.APPROVED}), StageState.ON_HOLD),
    Decision.RESUME: (frozenset({StageState.ON_HOLD}), StageState.IN_REVIEW),
    Decision.REQUEST_AMENDMENT: (
        frozenset({StageState.IN_REVIEW, StageState.ON_HOLD}),
        StageState.AMENDMENT_REQUESTED,
    ),
    Decision.START_REVIEW: (frozenset({StageState.IN_REVIEW}), None),
}

_DECISION_WORDS: dict[Decision, tuple[str, str]] = {
    Decision.APPROVE: ("chấp thuận", "approve"),
    Decision.REJECT: ("từ chối", "reject"),
    Decision.HOLD: ("tạm dừng", "hold"),
    Decision.RESUME: ("tiếp tục", "resume"),
    Decision.REQUEST_AMENDMENT: ("yêu cầu bổ sung", "request an amendment for"),
    Decision.START_REVIEW: ("tiếp nhận xử lý", "start reviewing"),
}


def _decide_stage(declaration: Declaration, command: Decide, actor: Actor) -> _Draft:
    stage, decision = command.stage, command.decision
    words = _DECISION_WORDS[decision]
    role = STAGE_ROLE[stage]
    _require_role(
        actor,
        role,
        doing=(f"{words[0]} giai đoạn {stage_vi(stage)}", f"{words[1]} {stage_en(stage)}"),
    )
    if stage not in declaration.stages:
        raise StageNotInWorkflow(
            f"Tờ khai này không có giai đoạn {stage_vi(stage)}",
            f"this declaration's workflow has no {stage_en(stage)} stage",
        )
    _refuse_closed(declaration, words)
    if stage is Stage.YARD and decision is Decision.APPROVE:
        raise InvalidTransition(
            "Giai đoạn bãi được thông qua bằng sự kiện xe vào bãi (gate-in)",
            "the yard stage is passed by a gate-in event, not by a decision",
        )
    status = declaration.status
    record = declaration.stages[stage]
    if status is Status.AMENDMENT_REQUESTED and record.state is not StageState.AMENDMENT_REQUESTED:
        raise InvalidTransition(
            "Tờ khai đang chờ doanh nghiệp bổ sung; hãy quyết định sau khi doanh nghiệp nộp lại",
            "the declaration is waiting for the firm's amendment; decide after it is resubmitted",
            status=status.value,
        )
    allowed_from, _ = _DECISION_FROM[decision]
    if decision is Decision.HOLD and record.state is StageState.APPROVED and stage is Stage.YARD:
        allowed_from = frozenset(
            {StageState.IN_REVIEW}
        )  # a truck in the yard is held by its stages
    if record.state not in allowed_from:
        if record.state is StageState.PENDING:
            raise StageNotOpen(*_not_open_words(declaration, stage, words), stage=stage.value)
        state_vi = record.state.value.replace("_", " ")
        raise InvalidTransition(
            f"Không thể {words[0]} giai đoạn {stage_vi(stage)} ở trạng thái {state_vi}",
            f"cannot {words[1]} the {stage_en(stage)} stage: it is {record.state.value}",
            stage=stage.value,
            state=record.state.value,
        )
    reason = _human_reason(command.reason, required=decision is not Decision.START_REVIEW)
    return _Draft(action=decision.value, actor=actor, stage=stage, reason=reason)


def _not_open_words(
    declaration: Declaration, stage: Stage, words: tuple[str, str]
) -> tuple[str, str]:
    graph = declaration_graph(declaration)
    waiting = [p for p in graph[stage] if declaration.stages[p].state not in DONE_STATES]
    if not declaration.submitted:
        return (
            f"Không thể {words[0]}: tờ khai chưa được nộp",
            f"cannot {words[1]}: the declaration has not been submitted",
        )
    if waiting:
        vi = ", ".join(stage_vi(p) for p in waiting)
        en = ", ".join(stage_en(p) for p in waiting)
        return (
            f"Giai đoạn {stage_vi(stage)} chưa mở: đang chờ {vi}",
            f"the {stage_en(stage)} stage is not open yet: waiting for {en}",
        )
    return (
        f"Giai đoạn {stage_vi(stage)} chưa mở: đang chờ kết quả sàng lọc tự động",
        f"the {stage_en(stage)} stage is not open yet: automated screening is still running",
    )


def _gate_in(declaration: Declaration, command: GateIn, actor: Actor) -> _Draft:
    _require_role(actor, Role.YARD_OPERATOR, doing=("ghi xe vào bãi", "record a gate-in"))
    _refuse_closed(declaration, ("ghi xe vào bãi", "gate in"))
    record = declaration.stages[Stage.YARD]
    if record.state is StageState.APPROVED:
        raise InvalidTransition(
            "Xe đã vào bãi rồi", "the truck is already in the yard", stage="yard"
        )
    if record.state is not StageState.IN_REVIEW:
        if record.state is StageState.PENDING:
            raise StageNotOpen(
                *_not_open_words(declaration, Stage.YARD, ("ghi xe vào bãi", "gate in")),
                stage="yard",
            )
        raise InvalidTransition(
            f"Giai đoạn bãi đang ở trạng thái {record.state.value}; không thể cho xe vào",
            f"the yard stage is {record.state.value}; the truck cannot gate in",
            stage="yard",
        )
    data: dict[str, Any] = {"observed_at": command.observed_at.astimezone(UTC).isoformat()}
    if command.yard_position:
        data["yard_position"] = command.yard_position
    return _Draft(action="gate_in", actor=actor, stage=Stage.YARD, data=data)


def _gate_out(declaration: Declaration, command: GateOut, actor: Actor) -> _Draft:
    _require_role(actor, Role.YARD_OPERATOR, doing=("ghi xe ra bãi", "record a gate-out"))
    observed = command.observed_at.astimezone(UTC).isoformat()
    status = declaration.status
    if status is Status.REJECTED and declaration.arrived_at and not declaration.departed_at:
        # A rejected truck is turned back: it leaves the yard the way it came.
        return _Draft(
            action="gate_out", actor=actor, data={"observed_at": observed, "turned_back": True}
        )
    _refuse_closed(declaration, ("ghi xe ra bãi", "gate out"))
    if status is not Status.CLEARED:
        graph = declaration_graph(declaration)
        waiting = [s for s in graph if declaration.stages[s].state not in DONE_STATES]
        vi = ", ".join(stage_vi(s) for s in waiting) or STATUS_LABELS[status][0].lower()
        en = ", ".join(stage_en(s) for s in waiting) or STATUS_LABELS[status][1].lower()
        raise InvalidTransition(
            f"Xe chưa được thông quan: còn chờ {vi}",
            f"the truck is not cleared: still waiting for {en}",
            status=status.value,
        )
    return _Draft(action="gate_out", actor=actor, data={"observed_at": observed})


def _flag_attention(declaration: Declaration, command: FlagAttention, actor: Actor) -> list[_Draft]:
    _require_role(actor, Role.SYSTEM, doing=("đánh dấu cần xử lý", "flag a stage"))
    if declaration.status in TERMINAL_STATUSES:
        return []
    stages = [s.value for s in declaration.stages if SCREENED_BY[s] == command.agency]
    if not stages or all(declaration.stages[Stage(s)].needs_attention for s in stages):
        return []
    return [
        _Draft(
            action="needs_attention",
            actor=actor,
            reason=command.reason[:MAX_REASON_LENGTH],
            data={"agency": command.agency, "stages": stages},
        )
    ]


# --- The electronic queue ------------------------------------------------------------------


def _require_queue_role(actor: Actor, action: str, doing: tuple[str, str]) -> None:
    _require_role(actor, *QUEUE_ACTION_ROLES[action], doing=doing)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _refuse_unless_before_arrival(declaration: Declaration, doing: tuple[str, str]) -> None:
    """Booking and the waiting area are for submitted trucks that have not entered the yard."""
    _refuse_closed(declaration, doing)
    if not declaration.submitted:
        raise InvalidTransition(
            f"Không thể {doing[0]}: tờ khai chưa được nộp",
            f"cannot {doing[1]}: the declaration has not been submitted",
            status=declaration.status.value,
        )
    if has_arrived(declaration):
        raise InvalidTransition(
            f"Không thể {doing[0]}: xe đã vào bãi",
            f"cannot {doing[1]}: the truck has already entered the yard",
            status=declaration.status.value,
        )
    if declaration.called_at is not None:
        raise InvalidTransition(
            f"Không thể {doing[0]}: xe đã được gọi vào cửa khẩu",
            f"cannot {doing[1]}: the truck has already been called forward",
        )


def _book_slot(declaration: Declaration, command: BookSlot, actor: Actor) -> list[_Draft]:
    doing = ("đặt lịch đến", "book an arrival slot")
    _require_queue_role(actor, "book_slot", doing)
    _refuse_unless_before_arrival(declaration, doing)
    if command.slot_end <= command.slot_start:
        raise InvalidTransition(
            "Khung giờ phải kết thúc sau khi bắt đầu", "a slot must end after it starts"
        )
    if declaration.slot_start == command.slot_start and declaration.slot_end == command.slot_end:
        return []  # the same slot again: nothing changes
    data: dict[str, Any] = {
        "slot_start": _iso(command.slot_start),
        "slot_end": _iso(command.slot_end),
    }
    if declaration.slot_start is not None:
        data["previous_slot_start"] = _iso(declaration.slot_start)
    return [_Draft(action="book_slot", actor=actor, data=data)]


def _cancel_booking(declaration: Declaration, command: CancelBooking, actor: Actor) -> _Draft:
    doing = ("huỷ lịch đến", "cancel a booking")
    _require_queue_role(actor, "cancel_booking", doing)
    if declaration.slot_start is None:
        raise InvalidTransition(
            "Tờ khai không có lịch đến nào để huỷ", "the declaration has no booking to cancel"
        )
    _refuse_unless_before_arrival(declaration, doing)
    return _Draft(
        action="cancel_booking",
        actor=actor,
        reason=_human_reason(command.reason, required=False),
        data={"slot_start": _iso(declaration.slot_start)},
    )


def _arrive_waiting_area(
    declaration: Declaration, command: ArriveWaitingArea, actor: Actor
) -> _Draft:
    doing = ("ghi xe vào khu chờ", "check a truck in at the waiting area")
    _require_queue_role(actor, "arrive_waiting_area", doing)
    _refuse_unless_before_arrival(declaration, doing)
    if declaration.waiting_at is not None:
        raise InvalidTransition("Xe đã ở khu chờ rồi", "the truck is already in the waiting area")
    return _Draft(
        action="arrive_waiting_area",
        actor=actor,
        data={"observed_at": _iso(command.observed_at)},
    )


def _in_queue(declaration: Declaration) -> bool:
    return (
        declaration.waiting_at is not None
        and declaration.called_at is None
        and declaration.status not in TERMINAL_STATUSES
        and not has_arrived(declaration)
    )


def _queue_position(
    declaration: Declaration, command: AnnounceQueuePosition, actor: Actor
) -> list[_Draft]:
    _require_queue_role(actor, "queue_position", ("ghi vị trí hàng chờ", "record a queue position"))
    if not _in_queue(declaration):
        return []  # called, arrived or cancelled meanwhile: the estimate no longer applies
    previous = declaration.expected_call_at
    return [
        _Draft(
            action="queue_position",
            actor=actor,
            data={
                "position": command.position,
                "expected_call_at": _iso(command.expected_call_at),
                "expected_crossing_at": _iso(command.expected_crossing_at),
                "previous_expected_call_at": _iso(previous) if previous else None,
            },
        )
    ]


def _call_forward(declaration: Declaration, command: CallForward, actor: Actor) -> list[_Draft]:
    _require_queue_role(actor, "call_forward", ("gọi xe vào", "call a truck forward"))
    if not _in_queue(declaration):
        return []  # already called, arrived or cancelled: calling again changes nothing
    return [
        _Draft(
            action="call_forward",
            actor=actor,
            data={"lane": command.lane, "position": command.position},
        )
    ]


def _next_consequence(state: Declaration) -> list[_Draft]:
    """The workflow's own next step, if any: close, open, or auto-approve a stage."""
    if state.status in TERMINAL_STATUSES or not state.submitted:
        return []
    graph = declaration_graph(state)
    workflow = system_actor_for("workflow")
    for stage in topological_order(graph):
        record = state.stages[stage]
        predecessors_done = all(state.stages[p].state in DONE_STATES for p in graph[stage])
        if record.state is StageState.IN_REVIEW and not predecessors_done:
            return [
                _Draft(
                    action="close",
                    actor=workflow,
                    stage=stage,
                    reason="Chờ lại giai đoạn trước sau khi bổ sung / waiting again for an "
                    "earlier stage after an amendment",
                )
            ]
        if record.state is StageState.PENDING and record.screened and predecessors_done:
            drafts = [_Draft(action="open", actor=workflow, stage=stage)]
            # Automatic approval only for a stage no one has decided on yet: once an officer
            # has held it or asked for an amendment, a person decides it again.
            if record.auto_approve and record.decided_by is None:
                screener = system_actor_for(f"{SCREENED_BY[stage]}-screening")
                reason = "; ".join(record.findings) or (
                    "Tự động chấp thuận theo kết quả sàng lọc / approved automatically by screening"
                )
                drafts.append(
                    _Draft(
                        action="approve",
                        actor=screener,
                        stage=stage,
                        reason=reason,
                        data={"automatic": True},
                    )
                )
            return drafts
    return []


def system_actor_for(worker: str) -> Actor:
    return Actor(name=f"system:{worker}", role=Role.SYSTEM)


def declaration_graph(declaration: Declaration) -> dict[Stage, tuple[Stage, ...]]:
    return declaration.workflow


# --- evolve --------------------------------------------------------------------------------


def _parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def _graph_from_builtins(raw: dict[str, list[str]]) -> dict[Stage, tuple[Stage, ...]]:
    return {Stage(s): tuple(Stage(p) for p in preds) for s, preds in raw.items()}


def _fresh_stages(graph: dict[Stage, tuple[Stage, ...]]) -> dict[Stage, StageRecord]:
    return {
        stage: StageRecord(state=StageState.PENDING, screened=SCREENED_BY[stage] is None)
        for stage in topological_order(graph)
    }


def evolve(declaration: Declaration | None, event: Event) -> Declaration:
    """The declaration after `event`. Pure; used both live and to replay the trail."""
    replace = msgspec.structs.replace
    if event.action == "create":
        graph = _graph_from_builtins(event.data["workflow"])
        return Declaration(
            id=event.data["id"],
            number=event.data["number"],
            organisation=event.data["organisation"],
            facts=facts_from_builtins(event.data["facts"]),
            workflow=graph,
            stages=_fresh_stages(graph),
            version=event.version,
            created_at=event.at,
            last_hash=event.hash,
        )
    if declaration is None:
        raise ValueError(f"event {event.action!r} before create")
    d = declaration
    stages = dict(d.stages)
    changes: dict[str, Any] = {}
    action, stage = event.action, event.stage

    def set_stage(which: Stage, **fields: Any) -> None:
        stages[which] = replace(stages[which], **fields)

    if action == "amend":
        changes["facts"] = facts_from_builtins(event.data["facts"])
        if "workflow" in event.data:
            graph = _graph_from_builtins(event.data["workflow"])
            changes["workflow"] = graph
            stages = _fresh_stages(graph)
    elif action == "submit":
        changes["submitted"] = True
        changes["screening_round"] = event.data["round"]
        if d.submitted_at is None:
            changes["submitted_at"] = event.at
        for which, record in d.stages.items():
            if record.state is StageState.AMENDMENT_REQUESTED:
                set_stage(which, state=StageState.IN_REVIEW)
            elif record.state is StageState.PENDING and SCREENED_BY[which] is not None:
                set_stage(which, screened=False)
            elif record.state is StageState.NOT_REQUIRED and SCREENED_BY[which] is not None:
                # "Not required" was said of the facts of an earlier round: ask again.
                set_stage(which, state=StageState.PENDING, screened=False)
    elif action == "screen":
        if "channel" in event.data:
            changes["channel"] = Channel(event.data["channel"])
        for raw_stage, result in event.data["stages"].items():
            which = Stage(raw_stage)
            record = stages[which]
            fields: dict[str, Any] = {
                "screened": True,
                "auto_approve": result["auto_approve"],
                "findings": tuple(result["findings"]),
                "needs_attention": False,
            }
            if not result["required"] and record.state in (
                StageState.PENDING,
                StageState.IN_REVIEW,
            ):
                fields["state"] = StageState.NOT_REQUIRED
            elif result["required"] and record.state is StageState.NOT_REQUIRED:
                fields["state"] = StageState.PENDING
            set_stage(which, **fields)
    elif action == "open":
        assert stage is not None
        set_stage(stage, state=StageState.IN_REVIEW, opened_at=event.at)
    elif action == "close":
        assert stage is not None
        set_stage(stage, state=StageState.PENDING, opened_at=None, assignee=None)
    elif action == "start_review":
        assert stage is not None
        set_stage(stage, assignee=event.actor, review_started_at=event.at)
    elif action in _ACTION_STATE:
        assert stage is not None
        new_state = _ACTION_STATE[action]
        fields = {"state": new_state, "decided_by": event.actor, "reason": event.reason}
        if new_state in (StageState.APPROVED, StageState.REJECTED):
            fields["decided_at"] = event.at
        set_stage(stage, **fields)
    elif action == "gate_in":
        set_stage(
            Stage.YARD,
            state=StageState.APPROVED,
            decided_at=event.at,
            decided_by=event.actor,
        )
        changes["arrived_at"] = _parse_time(event.data["observed_at"])
        changes["yard_position"] = event.data.get("yard_position")
    elif action == "gate_out":
        changes["departed_at"] = _parse_time(event.data["observed_at"])
    elif action == "cancel":
        changes["cancelled"] = True
    elif action == "book_slot":
        changes["slot_start"] = _parse_time(event.data["slot_start"])
        changes["slot_end"] = _parse_time(event.data["slot_end"])
    elif action == "cancel_booking":
        changes["slot_start"] = None
        changes["slot_end"] = None
    elif action == "arrive_waiting_area":
        changes["waiting_at"] = _parse_time(event.data["observed_at"])
    elif action == "queue_position":
        changes["queue_position"] = event.data["position"]
        changes["expected_call_at"] = _parse_time(event.data["expected_call_at"])
        changes["expected_crossing_at"] = _parse_time(event.data["expected_crossing_at"])
    elif action == "call_forward":
        changes["called_at"] = event.at
        changes["queue_position"] = 0
    elif action == "needs_attention":
        for raw_stage in event.data["stages"]:
            set_stage(Stage(raw_stage), needs_attention=True, reason=event.reason)
    else:
        raise ValueError(f"unknown event action {action!r}")

    after = replace(d, stages=stages, version=event.version, last_hash=event.hash, **changes)
    if d.cleared_at is None and derive_status(after) is Status.CLEARED:
        after = replace(after, cleared_at=event.at)
    return after


_ACTION_STATE: dict[str, StageState] = {
    Decision.APPROVE.value: StageState.APPROVED,
    Decision.REJECT.value: StageState.REJECTED,
    Decision.HOLD.value: StageState.ON_HOLD,
    Decision.RESUME.value: StageState.IN_REVIEW,
    Decision.REQUEST_AMENDMENT.value: StageState.AMENDMENT_REQUESTED,
}


def replay(events: list[Event]) -> Declaration:
    """The declaration the trail describes."""
    state: Declaration | None = None
    for event in events:
        state = evolve(state, event)
    if state is None:
        raise ValueError("no events to replay")
    return state
