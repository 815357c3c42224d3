"""The yard gate: gate-in and gate-out by plate (or a scanned QR), and the live yard list."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from border_gate.declarations import service
from border_gate.errors import ApplicationError, Conflict, Forbidden, InvalidInput
from border_gate.gates import Gate
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from border_gate.queue.service import refresh_queue
from border_gate.web import i18n
from border_gate.web.render import redirect, render, set_flash, viewer
from workflows.errors import WorkflowError
from workflows.model import Declaration, Status
from workflows.roles import Role

YARD = frozenset({Role.YARD_OPERATOR})
KINDS = ("gate_in", "gate_out")

#: A scanned QR types the declaration page's URL (…/declarations/<id>) into the plate field.
_SCANNED_ID = re.compile(
    r"(?:^|/declarations/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$", re.I
)

#: Statuses a truck still in the yard can have (a rejected truck waits to be turned back).
IN_YARD_STATUSES = (
    Status.IN_YARD.value,
    Status.CLEARED.value,
    Status.ON_HOLD.value,
    Status.AMENDMENT_REQUESTED.value,
    Status.REJECTED.value,
)


def _operator(request: Request[Any, Any, Any]) -> CurrentUser:
    user = viewer(request)
    assert user is not None
    return user


def _gate_for(platform: Platform, user: CurrentUser, code: str | None) -> Gate:
    chosen = (code or "").upper() or (user.gates[0] if user.gates else "")
    if chosen not in user.gates or chosen not in platform.gates:
        raise Forbidden(
            f"Bạn không làm việc tại cửa khẩu {chosen}", f"you do not work at gate {chosen}"
        )
    return platform.gates.get(chosen)


async def trucks_in_yard(platform: Platform, user: CurrentUser, gate: Gate) -> list[Declaration]:
    """Trucks gated in and not yet out, earliest arrival first."""
    return await service.yard_occupants(platform, user, gate.code)


async def _yard_page(
    request: Request[Any, Any, Any],
    platform: Platform,
    gate: Gate,
    *,
    kind: str,
    status: int = 200,
    plate: str = "",
    problem: tuple[str, str] | None = None,
    candidates: list[Declaration] | None = None,
) -> Any:
    user = _operator(request)
    trucks = await trucks_in_yard(platform, user, gate)
    return render(
        request,
        "yard.html",
        status=status,
        gate=gate,
        zone=gate.zone,
        kind=kind,
        plate=plate,
        problem=problem,
        candidates=candidates or [],
        trucks=trucks,
        free=max(0, gate.yard_capacity - len(trucks)),
    )


class YardPages(Controller):
    path = "/yard"
    opt = {"roles": YARD}

    @get("/", name="page-yard")
    async def yard(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        kind: Annotated[str, Parameter(pattern=r"^(gate_in|gate_out)$")] = "gate_in",
    ) -> Any:
        chosen = _gate_for(platform, _operator(request), gate)
        return await _yard_page(request, platform, chosen, kind=kind)

    @get("/list", name="page-yard-list")
    async def yard_list(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
    ) -> Any:
        """The live list alone, for the page's script to refresh in place."""
        user = _operator(request)
        chosen = _gate_for(platform, user, gate)
        trucks = await trucks_in_yard(platform, user, chosen)
        return render(
            request,
            "_yard_list.html",
            fragment=True,
            gate=chosen,
            zone=chosen.zone,
            trucks=trucks,
            free=max(0, chosen.yard_capacity - len(trucks)),
        )

    @post("/", name="page-yard-event")
    async def record(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = _operator(request)
        posted = await request.form()
        gate = _gate_for(platform, user, str(posted.get("gate", "")))
        kind = str(posted.get("kind", "gate_in"))
        kind = kind if kind in KINDS else "gate_in"
        typed = str(posted.get("plate", "")).strip()[:200]
        declaration_id = str(posted.get("declaration_id", "")).strip() or None
        plate = typed
        scanned = _SCANNED_ID.search(typed)
        try:
            if scanned:
                # A QR names the declaration itself: use its plate, and no plate ambiguity.
                declaration_id = scanned.group(1).lower()
                plate = (
                    await service.get_declaration(platform, user, declaration_id)
                ).facts.vehicle.plate
            if not plate:
                raise InvalidInput("Nhập biển số xe", "type the vehicle's plate", field="plate")
            declaration = await service.record_gate_event(
                platform, user, gate.code, kind, plate, None, declaration_id=declaration_id
            )
        except Conflict as exc:
            raw = exc.context.get("candidates")
            candidates: list[Declaration] = []
            if isinstance(raw, list):
                for item in raw:
                    candidates.append(await service.get_declaration(platform, user, item["id"]))
            return await _yard_page(
                request,
                platform,
                gate,
                kind=kind,
                status=409,
                plate=plate,
                problem=(exc.vi, exc.en),
                candidates=candidates,
            )
        except (ApplicationError, WorkflowError) as exc:
            code = exc.status if isinstance(exc, ApplicationError) else 409
            return await _yard_page(
                request,
                platform,
                gate,
                kind=kind,
                status=code,
                plate=typed,
                problem=(exc.vi, exc.en),
            )
        # A truck through the yard gate frees a place in the call window: call the next.
        await refresh_queue(platform, gate.code, declaration.facts.direction)
        done = i18n.TEXTS["yard.in_done" if kind == "gate_in" else "yard.out_done"]
        plate_shown = declaration.facts.vehicle.plate
        slot = declaration.yard_position or ""
        if kind == "gate_in":
            message = (
                f"{done[0]}: {plate_shown} — {declaration.number} — chỗ {slot}",
                f"{done[1]}: {plate_shown} — {declaration.number} — slot {slot}",
            )
        else:
            message = (
                f"{done[0]}: {plate_shown} — {declaration.number}",
                f"{done[1]}: {plate_shown} — {declaration.number}",
            )
        set_flash(request, message)
        return redirect(f"/yard?gate={gate.code}&kind={kind}")
