"""Webhook endpoints (register, list, delete), notices into the outbox, and delivering them.

- `notifications_hook` runs inside every transition's transaction: the notices its events
  call for become delivery rows plus `deliver_webhook` outbox messages, committed with the
  event or not at all. No HTTP happens there.
- `notify` does the same for notices that are not transitions (a document issued, a fee paid).
- `deliver` runs in a worker on the `notifications` queue: one HTTP attempt, logged; a
  failure raises so Dramatiq retries it with exponential backoff, up to
  WEBHOOK_MAX_ATTEMPTS, after which the delivery is marked failed.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any

import certifi
import httpx
import msgspec
from msgspec import Meta
from sqlalchemy import func, select

from border_gate.db.uow import UnitOfWork
from border_gate.errors import Conflict, Forbidden, InvalidInput, NotFound
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id, new_id
from border_gate.messaging.outbox import OutboxMessage
from border_gate.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from border_gate.notifications.signature import signature_header
from border_gate.notifications.targets import TargetRefused, check_target_url, internal_resolution
from border_gate.notifications.topics import TOPICS, Notice, notices_for
from border_gate.platform import Platform
from workflows.machine import Event
from workflows.model import PRINTABLE, Declaration
from workflows.roles import Role

log = logging.getLogger("border_gate.notifications")

NOTIFICATION_QUEUE = "notifications"
DELIVER_ACTOR = "deliver_webhook"
SIGNATURE_HEADER = "X-BorderGate-Signature"
MAX_ENDPOINTS_PER_FIRM = 10
MAX_LOG_PAGE = 100
USER_AGENT = "BorderGate-Webhooks/1.0"


class WebhookDeliveryFailed(Exception):
    """One attempt failed and more are allowed: raised so Dramatiq retries with backoff."""


# --- Notices into the outbox (inside the caller's transaction) ---------------------------


def _declaration_summary(declaration: Declaration) -> dict[str, Any]:
    return {
        "id": declaration.id,
        "number": declaration.number,
        "gate": declaration.facts.gate,
        "direction": declaration.facts.direction.value,
        "plate": declaration.facts.vehicle.plate,
        "status": declaration.status.value,
        "version": declaration.version,
    }


async def notify(
    platform: Platform, uow: UnitOfWork, declaration: Declaration, notices: list[Notice]
) -> int:
    """Queue `notices` about `declaration` for its firm's subscribed endpoints; returns how many.

    Writes delivery rows and outbox messages in `uow`'s transaction: they exist if and only
    if the caller commits.
    """
    if not notices:
        return 0
    endpoints = (
        await uow.session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.organisation == declaration.organisation,
                WebhookEndpoint.deleted_at.is_(None),
            )
        )
    ).all()
    if not endpoints:
        return 0
    gate = declaration.facts.gate
    zone = platform.gates.get(gate).zone if gate in platform.gates else platform.settings.zone
    now = platform.now()
    messages: list[OutboxMessage] = []
    for endpoint in endpoints:
        wanted = set(msgspec.json.decode(endpoint.topics))
        for notice in notices:
            if notice.topic not in wanted:
                continue
            delivery_id = new_id()
            payload = {
                "id": delivery_id,
                "topic": notice.topic,
                "occurred_at": notice.at.astimezone(zone).isoformat(),
                "declaration": _declaration_summary(declaration),
                "data": notice.data,
            }
            uow.session.add(
                WebhookDelivery(
                    id=delivery_id,
                    endpoint_id=endpoint.id,
                    topic=notice.topic,
                    declaration_id=declaration.id,
                    payload=msgspec.json.encode(payload).decode(),
                    status="pending",
                    attempts=0,
                    created_at=now,
                )
            )
            messages.append(
                OutboxMessage(
                    actor_name=DELIVER_ACTOR,
                    queue_name=NOTIFICATION_QUEUE,
                    kwargs={"delivery_id": delivery_id},
                    declaration_id=declaration.id,
                )
            )
    if messages:
        await uow.session.flush()  # the deliveries exist before any message names them
        await uow.outbox.add(messages, now)
    return len(messages)


TransitionHook = Callable[[UnitOfWork, Declaration, Declaration, list[Event]], Awaitable[None]]


def notifications_hook(platform: Platform) -> TransitionHook:
    """The transition hook that turns a transition's notices into deliveries."""
    threshold = timedelta(minutes=platform.settings.webhook_expected_time_threshold_minutes)

    async def hook(
        uow: UnitOfWork, before: Declaration, after: Declaration, events: list[Event]
    ) -> None:
        # A worker's platform may carry the hooks twice (its own and the parent's): once only.
        seen = uow.session.info.setdefault("notified_versions", set())
        key = (after.id, after.version)
        if key in seen:
            return
        seen.add(key)
        notices = notices_for(before, after, events, expected_time_threshold=threshold)
        await notify(platform, uow, after, notices)

    return hook


