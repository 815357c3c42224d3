"""Webhooks: firms register endpoints; events reach them signed, retried, logged, never blocking."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from border_gate.identity.service import CurrentUser, authenticate
from border_gate.notifications.service import (
    WebhookDeliveryFailed,
    WebhookIn,
    create_endpoint,
    deliver,
)
from border_gate.notifications.signature import verify_signature
from border_gate.settings import Settings
from tests.conftest import SCREENING_TEST_ENV, make_settings
from tests.integration.fees_support import (
    FEE_ENV,
    callback_body,
    fees_of,
    post_callback,
    truck_in_yard,
)
from tests.integration.test_documents import clear_green_truck, verify_json, wait_documents
from tests.integration.webhook_receiver import Receiver, closed_port_url, receiver
from tests.support import MACHINERY, PASSWORD, World, screened, wait_until


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, **FEE_ENV)


@pytest.fixture
def worker_settings(tmp_path: Path, stack: dict[str, str]) -> Settings:
    rules = tmp_path / "customs.toml"
    rules.write_text(
        (Path(__file__).parent.parent.parent / "agencies/rules/customs.toml")
        .read_text()
        .replace("random_red_rate = 0.03", "random_red_rate = 0.0")
        .replace("first_declarations = 3", "first_declarations = 0")
    )
    env = {**SCREENING_TEST_ENV, **FEE_ENV, "CUSTOMS_RULES_FILE": str(rules), **stack}
    return make_settings(tmp_path, env.pop("DATABASE_URL"), **env)


async def register(w: World, url: str, topics: list[str], user: str = "firm_a") -> dict[str, Any]:
    response = await w.client.post(
        "/api/v1/webhooks", json={"url": url, "topics": topics}, headers=w.as_(user)
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def deliveries(w: World, endpoint_id: str, user: str = "firm_a") -> list[dict[str, Any]]:
    response = await w.client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=w.as_(user))
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


async def wait_log(
    w: World,
    endpoint_id: str,
    predicate: Any,
    timeout: float = 60,  # noqa: ASYNC109
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    log: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        log = await deliveries(w, endpoint_id)
        if predicate(log):
            return log
        await asyncio.sleep(0.1)
    raise AssertionError(f"delivery log never matched; last {log}")


def settled(topic: str, status: str) -> Any:
    return lambda log: any(d["topic"] == topic and d["status"] == status for d in log)


# --- Registering ---------------------------------------------------------------------------------


async def test_webhooks_crud_and_who_sees_what(world: World) -> None:
    created = await register(world, "http://127.0.0.1:9/hook", ["declaration.screened", "fee.paid"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 30
    assert created["topics"] == ["declaration.screened", "fee.paid"]
    assert created["signature_header"] == "X-BorderGate-Signature"
    assert created["created_at"].endswith("+07:00")

    listed = (await world.client.get("/api/v1/webhooks", headers=world.as_("firm_a"))).json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]  # shown once, at creation only
    assert (await world.client.get("/api/v1/webhooks", headers=world.as_("firm_b"))).json() == []
    admin = (await world.client.get("/api/v1/webhooks", headers=world.as_("admin"))).json()
    assert [e["id"] for e in admin] == [created["id"]]

    # another firm can neither read the log nor delete: not found, not "forbidden"
    path = f"/api/v1/webhooks/{created['id']}"
    assert (
        await world.client.get(path + "/deliveries", headers=world.as_("firm_b"))
    ).status_code == 404
    assert (await world.client.delete(path, headers=world.as_("firm_b"))).status_code == 404
    # officers have no webhooks
    for role_user in ("customs", "yard", "board"):
        assert (
            await world.client.get("/api/v1/webhooks", headers=world.as_(role_user))
        ).status_code == 403
    response = await world.client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/x", "topics": ["fee.paid"]},
        headers=world.as_("customs"),
    )
    assert response.status_code == 403
    assert (await world.client.get("/api/v1/webhooks")).status_code == 401

    assert (await world.client.delete(path, headers=world.as_("firm_a"))).status_code == 204
    assert (await world.client.get("/api/v1/webhooks", headers=world.as_("firm_a"))).json() == []
    assert (await world.client.delete(path, headers=world.as_("firm_a"))).status_code == 404
    # its log stays readable by its firm (and still not by another)
    assert await deliveries(world, created["id"]) == []
    assert (
        await world.client.get(path + "/deliveries", headers=world.as_("firm_b"))
    ).status_code == 404


async def test_delivery_is_idempotent_and_a_deleted_endpoint_gets_nothing(world: World) -> None:
    """`deliver` called directly (no workers): a settled delivery is never sent twice."""
    with receiver() as hook:
        live = await register(world, hook.url, ["fee.charged"])
        hook.secret = live["secret"]
        gone = await register(world, hook.url + "/gone", ["fee.charged"])
        declaration_id = await truck_in_yard(world)
        (to_live,) = await deliveries(world, live["id"])
        (to_gone,) = await deliveries(world, gone["id"])
        assert to_live["status"] == "pending" and to_live["declaration_id"] == declaration_id
        assert to_live["attempts"] == []  # queued in the gate-in's transaction, not sent there
        assert hook.snapshot() == []

        assert await deliver(world.platform, to_live["id"]) == "delivered"
        assert await deliver(world.platform, to_live["id"]) == "delivered"  # a duplicate message
        assert len(hook.snapshot()) == 1
        payload = check_signed(hook.snapshot()[0], live["secret"])
        assert payload["data"]["amount_vnd"] == 500_000

        response = await world.client.delete(
            f"/api/v1/webhooks/{gone['id']}", headers=world.as_("firm_a")
        )
        assert response.status_code == 204
        assert await deliver(world.platform, to_gone["id"]) == "failed"
        assert len(hook.snapshot()) == 1  # nothing was sent to the deleted endpoint
        (logged,) = await deliveries(world, gone["id"])
        assert logged["status"] == "failed" and "deleted" in logged["attempts"][0]["error"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x", "topics": ["fee.paid"]}, "url"),
        ({"url": "javascript:alert(1)", "topics": ["fee.paid"]}, "url"),
        ({"url": "https://u:p@example.com/x", "topics": ["fee.paid"]}, "url"),
        ({"url": "https://example.com/" + "a" * 3000, "topics": ["fee.paid"]}, "url"),
        ({"url": "https://example.com/x", "topics": ["fee.pay"]}, "topics[0]"),
        ({"url": "https://example.com/x", "topics": []}, "topics"),
        ({"url": "https://example.com/x", "topics": "fee.paid"}, "topics"),
        ({"url": "https://example.com/x", "topics": ["fee.paid"], "secret": "mine"}, "secret"),
        (
            {"url": "https://example.com/x", "topics": ["fee.paid"], "description": "a\u0000b"},
            "description",
        ),
        ({"topics": ["fee.paid"]}, "url"),
    ],
)
async def test_bad_registrations_get_a_problem_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    response = await world.client.post("/api/v1/webhooks", json=body, headers=world.as_("firm_a"))
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field


async def test_internal_targets_are_refused_unless_allowed(world: World) -> None:
    strict = msgspec.structs.replace(world.platform.settings, webhook_allow_private_targets=False)
    world.platform.settings = strict
    from border_gate.errors import InvalidInput

    user = await authenticate(world.platform, "firm_a", PASSWORD)
    assert isinstance(user, CurrentUser)
    for url in ("http://127.0.0.1:8080/x", "http://169.254.169.254/latest", "http://db.internal/x"):
        with pytest.raises(InvalidInput) as refused:
            await create_endpoint(world.platform, user, WebhookIn(url=url, topics=["fee.paid"]))
        assert refused.value.field == "url"


async def test_bad_log_requests(world: World) -> None:
    created = await register(world, "http://127.0.0.1:9/hook", ["fee.paid"])
    base = f"/api/v1/webhooks/{created['id']}/deliveries"
    for params in ({"limit": "0"}, {"limit": "1000"}, {"cursor": "!!!"}, {"limit": "x"}):
        response = await world.client.get(base, params=params, headers=world.as_("firm_a"))
        assert 400 <= response.status_code < 500, (params, response.text)
    for endpoint in ("not-an-id", "0193f1e2-0000-7000-8000-000000000000"):
        response = await world.client.get(
            f"/api/v1/webhooks/{endpoint}/deliveries", headers=world.as_("firm_a")
        )
        assert response.status_code == 404


# --- Delivering (real workers, real receivers) --------------------------------------------------


def check_signed(request: Any, secret: str) -> dict[str, Any]:
    verify_signature(
        secret,
        request.headers["x-bordergate-signature"],
        request.body,
        now=int(time.time()),
        tolerance_seconds=300,
    )
    payload = msgspec.json.decode(request.body)
    assert request.headers["idempotency-key"] == payload["id"]
    assert request.headers["x-bordergate-delivery"] == payload["id"]
    assert request.headers["x-bordergate-topic"] == payload["topic"]
    return payload  # type: ignore[no-any-return]


async def wait_received(
    hook: Receiver,
    topics: set[str],
    timeout: float = 90,  # noqa: ASYNC109
) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = hook.snapshot()
        if topics <= {msgspec.json.decode(r.body)["topic"] for r in got}:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"receiver never got {topics}; got {[r.body[:80] for r in hook.snapshot()]}"
    )


async def test_a_truck_signs_its_way_through_and_pays_for_a_signed_receipt(
    worker_world: World, tmp_path: Path
) -> None:
    w = worker_world
    with receiver() as hook:
        endpoint = await register(
            w,
            hook.url,
            [
                "declaration.screened",
                "fee.charged",
                "declaration.cleared",
                "fee.paid",
                "document.issued",
            ],
        )
        other = await register(w, hook.url, ["declaration.screened"], user="firm_b")
        declaration_id = await clear_green_truck(w)
        (charge,) = await fees_of(w, declaration_id)
        assert charge["status"] == "due" and charge["amount_vnd"] == 500_000
        paid = await post_callback(w, callback_body(charge, reference="MOMO-7788"))
        assert paid.status_code == 200, paid.text

        docs = await wait_documents(w, declaration_id, {("fee_receipt", None)}, timeout=120)
        receipt = next(d for d in docs if d["kind"] == "fee_receipt")
        checked = await verify_json(w, receipt["id"])
        assert checked["genuine"] is True and checked["status"] == "current"
        assert "Biên lai" in checked["kind_label"] and "receipt" in checked["kind_label"]
        download = await w.client.get(receipt["download"], headers=w.as_("firm_a"))
        assert download.status_code == 200 and download.content.startswith(b"%PDF-")
        upload = await w.client.post(
            "/api/v1/documents/verify",
            content=download.content,
            headers={"Content-Type": "application/pdf"},
        )
        assert upload.json()["genuine"] is True
        import shutil
        import subprocess

        if shutil.which("pdftotext"):
            path = tmp_path / "receipt.pdf"
            path.write_bytes(download.content)
            text = (
                await asyncio.to_thread(
                    subprocess.run,
                    ["pdftotext", str(path), "-"],
                    capture_output=True,
                    text=True,
                    check=True,
                )
            ).stdout
            assert "500.000 ₫" in text and "MOMO-7788" in text

        got = await wait_received(
            hook,
            {
                "declaration.screened",
                "fee.charged",
                "declaration.cleared",
                "fee.paid",
                "document.issued",
            },
        )
        payloads = [check_signed(r, endpoint["secret"]) for r in got]
        assert all(p["declaration"]["id"] == declaration_id for p in payloads)
        screened_notice = next(p for p in payloads if p["topic"] == "declaration.screened")
        assert screened_notice["data"]["channel"] == "green"
        assert screened_notice["occurred_at"].endswith("+07:00")
        fee_notice = next(p for p in payloads if p["topic"] == "fee.charged")
        assert fee_notice["data"]["amount_vnd"] == 500_000
        wanted = {"yard_ticket", "customs_release", "clearance_certificate", "fee_receipt"}
        deadline = time.monotonic() + 60
        while True:
            issued = {
                msgspec.json.decode(r.body)["data"]["kind"]
                for r in hook.snapshot()
                if msgspec.json.decode(r.body)["topic"] == "document.issued"
            }
            if wanted <= issued or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert wanted <= issued, issued
        receipt_notice = next(
            msgspec.json.decode(r.body)
            for r in hook.snapshot()
            if b'"fee_receipt"' in r.body and b"document.issued" in r.body
        )
        assert receipt_notice["data"]["document_id"] == receipt["id"]
        # the other firm's endpoint heard nothing about firm A's truck
        assert await deliveries(w, other["id"], user="firm_b") == []

        log = await wait_log(w, endpoint["id"], settled("fee.paid", "delivered"))
        for delivery in log:
            if delivery["status"] == "delivered":
                assert delivery["attempts"][-1]["status_code"] == 200
                assert delivery["attempts"][-1]["error"] is None


async def test_a_receiver_that_fails_first_gets_a_retry_with_the_same_key(
    worker_world: World,
) -> None:
    w = worker_world
    with receiver(plan=[500, 503]) as hook:
        endpoint = await register(w, hook.url, ["declaration.screened"])
        hook.secret = endpoint["secret"]  # the receiver checks every signature itself
        created = await w.file(cargo=MACHINERY)
        await w.submit(created["id"])
        await wait_until(w, created["id"], screened)
        log = await wait_log(w, endpoint["id"], settled("declaration.screened", "delivered"))
        (delivery,) = log
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert [a["error"] for a in delivery["attempts"]] == ["HTTP 500", "HTTP 503", None]
        assert [a["attempt"] for a in delivery["attempts"]] == [1, 2, 3]
        got = hook.snapshot()
        assert len(got) == 3
        assert len({r.body for r in got}) == 1  # the same bytes every time
        assert {r.headers["idempotency-key"] for r in got} == {delivery["id"]}
        for request in got:
            check_signed(request, endpoint["secret"])
        assert hook.rejected == 0


async def test_a_dead_receiver_fails_in_the_log_and_slows_nothing(worker_world: World) -> None:
    w = worker_world
    dead = await register(w, closed_port_url(), ["declaration.screened", "fee.charged"])
    with receiver() as alive:
        live = await register(w, alive.url, ["declaration.screened"])
        created = await w.file(cargo=MACHINERY)
        await w.submit(created["id"])
        await wait_until(w, created["id"], screened)
        gate_in = await w.gate_event("gate_in")
        assert gate_in.status_code == 201, gate_in.text  # the transition is not held up
        await wait_received(alive, {"declaration.screened"})
        await wait_log(w, live["id"], settled("declaration.screened", "delivered"))
    log = await wait_log(
        w,
        dead["id"],
        lambda log: len(log) == 2 and all(d["status"] == "failed" for d in log),
    )
    for delivery in log:
        assert len(delivery["attempts"]) == 3  # WEBHOOK_MAX_ATTEMPTS, then it stops
        assert all(a["status_code"] is None and a["error"] for a in delivery["attempts"])
        assert "Connect" in delivery["attempts"][0]["error"]


async def test_a_receiver_with_another_secret_refuses_and_the_log_says_401(world: World) -> None:
    with receiver() as hook:
        endpoint = await register(world, hook.url, ["fee.charged"])
        hook.secret = "whsec_not-the-one-we-were-given"
        await truck_in_yard(world)
        (delivery,) = await deliveries(world, endpoint["id"])
        with pytest.raises(WebhookDeliveryFailed):
            await deliver(world.platform, delivery["id"])
        assert hook.rejected == 1
        (logged,) = await deliveries(world, endpoint["id"])
        assert logged["status"] == "pending"  # to be retried with backoff
        assert logged["attempts"][0]["status_code"] == 401
        assert logged["attempts"][0]["error"] == "HTTP 401"
