"""Malformed and hostile requests get a clear 4xx problem naming what is wrong, never a 500,
and never change what was stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from tests.support import World, declaration_body

PROBLEM = "application/problem+json"


def _with(path: str, value: Any) -> dict[str, Any]:
    """The example body with the value at a dotted path replaced (or removed if value is ...)."""
    body = declaration_body()
    *parents, leaf = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[leaf]
    elif isinstance(target, list):
        target[int(leaf)] = value
    else:
        target[leaf] = value
    return body


LINE = declaration_body()["cargo"][0]

# (body, the field the problem must name)
BAD_BODIES: list[tuple[Any, str]] = [
    (_with("direction", "sideways"), "direction"),
    (_with("gate", "NOWHERE"), "gate"),
    (_with("gate", "huu_nghi"), "gate"),
    (_with("gate", "../../etc/passwd"), "gate"),
    (_with("vehicle.plate", "XYZ"), "vehicle.plate"),
    (_with("vehicle.trailer_plate", "??"), "vehicle.trailer_plate"),
    (_with("vehicle.plate", "12C-345.67'; DROP TABLE declarations;--"), "vehicle.plate"),
    (_with("vehicle.country", "ZZ"), "vehicle.country"),
    (_with("vehicle.country", "vn"), "vehicle.country"),
    (_with("vehicle.extra", 1), "vehicle.extra"),
    (_with("driver.name", ""), "driver.name"),
    (_with("driver.name", "A" * 201), "driver.name"),
    (_with("driver.name", "Nguyễn\u0000Văn"), "driver.name"),
    (_with("driver.document_number", "C12 34567"), "driver.document_number"),
    (_with("driver.nationality", ...), "driver.nationality"),
    (_with("driver.document_expiry", "31/12/2027"), "driver.document_expiry"),
    (_with("cargo", []), "cargo"),
    (_with("cargo", [LINE] * 201), "cargo"),
    (_with("cargo", "durian"), "cargo"),
    (_with("cargo.0.hs_code", "7701"), "cargo[0].hs_code"),
    (_with("cargo.0.hs_code", "9901"), "cargo[0].hs_code"),
    (_with("cargo.0.hs_code", "0001"), "cargo[0].hs_code"),
    (_with("cargo.0.hs_code", "08A060"), "cargo[0].hs_code"),
    (_with("cargo.0.hs_code", "081"), "cargo[0].hs_code"),
    (_with("cargo.0.hs_code", 81060), "cargo[0].hs_code"),
    (_with("cargo.0.gross_weight_kg", -5), "cargo[0].gross_weight_kg"),
    (_with("cargo.0.gross_weight_kg", 0), "cargo[0].gross_weight_kg"),
    (_with("cargo.0.gross_weight_kg", 1e10), "cargo[0].gross_weight_kg"),
    (_with("cargo.0.gross_weight_kg", "heavy"), "cargo[0].gross_weight_kg"),
    (_with("cargo.0.packages", True), "cargo[0].packages"),
    (_with("cargo.0.packages", 1.5), "cargo[0].packages"),
    (_with("cargo.0.packages", 10**30), "cargo[0].packages"),
    (_with("cargo.0.value", 0), "cargo[0].value"),
    (_with("cargo.0.value", 1e11), "cargo[0].value"),
    (_with("cargo.0.currency", "usd"), "cargo[0].currency"),
    (_with("cargo.0.currency", "ABC"), "cargo[0].currency"),
    (_with("cargo.0.origin_country", "XX"), "cargo[0].origin_country"),
    (
        _with("cargo", [{**LINE, "gross_weight_kg": 60000}, {**LINE, "gross_weight_kg": 60000}]),
        "cargo",
    ),
    (_with("consignee", ...), "consignee"),
    (_with("consignor", None), "consignor"),
    (_with("planned_arrival", "2026-12-01T08:00:00"), "planned_arrival"),
    (_with("planned_arrival", "tomorrow"), "planned_arrival"),
    (_with("planned_arrival", "1900-01-01T00:00:00+07:00"), "planned_arrival"),
    (_with("surprise", True), "surprise"),
    ([], "$"),
    ("declaration", "$"),
    (None, "$"),
    (42, "$"),
]


@pytest.fixture
async def stored(world: World) -> dict[str, Any]:
    """A declaration already filed and submitted: nothing hostile may change it."""
    created = await world.file()
    await world.submit(created["id"])
    return await world.get(created["id"])


async def _unchanged(world: World, before: dict[str, Any]) -> None:
    after = await world.get(before["id"])
    assert after == before
    listing = (
        await world.client.get("/api/v1/declarations?limit=200", headers=world.as_("board"))
    ).json()
    assert len(listing["items"]) == 1


def _assert_problem(
    response: Any, status: int | tuple[int, ...], field: str | None = None
) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    problem = response.json()
    for member in ("type", "title", "status", "detail"):
        assert member in problem, problem
    assert "Traceback" not in response.text
    if field is not None:
        named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
        assert any(n is not None and (n == field or n.startswith(field)) for n in named), (
            field,
            problem,
        )
    return problem  # type: ignore[no-any-return]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
async def test_bad_declaration_bodies(
    world: World, stored: dict[str, Any], body: Any, field: str
) -> None:
    response = await world.client.post(
        "/api/v1/declarations",
        content=json.dumps(body),
        headers=world.as_("firm_a", **{"content-type": "application/json"}),
    )
    _assert_problem(response, (400, 422), field)
    await _unchanged(world, stored)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b"not json",
        b'{"direction": "export",}',
        b"\xff\xfe\x00",
        b'{"a":' * 10000,
        b'"\\ud800"',
    ],
)
async def test_malformed_json(world: World, stored: dict[str, Any], raw: bytes) -> None:
    response = await world.client.post(
        "/api/v1/declarations",
        content=raw,
        headers=world.as_("firm_a", **{"content-type": "application/json"}),
    )
    _assert_problem(response, (400, 422))
    await _unchanged(world, stored)


async def test_out_of_range_number(world: World, stored: dict[str, Any]) -> None:
    raw = json.dumps(declaration_body()).replace(
        '"gross_weight_kg": 18000', '"gross_weight_kg": 1e400'
    )
    response = await world.client.post(
        "/api/v1/declarations",
        content=raw,
        headers=world.as_("firm_a", **{"content-type": "application/json"}),
    )
    _assert_problem(response, (400, 422))
    await _unchanged(world, stored)


async def test_body_size_is_bounded(world: World, stored: dict[str, Any]) -> None:
    huge = json.dumps(_with("consignee", "x" * 2_000_000))
    response = await world.client.post(
        "/api/v1/declarations",
        content=huge,
        headers=world.as_("firm_a", **{"content-type": "application/json"}),
    )
    _assert_problem(response, 413)
    await _unchanged(world, stored)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=100000",
        "limit=abc",
        "cursor=%%%",
        "cursor=bm90LWEtY3Vyc29y",
        "status=flying",
        "stage=kitchen",
        "direction=up",
        "channel=purple",
        "needs_attention=perhaps",
        "gate=" + "G" * 100,
    ],
)
async def test_bad_list_queries(world: World, stored: dict[str, Any], query: str) -> None:
    response = await world.client.get(f"/api/v1/declarations?{query}", headers=world.as_("board"))
    _assert_problem(response, (400, 422))


@pytest.mark.parametrize(
    "declaration_id", ["nope", "0" * 36, "x" * 500, "%00", "1 OR 1=1", "..%2Fdeclarations"]
)
async def test_unknown_ids_are_404(
    world: World, stored: dict[str, Any], declaration_id: str
) -> None:
    for path in (
        f"/api/v1/declarations/{declaration_id}",
        f"/api/v1/declarations/{declaration_id}/events",
    ):
        response = await world.client.get(path, headers=world.as_("board"))
        _assert_problem(response, 404)


async def test_bad_patches(world: World) -> None:
    created = await world.file()
    path = f"/api/v1/declarations/{created['id']}"
    etag = {"If-Match": f'"{created["version"]}"'}
    cases: list[tuple[Any, dict[str, str], int | tuple[int, ...]]] = [
        ({"cargo": []}, etag, 422),
        ({"vehicle": {"plate": "nope"}}, etag, 422),
        ({"unknown": 1}, etag, 422),
        ({"direction": 7}, etag, 422),
        ([1, 2], etag, (400, 422)),
        ({"consignee": "X"}, {}, 428),
        ({"consignee": "X"}, {"If-Match": "garbage"}, 412),
        ({"consignee": "X"}, {"If-Match": '"999"'}, 412),
    ]
    for body, headers, status in cases:
        response = await world.client.patch(path, json=body, headers=world.as_("firm_a", **headers))
        _assert_problem(response, status)
    assert await world.get(created["id"]) == await world.get(created["id"])
    assert (await world.get(created["id"]))["version"] == created["version"]


async def test_bad_decisions(world: World, stored: dict[str, Any]) -> None:
    base = f"/api/v1/declarations/{stored['id']}/stages"
    etag = {"If-Match": f'"{stored["version"]}"'}
    cases: list[tuple[str, Any, dict[str, str], int]] = [
        ("yard", {"decision": "explode", "reason": "x"}, etag, 422),
        ("yard", {"decision": "hold"}, etag, 422),  # a human decision needs a reason
        ("yard", {"decision": "hold", "reason": "   "}, etag, 422),
        ("yard", {"decision": "hold", "reason": "x" * 1001}, etag, 422),
        ("yard", {"decision": "hold", "reason": "ok", "extra": 1}, etag, 422),
        ("yard", {"decision": "approve", "reason": "ok"}, etag, 409),  # yard passes by gate-in
        ("kitchen", {"decision": "hold", "reason": "ok"}, etag, 404),
        ("customs", {"decision": "approve", "reason": "ok"}, etag, 403),  # yard operator ≠ customs
    ]
    for stage, body, headers, status in cases:
        response = await world.client.post(
            f"{base}/{stage}/decision", json=body, headers=world.as_("yard", **headers)
        )
        _assert_problem(response, status)
    await _unchanged(world, stored)


async def test_bad_gate_events(world: World, stored: dict[str, Any]) -> None:
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    cases: list[tuple[str, Any, str, int]] = [
        ("HUU_NGHI", {"kind": "teleport", "plate": "12C-345.67"}, "yard", 422),
        ("HUU_NGHI", {"kind": "gate_in", "plate": ""}, "yard", 422),
        ("HUU_NGHI", {"kind": "gate_in", "plate": "99Z-999.99"}, "yard", 404),
        (
            "HUU_NGHI",
            {"kind": "gate_in", "plate": "12C-345.67", "observed_at": future},
            "yard",
            422,
        ),
        ("HUU_NGHI", {"kind": "gate_out", "plate": "12C-345.67"}, "yard", 404),
        ("ATLANTIS", {"kind": "gate_in", "plate": "12C-345.67"}, "yard", 404),
        ("TAN_THANH", {"kind": "gate_in", "plate": "12C-345.67"}, "yard", 403),
        ("HUU_NGHI", {"kind": "gate_in", "plate": "12C-345.67"}, "firm_a", 403),
    ]
    for gate, body, user, status in cases:
        response = await world.client.post(
            f"/api/v1/gates/{gate}/events", json=body, headers=world.as_(user)
        )
        _assert_problem(response, status)
    await _unchanged(world, stored)


async def test_bad_tokens(world: World, stored: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": "x", "exp": now + timedelta(hours=1), "iat": now},
        "another-key-" * 4,
        algorithm="HS256",
    )
    unsigned = jwt.encode({"sub": "x", "exp": now + timedelta(hours=1)}, key="", algorithm="none")
    for header in [
        "Bearer",
        "Bearer ",
        "Bearer abc.def.ghi",
        f"Bearer {forged}",
        f"Bearer {unsigned}",
        "Basic Zm9vOmJhcg==",
    ]:
        response = await world.client.get(
            f"/api/v1/declarations/{stored['id']}", headers={"Authorization": header}
        )
        _assert_problem(response, 401)
    for body in [
        {"username": "firm_a", "password": "wrong-password-123"},
        {"username": "nobody", "password": "wrong-password-123"},
    ]:
        _assert_problem(await world.client.post("/api/v1/auth/token", json=body), 401)
    for body in [
        {"username": "firm_a"},
        {"username": "firm_a", "password": "x" * 300},
        {"user": "a", "password": "b"},
    ]:
        _assert_problem(await world.client.post("/api/v1/auth/token", json=body), (400, 422))
    await _unchanged(world, stored)


async def test_idempotency_key_bounds(world: World) -> None:
    response = await world.client.post(
        "/api/v1/declarations",
        json=declaration_body(),
        headers=world.as_("firm_a", **{"Idempotency-Key": "k" * 201}),
    )
    _assert_problem(response, 422, "Idempotency-Key")


async def test_unknown_routes_and_methods(world: World) -> None:
    _assert_problem(await world.client.get("/api/v1/nothing-here", headers=world.as_("board")), 404)
    _assert_problem(await world.client.delete("/api/v1/gates", headers=world.as_("board")), 405)
