"""The queue API: bookings under a declaration; slots, quota, waiting area and board per gate."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import Parameter

from border_gate.api.http import current_user, etag, parse_if_match
from border_gate.platform import Platform
from border_gate.queue import service
from border_gate.queue.schemas import (
    BookingIn,
    BookingOut,
    QueueBoardOut,
    QuotaIn,
    WaitingAreaIn,
    board_out,
    booking_out,
)
from workflows.model import Direction


def _booking_response(
    platform: Platform, view: service.BookingView, status: int = 200
) -> Response[BookingOut]:
    zone = platform.gates.get(view.declaration.facts.gate).zone
    return Response(
        content=booking_out(view, zone),
        status_code=status,
        headers={"ETag": etag(view.declaration.version)},
    )


class BookingController(Controller):
    path = "/api/v1/declarations/{declaration_id:str}/booking"
    tags = ["queue"]

    @get("/", summary="The declaration's booking, queue place and expected times")
    async def show(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Response[BookingOut]:
        view = await service.booking_view(platform, current_user(request), declaration_id)
        return _booking_response(platform, view)

    @post(
        "/",
        summary="Book or rebook the arrival slot (firm; If-Match optional)",
        description="`slot_start` is the start of a one-hour slot in the gate's local time "
        "(e.g. 2026-11-24T09:00:00+07:00). A full slot answers 409; goods a commodity rule "
        "keeps from this gate answer 422 naming the rule. Rebooking frees the old slot in "
        "the same transaction.",
        status_code=200,
    )
    async def book(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        declaration_id: str,
        data: BookingIn,
    ) -> Response[BookingOut]:
        user = current_user(request)
        expected = parse_if_match(request.headers.get("If-Match"), required=False)
        await service.book_slot(
            platform, user, declaration_id, data.slot_start, expected_version=expected
        )
        view = await service.booking_view(platform, user, declaration_id)
        return _booking_response(platform, view)

    @delete(
        "/",
        summary="Cancel the booking; the slot is free at once (firm; If-Match optional)",
        status_code=200,
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        declaration_id: str,
        reason: Annotated[str | None, Parameter(max_length=1000)] = None,
    ) -> Response[BookingOut]:
        user = current_user(request)
        expected = parse_if_match(request.headers.get("If-Match"), required=False)
        await service.cancel_booking(
            platform, user, declaration_id, reason=reason, expected_version=expected
        )
        view = await service.booking_view(platform, user, declaration_id)
        return _booking_response(platform, view)


def _day(platform: Platform, gate: str, day: date | None) -> date:
    """The day asked for, or today in the gate's zone (an unknown gate answers 404 later)."""
    if day is not None:
        return day
    zone = platform.gates.get(gate).zone if gate in platform.gates else platform.settings.zone
    return platform.now().astimezone(zone).date()


class GateQueueController(Controller):
    path = "/api/v1/gates/{gate:str}"
    tags = ["queue"]

    @get("/slots", summary="Arrival slots of a local day: capacity, booked, available")
    async def slots(
        self,
        platform: Platform,
        gate: str,
        direction: Direction = Direction.EXPORT,
        day: date | None = None,
    ) -> list[service.SlotOut]:
        code = gate.upper()
        return await service.slots(platform, code, direction, _day(platform, code, day))

    @get("/quota", summary="The far side's daily quota (default or set by the board)")
    async def quota(
        self,
        platform: Platform,
        gate: str,
        direction: Direction = Direction.EXPORT,
        day: date | None = None,
    ) -> service.QuotaOut:
        code = gate.upper()
        return await service.quota_status(platform, code, direction, _day(platform, code, day))

    @put(
        "/quota",
        summary="Change the far side's daily quota (management board, with a reason)",
        description="Recorded with who and when; the queue recomputes at once: a cut pushes "
        "expected times back (queue_position events), a rise calls the next trucks.",
    )
    async def set_quota(
        self, request: Request[Any, Any, Any], platform: Platform, gate: str, data: QuotaIn
    ) -> service.QuotaOut:
        return await service.set_far_side_quota(
            platform,
            current_user(request),
            gate.upper(),
            data.direction,
            data.day,
            data.quota,
            data.reason,
        )

    @post(
        "/waiting-area",
        summary="Check a truck in at the waiting area by plate (yard operator)",
        status_code=201,
    )
    async def waiting_area(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: str,
        data: WaitingAreaIn,
    ) -> Response[BookingOut]:
        user = current_user(request)
        declaration = await service.arrive_waiting_area(
            platform,
            user,
            gate.upper(),
            data.plate,
            data.observed_at,
            declaration_id=data.declaration_id,
        )
        view = await service.booking_view(platform, user, declaration.id)
        return _booking_response(platform, view, status=201)

    @get("/queue", summary="The live queue: who is called, who is next and why, expected times")
    async def board(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: str,
        direction: Direction = Direction.EXPORT,
    ) -> QueueBoardOut:
        plan = await service.queue_board(platform, current_user(request), gate.upper(), direction)
        return board_out(plan, platform.gates.get(plan.gate).zone)

    @post(
        "/queue/refresh",
        summary="Recompute the queue now: call who the gate can take (yard operator, board)",
        status_code=200,
    )
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: str,
        direction: Direction = Direction.EXPORT,
    ) -> QueueBoardOut:
        plan = await service.refresh_board(platform, current_user(request), gate.upper(), direction)
        return board_out(plan, platform.gates.get(plan.gate).zone)
