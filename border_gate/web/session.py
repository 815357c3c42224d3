"""The pages' own sign-in: an encrypted session cookie, CSRF tokens, and who may open what.

The pages never read a bearer token and the API never reads this cookie: the API's JWT
middleware skips the page router (opt exclude_from_auth) and the session middleware is
mounted on the page router only, so each entry point has exactly one way in.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import quote

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection, Request
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.base import MiddlewareProtocol
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from border_gate.errors import Forbidden
from border_gate.identity.service import CurrentUser, load_user
from border_gate.settings import Settings
from workflows.roles import Role

SESSION_COOKIE = "bg_session"
CSRF_COOKIE = "bg_csrf"


def _derived_key(settings: Settings, purpose: str) -> bytes:
    """A key of its own per purpose, so the session key is never the JWT signing key."""
    return hashlib.sha256(f"border-gate/{purpose}\0{settings.secret_key}".encode()).digest()


def secure_cookies(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def session_config(settings: Settings) -> CookieBackendConfig:
    """AES-GCM encrypted, HttpOnly, SameSite=Lax; Secure when the site is served over https."""
    return CookieBackendConfig(
        secret=_derived_key(settings, "page-session"),
        key=SESSION_COOKIE,
        max_age=settings.token_ttl_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
        path="/",
    )


class PageSessionMiddleware(MiddlewareProtocol):
    """Litestar's session middleware, built when the route is: the router holding it is
    deep-copied at registration, and the cipher inside a session backend cannot be copied."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = SessionMiddleware(app, ClientSideSessionBackend(session_config(settings)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit token: a signed cookie plus the same value in each form's hidden field."""
    return CSRFConfig(
        secret=_derived_key(settings, "page-csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,  # forms carry the token themselves; scripts never need it
        cookie_secure=secure_cookies(settings),
        cookie_samesite="lax",
    )


class LoginRequired(Exception):
    """The page needs a signed-in person; answered with a redirect to the login page."""

    def __init__(self, next_path: str, *, expired: bool = False) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


def start_session(request: Request[Any, Any, Any], user: CurrentUser) -> None:
    request.set_session({"uid": user.id, "at": int(time.time())})


def end_session(request: Request[Any, Any, Any]) -> None:
    request.clear_session()


async def session_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The person the session cookie names, re-read each request (a disabled account is out)."""
    session = connection.scope.get("session")
    if not isinstance(session, dict) or "uid" not in session:
        return None
    platform = connection.app.state.platform
    started = session.get("at")
    ttl = platform.settings.token_ttl_minutes * 60
    # The cookie's own max-age is a browser's promise; this is the server's.
    if not isinstance(started, int) or time.time() - started > ttl:
        return None
    uid = session["uid"]
    if not isinstance(uid, str):
        return None
    return await load_user(platform, uid)


def safe_next(path: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker could send people to."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


async def page_access(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """The one guard of the pages: loads the user; opt `public` or `roles` say who may enter."""
    user = await session_user(connection)
    if user is not None:
        connection.scope["user"] = user
    if handler.opt.get("public"):
        return
    if user is None:
        path = connection.url.path
        if connection.url.query:
            path = f"{path}?{connection.url.query}"
        session = connection.scope.get("session")
        expired = isinstance(session, dict) and "uid" in session  # signed in once, not any more
        raise LoginRequired(
            path if connection.scope.get("method") == "GET" else "/", expired=expired
        )
    roles: frozenset[Role] | None = handler.opt.get("roles")
    if roles is not None and user.role not in roles:
        raise Forbidden(
            "Trang này dành cho vai trò khác",
            "this page is for another role",
            role=user.role.value,
        )


def login_url(next_path: str, *, expired: bool = False) -> str:
    url = f"/login?next={quote(safe_next(next_path), safe='/')}"
    return f"{url}&expired=1" if expired else url
