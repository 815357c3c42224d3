"""The border guard's watchlist API and the admin's view of checks that need attention."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter
from msgspec import Meta, Struct

from border_gate.api.http import current_user
from border_gate.platform import Platform
from border_gate.screening import service
from border_gate.screening.service import CheckFailure, WatchlistItem
from workflows.model import PRINTABLE

Reason = Annotated[str, Meta(min_length=3, max_length=1000, pattern=PRINTABLE)]


class WatchlistIn(Struct, frozen=True, forbid_unknown_fields=True):
    kind: Annotated[str, Meta(pattern=r"^(plate|document)$")]
    value: Annotated[str, Meta(min_length=3, max_length=40, pattern=PRINTABLE)]
    reason: Reason
    expires_at: Annotated[datetime, Meta(tz=True)] | None = None


class RemovalIn(Struct, frozen=True, forbid_unknown_fields=True):
    reason: Reason


class WatchlistController(Controller):
    path = "/api/v1/watchlist"
    tags = ["border guard"]

    @post("/", summary="Watch a plate or travel document (border guard officer)", status_code=201)
    async def add(
        self, request: Request[Any, Any, Any], platform: Platform, data: WatchlistIn
    ) -> WatchlistItem:
        return await service.add_watchlist_entry(
            platform,
            current_user(request),
            kind=data.kind,
            value=data.value,
            reason=data.reason,
            expires_at=data.expires_at,
        )

    @get("/", summary="The watchlist, newest first (border guard officer, admin)")
    async def list_entries(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        include_inactive: bool = False,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[WatchlistItem]:
        return await service.list_watchlist(
            platform, current_user(request), include_inactive=include_inactive, limit=limit
        )

    @delete(
        "/{entry_id:str}",
        summary="Stop watching (a reason is required: send it as JSON body)",
        status_code=200,
    )
    async def remove(
        self, request: Request[Any, Any, Any], platform: Platform, entry_id: str, data: RemovalIn
    ) -> WatchlistItem:
        return await service.remove_watchlist_entry(
            platform, current_user(request), entry_id, reason=data.reason
        )


class CheckFailureController(Controller):
    path = "/api/v1/admin/check-failures"
    tags = ["admin"]

    @get("/", summary="Automated checks that failed after their retries (admin)")
    async def list_failures(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        status: Annotated[str | None, Parameter(pattern=r"^(open|retried|resolved)$")] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> list[CheckFailure]:
        return await service.list_check_failures(
            platform, current_user(request), status=status, limit=limit
        )

    @post("/{failure_id:str}/retry", summary="Run the failed check again (admin)", status_code=202)
    async def retry(
        self, request: Request[Any, Any, Any], platform: Platform, failure_id: str
    ) -> CheckFailure:
        return await service.retry_check_failure(platform, current_user(request), failure_id)
