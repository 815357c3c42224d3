"""Application services for automated screening, the watchlist, and checks needing attention.

`run_screening` is what the workers call for one message. It is idempotent: the work id
of the message is recorded in processed_messages in the same transaction as the result,
so a redelivered or duplicated message changes nothing the second time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from agencies import border_guard, customs, quarantine
from border_gate.db.models import (
    CheckFailureRow,
    DeclarationRow,
    OutboxRow,
    ProcessedMessage,
    WatchlistEntryRow,
)
from border_gate.db.uow import UnitOfWork
from border_gate.declarations.service import change_declaration
from border_gate.errors import Conflict, Forbidden, InvalidInput, NotFound
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id, new_id
from border_gate.messaging.outbox import OutboxMessage
from border_gate.platform import Platform
from border_gate.screening.rules import ScreeningRules
from workflows.errors import WorkflowError
from workflows.machine import Command, FlagAttention
from workflows.model import Declaration, Status
from workflows.roles import Role, system_actor

log = logging.getLogger("border_gate.screening")

AGENCIES = (customs.AGENCY, quarantine.AGENCY, border_guard.AGENCY)


async def mark_processed(platform: Platform, work_id: str, actor_name: str) -> None:
    async with platform.unit_of_work() as uow:
        uow.session.add(
            ProcessedMessage(message_id=work_id, actor_name=actor_name, processed_at=platform.now())
        )
        try:
            await uow.commit()
        except IntegrityError:
            pass  # someone else recorded it first: same outcome


async def _prior_declarations(uow: UnitOfWork, declaration: Declaration, now: datetime) -> int:
    """How many declarations the firm submitted before this one (its track record)."""
    statement = select(func.count(DeclarationRow.id)).where(
        DeclarationRow.organisation_code == declaration.organisation,
        DeclarationRow.submitted.is_(True),
        DeclarationRow.id != declaration.id,
        DeclarationRow.submitted_at < (declaration.submitted_at or now),
    )
    return int((await uow.session.execute(statement)).scalar_one())


async def active_watchlist(uow: UnitOfWork, at: datetime) -> list[border_guard.WatchlistEntry]:
    rows = await uow.session.scalars(
        select(WatchlistEntryRow).where(
            WatchlistEntryRow.removed_at.is_(None),
            or_(WatchlistEntryRow.expires_at.is_(None), WatchlistEntryRow.expires_at > at),
        )
    )
    return [
        border_guard.WatchlistEntry(
            kind=r.kind, value=r.value, reason=r.reason, expires_at=r.expires_at
        )
        for r in rows
    ]


async def screening_command(
    platform: Platform,
    uow: UnitOfWork,
    rules: ScreeningRules,
    agency: str,
    declaration: Declaration,
    round_: int,
) -> Command:
    """Run the agency's pure check on what the database knows, as a workflow command."""
    facts = declaration.facts
    now = platform.now()
    if agency == customs.AGENCY:
        assessment = customs.assess(
            facts,
            prior_declarations=await _prior_declarations(uow, declaration, now),
            rules=rules.customs,
            seed=rules.seed,
            declaration_id=declaration.id,
            round_=round_,
        )
        return customs.screening(assessment, round_)
    if agency == quarantine.AGENCY:
        return quarantine.screening(quarantine.assess(facts, rules.quarantine), round_)
    if agency == border_guard.AGENCY:
        zone = platform.gates.get(facts.gate).zone
        findings = border_guard.assess(
            facts,
            await active_watchlist(uow, now),
            today=now.astimezone(zone).date(),
            expiry_warning_days=rules.expiry_warning_days,
        )
        return border_guard.screening(findings, round_)
    raise ValueError(f"unknown agency {agency!r}")


class _AlreadyProcessed(Exception):
    """The message's work was committed before: nothing to do, nothing to write."""


_FINISHED = (Status.CANCELLED, Status.REJECTED, Status.DEPARTED)


