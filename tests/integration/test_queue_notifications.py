"""The queue tells firms: a cut in the far side's quota reaches every affected firm as a
signed webhook carrying its truck's new expected time; called-forward trucks are told too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from border_gate.notifications.service import deliver
from border_gate.settings import Settings
from tests.conftest import make_settings
from tests.integration.fees_support import FEE_ENV
from tests.integration.test_queue import QUEUE_TOML, check_in, set_quota, submitted
from tests.integration.test_webhooks import check_signed, deliveries, register
from tests.integration.webhook_receiver import receiver
from tests.support import World

TOPICS = ["queue.expected_time_changed", "queue.called_forward"]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    path = tmp_path / "queue.toml"
    path.write_text(QUEUE_TOML)
    return make_settings(tmp_path, database_url, QUEUE_FILE=str(path), **FEE_ENV)


async def deliver_all(world: World, endpoint: dict[str, Any], user: str) -> list[dict[str, Any]]:
    """Send what the outbox queued for this endpoint (no workers here: `deliver` directly)."""
    log = await deliveries(world, endpoint["id"], user)
    for item in log:
        assert item["status"] == "pending"  # queued in the transitions' transactions
        assert await deliver(world.platform, item["id"]) == "delivered"
    return log


async def expected_call(world: World, declaration_id: str, user: str) -> datetime:
    response = await world.client.get(
        f"/api/v1/declarations/{declaration_id}/booking", headers=world.as_(user)
    )
    assert response.status_code == 200, response.text
    return datetime.fromisoformat(response.json()["expected_call_at"])


async def test_a_quota_cut_reaches_every_affected_firm_signed(world: World) -> None:
    with receiver() as hook_a, receiver() as hook_b:
        endpoint_a = await register(world, hook_a.url, TOPICS, "firm_a")
        endpoint_b = await register(world, hook_b.url, TOPICS, "firm_b")
        hook_a.secret, hook_b.secret = endpoint_a["secret"], endpoint_b["secret"]
        await set_quota(world, 2400)
        first, second, third = [
            await submitted(world, plate) for plate in ("29H-111.11", "29H-222.22", "29H-333.33")
        ]
        other_firms = await submitted(world, "29H-444.44", "firm_b")
        for plate in ("29H-111.11", "29H-222.22", "29H-333.33", "29H-444.44"):
            assert (await check_in(world, plate)).status_code == 201
        before = await expected_call(world, third, "firm_a")

        await set_quota(world, 0, "Phía bên kia tạm dừng thông quan / far side suspended")

        log_a = await deliver_all(world, endpoint_a, "firm_a")
        log_b = await deliver_all(world, endpoint_b, "firm_b")
        assert {(d["topic"], d["declaration_id"]) for d in log_a} >= {
            ("queue.called_forward", first),
            ("queue.called_forward", second),
            ("queue.expected_time_changed", third),
        }
        # firm B hears about its own truck only, and nothing of firm A's
        assert {(d["topic"], d["declaration_id"]) for d in log_b} == {
            ("queue.expected_time_changed", other_firms)
        }
        for hook, user, waiting in ((hook_a, "firm_a", third), (hook_b, "firm_b", other_firms)):
            received = [check_signed(r, hook.secret or "") for r in hook.snapshot()]
            moved = [
                p
                for p in received
                if p["topic"] == "queue.expected_time_changed" and p["declaration"]["id"] == waiting
            ]
            assert moved, received
            new_time = datetime.fromisoformat(moved[-1]["data"]["expected_call_at"])
            assert new_time == await expected_call(world, waiting, user)
        assert await expected_call(world, third, "firm_a") > before
