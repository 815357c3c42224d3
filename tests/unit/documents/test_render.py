"""Rendering: every kind renders; Vietnamese survives into the PDF; the QR decodes to the
verify URL; WeasyPrint can load nothing outside the assets folder."""

from __future__ import annotations

import os
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from border_gate.documents.content import Content, DocumentKind
from border_gate.documents.pipeline import ProducedDocument
from border_gate.documents.render import (
    ASSETS_DIR,
    AssetFetcher,
    ResourceRefused,
    html_to_pdf,
    render_html,
    render_pdf,
)
from tests.unit.documents.conftest import ALL_KINDS, needs_tool, sample_content, write
from workflows.model import Direction

EXPECTED_TITLES = {
    DocumentKind.YARD_TICKET: "PHIẾU VÀO BÃI KIỂM SOÁT",
    DocumentKind.QUARANTINE_CERTIFICATE: "GIẤY CHỨNG NHẬN KIỂM DỊCH",
    DocumentKind.CUSTOMS_RELEASE: "QUYẾT ĐỊNH THÔNG QUAN HÀNG HÓA",
    DocumentKind.CLEARANCE_CERTIFICATE: "GIẤY XÁC NHẬN HOÀN THÀNH THỦ TỤC QUA CỬA KHẨU",
    DocumentKind.FEE_RECEIPT: "BIÊN LAI THU PHÍ SỬ DỤNG CÔNG TRÌNH HẠ TẦNG CỬA KHẨU",
    DocumentKind.REPORT: "BÁO CÁO THÔNG QUAN THÁNG 11/2026",
}


