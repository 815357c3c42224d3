"""Fees: charged in the gate-in's transaction, paid by the provider's callback, totalled per day.

- `fees_hook` runs inside every transition's transaction; at a `gate_in` it writes the
  charge (one per declaration, enforced by a unique key), so the charge exists exactly when
  the gate-in does.
- `record_payment` takes the provider's signed callback: idempotent by payment reference;
  the payment, the charge's new status, the receipt's render message and the `fee.paid`
  notices commit together. The receipt is rendered and signed by a document worker.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from border_gate.db.uow import UnitOfWork
from border_gate.documents.policy import DOCUMENT_QUEUE, FEE_RECEIPT, RENDER_ACTOR
from border_gate.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
    declaration_not_found,
)
from border_gate.fees.models import FeeCharge, FeePayment
from border_gate.fees.tariff import MAX_AMOUNT_VND, Tariff
from border_gate.gates import Gate
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id, new_id
from border_gate.messaging.outbox import OutboxMessage
from border_gate.notifications.service import TransitionHook, notify
from border_gate.notifications.signature import SignatureError, verify_signature
from border_gate.notifications.topics import FEE_CHARGED, FEE_PAID, Notice
from border_gate.platform import Platform
from workflows.machine import Event
from workflows.model import Declaration
from workflows.roles import Role, can_see

log = logging.getLogger("border_gate.fees")

PAYMENT_SIGNATURE_HEADER = "X-Payment-Signature"
MAX_REPORT_DAYS = 366


def vnd(amount: int) -> str:
    """500000 → '500.000 ₫' (Vietnamese groups thousands with dots)."""
    return f"{amount:,}".replace(",", ".") + " ₫"


# --- Charging at gate-in (inside the transition's transaction) -------------------------------


def fees_hook(platform: Platform, tariff: Tariff) -> TransitionHook:
    """The transition hook that charges the tariff's fee at gate-in."""

    async def hook(
        uow: UnitOfWork, before: Declaration, after: Declaration, events: list[Event]
    ) -> None:
        for event in events:
            if event.action != "gate_in":
                continue
            already = await uow.session.scalar(
                select(FeeCharge.id).where(FeeCharge.declaration_id == after.id)
            )
            if already is not None:
                continue  # charged once, whatever happens to the gate-in afterwards
            fee = tariff.fee_for(after.facts)
            charge = FeeCharge(
                id=new_id(),
                declaration_id=after.id,
                organisation=after.organisation,
                gate=after.facts.gate,
                direction=after.facts.direction.value,
                vehicle_type=fee.vehicle_type,
                gross_weight_kg=fee.gross_weight_kg,
                tariff_rule=f"{fee.rule_vi} / {fee.rule_en}"[:220],
                amount_vnd=fee.amount_vnd,
                status="due",
                charged_at=event.at,
                paid_at=None,
                payment_reference=None,
            )
            uow.session.add(charge)
            await uow.session.flush()
            await notify(
                platform,
                uow,
                after,
                [
                    Notice(
                        topic=FEE_CHARGED,
                        at=event.at,
                        data={
                            "charge_id": charge.id,
                            "amount_vnd": charge.amount_vnd,
                            "currency": "VND",
                            "tariff_rule": charge.tariff_rule,
                        },
                    )
                ],
            )

    return hook


# --- Reading ---------------------------------------------------------------------------------


class FeeChargeOut(msgspec.Struct, frozen=True):
    id: str
    declaration_id: str
    gate: str
    direction: str
    vehicle_type: str
    gross_weight_kg: float
    tariff_rule: str
    amount_vnd: int
    currency: str
    status: str  # due | paid
    charged_at: datetime
    paid_at: datetime | None
    payment_reference: str | None


def _zone_of(platform: Platform, gate: str) -> ZoneInfo:
    return platform.gates.get(gate).zone if gate in platform.gates else platform.settings.zone


def charge_out(platform: Platform, row: FeeCharge) -> FeeChargeOut:
    zone = _zone_of(platform, row.gate)
    return FeeChargeOut(
        id=row.id,
        declaration_id=row.declaration_id,
        gate=row.gate,
        direction=row.direction,
        vehicle_type=row.vehicle_type,
        gross_weight_kg=row.gross_weight_kg,
        tariff_rule=row.tariff_rule,
        amount_vnd=row.amount_vnd,
        currency="VND",
        status=row.status,
        charged_at=row.charged_at.astimezone(zone),
        paid_at=row.paid_at.astimezone(zone) if row.paid_at else None,
        payment_reference=row.payment_reference,
    )


