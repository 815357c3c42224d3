"""The OpenAPI document is valid and complete, and no generated request makes a 500.

Schemathesis generates requests from the document against a real `border-gate serve`
(embedded SQLite), signed in as a firm and as management, with data already stored.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from border_gate.identity.service import create_organisation, create_user
from border_gate.platform import build_platform
from tests.conftest import make_settings
from tests.processes import processes
from tests.support import PASSWORD, declaration_body

pytestmark = pytest.mark.slow

CONTRACT = [
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/gates"),
    ("post", "/api/v1/declarations"),
    ("get", "/api/v1/declarations"),
    ("get", "/api/v1/declarations/{declaration_id}"),
    ("patch", "/api/v1/declarations/{declaration_id}"),
    ("post", "/api/v1/declarations/{declaration_id}/submit"),
    ("post", "/api/v1/declarations/{declaration_id}/cancel"),
    ("post", "/api/v1/declarations/{declaration_id}/stages/{stage}/decision"),
    ("post", "/api/v1/gates/{gate}/events"),
    ("get", "/api/v1/declarations/{declaration_id}/events"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/api/v1/declarations/{declaration_id}/documents"),
    ("get", "/api/v1/documents/{document_id}"),
    ("post", "/api/v1/documents/verify"),
    ("get", "/verify/{document_id}"),
    ("get", "/api/v1/declarations/{declaration_id}/fees"),
    ("post", "/api/v1/payments/callback"),
    ("get", "/api/v1/reports/fees"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks"),
    ("delete", "/api/v1/webhooks/{endpoint_id}"),
    ("get", "/api/v1/webhooks/{endpoint_id}/deliveries"),
    ("get", "/api/v1/reports/throughput"),
    ("get", "/api/v1/reports/throughput.csv"),
    ("get", "/api/v1/reports/throughput.pdf"),
    ("get", "/api/v1/open-data/daily"),
    ("get", "/api/v1/declarations/{declaration_id}/booking"),
    ("post", "/api/v1/declarations/{declaration_id}/booking"),
    ("delete", "/api/v1/declarations/{declaration_id}/booking"),
    ("get", "/api/v1/gates/{gate}/slots"),
    ("get", "/api/v1/gates/{gate}/quota"),
    ("put", "/api/v1/gates/{gate}/quota"),
    ("post", "/api/v1/gates/{gate}/waiting-area"),
    ("get", "/api/v1/gates/{gate}/queue"),
]


async def _people(settings: Any) -> None:
    platform = build_platform(settings)
    try:
        for code, kind in (("FIRM_A", "firm"), ("BQL", "management"), ("BAI_HN", "yard")):
            await create_organisation(platform, code=code, kind=kind, name=code)
        await create_user(
            platform,
            username="firm_a",
            role="firm_user",
            organisation_code="FIRM_A",
            password=PASSWORD,
        )
        await create_user(
            platform,
            username="board",
            role="management",
            organisation_code="BQL",
            password=PASSWORD,
        )
        await create_user(
            platform,
            username="yard",
            role="yard_operator",
            organisation_code="BAI_HN",
            password=PASSWORD,
            gates=["HUU_NGHI"],
        )
    finally:
        await platform.close()


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from border_gate.db.migrate import upgrade_to_head

    tmp = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{tmp / 'fuzz.sqlite3'}"
    settings = make_settings(tmp, url)
    upgrade_to_head(settings.database_url)
    asyncio.run(_people(settings))
    env = {
        "DATABASE_URL": url,
        "DATA_DIR": str(tmp / "data"),
        "SECRET_KEY": "fuzz-secret-key-0123456789abcdefghijkl",
        "ARGON2_LIGHT": "1",
        "LOG_LEVEL": "WARNING",
    }
    with processes(env, Path(os.environ.get("ARTIFACTS", "test-artifacts")) / "fuzz-logs") as group:
        base = group.api()
        tokens = {}
        for user in ("firm_a", "board"):
            response = httpx.post(
                f"{base}/api/v1/auth/token", json={"username": user, "password": PASSWORD}
            )
            tokens[user] = response.json()["access_token"]
        headers = {"Authorization": f"Bearer {tokens['firm_a']}"}
        created = httpx.post(
            f"{base}/api/v1/declarations", json=declaration_body(), headers=headers
        ).json()
        httpx.post(f"{base}/api/v1/declarations/{created['id']}/submit", headers=headers)
        yield {"base": base, "tokens": tokens, "declaration": created}


@pytest.fixture(scope="module")
def api_schema(live_api: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_url(f"{live_api['base']}/schema/openapi.json")


def test_the_document_lists_the_contract(live_api: dict[str, Any]) -> None:
    document = httpx.get(f"{live_api['base']}/schema/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for method, path in CONTRACT:
        assert method in document["paths"].get(path, {}), f"{method.upper()} {path} missing"
    # schemathesis validates the document itself when loading it
    schemathesis.openapi.from_dict(document)


def test_no_generated_request_is_a_server_error(api_schema: Any, live_api: dict[str, Any]) -> None:
    """Each operation gets generated requests (valid and invalid); none may answer 5xx."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= len(CONTRACT)
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def exercise(case: Any) -> None:
            who = "board" if case.method.upper() == "GET" else "firm_a"
            parameters = case.path_parameters or {}
            if "declaration_id" in parameters and len(str(parameters)) % 2:
                parameters["declaration_id"] = live_api["declaration"]["id"]
            case.call_and_validate(
                base_url=live_api["base"],
                headers={"Authorization": f"Bearer {live_api['tokens'][who]}"},
                checks=[not_a_server_error],
            )

        try:
            exercise()
        except Exception as exc:  # collect all operations' failures, then report them together
            failures.append(f"{operation.label}: {str(exc)[:800]}")
    assert not failures, "\n\n".join(failures)
