"""Seal a rendered PDF with the gate authority's PAdES signature (pyHanko, B-B level).

What the signature carries
  - An incremental update written by pyHanko: an invisible signature field, its
    signature dictionary (/SubFilter ETSI.CAdES.detached, /M = signing time, /Reason,
    /Location) and a CMS SignedData over the whole file except the /Contents hole. Nothing
    is appended after it, so the signature covers the entire file: pdfsig prints "Total
    document signed" and any later byte breaks it.
  - The document id, twice, both inside the signed bytes:
      * the signature field's name, `border-gate-document-<uuid>` — what `verify_pdf`
        reads (pdfsig shows it as "Signature Field Name");
      * the PDF keywords (Info /Keywords and XMP pdf:Keywords, written by the renderer
        from <meta name="keywords">) as `document-id:<uuid>` — what a PDF reader's
        "document properties" shows; `verify_pdf` checks the two agree.
  - No timestamp token (no network at the gate): PAdES B-B.

Speed: pyHanko builds the CMS with asn1crypto, which re-serialises the certificate
attributes on every signature (~15 ms). `AuthoritySigner` lets pyHanko build one
reference CMS per authority, checks that it can rebuild that CMS byte for byte from
parts, and afterwards assembles each CMS from those DER parts, the new digest and the
new signature value: same bytes pyHanko would write, a few hundred microseconds.

PDF version: pyHanko declares ISO/TS 32002 (ECDSA in PDF) and bumps the file to PDF 2.0
when the key is ECDSA. PDF/A-3 is built on PDF 1.7, so `_PdfA3Signer` registers only
the ETSI ESIC extension, the way PAdES signs PDF 1.7 files; poppler and pyHanko verify
ECDSA signatures there all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from io import BytesIO
from typing import Any
from weakref import WeakKeyDictionary

from asn1crypto import cms
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers import PdfSignatureMetadata, PdfSigner, SimpleSigner
from pyhanko.sign.signers import constants as signer_constants
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko_certvalidator.registry import SimpleCertificateStore

from border_gate.documents.authority import Authority

SIGNATURE_FIELD_PREFIX = "border-gate-document-"
KEYWORD_PREFIX = "document-id:"
DIGEST_ALGORITHM = "sha256"
SIGNATURE_REASON = "Văn bản điện tử do cửa khẩu số ban hành / issued by the digital border gate"
SIGNATURE_LOCATION = "Lạng Sơn, Việt Nam"


class SigningError(RuntimeError):
    """The PDF could not be signed."""


def signature_field_name(document_id: str) -> str:
    return f"{SIGNATURE_FIELD_PREFIX}{document_id}"


def document_id_from_field_name(field_name: str | None) -> str | None:
    if field_name and field_name.startswith(SIGNATURE_FIELD_PREFIX):
        return field_name[len(SIGNATURE_FIELD_PREFIX) :] or None
    return None


# --- The CMS, assembled from DER parts --------------------------------------------------


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV with a definite length."""
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


class _CmsTemplate:
    """The constant DER parts of the authority's SignedData, around digest and signature."""

    def __init__(self, reference: cms.ContentInfo, digest: bytes) -> None:
        signed_data = reference["content"]
        if signed_data["crls"].native or len(signed_data["signer_infos"]) != 1:
            raise ValueError("unexpected reference CMS shape")
        signer_info = signed_data["signer_infos"][0]
        if signer_info["unsigned_attrs"].native:
            raise ValueError("reference CMS has unsigned attributes")
        self.content_type = reference["content_type"].dump()
        self.signed_data_head = b"".join(
            signed_data[name].dump()
            for name in ("version", "digest_algorithms", "encap_content_info", "certificates")
        )
        self.signer_info_head = b"".join(
            signer_info[name].dump() for name in ("version", "sid", "digest_algorithm")
        )
        self.signature_algorithm = signer_info["signature_algorithm"].dump()
        attributes = [attribute.dump() for attribute in signer_info["signed_attrs"]]
        digest_attributes = [i for i, der in enumerate(attributes) if der.endswith(digest)]
        if len(digest_attributes) != 1:
            raise ValueError("message digest not found in the reference attributes")
        index = digest_attributes[0]
        self.attributes_before = b"".join(attributes[:index])
        self.digest_attribute_head = attributes[index][: -len(digest)]
        self.attributes_after = b"".join(attributes[index + 1 :])
        self.digest_length = len(digest)

    def signed_attributes(self, digest: bytes) -> bytes:
        """The content of the signed-attributes SET for `digest` (DER order is unchanged:
        every attribute keeps its length)."""
        if len(digest) != self.digest_length:
            raise ValueError("digest length changed")
        return self.attributes_before + self.digest_attribute_head + digest + self.attributes_after

    def content_info(self, attributes: bytes, signature: bytes) -> bytes:
        signer_info = _der(
            0x30,
            self.signer_info_head
            + _der(0xA0, attributes)  # [0] IMPLICIT SET OF Attribute
            + self.signature_algorithm
            + _der(0x04, signature),
        )
        signed_data = _der(0x30, self.signed_data_head + _der(0x31, signer_info))
        return _der(0x30, self.content_type + _der(0xA0, signed_data))