# --- Endpoints -----------------------------------------------------------------------------


class WebhookIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    url: Annotated[str, Meta(min_length=1, max_length=2000)]
    topics: Annotated[list[str], Meta(min_length=1, max_length=20)]
    description: Annotated[str, Meta(min_length=1, max_length=200, pattern=PRINTABLE)] | None = None


class WebhookOut(msgspec.Struct, frozen=True):
    id: str
    url: str
    topics: list[str]
    description: str | None
    created_at: datetime
    created_by: str
    deliveries: str  # where its delivery log is


class WebhookCreated(msgspec.Struct, frozen=True):
    """The new endpoint and its signing secret: shown now and never again."""

    id: str
    url: str
    topics: list[str]
    description: str | None
    created_at: datetime
    created_by: str
    deliveries: str
    secret: str
    signature_header: str = SIGNATURE_HEADER


def webhook_out(platform: Platform, row: WebhookEndpoint) -> WebhookOut:
    return WebhookOut(
        id=row.id,
        url=row.url,
        topics=msgspec.json.decode(row.topics),
        description=row.description,
        created_at=row.created_at.astimezone(platform.settings.zone),
        created_by=row.created_by,
        deliveries=f"/api/v1/webhooks/{row.id}/deliveries",
    )


def _firm_only(user: CurrentUser) -> None:
    if user.role is not Role.FIRM_USER:
        raise Forbidden(
            "Chỉ doanh nghiệp đăng ký nhận thông báo webhook",
            "only a firm's user may register webhooks",
        )


def _check_topics(topics: list[str]) -> list[str]:
    for index, topic in enumerate(topics):
        if topic not in TOPICS:
            known = ", ".join(TOPICS)
            raise InvalidInput(
                f"Chủ đề không tồn tại: {topic[:60]!r} (có: {known})",
                f"unknown topic {topic[:60]!r} (known: {known})",
                field=f"topics[{index}]",
            )
    return sorted(set(topics))


async def create_endpoint(platform: Platform, user: CurrentUser, data: WebhookIn) -> WebhookCreated:
    """Register an endpoint for the caller's firm; the secret is returned only here."""
    _firm_only(user)
    try:
        url = check_target_url(
            data.url.strip(), allow_private=platform.settings.webhook_allow_private_targets
        )
    except TargetRefused as exc:
        raise InvalidInput(exc.vi, exc.en, field="url") from None
    topics = _check_topics(data.topics)
    now = platform.now()
    secret = "whsec_" + secrets.token_urlsafe(32)
    async with platform.unit_of_work() as uow:
        active = await uow.session.scalar(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(
                WebhookEndpoint.organisation == user.organisation_code,
                WebhookEndpoint.deleted_at.is_(None),
            )
        )
        if (active or 0) >= MAX_ENDPOINTS_PER_FIRM:
            raise Conflict(
                f"Mỗi doanh nghiệp tối đa {MAX_ENDPOINTS_PER_FIRM} địa chỉ webhook; xoá bớt trước",
                f"at most {MAX_ENDPOINTS_PER_FIRM} webhook endpoints per firm; delete one first",
            )
        row = WebhookEndpoint(
            id=new_id(),
            organisation=user.organisation_code,
            url=url,
            topics=msgspec.json.encode(topics).decode(),
            description=data.description,
            secret=secret,
            created_at=now,
            created_by=user.username,
            deleted_at=None,
        )
        uow.session.add(row)
        await uow.commit()
    shown = webhook_out(platform, row)
    return WebhookCreated(**msgspec.structs.asdict(shown), secret=secret)


