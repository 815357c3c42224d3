"""Application services for declarations: open the unit of work, load, decide, store, commit.

The API, the pages, the workers and the simulator all change declarations through these
functions, so every change is checked by the same state machine and written the same way:
new state, events and outbox rows in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import cache

import msgspec
import pycountry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from agencies import yard
from border_gate.db.models import IdempotencyKey
from border_gate.db.repository import DeclarationFilters
from border_gate.db.uow import UnitOfWork
from border_gate.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    declaration_not_found,
)
from border_gate.gates import Gate, UnknownGate
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id, new_id
from border_gate.messaging.policy import follow_ups
from border_gate.platform import Platform
from workflows.errors import NotVisible
from workflows.labels import STATUS_LABELS
from workflows.machine import (
    Amend,
    Cancel,
    Command,
    Create,
    Decide,
    Decision,
    Event,
    GateIn,
    GateOut,
    Submit,
    decide,
    evolve,
    replay,
)
from workflows.model import Declaration, DeclarationFacts, Stage, StageState, Status, plate_key
from workflows.roles import GATE_BOUND_ROLES, READ_ALL_ROLES, ROLE_STAGE, Actor, Role, can_see

MAX_PAGE = 200
OBSERVED_AT_FUTURE_SLACK = timedelta(minutes=5)
OBSERVED_AT_MAX_AGE = timedelta(hours=24)


@cache
def _countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def check_facts(platform: Platform, facts: DeclarationFacts, now: datetime) -> None:
    """What the struct's own validation cannot know: configured gates, ISO code lists, time."""
    if facts.gate not in platform.gates:
        known = ", ".join(platform.gates.codes)
        raise InvalidInput(
            f"Cửa khẩu không tồn tại: {facts.gate} (có: {known})",
            f"unknown gate {facts.gate} (known: {known})",
            field="gate",
        )
    countries = _countries()
    for field, code in (
        ("vehicle.country", facts.vehicle.country),
        ("driver.nationality", facts.driver.nationality),
        *(
            (f"cargo[{i}].origin_country", line.origin_country)
            for i, line in enumerate(facts.cargo)
        ),
    ):
        if code not in countries:
            raise InvalidInput(
                f"{code} không phải mã quốc gia ISO 3166-1",
                f"{code} is not an ISO 3166-1 country code",
                field=field,
            )
    currencies = _currencies()
    for i, line in enumerate(facts.cargo):
        if line.currency not in currencies:
            raise InvalidInput(
                f"{line.currency} không phải mã tiền tệ ISO 4217",
                f"{line.currency} is not an ISO 4217 currency code",
                field=f"cargo[{i}].currency",
            )
    if facts.planned_arrival < now - timedelta(days=2) or facts.planned_arrival > now + timedelta(
        days=366
    ):
        raise InvalidInput(
            "Thời gian dự kiến đến phải trong khoảng 2 ngày trước đến 1 năm tới",
            "planned_arrival must be between 2 days ago and one year ahead",
            field="planned_arrival",
        )


def request_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _not_visible(actor: Actor, declaration: Declaration | None) -> bool:
    return declaration is None or not can_see(
        actor, organisation=declaration.organisation, gate=declaration.facts.gate
    )


