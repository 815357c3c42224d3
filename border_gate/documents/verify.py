"""Decide, offline, whether a PDF is a genuine, unaltered document of the gate authority.

Genuine means all of: the bytes parse as a PDF; it carries exactly one signature; that
signature was made with the authority's certificate (compared byte for byte — no CA chain
is trusted, so a look-alike certificate from another key fails); the signed attributes
match the bytes and the signature value matches the attributes; and the signed byte
range is the whole file (an appended byte, an incremental update or a changed byte each
fail). The document id is read from the signature field name and must agree with the
`document-id:` keyword when the metadata has one.

Hostile input never raises: anything unexpected — truncated files, random bytes, crafted
object graphs, oversized uploads — gives `genuine=False` with a reason in both languages.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from io import BytesIO

import msgspec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko.sign.validation.status import SignatureCoverageLevel

from border_gate.documents.authority import certificate_common_name
from border_gate.documents.sign import KEYWORD_PREFIX, document_id_from_field_name

log = logging.getLogger(__name__)

#: Bigger than any document the platform makes (tens of kB; a report with charts, a few
#: hundred); refuse before parsing anything larger.
MAX_PDF_BYTES = 20 * 1024 * 1024
_ACCEPTED_DIGESTS = {"sha256", "sha384", "sha512"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class PdfVerification(msgspec.Struct, frozen=True, kw_only=True):
    genuine: bool
    reason: str  # why (not) genuine, Vietnamese / English
    document_id: str | None = None  # only set when genuine
    signed_at: datetime | None = None
    signer: str | None = None  # the signing certificate's common name
    sha256: str | None = None  # of the bytes examined


def _refused(reason_vi: str, reason_en: str, sha256: str | None = None) -> PdfVerification:
    return PdfVerification(genuine=False, reason=f"{reason_vi} / {reason_en}", sha256=sha256)


def verify_pdf(
    data: bytes,
    authority_cert: x509.Certificate | Iterable[x509.Certificate],
    *,
    max_bytes: int = MAX_PDF_BYTES,
) -> PdfVerification:
    """Check `data` against the authority certificate; never raises on bad input.

    Pass several certificates (the current one and those it replaced) to keep documents
    signed before a key rotation verifiable.
    """
    certificates = (
        [authority_cert] if isinstance(authority_cert, x509.Certificate) else list(authority_cert)
    )
    accepted = {
        certificate.public_bytes(serialization.Encoding.DER) for certificate in certificates
    }
    try:
        data = bytes(data)
    except (TypeError, ValueError):
        return _refused("Không phải dữ liệu nhị phân", "not bytes")
    if len(data) > max_bytes:
        return _refused(
            f"Tệp quá lớn ({len(data):,} byte; tối đa {max_bytes:,})",
            f"file too large ({len(data):,} bytes; at most {max_bytes:,})",
        )
    sha256 = hashlib.sha256(data).hexdigest()
    if not data.startswith(b"%PDF-"):
        return _refused("Không phải tệp PDF", "not a PDF file", sha256)
    try:
        return _verify(data, accepted, sha256)
    except Exception as exc:
        # pyHanko raises many kinds of errors on malformed input (and a crafted file can hit
        # paths nobody anticipated): any of them means "cannot be verified".
        log.debug("PDF verification failed on malformed input", exc_info=True)
        return _refused(
            "Tệp PDF hỏng hoặc không đọc được",
            f"the PDF is damaged or unreadable ({type(exc).__name__})",
            sha256,
        )


def _verify(data: bytes, accepted: set[bytes], sha256: str) -> PdfVerification:
    reader = PdfFileReader(BytesIO(data), strict=True)
    signatures = reader.embedded_signatures
    if not signatures:
        return _refused("Tệp không có chữ ký số", "the file carries no digital signature", sha256)
    if len(signatures) > 1:
        return _refused(
            f"Tệp có {len(signatures)} chữ ký; văn bản của cửa khẩu có đúng một",
            f"the file carries {len(signatures)} signatures; a gate document has exactly one",
            sha256,
        )
    signature = signatures[0]
    if signature.sig_object_type != "/Sig":
        return _refused("Chữ ký không phải loại /Sig", "not a /Sig signature", sha256)

    signer_cert = signature.signer_cert
    signer_name = certificate_common_name(x509.load_der_x509_certificate(signer_cert.dump()))
    if signer_cert.dump() not in accepted:
        return PdfVerification(
            genuine=False,
            reason=f"Chữ ký không phải của cơ quan ban hành (ký bởi {signer_name!r}) / "
            f"not signed by the issuing authority's certificate (signed by {signer_name!r})",
            signer=signer_name,
            sha256=sha256,
        )

    if signature.md_algorithm not in _ACCEPTED_DIGESTS:
        return _refused(
            f"Thuật toán băm {signature.md_algorithm} không được chấp nhận",
            f"digest algorithm {signature.md_algorithm} is not accepted",
            sha256,
        )
    byte_range = [int(value) for value in signature.byte_range]
    whole_file = (
        len(byte_range) == 4
        and byte_range[0] == 0
        and byte_range[2] + byte_range[3] == len(data)
        and byte_range[2] > byte_range[1]
    )
    signature.compute_integrity_info(skip_diff=True)
    if not whole_file or signature.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return _refused(
            "Chữ ký không bao trùm toàn bộ tệp: tệp đã bị thêm hoặc sửa sau khi ký",
            "the signature does not cover the whole file: something was added or changed "
            "after signing",
            sha256,
        )
    try:
        intact, valid = validate_sig_integrity(
            signature.signer_info,
            signer_cert,
            expected_content_type="data",
            actual_digest=signature.compute_digest(),
        )
    except SignatureValidationError as exc:
        return _refused(
            "Cấu trúc chữ ký không hợp lệ",
            f"the signature structure is invalid ({exc.failure_message})",
            sha256,
        )
    if not intact:
        return _refused(
            "Nội dung tệp đã bị thay đổi sau khi ký",
            "the file's content was changed after signing",
            sha256,
        )
    if not valid:
        return _refused(
            "Giá trị chữ ký số không đúng",
            "the signature value does not verify",
            sha256,
        )

    document_id = document_id_from_field_name(signature.field_name)
    if document_id is None or not _UUID.match(document_id):
        return _refused(
            "Chữ ký không mang mã văn bản của cửa khẩu",
            "the signature does not carry a gate document id",
            sha256,
        )
    keyword_id = _keyword_document_id(reader)
    if keyword_id is not None and keyword_id != document_id:
        return _refused(
            "Mã văn bản trong chữ ký và trong thuộc tính tệp khác nhau",
            "the document id in the signature and in the file properties differ",
            sha256,
        )
    return PdfVerification(
        genuine=True,
        reason=f"Văn bản thật, chưa bị sửa, ký bởi {signer_name} / "
        f"genuine and unaltered, signed by {signer_name}",
        document_id=document_id,
        signed_at=signature.self_reported_timestamp,
        signer=signer_name,
        sha256=sha256,
    )


def _keyword_document_id(reader: PdfFileReader) -> str | None:
    try:
        keywords = str(reader.trailer["/Info"]["/Keywords"])
    except (KeyError, TypeError):
        return None
    for keyword in keywords.split(","):
        keyword = keyword.strip()
        if keyword.startswith(KEYWORD_PREFIX):
            return keyword[len(KEYWORD_PREFIX) :]
    return None
