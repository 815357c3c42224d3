"""Helpers for the fee and webhook tests: a truck brought to the yard, signed callbacks."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from border_gate.declarations.service import change_declaration
from border_gate.notifications.signature import signature_header
from tests.support import MACHINERY, World
from workflows.machine import Screen, ScreenedStage
from workflows.model import Channel, Stage
from workflows.roles import system_actor

PAYMENT_SECRET = "payment-provider-shared-secret-0123456789abcdef"
FEE_ENV = {
    "PAYMENT_CALLBACK_SECRET": PAYMENT_SECRET,
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    "WEBHOOK_MIN_BACKOFF_MS": "50",
    "WEBHOOK_MAX_BACKOFF_MS": "200",
    "WEBHOOK_MAX_ATTEMPTS": "3",
    "WEBHOOK_TIMEOUT_SECONDS": "3",
}


async def screen_green(world: World, declaration_id: str) -> None:
    """Land every agency's screening at once (no workers): customs green, no quarantine."""
    for agency, stages, channel in [
        (
            "customs",
            {Stage.CUSTOMS: ScreenedStage(required=True, auto_approve=True)},
            Channel.GREEN,
        ),
        (
            "quarantine",
            {
                s: ScreenedStage(required=False)
                for s in (Stage.PLANT_QUARANTINE, Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE)
            },
            None,
        ),
        ("border_guard", {Stage.BORDER_GUARD: ScreenedStage(required=True)}, None),
    ]:
        await change_declaration(
            world.platform,
            system_actor(f"{agency}-screening"),
            declaration_id,
            Screen(agency=agency, round=1, stages=stages, channel=channel),
        )


async def truck_in_yard(world: World, plate: str = "12C-345.67", **overrides: Any) -> str:
    """File, submit, screen green and gate in one truck; returns its declaration id."""
    created = await world.file(
        cargo=overrides.pop("cargo", MACHINERY),
        vehicle={"plate": plate, "trailer_plate": overrides.pop("trailer", None), "country": "VN"},
        **overrides,
    )
    await world.submit(created["id"])
    await screen_green(world, created["id"])
    response = await world.gate_event("gate_in", plate)
    assert response.status_code == 201, response.text
    return created["id"]  # type: ignore[no-any-return]


async def fees_of(world: World, declaration_id: str, user: str = "firm_a") -> list[dict[str, Any]]:
    response = await world.client.get(
        f"/api/v1/declarations/{declaration_id}/fees", headers=world.as_(user)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def callback_body(charge: dict[str, Any], **overrides: Any) -> bytes:
    body = {
        "reference": f"VNPAY-{uuid.uuid4().hex[:12]}",
        "charge_id": charge["id"],
        "amount_vnd": charge["amount_vnd"],
        "paid_at": datetime.now(UTC).isoformat(),
        "currency": "VND",
    }
    body.update(overrides)
    return msgspec.json.encode(body)


async def post_callback(
    world: World,
    body: bytes,
    *,
    secret: str = PAYMENT_SECRET,
    timestamp: int | None = None,
    header: str | None = None,
) -> Any:
    signed = header or signature_header(secret, timestamp or int(time.time()), body)
    return await world.client.post(
        "/api/v1/payments/callback",
        content=body,
        headers={"Content-Type": "application/json", "X-Payment-Signature": signed},
    )