async def list_endpoints(platform: Platform, user: CurrentUser) -> list[WebhookEndpoint]:
    """A firm's own endpoints; an admin sees every firm's."""
    if user.role not in (Role.FIRM_USER, Role.ADMIN):
        raise Forbidden(
            "Chỉ doanh nghiệp (và quản trị) xem webhook", "only firms (and admins) see webhooks"
        )
    statement = select(WebhookEndpoint).where(WebhookEndpoint.deleted_at.is_(None))
    if user.role is Role.FIRM_USER:
        statement = statement.where(WebhookEndpoint.organisation == user.organisation_code)
    async with platform.unit_of_work() as uow:
        return list((await uow.session.scalars(statement.order_by(WebhookEndpoint.id))).all())


def _endpoint_not_found(endpoint_id: str) -> NotFound:
    shown = endpoint_id if looks_like_id(endpoint_id) else "?"
    return NotFound(f"Không có webhook {shown}", f"no webhook {shown}")


async def _visible_endpoint(
    uow: UnitOfWork, user: CurrentUser, endpoint_id: str, *, include_deleted: bool = False
) -> WebhookEndpoint:
    if user.role not in (Role.FIRM_USER, Role.ADMIN):
        raise Forbidden(
            "Chỉ doanh nghiệp (và quản trị) xem webhook", "only firms (and admins) see webhooks"
        )
    if not looks_like_id(endpoint_id):
        raise _endpoint_not_found(endpoint_id)
    row = await uow.session.get(WebhookEndpoint, endpoint_id)
    # Another firm's endpoint is "not found", not "forbidden": its existence is not ours to tell.
    if (
        row is None
        or (row.deleted_at is not None and not include_deleted)
        or (user.role is Role.FIRM_USER and row.organisation != user.organisation_code)
    ):
        raise _endpoint_not_found(endpoint_id)
    return row


async def delete_endpoint(platform: Platform, user: CurrentUser, endpoint_id: str) -> None:
    """Stop sending to an endpoint; pending deliveries to it end as failed."""
    async with platform.unit_of_work() as uow:
        row = await _visible_endpoint(uow, user, endpoint_id)
        row.deleted_at = platform.now()
        await uow.commit()


# --- The delivery log ------------------------------------------------------------------------


class AttemptOut(msgspec.Struct, frozen=True):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(msgspec.Struct, frozen=True):
    id: str  # also the Idempotency-Key header the receiver saw
    topic: str
    declaration_id: str | None
    status: str  # pending | delivered | failed
    created_at: datetime
    delivered_at: datetime | None
    attempts: list[AttemptOut]


class DeliveryPage(msgspec.Struct, frozen=True):
    items: list[DeliveryOut]
    next_cursor: str | None


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not looks_like_id(raw):
        raise InvalidInput(
            "Con trỏ phân trang không hợp lệ", "invalid pagination cursor", field="cursor"
        )
    return raw


