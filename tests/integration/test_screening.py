"""Automated screening on workers: every agency's result lands once, by a named system actor."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from border_gate.db.models import OutboxRow
from tests.support import MACHINERY, World, events_of, screened, wait_until


async def test_green_non_quarantine_truck_needs_only_border_guard_and_gates(
    worker_world: World,
) -> None:
    w = worker_world
    created = await w.file(cargo=MACHINERY)
    await w.submit(created["id"])
    d = await wait_until(w, created["id"], screened, what="screening")
    assert d["status"] == "awaiting_arrival"
    assert d["channel"] == "green"
    for stage in ("plant_quarantine", "animal_quarantine", "health_quarantine"):
        assert d["stages"][stage]["state"] == "not_required"
    assert d["stages"]["customs"]["state"] == "pending"
    gate_in = await w.gate_event("gate_in")
    assert gate_in.status_code == 201, gate_in.text
    d = gate_in.json()
    assert d["yard_position"] == "P001"
    assert d["stages"]["customs"]["state"] == "approved"  # green: released at gate-in
    assert d["stages"]["border_guard"]["state"] == "in_review"
    approve = await w.decide(created["id"], "border_guard", "approve", "guard", "Kiểm tra xe đạt")
    assert approve.status_code == 200, approve.text
    assert approve.json()["status"] == "cleared"
    gate_out = await w.gate_event("gate_out")
    assert gate_out.status_code == 201, gate_out.text
    assert gate_out.json()["status"] == "departed"
    events = await events_of(w, created["id"])
    screens = [e for e in events if e["action"] == "screen"]
    assert sorted(e["actor"] for e in screens) == [
        "system:border_guard-screening",
        "system:customs-screening",
        "system:quarantine-screening",
    ]
    assert all(e["reason"] for e in screens)
    auto = [e for e in events if e["action"] == "approve" and e["stage"] == "customs"]
    assert len(auto) == 1 and auto[0]["actor"] == "system:customs-screening"
    assert "green" in auto[0]["reason"].lower()


async def test_durian_needs_plant_and_health_quarantine(worker_world: World) -> None:
    w = worker_world
    created = await w.file()
    await w.submit(created["id"])
    d = await wait_until(w, created["id"], screened)
    assert d["stages"]["plant_quarantine"]["state"] == "pending"
    assert d["stages"]["health_quarantine"]["state"] == "pending"
    assert d["stages"]["animal_quarantine"]["state"] == "not_required"
    assert any("081060" in f for f in d["stages"]["plant_quarantine"]["findings"])
    d = (await w.gate_event("gate_in")).json()
    assert d["stages"]["plant_quarantine"]["state"] == "in_review"
    assert d["stages"]["border_guard"]["state"] == "pending"


async def test_watched_consignee_goes_red_with_reasons(worker_world: World) -> None:
    w = worker_world
    created = await w.file(cargo=MACHINERY, consignee="Guangxi Shadow Trading Co.")
    await w.submit(created["id"])
    d = await wait_until(w, created["id"], screened)
    assert d["channel"] == "red"
    findings = " ".join(d["stages"]["customs"]["findings"])
    assert "Guangxi Shadow Trading Co." in findings
    d = (await w.gate_event("gate_in")).json()
    assert d["stages"]["customs"]["state"] == "in_review"  # an officer must decide


async def test_watchlist_and_expiring_document_flag_the_border_guard(worker_world: World) -> None:
    w = worker_world
    added = await w.client.post(
        "/api/v1/watchlist",
        json={"kind": "plate", "value": "12c 345.67", "reason": "Nghi vận chuyển hàng cấm"},
        headers=w.as_("guard"),
    )
    assert added.status_code == 201, added.text
    refused = await w.client.post(
        "/api/v1/watchlist",
        json={"kind": "plate", "value": "12C-111.11", "reason": "x" * 5},
        headers=w.as_("customs"),
    )
    assert refused.status_code == 403
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    created = await w.file(
        cargo=MACHINERY,
        driver={
            "name": "Lý Văn Hùng",
            "document_number": "B7654321",
            "nationality": "VN",
            "document_expiry": soon,
        },
    )
    await w.submit(created["id"])
    d = await wait_until(w, created["id"], screened)
    findings = " ".join(d["stages"]["border_guard"]["findings"])
    assert "Nghi vận chuyển hàng cấm" in findings
    assert "expires soon" in findings
    listing = await w.client.get("/api/v1/watchlist", headers=w.as_("guard"))
    assert [e["value"] for e in listing.json()] == ["12c 345.67"]
    removed = await w.client.request(
        "DELETE",
        f"/api/v1/watchlist/{added.json()['id']}",
        json={"reason": "Đã xác minh"},
        headers=w.as_("guard"),
    )
    assert removed.status_code == 200, removed.text
    assert (await w.client.get("/api/v1/watchlist", headers=w.as_("guard"))).json() == []


async def test_duplicate_messages_change_nothing(worker_world: World) -> None:
    """The relay dies after publishing but before marking sent: the copies are harmless."""
    w = worker_world
    relay = w.platform.background["relay"]
    ids = [
        (await w.file(cargo=MACHINERY, vehicle={"plate": f"29H-{1000 + i}", "country": "VN"}))["id"]
        for i in range(5)
    ]
    for declaration_id in ids:
        await w.submit(declaration_id)
    for declaration_id in ids:
        await wait_until(w, declaration_id, screened)
    # As if a relay had published these rows and died before marking them sent: they are
    # pending again, and get published twice more (by us, and by whichever sweep sees them).
    async with w.platform.unit_of_work() as uow:
        await uow.session.execute(
            update(OutboxRow).where(OutboxRow.declaration_id.in_(ids)).values(sent_at=None)
        )
        await uow.commit()
    # Whoever publishes them (this call or the relay's own sweep), each is a duplicate.
    await relay.publish_pending(mark_sent=False)
    await relay.publish_pending()
    await asyncio.sleep(1.5)  # let the copies be consumed
    for declaration_id in ids:
        events = await events_of(w, declaration_id)
        counts = Counter(e["actor"] for e in events if e["action"] == "screen")
        assert set(counts.values()) == {1}, counts
    async with w.platform.unit_of_work() as uow:
        unsent = await uow.session.scalar(
            select(func.count(OutboxRow.id)).where(OutboxRow.sent_at.is_(None))
        )
    assert unsent == 0