def pdftotext(tmp_path: Path, pdf: bytes) -> str:
    tool = needs_tool("pdftotext", "poppler-utils")
    path = write(tmp_path, "document.pdf", pdf)
    return subprocess.run(
        [tool, "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_bilingual_text_with_diacritics_intact(
    kind: DocumentKind,
    produced: dict[DocumentKind, ProducedDocument],
    contents: dict[DocumentKind, Content],
    tmp_path: Path,
) -> None:
    text = pdftotext(tmp_path, produced[kind].pdf)
    # Headings are uppercased by CSS; poppler extracts what is drawn.
    assert EXPECTED_TITLES[kind] in " ".join(text.split())
    assert "BAN QUẢN LÝ KHU KINH TẾ CỬA KHẨU ĐỒNG" in text
    assert "Văn bản điện tử được ký số" in text
    assert "electronically signed document" in text
    assert contents[kind].document_id in text
    if kind is not DocumentKind.REPORT:
        assert "Sầu riêng tươi" in text
        assert "Nguyễn Văn Hùng" in text
        assert "Công ty TNHH Nông sản Xanh Lạng Sơn" in text
        assert "18 500" in text  # grouped with a no-break space


def test_the_quarantine_certificate_names_its_stage(
    produced: dict[DocumentKind, ProducedDocument], tmp_path: Path
) -> None:
    text = pdftotext(tmp_path, produced[DocumentKind.QUARANTINE_CERTIFICATE].pdf)
    assert "Kiểm dịch thực vật" in text
    assert "Plant quarantine" in text
    assert "HN-2026-000123/KDTV" in text


def test_the_customs_release_shows_the_channel(
    produced: dict[DocumentKind, ProducedDocument], tmp_path: Path
) -> None:
    text = pdftotext(tmp_path, produced[DocumentKind.CUSTOMS_RELEASE].pdf)
    assert "Luồng xanh / Green channel" in text


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_qr_code_decodes_to_the_verify_url(
    kind: DocumentKind,
    produced: dict[DocumentKind, ProducedDocument],
    contents: dict[DocumentKind, Content],
    tmp_path: Path,
) -> None:
    pdftoppm = needs_tool("pdftoppm", "poppler-utils")
    zbarimg = needs_tool("zbarimg", "zbar-tools")
    pdf = write(tmp_path, "document.pdf", produced[kind].pdf)
    subprocess.run(
        [pdftoppm, "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (image,) = sorted(tmp_path.glob("page*.png"))
    decoded = subprocess.run(
        [zbarimg, "--raw", "-q", str(image)], check=True, capture_output=True, text=True
    ).stdout
    assert decoded.strip().splitlines() == [contents[kind].verify_url]


def test_the_pdf_declares_pdf_a_3u(produced: dict[DocumentKind, ProducedDocument]) -> None:
    pdf = produced[DocumentKind.YARD_TICKET].pdf
    assert pdf.startswith(b"%PDF-1.7")
    reader = PdfFileReader(BytesIO(pdf))
    xmp = reader.root["/Metadata"].data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="U"' in xmp
    assert "/Version" not in reader.root  # still PDF 1.7 after signing, as PDF/A-3 requires
    # PDF/A: the Info producer must equal the XMP producer after pyHanko's update.
    assert str(reader.trailer["/Info"]["/Producer"]) in xmp


def test_html_is_autoescaped() -> None:
    content = sample_content(
        DocumentKind.YARD_TICKET, firm_name='<script>alert("x")</script> & <b>Co</b>'
    )
    html = render_html(content)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&amp; &lt;b&gt;Co&lt;/b&gt;" in html


# --- The URL fetcher lock-down -------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/font.ttf",
        "ftp://example.com/x",
        "data:text/css,body{}",
        "file:///etc/passwd",
        "file://remote-host/share/font.ttf",
        (ASSETS_DIR / "fonts" / ".." / ".." / "render.py").as_uri(),
        ASSETS_DIR.as_uri() + "/../../../../../../etc/passwd",
        ASSETS_DIR.as_uri() + "/%2e%2e/render.py",
        ASSETS_DIR.as_uri() + "/fonts",  # a folder, not a file
        ASSETS_DIR.as_uri() + "/no-such-font.ttf",
    ],
)
def test_the_fetcher_refuses_anything_outside_the_assets(url: str) -> None:
    with pytest.raises(ResourceRefused):
        AssetFetcher().fetch(url)


def test_the_fetcher_refuses_a_symlink_that_leads_out(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    root.mkdir()
    os.symlink("/etc/passwd", root / "passwd.css")
    with pytest.raises(ResourceRefused, match="outside"):
        AssetFetcher(root).fetch((root / "passwd.css").as_uri())


def test_the_fetcher_serves_the_bundled_fonts() -> None:
    response = AssetFetcher().fetch((ASSETS_DIR / "fonts" / "DejaVuSans.ttf").as_uri())
    assert response.read(4) == b"\x00\x01\x00\x00"  # a TrueType font


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="http://127.0.0.1:9/tracker.png">',
        '<img src="https://example.com/logo.png">',
        '<img src="file:///etc/passwd">',
        '<img src="../../../../../../etc/passwd">',
        '<link rel="stylesheet" href="https://example.com/x.css">',
        '<style>@import url("file:///etc/passwd");</style>',
        '<style>body { background: url("../render.py") }</style>',
        '<link rel="attachment" href="file:///etc/passwd">',
    ],
)
def test_a_template_asking_for_an_outside_resource_fails_to_render(markup: str) -> None:
    html = (
        f'<!DOCTYPE html><html lang="vi"><head></head><body>{markup}<p>Xin chào</p></body></html>'
    )
    with pytest.raises(ResourceRefused):
        html_to_pdf(html)


def test_rendering_is_repeatable_with_the_cached_engine() -> None:
    content = sample_content(DocumentKind.YARD_TICKET)
    first, second = render_pdf(content), render_pdf(content)
    assert first[:8] == second[:8] == b"%PDF-1.7"
    assert abs(len(first) - len(second)) < 64  # only ids and dates may differ


def test_a_chinese_plate_and_name_render_through_a_system_cjk_font(tmp_path: Path) -> None:
    """DejaVu Sans has no Han characters: fontconfig falls back to a system CJK font."""
    fc_list = needs_tool("fc-list", "fontconfig")
    families = subprocess.run(
        [fc_list, ":lang=zh", "family"], check=True, capture_output=True, text=True
    ).stdout
    if not families.strip():
        pytest.skip("no CJK font installed: apt-get install fonts-droid-fallback")
    content = sample_content(
        DocumentKind.YARD_TICKET,
        direction=Direction.IMPORT,
        plate="桂A·12345",
        trailer_plate=None,
        driver_name="李明",
    )
    text = pdftotext(tmp_path, render_pdf(content))
    assert "桂A·12345" in text
    assert "李明" in text
