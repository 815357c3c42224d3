"""The declarations API: file, read, amend, submit, cancel, decide, and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter

from border_gate.api.http import current_user, etag, parse_if_match
from border_gate.api.problems import msgspec_problem
from border_gate.db.repository import DeclarationFilters
from border_gate.declarations import service
from border_gate.declarations.schemas import (
    CancelIn,
    DecisionIn,
    DeclarationOut,
    DeclarationPage,
    EventTrail,
    declaration_out,
    event_out,
    facts_document,
    merge_patch,
)
from border_gate.errors import InvalidInput, NotFound
from border_gate.platform import Platform
from workflows.machine import verify_chain
from workflows.model import (
    Channel,
    Declaration,
    DeclarationFacts,
    Direction,
    Stage,
    StageState,
    Status,
)

DEFAULT_PAGE = 50


def _out(platform: Platform, declaration: Declaration) -> DeclarationOut:
    return declaration_out(declaration, platform.gates.get(declaration.facts.gate).zone)


def _respond(
    platform: Platform, declaration: Declaration, *, status: int = 200, **headers: str
) -> Response[DeclarationOut]:
    return Response(
        content=_out(platform, declaration),
        status_code=status,
        headers={"ETag": etag(declaration.version), **headers},
    )


def _idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise InvalidInput(
            "Idempotency-Key phải dài 1–200 ký tự in được",
            "Idempotency-Key must be 1-200 printable characters",
            field="Idempotency-Key",
        )
    return key


class DeclarationController(Controller):
    path = "/api/v1/declarations"
    tags = ["declarations"]

    @post(
        "/",
        summary="File a declaration (draft)",
        description="Honours `Idempotency-Key`: repeating a request with the same key returns "
        "the same declaration (header `Idempotent-Replayed: true`); the same key with a "
        "different body is refused with 409.",
        status_code=201,
    )
    async def file(
        self, request: Request[Any, Any, Any], data: DeclarationFacts, platform: Platform
    ) -> Response[DeclarationOut]:
        user = current_user(request)
        key = _idempotency_key(request)
        fingerprint = service.request_fingerprint(await request.body())
        declaration, replayed = await service.file_declaration(
            platform, user, data, idempotency_key=key, fingerprint=fingerprint
        )
        headers = {"Location": f"/api/v1/declarations/{declaration.id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return _respond(platform, declaration, status=201, **headers)

    @get("/", summary="List the declarations the caller may see, newest first")
    async def list_declarations(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        status: list[Status] | None = None,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        direction: Direction | None = None,
        stage: Stage | None = None,
        stage_state: Annotated[
            list[StageState] | None,
            Parameter(description="With `stage`: its states to match (default in_review)"),
        ] = None,
        channel: Channel | None = None,
        plate: Annotated[str | None, Parameter(max_length=20)] = None,
        needs_attention: bool | None = None,
        cursor: Annotated[str | None, Parameter(max_length=100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_PAGE)] = DEFAULT_PAGE,
    ) -> DeclarationPage:
        user = current_user(request)
        if stage is not None and not stage_state:
            stage_state = [StageState.IN_REVIEW]
        filters = DeclarationFilters(
            status=tuple(s.value for s in status or ()),
            gate=gate.upper() if gate else None,
            direction=direction.value if direction else None,
            stage=stage.value if stage else None,
            stage_state=tuple(s.value for s in stage_state or ()),
            channel=channel.value if channel else None,
            plate=plate,
            needs_attention=needs_attention,
        )
        items, next_cursor = await service.list_declarations(
            platform, user, filters, cursor=cursor, limit=limit
        )
        return DeclarationPage(
            items=[_out(platform, d) for d in items], next_cursor=next_cursor, limit=limit
        )

    @get("/{declaration_id:str}", summary="One declaration (with its ETag)")
    async def get_one(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Response[DeclarationOut]:
        declaration = await service.get_declaration(platform, current_user(request), declaration_id)
        return _respond(platform, declaration)

    @patch(
        "/{declaration_id:str}",
        summary="Amend a draft, or a declaration asked to amend (JSON merge patch, If-Match)",
        description="The body is an RFC 7396 merge patch of the filed document: objects "
        "merge, `null` removes an optional field, lists (cargo) are replaced whole. "
        "`If-Match` with the ETag you read is required.",
    )
    async def amend(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        declaration_id: str,
        data: dict[str, Any],
    ) -> Response[Any]:
        user = current_user(request)
        expected = parse_if_match(request.headers.get("If-Match"), required=True)
        current = await service.get_declaration(platform, user, declaration_id)
        merged = merge_patch(facts_document(current), data)
        try:
            facts = msgspec.convert(merged, DeclarationFacts)
        except msgspec.ValidationError as exc:
            return msgspec_problem(request, exc)
        declaration = await service.amend_declaration(
            platform, user, declaration_id, facts, expected_version=expected
        )
        return _respond(platform, declaration)

    @post(
        "/{declaration_id:str}/submit",
        summary="Submit (or resubmit after an amendment)",
        status_code=200,
    )
    async def submit(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Response[DeclarationOut]:
        expected = parse_if_match(request.headers.get("If-Match"), required=False)
        declaration = await service.submit_declaration(
            platform, current_user(request), declaration_id, expected_version=expected
        )
        return _respond(platform, declaration)

    @post(
        "/{declaration_id:str}/cancel", summary="Cancel, before the truck arrives", status_code=200
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        declaration_id: str,
        data: CancelIn | None = None,
    ) -> Response[DeclarationOut]:
        expected = parse_if_match(request.headers.get("If-Match"), required=False)
        declaration = await service.cancel_declaration(
            platform,
            current_user(request),
            declaration_id,
            reason=data.reason if data else None,
            expected_version=expected,
        )
        return _respond(platform, declaration)

    @post(
        "/{declaration_id:str}/stages/{stage:str}/decision",
        summary="An officer's decision on their stage (If-Match required)",
        status_code=200,
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        declaration_id: str,
        stage: str,
        data: DecisionIn,
    ) -> Response[DeclarationOut]:
        try:
            which = Stage(stage)
        except ValueError:
            known = ", ".join(s.value for s in Stage)
            raise NotFound(
                f"Không có giai đoạn {stage!r} (có: {known})",
                f"no stage {stage!r} (known: {known})",
            ) from None
        user = current_user(request)
        expected = parse_if_match(request.headers.get("If-Match"), required=True)
        declaration = await service.decide_stage(
            platform,
            user,
            declaration_id,
            which,
            data.decision,
            data.reason,
            expected_version=expected,
        )
        return _respond(platform, declaration)

    @get("/{declaration_id:str}/events", summary="The audit trail, oldest first, hash-chained")
    async def events(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> EventTrail:
        user = current_user(request)
        declaration = await service.get_declaration(platform, user, declaration_id)
        events = await service.declaration_events(platform, user, declaration_id)
        zone = platform.gates.get(declaration.facts.gate).zone
        return EventTrail(
            declaration_id=declaration.id,
            number=declaration.number,
            chain_valid=verify_chain(events) is None,
            events=[event_out(e, zone) for e in events],
        )