class AuthoritySigner(SimpleSigner):
    """pyHanko's SimpleSigner for the authority key, with the CMS assembled from a template."""

    def __init__(self, authority: Authority) -> None:
        key = authority.private_key
        certificate = asn1_x509.Certificate.load(authority.certificate_der)
        key_info = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        super().__init__(
            signing_cert=certificate,
            signing_key=key_info,
            cert_registry=SimpleCertificateStore(),
        )
        self._key = key
        self._templates: dict[str, _CmsTemplate] = {}
        self._template_lock = threading.Lock()

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        # SimpleSigner re-parses the PKCS#8 key on every call; keep the loaded key instead.
        algorithm = _hash(digest_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        if isinstance(self._key, rsa.RSAPrivateKey) and not self.prefer_pss:
            return self._key.sign(data, padding.PKCS1v15(), algorithm)
        return super().sign_raw(data, digest_algorithm)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        return self.sign_raw(data, digest_algorithm)

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: PdfCMSSignedAttributes | None = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        settings = signed_attr_settings or PdfCMSSignedAttributes()
        plain = (
            use_pades
            and is_pdf_sig
            and not dry_run
            and timestamper is None
            and encap_content_info is None
            and settings.cades_signed_attrs is None
            and settings.adobe_revinfo_attr is None
        )
        if not plain:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        template = self._templates.get(digest_algorithm)
        if template is None:
            template = await self._build_template(digest_algorithm, settings)
        attributes = template.signed_attributes(data_digest)
        # The signature covers the attributes as a universal SET OF, not as [0] IMPLICIT.
        signature = self.sign_raw(_der(0x31, attributes), digest_algorithm)
        return cms.ContentInfo.load(template.content_info(attributes, signature))

    async def _build_template(
        self, digest_algorithm: str, settings: PdfCMSSignedAttributes
    ) -> _CmsTemplate:
        # A digest pyHanko could never be given, so finding it in the DER is unambiguous.
        probe = hashlib.new(digest_algorithm, b"border-gate cms template probe").digest()
        reference = await super().async_sign(
            probe, digest_algorithm, use_pades=True, signed_attr_settings=settings
        )
        template = _CmsTemplate(reference, probe)
        signer_info = reference["content"]["signer_infos"][0]
        rebuilt = template.content_info(
            template.signed_attributes(probe), signer_info["signature"].native
        )
        if rebuilt != reference.dump():
            raise SigningError(
                "Mẫu CMS không khớp với pyHanko / the CMS template does not reproduce "
                "pyHanko's signature; refusing to sign"
            )
        with self._template_lock:
            self._templates[digest_algorithm] = template
        return template


def _hash(digest_algorithm: str) -> hashes.HashAlgorithm:
    algorithms: dict[str, hashes.HashAlgorithm] = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    try:
        return algorithms[digest_algorithm]
    except KeyError:
        raise SigningError(f"unsupported digest algorithm {digest_algorithm}") from None


class _PdfA3Signer(PdfSigner):
    def register_extensions(self, pdf_out: BasePdfFileWriter, *, md_algorithm: str) -> None:
        # Keep the file at PDF 1.7 (PDF/A-3): declare PAdES' ESIC extension only, not
        # ISO/TS 32002, which would make pyHanko bump the catalog to PDF 2.0 for ECDSA.
        pdf_out.ensure_output_version(version=(1, 7))
        pdf_out.register_extension(signer_constants.ESIC_EXTENSION_1)


_signers: WeakKeyDictionary[Authority, AuthoritySigner] = WeakKeyDictionary()
_signers_lock = threading.Lock()


def authority_signer(authority: Authority) -> AuthoritySigner:
    """The (cached) pyHanko signer of `authority`."""
    with _signers_lock:
        signer = _signers.get(authority)
        if signer is None:
            signer = AuthoritySigner(authority)
            _signers[authority] = signer
        return signer


def _reserved_bytes(authority: Authority) -> int:
    # The CMS holds the certificate, the attributes (the issuer's name again, ~400 bytes
    # with structure) and the signature value (≤ 512 bytes for RSA-4096); pyHanko counts
    # the reservation in hex digits, two per byte. The rest is zero padding.
    needed = 2 * (len(authority.certificate_der) + 1536)
    return -(-needed // 256) * 256


async def async_sign_pdf(pdf: bytes, authority: Authority, document_id: str) -> bytes:
    """The signed PDF; for callers already inside an event loop."""
    try:
        # A UUID keeps the field name free of '.', which PDF reads as a field hierarchy.
        document_id = str(uuid.UUID(document_id))
    except (ValueError, TypeError, AttributeError):
        raise SigningError(
            f"Mã văn bản phải là UUID: {document_id!r} / the document id must be a UUID"
        ) from None
    signer = authority_signer(authority)
    metadata = PdfSignatureMetadata(
        field_name=signature_field_name(document_id),
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=SigSeedSubFilter.PADES,
        reason=SIGNATURE_REASON,
        location=SIGNATURE_LOCATION,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf))
        output = await _PdfA3Signer(metadata, signer).async_sign_pdf(
            writer, bytes_reserved=_reserved_bytes(authority)
        )
    except SigningError:
        raise
    except Exception as exc:
        raise SigningError(f"Không ký được văn bản / cannot sign the PDF: {exc}") from exc
    return output.getvalue()


def sign_pdf(pdf: bytes, authority: Authority, document_id: str) -> bytes:
    """Sign `pdf` as the authority, the document id in the signature field name.

    Synchronous, for worker threads (pyHanko is asynchronous inside and gets a fresh event
    loop per call; keeping one loop per thread measured no faster). Called from a thread
    that is running an event loop, it raises SigningError: await async_sign_pdf instead.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(async_sign_pdf(pdf, authority, document_id))
    raise SigningError(
        "sign_pdf chạy trong vòng lặp sự kiện: dùng async_sign_pdf / "
        "sign_pdf called inside a running event loop: await async_sign_pdf instead"
    )
