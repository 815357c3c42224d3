"""`border-gate documents verify`: exit 0 genuine, 1 not genuine, 2 usage errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from border_gate.documents.authority import Authority
from border_gate.documents.cli import add_documents_commands, default_certificate_path
from tests.unit.documents.conftest import write


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="border-gate")
    add_documents_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_a_genuine_document_exits_0(
    certificate_pdf: bytes, authority: Authority, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = write(tmp_path, "certificate.pdf", certificate_pdf)
    assert run(["documents", "verify", str(pdf), "--cert", str(authority.cert_file)]) == 0
    out = capsys.readouterr().out
    assert "HỢP LỆ / GENUINE" in out
    assert "document id" in out


def test_a_tampered_document_exits_1(
    certificate_pdf: bytes, authority: Authority, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = write(tmp_path, "certificate.pdf", certificate_pdf + b"\n% appended\n")
    assert run(["documents", "verify", str(pdf), "--cert", str(authority.cert_file)]) == 1
    assert "KHÔNG HỢP LỆ / NOT GENUINE" in capsys.readouterr().out


def test_the_default_certificate_is_the_one_under_data_dir(
    certificate_pdf: bytes,
    authority: Authority,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert authority.cert_file is not None
    monkeypatch.delenv("AUTHORITY_CERT_FILE", raising=False)
    monkeypatch.setenv("DATA_DIR", str(authority.cert_file.parent.parent))
    assert default_certificate_path() == authority.cert_file
    pdf = write(tmp_path, "certificate.pdf", certificate_pdf)
    assert run(["documents", "verify", str(pdf)]) == 0


def test_missing_files_are_usage_errors(
    authority: Authority, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["documents", "verify", str(tmp_path / "nope.pdf"), "--cert", str(authority.cert_file)])
        == 2
    )
    pdf = write(tmp_path, "x.pdf", b"%PDF-1.7")
    assert run(["documents", "verify", str(pdf), "--cert", str(tmp_path / "no-cert.pem")]) == 2
    assert "no-cert.pem" in capsys.readouterr().err


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        run(["documents", "verify"])
    assert caught.value.code == 2
