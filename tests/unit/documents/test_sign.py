"""Signing: poppler's pdfsig accepts every document as validly signed over the whole file."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.pdf_utils.reader import PdfFileReader

from border_gate.documents.authority import Authority, load_authority, new_self_signed
from border_gate.documents.content import DocumentKind
from border_gate.documents.pipeline import ProducedDocument, produce
from border_gate.documents.render import render_pdf
from border_gate.documents.sign import (
    SigningError,
    async_sign_pdf,
    sign_pdf,
    signature_field_name,
)
from border_gate.documents.verify import verify_pdf
from tests.unit.documents.conftest import ALL_KINDS, needs_tool, sample_content, write


def pdfsig(tmp_path: Path, pdf: bytes) -> str:
    tool = needs_tool("pdfsig", "poppler-utils")
    path = write(tmp_path, "signed.pdf", pdf)
    return subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_pdfsig_finds_one_valid_signature_over_the_whole_file(
    kind: DocumentKind, produced: dict[DocumentKind, ProducedDocument], tmp_path: Path
) -> None:
    report = pdfsig(tmp_path, produced[kind].pdf)
    assert report.count("Signature #") == 1
    assert "Signature is Valid" in report
    assert "Total document signed" in report
    assert "Ban quản lý KKT cửa khẩu Đồng Đăng – Lạng Sơn" in report
    assert f"Signature Field Name: {signature_field_name(produced[kind].document_id)}" in report


def test_the_document_id_is_inside_the_signed_bytes(
    produced: dict[DocumentKind, ProducedDocument],
) -> None:
    document = produced[DocumentKind.CLEARANCE_CERTIFICATE]
    reader = PdfFileReader(BytesIO(document.pdf))
    (signature,) = reader.embedded_signatures
    assert signature.field_name == signature_field_name(document.document_id)
    assert f"document-id:{document.document_id}" in str(reader.trailer["/Info"]["/Keywords"])
    # Everything but the signature value's own hole is signed, field name and keywords too.
    start, first_length, second_start, second_length = signature.byte_range
    hole = document.pdf[first_length:second_start]
    assert start == 0 and second_start + second_length == len(document.pdf)
    assert hole.startswith(b"<") and hole.endswith(b">")
    assert hole[1:-1].strip(b"0123456789abcdefABCDEF") == b""


def test_the_sha256_is_of_the_signed_bytes(
    produced: dict[DocumentKind, ProducedDocument],
) -> None:
    document = produced[DocumentKind.YARD_TICKET]
    assert document.sha256 == hashlib.sha256(document.pdf).hexdigest()
    assert document.size == len(document.pdf)
    assert document.timings.render_ms > 0 and document.timings.signing_ms > 0


def test_an_rsa_authority_from_files_signs_too(tmp_path: Path) -> None:
    """A board certificate with an RSA key (the production case) works unchanged."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _, ec_certificate = new_self_signed()
    key_usage = ec_certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(ec_certificate.subject)
        .issuer_name(ec_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ec_certificate.not_valid_before_utc)
        .not_valid_after(ec_certificate.not_valid_after_utc)
        .add_extension(key_usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    key_file = write(
        tmp_path,
        "board-key.pem",
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    cert_file = write(
        tmp_path, "board-cert.pem", certificate.public_bytes(serialization.Encoding.PEM)
    )
    authority = load_authority(key_file, cert_file)
    document = produce(sample_content(DocumentKind.CUSTOMS_RELEASE), authority)
    report = pdfsig(tmp_path, document.pdf)
    assert "Signature is Valid" in report and "Total document signed" in report
    assert verify_pdf(document.pdf, authority.certificate).genuine


def test_signing_twice_with_the_cached_cms_template_stays_valid(
    authority: Authority, tmp_path: Path
) -> None:
    content = sample_content(DocumentKind.YARD_TICKET)
    unsigned = render_pdf(content)
    first = sign_pdf(unsigned, authority, content.document_id)
    second = sign_pdf(unsigned, authority, content.document_id)
    for signed in (first, second):
        result = verify_pdf(signed, authority.certificate)
        assert result.genuine, result.reason
        assert result.document_id == content.document_id
    assert "Signature is Valid" in pdfsig(tmp_path, second)


def test_inside_an_event_loop_sign_pdf_refuses_and_async_sign_pdf_works(
    authority: Authority,
) -> None:
    content = sample_content(DocumentKind.YARD_TICKET)
    unsigned = render_pdf(content)

    async def inside_a_loop() -> bytes:
        with pytest.raises(SigningError, match="async_sign_pdf"):
            sign_pdf(unsigned, authority, content.document_id)
        return await async_sign_pdf(unsigned, authority, content.document_id)

    signed = asyncio.run(inside_a_loop())
    assert verify_pdf(signed, authority.certificate).genuine


def test_a_document_id_that_is_not_a_uuid_is_refused(authority: Authority) -> None:
    unsigned = render_pdf(sample_content(DocumentKind.YARD_TICKET))
    with pytest.raises(SigningError, match="UUID"):
        sign_pdf(unsigned, authority, "HN.2026.1")
