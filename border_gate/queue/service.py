"""The electronic queue's application services: book, cancel, check in, recompute, estimate.

Every change to a declaration goes through `change_declaration`, so booking, cancelling,
waiting-area arrival, queue positions and calls are events on the hash-chained trail. The
capacity counters (slot_counters, call_counters) are kept by `queue_hook`, which runs inside
the same transaction as the event: a booking and its counted slot commit together or not at
all, and the conditional increment is what decides a race for the last slot.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Struct
from sqlalchemy import and_, func, insert, select, update

from border_gate.db.models import (
    CallCounterRow,
    DeclarationRow,
    FarSideQuotaRow,
    QueueCreditRow,
    SlotCounterRow,
)
from border_gate.db.repository import to_domain
from border_gate.db.uow import UnitOfWork
from border_gate.declarations.service import (
    _check_observed_at,
    change_declaration,
    get_declaration,
)
from border_gate.errors import Conflict, Forbidden, InvalidInput, NotFound
from border_gate.gates import Gate, UnknownGate
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from border_gate.queue.config import QueueConfig, load_queue_config
from workflows.machine import (
    AnnounceQueuePosition,
    ArriveWaitingArea,
    BookSlot,
    CallForward,
    CancelBooking,
    Event,
)
from workflows.model import (
    TERMINAL_STATUSES,
    Declaration,
    Direction,
    Status,
    plate_key,
)
from workflows.queueing import (
    HOUR,
    Lane,
    StageTimes,
    WaitingTruck,
    bookable,
    estimate_calls,
    expected_crossing,
    hourly_calls,
    median,
    moved_enough,
    planned_calls,
    release_schedule,
    released_by,
    scale_to_total,
    walk_in_lane_for,
)
from workflows.roles import GATE_BOUND_ROLES, READ_ALL_ROLES, Role, system_actor

log = logging.getLogger("border_gate.queue")

QUEUE_ACTOR = system_actor("queue")
MAX_QUOTA = 100_000


def queue_config(platform: Platform) -> QueueConfig:
    """The queue configuration, read and checked once per platform."""
    if "queue_config" not in platform.cache:
        platform.cache["queue_config"] = load_queue_config(
            platform.settings.queue_file, platform.gates
        )
    return platform.cache["queue_config"]  # type: ignore[no-any-return]


def _gate(platform: Platform, code: str) -> Gate:
    try:
        return platform.gates.get(code)
    except UnknownGate:
        raise NotFound(f"Không có cửa khẩu {code}", f"no gate {code}") from None


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def check_day(platform: Platform, gate: Gate, day: date) -> date:
    """A day the queue can speak about: from a month ago to a year ahead (422 otherwise)."""
    today = _local_day(platform.now(), gate.zone)
    if not today - timedelta(days=31) <= day <= today + timedelta(days=366):
        raise InvalidInput(
            "Ngày phải trong khoảng một tháng trước đến một năm tới",
            "day must be between a month ago and a year ahead",
            field="day",
        )
    return day


# --- Capacity ------------------------------------------------------------------------------


async def far_side_quota(
    uow: UnitOfWork, gate: str, direction: Direction, day: date
) -> FarSideQuotaRow | None:
    """The management board's latest quota for that day, or None (the default applies)."""
    return (
        await uow.session.scalars(
            select(FarSideQuotaRow)
            .where(
                FarSideQuotaRow.gate == gate,
                FarSideQuotaRow.direction == direction.value,
                FarSideQuotaRow.day == day,
            )
            .order_by(FarSideQuotaRow.id.desc())
            .limit(1)
        )
    ).first()


async def calls_for_day(
    uow: UnitOfWork, config: QueueConfig, gate: str, direction: Direction, day: date
) -> list[int]:
    """Trucks the gate can release per local hour that day (yard intake vs far-side quota)."""
    capacity = config.capacity_for(gate, direction)
    quota = await far_side_quota(uow, gate, direction, day)
    far_side = (
        list(capacity.far_side) if quota is None else scale_to_total(capacity.far_side, quota.quota)
    )
    return hourly_calls(capacity.yard_in, far_side)


