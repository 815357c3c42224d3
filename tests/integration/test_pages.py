"""The pages without a browser: sign-in, CSRF, form errors, version conflicts, error pages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from border_gate.declarations.service import change_declaration
from tests.support import MACHINERY, PASSWORD, World
from workflows.machine import Screen, ScreenedStage
from workflows.model import Channel, Stage
from workflows.roles import system_actor

_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """One person's cookie jar on the test app, with the CSRF token of the last page."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        if match := _TOKEN.search(response.text):
            self.token = match.group(1)
        return response

    async def post(self, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, data={"_csrf_token": self.token, **data}, **kwargs)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/login")
        response = await self.post("/login", {"username": username, "password": password})
        await self.get("/")  # pick up the page's token for the next form
        return response


@pytest.fixture
async def people(world: World) -> AsyncIterator[Any]:
    transport = world.client._transport
    opened: list[httpx.AsyncClient] = []

    async def browser() -> Browser:
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60)
        opened.append(client)
        return Browser(client)

    yield browser
    for client in opened:
        await client.aclose()


async def _in_customs_review(world: World, plate: str = "12C-345.67") -> dict[str, Any]:
    """A truck in the yard whose customs stage waits for an officer (screening by hand)."""
    created = await world.file(cargo=MACHINERY, vehicle={"plate": plate, "country": "VN"})
    await world.submit(created["id"])
    quarantine = (Stage.PLANT_QUARANTINE, Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE)
    for agency, stages, channel in [
        ("customs", {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.YELLOW),
        ("quarantine", {s: ScreenedStage(required=False) for s in quarantine}, None),
        ("border_guard", {Stage.BORDER_GUARD: ScreenedStage(required=True)}, None),
    ]:
        await change_declaration(
            world.platform,
            system_actor(f"{agency}-screening"),
            created["id"],
            Screen(agency=agency, round=1, stages=stages, channel=channel),
        )
    response = await world.gate_event("gate_in", plate=plate)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_login_logout_and_cookie_flags(world: World, people: Any) -> None:
    firm = await people()
    response = await firm.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    response = await firm.get("/declarations?status=draft")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/declarations%3Fstatus%3Ddraft"

    await firm.get("/login")
    wrong = await firm.post("/login", {"username": "firm_a", "password": "sai-mat-khau-123"})
    assert wrong.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in wrong.text

    ok = await firm.post("/login", {"username": "firm_a", "password": PASSWORD, "next": "/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/declarations"
    cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith("bg_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Secure" not in cookie
    listing = await firm.get("/declarations")
    assert listing.status_code == 200 and "Khai tờ mới" in listing.text
    assert listing.headers["content-type"].startswith("text/html")
    assert listing.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in listing.headers["content-security-policy"]

    logout = await firm.post("/logout", {})
    assert logout.status_code == 303 and logout.headers["location"] == "/login"
    assert (await firm.get("/declarations")).status_code == 303


async def test_login_refuses_an_offsite_next(world: World, people: Any) -> None:
    firm = await people()
    await firm.get("/login")
    response = await firm.post(
        "/login", {"username": "firm_a", "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/declarations"


async def test_page_session_and_bearer_token_stay_apart(world: World, people: Any) -> None:
    firm = await people()
    await firm.login("firm_a")
    # The page cookie is no key to the API …
    assert (await firm.client.get("/api/v1/me")).status_code == 401
    # … and a bearer token is no key to the pages.
    anonymous = await people()
    response = await anonymous.client.get("/declarations", headers=world.as_("firm_a"))
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    # The API keeps working with its token and needs no CSRF token.
    created = await world.file()
    assert created["status"] == "draft"
    # The pages are not part of the API's description.
    paths = (await world.client.get("/schema/openapi.json")).json()["paths"]
    assert all(path.startswith(("/api/", "/health", "/verify/")) for path in paths), sorted(paths)


async def test_forged_form_posts_are_refused(world: World, people: Any) -> None:
    firm = await people()
    await firm.login("firm_a")
    created = await world.file()
    forged = await firm.client.post(
        f"/declarations/{created['id']}/submit", data={"version": str(created["version"])}
    )
    assert forged.status_code == 403
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in forged.text
    assert "text/html" in forged.headers["content-type"]
    wrong_token = await firm.client.post(
        f"/declarations/{created['id']}/submit",
        data={"version": str(created["version"]), "_csrf_token": "0" * 128},
    )
    assert wrong_token.status_code == 403
    assert (await world.get(created["id"]))["status"] == "draft"  # nothing happened
    genuine = await firm.post(
        f"/declarations/{created['id']}/submit", {"version": str(created["version"])}
    )
    assert genuine.status_code == 303
    assert (await world.get(created["id"]))["status"] == "submitted"


def _next_year() -> str:
    return (datetime.now(UTC) + timedelta(days=365)).date().isoformat()


def _tomorrow() -> str:
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=1)
    return local.strftime("%Y-%m-%dT%H:%M")


def _declaration_form(**overrides: str) -> dict[str, str]:
    form = {
        "direction": "export",
        "gate": "HUU_NGHI",
        "planned_arrival": _tomorrow(),
        "consignor": "Công ty TNHH Nông sản Đồng Đăng",
        "consignee": "Pingxiang Fruit Trading Co.",
        "vehicle.plate": "12C-345.67",
        "vehicle.trailer_plate": "",
        "vehicle.country": "VN",
        "driver.name": "Nguyễn Văn Đức",
        "driver.document_number": "C1234567",
        "driver.nationality": "VN",
        "driver.document_expiry": "",
        "cargo[0].hs_code": "081060",
        "cargo[0].description": "Sầu riêng tươi",
        "cargo[0].gross_weight_kg": "18000",
        "cargo[0].packages": "900",
        "cargo[0].value": "54000",
        "cargo[0].currency": "USD",
        "cargo[0].origin_country": "VN",
        "op": "save",
        "form_key": "k1",
    }
    form.update(overrides)
    return form


def _field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]+)</p>', html)
    assert match, f"no error shown for {field_id}"
    return match.group(1)


async def test_declaration_form_shows_every_field_error(world: World, people: Any) -> None:
    firm = await people()
    await firm.login("firm_a")
    await firm.get("/declarations/new")
    response = await firm.post(
        "/declarations/new",
        _declaration_form(
            **{
                "vehicle.plate": "ABC",
                "driver.name": "",
                "driver.document_number": "x!",
                "cargo[0].gross_weight_kg": "-5",
                "cargo[0].currency": "usd1",
            }
        ),
    )
    assert response.status_code == 422
    html = response.text
    assert "Tờ khai chưa hợp lệ" in html
    assert "ít nhất 4" in _field_error(html, "f-vehicle-plate")
    assert _field_error(html, "f-driver-name") == "Vui lòng nhập ô này"
    assert "5–20 chữ cái" in _field_error(html, "f-driver-document_number")
    assert "&gt; 0" in _field_error(html, "f-cargo-0-gross_weight_kg")
    assert "3 chữ cái" in _field_error(html, "f-cargo-0-currency")
    assert 'value="Sầu riêng tươi"' in html  # what was typed stays

    # The structs' and the service's own checks land on their fields too.
    await firm.get("/declarations/new")
    response = await firm.post(
        "/declarations/new",
        _declaration_form(
            **{"vehicle.plate": "ABCD-1", "cargo[0].hs_code": "7700", "cargo[0].currency": "XYZ"}
        ),
    )
    assert response.status_code == 422
    assert "Biển số Việt Nam không hợp lệ" in _field_error(response.text, "f-vehicle-plate")
    assert "chương 77" in _field_error(response.text, "f-cargo-0-hs_code")
    await firm.get("/declarations/new")
    response = await firm.post(
        "/declarations/new", _declaration_form(**{"cargo[0].currency": "XYZ"})
    )
    assert response.status_code == 422
    assert "ISO 4217" in _field_error(response.text, "f-cargo-0-currency")


async def test_cargo_lines_add_remove_and_file(world: World, people: Any) -> None:
    firm = await people()
    await firm.login("firm_a")
    await firm.get("/declarations/new")
    added = await firm.post("/declarations/new", _declaration_form(op="add_line"))
    assert added.status_code == 200 and "cargo[1].hs_code" in added.text
    removed = await firm.post(
        "/declarations/new",
        _declaration_form(
            op="remove:1", **{"cargo[1].hs_code": "0804", "cargo[1].description": "Xoài"}
        ),
    )
    assert "cargo[1].hs_code" not in removed.text
    filed = await firm.post(
        "/declarations/new",
        _declaration_form(
            op="save_submit",
            form_key="twice",
            **{
                "cargo[1].hs_code": "080450",
                "cargo[1].description": "Xoài tươi",
                "cargo[1].gross_weight_kg": "2000",
                "cargo[1].packages": "100",
                "cargo[1].value": "2000",
                "cargo[1].currency": "usd",
                "cargo[1].origin_country": "vn",
            },
        ),
    )
    assert filed.status_code == 303, filed.text
    location = filed.headers["location"]
    page = await firm.get(location)
    assert "Đã nộp tờ khai" in page.text and "Xoài tươi" in page.text
    # The same form sent again (a double click) files nothing new.
    again = await firm.post(
        "/declarations/new",
        _declaration_form(
            op="save_submit",
            form_key="twice",
            **{
                "cargo[1].hs_code": "080450",
                "cargo[1].description": "Xoài tươi",
                "cargo[1].gross_weight_kg": "2000",
                "cargo[1].packages": "100",
                "cargo[1].value": "2000",
                "cargo[1].currency": "usd",
                "cargo[1].origin_country": "vn",
            },
        ),
    )
    assert again.headers["location"] == location
    listing = (await world.client.get("/api/v1/declarations", headers=world.as_("firm_a"))).json()
    assert len(listing["items"]) == 1
    assert listing["items"][0]["status"] == "submitted"


async def test_second_decision_sees_the_conflict_and_keeps_its_reason(
    world: World, people: Any
) -> None:
    declaration = await _in_customs_review(world)
    path = f"/declarations/{declaration['id']}"
    first, second = await people(), await people()
    await first.login("customs")
    await second.login("customs")
    assert (await first.get(path)).status_code == 200
    page = await second.get(path)
    assert f'name="version" value="{declaration["version"]}"' in page.text
    decided = await first.post(
        f"{path}/decide",
        {
            "stage": "customs",
            "decision": "approve",
            "reason": "Hồ sơ đầy đủ",
            "version": str(declaration["version"]),
        },
    )
    assert decided.status_code == 303
    assert "Đã chấp thuận" in (await first.get(path)).text
    late = await second.post(
        f"{path}/decide",
        {
            "stage": "customs",
            "decision": "reject",
            "reason": "Thiếu C/O gốc",
            "version": str(declaration["version"]),
        },
    )
    assert late.status_code == 409
    assert "Người khác vừa quyết định tờ khai này trước bạn" in late.text
    assert "Thiếu C/O gốc" in late.text  # nothing typed is lost
    assert (await world.get(declaration["id"]))["stages"]["customs"]["state"] == "approved"


async def test_double_click_decides_once_and_says_so(world: World, people: Any) -> None:
    declaration = await _in_customs_review(world)
    officer = await people()
    await officer.login("customs")
    await officer.get(f"/declarations/{declaration['id']}")
    form = {
        "stage": "customs",
        "decision": "hold",
        "reason": "Chờ kiểm tra thực tế",
        "version": str(declaration["version"]),
    }
    assert (
        await officer.post(f"/declarations/{declaration['id']}/decide", form)
    ).status_code == 303
    again = await officer.post(f"/declarations/{declaration['id']}/decide", form)
    assert again.status_code == 409
    assert "bấm hai lần" in again.text
    events = (
        await world.client.get(
            f"/api/v1/declarations/{declaration['id']}/events", headers=world.as_("board")
        )
    ).json()["events"]
    assert [e["action"] for e in events].count("hold") == 1


async def test_reason_is_required_except_to_take(world: World, people: Any) -> None:
    declaration = await _in_customs_review(world)
    officer = await people()
    await officer.login("customs")
    await officer.get(f"/declarations/{declaration['id']}")
    missing = await officer.post(
        f"/declarations/{declaration['id']}/decide",
        {
            "stage": "customs",
            "decision": "reject",
            "reason": "  ",
            "version": str(declaration["version"]),
        },
    )
    assert missing.status_code == 422
    assert "Quyết định phải có lý do" in _field_error(missing.text, "reason")
    taken = await officer.post(
        f"/declarations/{declaration['id']}/decide",
        {
            "stage": "customs",
            "decision": "start_review",
            "reason": "",
            "version": str(declaration["version"]),
        },
    )
    assert taken.status_code == 303


async def test_wrong_roles_are_refused_politely(world: World, people: Any) -> None:
    declaration = await _in_customs_review(world)
    firm = await people()
    await firm.login("firm_a")
    queue = await firm.get("/queue")
    assert queue.status_code == 403
    assert "Bạn không có quyền xem trang này" in queue.text and "Doanh nghiệp" in queue.text
    plant = await people()
    await plant.login("plant")
    crafted = await plant.post(
        f"/declarations/{declaration['id']}/decide",
        {
            "stage": "customs",
            "decision": "approve",
            "reason": "x",
            "version": str(declaration["version"]),
        },
    )
    assert crafted.status_code == 403
    assert "không được" in crafted.text and "Traceback" not in crafted.text
    elsewhere = await people()
    await elsewhere.login("customs_tt")
    assert (await elsewhere.get(f"/declarations/{declaration['id']}")).status_code == 404


async def test_error_pages_are_friendly_and_api_errors_stay_json(world: World, people: Any) -> None:
    visitor = await people()
    page = await visitor.client.get("/no-such-page")
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "Không tìm thấy trang này" in page.text and "This page does not exist" in page.text
    api = await visitor.client.get("/api/v1/no-such-thing", headers=world.as_("board"))
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    firm = await people()
    await firm.login("firm_a")
    missing = await firm.get("/declarations/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and "Không tìm thấy tờ khai" in missing.text
    wrong_method = await firm.client.delete("/declarations")
    assert wrong_method.status_code == 405 and "text/html" in wrong_method.headers["content-type"]
    officer = await people()
    await officer.login("customs")
    bad_filter = await officer.get("/queue?channel=purple")
    assert bad_filter.status_code == 400 and "Yêu cầu không hợp lệ" in bad_filter.text
    for response in (page, missing, wrong_method, bad_filter):
        assert "Traceback" not in response.text


async def test_language_switch_is_one_click(world: World, people: Any) -> None:
    visitor = await people()
    login = await visitor.get("/login")
    assert 'lang="vi"' in login.text and "Đăng nhập" in login.text
    switched = await visitor.client.get("/lang/en?next=/login")
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    english = await visitor.get("/login")
    assert 'lang="en"' in english.text and "Log in" in english.text
    await visitor.post("/login", {"username": "firm_a", "password": PASSWORD})
    listing = await visitor.get("/declarations")
    assert "New declaration" in listing.text


async def test_every_role_lands_on_its_page(world: World, people: Any) -> None:
    expected = {
        "firm_a": "/declarations",
        "customs": "/queue",
        "guard": "/queue",
        "yard": "/yard",
        "board": "/dashboard",
        "admin": "/dashboard",
    }
    for username, home in expected.items():
        person = await people()
        await person.get("/login")
        response = await person.post("/login", {"username": username, "password": PASSWORD})
        assert response.headers["location"] == home, username
        page = await person.get(home)
        assert page.status_code == 200, (username, page.text[:2000])


async def test_yard_gate_in_by_plate_scan_and_ambiguity(world: World, people: Any) -> None:
    yard = await people()
    await yard.login("yard")
    page = await yard.get("/yard")
    assert 'id="plate"' in page.text and "autofocus" in page.text and 'accesskey="p"' in page.text
    unknown = await yard.post(
        "/yard", {"gate": "HUU_NGHI", "kind": "gate_in", "plate": "99Z-999.99"}
    )
    assert unknown.status_code == 404
    assert "Không có tờ khai nào chờ xe biển số 99Z-999.99" in unknown.text
    assert 'value="99Z-999.99"' in unknown.text  # kept, to correct it

    # Two declarations for one plate: the operator picks the right one.
    first = await _awaiting_arrival(world, "15C-111.22")
    second = await _awaiting_arrival(world, "15C-111.22")
    ambiguous = await yard.post(
        "/yard", {"gate": "HUU_NGHI", "kind": "gate_in", "plate": "15c 11122"}
    )
    assert ambiguous.status_code == 409
    assert first["number"] in ambiguous.text and second["number"] in ambiguous.text
    picked = await yard.post(
        "/yard",
        {
            "gate": "HUU_NGHI",
            "kind": "gate_in",
            "plate": "15C-111.22",
            "declaration_id": second["id"],
        },
    )
    assert picked.status_code == 303
    after = await yard.get(picked.headers["location"])
    assert f"Xe đã vào bãi: 15C-111.22 — {second['number']} — chỗ P001" in after.text
    assert (await world.get(second["id"]))["status"] == "in_yard"

    # A scanner reads the QR on the driver's phone: the declaration's page URL.
    scanned = await yard.post(
        "/yard",
        {
            "gate": "HUU_NGHI",
            "kind": "gate_in",
            "plate": f"http://127.0.0.1:8000/declarations/{first['id']}",
        },
    )
    assert scanned.status_code == 303
    assert (await world.get(first["id"]))["yard_position"] == "P002"
    listing = await yard.get("/yard/list?gate=HUU_NGHI")
    assert "<html" not in listing.text and "P002" in listing.text
    assert 'id="free-count">298<' in listing.text


async def _awaiting_arrival(world: World, plate: str) -> dict[str, Any]:
    created = await world.file(cargo=MACHINERY, vehicle={"plate": plate, "country": "VN"})
    await world.submit(created["id"])
    quarantine = (Stage.PLANT_QUARANTINE, Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE)
    for agency, stages, channel in [
        ("customs", {Stage.CUSTOMS: ScreenedStage(required=True)}, Channel.YELLOW),
        ("quarantine", {s: ScreenedStage(required=False) for s in quarantine}, None),
        ("border_guard", {Stage.BORDER_GUARD: ScreenedStage(required=True)}, None),
    ]:
        await change_declaration(
            world.platform,
            system_actor(f"{agency}-screening"),
            created["id"],
            Screen(agency=agency, round=1, stages=stages, channel=channel),
        )
    return await world.get(created["id"])


async def test_officer_queue_lists_the_longest_wait_first(world: World, people: Any) -> None:
    older = await _in_customs_review(world, plate="29H-111.11")
    newer = await _in_customs_review(world, plate="29H-222.22")
    officer = await people()
    await officer.login("customs")
    queue = await officer.get("/queue")
    assert queue.status_code == 200
    assert queue.text.index(older["number"]) < queue.text.index(newer["number"])
    assert (await officer.get("/queue?channel=green")).text.count("HN-") == 0
    assert older["number"] not in (await officer.get("/queue?attention=true")).text
    plant = await people()
    await plant.login("plant")
    assert older["number"] not in (await plant.get("/queue")).text  # not needed by plant


async def test_watchlist_page_adds_and_removes_with_reasons(world: World, people: Any) -> None:
    guard = await people()
    await guard.login("guard")
    assert (await guard.get("/watchlist")).status_code == 200
    bad = await guard.post("/watchlist", {"kind": "plate", "value": "12C-345.67", "reason": "x"})
    assert bad.status_code == 422 and "Lý do cần 3–1000 ký tự" in bad.text
    added = await guard.post(
        "/watchlist",
        {
            "kind": "plate",
            "value": "12C-345.67",
            "reason": "Nghi vận chuyển hàng cấm",
            "expires": _next_year(),
        },
    )
    assert added.status_code == 303
    page = await guard.get("/watchlist")
    assert "Đã thêm vào danh sách theo dõi" in page.text and "Nghi vận chuyển hàng cấm" in page.text
    entry_id = re.search(r'action="/watchlist/([0-9a-f-]{36})/remove"', page.text).group(1)  # type: ignore[union-attr]
    removed = await guard.post(f"/watchlist/{entry_id}/remove", {"reason": "Đã xác minh"})
    assert removed.status_code == 303
    assert (await world.client.get("/api/v1/watchlist", headers=world.as_("guard"))).json() == []
    admin = await people()
    await admin.login("admin")
    read_only = await admin.get("/watchlist")
    assert read_only.status_code == 200 and 'action="/watchlist"' not in read_only.text
    customs = await people()
    await customs.login("customs")
    assert (await customs.get("/watchlist")).status_code == 403


async def test_dashboard_figures_and_the_admins_retry(world: World, people: Any) -> None:
    from border_gate.screening.service import record_check_failure

    declaration = await _in_customs_review(world)
    officer = await people()
    await officer.login("customs")
    await officer.get(f"/declarations/{declaration['id']}")
    await officer.post(
        f"/declarations/{declaration['id']}/decide",
        {
            "stage": "customs",
            "decision": "approve",
            "reason": "Đạt",
            "version": str(declaration["version"]),
        },
    )
    await record_check_failure(
        world.platform,
        actor_name="screen_customs",
        queue_name="screening",
        kwargs={
            "declaration_id": declaration["id"],
            "agency": "customs",
            "round_": 1,
            "work_id": "w-1",
        },
        error="TimeoutError: rules service did not answer",
        attempts=3,
    )
    board = await people()
    await board.login("board")
    dashboard = await board.get("/dashboard?gate=HUU_NGHI&period=7d")
    assert dashboard.status_code == 200
    assert dashboard.text.count('<svg class="chart"') == 3
    assert 'id="tile-in-yard">1<' in dashboard.text
    assert re.search(r'id="tile-bottleneck">\s*Biên phòng', dashboard.text)
    assert "/dashboard/throughput.csv?gate=HUU_NGHI&amp;period=7d" in dashboard.text
    csv_download = await board.get("/dashboard/throughput.csv?gate=HUU_NGHI&period=7d")
    assert csv_download.status_code == 200
    assert csv_download.headers["content-type"].startswith("text/csv")
    assert "stages,customs,1," in csv_download.text  # the officer's approval above
    pdf_download = await board.get("/dashboard/throughput.pdf?gate=HUU_NGHI&period=7d")
    assert pdf_download.status_code == 200 and pdf_download.content.startswith(b"%PDF")
    assert "Kiểm tra tự động cần xử lý" not in dashboard.text  # admins only
    admin = await people()
    await admin.login("admin")
    page = await admin.get("/dashboard")
    assert "rules service did not answer" in page.text
    failure_id = re.search(
        r'action="/admin/check-failures/([0-9a-f-]{36})/retry"', page.text
    ).group(1)  # type: ignore[union-attr]
    retried = await admin.post(f"/admin/check-failures/{failure_id}/retry", {"gate": "HUU_NGHI"})
    assert retried.status_code == 303
    after = await admin.get(retried.headers["location"])
    assert "Đã gửi lại kiểm tra" in after.text and "rules service did not answer" not in after.text
    assert (await board.client.get("/dashboard", follow_redirects=False)).status_code == 200
    assert (await (await people()).client.get("/dashboard")).status_code == 303


async def test_a_full_yard_is_said_plainly(tmp_path: Path, sqlite_database: str) -> None:
    from border_gate.app import create_app
    from border_gate.platform import build_platform
    from tests.conftest import make_settings, running_lifespan
    from tests.support import build_world

    gates = tmp_path / "gates.toml"
    gates.write_text(
        '[[gate]]\ncode = "HUU_NGHI"\nprefix = "HN"\nname_vi = "Cửa khẩu quốc tế Hữu Nghị"\n'
        'name_en = "Huu Nghi International Border Gate"\nyard_capacity = 1\n\n'
        '[[gate]]\ncode = "TAN_THANH"\nprefix = "TT"\nname_vi = "Cửa khẩu Tân Thanh"\n'
        'name_en = "Tan Thanh Border Gate"\nyard_capacity = 5\n'
    )
    platform = build_platform(make_settings(tmp_path, sqlite_database, GATES_FILE=str(gates)))
    app = create_app(platform=platform)
    try:
        async with running_lifespan(app):
            transport = httpx.ASGITransport(app=app)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as api,
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as page,
            ):
                world = await build_world(platform, api)
                await _awaiting_arrival(world, "29H-555.55")
                await _awaiting_arrival(world, "29H-666.66")
                assert (await world.gate_event("gate_in", plate="29H-555.55")).status_code == 201
                yard = Browser(page)
                await yard.login("yard")
                full = await yard.post(
                    "/yard", {"gate": "HUU_NGHI", "kind": "gate_in", "plate": "29H-666.66"}
                )
                assert full.status_code == 409
                assert "Bãi đã đầy (1/1 chỗ)" in full.text
                assert 'id="free-count">0<' in full.text
    finally:
        await platform.close()
