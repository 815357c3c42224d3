"""GET /api/v1/gates and the yard's gate events (POST /api/v1/gates/{gate}/events)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from msgspec import Struct

from border_gate.api.http import current_user, etag
from border_gate.declarations import service
from border_gate.declarations.schemas import GateEventIn, declaration_out
from border_gate.errors import NotFound
from border_gate.gates import Gate, UnknownGate
from border_gate.platform import Platform
from border_gate.queue.service import refresh_queue


class GateOut(Struct, frozen=True):
    code: str
    prefix: str
    name_vi: str
    name_en: str
    far_side: str
    timezone: str
    yard_capacity: int
    workflows: dict[str, dict[str, list[str]]]


def gate_out(gate: Gate) -> GateOut:
    return GateOut(
        code=gate.code,
        prefix=gate.prefix,
        name_vi=gate.name_vi,
        name_en=gate.name_en,
        far_side=gate.far_side,
        timezone=gate.timezone,
        yard_capacity=gate.yard_capacity,
        workflows={
            direction.value: {
                stage.value: [p.value for p in definition.depends_on[stage]]
                for stage in definition.stages
            }
            for direction, definition in gate.workflows.items()
        },
    )


class GateController(Controller):
    path = "/api/v1/gates"
    tags = ["gates"]

    @get("/", opt={"exclude_from_auth": True}, summary="The gates served, with their stage graphs")
    async def list_gates(self, platform: Platform) -> list[GateOut]:
        return [gate_out(g) for g in platform.gates]

    @get("/{gate:str}", opt={"exclude_from_auth": True}, summary="One gate")
    async def get_gate(self, platform: Platform, gate: str) -> GateOut:
        try:
            return gate_out(platform.gates.get(gate.upper()))
        except UnknownGate:
            raise NotFound(f"Không có cửa khẩu {gate}", f"no gate {gate}") from None

    @post(
        "/{gate:str}/events",
        summary="A truck seen at the yard gate: gate_in or gate_out by plate (yard operator)",
        description="The plate is matched to the one declaration awaiting arrival (gate_in) "
        "or cleared in the yard (gate_out) at this gate. An unknown plate answers 404, an "
        "ambiguous one 409 listing the candidates (resend with `declaration_id`), a full "
        "yard 409. `observed_at` defaults to now.",
        status_code=201,
    )
    async def gate_event(
        self, request: Request[Any, Any, Any], platform: Platform, gate: str, data: GateEventIn
    ) -> Response[Any]:
        declaration = await service.record_gate_event(
            platform,
            current_user(request),
            gate.upper(),
            data.kind,
            data.plate,
            data.observed_at,
            declaration_id=data.declaration_id,
        )
        # A truck through the yard gate frees a place in the call window: call the next.
        await refresh_queue(platform, declaration.facts.gate, declaration.facts.direction)
        zone = platform.gates.get(declaration.facts.gate).zone
        return Response(
            content=declaration_out(declaration, zone),
            status_code=201,
            headers={"ETag": etag(declaration.version)},
        )
