"""Every role's pages in Chromium against a real server: one truck's whole journey, an
amendment round-trip, wrong roles refused, and two officers deciding at once."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Site

pytestmark = pytest.mark.browser

STATUS = ".status-line .badge"


def _wait_status(page: Any, wanted: str, timeout: float = 30) -> None:
    """Reload until the status badge reads `wanted` (the workers screen in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.locator(STATUS).first.inner_text().strip() == wanted:
            return
        time.sleep(0.3)
        page.reload()
    expect(page.locator(STATUS).first).to_have_text(wanted)


def _decide(
    site: Site, username: str, number: str, button: str, reason: str, *, shoot: bool = False
) -> Any:
    """An officer finds the declaration in their queue, opens it, and decides with a reason."""
    page = site.login(username)
    assert page.url.endswith("/queue")
    if shoot:
        site.shoot(page, f"{username}-queue")
    page.get_by_role("row", name=re.compile(number)).get_by_role("link", name="Mở").click()
    page.get_by_label("Lý do").fill(reason)
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.locator(".flash")).to_be_visible()
    return page


def test_one_truck_crosses_through_the_pages_only(site: Site) -> None:
    plate = "29H-101.01"
    # The firm files and submits.
    firm = site.login("firm_a")
    firm.get_by_role("link", name="Khai tờ mới").first.click()
    firm.locator('[name="vehicle.plate"]').fill(plate)
    firm.get_by_label("Người gửi hàng").fill("Công ty TNHH Nông sản Đồng Đăng")
    firm.get_by_label("Người nhận hàng").fill("Pingxiang Fruit Trading Co.")
    firm.get_by_label("Họ tên lái xe").fill("Nguyễn Văn Đức")
    firm.get_by_label("Số giấy tờ đi đường").fill("C1234567")
    firm.get_by_label("Mã HS").fill("081060")
    firm.get_by_label("Mô tả hàng").fill("Sầu riêng tươi")
    firm.get_by_label("Trọng lượng (kg)").fill("18000")
    firm.get_by_label("Số kiện").fill("900")
    firm.get_by_label("Trị giá").fill("54000")
    site.shoot(firm, "firm-form")
    firm.get_by_role("button", name="Lưu và nộp").click()
    firm.wait_for_url(re.compile(r"/declarations/[0-9a-f-]{36}$"))
    expect(firm.locator(".flash")).to_contain_text("Đã nộp tờ khai")
    number = firm.locator("h1 .number").inner_text()
    declaration_url = firm.url

    # Screening lands on the workers; the firm's page shows it.
    _wait_status(firm, "Chờ xe đến")
    expect(firm.locator(".qr-box svg")).to_be_visible()
    expect(firm.locator("#no-documents")).to_be_visible()
    site.shoot(firm, "firm-awaiting-arrival")

    # The yard gates the truck in: keyboard only, the plate field already focused.
    yard = site.login("yard")
    expect(yard.locator("#plate")).to_be_focused()
    yard.keyboard.type(plate)
    yard.keyboard.press("Enter")
    expect(yard.locator(".flash")).to_contain_text(f"Xe đã vào bãi: {plate}")
    expect(yard.locator(".yard-list")).to_contain_text(plate)
    expect(yard.locator("#plate")).to_be_focused()
    site.shoot(yard, "yard-gate-in")

    # Each required officer decides: customs (yellow), plant and health quarantine.
    customs = _decide(site, "customs", number, "Chấp thuận", "Kiểm tra hồ sơ đạt", shoot=True)
    site.shoot(customs, "customs-approved")
    _decide(site, "plant", number, "Chấp thuận", "Không phát hiện sinh vật gây hại")
    _decide(site, "health", number, "Chấp thuận", "Đạt an toàn thực phẩm")
    # The border guard approves the exit last.
    guard = _decide(site, "guard", number, "Chấp thuận", "Người và phương tiện hợp lệ")
    expect(guard.locator(STATUS).first).to_have_text("Đã thông quan")

    # The yard gates it out: Alt+O chooses "out", the focus returns to the plate field.
    yard.goto("/yard")
    yard.keyboard.press("Alt+o")
    expect(yard.locator('input[value="gate_out"]')).to_be_checked()
    yard.locator("#plate").fill(plate)
    yard.locator("#plate").press("Enter")
    expect(yard.locator(".flash")).to_contain_text(f"Xe đã ra bãi: {plate}")
    expect(yard.locator("#yard-live")).not_to_contain_text(plate)

    # The firm sees the whole journey, every step with who, when and why.
    firm.goto(declaration_url)
    expect(firm.locator(STATUS).first).to_have_text("Đã qua cửa khẩu")
    timeline = firm.locator("ol.timeline")
    for step in ("Xe ra bãi", "Xe vào bãi", "Sàng lọc tự động", "Nộp tờ khai", "Lập tờ khai"):
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("Người và phương tiện hợp lệ")
    expect(timeline.locator("time").first).to_contain_text("UTC+07:00")
    site.shoot(firm, "firm-departed")

    # In English, one click away.
    firm.get_by_role("link", name="English").click()
    expect(firm.locator(STATUS).first).to_have_text("Departed")
    expect(firm.locator("ol.timeline")).to_contain_text("Gate-out")

    # Management sees it on the dashboard.
    board = site.login("board")
    expect(board.locator("svg.chart")).to_have_count(3)
    expect(board.locator("#tile-departed")).not_to_have_text("0")
    site.shoot(board, "dashboard")


