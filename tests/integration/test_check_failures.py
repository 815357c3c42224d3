"""A check that keeps failing ends as a visible mark and an admin's retry, never silently."""

from __future__ import annotations

from sqlalchemy import text

from tests.support import MACHINERY, World, events_of, wait_until


async def _rename(world: World, old: str, new: str) -> None:
    async with world.platform.engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_failing_check_is_flagged_listed_and_retried(worker_world: World) -> None:
    w = worker_world
    created = await w.file(cargo=MACHINERY)
    # The border guard's check reads the watchlist; take the table away so it keeps failing.
    await _rename(w, "watchlist_entries", "watchlist_entries_away")
    try:
        await w.submit(created["id"])
        d = await wait_until(
            w,
            created["id"],
            lambda d: d["stages"]["border_guard"]["needs_attention"],
            timeout=60,
            what="the border guard stage to be flagged",
        )
    finally:
        await _rename(w, "watchlist_entries_away", "watchlist_entries")
    assert d["status"] == "submitted"  # customs and quarantine landed; border guard did not
    assert d["stages"]["customs"]["needs_attention"] is False
    assert "border_guard" in d["stages"]["border_guard"]["reason"]
    events = await events_of(w, created["id"])
    assert [e["action"] for e in events].count("needs_attention") == 1

    for user in ("firm_a", "guard", "board"):
        denied = await w.client.get("/api/v1/admin/check-failures", headers=w.as_(user))
        assert denied.status_code == 403, user
    listing = await w.client.get("/api/v1/admin/check-failures?status=open", headers=w.as_("admin"))
    assert listing.status_code == 200, listing.text
    failures = listing.json()
    assert len(failures) == 1
    failure = failures[0]
    assert failure["declaration_id"] == created["id"]
    assert failure["actor_name"] == "screen_border_guard"
    assert failure["attempts"] == 3  # first try + CHECK_MAX_RETRIES=2
    assert "watchlist_entries" in failure["error"]

    retried = await w.client.post(
        f"/api/v1/admin/check-failures/{failure['id']}/retry", headers=w.as_("admin")
    )
    assert retried.status_code == 202, retried.text
    again = await w.client.post(
        f"/api/v1/admin/check-failures/{failure['id']}/retry", headers=w.as_("admin")
    )
    assert again.status_code == 409
    d = await wait_until(w, created["id"], lambda d: d["status"] == "awaiting_arrival", timeout=30)
    assert d["stages"]["border_guard"]["needs_attention"] is False
    resolved = await w.client.get("/api/v1/admin/check-failures", headers=w.as_("admin"))
    assert resolved.json()[0]["status"] == "resolved"
