"""The issuing gate authority's signing key and X.509 certificate: loaded from files or created once.

Production sets AUTHORITY_KEY_FILE and AUTHORITY_CERT_FILE (PEM) to a key and certificate
issued for the board. The embedded default creates, the first time it is needed, a
self-signed certificate and an ECDSA P-256 key under `<DATA_DIR>/authority/` (key mode
0600) and reuses them afterwards; verification pins that certificate, it trusts no CA.

ECDSA P-256 rather than RSA: signing with it costs ~0.1 ms against ~3 ms for RSA-3072,
and both pyHanko and poppler's pdfsig verify it. Loading accepts RSA (≥ 2048 bits) and
ECDSA keys, so a board certificate of either kind works.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

AUTHORITY_DIR_NAME = "authority"
KEY_FILE_NAME = "authority-key.pem"
CERT_FILE_NAME = "authority-cert.pem"
VALIDITY = timedelta(days=3652)  # ten years

# X.520 caps a common name at 64 bytes of UTF-8: the board's full name (72 bytes) does not
# fit, so the CN abbreviates "Khu kinh tế" as KKT, the usual form in Vietnamese documents.
SUBJECT = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Lạng Sơn"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ủy ban nhân dân tỉnh Lạng Sơn"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Cửa khẩu số – Digital Border Gate"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Ban quản lý KKT cửa khẩu Đồng Đăng – Lạng Sơn"),
    ]
)

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class AuthorityError(ValueError):
    """The authority's key or certificate cannot be used; the message names the file."""


@dataclass(frozen=True, eq=False)
class Authority:
    """The key and certificate that sign every document, and where they came from."""

    private_key: SigningKey = field(repr=False)
    certificate: x509.Certificate
    key_file: Path | None
    cert_file: Path | None
    created: bool = False  # True when this call created them (tell the operator where)

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def fingerprint_sha256(self) -> str:
        return hashlib.sha256(self.certificate_der).hexdigest()

    @property
    def common_name(self) -> str:
        return certificate_common_name(self.certificate)


def certificate_common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        value = names[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return certificate.subject.rfc4514_string()


def load_or_create_authority(
    data_dir: Path, key_file: Path | None = None, cert_file: Path | None = None
) -> Authority:
    """The configured authority (both files given) or the embedded one under data_dir.

    Raises AuthorityError, naming the file, when a file cannot be read, is not PEM, or the
    key does not belong to the certificate. Safe when several processes start at once:
    exactly one creates the pair, the others load it.
    """
    if (key_file is None) != (cert_file is None):
        raise AuthorityError(
            "Cần cả tệp khóa và tệp chứng thư (AUTHORITY_KEY_FILE, AUTHORITY_CERT_FILE) / "
            "give both the key file and the certificate file, or neither"
        )
    if key_file is not None and cert_file is not None:
        return load_authority(key_file, cert_file)

    directory = Path(data_dir) / AUTHORITY_DIR_NAME
    key_path, cert_path = directory / KEY_FILE_NAME, directory / CERT_FILE_NAME
    if key_path.exists() or cert_path.exists():
        return load_authority(key_path, cert_path)
    created = _create_in(directory)
    authority = load_authority(key_path, cert_path)
    return Authority(
        authority.private_key, authority.certificate, key_path, cert_path, created=created
    )


def load_authority(key_file: Path, cert_file: Path) -> Authority:
    """Load a PEM private key and its PEM certificate, checking that they belong together."""
    certificate = load_certificate(cert_file)
    try:
        key_pem = Path(key_file).read_bytes()
    except OSError as exc:
        raise AuthorityError(
            f"Không đọc được tệp khóa {str(key_file)!r}: {exc.strerror or exc} / "
            f"cannot read the key file {str(key_file)!r}"
        ) from None
    try:
        private_key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AuthorityError(
            f"Tệp khóa {str(key_file)!r} không phải khóa riêng PEM không mật khẩu / "
            f"the key file {str(key_file)!r} is not an unencrypted PEM private key ({exc})"
        ) from None
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 2048:
            raise AuthorityError(
                f"Khóa RSA trong {str(key_file)!r} quá ngắn / RSA key in {str(key_file)!r} "
                f"is {private_key.key_size} bits; 2048 at least"
            )
    elif not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise AuthorityError(
            f"Tệp khóa {str(key_file)!r} phải là khóa RSA hoặc ECDSA / "
            f"the key in {str(key_file)!r} must be RSA or ECDSA"
        )
    if _spki(private_key.public_key()) != _spki(certificate.public_key()):
        raise AuthorityError(
            f"Khóa {str(key_file)!r} không khớp chứng thư {str(cert_file)!r} / "
            f"the key {str(key_file)!r} does not belong to the certificate {str(cert_file)!r}"
        )
    now = datetime.now(UTC)
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise AuthorityError(
            f"Chứng thư {str(cert_file)!r} hết hạn hoặc chưa có hiệu lực "
            f"({certificate.not_valid_before_utc:%Y-%m-%d} – "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}) / the certificate "
            f"{str(cert_file)!r} is not valid now"
        )
    return Authority(private_key, certificate, Path(key_file), Path(cert_file))


def load_certificate(cert_file: Path) -> x509.Certificate:
    """A PEM (or DER) certificate from a file; AuthorityError naming the file otherwise."""
    try:
        raw = Path(cert_file).read_bytes()
    except OSError as exc:
        raise AuthorityError(
            f"Không đọc được tệp chứng thư {str(cert_file)!r}: {exc.strerror or exc} / "
            f"cannot read the certificate file {str(cert_file)!r}"
        ) from None
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise AuthorityError(
            f"Tệp {str(cert_file)!r} không phải chứng thư X.509 / "
            f"{str(cert_file)!r} is not an X.509 certificate ({exc})"
        ) from None


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_self_signed(
    now: datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A fresh ECDSA P-256 key and a ten-year self-signed certificate for the authority."""
    now = now or datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(SUBJECT)
        .issuer_name(SUBJECT)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # An hour of slack so a verifier whose clock runs behind still accepts it.
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _create_in(directory: Path) -> bool:
    """Create the key pair in `directory`; False when another process did it first."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    key, certificate = new_self_signed()
    staging = Path(tempfile.mkdtemp(prefix=".authority-", dir=directory.parent))
    try:
        key_fd = os.open(staging / KEY_FILE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(key_fd, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        (staging / CERT_FILE_NAME).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        # Renaming a directory is atomic: the key and certificate appear together, and a
        # second process racing us finds the target taken and loads ours instead.
        try:
            os.rename(staging, directory)
        except OSError:
            if (directory / KEY_FILE_NAME).exists():
                return False
            raise
        return True
    except OSError as exc:
        raise AuthorityError(
            f"Không tạo được khóa ký số trong {str(directory)!r}: {exc.strerror or exc} / "
            f"cannot create the signing key in {str(directory)!r}"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
