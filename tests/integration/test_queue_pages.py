"""The queue's pages without a browser: the firm books and cancels on its declaration page,
the yard checks trucks in and sees the board, the board changes the far side's quota."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from border_gate.settings import Settings
from tests.conftest import make_settings
from tests.integration.test_pages import Browser
from tests.integration.test_queue import QUEUE_TOML, events_of, submitted, today
from tests.support import GATE, World


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    path = tmp_path / "queue.toml"
    path.write_text(QUEUE_TOML)
    return make_settings(tmp_path, database_url, QUEUE_FILE=str(path))


@pytest.fixture
async def browser(world: World) -> AsyncIterator[Any]:
    opened: list[httpx.AsyncClient] = []

    async def open_as(username: str) -> Browser:
        client = httpx.AsyncClient(
            transport=world.client._transport, base_url="http://testserver", timeout=60
        )
        opened.append(client)
        person = Browser(client)
        await person.login(username)
        return person

    yield open_as
    for client in opened:
        await client.aclose()


async def test_firm_books_rebooks_and_cancels_on_its_page(world: World, browser: Any) -> None:
    declaration_id = await submitted(world, "29H-111.11")
    firm = await browser("firm_a")
    page = await firm.get(f"/declarations/{declaration_id}")
    assert page.status_code == 200
    assert "Lịch đến và hàng chờ" in page.text and "Chưa đặt lịch" in page.text
    slot = page.text.split('name="slot_start"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    version = (await world.get(declaration_id))["version"]
    done = await firm.post(
        f"/declarations/{declaration_id}/booking",
        {"action": "book", "slot_start": slot, "version": version},
    )
    assert done.status_code == 303, done.text
    page = await firm.get(f"/declarations/{declaration_id}")
    assert "Đã cập nhật lịch đến" in page.text
    assert "Đặt lịch đến" in page.text  # the timeline names the event in Vietnamese
    version = (await world.get(declaration_id))["version"]
    await firm.post(
        f"/declarations/{declaration_id}/booking", {"action": "cancel", "version": version}
    )
    actions = [e["action"] for e in await events_of(world, declaration_id)]
    assert actions[-2:] == ["book_slot", "cancel_booking"]
    # a garbage slot is a message on the page, not a 500
    bad = await firm.post(
        f"/declarations/{declaration_id}/booking", {"action": "book", "slot_start": "soon"}
    )
    assert bad.status_code == 303
    assert "Chọn một khung giờ" in (await firm.get(f"/declarations/{declaration_id}")).text


async def test_yard_checks_in_and_sees_the_board(world: World, browser: Any) -> None:
    declaration_id = await submitted(world, "29H-111.11")
    yard = await browser("yard")
    page = await yard.get("/waiting-area")
    assert page.status_code == 200 and "Khu chờ" in page.text
    done = await yard.post("/waiting-area", {"gate": GATE, "plate": "29H-111.11"})
    assert done.status_code == 303, done.text
    board = await yard.get(done.headers["location"])
    assert "29H-111.11" in board.text and "Đã ghi xe vào khu chờ" in board.text
    assert "arrive_waiting_area" in [e["action"] for e in await events_of(world, declaration_id)]
    unknown = await yard.post("/waiting-area", {"gate": GATE, "plate": "99Z-999.99"})
    assert unknown.status_code == 404 and "99Z-999.99" in unknown.text
    firm = await browser("firm_a")
    assert (await firm.get("/waiting-area")).status_code in (403, 303)


async def test_board_changes_the_quota_on_a_page(world: World, browser: Any) -> None:
    board = await browser("board")
    page = await board.get(f"/quota?gate={GATE}")
    assert page.status_code == 200 and "Hạn ngạch phía bên kia" in page.text
    done = await board.post(
        "/quota",
        {"gate": GATE, "day": today(), "direction": "export", "quota": "12", "reason": "Cắt giảm"},
    )
    assert done.status_code == 303, done.text
    page = await board.get(done.headers["location"])
    assert "Cắt giảm" in page.text and "<strong>12</strong>" in page.text
    refused = await board.post(
        "/quota", {"gate": GATE, "day": today(), "direction": "export", "quota": "x", "reason": ""}
    )
    assert refused.status_code == 422
    yard = await browser("yard")
    assert (await yard.get("/quota")).status_code in (403, 303)
