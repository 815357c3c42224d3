"""Bearer tokens (JWT, HS256) for the API: issuing them and resolving who is calling."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.security.jwt import JWTAuth, Token

from border_gate.identity.service import CurrentUser, load_user
from border_gate.settings import Settings

#: How long a resolved user is trusted without reading the database again. A disabled
#: account or a changed role takes effect within this many seconds.
USER_CACHE_SECONDS = 15.0


class RecentUsers:
    """Users resolved in the last few seconds, so a busy client costs no lookup per request."""

    def __init__(self, ttl: float = USER_CACHE_SECONDS, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, CurrentUser]] = {}

    def get(self, user_id: str) -> CurrentUser | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, user: CurrentUser) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[user.id] = (time.monotonic() + self.ttl, user)


async def _retrieve_user(
    token: Token, connection: ASGIConnection[Any, Any, Any, Any]
) -> CurrentUser | None:
    state = connection.app.state
    cache: RecentUsers = state.recent_users
    user = cache.get(token.sub)
    if user is None:
        user = await load_user(state.platform, token.sub)
        if user is not None:
            cache.put(user)
    return user


def build_jwt_auth(settings: Settings) -> JWTAuth[CurrentUser, Token]:
    return JWTAuth[CurrentUser, Token](
        retrieve_user_handler=_retrieve_user,
        token_secret=settings.secret_key,
        default_token_expiration=timedelta(minutes=settings.token_ttl_minutes),
        exclude_opt_key="exclude_from_auth",
        exclude=["^/schema", "^/static", "^/health", "^/verify", "^/favicon"],
        description="Bearer token from POST /api/v1/auth/token",
    )