async def declaration_fees(
    platform: Platform, user: CurrentUser, declaration_id: str
) -> list[FeeChargeOut]:
    """The declaration's charges (none before gate-in), for whoever may see the declaration."""
    if not looks_like_id(declaration_id):
        raise declaration_not_found(declaration_id)
    async with platform.unit_of_work() as uow:
        declaration = await uow.declarations.get(declaration_id)
        if declaration is None or not can_see(
            user.actor, organisation=declaration.organisation, gate=declaration.facts.gate
        ):
            raise declaration_not_found(declaration_id)
        rows = (
            await uow.session.scalars(
                select(FeeCharge).where(FeeCharge.declaration_id == declaration_id)
            )
        ).all()
    return [charge_out(platform, row) for row in rows]


async def paid_charge(session: AsyncSession, declaration_id: str) -> FeeCharge | None:
    """The declaration's charge if it is paid (what a receipt is issued for), else None."""
    return await session.scalar(
        select(FeeCharge).where(
            FeeCharge.declaration_id == declaration_id, FeeCharge.status == "paid"
        )
    )


def receipt_facts(platform: Platform, charge: FeeCharge) -> list[tuple[str, str, str]]:
    """The lines a fee receipt adds to the document's facts table (times in the gate's zone)."""
    zone = _zone_of(platform, charge.gate)
    paid = charge.paid_at.astimezone(zone) if charge.paid_at else None
    charged = charge.charged_at.astimezone(zone)
    vehicle = (
        "Xe đầu kéo sơ mi rơ-moóc / tractor with semi-trailer"
        if charge.vehicle_type == "tractor_trailer"
        else "Xe tải / truck"
    )
    return [
        ("Khoản thu", "Fee", "Phí sử dụng công trình hạ tầng cửa khẩu / infrastructure fee"),
        ("Mức phí áp dụng", "Tariff line", charge.tariff_rule),
        ("Loại phương tiện", "Vehicle type", vehicle),
        ("Khối lượng hàng", "Cargo gross weight", f"{charge.gross_weight_kg:,.0f} kg"),
        ("Số tiền", "Amount", f"{vnd(charge.amount_vnd)} (VND)"),
        ("Mã khoản thu", "Charge id", charge.id),
        ("Mã thanh toán", "Payment reference", charge.payment_reference or ""),
        ("Thời điểm vào bãi", "Charged at gate-in", charged.strftime("%d/%m/%Y %H:%M %z")),
        (
            "Thời điểm thanh toán",
            "Paid at",
            paid.strftime("%d/%m/%Y %H:%M %z") if paid else "",
        ),
    ]


# --- The payment provider's callback ---------------------------------------------------------


