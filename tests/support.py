"""Building test data through the same services the API uses."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import Platform

PASSWORD = "mat-khau-rat-dai-123"
GATE = "HUU_NGHI"

ORGANISATIONS = [
    ("FIRM_A", "firm", "Công ty TNHH Nông sản Đồng Đăng"),
    ("FIRM_B", "firm", "Công ty CP Xuất nhập khẩu Kỳ Lừa"),
    ("HQ_LS", "customs", "Chi cục Hải quan cửa khẩu Hữu Nghị"),
    ("KDTV", "plant_quarantine", "Trạm Kiểm dịch thực vật Hữu Nghị"),
    ("KDDV", "animal_quarantine", "Trạm Kiểm dịch động vật Lạng Sơn"),
    ("KDYT", "health_quarantine", "Trung tâm Kiểm dịch y tế quốc tế"),
    ("BP_HN", "border_guard", "Đồn Biên phòng cửa khẩu quốc tế Hữu Nghị"),
    ("BAI_HN", "yard", "Công ty Kho bãi Hữu Nghị"),
    ("BQL", "management", "Ban quản lý Khu kinh tế cửa khẩu Đồng Đăng – Lạng Sơn"),
]

USERS = [
    ("firm_a", "firm_user", "FIRM_A", []),
    ("firm_b", "firm_user", "FIRM_B", []),
    ("customs", "customs_officer", "HQ_LS", [GATE]),
    ("customs_tt", "customs_officer", "HQ_LS", ["TAN_THANH"]),
    ("plant", "plant_quarantine_officer", "KDTV", [GATE]),
    ("animal", "animal_quarantine_officer", "KDDV", [GATE]),
    ("health", "health_quarantine_officer", "KDYT", [GATE]),
    ("guard", "border_guard_officer", "BP_HN", [GATE]),
    ("yard", "yard_operator", "BAI_HN", [GATE]),
    ("board", "management", "BQL", []),
    ("admin", "admin", "BQL", []),
]


def declaration_body(**overrides: Any) -> dict[str, Any]:
    """The issue's example body, with a planned arrival a day from now."""
    body: dict[str, Any] = {
        "direction": "export",
        "gate": GATE,
        "vehicle": {"plate": "12C-345.67", "trailer_plate": None, "country": "VN"},
        "driver": {"name": "Nguyễn Văn Đức", "document_number": "C1234567", "nationality": "VN"},
        "cargo": [
            {
                "hs_code": "081060",
                "description": "Sầu riêng tươi",
                "gross_weight_kg": 18000,
                "packages": 900,
                "value": 54000,
                "currency": "USD",
                "origin_country": "VN",
            }
        ],
        "consignor": "Công ty TNHH Nông sản Đồng Đăng",
        "consignee": "Pingxiang Fruit Trading Co.",
        "planned_arrival": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    body = copy.deepcopy(body)
    body.update(overrides)
    return body


@dataclass
class World:
    """Organisations and users of one gate, with bearer headers per username."""

    platform: Platform
    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_(self, username: str, **extra: str) -> dict[str, str]:
        return {**self.headers[username], **extra}

    async def file(self, username: str = "firm_a", **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/declarations", json=declaration_body(**overrides), headers=self.as_(username)
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    async def get(self, declaration_id: str, username: str = "board") -> dict[str, Any]:
        response = await self.client.get(
            f"/api/v1/declarations/{declaration_id}", headers=self.as_(username)
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def submit(self, declaration_id: str, username: str = "firm_a") -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/declarations/{declaration_id}/submit", headers=self.as_(username)
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def decide(
        self,
        declaration_id: str,
        stage: str,
        decision: str,
        username: str,
        reason: str = "Đạt / OK",
    ) -> Any:
        current = await self.get(declaration_id)
        return await self.client.post(
            f"/api/v1/declarations/{declaration_id}/stages/{stage}/decision",
            json={"decision": decision, "reason": reason},
            headers=self.as_(username, **{"If-Match": f'"{current["version"]}"'}),
        )

    async def gate_event(self, kind: str, plate: str = "12C-345.67", **extra: Any) -> Any:
        return await self.client.post(
            f"/api/v1/gates/{GATE}/events",
            json={"kind": kind, "plate": plate, **extra},
            headers=self.as_("yard"),
        )


async def build_world(platform: Platform, client: httpx.AsyncClient) -> World:
    for code, kind, name in ORGANISATIONS:
        await create_organisation(platform, code=code, kind=kind, name=name)
    world = World(platform=platform, client=client)
    for username, role, org, gates in USERS:
        await create_user(
            platform,
            username=username,
            role=role,
            organisation_code=org,
            password=PASSWORD,
            gates=gates,
        )
        response = await client.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        world.headers[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return world


async def wait_until(
    world: World,
    declaration_id: str,
    predicate: Any,
    *,
    timeout: float = 20.0,  # noqa: ASYNC109
    what: str = "",
) -> dict[str, Any]:
    """Poll the declaration (as management) until `predicate(declaration)` holds."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        last = await world.get(declaration_id)
        if predicate(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}: last state {last}")


def screened(declaration: dict[str, Any]) -> bool:
    return declaration["status"] not in ("draft", "submitted")


async def events_of(world: World, declaration_id: str) -> list[dict[str, Any]]:
    response = await world.client.get(
        f"/api/v1/declarations/{declaration_id}/events", headers=world.as_("board")
    )
    assert response.status_code == 200, response.text
    trail = response.json()
    assert trail["chain_valid"] is True
    return trail["events"]  # type: ignore[no-any-return]


MACHINERY = [
    {
        "hs_code": "847989",
        "description": "Máy ép viên gỗ",
        "gross_weight_kg": 8000,
        "packages": 4,
        "value": 160000,
        "currency": "USD",
        "origin_country": "VN",
    }
]