async def file_declaration(
    platform: Platform,
    user: CurrentUser,
    facts: DeclarationFacts,
    *,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> tuple[Declaration, bool]:
    """File a draft. Returns (declaration, replayed): replayed is True for a repeated key."""
    now = platform.now()
    actor = user.actor
    if actor.role is not Role.FIRM_USER:
        raise Forbidden(
            "Chỉ doanh nghiệp được khai tờ khai", "only a firm's user may file a declaration"
        )
    check_facts(platform, facts, now)
    if idempotency_key is not None:
        replayed = await _replay_idempotent(platform, user, idempotency_key, fingerprint)
        if replayed is not None:
            return replayed, True
    gate = platform.gates.get(facts.gate)
    try:
        async with platform.unit_of_work() as uow:
            number = await uow.declarations.next_number(
                gate.code, gate.prefix, now.astimezone(gate.zone).year
            )
            command = Create(
                declaration_id=new_id(),
                number=number,
                facts=facts,
                definition=gate.workflows[facts.direction],
            )
            events = decide(None, command, actor, now)
            declaration = replay(events)
            await uow.declarations.add(declaration, events, now)
            # Filing is a transition too (from nothing): the hooks see before=None.
            for hook in platform.transition_hooks:
                await hook(uow, None, declaration, events)
            if idempotency_key is not None:
                uow.session.add(
                    IdempotencyKey(
                        user_id=user.id,
                        key=idempotency_key,
                        request_hash=fingerprint,
                        resource_id=declaration.id,
                        created_at=now,
                    )
                )
            await uow.commit()
            return declaration, False
    except IntegrityError:
        # Another request with the same Idempotency-Key committed first: answer as it did.
        if idempotency_key is not None:
            replayed = await _replay_idempotent(platform, user, idempotency_key, fingerprint)
            if replayed is not None:
                return replayed, True
        raise


async def _replay_idempotent(
    platform: Platform, user: CurrentUser, key: str, fingerprint: str
) -> Declaration | None:
    async with platform.unit_of_work() as uow:
        stored = await uow.session.get(IdempotencyKey, (user.id, key))
        if stored is None:
            return None
        if stored.request_hash != fingerprint:
            raise Conflict(
                "Idempotency-Key này đã dùng cho một yêu cầu khác; hãy dùng khoá mới",
                "this Idempotency-Key was used for a different request; use a new key",
                field="Idempotency-Key",
            )
        return await uow.declarations.get(stored.resource_id)


async def change_declaration(
    platform: Platform,
    actor: Actor,
    declaration_id: str,
    command: Command | CommandBuilder,
    *,
    expected_version: int | None = None,
    before_commit: Callable[[UnitOfWork, Declaration], Awaitable[None]] | None = None,
    lock: bool = False,
) -> Declaration:
    """Load, check the version the caller saw, decide, and store new state + events + outbox.

    Raises PreconditionFailed when `expected_version` is not current, Conflict when someone
    else changed the declaration between our read and our write (the loser of a race),
    and the workflow's own errors when the machine refuses.
    """
    now = platform.now()
    wrote_outbox = False
    if not looks_like_id(declaration_id):
        raise declaration_not_found(declaration_id)
    async with platform.unit_of_work() as uow:
        current = await uow.declarations.get(declaration_id, lock=lock)
        if current is None or _not_visible(actor, current):
            raise declaration_not_found(declaration_id)
        if expected_version is not None and expected_version != current.version:
            raise PreconditionFailed(
                f"Tờ khai đã thay đổi (phiên bản {current.version}, bạn gửi {expected_version}); "
                "hãy tải lại rồi thử lại",
                f"the declaration changed (version {current.version}, you sent "
                f"{expected_version}); reload and try again",
                current_version=current.version,
            )
        if callable(command):
            # Built inside the transaction, from what it reads (e.g. a screening's inputs).
            built = await command(current, uow)
            events = decide(current, built, actor, now) if built is not None else []
        else:
            events = decide(current, command, actor, now)
        after = current
        for event in events:
            after = evolve(after, event)
        try:
            if events:
                await uow.declarations.save(current, after, events, now)
                await uow.outbox.add(follow_ups(current, after, events), now)
                for hook in platform.transition_hooks:
                    await hook(uow, current, after, events)
            if before_commit is not None:
                await before_commit(uow, after)
            if not events and before_commit is None:
                return current
            await uow.commit()
        except (StaleDataError, IntegrityError):
            raise _lost_race(declaration_id) from None
        wrote_outbox = uow.outbox.added > 0
    if wrote_outbox:
        platform.outbox_written()
    return after


#: Builds the command inside the transaction from the current state; None = nothing to do.
CommandBuilder = Callable[[Declaration, UnitOfWork], Awaitable[Command | None]]


def _lost_race(declaration_id: str) -> Conflict:
    return Conflict(
        "Người khác vừa thay đổi tờ khai này; hãy tải lại để xem quyết định mới nhất",
        "someone else changed this declaration just now; reload to see the latest decision",
        declaration_id=declaration_id,
    )


async def amend_declaration(
    platform: Platform,
    user: CurrentUser,
    declaration_id: str,
    facts: DeclarationFacts,
    *,
    expected_version: int | None,
) -> Declaration:
    check_facts(platform, facts, platform.now())
    definition = platform.gates.definition(facts.gate, facts.direction)
    return await change_declaration(
        platform,
        user.actor,
        declaration_id,
        Amend(facts=facts, definition=definition),
        expected_version=expected_version,
    )


async def submit_declaration(
    platform: Platform, user: CurrentUser, declaration_id: str, *, expected_version: int | None
) -> Declaration:
    return await change_declaration(
        platform, user.actor, declaration_id, Submit(), expected_version=expected_version
    )


async def cancel_declaration(
    platform: Platform,
    user: CurrentUser,
    declaration_id: str,
    *,
    reason: str | None,
    expected_version: int | None,
) -> Declaration:
    return await change_declaration(
        platform,
        user.actor,
        declaration_id,
        Cancel(reason=reason),
        expected_version=expected_version,
    )


async def decide_stage(
    platform: Platform,
    user: CurrentUser,
    declaration_id: str,
    stage: Stage,
    decision: Decision,
    reason: str | None,
    *,
    expected_version: int | None,
) -> Declaration:
    return await change_declaration(
        platform,
        user.actor,
        declaration_id,
        Decide(stage=stage, decision=decision, reason=reason),
        expected_version=expected_version,
    )


# --- Gate events -----------------------------------------------------------------------------


def _check_observed_at(observed_at: datetime, now: datetime) -> None:
    if observed_at > now + OBSERVED_AT_FUTURE_SLACK:
        raise InvalidInput(
            "Thời điểm ghi nhận ở tương lai; kiểm tra đồng hồ thiết bị",
            "observed_at is in the future; check the device's clock",
            field="observed_at",
        )
    if observed_at < now - OBSERVED_AT_MAX_AGE:
        raise InvalidInput(
            "Thời điểm ghi nhận cũ hơn 24 giờ",
            "observed_at is more than 24 hours ago",
            field="observed_at",
        )


async def record_gate_event(
    platform: Platform,
    user: CurrentUser,
    gate_code: str,
    kind: str,
    plate: str,
    observed_at: datetime | None,
    *,
    declaration_id: str | None = None,
) -> Declaration:
    """A truck seen at the yard gate: match the plate to exactly one declaration and apply."""
    actor = user.actor
    now = platform.now()
    try:
        gate = platform.gates.get(gate_code)
    except UnknownGate:
        raise NotFound(f"Không có cửa khẩu {gate_code}", f"no gate {gate_code}") from None
    if actor.role is not Role.YARD_OPERATOR:
        raise Forbidden(
            "Chỉ nhân viên bãi được ghi xe vào/ra", "only a yard operator may record gate events"
        )
    if gate.code not in actor.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {gate.code}", f"you do not work at gate {gate.code}"
        )
    observed = observed_at or now
    _check_observed_at(observed, now)
    key = plate_key(plate)
    if not 4 <= len(key) <= 16:
        raise InvalidInput("Biển số không hợp lệ", "not a valid plate", field="plate")
    for _attempt in range(3):  # a slot taken by a racing gate-in: pick the next free one
        if kind == "gate_in":
            target, command = await _gate_in_target(
                platform, gate, key, plate, declaration_id, observed
            )
        else:
            target = await _gate_out_target(platform, gate, key, plate, declaration_id)
            command = GateOut(observed_at=observed)
        try:
            return await change_declaration(platform, actor, target.id, command)
        except Conflict:
            if kind != "gate_in":
                raise
    raise Conflict(
        "Bãi đang bận, vui lòng thử lại", "the yard is busy assigning slots; please try again"
    )


