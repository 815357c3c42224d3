"""Bearer tokens (JWT, HS256) for the API: issuing them and resolving who is calling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from border_gate.identity.service import CurrentUser, load_user
from border_gate.settings import Settings


async def _retrieve_user(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> CurrentUser | None:
    platform = connection.app.state.platform
    return await load_user(platform, token.sub)


def build_jwt_auth(settings: Settings) -> JWTAuth[CurrentUser, Token]:
    return JWTAuth[CurrentUser, Token](
        retrieve_user_handler=_retrieve_user,
        token_secret=settings.secret_key,
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude_opt_key="exclude_from_auth",
        exclude=["^/schema", "^/static", "^/health", "^/verify", "^/favicon"],
        description="Bearer token from POST /api/v1/auth/token",
    )