class PaymentCallback(msgspec.Struct, frozen=True):
    """What the provider posts when a fee is paid (unknown extra fields are ignored)."""

    reference: Annotated[str, Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")]
    charge_id: Annotated[str, Meta(min_length=1, max_length=36)]
    amount_vnd: Annotated[int, Meta(gt=0, le=MAX_AMOUNT_VND)]
    paid_at: Annotated[datetime, Meta(tz=True)]
    currency: Literal["VND"] = "VND"


class PaymentOut(msgspec.Struct, frozen=True):
    reference: str
    charge_id: str
    declaration_id: str
    amount_vnd: int
    currency: str
    status: str
    paid_at: datetime


def _payment_out(platform: Platform, payment: FeePayment, charge: FeeCharge) -> PaymentOut:
    return PaymentOut(
        reference=payment.reference,
        charge_id=charge.id,
        declaration_id=charge.declaration_id,
        amount_vnd=payment.amount_vnd,
        currency="VND",
        status=charge.status,
        paid_at=payment.paid_at.astimezone(_zone_of(platform, charge.gate)),
    )


def authenticate_callback(platform: Platform, body: bytes, header: str | None) -> None:
    """401 unless `header` is a fresh HMAC-SHA256 of `body` with the shared secret."""
    secret = platform.settings.payment_callback_secret
    if secret is None:
        # Nothing can authenticate, so nobody is let in; 401 (not 5xx): no bad request
        # may look like a server fault, and the detail tells the operator what to set.
        log.warning("payment callback refused: PAYMENT_CALLBACK_SECRET is not configured")
        raise Unauthorized(
            "Chưa cấu hình PAYMENT_CALLBACK_SECRET: không nhận thông báo thanh toán",
            "PAYMENT_CALLBACK_SECRET is not configured: payment callbacks are not accepted",
            field=PAYMENT_SIGNATURE_HEADER,
        )
    try:
        verify_signature(
            secret,
            header,
            body,
            now=int(time.time()),  # the provider's clock is the real one, not a simulator's
            tolerance_seconds=platform.settings.payment_callback_tolerance_seconds,
        )
    except SignatureError as exc:
        raise Unauthorized(exc.vi, exc.en, field=PAYMENT_SIGNATURE_HEADER) from None


async def _replay(
    platform: Platform, uow: UnitOfWork, callback: PaymentCallback
) -> PaymentOut | None:
    """The answer already given for this reference, or None if it is new; 409 if it differs."""
    payment = await uow.session.get(FeePayment, callback.reference)
    if payment is None:
        return None
    if payment.charge_id != callback.charge_id or payment.amount_vnd != callback.amount_vnd:
        raise Conflict(
            f"Mã thanh toán {callback.reference} đã ghi nhận cho khoản {payment.charge_id} "
            f"với số tiền {vnd(payment.amount_vnd)}",
            f"payment reference {callback.reference} was already recorded for charge "
            f"{payment.charge_id} with amount {payment.amount_vnd} VND",
            field="reference",
        )
    charge = await uow.session.get(FeeCharge, payment.charge_id)
    assert charge is not None  # a foreign key
    return _payment_out(platform, payment, charge)


async def record_payment(
    platform: Platform, body: bytes, signature: str | None
) -> tuple[PaymentOut, bool]:
    """Authenticate and apply a callback. Returns (payment, replayed).

    The same callback again answers the same and changes nothing; the same reference with
    another amount or charge is 409; an unknown charge 404; a charge paid under another
    reference 409; an amount that is not the fee due 422.
    """
    authenticate_callback(platform, body, signature)
    callback = msgspec.json.decode(body, type=PaymentCallback)
    return await apply_payment(platform, callback)


async def apply_payment(platform: Platform, callback: PaymentCallback) -> tuple[PaymentOut, bool]:
    """Apply an authenticated payment (the callback's, or a trusted in-process caller's)."""
    if not looks_like_id(callback.charge_id):
        raise NotFound(
            f"Không có khoản thu {callback.charge_id[:36]}",
            f"no charge {callback.charge_id[:36]}",
            field="charge_id",
        )
    now = platform.now()
    for _attempt in range(2):  # a racing copy of the same callback: answer as it did
        async with platform.unit_of_work() as uow:
            # Lock the charge first: a racing copy of this callback waits here, then finds
            # its reference recorded below and answers as the first did.
            charge = await uow.session.scalar(
                select(FeeCharge).where(FeeCharge.id == callback.charge_id).with_for_update()
            )
            replayed = await _replay(platform, uow, callback)
            if replayed is not None:
                return replayed, True
            if charge is None:
                raise NotFound(
                    f"Không có khoản thu {callback.charge_id}",
                    f"no charge {callback.charge_id}",
                    field="charge_id",
                )
            if charge.status == "paid":
                raise Conflict(
                    f"Khoản thu đã được thanh toán (mã {charge.payment_reference})",
                    f"the charge is already paid (reference {charge.payment_reference})",
                    field="charge_id",
                    payment_reference=charge.payment_reference,
                )
            if callback.amount_vnd != charge.amount_vnd:
                raise InvalidInput(
                    f"Số tiền {vnd(callback.amount_vnd)} khác số phải nộp {vnd(charge.amount_vnd)}",
                    f"amount {callback.amount_vnd} VND is not the fee due ({charge.amount_vnd} VND)",
                    field="amount_vnd",
                )
            payment = FeePayment(
                reference=callback.reference,
                charge_id=charge.id,
                amount_vnd=callback.amount_vnd,
                paid_at=callback.paid_at.astimezone(UTC),
                received_at=now,
            )
            uow.session.add(payment)
            try:
                await uow.session.flush()
            except IntegrityError:
                continue  # the same reference committed meanwhile
            marked = await uow.session.execute(
                update(FeeCharge)
                .where(FeeCharge.id == charge.id, FeeCharge.status == "due")
                .values(
                    status="paid",
                    paid_at=payment.paid_at,
                    payment_reference=payment.reference,
                )
                .execution_options(synchronize_session="fetch")
            )
            if marked.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(
                    "Khoản thu vừa được thanh toán bởi giao dịch khác",
                    "the charge was just paid by another payment",
                    field="charge_id",
                )
            await uow.outbox.add(
                [
                    OutboxMessage(
                        actor_name=RENDER_ACTOR,
                        queue_name=DOCUMENT_QUEUE,
                        kwargs={
                            "declaration_id": charge.declaration_id,
                            "kind": FEE_RECEIPT,
                            "stage": None,
                        },
                        declaration_id=charge.declaration_id,
                    )
                ],
                now,
            )
            declaration = await uow.declarations.get(charge.declaration_id)
            if declaration is not None:
                await notify(
                    platform,
                    uow,
                    declaration,
                    [
                        Notice(
                            topic=FEE_PAID,
                            at=now,
                            data={
                                "charge_id": charge.id,
                                "amount_vnd": charge.amount_vnd,
                                "currency": "VND",
                                "payment_reference": payment.reference,
                            },
                        )
                    ],
                )
            await uow.session.refresh(charge)
            answer = _payment_out(platform, payment, charge)
            try:
                await uow.commit()
            except IntegrityError:
                continue
        platform.outbox_written()
        return answer, False
    async with platform.unit_of_work() as uow:
        replayed = await _replay(platform, uow, callback)
    if replayed is None:  # pragma: no cover - the loop above only ends on a racing commit
        raise Conflict("Vui lòng gửi lại", "please retry")
    return replayed, True


# --- Totals for the management reports --------------------------------------------------------


class DailyFeeTotal(msgspec.Struct, frozen=True):
    """One local day at one gate: trucks charged, what they owe, what is paid of it."""

    day: date
    gate: str
    vehicles: int
    charged_vnd: int
    paid_vnd: int
    outstanding_vnd: int


async def daily_fee_totals(
    session: AsyncSession, gate: Gate, start: date, end: date, *, direction: str | None = None
) -> list[DailyFeeTotal]:
    """Per local day (the gate's zone) from `start` to `end` inclusive, empty days included.

    A charge counts on the day of its gate-in; `paid_vnd` is how much of that day's charges
    has been paid so far.
    """
    zone = gate.zone
    since = datetime.combine(start, datetime.min.time(), zone).astimezone(UTC)
    until = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC)
    rows = (
        await session.execute(
            select(FeeCharge.charged_at, FeeCharge.amount_vnd, FeeCharge.status).where(
                FeeCharge.gate == gate.code,
                FeeCharge.charged_at >= since,
                FeeCharge.charged_at < until,
                *([FeeCharge.direction == direction] if direction else []),
            )
        )
    ).all()
    days: dict[date, list[int]] = {}
    day = start
    while day <= end:
        days[day] = [0, 0, 0]
        day += timedelta(days=1)
    for charged_at, amount, status in rows:
        local = charged_at.astimezone(zone).date()
        if local not in days:
            continue
        counts = days[local]
        counts[0] += 1
        counts[1] += amount
        if status == "paid":
            counts[2] += amount
    return [
        DailyFeeTotal(
            day=day,
            gate=gate.code,
            vehicles=vehicles,
            charged_vnd=charged,
            paid_vnd=paid,
            outstanding_vnd=charged - paid,
        )
        for day, (vehicles, charged, paid) in days.items()
    ]


