"""Browser tests: a real `border-gate serve` (embedded SQLite, in-process workers) and Chromium.

Debian's Chromium at /usr/bin/chromium is driven by Playwright; nothing is downloaded. One
server and one browser serve the whole module; each test builds its own declarations.
Screenshots (tablet and desktop sizes) land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from border_gate.db.migrate import upgrade_to_head
from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import build_platform
from border_gate.settings import load_settings
from tests.processes import processes
from tests.support import ORGANISATIONS, PASSWORD, USERS, declaration_body

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SIZES = {"tablet": (800, 1280), "desktop": (1280, 800)}
DESKTOP = {"width": 1280, "height": 800}

#: A second customs officer at the same gate, for two people deciding at once.
EXTRA_USERS = [("customs2", "customs_officer", "HQ_LS", ["HUU_NGHI"])]


async def _seed(env: dict[str, str]) -> None:
    platform = build_platform(load_settings(env), pool_size=2)
    try:
        for code, kind, name in ORGANISATIONS:
            await create_organisation(platform, code=code, kind=kind, name=name)
        for username, role, org, gates in [*USERS, *EXTRA_USERS]:
            await create_user(
                platform,
                username=username,
                role=role,
                organisation_code=org,
                password=PASSWORD,
                gates=gates,
                full_name=None,
            )
    finally:
        await platform.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`border-gate serve` on its own SQLite file, with users made through the services."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"Debian's Chromium is not installed at {CHROMIUM}: the browser tests need it. "
            "Install it with `apt-get install chromium` (CI does this in .ci/test)."
        )
    root = tmp_path_factory.mktemp("pages-e2e")
    rules = root / "customs.toml"
    # Every declaration is yellow (a "new firm" forever, no random red): customs always decides.
    rules.write_text(
        (Path(__file__).resolve().parents[2] / "agencies/rules/customs.toml")
        .read_text()
        .replace("random_red_rate = 0.03", "random_red_rate = 0.0")
        .replace("first_declarations = 3", "first_declarations = 100000")
    )
    database = root / "border-gate.sqlite3"
    env = {
        "DATA_DIR": str(root / "data"),
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "browser-test-secret-key-0123456789abcdef",
        "ARGON2_LIGHT": "1",
        "CUSTOMS_RULES_FILE": str(rules),
        "LOG_LEVEL": "WARNING",
        "WORKER_THREADS": "2",
    }
    upgrade_to_head(f"sqlite+aiosqlite:///{database}")
    asyncio.run(_seed(env))
    with processes(env, root / "logs") as group:
        yield group.api()


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Site:
    """The served site, people signed in to it, and its API for setting the scene quickly."""

    url: str
    browser: Any
    test_name: str
    contexts: list[Any] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    shots: int = 0
    #: Script errors and policy (CSP) violations seen in any page: a test fails on them.
    console_errors: list[str] = field(default_factory=list)

    def login(self, username: str) -> Any:
        context = self.browser.new_context(
            viewport=DESKTOP, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", base_url=self.url
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.goto("/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_label("Mật khẩu").press("Enter")
        page.wait_for_url(re.compile(r"/(declarations|queue|yard|dashboard)"))
        return page

    def _console(self, message: Any) -> None:
        # An error status (403, 409 …) is logged by Chromium as a failed load: that is the
        # page answering as it should, not a fault of the page.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.console_errors.append(message.text)

    def shoot(self, page: Any, name: str) -> None:
        """The page at tablet (portrait) and desktop sizes, as test artifacts."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            path = SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{name}-{size}.png"
            page.screenshot(path=str(path), full_page=True)
        page.set_viewport_size(DESKTOP)

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    # --- The API, for the parts of a scene a test is not about --------------------------

    def _headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            response = httpx.post(
                f"{self.url}/api/v1/auth/token",
                json={"username": username, "password": PASSWORD},
                timeout=30,
            )
            response.raise_for_status()
            self.tokens[username] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def api(self, method: str, path: str, username: str, **kwargs: Any) -> dict[str, Any]:
        response = httpx.request(
            method, f"{self.url}{path}", headers=self._headers(username), timeout=30, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json()  # type: ignore[no-any-return]

    def truck_in_yard(self, plate: str, firm: str = "firm_b") -> dict[str, Any]:
        """Filed, submitted, screened and gated in through the API: the officers' turn."""
        created = self.api(
            "POST",
            "/api/v1/declarations",
            firm,
            json=declaration_body(vehicle={"plate": plate, "country": "VN"}),
        )
        self.api("POST", f"/api/v1/declarations/{created['id']}/submit", firm)
        self.wait_for(created["id"], lambda d: d["status"] == "awaiting_arrival")
        self.api(
            "POST",
            "/api/v1/gates/HUU_NGHI/events",
            "yard",
            json={"kind": "gate_in", "plate": plate},
        )
        return self.wait_for(
            created["id"], lambda d: d["stages"]["customs"]["state"] == "in_review"
        )

    def wait_for(self, declaration_id: str, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            last = self.api("GET", f"/api/v1/declarations/{declaration_id}", "board")
            if predicate(last):
                return last
            time.sleep(0.2)
        raise AssertionError(f"timed out; last state {last.get('status')}: {last}")


@pytest.fixture
def site(server: str, browser: Any, request: pytest.FixtureRequest) -> Iterator[Site]:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()
    opened = Site(url=server, browser=browser, test_name=name)
    yield opened
    opened.close()
    assert opened.console_errors == [], opened.console_errors
