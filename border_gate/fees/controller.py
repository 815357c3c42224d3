"""Fees over HTTP: a declaration's charges, the payment provider's callback, daily totals."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter, QueryParameter

from border_gate.api.http import current_user
from border_gate.fees import service
from border_gate.fees.service import FeeChargeOut, FeeReport, PaymentOut
from border_gate.platform import Platform

MAX_CALLBACK_BYTES = 16 * 1024


class FeeController(Controller):
    tags = ["fees"]

    @get(
        "/api/v1/declarations/{declaration_id:str}/fees",
        summary="The declaration's gate fee (charged at gate-in) and whether it is paid",
    )
    async def declaration_fees(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> list[FeeChargeOut]:
        return await service.declaration_fees(platform, current_user(request), declaration_id)

    @post(
        "/api/v1/payments/callback",
        opt={"exclude_from_auth": True},
        summary="The payment provider reports a paid fee (HMAC-signed; idempotent by reference)",
        description="Header `X-Payment-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "
        "'<t>.<raw body>' with PAYMENT_CALLBACK_SECRET>`. Body: `reference`, `charge_id`, "
        "`amount_vnd`, `paid_at`, `currency` (VND). The same callback again answers the "
        "same (header `Idempotent-Replayed: true`). See docs/fees-and-notifications.md.",
        status_code=200,
        request_max_body_size=MAX_CALLBACK_BYTES,
    )
    async def payment_callback(
        self, request: Request[Any, Any, Any], platform: Platform
    ) -> Response[PaymentOut]:
        payment, replayed = await service.record_payment(
            platform,
            await request.body(),
            request.headers.get(service.PAYMENT_SIGNATURE_HEADER),
        )
        return Response(
            content=payment,
            status_code=200,
            headers={"Idempotent-Replayed": "true" if replayed else "false"},
        )

    @get(
        "/api/v1/reports/fees",
        summary="Fee totals per local day at one gate (management board, admin)",
    )
    async def fee_report(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        gate: Annotated[str, Parameter(max_length=32)],
        start: Annotated[date, QueryParameter(name="from", description="first day, YYYY-MM-DD")],
        end: Annotated[date, QueryParameter(name="to", description="last day, YYYY-MM-DD")],
    ) -> FeeReport:
        return await service.fee_report(platform, current_user(request), gate, start, end)