async def delivery_log(
    platform: Platform, user: CurrentUser, endpoint_id: str, *, cursor: str | None, limit: int
) -> DeliveryPage:
    """Deliveries to one endpoint, newest first, each with every attempt."""
    if not 1 <= limit <= MAX_LOG_PAGE:
        raise InvalidInput(
            f"limit phải trong khoảng 1..{MAX_LOG_PAGE}",
            f"limit must be within 1..{MAX_LOG_PAGE}",
            field="limit",
        )
    before = _decode_cursor(cursor) if cursor else None
    zone = platform.settings.zone
    async with platform.unit_of_work() as uow:
        # A deleted endpoint's log stays readable: what happened to its last deliveries.
        endpoint = await _visible_endpoint(uow, user, endpoint_id, include_deleted=True)
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        if before is not None:
            statement = statement.where(WebhookDelivery.id < before)
        rows = list(
            (
                await uow.session.scalars(
                    statement.order_by(WebhookDelivery.id.desc()).limit(limit + 1)
                )
            ).all()
        )
        page = rows[:limit]
        attempts: dict[str, list[AttemptOut]] = {row.id: [] for row in page}
        if page:
            for attempt in (
                await uow.session.scalars(
                    select(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id.in_(list(attempts)))
                    .order_by(WebhookAttempt.attempt)
                )
            ).all():
                attempts[attempt.delivery_id].append(
                    AttemptOut(
                        attempt=attempt.attempt,
                        at=attempt.at.astimezone(zone),
                        status_code=attempt.status_code,
                        error=attempt.error,
                        duration_ms=attempt.duration_ms,
                    )
                )
    next_cursor = (
        base64.urlsafe_b64encode(page[-1].id.encode()).decode().rstrip("=")
        if len(rows) > limit
        else None
    )
    return DeliveryPage(
        items=[
            DeliveryOut(
                id=row.id,
                topic=row.topic,
                declaration_id=row.declaration_id,
                status=row.status,
                created_at=row.created_at.astimezone(zone),
                delivered_at=row.delivered_at.astimezone(zone) if row.delivered_at else None,
                attempts=attempts[row.id],
            )
            for row in page
        ],
        next_cursor=next_cursor,
    )


# --- Delivering (in a worker) ----------------------------------------------------------------


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context per process: building one per delivery costs more than the request."""
    return ssl.create_default_context(cafile=certifi.where())


async def _record_attempt(
    platform: Platform,
    delivery_id: str,
    *,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
    final: bool = False,
) -> str:
    """Log one attempt and settle the delivery: delivered, failed, or pending (retry)."""
    max_attempts = platform.settings.webhook_max_attempts
    async with platform.unit_of_work() as uow:
        delivery = await uow.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if delivery is None:
            return "unknown"
        now = platform.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        uow.session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                attempt=delivery.attempts,
                at=now,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        if error is None:
            delivery.status = "delivered"
            delivery.delivered_at = now
        elif final or delivery.attempts >= max_attempts:
            delivery.status = "failed"
        status = delivery.status
        await uow.commit()
    return status


async def deliver(platform: Platform, delivery_id: str) -> str:
    """Make one attempt at a delivery. Returns its status; raises WebhookDeliveryFailed to retry.

    A duplicate message for a settled delivery changes nothing. The body is the same bytes
    on every attempt; the signature is fresh (its timestamp is the attempt's).
    """
    settings = platform.settings
    async with platform.unit_of_work() as uow:
        delivery = await uow.session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return "unknown"
        if delivery.status != "pending":
            return delivery.status
        endpoint = await uow.session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # a foreign key
    if endpoint.deleted_at is not None:
        return await _record_attempt(
            platform,
            delivery_id,
            status_code=None,
            error="Webhook đã bị xoá / the endpoint was deleted",
            duration_ms=0,
            final=True,
        )
    allow_private = settings.webhook_allow_private_targets
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    final = False
    try:
        check_target_url(endpoint.url, allow_private=allow_private)
        if not allow_private and (problem := await internal_resolution(endpoint.url)):
            error, final = problem, True
    except TargetRefused as exc:
        error, final = str(exc), True
    except OSError as exc:
        error = f"DNS: {exc}"[:500]
    if error is None:
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(endpoint.secret, int(time.time()), body),
            "X-BorderGate-Delivery": delivery.id,
            "X-BorderGate-Topic": delivery.topic,
            "Idempotency-Key": delivery.id,
        }
        try:
            async with (
                httpx.AsyncClient(
                    timeout=settings.webhook_timeout_seconds,
                    follow_redirects=False,
                    verify=_tls_context(),
                ) as client,
                client.stream("POST", endpoint.url, content=body, headers=headers) as response,
            ):
                status_code = response.status_code  # the body is not read: we need no more
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
    duration_ms = int((time.perf_counter() - started) * 1000)
    status = await _record_attempt(
        platform,
        delivery_id,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
        final=final,
    )
    if status == "pending":
        raise WebhookDeliveryFailed(f"delivery {delivery_id}: {error}")
    log.info("webhook %s %s: %s", delivery.topic, delivery_id, status)
    return status
