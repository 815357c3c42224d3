"""A firm files, amends and submits; scoping keeps other firms and wrong officers out."""

from __future__ import annotations

from typing import Any

from tests.support import World, declaration_body


async def test_file_returns_draft_with_location_and_etag(world: World) -> None:
    response = await world.client.post(
        "/api/v1/declarations", json=declaration_body(), headers=world.as_("firm_a")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["number"].startswith("HN-")
    assert response.headers["location"] == f"/api/v1/declarations/{body['id']}"
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert body["channel"] is None
    assert body["vehicle"]["plate"] == "12C-345.67"
    assert body["driver"]["name"] == "Nguyễn Văn Đức"
    assert body["cargo"][0]["description"] == "Sầu riêng tươi"
    assert set(body["stages"]) == {
        "yard",
        "customs",
        "plant_quarantine",
        "animal_quarantine",
        "health_quarantine",
        "border_guard",
    }
    assert all(stage["state"] == "pending" for stage in body["stages"].values())
    assert body["planned_arrival"].endswith("+07:00")


async def test_amend_then_submit(world: World) -> None:
    created = await world.file()
    response = await world.client.patch(
        f"/api/v1/declarations/{created['id']}",
        json={"vehicle": {"plate": "12C-999.88"}, "consignee": "Dongxing Trading"},
        headers=world.as_("firm_a", **{"If-Match": f'"{created["version"]}"'}),
    )
    assert response.status_code == 200, response.text
    amended = response.json()
    assert amended["vehicle"]["plate"] == "12C-999.88"
    assert amended["consignee"] == "Dongxing Trading"
    assert amended["version"] > created["version"]
    submitted = await world.submit(created["id"])
    assert submitted["status"] == "submitted"
    events = (
        await world.client.get(
            f"/api/v1/declarations/{created['id']}/events", headers=world.as_("firm_a")
        )
    ).json()
    assert [e["action"] for e in events["events"]][:3] == ["create", "amend", "submit"]
    assert events["chain_valid"] is True
    first, second = events["events"][0], events["events"][1]
    assert first["prev_hash"] == "" and second["prev_hash"] == first["hash"]
    for event in events["events"]:
        assert {
            "seq",
            "at",
            "actor",
            "action",
            "stage",
            "reason",
            "version",
            "hash",
            "prev_hash",
        } <= set(event)


async def test_other_firm_gets_404_and_no_data(world: World) -> None:
    created = await world.file()
    for method, path, kwargs in [
        ("get", f"/api/v1/declarations/{created['id']}", {}),
        ("get", f"/api/v1/declarations/{created['id']}/events", {}),
        ("post", f"/api/v1/declarations/{created['id']}/submit", {}),
        ("post", f"/api/v1/declarations/{created['id']}/cancel", {}),
        (
            "patch",
            f"/api/v1/declarations/{created['id']}",
            {"json": {"consignee": "X"}, "headers": {"If-Match": '"1"'}},
        ),
    ]:
        headers = {**world.as_("firm_b"), **kwargs.pop("headers", {})}
        response = await getattr(world.client, method)(path, headers=headers, **kwargs)
        assert response.status_code == 404, (method, path, response.text)
        assert created["consignee"] not in response.text
    listing = (await world.client.get("/api/v1/declarations", headers=world.as_("firm_b"))).json()
    assert listing["items"] == []
    # nothing changed
    assert (await world.get(created["id"]))["version"] == created["version"]


async def test_officer_of_wrong_stage_or_gate_is_refused(world: World) -> None:
    created = await world.file()
    await world.submit(created["id"])
    # plant officer deciding the customs stage: 403
    response = await world.decide(created["id"], "customs", "approve", "plant")
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # customs officer of another gate: the declaration is not theirs to see
    response = await world.decide(created["id"], "customs", "approve", "customs_tt")
    assert response.status_code == 404, response.text
    # management reads but changes nothing
    response = await world.decide(created["id"], "customs", "approve", "board")
    assert response.status_code == 403
    after = await world.get(created["id"])
    events = (
        await world.client.get(
            f"/api/v1/declarations/{created['id']}/events", headers=world.as_("board")
        )
    ).json()
    assert [e["action"] for e in events["events"]] == ["create", "submit", "open"]
    assert after["stages"]["customs"]["state"] == "pending"


async def test_decision_needs_if_match_and_fresh_version(world: World) -> None:
    created = await world.file()
    await world.submit(created["id"])
    path = f"/api/v1/declarations/{created['id']}/stages/yard/decision"
    body = {"decision": "hold", "reason": "Cân lại xe / reweigh"}
    missing = await world.client.post(path, json=body, headers=world.as_("yard"))
    assert missing.status_code == 428
    stale = await world.client.post(
        path, json=body, headers=world.as_("yard", **{"If-Match": '"1"'})
    )
    assert stale.status_code == 412
    assert stale.json()["current_version"] > 1


async def test_listing_is_scoped_filtered_and_paginated(world: World) -> None:
    ids = [
        (await world.file(vehicle={"plate": f"12C-345.{i:02d}", "country": "VN"}))["id"]
        for i in range(5)
    ]
    await world.file("firm_b")
    page = (
        await world.client.get("/api/v1/declarations?limit=2", headers=world.as_("firm_a"))
    ).json()
    assert [d["id"] for d in page["items"]] == ids[::-1][:2]
    seen = [d["id"] for d in page["items"]]
    while page["next_cursor"]:
        page = (
            await world.client.get(
                f"/api/v1/declarations?limit=2&cursor={page['next_cursor']}",
                headers=world.as_("firm_a"),
            )
        ).json()
        seen += [d["id"] for d in page["items"]]
    assert seen == ids[::-1]
    await world.submit(ids[0])
    only_submitted = (
        await world.client.get("/api/v1/declarations?status=submitted", headers=world.as_("firm_a"))
    ).json()
    assert [d["id"] for d in only_submitted["items"]] == [ids[0]]
    board = (
        await world.client.get("/api/v1/declarations?limit=200", headers=world.as_("board"))
    ).json()
    assert len(board["items"]) == 6
    yard_queue = (
        await world.client.get("/api/v1/declarations?stage=yard", headers=world.as_("yard"))
    ).json()
    assert [d["id"] for d in yard_queue["items"]] == [ids[0]]


async def test_idempotency_key_returns_same_declaration(world: World) -> None:
    body: dict[str, Any] = declaration_body()
    headers = world.as_("firm_a", **{"Idempotency-Key": "req-001"})
    first = await world.client.post("/api/v1/declarations", json=body, headers=headers)
    second = await world.client.post("/api/v1/declarations", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    different = await world.client.post(
        "/api/v1/declarations", json=declaration_body(consignee="Other Co."), headers=headers
    )
    assert different.status_code == 409
    listing = (await world.client.get("/api/v1/declarations", headers=world.as_("firm_a"))).json()
    assert len(listing["items"]) == 1


async def test_cancel_before_arrival_only(world: World) -> None:
    created = await world.file()
    await world.submit(created["id"])
    response = await world.client.post(
        f"/api/v1/declarations/{created['id']}/cancel",
        json={"reason": "Đổi xe"},
        headers=world.as_("firm_a"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    again = await world.client.post(
        f"/api/v1/declarations/{created['id']}/cancel", headers=world.as_("firm_a")
    )
    assert again.status_code == 409


async def test_repeated_wrong_passwords_lock_the_username_for_a_while(world: World) -> None:
    for _ in range(10):
        wrong = await world.client.post(
            "/api/v1/auth/token", json={"username": "firm_b", "password": "not-the-password"}
        )
        assert wrong.status_code == 401
    locked = await world.client.post(
        "/api/v1/auth/token", json={"username": "FIRM_B", "password": "mat-khau-rat-dai-123"}
    )
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["content-type"].startswith("application/problem+json")
    # other users are not affected
    other = await world.client.post(
        "/api/v1/auth/token", json={"username": "firm_a", "password": "mat-khau-rat-dai-123"}
    )
    assert other.status_code == 200
