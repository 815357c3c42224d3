"""Fixtures for the document library: sample content of every kind, authorities, produced PDFs.

Rendering and signing are real (WeasyPrint, pyHanko); the poppler and zbar command-line
tools are used when installed, and the tests that need them skip, naming the Debian
package, when they are not.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from border_gate.documents.authority import Authority, load_or_create_authority
from border_gate.documents.content import (
    CargoLine,
    Content,
    DocumentContent,
    DocumentKind,
    ReportContent,
    ReportSection,
    ReportTable,
)
from border_gate.documents.pipeline import ProducedDocument, produce
from workflows.model import Channel, Direction, Stage

VERIFY_BASE = "https://cuakhauso.langson.gov.vn/verify/"
ISSUED_AT = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 14:30 at the gate

CHART = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 60" width="120mm" height="36mm">'
    '<rect x="10" y="20" width="40" height="40" fill="#1b7f3b"/>'
    '<rect x="60" y="5" width="40" height="55" fill="#b8860b"/>'
    '<rect x="110" y="40" width="40" height="20" fill="#b22222"/></svg>'
)


def needs_tool(name: str, package: str) -> str:
    """The tool's path, or skip the test naming the Debian package that provides it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: apt-get install {package}")
    return path


def sample_content(kind: DocumentKind, **overrides: Any) -> DocumentContent:
    document_id = overrides.pop("document_id", str(uuid.uuid4()))
    values: dict[str, Any] = {
        "document_id": document_id,
        "kind": kind,
        "declaration_id": str(uuid.uuid4()),
        "declaration_number": "HN-2026-000123",
        "direction": Direction.EXPORT,
        "gate_code": "HUU_NGHI",
        "gate_name_vi": "Cửa khẩu quốc tế Hữu Nghị",
        "gate_name_en": "Huu Nghi International Border Gate",
        "plate": "12C-345.67",
        "trailer_plate": "12R-012.34",
        "driver_name": "Nguyễn Văn Hùng",
        "firm_name": "Công ty TNHH Nông sản Xanh Lạng Sơn",
        "issued_at": ISSUED_AT,
        "issuer": "system:customs-screening",
        "verify_url": VERIFY_BASE + document_id,
        "cargo": [
            CargoLine(
                hs_code="08106000",
                description="Sầu riêng tươi",
                gross_weight_kg=18500,
                packages=740,
            ),
            CargoLine(
                hs_code="08045020", description="Xoài tươi", gross_weight_kg=2500.5, packages=100
            ),
        ],
        "facts": [("Số hợp đồng", "Contract no.", "HĐ-2026/77")],
    }
    if kind is DocumentKind.YARD_TICKET:
        values.update(yard_position="B-17", issuer="Lê Văn Bình (bãi / yard)")
    if kind is DocumentKind.QUARANTINE_CERTIFICATE:
        values.update(
            stage=Stage.PLANT_QUARANTINE,
            issuer="Trần Thị Mai",
            decision_reason="Không phát hiện sinh vật gây hại",
        )
    if kind is DocumentKind.CUSTOMS_RELEASE:
        values.update(channel=Channel.GREEN, decision_reason="Luồng xanh: miễn kiểm tra hồ sơ")
    if kind is DocumentKind.CLEARANCE_CERTIFICATE:
        values.update(issuer="Đồn Biên phòng cửa khẩu quốc tế Hữu Nghị")
    values.update(overrides)
    return DocumentContent(**values)


def sample_report(**overrides: Any) -> ReportContent:
    document_id = overrides.pop("document_id", str(uuid.uuid4()))
    values: dict[str, Any] = {
        "document_id": document_id,
        "title_vi": "Báo cáo thông quan tháng 11/2026",
        "title_en": "Clearance report, November 2026",
        "issued_at": ISSUED_AT,
        "issuer": "Ban quản lý — Phòng Tổng hợp",
        "verify_url": VERIFY_BASE + document_id,
        "period": "01/11/2026 – 30/11/2026",
        "sections": [
            ReportSection(
                heading_vi="Lưu lượng xe",
                heading_en="Truck throughput",
                paragraphs=["Số xe qua cửa khẩu tăng 12 % so với tháng trước."],
                charts_svg=[CHART],
                tables=[
                    ReportTable(
                        caption="Theo cửa khẩu / By gate",
                        columns=["Cửa khẩu / Gate", "Xe / Trucks"],
                        rows=[["Hữu Nghị", "21 450"], ["Tân Thanh", "9 870"]],
                        numeric_columns=[1],
                    )
                ],
            )
        ],
    }
    values.update(overrides)
    return ReportContent(**values)


ALL_KINDS = [kind for kind in DocumentKind]


def content_of(kind: DocumentKind) -> Content:
    return sample_report() if kind is DocumentKind.REPORT else sample_content(kind)


@pytest.fixture(scope="session")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return load_or_create_authority(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def other_authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    """A second self-signed authority with the very same subject name, but its own key."""
    return load_or_create_authority(tmp_path_factory.mktemp("impostor"))


@pytest.fixture(scope="session")
def contents() -> dict[DocumentKind, Content]:
    return {kind: content_of(kind) for kind in ALL_KINDS}


@pytest.fixture(scope="session")
def produced(
    contents: dict[DocumentKind, Content], authority: Authority
) -> dict[DocumentKind, ProducedDocument]:
    """One signed document of every kind, made once for the whole session."""
    return {kind: produce(content, authority) for kind, content in contents.items()}


@pytest.fixture(scope="session")
def certificate_pdf(produced: dict[DocumentKind, ProducedDocument]) -> bytes:
    return produced[DocumentKind.QUARANTINE_CERTIFICATE].pdf


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
