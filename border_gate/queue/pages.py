"""The queue's pages: the waiting-area board (yard), the far side's quota (board), and the
firm's booking panel on its declaration page. Vietnamese first, the same look as the others."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from border_gate.errors import ApplicationError, Forbidden, InvalidInput, declaration_not_found
from border_gate.gates import Gate
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id
from border_gate.platform import Platform
from border_gate.queue import service
from border_gate.web import i18n
from border_gate.web.render import BOARD_ROLES, redirect, render, set_flash, viewer
from workflows.errors import WorkflowError
from workflows.model import Declaration, Direction, Status
from workflows.queueing import LANE_LABELS, Lane
from workflows.roles import Role

YARD_AND_BOARD = frozenset({Role.YARD_OPERATOR, *BOARD_ROLES})


def _user(request: Request[Any, Any, Any]) -> CurrentUser:
    user = viewer(request)
    assert user is not None
    return user


def _gate_for(platform: Platform, user: CurrentUser, code: str | None) -> Gate:
    allowed = list(user.gates) if user.role is Role.YARD_OPERATOR else platform.gates.codes
    chosen = (code or "").upper() or (allowed[0] if allowed else "")
    if chosen not in allowed or chosen not in platform.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {chosen}", f"you do not work at gate {chosen}"
        )
    return platform.gates.get(chosen)


def lane_label(lane: str, lang: str) -> str:
    if lane in Lane._value2member_map_:
        return i18n.pick(LANE_LABELS[Lane(lane)], lang)
    return i18n.text("booking.called", lang)


class WaitingAreaPages(Controller):
    path = "/waiting-area"
    opt = {"roles": YARD_AND_BOARD}

    async def _page(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Gate,
        direction: Direction,
        *,
        status: int = 200,
        plate: str = "",
        problem: tuple[str, str] | None = None,
    ) -> Any:
        user = _user(request)
        plan = await service.queue_board(platform, user, gate.code, direction)
        return render(
            request,
            "waiting_area.html",
            status=status,
            gate=gate,
            zone=gate.zone,
            direction=direction,
            directions=list(Direction),
            plan=plan,
            called=[e for e in plan.entries if e.position == 0],
            line=[e for e in plan.entries if e.position > 0],
            lane_label=lambda lane: lane_label(lane, i18n.language_of(request)),
            plate=plate,
            problem=problem,
            can_check_in=user.role is Role.YARD_OPERATOR,
        )

    @get("/", name="page-waiting-area")
    async def show(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        direction: Direction = Direction.EXPORT,
    ) -> Any:
        chosen = _gate_for(platform, _user(request), gate)
        return await self._page(request, platform, chosen, direction)

    @post("/", name="page-waiting-area-check-in")
    async def check_in(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = _user(request)
        posted = await request.form()
        gate = _gate_for(platform, user, str(posted.get("gate", "")))
        plate = str(posted.get("plate", "")).strip()[:20]
        try:
            if not plate:
                raise InvalidInput("Nhập biển số xe", "type the vehicle's plate", field="plate")
            declaration = await service.arrive_waiting_area(platform, user, gate.code, plate, None)
        except (ApplicationError, WorkflowError) as exc:
            code = exc.status if isinstance(exc, ApplicationError) else 409
            return await self._page(
                request,
                platform,
                gate,
                Direction.EXPORT,
                status=code,
                plate=plate,
                problem=(exc.vi, exc.en),
            )
        done = i18n.TEXTS["wa.done"]
        set_flash(
            request,
            (
                f"{done[0]}: {declaration.facts.vehicle.plate} — {declaration.number}",
                f"{done[1]}: {declaration.facts.vehicle.plate} — {declaration.number}",
            ),
        )
        direction = declaration.facts.direction.value
        return redirect(f"/waiting-area?gate={gate.code}&direction={direction}")

    @post("/refresh", name="page-waiting-area-refresh")
    async def refresh(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = _user(request)
        posted = await request.form()
        gate = _gate_for(platform, user, str(posted.get("gate", "")))
        try:
            direction = Direction(str(posted.get("direction", "export")))
        except ValueError:
            direction = Direction.EXPORT
        await service.refresh_board(platform, user, gate.code, direction)
        return redirect(f"/waiting-area?gate={gate.code}&direction={direction.value}")


class QuotaPages(Controller):
    path = "/quota"
    opt = {"roles": BOARD_ROLES}

    async def _page(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Gate,
        day: date,
        *,
        status: int = 200,
        problem: tuple[str, str] | None = None,
    ) -> Any:
        quotas = [
            await service.quota_status(platform, gate.code, direction, day)
            for direction in Direction
        ]
        return render(
            request,
            "quota.html",
            status=status,
            gate=gate,
            zone=gate.zone,
            day=day,
            quotas=quotas,
            problem=problem,
        )

    @get("/", name="page-quota")
    async def show(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        day: date | None = None,
    ) -> Any:
        chosen = _gate_for(platform, _user(request), gate)
        return await self._page(
            request, platform, chosen, day or platform.now().astimezone(chosen.zone).date()
        )

    @post("/", name="page-quota-set")
    async def set_quota(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = _user(request)
        posted = await request.form()
        gate = _gate_for(platform, user, str(posted.get("gate", "")))
        today = platform.now().astimezone(gate.zone).date()
        day = today
        try:
            try:
                day = date.fromisoformat(str(posted.get("day", "")))
            except ValueError:
                raise InvalidInput("Ngày không hợp lệ", "not a valid day", field="day") from None
            try:
                direction = Direction(str(posted.get("direction", "")))
                quota = int(str(posted.get("quota", "")))
            except ValueError:
                raise InvalidInput(
                    "Nhập hướng và số xe (số nguyên)",
                    "give a direction and a whole number of trucks",
                    field="quota",
                ) from None
            await service.set_far_side_quota(
                platform,
                user,
                gate.code,
                direction,
                day,
                quota,
                str(posted.get("reason", ""))[:1000],
            )
        except ApplicationError as exc:
            return await self._page(
                request, platform, gate, day, status=exc.status, problem=(exc.vi, exc.en)
            )
        set_flash(request, i18n.TEXTS["quota.done"])
        return redirect(f"/quota?gate={gate.code}&day={day.isoformat()}")


# --- The firm's booking panel on its declaration page ------------------------------------------

BOOKABLE = (Status.SUBMITTED, Status.AWAITING_ARRIVAL, Status.AMENDMENT_REQUESTED, Status.ON_HOLD)


async def booking_panel(
    platform: Platform, user: CurrentUser, declaration: Declaration
) -> dict[str, Any] | None:
    """What the declaration page shows about the booking and queue, or None to show nothing."""
    if not declaration.submitted:
        return None
    view = await service.booking_view(platform, user, declaration.id)
    gate = platform.gates.get(declaration.facts.gate)
    can_book = (
        user.role is Role.FIRM_USER
        and declaration.status in BOOKABLE
        and declaration.arrived_at is None
        and declaration.called_at is None
    )
    choices = []
    if can_book:
        today = platform.now().astimezone(gate.zone).date()
        for offset in range(3):
            for slot in await service.slots(
                platform, gate.code, declaration.facts.direction, today + timedelta(days=offset)
            ):
                if slot.available > 0 and slot.slot_end > platform.now():
                    choices.append(slot)
    return {"view": view, "entry": view.entry, "can_book": can_book, "choices": choices[:72]}


class BookingPages(Controller):
    path = "/declarations/{declaration_id:str}/booking"
    opt = {"roles": frozenset({Role.FIRM_USER})}

    @post("/", name="page-booking")
    async def book(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        user = _user(request)
        if not looks_like_id(declaration_id):
            raise declaration_not_found(declaration_id)
        posted = await request.form()
        action = str(posted.get("action", "book"))
        try:
            version = int(str(posted.get("version", "")))
        except ValueError:
            version = None
        try:
            if action == "cancel":
                await service.cancel_booking(
                    platform, user, declaration_id, reason=None, expected_version=version
                )
            else:
                try:
                    slot = datetime.fromisoformat(str(posted.get("slot_start", "")))
                except ValueError:
                    raise InvalidInput(
                        "Chọn một khung giờ", "choose a slot", field="slot_start"
                    ) from None
                if slot.tzinfo is None:
                    raise InvalidInput("Chọn một khung giờ", "choose a slot", field="slot_start")
                await service.book_slot(
                    platform, user, declaration_id, slot, expected_version=version
                )
        except (ApplicationError, WorkflowError) as exc:
            set_flash(request, (exc.vi, exc.en), kind="error")
            return redirect(f"/declarations/{declaration_id}#booking")
        set_flash(request, i18n.TEXTS["booking.done"])
        return redirect(f"/declarations/{declaration_id}#booking")
