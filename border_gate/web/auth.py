"""Signing in and out, the start page by role, and the language switch."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import QueryParameter
from litestar.response import Redirect

from border_gate.errors import TooManyAttempts
from border_gate.identity.service import authenticate
from border_gate.platform import Platform
from border_gate.web import i18n
from border_gate.web.render import home_for, redirect, render, set_flash, viewer
from border_gate.web.session import end_session, safe_next, secure_cookies, start_session

PUBLIC = {"public": True}


class AuthPages(Controller):
    path = "/"
    opt = PUBLIC

    @get("/", name="page-home")
    async def home(self, request: Request[Any, Any, Any]) -> Redirect:
        user = viewer(request)
        return redirect(home_for(user) if user else "/login")

    @get("/login", name="page-login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next_path: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
        expired: bool = False,
    ) -> Any:
        user = viewer(request)
        if user is not None:
            return redirect(safe_next(next_path) if next_path else home_for(user))
        return render(
            request,
            "login.html",
            next_path=safe_next(next_path),
            notice=i18n.TEXTS["login.expired"] if expired else None,
        )

    @post("/login", name="page-login-post")
    async def login(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        form = await request.form()
        username = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        next_path = safe_next(str(form.get("next", "/")))
        if not username or not password:
            return render(
                request,
                "login.html",
                status=400,
                next_path=next_path,
                username=username,
                failure=i18n.TEXTS["login.missing"],
            )
        try:
            user = await authenticate(platform, username, password)
        except TooManyAttempts as exc:
            return render(
                request,
                "login.html",
                status=429,
                next_path=next_path,
                username=username,
                failure=(exc.vi, exc.en),
            )
        if user is None:
            return render(
                request,
                "login.html",
                status=401,
                next_path=next_path,
                username=username,
                failure=i18n.TEXTS["login.failed"],
            )
        start_session(request, user)
        return redirect(next_path if next_path != "/" else home_for(user))

    @post("/logout", name="page-logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        end_session(request)
        set_flash(request, i18n.TEXTS["logout.done"])
        return redirect("/login")

    @get("/lang/{code:str}", name="page-language")
    async def language(
        self,
        request: Request[Any, Any, Any],
        code: str,
        next_path: Annotated[str | None, QueryParameter(name="next", max_length=500)] = None,
    ) -> Response[Any]:
        chosen = code if code in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
        response = redirect(safe_next(next_path))
        response.cookies.append(
            Cookie(
                key=i18n.LANGUAGE_COOKIE,
                value=chosen,
                max_age=365 * 24 * 3600,
                path="/",
                httponly=True,
                samesite="lax",
                secure=secure_cookies(request.app.state.platform.settings),
            )
        )
        return response
