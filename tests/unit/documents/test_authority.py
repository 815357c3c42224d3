"""The authority's key and certificate: created once, reloaded after, mismatches reported."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509

from border_gate.documents.authority import (
    AuthorityError,
    load_authority,
    load_or_create_authority,
)


def test_creation_happens_once_then_the_same_pair_is_loaded(tmp_path: Path) -> None:
    first = load_or_create_authority(tmp_path)
    second = load_or_create_authority(tmp_path)
    assert first.created and not second.created
    assert first.fingerprint_sha256 == second.fingerprint_sha256
    assert first.key_file == tmp_path / "authority" / "authority-key.pem"
    assert stat.S_IMODE(first.key_file.stat().st_mode) == 0o600


def test_the_certificate_is_a_ten_year_signing_certificate(tmp_path: Path) -> None:
    certificate = load_or_create_authority(tmp_path).certificate
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert not usage.key_cert_sign
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days >= 3650
    assert "C=VN" in certificate.subject.rfc4514_string()
    assert certificate.issuer == certificate.subject


def test_processes_starting_together_agree_on_one_pair(tmp_path: Path) -> None:
    results: list[tuple[bool, str]] = []
    barrier = threading.Barrier(6)

    def start() -> None:
        barrier.wait()
        authority = load_or_create_authority(tmp_path)
        results.append((authority.created, authority.fingerprint_sha256))

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({fingerprint for _, fingerprint in results}) == 1
    assert sum(created for created, _ in results) == 1


def test_configured_files_are_loaded_as_given(tmp_path: Path) -> None:
    made = load_or_create_authority(tmp_path / "made")
    assert made.key_file is not None and made.cert_file is not None
    loaded = load_or_create_authority(tmp_path / "unused", made.key_file, made.cert_file)
    assert not loaded.created
    assert loaded.fingerprint_sha256 == made.fingerprint_sha256
    assert not (tmp_path / "unused").exists()


def test_a_key_that_does_not_match_the_certificate_is_reported(tmp_path: Path) -> None:
    one = load_or_create_authority(tmp_path / "one")
    two = load_or_create_authority(tmp_path / "two")
    assert one.key_file is not None and two.cert_file is not None
    with pytest.raises(AuthorityError, match="does not belong") as caught:
        load_authority(one.key_file, two.cert_file)
    assert str(one.key_file) in str(caught.value)
    assert str(two.cert_file) in str(caught.value)


def test_an_unreadable_or_broken_file_is_named(tmp_path: Path) -> None:
    made = load_or_create_authority(tmp_path / "made")
    assert made.key_file is not None and made.cert_file is not None
    missing = tmp_path / "missing-key.pem"
    with pytest.raises(AuthorityError, match=r"missing-key\.pem"):
        load_authority(missing, made.cert_file)
    broken = tmp_path / "broken-cert.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(AuthorityError, match=r"broken-cert\.pem"):
        load_authority(made.key_file, broken)
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    with pytest.raises(AuthorityError, match=r"not-a-key\.pem"):
        load_authority(not_a_key, made.cert_file)


def test_half_a_configured_pair_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuthorityError, match="both"):
        load_or_create_authority(tmp_path, key_file=tmp_path / "key.pem")


def test_half_an_embedded_pair_is_reported_not_replaced(tmp_path: Path) -> None:
    made = load_or_create_authority(tmp_path)
    assert made.cert_file is not None
    made.cert_file.unlink()
    with pytest.raises(AuthorityError, match=r"authority-cert\.pem"):
        load_or_create_authority(tmp_path)