def test_amendment_round_trip(site: Site) -> None:
    declaration = site.truck_in_yard("29H-202.02")
    number = declaration["number"]
    officer = _decide(site, "customs", number, "Yêu cầu bổ sung", "Bổ sung mô tả chi tiết")
    expect(officer.locator(STATUS).first).to_have_text("Yêu cầu bổ sung")

    firm = site.login("firm_b")
    firm.get_by_role("link", name=number).click()
    expect(firm.locator("#amend-title")).to_be_visible()
    expect(firm.locator(".notice-warn")).to_contain_text("Bổ sung mô tả chi tiết")
    site.shoot(firm, "firm-asked-to-amend")
    firm.get_by_role("link", name="Sửa và nộp lại").click()
    firm.get_by_label("Mô tả hàng").fill("Sầu riêng tươi Ri6, loại 1, đóng thùng carton")
    firm.get_by_role("button", name="Lưu và nộp lại").click()
    expect(firm.locator(".flash")).to_contain_text("Đã nộp tờ khai")
    site.wait_for(declaration["id"], lambda d: d["status"] == "in_yard")

    officer.reload()
    expect(officer.locator("#cargo-title + .table-wrap")).to_contain_text("Ri6")
    expect(officer.get_by_role("button", name="Chấp thuận", exact=True)).to_be_visible()
    officer.get_by_label("Lý do").fill("Đã bổ sung đủ")
    officer.get_by_role("button", name="Chấp thuận", exact=True).click()
    expect(officer.locator(".flash")).to_contain_text("Đã chấp thuận")
    expect(officer.locator("ol.timeline")).to_contain_text("Sửa tờ khai")
    site.shoot(officer, "customs-after-amendment")
    after = site.wait_for(
        declaration["id"], lambda d: d["stages"]["customs"]["state"] == "approved"
    )
    assert after["cargo"][0]["description"].endswith("carton")


def test_wrong_roles_are_refused_politely(site: Site) -> None:
    declaration = site.truck_in_yard("29H-303.03")
    firm = site.login("firm_a")
    response = firm.goto("/queue")
    assert response is not None and response.status == 403
    expect(firm.locator("h1")).to_have_text("Bạn không có quyền xem trang này")
    expect(firm.locator(".error-page")).to_contain_text("Doanh nghiệp")
    site.shoot(firm, "firm-opens-queue")

    plant = site.login("plant")
    plant.goto(f"/declarations/{declaration['id']}")
    # A crafted form: the plant officer tries to approve the customs stage.
    plant.evaluate(
        """([version]) => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = location.pathname + '/decide';
            const token = document.querySelector('input[name=_csrf_token]').value;
            for (const [name, value] of Object.entries({
                _csrf_token: token, stage: 'customs', decision: 'approve',
                reason: 'Tự duyệt hộ', version: String(version)})) {
                const input = document.createElement('input');
                input.type = 'hidden'; input.name = name; input.value = value;
                form.appendChild(input);
            }
            document.body.appendChild(form);
            form.submit();
        }""",
        [declaration["version"]],
    )
    plant.wait_for_load_state()
    expect(plant.locator("h1")).to_have_text("Bạn không được phép làm việc này")
    expect(plant.locator(".error-page")).to_contain_text("không được")
    site.shoot(plant, "plant-decides-customs")
    after = site.api("GET", f"/api/v1/declarations/{declaration['id']}", "board")
    assert after["stages"]["customs"]["state"] == "in_review"


def test_two_officers_decide_at_once(site: Site) -> None:
    declaration = site.truck_in_yard("29H-404.04")
    path = f"/declarations/{declaration['id']}"
    first, second = site.login("customs"), site.login("customs2")
    first.goto(path)
    second.goto(path)
    first.get_by_label("Lý do").fill("Hồ sơ đầy đủ, chấp thuận")
    second.get_by_label("Lý do").fill("Thiếu giấy chứng nhận xuất xứ")
    first.get_by_role("button", name="Chấp thuận", exact=True).click()
    expect(first.locator(".flash")).to_contain_text("Đã chấp thuận")
    second.get_by_role("button", name="Từ chối", exact=True).click()
    expect(second.locator(".notice-error")).to_contain_text("Người khác vừa quyết định")
    expect(second.locator("#kept-reason")).to_have_text("Thiếu giấy chứng nhận xuất xứ")
    expect(second.locator("table.stages")).to_contain_text("Đã chấp thuận")
    site.shoot(second, "second-officer-conflict")
    after = site.api("GET", f"/api/v1/declarations/{declaration['id']}", "board")
    assert after["stages"]["customs"]["state"] == "approved"
    assert after["status"] != "rejected"
