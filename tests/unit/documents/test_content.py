"""Document content is checked when it is built: ids, times, URLs, kind-specific fields."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime

import msgspec
import pytest

from border_gate.documents.content import (
    DocumentContent,
    DocumentContentError,
    DocumentKind,
    ReportSection,
)
from tests.unit.documents.conftest import sample_content, sample_report
from workflows.model import Stage


def test_document_id_is_normalised_to_the_canonical_uuid() -> None:
    raw = uuid.uuid4()
    content = sample_content(DocumentKind.YARD_TICKET, document_id=str(raw).upper())
    assert content.document_id == str(raw)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"document_id": "not-a-uuid"}, "UUID"),
        ({"issued_at": datetime(2026, 11, 23, 14, 30)}, "timezone-aware"),
        ({"verify_url": "javascript:alert(1)"}, "http(s)"),
        ({"timezone": "Mars/Olympus"}, "IANA"),
    ],
)
def test_bad_common_fields_are_refused(overrides: dict[str, object], fragment: str) -> None:
    with pytest.raises(DocumentContentError, match=re.escape(fragment)):
        sample_content(DocumentKind.YARD_TICKET, **overrides)


def test_a_quarantine_certificate_needs_a_quarantine_stage() -> None:
    with pytest.raises(DocumentContentError, match="quarantine stage"):
        sample_content(DocumentKind.QUARANTINE_CERTIFICATE, stage=Stage.CUSTOMS)


def test_a_customs_release_needs_its_channel() -> None:
    with pytest.raises(DocumentContentError, match="channel"):
        sample_content(DocumentKind.CUSTOMS_RELEASE, channel=None)


def test_a_report_is_not_a_declaration_document() -> None:
    with pytest.raises(DocumentContentError, match="ReportContent"):
        sample_content(DocumentKind.REPORT)


def test_text_is_stored_composed_so_fonts_and_text_extraction_agree() -> None:
    decomposed = unicodedata.normalize("NFD", "Sầu riêng tươi")
    content = sample_content(
        DocumentKind.YARD_TICKET, driver_name=unicodedata.normalize("NFD", "Nguyễn Văn Hùng")
    )
    assert content.driver_name == "Nguyễn Văn Hùng"
    assert unicodedata.is_normalized("NFC", content.driver_name)
    assert decomposed != "Sầu riêng tươi"


def test_content_round_trips_through_json_for_the_worker_queue() -> None:
    content = sample_content(DocumentKind.QUARANTINE_CERTIFICATE)
    decoded = msgspec.json.decode(msgspec.json.encode(content), type=DocumentContent)
    assert decoded == content


def test_a_report_chart_must_be_svg() -> None:
    with pytest.raises(DocumentContentError, match="svg"):
        ReportSection(heading_vi="Biểu đồ", heading_en="Chart", charts_svg=["<img src=x>"])
    assert sample_report().kind is DocumentKind.REPORT
