"""Webhooks over HTTP: a firm registers, lists and deletes endpoints and reads their log."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar import delete as http_delete
from litestar.params import Parameter

from border_gate.api.http import current_user
from border_gate.notifications import service
from border_gate.notifications.service import DeliveryPage, WebhookCreated, WebhookIn, WebhookOut
from border_gate.platform import Platform


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        summary="Register a webhook endpoint for your firm (the secret is shown only here)",
        description="`url` http(s), not an internal address; `topics` from: "
        + ", ".join(f"`{t}`" for t in service.TOPICS)
        + ". Deliveries are signed with `X-BorderGate-Signature: t=<unix>,v1=<hex>`.",
        status_code=201,
    )
    async def create(
        self, request: Request[Any, Any, Any], platform: Platform, data: WebhookIn
    ) -> WebhookCreated:
        return await service.create_endpoint(platform, current_user(request), data)

    @get("/", summary="Your firm's webhook endpoints (an admin sees all)")
    async def list_endpoints(
        self, request: Request[Any, Any, Any], platform: Platform
    ) -> list[WebhookOut]:
        rows = await service.list_endpoints(platform, current_user(request))
        return [service.webhook_out(platform, row) for row in rows]

    @http_delete(
        "/{endpoint_id:str}", summary="Stop sending to an endpoint (its log stays readable)"
    )
    async def delete(
        self, request: Request[Any, Any, Any], platform: Platform, endpoint_id: str
    ) -> None:
        await service.delete_endpoint(platform, current_user(request), endpoint_id)

    @get(
        "/{endpoint_id:str}/deliveries",
        summary="The delivery log: each delivery, newest first, with every attempt",
    )
    async def deliveries(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        endpoint_id: str,
        cursor: Annotated[str | None, Parameter(max_length=100)] = None,
        limit: Annotated[int, Parameter(ge=1, le=service.MAX_LOG_PAGE)] = 50,
    ) -> DeliveryPage:
        return await service.delivery_log(
            platform, current_user(request), endpoint_id, cursor=cursor, limit=limit
        )
