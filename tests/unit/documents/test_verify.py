"""verify_pdf: genuine only for the untouched file the authority signed; never raises."""

from __future__ import annotations

import os
from io import BytesIO

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from border_gate.documents.authority import Authority
from border_gate.documents.content import DocumentKind
from border_gate.documents.pipeline import ProducedDocument
from border_gate.documents.render import render_pdf
from border_gate.documents.sign import sign_pdf
from border_gate.documents.verify import PdfVerification, verify_pdf
from tests.unit.documents.conftest import sample_content


def not_genuine(result: PdfVerification, fragment: str) -> None:
    assert not result.genuine
    assert result.document_id is None
    assert " / " in result.reason  # bilingual
    assert fragment in result.reason, result.reason


def test_the_produced_document_is_genuine(
    produced: dict[DocumentKind, ProducedDocument], authority: Authority
) -> None:
    for document in produced.values():
        result = verify_pdf(document.pdf, authority.certificate)
        assert result.genuine, result.reason
        assert result.document_id == document.document_id
        assert result.sha256 == document.sha256
        assert result.signer == "Ban quản lý KKT cửa khẩu Đồng Đăng – Lạng Sơn"
        assert result.signed_at is not None and result.signed_at.tzinfo is not None


def test_one_changed_byte_in_the_middle_is_detected(
    certificate_pdf: bytes, authority: Authority
) -> None:
    tampered = bytearray(certificate_pdf)
    tampered[len(tampered) // 2] ^= 0x01
    assert not verify_pdf(bytes(tampered), authority.certificate).genuine


@pytest.mark.parametrize("where", ["header", "first stream"])
def test_a_changed_byte_that_still_parses_is_detected(
    where: str, certificate_pdf: bytes, authority: Authority
) -> None:
    if where == "header":
        tampered = certificate_pdf.replace(b"%PDF-1.7", b"%PDF-1.6", 1)
    else:
        at = certificate_pdf.index(b"stream\n") + len(b"stream\n") + 10
        tampered = (
            certificate_pdf[:at] + bytes([certificate_pdf[at] ^ 0xFF]) + certificate_pdf[at + 1 :]
        )
    assert tampered != certificate_pdf and len(tampered) == len(certificate_pdf)
    not_genuine(verify_pdf(tampered, authority.certificate), "changed after signing")


@pytest.mark.parametrize("suffix", [b"\n", b"%%EOF\n", b"\x00" * 4096])
def test_appended_bytes_are_detected(
    suffix: bytes, certificate_pdf: bytes, authority: Authority
) -> None:
    result = verify_pdf(certificate_pdf + suffix, authority.certificate)
    assert not result.genuine, result.reason


def test_an_incremental_update_after_signing_is_detected(
    certificate_pdf: bytes, authority: Authority
) -> None:
    writer = IncrementalPdfFileWriter(BytesIO(certificate_pdf))
    info = writer.trailer["/Info"]
    info[generic.NameObject("/Subject")] = generic.TextStringObject("Đã sửa / edited")
    writer.update_container(info)
    output = BytesIO()
    writer.write(output)
    not_genuine(verify_pdf(output.getvalue(), authority.certificate), "whole file")


def test_a_file_signed_by_another_key_with_the_same_name_is_not_genuine(
    authority: Authority, other_authority: Authority
) -> None:
    assert other_authority.certificate.subject == authority.certificate.subject
    content = sample_content(DocumentKind.CUSTOMS_RELEASE)
    forged = sign_pdf(render_pdf(content), other_authority, content.document_id)
    assert verify_pdf(forged, other_authority.certificate).genuine  # valid, for its own key
    result = verify_pdf(forged, authority.certificate)
    not_genuine(result, "not signed by the issuing authority")
    assert result.signer == other_authority.common_name


def test_a_second_signature_makes_it_not_genuine(
    certificate_pdf: bytes, authority: Authority
) -> None:
    resigned = sign_pdf(certificate_pdf, authority, "00000000-0000-4000-8000-000000000000")
    not_genuine(verify_pdf(resigned, authority.certificate), "2 signatures")


def test_an_unsigned_pdf_is_not_genuine(authority: Authority) -> None:
    unsigned = render_pdf(sample_content(DocumentKind.YARD_TICKET))
    not_genuine(verify_pdf(unsigned, authority.certificate), "no digital signature")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"%PDF-",
        b"%PDF-1.7\n" + os.urandom(2048),
        os.urandom(4096),
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
        b"%PDF-1.7\n" + b"[" * 100_000,
        b"%PDF-1.7\n" + b"<<" * 50_000 + b"\nstartxref\n9\n%%EOF",
    ],
    ids=["empty", "header", "random-after-header", "random", "no-xref", "deep-array", "deep-dict"],
)
def test_garbage_is_not_genuine_and_does_not_raise(data: bytes, authority: Authority) -> None:
    result = verify_pdf(data, authority.certificate)
    assert not result.genuine and result.reason


def test_truncated_files_are_not_genuine(certificate_pdf: bytes, authority: Authority) -> None:
    for cut in (10, len(certificate_pdf) // 3, len(certificate_pdf) - 1):
        assert not verify_pdf(certificate_pdf[:cut], authority.certificate).genuine


def test_a_huge_file_is_refused_before_parsing(authority: Authority) -> None:
    not_genuine(
        verify_pdf(b"%PDF-1.7\n" + b"0" * 2048, authority.certificate, max_bytes=1024),
        "too large",
    )
    huge = b"%PDF-1.7\n" + bytes(21 * 1024 * 1024)
    not_genuine(verify_pdf(huge, authority.certificate), "too large")


def test_something_that_is_not_bytes_is_not_genuine(authority: Authority) -> None:
    assert not verify_pdf("not bytes", authority.certificate).genuine  # type: ignore[arg-type]


def test_documents_signed_before_a_key_rotation_verify_with_the_old_certificate(
    authority: Authority, other_authority: Authority
) -> None:
    content = sample_content(DocumentKind.YARD_TICKET)
    signed_before = sign_pdf(render_pdf(content), other_authority, content.document_id)
    current_and_previous = [authority.certificate, other_authority.certificate]
    result = verify_pdf(signed_before, current_and_previous)
    assert result.genuine, result.reason
    assert not verify_pdf(signed_before, [authority.certificate]).genuine