class FeeReport(msgspec.Struct, frozen=True):
    gate: str
    timezone: str
    currency: str
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    days: list[DailyFeeTotal] = []
    vehicles: int = 0
    charged_vnd: int = 0
    paid_vnd: int = 0
    outstanding_vnd: int = 0


async def fee_report(
    platform: Platform, user: CurrentUser, gate_code: str, start: date, end: date
) -> FeeReport:
    """Fee totals per day at one gate, for the management board and admins."""
    if user.role not in (Role.MANAGEMENT, Role.ADMIN):
        raise Forbidden(
            "Chỉ ban quản lý xem báo cáo phí", "only the management board sees fee reports"
        )
    if gate_code not in platform.gates:
        known = ", ".join(platform.gates.codes)
        raise InvalidInput(
            f"Cửa khẩu không tồn tại: {gate_code[:40]} (có: {known})",
            f"unknown gate {gate_code[:40]} (known: {known})",
            field="gate",
        )
    if end < start:
        raise InvalidInput("Ngày kết thúc trước ngày bắt đầu", "`to` is before `from`", field="to")
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise InvalidInput(
            f"Tối đa {MAX_REPORT_DAYS} ngày một lần",
            f"at most {MAX_REPORT_DAYS} days per report",
            field="to",
        )
    gate = platform.gates.get(gate_code)
    async with platform.unit_of_work() as uow:
        days = await daily_fee_totals(uow.session, gate, start, end)
    return FeeReport(
        gate=gate.code,
        timezone=gate.timezone,
        currency="VND",
        start=start,
        end=end,
        days=days,
        vehicles=sum(d.vehicles for d in days),
        charged_vnd=sum(d.charged_vnd for d in days),
        paid_vnd=sum(d.paid_vnd for d in days),
        outstanding_vnd=sum(d.outstanding_vnd for d in days),
    )