async def run_screening(
    platform: Platform,
    rules: ScreeningRules,
    *,
    agency: str,
    declaration_id: str,
    round_: int,
    work_id: str,
    actor_name: str,
) -> str:
    """Screen one declaration for one agency, once. Returns what happened (for logs and tests).

    Reading the inputs, deciding, writing the result and recording the work id as processed
    happen in one transaction; a duplicate message finds the work id and stops.
    """
    outcome = "applied"

    async def build(current: Declaration, uow: UnitOfWork) -> Command | None:
        nonlocal outcome
        if await uow.session.get(ProcessedMessage, work_id) is not None:
            raise _AlreadyProcessed
        if current.screening_round != round_ or current.status in _FINISHED:
            outcome = "stale"  # amended and resubmitted meanwhile, or finished: nothing to apply
            return None
        return await screening_command(platform, uow, rules, agency, current, round_)

    async def record(uow: UnitOfWork, _after: Declaration) -> None:
        uow.session.add(
            ProcessedMessage(message_id=work_id, actor_name=actor_name, processed_at=platform.now())
        )
        await uow.session.execute(
            update(CheckFailureRow)
            .where(CheckFailureRow.work_id == work_id, CheckFailureRow.status != "resolved")
            .values(status="resolved", resolved_at=platform.now())
        )

    for _attempt in range(5):
        try:
            await change_declaration(
                platform,
                system_actor(f"{agency}-screening"),
                declaration_id,
                build,
                before_commit=record,
                lock=True,
            )
            return outcome
        except _AlreadyProcessed:
            return "duplicate"
        except NotFound:
            await mark_processed(platform, work_id, actor_name)
            return "missing"
        except Conflict:
            continue  # the declaration changed meanwhile, or a duplicate won: look again
        except WorkflowError as exc:
            # A refusal by the state machine is final for this message: retrying cannot help.
            log.info("screening %s for %s refused: %s", agency, declaration_id, exc)
            await mark_processed(platform, work_id, actor_name)
            return "refused"
    raise Conflict(
        "Tờ khai thay đổi liên tục; sẽ thử lại", "the declaration kept changing; will retry"
    )


# --- Checks that need attention ---------------------------------------------------------------


class CheckFailure(msgspec.Struct, frozen=True):
    id: str
    work_id: str
    actor_name: str
    queue_name: str
    declaration_id: str | None
    agency: str | None
    error: str
    attempts: int
    status: str
    failed_at: datetime
    retried_at: datetime | None
    retried_by: str | None
    resolved_at: datetime | None


def _failure(row: CheckFailureRow) -> CheckFailure:
    return CheckFailure(
        id=row.id,
        work_id=row.work_id,
        actor_name=row.actor_name,
        queue_name=row.queue_name,
        declaration_id=row.declaration_id,
        agency=row.agency,
        error=row.error,
        attempts=row.attempts,
        status=row.status,
        failed_at=row.failed_at,
        retried_at=row.retried_at,
        retried_by=row.retried_by,
        resolved_at=row.resolved_at,
    )


async def record_check_failure(
    platform: Platform,
    *,
    actor_name: str,
    queue_name: str,
    kwargs: dict[str, object],
    error: str,
    attempts: int,
) -> None:
    """A check gave up after its retries: keep it for an admin and mark the stage visibly."""
    declaration_id = kwargs.get("declaration_id")
    agency = kwargs.get("agency") or actor_name.removeprefix("screen_")
    work_id = str(kwargs.get("work_id") or new_id())
    row = CheckFailureRow(
        id=new_id(),
        work_id=work_id,
        actor_name=actor_name,
        queue_name=queue_name,
        payload=msgspec.json.encode({"kwargs": kwargs}).decode(),
        declaration_id=declaration_id if isinstance(declaration_id, str) else None,
        agency=str(agency),
        error=error[:4000],
        attempts=attempts,
        status="open",
        failed_at=platform.now(),
    )

    async def add_row(uow: UnitOfWork, _after: Declaration) -> None:
        uow.session.add(row)

    if isinstance(declaration_id, str) and agency in AGENCIES:
        reason = (
            f"Kiểm tra tự động {agency} lỗi sau {attempts} lần thử; cần quản trị xử lý / "
            f"automated {agency} check failed after {attempts} attempts; needs attention: {error[:300]}"
        )
        try:
            await change_declaration(
                platform,
                system_actor(f"{agency}-screening"),
                declaration_id,
                FlagAttention(agency=str(agency), reason=reason),
                before_commit=add_row,
                lock=True,
            )
            return
        except (WorkflowError, Conflict, NotFound) as exc:
            log.warning("could not flag %s on %s: %s", agency, declaration_id, exc)
    async with platform.unit_of_work() as uow:
        uow.session.add(row)
        await uow.commit()


def _require_admin(user: CurrentUser) -> None:
    if user.role is not Role.ADMIN:
        raise Forbidden(
            "Chỉ quản trị viên xem và chạy lại kiểm tra lỗi",
            "only an admin may list and retry failed checks",
        )


async def list_check_failures(
    platform: Platform, user: CurrentUser, *, status: str | None, limit: int
) -> list[CheckFailure]:
    _require_admin(user)
    async with platform.unit_of_work() as uow:
        statement = select(CheckFailureRow).order_by(CheckFailureRow.failed_at.desc()).limit(limit)
        if status:
            statement = statement.where(CheckFailureRow.status == status)
        return [_failure(r) for r in await uow.session.scalars(statement)]


