"""POST /api/v1/auth/token and GET /api/v1/me."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from msgspec import Meta, Struct

from border_gate.api.http import current_user
from border_gate.errors import Unauthorized
from border_gate.identity.service import authenticate
from border_gate.platform import Platform
from workflows.model import PRINTABLE


class TokenIn(Struct, frozen=True, forbid_unknown_fields=True):
    username: Annotated[str, Meta(min_length=1, max_length=64, pattern=PRINTABLE)]
    password: Annotated[str, Meta(min_length=1, max_length=256, pattern=PRINTABLE)]


class TokenOut(Struct, frozen=True):
    access_token: str
    token_type: str
    expires_in: int


class OrganisationOut(Struct, frozen=True):
    code: str
    name: str
    kind: str


class MeOut(Struct, frozen=True):
    id: str
    username: str
    full_name: str | None
    role: str
    organisation: OrganisationOut
    gates: list[str]


class IdentityController(Controller):
    path = "/api/v1"
    tags = ["identity"]

    @post(
        "/auth/token",
        opt={"exclude_from_auth": True},
        status_code=200,
        summary="Exchange username and password for a bearer token",
    )
    async def issue_token(self, data: TokenIn, platform: Platform, state: State) -> TokenOut:
        user = await authenticate(platform, data.username, data.password)
        if user is None:
            raise Unauthorized(
                "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đã bị khoá",
                "wrong username or password, or the account is disabled",
            )
        ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
        token = state.jwt_auth.create_token(
            identifier=user.id, token_expiration=ttl, token_extras={"role": user.role.value}
        )
        return TokenOut(
            access_token=token, token_type="bearer", expires_in=int(ttl.total_seconds())
        )

    @get("/me", summary="Who the bearer token belongs to")
    async def me(self, request: Request[Any, Any, Any]) -> MeOut:
        user = current_user(request)
        return MeOut(
            id=user.id,
            username=user.username,
            full_name=user.full_name,
            role=user.role.value,
            organisation=OrganisationOut(
                code=user.organisation_code,
                name=user.organisation_name,
                kind=user.organisation_kind.value,
            ),
            gates=list(user.gates),
        )
