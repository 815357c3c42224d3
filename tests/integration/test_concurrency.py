"""Fifty officers' conflicting decisions at once: exactly one wins, the rest are told so."""

from __future__ import annotations

import asyncio
from collections import Counter

from border_gate.declarations.service import change_declaration
from tests.support import MACHINERY, World, events_of
from workflows.machine import Screen, ScreenedStage
from workflows.model import Channel, Stage
from workflows.roles import system_actor


async def _open_customs(world: World) -> dict:
    """A truck in the yard with a red channel: the customs stage waits for an officer."""
    created = await world.file(cargo=MACHINERY)
    await world.submit(created["id"])
    for agency, stages, channel in [
        (
            "customs",
            {Stage.CUSTOMS: ScreenedStage(required=True, findings=("Luồng đỏ / red",))},
            Channel.RED,
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
            created["id"],
            Screen(agency=agency, round=1, stages=stages, channel=channel),
        )
    response = await world.gate_event("gate_in")
    assert response.status_code == 201, response.text
    declaration = response.json()
    assert declaration["stages"]["customs"]["state"] == "in_review"
    return declaration


async def test_fifty_racing_decisions_leave_exactly_one_event(world: World) -> None:
    declaration = await _open_customs(world)
    before = len(await events_of(world, declaration["id"]))
    path = f"/api/v1/declarations/{declaration['id']}/stages/customs/decision"
    decisions = ["approve", "reject", "hold", "request_amendment"]
    headers = world.as_("customs", **{"If-Match": f'"{declaration["version"]}"'})

    async def one(i: int) -> int:
        response = await world.client.post(
            path, json={"decision": decisions[i % 4], "reason": f"Cán bộ {i}"}, headers=headers
        )
        assert response.status_code in (200, 409, 412), response.text
        if response.status_code != 200:
            assert response.headers["content-type"].startswith("application/problem+json")
        return response.status_code

    statuses = Counter(await asyncio.gather(*(one(i) for i in range(50))))
    assert statuses[200] == 1, statuses
    assert statuses[409] + statuses[412] == 49, statuses
    events = await events_of(world, declaration["id"])
    decided = [e for e in events[before:] if e["stage"] == "customs"]
    assert len(decided) == 1, decided
    after = await world.get(declaration["id"])
    assert after["version"] == declaration["version"] + len(events) - before


async def test_racing_gate_ins_never_overfill_a_slot(world: World) -> None:
    """Two trucks gated in at once get different yard slots."""
    ids = []
    for plate in ("29H-111.11", "29H-222.22"):
        created = await world.file(cargo=MACHINERY, vehicle={"plate": plate, "country": "VN"})
        await world.submit(created["id"])
        ids.append(created["id"])
    responses = await asyncio.gather(
        *(world.gate_event("gate_in", plate) for plate in ("29H-111.11", "29H-222.22"))
    )
    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    assert {r.json()["yard_position"] for r in responses} == {"P001", "P002"}