async def _gate_in_target(
    platform: Platform,
    gate: Gate,
    key: str,
    plate: str,
    declaration_id: str | None,
    observed: datetime,
) -> tuple[Declaration, GateIn]:
    async with platform.unit_of_work() as uow:
        candidates = await uow.declarations.awaiting_arrival(gate.code, key)
        if declaration_id is not None:
            candidates = [d for d in candidates if d.id == declaration_id]
        if not candidates:
            others = await uow.declarations.by_plate(
                gate.code, key, tuple(s.value for s in Status if s not in (Status.CANCELLED,))
            )
            raise _no_arrival_match(gate.code, plate, others)
        if len(candidates) > 1:
            numbers = ", ".join(d.number for d in candidates)
            raise Conflict(
                f"Biển số {plate} khớp nhiều tờ khai chờ xe đến ({numbers}); chọn một tờ khai",
                f"plate {plate} matches several declarations awaiting arrival ({numbers}); "
                "choose one by declaration_id",
                candidates=[{"id": d.id, "number": d.number} for d in candidates],
            )
        occupied = await uow.declarations.in_yard_positions(gate.code)
    position = yard.assign_position(gate.yard_capacity, occupied)
    if position is None:
        raise Conflict(
            f"Bãi đã đầy ({len(occupied)}/{gate.yard_capacity} chỗ); xe chờ ở khu đợi",
            f"the yard is full ({len(occupied)}/{gate.yard_capacity} slots); the truck must wait",
            occupied=len(occupied),
            capacity=gate.yard_capacity,
        )
    return candidates[0], GateIn(observed_at=observed, yard_position=position)


def _no_arrival_match(gate: str, plate: str, others: list[Declaration]) -> Exception:
    if not others:
        return NotFound(
            f"Không có tờ khai nào chờ xe biển số {plate} tại {gate}",
            f"no declaration awaiting a truck with plate {plate} at {gate}",
            field="plate",
        )
    latest = others[-1]
    vi, en = STATUS_LABELS[latest.status]
    return Conflict(
        f"Tờ khai {latest.number} của xe {plate} chưa thể vào bãi (trạng thái: {vi.lower()})",
        f"declaration {latest.number} for plate {plate} cannot gate in now (status: {en.lower()})",
        declaration_id=latest.id,
        status=latest.status.value,
    )


