"""Gate fees: charged once at gate-in, paid by an authenticated idempotent callback, totalled."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from border_gate.fees.models import FeeCharge
from border_gate.fees.service import daily_fee_totals
from border_gate.settings import Settings
from tests.conftest import make_settings
from tests.integration.fees_support import (
    FEE_ENV,
    callback_body,
    fees_of,
    post_callback,
    screen_green,
    truck_in_yard,
)
from tests.support import MACHINERY, World


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, **FEE_ENV)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()  # type: ignore[no-any-return]


async def test_gate_in_charges_the_tariff_once(world: World) -> None:
    created = await world.file()
    assert await fees_of(world, created["id"]) == []  # nothing before gate-in
    declaration_id = await truck_in_yard(world, plate="29H-111.11")
    charges = await fees_of(world, declaration_id)
    assert len(charges) == 1
    charge = charges[0]
    assert charge["amount_vnd"] == 500_000  # 8 t of machinery: the 5–15 t band
    assert charge["currency"] == "VND" and charge["status"] == "due"
    assert charge["vehicle_type"] == "truck" and charge["gross_weight_kg"] == 8000
    assert "5 t" in charge["tariff_rule"]
    assert charge["charged_at"].endswith("+07:00")  # the gate's zone

    # the gate-in retried (camera and operator both record it): refused, nothing charged again
    again = await world.gate_event("gate_in", "29H-111.11")
    assert again.status_code in (404, 409), again.text
    assert len(await fees_of(world, declaration_id)) == 1
    async with world.platform.unit_of_work() as uow:
        from sqlalchemy import func, select

        count = await uow.session.scalar(
            select(func.count())
            .select_from(FeeCharge)
            .where(FeeCharge.declaration_id == declaration_id)
        )
    assert count == 1

    # whoever may see the declaration sees the fee; another firm and another gate do not
    assert len(await fees_of(world, declaration_id, "board")) == 1
    assert len(await fees_of(world, declaration_id, "yard")) == 1
    for outsider in ("firm_b", "customs_tt"):
        response = await world.client.get(
            f"/api/v1/declarations/{declaration_id}/fees", headers=world.as_(outsider)
        )
        problem(response, 404)
    problem(await world.client.get(f"/api/v1/declarations/{declaration_id}/fees"), 401)
    problem(
        await world.client.get("/api/v1/declarations/not-an-id/fees", headers=world.as_("firm_a")),
        404,
    )


async def test_a_tractor_trailer_pays_its_own_rate(world: World) -> None:
    declaration_id = await truck_in_yard(world, plate="29H-222.22", trailer="29R-001.23")
    (charge,) = await fees_of(world, declaration_id)
    assert charge["vehicle_type"] == "tractor_trailer" and charge["amount_vnd"] == 1_000_000


async def test_payment_callback_good_duplicate_and_conflicts(world: World) -> None:
    declaration_id = await truck_in_yard(world)
    (charge,) = await fees_of(world, declaration_id)
    body = callback_body(charge, reference="VNPAY-0001")

    first = await post_callback(world, body)
    assert first.status_code == 200, first.text
    assert first.headers["idempotent-replayed"] == "false"
    paid = first.json()
    assert paid["status"] == "paid" and paid["reference"] == "VNPAY-0001"
    assert paid["amount_vnd"] == 500_000 and paid["declaration_id"] == declaration_id

    # the same callback again (the provider retries): same answer, nothing changes
    second = await post_callback(world, body)
    assert second.status_code == 200 and second.json() == paid
    assert second.headers["idempotent-replayed"] == "true"
    (after,) = await fees_of(world, declaration_id)
    assert after["status"] == "paid" and after["payment_reference"] == "VNPAY-0001"
    assert after["paid_at"] is not None

    # the same reference with another amount
    problem(
        await post_callback(world, callback_body(charge, reference="VNPAY-0001", amount_vnd=1)),
        409,
    )
    # another reference for the charge already paid
    body = problem(await post_callback(world, callback_body(charge, reference="VNPAY-0002")), 409)
    assert "VNPAY-0001" in body["detail"]
    # an unknown charge
    unknown = callback_body(charge, charge_id="0193f1e2-0000-7000-8000-00000000dead")
    assert problem(await post_callback(world, unknown), 404)["field"] == "charge_id"


async def test_wrong_amount_for_a_due_charge_is_refused(world: World) -> None:
    declaration_id = await truck_in_yard(world)
    (charge,) = await fees_of(world, declaration_id)
    body = problem(await post_callback(world, callback_body(charge, amount_vnd=499_999)), 422)
    assert body["field"] == "amount_vnd"
    (after,) = await fees_of(world, declaration_id)
    assert after["status"] == "due"


async def test_callbacks_must_be_signed_fresh_and_well_formed(world: World) -> None:
    declaration_id = await truck_in_yard(world)
    (charge,) = await fees_of(world, declaration_id)
    body = callback_body(charge)
    problem(await post_callback(world, body, secret="not-the-shared-secret"), 401)
    problem(await post_callback(world, body, header="t=1,v1=abc"), 401)
    problem(await post_callback(world, body, header="nonsense"), 401)
    response = await world.client.post(
        "/api/v1/payments/callback", content=body, headers={"Content-Type": "application/json"}
    )
    assert problem(response, 401)["field"] == "X-Payment-Signature"
    # a captured callback replayed after the tolerance (300 s)
    stale = problem(await post_callback(world, body, timestamp=int(time.time()) - 3600), 401)
    assert "timestamp" in stale["detail"]
    (after,) = await fees_of(world, declaration_id)
    assert after["status"] == "due"  # none of these paid anything

    # signed, but the body is not what the contract says: 4xx naming the field, never 500
    for hostile in (
        b"",
        b"not json",
        b"[]",
        b'{"reference": "x"}',
        callback_body(charge, amount_vnd=-5),
        callback_body(charge, amount_vnd="500000"),
        callback_body(charge, currency="USD"),
        callback_body(charge, reference="has spaces and \u0000"),
        callback_body(charge, paid_at="yesterday"),
        callback_body(charge, charge_id="../../etc/passwd"),
        b'{"reference": "' + b"A" * 5000 + b'"}',
    ):
        response = await post_callback(world, hostile)
        assert 400 <= response.status_code < 500, (hostile[:80], response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_concurrent_copies_of_one_callback_pay_once(world: World) -> None:
    declaration_id = await truck_in_yard(world)
    (charge,) = await fees_of(world, declaration_id)
    body = callback_body(charge)
    responses = await asyncio.gather(*(post_callback(world, body) for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1
    assert sum(r.headers["idempotent-replayed"] == "false" for r in responses) == 1


async def test_daily_totals_add_up_to_the_tariff(world: World) -> None:
    plates = ["29H-301.01", "29H-302.02", "29H-303.03"]
    ids = [await truck_in_yard(world, plate=p) for p in plates]
    ids.append(await truck_in_yard(world, plate="29H-304.04", trailer="29R-004.04"))
    (first,) = await fees_of(world, ids[0])
    assert (await post_callback(world, callback_body(first))).status_code == 200

    gate = world.platform.gates.get("HUU_NGHI")
    today = datetime.now(UTC).astimezone(gate.zone).date()
    async with world.platform.unit_of_work() as uow:
        days = await daily_fee_totals(uow.session, gate, today - timedelta(days=1), today)
    assert [d.day for d in days] == [today - timedelta(days=1), today]
    assert days[0].vehicles == 0 and days[0].charged_vnd == 0
    assert days[1].vehicles == 4
    assert days[1].charged_vnd == 3 * 500_000 + 1_000_000
    assert days[1].paid_vnd == 500_000 and days[1].outstanding_vnd == 2_000_000

    response = await world.client.get(
        "/api/v1/reports/fees",
        params={"gate": "HUU_NGHI", "from": str(today), "to": str(today)},
        headers=world.as_("board"),
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["charged_vnd"] == 2_500_000 and report["vehicles"] == 4
    assert report["from"] == str(today) and report["days"][0]["paid_vnd"] == 500_000

    other_gate = await world.client.get(
        "/api/v1/reports/fees",
        params={"gate": "TAN_THANH", "from": str(today), "to": str(today)},
        headers=world.as_("admin"),
    )
    assert other_gate.status_code == 200 and other_gate.json()["vehicles"] == 0


@pytest.mark.parametrize(
    ("params", "user", "status", "field"),
    [
        ({"gate": "HUU_NGHI", "from": "2026-11-01", "to": "2026-11-02"}, "firm_a", 403, None),
        ({"gate": "HUU_NGHI", "from": "2026-11-01", "to": "2026-11-02"}, "yard", 403, None),
        ({"gate": "NOWHERE", "from": "2026-11-01", "to": "2026-11-02"}, "board", 422, "gate"),
        ({"gate": "HUU_NGHI", "from": "2026-11-05", "to": "2026-11-01"}, "board", 422, "to"),
        ({"gate": "HUU_NGHI", "from": "2020-01-01", "to": "2026-11-01"}, "board", 422, "to"),
        ({"gate": "HUU_NGHI", "from": "yesterday", "to": "2026-11-01"}, "board", 400, None),
        ({"gate": "HUU_NGHI", "from": "2026-11-01"}, "board", 400, None),
    ],
)
async def test_fee_report_refuses_clearly(
    world: World, params: dict[str, str], user: str, status: int, field: str | None
) -> None:
    response = await world.client.get(
        "/api/v1/reports/fees", params=params, headers=world.as_(user)
    )
    assert 400 <= response.status_code < 500, response.text
    body = problem(response, response.status_code)
    if status != 400:
        assert response.status_code == status, response.text
    if field:
        assert body["field"] == field


async def test_without_a_configured_secret_no_callback_is_accepted(world: World) -> None:
    import msgspec

    declaration_id = await truck_in_yard(world)
    (charge,) = await fees_of(world, declaration_id)
    world.platform.settings = msgspec.structs.replace(
        world.platform.settings, payment_callback_secret=None
    )
    body = problem(await post_callback(world, callback_body(charge)), 401)
    assert "PAYMENT_CALLBACK_SECRET" in body["detail"]
    (after,) = await fees_of(world, declaration_id)
    assert after["status"] == "due"


async def test_racing_gate_ins_of_one_truck_charge_once(world: World) -> None:
    """The camera and the operator record the same arrival at once: one gate-in, one charge."""
    created = await world.file(
        cargo=MACHINERY, vehicle={"plate": "29H-555.55", "trailer_plate": None, "country": "VN"}
    )
    await world.submit(created["id"])
    await screen_green(world, created["id"])
    responses = await asyncio.gather(*(world.gate_event("gate_in", "29H-555.55") for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1, [r.text for r in responses]
    assert all(s in (201, 404, 409) for s in statuses), statuses
    assert len(await fees_of(world, created["id"])) == 1


async def test_the_firm_sees_its_fee_on_the_declaration_page(world: World) -> None:
    import httpx

    from tests.support import PASSWORD

    created = await world.file()
    browser = httpx.AsyncClient(
        transport=world.client._transport, base_url="http://testserver", timeout=60
    )
    async with browser:
        login = await browser.get("/login")
        token = login.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        response = await browser.post(
            "/login", data={"_csrf_token": token, "username": "firm_a", "password": PASSWORD}
        )
        assert response.status_code == 303, response.text
        page = await browser.get(f"/declarations/{created['id']}")
        assert 'id="no-fee"' in page.text and "Thu khi xe vào bãi" in page.text

        declaration_id = await truck_in_yard(world, plate="29H-777.77")
        (charge,) = await fees_of(world, declaration_id)
        page = await browser.get(f"/declarations/{declaration_id}")
        assert 'id="fee-due"' in page.text and "500.000 ₫" in page.text and "Chưa nộp" in page.text
        assert (
            await post_callback(world, callback_body(charge, reference="ZALO-42"))
        ).status_code == 200
        page = await browser.get(f"/declarations/{declaration_id}")
        assert 'id="fee-paid"' in page.text and "ZALO-42" in page.text and "Đã nộp" in page.text