async def retry_check_failure(
    platform: Platform, user: CurrentUser, failure_id: str
) -> CheckFailure:
    """Send the failed work again, through the outbox, with the same work id."""
    _require_admin(user)
    now = platform.now()
    async with platform.unit_of_work() as uow:
        row = (
            await uow.session.get(CheckFailureRow, failure_id, with_for_update=True)
            if looks_like_id(failure_id)
            else None
        )
        if row is None:
            raise NotFound(f"Không có lỗi kiểm tra {failure_id}", f"no failed check {failure_id}")
        if row.status != "open":
            raise Conflict(
                f"Lỗi này đã ở trạng thái {row.status}; không chạy lại",
                f"this failure is already {row.status}; not retried again",
            )
        kwargs = msgspec.json.decode(row.payload)["kwargs"]
        message = OutboxMessage(
            actor_name=row.actor_name,
            queue_name=row.queue_name,
            kwargs=kwargs,
            declaration_id=row.declaration_id,
        )
        await uow.outbox.add([message], now)
        row.status = "retried"
        row.retried_at = now
        row.retried_by = f"user:{user.username}"
        await uow.commit()
        result = _failure(row)
    platform.outbox_written()
    return result


async def pending_outbox(platform: Platform) -> int:
    async with platform.unit_of_work() as uow:
        return int(
            (
                await uow.session.execute(
                    select(func.count(OutboxRow.id)).where(OutboxRow.sent_at.is_(None))
                )
            ).scalar_one()
        )


# --- Watchlist --------------------------------------------------------------------------------


class WatchlistItem(msgspec.Struct, frozen=True):
    id: str
    kind: str
    value: str
    reason: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    active: bool


def _item(row: WatchlistEntryRow, now: datetime) -> WatchlistItem:
    return WatchlistItem(
        id=row.id,
        kind=row.kind,
        value=row.value,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        active=row.removed_at is None and (row.expires_at is None or row.expires_at > now),
    )


def _require_border_guard(user: CurrentUser, *, reading: bool = False) -> None:
    allowed = {Role.BORDER_GUARD_OFFICER} | ({Role.ADMIN} if reading else set())
    if user.role not in allowed:
        raise Forbidden(
            "Chỉ biên phòng quản lý danh sách theo dõi",
            "only border guard officers manage the watchlist",
        )


async def add_watchlist_entry(
    platform: Platform,
    user: CurrentUser,
    *,
    kind: str,
    value: str,
    reason: str,
    expires_at: datetime | None,
) -> WatchlistItem:
    _require_border_guard(user)
    now = platform.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidInput(
            "Thời hạn theo dõi phải ở tương lai",
            "expires_at must be in the future",
            field="expires_at",
        )
    if expires_at is not None and expires_at > now + timedelta(days=3660):
        raise InvalidInput(
            "Thời hạn theo dõi tối đa 10 năm",
            "expires_at at most 10 years ahead",
            field="expires_at",
        )
    key = border_guard.watch_key(kind, value)
    if not 3 <= len(key) <= 40:
        raise InvalidInput(
            "Giá trị không hợp lệ", "value is not a plate or document number", field="value"
        )
    row = WatchlistEntryRow(
        id=new_id(),
        kind=kind,
        value=value.strip(),
        value_key=key,
        reason=reason.strip(),
        created_by=f"user:{user.username}",
        created_at=now,
        expires_at=expires_at,
    )
    async with platform.unit_of_work() as uow:
        uow.session.add(row)
        await uow.commit()
    return _item(row, now)


async def list_watchlist(
    platform: Platform, user: CurrentUser, *, include_inactive: bool, limit: int
) -> list[WatchlistItem]:
    _require_border_guard(user, reading=True)
    now = platform.now()
    async with platform.unit_of_work() as uow:
        statement = (
            select(WatchlistEntryRow).order_by(WatchlistEntryRow.created_at.desc()).limit(limit)
        )
        if not include_inactive:
            statement = statement.where(
                WatchlistEntryRow.removed_at.is_(None),
                or_(WatchlistEntryRow.expires_at.is_(None), WatchlistEntryRow.expires_at > now),
            )
        return [_item(r, now) for r in await uow.session.scalars(statement)]


async def remove_watchlist_entry(
    platform: Platform, user: CurrentUser, entry_id: str, *, reason: str
) -> WatchlistItem:
    _require_border_guard(user)
    now = platform.now()
    async with platform.unit_of_work() as uow:
        row = (
            await uow.session.get(WatchlistEntryRow, entry_id) if looks_like_id(entry_id) else None
        )
        if row is None:
            raise NotFound(f"Không có mục theo dõi {entry_id}", f"no watchlist entry {entry_id}")
        if row.removed_at is not None:
            raise Conflict("Mục này đã được gỡ", "this entry was already removed")
        row.removed_at = now
        row.removed_by = f"user:{user.username}"
        row.removal_reason = reason.strip()
        await uow.commit()
        return _item(row, now)