async def _gate_out_target(
    platform: Platform, gate: Gate, key: str, plate: str, declaration_id: str | None
) -> Declaration:
    async with platform.unit_of_work() as uow:
        candidates = await uow.declarations.by_plate(
            gate.code, key, (Status.CLEARED.value, Status.REJECTED.value)
        )
    candidates = [d for d in candidates if d.arrived_at is not None and d.departed_at is None]
    if declaration_id is not None:
        candidates = [d for d in candidates if d.id == declaration_id]
    if not candidates:
        async with platform.unit_of_work() as uow:
            in_yard = await uow.declarations.by_plate(
                gate.code,
                key,
                (Status.IN_YARD.value, Status.ON_HOLD.value, Status.AMENDMENT_REQUESTED.value),
            )
        if in_yard:
            # Let the state machine say precisely what is still missing.
            return in_yard[-1]
        raise NotFound(
            f"Không có xe biển số {plate} trong bãi {gate.code} đã thông quan",
            f"no cleared truck with plate {plate} in the yard at {gate.code}",
            field="plate",
        )
    if len(candidates) > 1:
        numbers = ", ".join(d.number for d in candidates)
        raise Conflict(
            f"Biển số {plate} khớp nhiều tờ khai ({numbers})",
            f"plate {plate} matches several declarations ({numbers})",
        )
    return candidates[0]


# --- Reading ---------------------------------------------------------------------------------


async def get_declaration(
    platform: Platform, user: CurrentUser, declaration_id: str
) -> Declaration:
    if not looks_like_id(declaration_id):
        raise declaration_not_found(declaration_id)
    async with platform.unit_of_work() as uow:
        declaration = await uow.declarations.get(declaration_id)
    if declaration is None or _not_visible(user.actor, declaration):
        raise declaration_not_found(declaration_id)
    return declaration


async def declaration_events(
    platform: Platform, user: CurrentUser, declaration_id: str
) -> list[Event]:
    if not looks_like_id(declaration_id):
        raise declaration_not_found(declaration_id)
    async with platform.unit_of_work() as uow:
        declaration = await uow.declarations.get(declaration_id)
        if declaration is None or _not_visible(user.actor, declaration):
            raise declaration_not_found(declaration_id)
        return await uow.declarations.events(declaration_id)


def scope_filters(user: CurrentUser, filters: DeclarationFilters) -> DeclarationFilters:
    """Narrow a listing to what the caller may see."""
    role = user.role
    if role is Role.FIRM_USER:
        return msgspec.structs.replace(filters, organisation=user.organisation_code)
    if role in GATE_BOUND_ROLES:
        return msgspec.structs.replace(filters, gates=frozenset(user.gates))
    if role in READ_ALL_ROLES:
        return filters
    raise NotVisible("Không có quyền xem", "not allowed to list declarations")


def encode_cursor(declaration_id: str) -> str:
    return base64.urlsafe_b64encode(declaration_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if len(raw) != 36 or raw.count("-") != 4:
        raise InvalidInput(
            "Con trỏ phân trang không hợp lệ", "invalid pagination cursor", field="cursor"
        )
    return raw


async def list_declarations(
    platform: Platform,
    user: CurrentUser,
    filters: DeclarationFilters,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Declaration], str | None]:
    scoped = scope_filters(user, filters)
    after_id = decode_cursor(cursor) if cursor else None
    async with platform.unit_of_work() as uow:
        items = await uow.declarations.list(scoped, after_id=after_id, limit=limit + 1)
    next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
    return items[:limit], next_cursor


async def stage_queue(
    platform: Platform,
    user: CurrentUser,
    filters: DeclarationFilters,
    *,
    states: tuple[StageState, ...] = (StageState.IN_REVIEW,),
    limit: int = 500,
) -> list[Declaration]:
    """The caller's work queue for their own stage at their gates, longest wait first."""
    stage = ROLE_STAGE.get(user.role)
    if stage is None:
        raise Forbidden("Chỉ cán bộ các giai đoạn có hàng chờ", "only stage officers have a queue")
    scoped = scope_filters(user, filters)
    async with platform.unit_of_work() as uow:
        return await uow.declarations.waiting_longest(
            scoped, stage.value, tuple(s.value for s in states), limit
        )


async def yard_occupants(
    platform: Platform, user: CurrentUser, gate_code: str
) -> list[Declaration]:
    """Trucks in the yard at a gate the caller may see, earliest arrival first."""
    if user.role in GATE_BOUND_ROLES and gate_code not in user.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {gate_code}", f"you do not work at gate {gate_code}"
        )
    if user.role is Role.FIRM_USER:
        raise Forbidden("Doanh nghiệp không xem bãi", "firms do not see the yard")
    async with platform.unit_of_work() as uow:
        return await uow.declarations.in_yard(gate_code)
