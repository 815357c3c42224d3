"""The border guard's watchlist page: list, add (with reason and expiry), remove (with reason)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from litestar import Controller, Request, get, post

from border_gate.errors import ApplicationError
from border_gate.platform import Platform
from border_gate.screening import service
from border_gate.web import i18n
from border_gate.web.render import redirect, render, set_flash, viewer
from workflows.roles import Role

READERS = frozenset({Role.BORDER_GUARD_OFFICER, Role.ADMIN})
KINDS = ("plate", "document")
Pair = tuple[str, str]


def _reason_problem(reason: str) -> Pair | None:
    return None if 3 <= len(reason) <= 1000 else i18n.TEXTS["watch.reason_short"]


class WatchlistPages(Controller):
    path = "/watchlist"
    opt = {"roles": READERS}

    async def _page(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        *,
        inactive: bool = False,
        status: int = 200,
        values: dict[str, str] | None = None,
        errors: dict[str, Pair] | None = None,
        problem: Pair | None = None,
    ) -> Any:
        user = viewer(request)
        assert user is not None
        entries = await service.list_watchlist(platform, user, include_inactive=inactive, limit=500)
        return render(
            request,
            "watchlist.html",
            status=status,
            entries=entries,
            inactive=inactive,
            can_manage=user.role is Role.BORDER_GUARD_OFFICER,
            values=values or {"kind": "plate"},
            errors=errors or {},
            problem=problem,
        )

    @get("/", name="page-watchlist")
    async def watchlist(
        self, request: Request[Any, Any, Any], platform: Platform, inactive: bool = False
    ) -> Any:
        return await self._page(request, platform, inactive=inactive)

    @post("/", name="page-watchlist-add")
    async def add(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = viewer(request)
        assert user is not None
        posted = await request.form()
        values = {
            name: str(posted.get(name, "")).strip()
            for name in ("kind", "value", "reason", "expires")
        }
        errors: dict[str, Pair] = {}
        if values["kind"] not in KINDS:
            errors["kind"] = i18n.TEXTS["form.required"]
        if not 3 <= len(values["value"]) <= 40:
            errors["value"] = i18n.TEXTS["watch.value_bad"]
        if problem := _reason_problem(values["reason"]):
            errors["reason"] = problem
        expires_at: datetime | None = None
        if values["expires"]:
            try:
                day = date.fromisoformat(values["expires"])
                # Watched to the end of that day at the gates (they share one zone by default).
                expires_at = datetime.combine(day, time(23, 59, 59), tzinfo=platform.settings.zone)
            except ValueError:
                errors["expires"] = i18n.TEXTS["watch.expiry_bad"]
        if errors:
            return await self._page(request, platform, status=422, values=values, errors=errors)
        try:
            await service.add_watchlist_entry(
                platform,
                user,
                kind=values["kind"],
                value=values["value"],
                reason=values["reason"],
                expires_at=expires_at,
            )
        except ApplicationError as exc:
            if exc.field in ("value", "expires_at"):
                errors["expires" if exc.field == "expires_at" else "value"] = (exc.vi, exc.en)
                return await self._page(
                    request, platform, status=exc.status, values=values, errors=errors
                )
            raise
        set_flash(request, i18n.TEXTS["watch.added"])
        return redirect("/watchlist")

    @post("/{entry_id:str}/remove", name="page-watchlist-remove")
    async def remove(
        self, request: Request[Any, Any, Any], platform: Platform, entry_id: str
    ) -> Any:
        user = viewer(request)
        assert user is not None
        posted = await request.form()
        reason = str(posted.get("reason", "")).strip()
        if problem := _reason_problem(reason):
            return await self._page(request, platform, status=422, problem=problem)
        await service.remove_watchlist_entry(platform, user, entry_id, reason=reason)
        set_flash(request, i18n.TEXTS["watch.removed"])
        return redirect("/watchlist")
