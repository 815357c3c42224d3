"""Paperless documents: issued by workers, signed, downloadable, verifiable, kept truthful."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import MACHINERY, World, screened, wait_until


async def documents(w: World, declaration_id: str, user: str = "firm_a") -> list[dict[str, Any]]:
    response = await w.client.get(
        f"/api/v1/declarations/{declaration_id}/documents", headers=w.as_(user)
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def wait_documents(
    w: World,
    declaration_id: str,
    wanted: set[tuple[str, str | None]],
    timeout: float = 90,  # noqa: ASYNC109
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    docs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        docs = await documents(w, declaration_id)
        current = {(d["kind"], d["stage"]) for d in docs if d["status"] == "current"}
        if wanted <= current:
            return docs
        await asyncio.sleep(0.2)
    raise AssertionError(f"documents {wanted} not issued in time; have {docs}")


async def verify_json(w: World, document_id: str) -> dict[str, Any]:
    response = await w.client.get(f"/verify/{document_id}", headers={"Accept": "application/json"})
    return response.json()  # type: ignore[no-any-return]


async def clear_green_truck(w: World) -> str:
    created = await w.file(cargo=MACHINERY)
    await w.submit(created["id"])
    await wait_until(w, created["id"], screened)
    assert (await w.gate_event("gate_in")).status_code == 201
    response = await w.decide(created["id"], "border_guard", "approve", "guard", "Kiểm tra xe đạt")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cleared"
    return created["id"]


async def test_a_cleared_truck_has_signed_verifiable_documents(
    worker_world: World, tmp_path: Path
) -> None:
    w = worker_world
    declaration_id = await clear_green_truck(w)
    docs = await wait_documents(
        w,
        declaration_id,
        {("yard_ticket", None), ("customs_release", None), ("clearance_certificate", None)},
    )
    certificate = next(d for d in docs if d["kind"] == "clearance_certificate")
    download = await w.client.get(certificate["download"], headers=w.as_("firm_a"))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    pdf = download.content
    assert pdf.startswith(b"%PDF-")
    # another firm may not download it
    assert (await w.client.get(certificate["download"], headers=w.as_("firm_b"))).status_code == 404

    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    if shutil.which("pdfsig"):
        report = (
            await asyncio.to_thread(
                subprocess.run, ["pdfsig", str(path)], capture_output=True, text=True
            )
        ).stdout
        assert "Signature is Valid" in report and "Total document signed" in report, report
    if shutil.which("pdftotext"):
        text = (
            await asyncio.to_thread(
                subprocess.run, ["pdftotext", str(path), "-"], capture_output=True, text=True
            )
        ).stdout
        assert "Máy ép viên gỗ" in text and "12C-345.67" in text

    upload = await w.client.post(
        "/api/v1/documents/verify", content=pdf, headers={"Content-Type": "application/pdf"}
    )
    assert upload.status_code == 200, upload.text
    assert upload.json()["genuine"] is True and upload.json()["status"] == "current"
    tampered = bytearray(pdf)
    tampered[len(tampered) // 2] ^= 0x01
    bad = await w.client.post(
        "/api/v1/documents/verify",
        content=bytes(tampered),
        headers={"Content-Type": "application/pdf"},
    )
    assert bad.status_code == 200 and bad.json()["genuine"] is False
    wrong_type = await w.client.post(
        "/api/v1/documents/verify", content=pdf, headers={"Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 422

    page = await verify_json(w, certificate["id"])
    assert page["genuine"] is True and page["status"] == "current"
    assert page["plate"] == "12C-345.67" and page["gate"] == "HUU_NGHI"
    text = str(page)
    assert "Pingxiang" not in text and "160000" not in text  # no consignee, no cargo value
    html = await w.client.get(f"/verify/{certificate['id']}", headers={"Accept": "text/html"})
    assert (
        html.status_code == 200
        and "HỢP LỆ" in html.text
        and "text/html" in html.headers["content-type"]
    )
    unknown = await w.client.get(
        "/verify/01a20000-0000-7000-8000-000000000000", headers={"Accept": "application/json"}
    )
    assert unknown.status_code == 404 and unknown.json()["genuine"] is False


async def test_amendment_supersedes_and_rejection_revokes(worker_world: World) -> None:
    w = worker_world
    created = await w.file()  # durian: plant and health quarantine
    declaration_id = created["id"]
    await w.submit(declaration_id)
    await wait_until(w, declaration_id, screened)
    assert (await w.gate_event("gate_in")).status_code == 201
    assert (
        await w.decide(declaration_id, "plant_quarantine", "approve", "plant", "Đạt")
    ).status_code == 200
    docs = await wait_documents(
        w, declaration_id, {("yard_ticket", None), ("quarantine_certificate", "plant_quarantine")}
    )
    plant = next(d for d in docs if d["kind"] == "quarantine_certificate")
    asked = await w.decide(
        declaration_id,
        "health_quarantine",
        "request_amendment",
        "health",
        "Bổ sung giấy chứng nhận ATTP",
    )
    assert asked.status_code == 200
    current = await w.get(declaration_id)
    amended = await w.client.patch(
        f"/api/v1/declarations/{declaration_id}",
        json={"cargo": [{**current["cargo"][0], "packages": 950}]},
        headers=w.as_("firm_a", **{"If-Match": f'"{current["version"]}"'}),
    )
    assert amended.status_code == 200, amended.text
    page = await verify_json(w, plant["id"])
    assert page["genuine"] is True and page["status"] == "superseded"  # at once
    await w.submit(declaration_id)
    docs = await wait_documents(
        w, declaration_id, {("yard_ticket", None), ("quarantine_certificate", "plant_quarantine")}
    )
    fresh = next(
        d for d in docs if d["kind"] == "quarantine_certificate" and d["status"] == "current"
    )
    assert fresh["id"] != plant["id"]
    rejected = await w.decide(
        declaration_id, "health_quarantine", "reject", "health", "Phát hiện dư lượng thuốc BVTV"
    )
    assert rejected.status_code == 200, rejected.text
    assert (await verify_json(w, fresh["id"]))["status"] == "revoked"
    assert all(d["status"] != "current" for d in await documents(w, declaration_id))


async def test_hold_after_clearance_revokes_the_clearance_certificate(worker_world: World) -> None:
    w = worker_world
    declaration_id = await clear_green_truck(w)
    docs = await wait_documents(w, declaration_id, {("clearance_certificate", None)})
    clearance = next(d for d in docs if d["kind"] == "clearance_certificate")
    held = await w.decide(
        declaration_id, "border_guard", "hold", "guard", "Có tin báo mới, giữ xe kiểm tra"
    )
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "on_hold"
    assert (await verify_json(w, clearance["id"]))["status"] == "revoked"
    gate_out = await w.gate_event("gate_out")
    assert gate_out.status_code in (404, 409)
    resumed = await w.decide(declaration_id, "border_guard", "resume", "guard", "Đã xác minh")
    assert resumed.status_code == 200
    again = await w.decide(declaration_id, "border_guard", "approve", "guard", "Cho xuất cảnh")
    assert again.json()["status"] == "cleared"
    docs = await wait_documents(w, declaration_id, {("clearance_certificate", None)})
    assert sum(1 for d in docs if d["kind"] == "clearance_certificate") == 2


@pytest.mark.parametrize(
    "body", [b"", b"not a pdf", b"%PDF-1.7\n%garbage\n", b"%PDF-" + b"x" * 5000]
)
async def test_verify_upload_refuses_junk_without_500(world: World, body: bytes) -> None:
    response = await world.client.post(
        "/api/v1/documents/verify", content=body, headers={"Content-Type": "application/pdf"}
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["genuine"] is False
