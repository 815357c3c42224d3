"""The electronic queue through the API, on PostgreSQL and SQLite: booking, capacity, races,
rebook/cancel, commodity rules, the waiting area, quota cuts and rises, the trail, roles,
hostile input."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from border_gate.audit import check_declaration
from border_gate.db.models import FarSideQuotaRow
from border_gate.queue.service import expected_times, tick_forever
from border_gate.settings import Settings
from tests.conftest import make_settings
from tests.support import GATE, MACHINERY, World, events_of

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

# Open all day so the tests do not depend on the hour they run at; one booking per hour.
QUEUE_TOML = """
[policy]
booking_share = 1.0
call_window = 2
record_threshold_minutes = 15
perishable_hs_prefixes = ["08"]

[policy.class_shares]
perishable = 3
aeo = 2
other = 1

[default_capacity]
open_hours = [0, 24]
yard_in = 100
far_side = 1

[[commodity_rule]]
code = "DURIAN_HUU_NGHI"
hs_prefixes = ["081060"]
gates = ["HUU_NGHI"]
directions = ["export"]
name_vi = "Sầu riêng tươi chỉ được xuất qua cửa khẩu Hữu Nghị"
name_en = "Fresh durian may only be exported through Huu Nghi"
"""


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    path = tmp_path / "queue.toml"
    path.write_text(QUEUE_TOML)
    return make_settings(tmp_path, database_url, QUEUE_FILE=str(path))


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(ZONE).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


def today() -> str:
    return datetime.now(ZONE).date().isoformat()


async def submitted(world: World, plate: str, username: str = "firm_a", **facts: Any) -> str:
    facts.setdefault("cargo", MACHINERY)
    created = await world.file(username, vehicle={"plate": plate, "country": "VN"}, **facts)
    await world.submit(created["id"], username)
    return created["id"]  # type: ignore[no-any-return]


async def book(world: World, declaration_id: str, slot: datetime, username: str = "firm_a") -> Any:
    return await world.client.post(
        f"/api/v1/declarations/{declaration_id}/booking",
        json={"slot_start": slot.isoformat()},
        headers=world.as_(username),
    )


async def set_quota(world: World, quota: int, reason: str = "Phía Trung Quốc điều chỉnh") -> Any:
    response = await world.client.put(
        f"/api/v1/gates/{GATE}/quota",
        json={"direction": "export", "day": today(), "quota": quota, "reason": reason},
        headers=world.as_("board"),
    )
    assert response.status_code == 200, response.text
    return response.json()


async def check_in(world: World, plate: str) -> Any:
    return await world.client.post(
        f"/api/v1/gates/{GATE}/waiting-area", json={"plate": plate}, headers=world.as_("yard")
    )


async def board(world: World) -> dict[str, Any]:
    response = await world.client.get(f"/api/v1/gates/{GATE}/queue", headers=world.as_("yard"))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def is_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()  # type: ignore[no-any-return]


async def test_booking_is_on_the_trail_and_shown_to_the_firm(world: World) -> None:
    declaration_id = await submitted(world, "29H-111.11")
    slot = tomorrow_at(10)
    response = await book(world, declaration_id, slot)
    assert response.status_code == 200, response.text
    booking = response.json()
    assert datetime.fromisoformat(booking["slot_start"]) == slot
    assert booking["slot_start"].endswith("+07:00")  # shown in the gate's zone
    assert datetime.fromisoformat(booking["slot_end"]) == slot + timedelta(hours=1)
    assert datetime.fromisoformat(booking["expected_call_at"]) == slot
    assert response.headers["ETag"] == f'"{booking["version"]}"'
    shown = await world.client.get(
        f"/api/v1/declarations/{declaration_id}/booking", headers=world.as_("firm_a")
    )
    assert shown.json()["slot_start"] == booking["slot_start"]
    events = await events_of(world, declaration_id)  # asserts the chain verifies
    booked = [e for e in events if e["action"] == "book_slot"]
    assert len(booked) == 1
    assert datetime.fromisoformat(booked[0]["data"]["slot_start"]) == slot
    assert datetime.fromisoformat(booked[0]["data"]["slot_end"]) == slot + timedelta(hours=1)


async def test_eight_trucks_race_for_one_slot_exactly_one_wins(world: World) -> None:
    contenders = [
        (await submitted(world, f"29H-{i}{i}{i}.{i}{i}", user), user)
        for i, user in zip(range(1, 9), ["firm_a", "firm_b"] * 4, strict=True)
    ]
    slot = tomorrow_at(14)
    responses = await asyncio.gather(*(book(world, d, slot, u) for d, u in contenders))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 7}, [
        r.text for r in responses
    ]
    booked = [
        d
        for d, _ in contenders
        if [e for e in await events_of(world, d) if e["action"] == "book_slot"]
    ]
    assert len(booked) == 1


async def test_two_firms_race_for_the_last_slot_exactly_one_wins(world: World) -> None:
    first = await submitted(world, "29H-111.11", "firm_a")
    second = await submitted(world, "29H-222.22", "firm_b")
    slot = tomorrow_at(11)
    responses = await asyncio.gather(
        book(world, first, slot, "firm_a"), book(world, second, slot, "firm_b")
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 1}, [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    problem = is_problem(loser, 409)
    assert problem["field"] == "slot_start"
    assert "full" in problem["detail_en"]
    slots = await world.client.get(
        f"/api/v1/gates/{GATE}/slots",
        params={"direction": "export", "day": slot.date().isoformat()},
        headers=world.as_("firm_a"),
    )
    eleven = next(s for s in slots.json() if datetime.fromisoformat(s["slot_start"]) == slot)
    assert (eleven["capacity"], eleven["booked"], eleven["available"]) == (1, 1, 0)
    # the loser's trail has no booking
    loser_id = first if responses[0].status_code == 409 else second
    loser_user = "firm_a" if loser_id == first else "firm_b"
    assert not [e for e in await events_of(world, loser_id) if e["action"] == "book_slot"]
    # cancelling frees the slot at once: the loser books it now
    winner_id = second if loser_id == first else first
    winner_user = "firm_b" if loser_user == "firm_a" else "firm_a"
    cancelled = await world.client.delete(
        f"/api/v1/declarations/{winner_id}/booking", headers=world.as_(winner_user)
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["slot_start"] is None
    retry = await book(world, loser_id, slot, loser_user)
    assert retry.status_code == 200, retry.text
    actions = [e["action"] for e in await events_of(world, winner_id)]
    assert actions[-2:] == ["book_slot", "cancel_booking"]


async def test_rebooking_frees_the_old_slot(world: World) -> None:
    first = await submitted(world, "29H-111.11")
    other = await submitted(world, "29H-222.22", "firm_b")
    assert (await book(world, first, tomorrow_at(8))).status_code == 200
    moved = await book(world, first, tomorrow_at(9))
    assert moved.status_code == 200, moved.text
    assert (await book(world, other, tomorrow_at(8), "firm_b")).status_code == 200
    full = await book(world, other, tomorrow_at(9), "firm_b")
    is_problem(full, 409)
    rebooked = [e for e in await events_of(world, first) if e["action"] == "book_slot"]
    assert datetime.fromisoformat(rebooked[-1]["data"]["previous_slot_start"]) == tomorrow_at(8)


async def test_durian_at_the_wrong_gate_is_refused_naming_the_rule(world: World) -> None:
    created = await world.file(gate="TAN_THANH")  # the default body carries durian, HS 081060
    await world.submit(created["id"])
    response = await book(world, created["id"], tomorrow_at(10))
    problem = is_problem(response, 422)
    assert problem["rule"] == "DURIAN_HUU_NGHI"
    assert "DURIAN_HUU_NGHI" in problem["detail"]
    assert problem["field"] == "gate"
    at_huu_nghi = await world.file()
    await world.submit(at_huu_nghi["id"])
    assert (await book(world, at_huu_nghi["id"], tomorrow_at(10))).status_code == 200


async def test_quota_rise_calls_trucks_and_a_gate_in_calls_the_next(world: World) -> None:
    await set_quota(world, 0, "Phía bên kia tạm dừng thông quan / far side suspended")
    plates = ["29H-111.11", "29H-222.22", "29H-333.33"]
    ids = [await submitted(world, plate) for plate in plates]
    for plate in plates:
        response = await check_in(world, plate)
        assert response.status_code == 201, response.text
        assert response.json()["called_at"] is None
    queue = await board(world)
    assert [e["position"] for e in queue["entries"]] == [1, 2, 3]
    assert queue["callable_now"] == 0
    for declaration_id in ids:  # every waiting truck was told its expected time
        trail = await events_of(world, declaration_id)
        positions = [e for e in trail if e["action"] == "queue_position"]
        assert positions, trail
        assert set(positions[-1]["data"]) == {
            "position",
            "expected_call_at",
            "expected_crossing_at",
            "previous_expected_call_at",
        }
    await set_quota(world, 2400, "Phía bên kia mở lại / far side reopened")
    queue = await board(world)
    called = [e for e in queue["entries"] if e["position"] == 0]
    assert {e["declaration_id"] for e in called} == set(ids[:2])  # the call window is 2
    for declaration_id in ids[:2]:
        actions = [e["action"] for e in await events_of(world, declaration_id)]
        assert actions[-1] == "call_forward"
    assert "call_forward" not in [e["action"] for e in await events_of(world, ids[2])]
    gate_in = await world.gate_event("gate_in", plates[0])
    assert gate_in.status_code == 201, gate_in.text
    actions = [e["action"] for e in await events_of(world, ids[2])]
    assert actions[-1] == "call_forward"
    waiting = {e.declaration_id: e for e in await expected_times(world.platform, GATE)}
    assert set(waiting) == {ids[1], ids[2]}  # for reports: called, not yet in the yard
    assert {e.position for e in waiting.values()} == {0}
    assert waiting[ids[2]].expected_crossing_at > waiting[ids[2]].expected_call_at
    for declaration_id in ids:  # the trail replays to exactly the stored state
        assert await check_declaration(world.platform, declaration_id) == (None, True)


async def test_quota_cut_moves_expected_times_and_stops_calls(world: World) -> None:
    await set_quota(world, 2400)
    plates = ["29H-111.11", "29H-222.22", "29H-333.33"]
    ids = [await submitted(world, plate) for plate in plates]
    for plate in plates:
        assert (await check_in(world, plate)).status_code == 201
    waiting = ids[2]
    before = (
        await world.client.get(
            f"/api/v1/declarations/{waiting}/booking", headers=world.as_("firm_a")
        )
    ).json()
    assert before["position"] == 1
    await set_quota(world, 0, "Phía bên kia cắt giảm / far side cut clearance")
    after = (
        await world.client.get(
            f"/api/v1/declarations/{waiting}/booking", headers=world.as_("firm_a")
        )
    ).json()
    assert datetime.fromisoformat(after["expected_call_at"]) > datetime.fromisoformat(
        before["expected_call_at"]
    )
    assert datetime.fromisoformat(after["expected_crossing_at"]) > datetime.fromisoformat(
        after["expected_call_at"]
    )
    moves = [e for e in await events_of(world, waiting) if e["action"] == "queue_position"]
    assert len(moves) >= 2
    assert moves[-1]["data"]["previous_expected_call_at"] == moves[-2]["data"]["expected_call_at"]
    assert "call_forward" not in [e["action"] for e in await events_of(world, waiting)]
    # a gate-in of a called truck frees the window, but the quota is used up: nobody is called
    assert (await world.gate_event("gate_in", plates[0])).status_code == 201
    assert "call_forward" not in [e["action"] for e in await events_of(world, waiting)]
    quota = (
        await world.client.get(
            f"/api/v1/gates/{GATE}/quota",
            params={"direction": "export", "day": today()},
            headers=world.as_("firm_a"),
        )
    ).json()
    assert quota["quota"] == 0
    assert quota["set_by"] == "user:board"
    assert quota["reason"].startswith("Phía bên kia cắt giảm")


async def test_booked_and_perishable_trucks_are_called_first(world: World) -> None:
    other = await submitted(world, "29H-111.11")
    durian = await submitted(world, "29H-222.22", cargo=[{**MACHINERY[0], "hs_code": "081060"}])
    booked = await submitted(world, "29H-333.33")
    now_slot = datetime.now(ZONE).replace(minute=0, second=0, microsecond=0)
    assert (await book(world, booked, now_slot)).status_code == 200
    await set_quota(world, 0)  # a booking made before a cut stays; nobody is called now
    for plate in ("29H-111.11", "29H-222.22", "29H-333.33"):
        assert (await check_in(world, plate)).status_code == 201
    queue = await board(world)
    assert [(e["declaration_id"], e["lane"]) for e in queue["entries"]] == [
        (booked, "booked"),
        (durian, "perishable"),
        (other, "other"),
    ]
    assert queue["entries"][0]["lane_label"]["vi"] == "Đã đặt lịch"


async def test_roles_are_checked(world: World) -> None:
    declaration_id = await submitted(world, "29H-111.11")
    # the yard operator may not book for a firm; another firm does not see it
    is_problem(await book(world, declaration_id, tomorrow_at(10), "yard"), 403)
    is_problem(await book(world, declaration_id, tomorrow_at(10), "firm_b"), 404)
    # a firm may not change the quota, check trucks in, or read the gate's queue
    response = await world.client.put(
        f"/api/v1/gates/{GATE}/quota",
        json={"direction": "export", "day": today(), "quota": 5, "reason": "x"},
        headers=world.as_("firm_a"),
    )
    is_problem(response, 403)
    response = await world.client.post(
        f"/api/v1/gates/{GATE}/waiting-area",
        json={"plate": "29H-111.11"},
        headers=world.as_("firm_a"),
    )
    is_problem(response, 403)
    is_problem(
        await world.client.get(f"/api/v1/gates/{GATE}/queue", headers=world.as_("firm_a")), 403
    )
    # an officer of another gate may not read this gate's queue
    is_problem(
        await world.client.get(f"/api/v1/gates/{GATE}/queue", headers=world.as_("customs_tt")),
        403,
    )
    is_problem(
        await world.client.post(
            f"/api/v1/gates/{GATE}/queue/refresh", headers=world.as_("customs")
        ),
        403,
    )


async def test_hostile_input_gets_problems_not_500(world: World) -> None:
    declaration_id = await submitted(world, "29H-111.11")
    path = f"/api/v1/declarations/{declaration_id}/booking"
    headers = world.as_("firm_a")
    off_hour = tomorrow_at(10) + timedelta(minutes=30)
    assert is_problem(await book(world, declaration_id, off_hour), 422)["field"] == "slot_start"
    past = tomorrow_at(10) - timedelta(days=3)
    assert is_problem(await book(world, declaration_id, past), 422)["field"] == "slot_start"
    far = tomorrow_at(10) + timedelta(days=60)
    assert is_problem(await book(world, declaration_id, far), 422)["field"] == "slot_start"
    for body in (
        {"slot_start": "not a time"},
        {"slot_start": "2026-11-24T10:00:00"},  # no offset
        {},
        {"slot_start": tomorrow_at(10).isoformat(), "extra": 1},
        [],
    ):
        response = await world.client.post(path, json=body, headers=headers)
        assert 400 <= response.status_code < 500, (body, response.text)
    response = await world.client.post(path, content=b"{not json", headers=headers)
    assert 400 <= response.status_code < 500
    # a stale If-Match is 412; an unknown declaration 404; cancelling nothing is 409
    stale = await world.client.post(
        path,
        json={"slot_start": tomorrow_at(10).isoformat()},
        headers={**headers, "If-Match": '"1"'},
    )
    is_problem(stale, 412)
    is_problem(
        await world.client.get(
            "/api/v1/declarations/00000000-0000-0000-0000-000000000000/booking", headers=headers
        ),
        404,
    )
    is_problem(await world.client.get("/api/v1/declarations/%00/booking", headers=headers), 404)
    is_problem(await world.client.delete(path, headers=headers), 409)
    # quota: negative, no reason, unknown gate, past day, bad direction
    board_headers = world.as_("board")
    for body in (
        {"direction": "export", "day": today(), "quota": -1, "reason": "x"},
        {"direction": "export", "day": today(), "quota": 5, "reason": ""},
        {"direction": "sideways", "day": today(), "quota": 5, "reason": "x"},
        {"direction": "export", "day": "yesterday", "quota": 5, "reason": "x"},
        {"direction": "export", "day": "2020-01-01", "quota": 5, "reason": "x"},
    ):
        response = await world.client.put(
            f"/api/v1/gates/{GATE}/quota", json=body, headers=board_headers
        )
        assert response.status_code in (400, 422), (body, response.text)
    response = await world.client.put(
        "/api/v1/gates/NOWHERE/quota",
        json={"direction": "export", "day": today(), "quota": 5, "reason": "x"},
        headers=board_headers,
    )
    is_problem(response, 404)
    is_problem(await world.client.get("/api/v1/gates/NOWHERE/slots", headers=board_headers), 404)
    for day in ("9999-12-31", "0001-01-01"):  # no overflow: a problem naming the day
        for what in ("slots", "quota"):
            response = await world.client.get(
                f"/api/v1/gates/{GATE}/{what}", params={"day": day}, headers=board_headers
            )
            assert is_problem(response, 422)["field"] == "day"
    for moment in ("0001-01-01T00:00:00+07:00", "9999-12-31T23:00:00-07:00"):
        response = await world.client.post(path, json={"slot_start": moment}, headers=headers)
        assert is_problem(response, 422)["field"] == "slot_start"
    # waiting area: unknown plate, twice the same truck, garbage plate
    is_problem(await check_in(world, "99Z-999.99"), 404)
    assert (await check_in(world, "29H-111.11")).status_code == 201
    is_problem(await check_in(world, "29H-111.11"), 404)
    assert (await check_in(world, "!!")).status_code in (400, 422)
    # a draft cannot be booked
    draft = await world.file(vehicle={"plate": "29H-555.55", "country": "VN"}, cargo=MACHINERY)
    is_problem(await book(world, draft["id"], tomorrow_at(12)), 409)


async def test_the_tick_calls_trucks_once_calls_are_released(world: World) -> None:
    """A quota raised by another process (no recompute here) is acted on by the next tick."""
    await set_quota(world, 0)
    declaration_id = await submitted(world, "29H-111.11")
    assert (await check_in(world, "29H-111.11")).status_code == 201
    async with world.platform.unit_of_work() as uow:
        await uow.session.execute(
            insert(FarSideQuotaRow).values(
                gate=GATE,
                direction="export",
                day=datetime.now(ZONE).date(),
                quota=2400,
                reason="Phía bên kia mở lại / reopened",
                set_by="user:board",
                set_at=datetime.now(ZONE),
            )
        )
        await uow.commit()
    assert "call_forward" not in [e["action"] for e in await events_of(world, declaration_id)]
    task = asyncio.create_task(tick_forever(world.platform, interval=0.01))
    try:
        for _ in range(500):
            if "call_forward" in [e["action"] for e in await events_of(world, declaration_id)]:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the tick never called the truck")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_boards_report_shows_the_queue_now_per_lane(world: World) -> None:
    """Issue 7: expected times appear in the reports (a live section, for periods that
    include now), per lane and without naming a truck."""
    await set_quota(world, 0, "Phía bên kia tạm dừng thông quan / far side suspended")
    plates = ["29H-111.11", "29H-222.22", "29H-333.33"]
    for plate in plates:
        await submitted(world, plate)
        assert (await check_in(world, plate)).status_code == 201
    today_only = {"gate": GATE, "from": today(), "to": today(), "granularity": "hour"}
    response = await world.client.get(
        "/api/v1/reports/throughput", params=today_only, headers=world.as_("board")
    )
    assert response.status_code == 200, response.text
    sections = {s["key"]: s for s in response.json()["sections"]}
    queue_now = sections["queue_now"]
    assert queue_now["columns"][:3] == ["lane", "waiting", "called"]
    (row,) = queue_now["rows"]  # machinery, no AEO: all three in the "other" lane
    assert row[0].endswith("Other goods") and row[1:3] == [3, 0]
    assert row[3] is not None and row[3] >= 0 and row[4] >= row[3]
    assert not any(plate in str(queue_now) for plate in plates)
    yesterday = (datetime.now(ZONE).date() - timedelta(days=1)).isoformat()
    past = await world.client.get(
        "/api/v1/reports/throughput",
        params={**today_only, "from": yesterday, "to": yesterday},
        headers=world.as_("board"),
    )
    assert "queue_now" not in {s["key"] for s in past.json()["sections"]}
