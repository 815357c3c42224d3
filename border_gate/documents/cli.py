"""`border-gate documents verify FILE.pdf [--cert PATH]`: check a document offline.

The integrator wires it into the main parser with `add_documents_commands(subparsers)`.
Exit status: 0 genuine, 1 not genuine, 2 usage error (missing file, unreadable cert).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from border_gate.documents.authority import (
    AUTHORITY_DIR_NAME,
    CERT_FILE_NAME,
    AuthorityError,
    load_certificate,
)

EXIT_GENUINE = 0
EXIT_NOT_GENUINE = 1
EXIT_USAGE = 2


def add_documents_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `documents` command group to the `border-gate` parser's subparsers."""
    documents = subparsers.add_parser(
        "documents", help="signed clearance documents / văn bản điện tử ký số"
    )
    commands = documents.add_subparsers(dest="documents_command", required=True)
    verify = commands.add_parser(
        "verify",
        help="check offline that a PDF is a genuine, unaltered document of the gate authority",
        description="Kiểm tra ngoại tuyến một văn bản PDF / verify a document PDF offline. "
        "Exit 0 genuine, 1 not genuine, 2 usage error.",
    )
    verify.add_argument("file", metavar="FILE.pdf", type=Path, help="the PDF to check")
    verify.add_argument(
        "--cert",
        type=Path,
        help="the authority certificate (PEM or DER); default: AUTHORITY_CERT_FILE, else "
        f"$DATA_DIR/{AUTHORITY_DIR_NAME}/{CERT_FILE_NAME} (DATA_DIR defaults to .data)",
    )
    verify.set_defaults(func=cmd_documents_verify)


def default_certificate_path(environ: dict[str, str] | None = None) -> Path:
    """Where the authority certificate is when --cert is not given."""
    env = os.environ if environ is None else environ
    if env.get("AUTHORITY_CERT_FILE"):
        return Path(env["AUTHORITY_CERT_FILE"])
    return Path(env.get("DATA_DIR") or ".data") / AUTHORITY_DIR_NAME / CERT_FILE_NAME


def cmd_documents_verify(args: argparse.Namespace) -> int:
    # Imported here: pyHanko takes a moment to import, and other commands do not need it.
    from border_gate.documents.verify import MAX_PDF_BYTES, verify_pdf

    cert_path: Path = args.cert or default_certificate_path()
    try:
        certificate = load_certificate(cert_path)
    except AuthorityError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    path: Path = args.file
    try:
        with path.open("rb") as handle:
            # One byte past the limit is enough for verify_pdf to refuse it as too big.
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as exc:
        print(
            f"Không đọc được tệp {str(path)!r}: {exc.strerror or exc} / cannot read {str(path)!r}",
            file=sys.stderr,
        )
        return EXIT_USAGE

    result = verify_pdf(data, certificate)
    if result.genuine:
        print(f"HỢP LỆ / GENUINE: {path}")
    else:
        print(f"KHÔNG HỢP LỆ / NOT GENUINE: {path}")
    print(f"  {result.reason}")
    if result.document_id:
        print(f"  Mã văn bản / document id: {result.document_id}")
    if result.signed_at:
        print(f"  Ký lúc / signed at: {result.signed_at.isoformat()}")
    if result.signer and not result.genuine:
        print(f"  Người ký / signer: {result.signer}")
    if result.sha256:
        print(f"  SHA-256: {result.sha256}")
    print(f"  Chứng thư đối chiếu / checked against: {cert_path}")
    return EXIT_GENUINE if result.genuine else EXIT_NOT_GENUINE