async def _called_today(uow: UnitOfWork, gate: str, direction: Direction, day: date) -> int:
    called = await uow.session.scalar(
        select(CallCounterRow.called).where(
            CallCounterRow.gate == gate,
            CallCounterRow.direction == direction.value,
            CallCounterRow.day == day,
        )
    )
    return called or 0


def _upsert_ignore(uow: UnitOfWork, table: type, **values: object):  # type: ignore[no-untyped-def]
    dialect = uow.session.bind.dialect.name if uow.session.bind else "postgresql"
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    return upsert(table).values(**values).on_conflict_do_nothing()


async def _take_slot(
    uow: UnitOfWork, platform: Platform, declaration: Declaration, slot_start: datetime
) -> None:
    """Count one booking in the slot, or 409 if it is full (decides races for the last one)."""
    config = queue_config(platform)
    gate = platform.gates.get(declaration.facts.gate)
    direction = declaration.facts.direction
    local = slot_start.astimezone(gate.zone)
    calls = await calls_for_day(uow, config, gate.code, direction, local.date())
    capacity = bookable(calls[local.hour], config.booking_share)
    key = {"gate": gate.code, "direction": direction.value, "slot_start": slot_start}
    await uow.session.execute(_upsert_ignore(uow, SlotCounterRow, booked=0, **key))
    result = await uow.session.execute(
        update(SlotCounterRow)
        .where(
            SlotCounterRow.gate == gate.code,
            SlotCounterRow.direction == direction.value,
            SlotCounterRow.slot_start == slot_start,
            SlotCounterRow.booked < capacity,
        )
        .values(booked=SlotCounterRow.booked + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        shown = local.strftime("%H:%M %d/%m/%Y")
        raise Conflict(
            f"Khung giờ {shown} đã hết chỗ ({capacity} xe); hãy chọn khung giờ khác",
            f"the {shown} slot is full ({capacity} trucks); choose another slot",
            field="slot_start",
            capacity=capacity,
        )


async def _release_slot(uow: UnitOfWork, declaration: Declaration, slot_start: datetime) -> None:
    await uow.session.execute(
        update(SlotCounterRow)
        .where(
            SlotCounterRow.gate == declaration.facts.gate,
            SlotCounterRow.direction == declaration.facts.direction.value,
            SlotCounterRow.slot_start == slot_start,
            SlotCounterRow.booked > 0,
        )
        .values(booked=SlotCounterRow.booked - 1)
    )


async def _count_call(
    uow: UnitOfWork,
    platform: Platform,
    declaration: Declaration,
    at: datetime,
    *,
    bounded: bool,
) -> None:
    """One more truck released toward the far side today; bounded calls stop at the quota."""
    config = queue_config(platform)
    gate = platform.gates.get(declaration.facts.gate)
    direction = declaration.facts.direction
    day = _local_day(at, gate.zone)
    key = {"gate": gate.code, "direction": direction.value, "day": day}
    await uow.session.execute(_upsert_ignore(uow, CallCounterRow, called=0, **key))
    statement = update(CallCounterRow).where(
        CallCounterRow.gate == gate.code,
        CallCounterRow.direction == direction.value,
        CallCounterRow.day == day,
    )
    if bounded:
        calls = await calls_for_day(uow, config, gate.code, direction, day)
        statement = statement.where(CallCounterRow.called < released_by(at, gate.zone, calls))
    result = await uow.session.execute(statement.values(called=CallCounterRow.called + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise QuotaReached(
            "Đã gọi đủ số xe phía bên kia nhận đến giờ này",
            "the far side's quota released so far today is used up",
        )


class QuotaReached(Conflict):
    code = "quota-reached"


def queue_hook(platform: Platform):  # type: ignore[no-untyped-def]
    """The transition hook keeping slot and call counters in step with the trail."""

    async def hook(
        uow: UnitOfWork, before: Declaration, after: Declaration, events: list[Event]
    ) -> None:
        for event in events:
            if event.action == "book_slot":
                if before.slot_start is not None:
                    await _release_slot(uow, before, before.slot_start)
                assert after.slot_start is not None
                await _take_slot(uow, platform, after, after.slot_start)
            elif event.action == "cancel_booking" and before.slot_start is not None:
                await _release_slot(uow, before, before.slot_start)
            elif (
                event.action == "cancel"
                and before.slot_start is not None
                and before.called_at is None
            ):
                await _release_slot(uow, before, before.slot_start)  # a cancelled truck frees it
            elif event.action == "call_forward":
                await _count_call(uow, platform, after, event.at, bounded=True)
            elif event.action == "gate_in" and before.called_at is None:
                # Walked up without being called: it still uses the far side's quota.
                await _count_call(uow, platform, after, event.at, bounded=False)

    return hook


# --- Booking -------------------------------------------------------------------------------


def check_commodity_rules(platform: Platform, declaration: Declaration) -> None:
    """Refuse goods that may not cross at this gate, naming the rule."""
    hs_codes = [line.hs_code for line in declaration.facts.cargo]
    for rule in queue_config(platform).commodity_rules:
        if rule.forbids(hs_codes, declaration.facts.gate, declaration.facts.direction):
            allowed = ", ".join(sorted(rule.gates))
            raise InvalidInput(
                f"Quy định {rule.code}: {rule.name_vi} (cửa khẩu được phép: {allowed})",
                f"rule {rule.code}: {rule.name_en} (allowed gates: {allowed})",
                field="gate",
                rule=rule.code,
                allowed_gates=sorted(rule.gates),
            )


def _check_slot(platform: Platform, gate: Gate, slot_start: datetime, now: datetime) -> datetime:
    config = queue_config(platform)
    # Range first: comparing never overflows, converting year 1 or 9999 would.
    if slot_start < now - timedelta(days=1):
        raise InvalidInput("Khung giờ đã qua", "the slot is in the past", field="slot_start")
    if slot_start > now + config.booking_horizon:
        days = config.booking_horizon.days
        raise InvalidInput(
            f"Chỉ đặt lịch trong vòng {days} ngày tới",
            f"slots can be booked at most {days} days ahead",
            field="slot_start",
        )
    local = slot_start.astimezone(gate.zone)
    if (local.minute, local.second, local.microsecond) != (0, 0, 0):
        raise InvalidInput(
            "Khung giờ bắt đầu vào đầu giờ (ví dụ 09:00 giờ địa phương)",
            "slot_start must be on the hour in the gate's local time (e.g. 09:00)",
            field="slot_start",
        )
    if slot_start + HOUR <= now:
        raise InvalidInput("Khung giờ đã qua", "the slot is in the past", field="slot_start")
    if slot_start > now + config.booking_horizon:
        days = config.booking_horizon.days
        raise InvalidInput(
            f"Chỉ đặt lịch trong vòng {days} ngày tới",
            f"slots can be booked at most {days} days ahead",
            field="slot_start",
        )
    return slot_start.astimezone(UTC)


async def book_slot(
    platform: Platform,
    user: CurrentUser,
    declaration_id: str,
    slot_start: datetime,
    *,
    expected_version: int | None,
) -> Declaration:
    """Book (or rebook) the truck's arrival slot; the old slot is freed in the same commit."""
    declaration = await get_declaration(platform, user, declaration_id)
    gate = platform.gates.get(declaration.facts.gate)
    start = _check_slot(platform, gate, slot_start, platform.now())
    check_commodity_rules(platform, declaration)
    async with platform.unit_of_work() as uow:
        local = start.astimezone(gate.zone)
        calls = await calls_for_day(
            uow, queue_config(platform), gate.code, declaration.facts.direction, local.date()
        )
    if bookable(calls[local.hour], queue_config(platform).booking_share) == 0:
        raise Conflict(
            f"Cửa khẩu không nhận xe đặt lịch lúc {local:%H:%M %d/%m/%Y}",
            f"the gate takes no booked trucks at {local:%H:%M %d/%m/%Y}",
            field="slot_start",
        )
    after = await change_declaration(
        platform,
        user.actor,
        declaration_id,
        BookSlot(slot_start=start, slot_end=start + HOUR),
        expected_version=expected_version,
    )
    if after.waiting_at is not None:
        await refresh_queue(platform, gate.code, after.facts.direction)
    return after


async def cancel_booking(
    platform: Platform,
    user: CurrentUser,
    declaration_id: str,
    *,
    reason: str | None,
    expected_version: int | None,
) -> Declaration:
    after = await change_declaration(
        platform,
        user.actor,
        declaration_id,
        CancelBooking(reason=reason),
        expected_version=expected_version,
    )
    if after.waiting_at is not None:
        await refresh_queue(platform, after.facts.gate, after.facts.direction)
    return after


class SlotOut(Struct, frozen=True):
    slot_start: datetime
    slot_end: datetime
    capacity: int
    booked: int
    available: int


async def slots(
    platform: Platform, gate_code: str, direction: Direction, day: date
) -> list[SlotOut]:
    """Each hour of a local day with its booking capacity and what is left."""
    gate = _gate(platform, gate_code)
    check_day(platform, gate, day)
    config = queue_config(platform)
    start = datetime(day.year, day.month, day.day, tzinfo=gate.zone)
    async with platform.unit_of_work() as uow:
        calls = await calls_for_day(uow, config, gate.code, direction, day)
        rows = (
            await uow.session.execute(
                select(SlotCounterRow.slot_start, SlotCounterRow.booked).where(
                    SlotCounterRow.gate == gate.code,
                    SlotCounterRow.direction == direction.value,
                    SlotCounterRow.slot_start >= start,
                    SlotCounterRow.slot_start < start + timedelta(days=1),
                )
            )
        ).all()
    booked = {row.slot_start: row.booked for row in rows}
    out = []
    for hour, hour_calls in enumerate(calls):
        slot_start = datetime(day.year, day.month, day.day, hour, tzinfo=gate.zone)
        capacity = bookable(hour_calls, config.booking_share)
        taken = booked.get(slot_start.astimezone(UTC), 0)
        if capacity or taken:
            out.append(
                SlotOut(
                    slot_start=slot_start,
                    slot_end=slot_start + HOUR,
                    capacity=capacity,
                    booked=taken,
                    available=max(0, capacity - taken),
                )
            )
    return out


# --- The far side's quota --------------------------------------------------------------------


class QuotaOut(Struct, frozen=True):
    gate: str
    direction: str
    day: date
    quota: int
    default_quota: int
    reason: str | None
    set_by: str | None
    set_at: datetime | None
    called: int
    hourly_calls: list[int]


async def quota_status(
    platform: Platform, gate_code: str, direction: Direction, day: date
) -> QuotaOut:
    gate = _gate(platform, gate_code)
    check_day(platform, gate, day)
    config = queue_config(platform)
    async with platform.unit_of_work() as uow:
        row = await far_side_quota(uow, gate.code, direction, day)
        calls = await calls_for_day(uow, config, gate.code, direction, day)
        called = await _called_today(uow, gate.code, direction, day)
    default = config.capacity_for(gate.code, direction).default_quota
    return QuotaOut(
        gate=gate.code,
        direction=direction.value,
        day=day,
        quota=row.quota if row else default,
        default_quota=default,
        reason=row.reason if row else None,
        set_by=row.set_by if row else None,
        set_at=row.set_at.astimezone(gate.zone) if row else None,
        called=called,
        hourly_calls=calls,
    )


async def set_far_side_quota(
    platform: Platform,
    user: CurrentUser,
    gate_code: str,
    direction: Direction,
    day: date,
    quota: int,
    reason: str,
) -> QuotaOut:
    """The management board changes the far side's daily quota; the queue recomputes at once."""
    if user.role not in (Role.MANAGEMENT, Role.ADMIN):
        raise Forbidden(
            "Chỉ Ban quản lý được thay đổi hạn ngạch phía bên kia",
            "only the management board may change the far side's quota",
        )
    gate = _gate(platform, gate_code)
    text = reason.strip()
    if not text:
        raise InvalidInput("Phải ghi lý do", "a reason is required", field="reason")
    if not 0 <= quota <= MAX_QUOTA:
        raise InvalidInput(
            f"Hạn ngạch phải từ 0 đến {MAX_QUOTA}",
            f"quota must be between 0 and {MAX_QUOTA}",
            field="quota",
        )
    today = _local_day(platform.now(), gate.zone)
    check_day(platform, gate, day)
    if day < today:
        raise InvalidInput(
            "Không thể đổi hạn ngạch của ngày đã qua",
            "the quota of a past day cannot change",
            field="day",
        )
    async with platform.unit_of_work() as uow:
        await uow.session.execute(
            insert(FarSideQuotaRow).values(
                gate=gate.code,
                direction=direction.value,
                day=day,
                quota=quota,
                reason=text,
                set_by=user.actor.name,
                set_at=platform.now(),
            )
        )
        await uow.commit()
    log.info("far-side quota %s/%s %s = %s by %s", gate.code, direction, day, quota, user.username)
    await refresh_queue(platform, gate.code, direction)
    return await quota_status(platform, gate.code, direction, day)


# --- The waiting area and the queue ---------------------------------------------------------


async def arrive_waiting_area(
    platform: Platform,
    user: CurrentUser,
    gate_code: str,
    plate: str,
    observed_at: datetime | None,
    *,
    declaration_id: str | None = None,
) -> Declaration:
    """The yard operator checks a truck in at the waiting area by plate; it joins the queue."""
    gate = _gate(platform, gate_code)
    actor = user.actor
    if actor.role is not Role.YARD_OPERATOR:
        raise Forbidden(
            "Chỉ nhân viên bãi được ghi xe vào khu chờ",
            "only a yard operator may check trucks in at the waiting area",
        )
    if gate.code not in actor.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {gate.code}", f"you do not work at gate {gate.code}"
        )
    now = platform.now()
    observed = observed_at or now
    _check_observed_at(observed, now)
    key = plate_key(plate)
    if not 4 <= len(key) <= 16:
        raise InvalidInput("Biển số không hợp lệ", "not a valid plate", field="plate")
    statuses = (
        Status.SUBMITTED.value,
        Status.AWAITING_ARRIVAL.value,
        Status.AMENDMENT_REQUESTED.value,
        Status.ON_HOLD.value,
    )
    async with platform.unit_of_work() as uow:
        found = await uow.declarations.by_plate(gate.code, key, statuses)
    candidates = [
        d
        for d in found
        if d.arrived_at is None
        and d.waiting_at is None
        and (declaration_id is None or d.id == declaration_id)
    ]
    if not candidates:
        raise NotFound(
            f"Không có tờ khai nào của xe biển số {plate} chờ vào khu đợi tại {gate.code}",
            f"no declaration for a truck with plate {plate} to check in at {gate.code}",
            field="plate",
        )
    if len(candidates) > 1:
        numbers = ", ".join(d.number for d in candidates)
        raise Conflict(
            f"Biển số {plate} khớp nhiều tờ khai ({numbers}); chọn một tờ khai",
            f"plate {plate} matches several declarations ({numbers}); choose one by declaration_id",
            candidates=[{"id": d.id, "number": d.number} for d in candidates],
        )
    after = await change_declaration(
        platform, actor, candidates[0].id, ArriveWaitingArea(observed_at=observed)
    )
    await refresh_queue(platform, gate.code, after.facts.direction)
    return await get_declaration(platform, user, after.id)


class QueueEntry(Struct, frozen=True):
    """One truck of the live queue: where it stands and when it is expected to be called."""

    declaration_id: str
    number: str
    plate: str
    organisation: str
    direction: str
    lane: str
    position: int  # 0 = called, waiting to enter the yard
    waiting_at: datetime | None
    slot_start: datetime | None
    called_at: datetime | None
    expected_call_at: datetime
    expected_crossing_at: datetime
    announced_call_at: datetime | None = None  # the last estimate on its trail


async def _waiting(
    uow: UnitOfWork, gate: str, direction: Direction, *, called: bool
) -> list[Declaration]:
    """Trucks in the waiting area (not called) or called and not yet through the yard gate."""
    condition = (
        DeclarationRow.called_at.is_not(None) if called else DeclarationRow.called_at.is_(None)
    )
    rows = (
        await uow.session.scalars(
            select(DeclarationRow)
            .where(
                DeclarationRow.gate == gate,
                DeclarationRow.direction == direction.value,
                DeclarationRow.waiting_at.is_not(None),
                condition,
                DeclarationRow.arrived_at.is_(None),
                DeclarationRow.cancelled.is_(False),
                DeclarationRow.status.not_in([s.value for s in TERMINAL_STATUSES]),
            )
            .order_by(DeclarationRow.waiting_at, DeclarationRow.id)
        )
    ).all()
    return [to_domain(row) for row in rows]


async def measured_stage_times(
    uow: UnitOfWork, config: QueueConfig, gate: str, now: datetime
) -> StageTimes:
    """Medians over the gate's recent crossings: call to gate-in, gate-in to gate-out."""
    rows = (
        await uow.session.execute(
            select(DeclarationRow.called_at, DeclarationRow.arrived_at, DeclarationRow.departed_at)
            .where(
                DeclarationRow.gate == gate,
                DeclarationRow.departed_at.is_not(None),
                DeclarationRow.departed_at >= now - timedelta(days=7),
                DeclarationRow.arrived_at.is_not(None),
            )
            .order_by(DeclarationRow.departed_at.desc())
            .limit(config.measure_last)
        )
    ).all()
    defaults = config.default_stage_times
    return StageTimes(
        call_to_gate_in=median(
            [
                (r.arrived_at - r.called_at).total_seconds()
                for r in rows
                if r.called_at is not None and r.arrived_at >= r.called_at
            ],
            defaults.call_to_gate_in,
        ),
        gate_in_to_gate_out=median(
            [(r.departed_at - r.arrived_at).total_seconds() for r in rows],
            defaults.gate_in_to_gate_out,
        ),
    )


class QueuePlan(Struct, frozen=True):
    gate: str
    direction: Direction
    entries: list[QueueEntry]  # called first (position 0), then the waiting area in order
    to_call: int  # how many at the head of the waiting area may be called now
    called_today: int
    released_today: int
    credits_after: list[dict[str, int]] = []  # lane credits once the i-th truck is called


async def _credits(uow: UnitOfWork, gate: str, direction: Direction) -> dict[str, int]:
    stored = await uow.session.scalar(
        select(QueueCreditRow.credits).where(
            QueueCreditRow.gate == gate, QueueCreditRow.direction == direction.value
        )
    )
    return msgspec.json.decode(stored, type=dict[str, int]) if stored else {}


async def _keep_credits(
    platform: Platform, gate: str, direction: Direction, credits: dict[str, int]
) -> None:
    """Store the lanes' credit after calls, so the next recompute continues the rotation."""
    async with platform.unit_of_work() as uow:
        encoded = msgspec.json.encode(credits).decode()
        key = {"gate": gate, "direction": direction.value}
        await uow.session.execute(
            _upsert_ignore(uow, QueueCreditRow, credits="{}", updated_at=platform.now(), **key)
        )
        await uow.session.execute(
            update(QueueCreditRow)
            .where(QueueCreditRow.gate == gate, QueueCreditRow.direction == direction.value)
            .values(credits=encoded, updated_at=platform.now())
        )
        await uow.commit()


def _truck(declaration: Declaration, config: QueueConfig) -> WaitingTruck:
    assert declaration.waiting_at is not None
    return WaitingTruck(
        declaration_id=declaration.id,
        waiting_since=declaration.waiting_at,
        walk_in_lane=walk_in_lane_for(
            [line.hs_code for line in declaration.facts.cargo],
            declaration.organisation,
            config.policy,
        ),
        slot_start=declaration.slot_start,
    )


async def plan_queue(
    uow: UnitOfWork, platform: Platform, gate_code: str, direction: Direction, now: datetime
) -> QueuePlan:
    """The queue as it stands: its order, who may be called now, everyone's expected times."""
    config = queue_config(platform)
    gate = platform.gates.get(gate_code)
    today = _local_day(now, gate.zone)
    waiting = await _waiting(uow, gate.code, direction, called=False)
    called = await _waiting(uow, gate.code, direction, called=True)
    times = await measured_stage_times(uow, config, gate.code, now)
    called_today = await _called_today(uow, gate.code, direction, today)
    plans: dict[date, list[int]] = {}
    for offset in range(3):
        day = today + timedelta(days=offset)
        plans[day] = await calls_for_day(uow, config, gate.code, direction, day)
    released = released_by(now, gate.zone, plans[today])
    schedule = release_schedule(
        now, gate.zone, lambda d: plans.get(d, [0] * 24), called_today, days=3
    )
    by_id = {d.id: d for d in waiting}
    credits = await _credits(uow, gate.code, direction)
    planned = planned_calls([_truck(d, config) for d in waiting], now, config.policy, credits)
    order = [(lane, truck) for lane, truck, _ in planned]
    window_left = max(0, config.call_window - len(called))
    to_call = min(max(0, released - called_today), window_left, len(order))
    call_times = estimate_calls(len(order), to_call, schedule, now, times)
    entries = [
        _entry(declaration, "called", 0, declaration.called_at or now, times)
        for declaration in called
    ]
    for index, (lane, truck) in enumerate(order):
        declaration = by_id[truck.declaration_id]
        entries.append(_entry(declaration, lane.value, index + 1, call_times[index], times))
    return QueuePlan(
        gate=gate.code,
        direction=direction,
        entries=entries,
        to_call=to_call,
        called_today=called_today,
        released_today=released,
        credits_after=[after for _, _, after in planned[:to_call]],
    )


def _entry(
    declaration: Declaration, lane: str, position: int, call_at: datetime, times: StageTimes
) -> QueueEntry:
    crossing = expected_crossing(call_at, times)
    if declaration.called_at is not None:
        crossing = declaration.called_at + timedelta(
            seconds=times.call_to_gate_in + times.gate_in_to_gate_out
        )
    return QueueEntry(
        declaration_id=declaration.id,
        number=declaration.number,
        plate=declaration.facts.vehicle.plate,
        organisation=declaration.organisation,
        direction=declaration.facts.direction.value,
        lane=lane,
        position=position,
        waiting_at=declaration.waiting_at,
        slot_start=declaration.slot_start,
        called_at=declaration.called_at,
        expected_call_at=call_at,
        expected_crossing_at=crossing,
        announced_call_at=declaration.expected_call_at,
    )


async def refresh_queue(platform: Platform, gate_code: str, direction: Direction) -> QueuePlan:
    """Call the trucks the gate can take now and record moved estimates on their trails.

    A queue_position event is written only when a truck's expected call time moved by the
    policy's threshold: every event bumps the declaration's version, and a recompute that
    touched every waiting truck would turn firms' and officers' If-Match into needless 412s.
    """
    config = queue_config(platform)
    now = platform.now()
    async with platform.unit_of_work() as uow:
        plan = await plan_queue(uow, platform, gate_code, direction, now)
    waiting = [e for e in plan.entries if e.position > 0]
    made = 0
    for entry in waiting[: plan.to_call]:
        try:
            await change_declaration(
                platform,
                QUEUE_ACTOR,
                entry.declaration_id,
                CallForward(lane=entry.lane, position=entry.position),
                lock=True,
            )
            made += 1
        except QuotaReached:
            break  # another recompute called the last truck the quota allows
        except Conflict:
            continue  # changed under us (e.g. cancelled); the next recompute sees it
    if made:
        await _keep_credits(platform, gate_code, direction, plan.credits_after[made - 1])
    if plan.to_call:
        async with platform.unit_of_work() as uow:
            plan = await plan_queue(uow, platform, gate_code, direction, now)
    for entry in plan.entries:
        if entry.position == 0 or not moved_enough(
            entry.announced_call_at, entry.expected_call_at, config.policy
        ):
            continue
        try:
            await change_declaration(
                platform,
                QUEUE_ACTOR,
                entry.declaration_id,
                AnnounceQueuePosition(
                    position=entry.position,
                    expected_call_at=entry.expected_call_at,
                    expected_crossing_at=entry.expected_crossing_at,
                ),
                lock=True,
            )
        except Conflict:
            continue
    return plan


async def refresh_gate(platform: Platform, gate_code: str) -> None:
    for direction in Direction:
        await refresh_queue(platform, gate_code, direction)


TICK_SECONDS = 60.0


async def tick_forever(platform: Platform, interval: float = TICK_SECONDS) -> None:
    """Recompute every gate's queue each `interval` seconds, so each hour's new calls go out
    when the hour begins even if no truck moves. Safe in several processes at once: the call
    counters, not this loop, bound how many trucks are called."""
    import asyncio

    while True:
        await asyncio.sleep(interval)
        for gate in platform.gates:
            try:
                await refresh_gate(platform, gate.code)
            except Exception:  # one bad pass must not stop the next; it is logged
                log.exception("queue recompute failed at %s", gate.code)


def _may_see_queue(user: CurrentUser, gate: str) -> None:
    if user.role in READ_ALL_ROLES:
        return
    if user.role in GATE_BOUND_ROLES and gate in user.gates:
        return
    raise Forbidden(
        f"Bạn không xem được hàng chờ của cửa khẩu {gate}", f"you may not see the queue at {gate}"
    )


async def queue_board(
    platform: Platform, user: CurrentUser, gate_code: str, direction: Direction
) -> QueuePlan:
    gate = _gate(platform, gate_code)
    _may_see_queue(user, gate.code)
    async with platform.unit_of_work() as uow:
        return await plan_queue(uow, platform, gate.code, direction, platform.now())


async def refresh_board(
    platform: Platform, user: CurrentUser, gate_code: str, direction: Direction
) -> QueuePlan:
    gate = _gate(platform, gate_code)
    if user.role not in (Role.YARD_OPERATOR, Role.MANAGEMENT, Role.ADMIN):
        raise Forbidden(
            "Chỉ nhân viên bãi hoặc Ban quản lý được tính lại hàng chờ",
            "only the yard operator or the management board may recompute the queue",
        )
    _may_see_queue(user, gate.code)
    await refresh_queue(platform, gate.code, direction)
    return await queue_board(platform, user, gate.code, direction)


async def expected_times(platform: Platform, gate_code: str) -> list[QueueEntry]:
    """Every queued truck at the gate (both directions) with its expected call and crossing.

    For reports and other code: reads only, changes nothing.
    """
    gate = _gate(platform, gate_code)
    entries: list[QueueEntry] = []
    async with platform.unit_of_work() as uow:
        for direction in Direction:
            plan = await plan_queue(uow, platform, gate.code, direction, platform.now())
            entries.extend(plan.entries)
    return entries


class BookingView(Struct, frozen=True):
    declaration: Declaration
    entry: QueueEntry | None
    lane: Lane


async def booking_view(platform: Platform, user: CurrentUser, declaration_id: str) -> BookingView:
    """A declaration's booking and, if it is queued, its live place and expected times."""
    declaration = await get_declaration(platform, user, declaration_id)
    config = queue_config(platform)
    entry = None
    if declaration.waiting_at is not None and declaration.arrived_at is None:
        async with platform.unit_of_work() as uow:
            plan = await plan_queue(
                uow,
                platform,
                declaration.facts.gate,
                declaration.facts.direction,
                platform.now(),
            )
        entry = next((e for e in plan.entries if e.declaration_id == declaration.id), None)
    lane = walk_in_lane_for(
        [line.hs_code for line in declaration.facts.cargo], declaration.organisation, config.policy
    )
    return BookingView(declaration=declaration, entry=entry, lane=lane)


async def count_slot_bookings(uow: UnitOfWork, gate: str, direction: Direction) -> int:
    """Bookings held across all slots (for tests and reports)."""
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(SlotCounterRow.booked), 0)).where(
            and_(SlotCounterRow.gate == gate, SlotCounterRow.direction == direction.value)
        )
    )
    return int(total or 0)
