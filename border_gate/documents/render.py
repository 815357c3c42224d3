"""Render document content to bilingual HTML (Jinja2) and to PDF/A-3u (WeasyPrint).

Three steps, each callable on its own so the pipeline can time them: `verification_qr_svg`
(segno), `render_html` (Jinja2, autoescaped), `html_to_pdf` (WeasyPrint).

Lock-down: WeasyPrint may load nothing but files inside `assets/` (fonts, the stylesheet).
`AssetFetcher` refuses every other URL — http(s), data:, file: outside the folder, `../`
escapes, symlinks that lead out — and it is fatal: a template that asks for anything else
fails to render instead of silently rendering without it.

Speed: parsing the stylesheet and registering the fonts with fontconfig costs more than
laying out a one-page document, so each thread keeps one `RenderEngine` (WeasyPrint's
FontConfiguration and CSS objects are not safe to share between threads) and reuses it
for every render. Font bytes are read from disk once per process.
"""

from __future__ import annotations

import functools
import importlib.metadata
import mimetypes
import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import jinja2
import segno
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from border_gate.documents.content import (
    KIND_CODES,
    KIND_TITLES,
    Content,
    DocumentContent,
    DocumentKind,
    ReportContent,
)
from workflows.labels import CHANNEL_LABELS, DIRECTION_LABELS, STAGE_LABELS
from workflows.model import Direction, Stage

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS_DIR = PACKAGE_DIR / "assets"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STYLESHEET = ASSETS_DIR / "document.css"
PDF_VARIANT = "pdf/a-3u"
#: Error correction level of the verification QR: M survives a smudge and keeps the
#: symbol small enough to read from a phone held at arm's length.
QR_ERROR = "m"
#: The QR data mask. Letting segno score all eight masks costs ~10 ms a document, more than
#: templating and signing together; any mask decodes, and for our verify URLs mask 4 is the
#: one segno itself picks most often (66 of 150 random document ids).
QR_MASK = 4

AUTHORITY_PARENT_VI = "Ủy ban nhân dân tỉnh Lạng Sơn"
AUTHORITY_PARENT_EN = "Lang Son Provincial People's Committee"
AUTHORITY_NAME_VI = "Ban quản lý Khu kinh tế cửa khẩu Đồng Đăng – Lạng Sơn"
AUTHORITY_NAME_EN = "Dong Dang – Lang Son Border Gate Economic Zone Authority"
PLACE_VI = "Lạng Sơn"
PLACE_EN = "Lang Son"

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_QUARANTINE_CODES = {
    Stage.PLANT_QUARANTINE: "KDTV",
    Stage.ANIMAL_QUARANTINE: "KDDV",
    Stage.HEALTH_QUARANTINE: "KDYT",
}
_CROSSING = {
    Direction.EXPORT: (("xuất cảnh", "exit the country"), ("Xuất cảnh", "Exit")),
    Direction.IMPORT: (("nhập cảnh", "enter the country"), ("Nhập cảnh", "Entry")),
}
_NBSP = "\u00a0"


class ResourceRefused(ValueError):
    """A template or stylesheet asked WeasyPrint for something outside the assets folder."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(
            f"Không được tải tài nguyên {url!r}: {why} / resource refused: {url!r} ({why}); "
            "only files inside border_gate/documents/assets/ may be loaded"
        )
        self.url = url


class DocumentRenderError(RuntimeError):
    """WeasyPrint could not produce the PDF."""


class AssetFetcher(URLFetcher):
    """WeasyPrint's URL fetcher, narrowed to regular files inside one folder."""

    def __init__(self, root: Path = ASSETS_DIR) -> None:
        # fail_on_errors: a refused resource stops the render (WeasyPrint would otherwise log
        # a warning and carry on without the font or image).
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=True)
        self.root = root.resolve()

    def resolve(self, url: str) -> Path:
        """The file inside the assets folder that `url` names; ResourceRefused otherwise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            raise ResourceRefused(url, f"scheme {parts.scheme or '(none)'!r} is not allowed")
        if parts.netloc not in ("", "localhost"):
            raise ResourceRefused(url, "remote file hosts are not allowed")
        try:
            # resolve() follows symlinks, so a link inside assets/ that points out is caught.
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError, ValueError):
            raise ResourceRefused(url, "no such file") from None
        if not path.is_relative_to(self.root):
            raise ResourceRefused(url, "outside the assets folder")
        if not path.is_file():
            raise ResourceRefused(url, "not a regular file")
        return path

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".ttf":
            content_type = "font/ttf"
        return URLFetcherResponse(
            path.as_uri(), body=_asset_bytes(path), headers={"Content-Type": content_type}
        )


@functools.cache
def _asset_bytes(path: Path) -> bytes:
    # Fonts are ~700 kB each: read once per process, whatever the number of threads.
    return path.read_bytes()


class RenderEngine:
    """One thread's WeasyPrint state: fonts registered once, the stylesheet parsed once."""

    def __init__(self) -> None:
        self.fetcher = AssetFetcher()
        self.font_config = FontConfiguration()
        self.base_url = ASSETS_DIR.as_uri() + "/"
        self.stylesheet = CSS(
            string=STYLESHEET.read_text(encoding="utf-8"),
            base_url=self.base_url,
            url_fetcher=self.fetcher,
            font_config=self.font_config,
        )


_thread_state = threading.local()


def render_engine() -> RenderEngine:
    """This thread's engine, built on first use."""
    engine: RenderEngine | None = getattr(_thread_state, "engine", None)
    if engine is None:
        engine = RenderEngine()
        _thread_state.engine = engine
    return engine


# --- Formatting ----------------------------------------------------------------------------


def format_kg(value: float) -> str:
    """12500 -> '12 500', 12500.25 -> '12 500,3': grouping readable in both languages."""
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.1f}".replace(".", "#")
    return text.replace(",", _NBSP).replace("#", ",")


def format_integer(value: int) -> str:
    return f"{int(value):,}".replace(",", _NBSP)


def format_local_time(moment: datetime, content: Content) -> str:
    local = moment.astimezone(content.zone)
    offset = local.strftime("%z")
    return f"{local:%d/%m/%Y %H:%M} (GMT{offset[:3]}:{offset[3:]})"


def _trusted_svg(svg: str) -> Markup:
    # Charts come from the platform's own report code, never from a user; WeasyPrint runs
    # no scripts, and AssetFetcher refuses any image or font the SVG might reference.
    return Markup(svg)


@functools.cache
def template_environment() -> jinja2.Environment:
    """One Jinja environment per process: it compiles and caches each template once."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["kg"] = format_kg
    env.filters["integer"] = format_integer
    env.filters["trusted_svg"] = _trusted_svg
    return env


@functools.cache
def _generator() -> str:
    try:
        version = importlib.metadata.version("border-gate")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"
    weasyprint_version = importlib.metadata.version("weasyprint")
    return f"Cửa khẩu số Lạng Sơn — border-gate {version} (WeasyPrint {weasyprint_version})"


# --- The three steps -----------------------------------------------------------------------


def verification_qr_svg(url: str) -> str:
    """The verify URL as an inline SVG QR code (one path, sized by the stylesheet)."""
    code = segno.make(url, error=QR_ERROR, micro=False, boost_error=False, mask=QR_MASK)
    return code.svg_inline(scale=1, border=4, omitsize=True, svgclass="qr-code", lineclass=None)


def document_number(content: Content) -> str:
    """What the document prints as its number: the declaration's number and a kind code."""
    if isinstance(content, ReportContent):
        return f"{KIND_CODES[DocumentKind.REPORT]}-{content.document_id[:8].upper()}"
    code = KIND_CODES[content.kind]
    if content.kind is DocumentKind.QUARANTINE_CERTIFICATE and content.stage is not None:
        code = _QUARANTINE_CODES.get(content.stage, code)
    return f"{content.declaration_number}/{code}"


def _declaration_rows(content: DocumentContent) -> list[tuple[str, str, str]]:
    direction_vi, direction_en = DIRECTION_LABELS[content.direction]
    plate = content.plate
    if content.trailer_plate:
        plate = f"{plate} — rơ-moóc / trailer {content.trailer_plate}"
    rows = [
        ("Số tờ khai", "Declaration number", content.declaration_number),
        ("Loại hình", "Direction", f"{direction_vi} / {direction_en}"),
        ("Cửa khẩu", "Border gate", f"{content.gate_name_vi} / {content.gate_name_en}"),
        ("Biển số phương tiện", "Vehicle plate", plate),
        ("Lái xe", "Driver", content.driver_name),
        ("Doanh nghiệp", "Firm", content.firm_name),
    ]
    if content.kind is DocumentKind.YARD_TICKET and content.yard_position:
        rows.append(("Vị trí trong bãi", "Yard position", content.yard_position))
    if content.stage is not None:
        stage_vi, stage_en = STAGE_LABELS[content.stage]
        rows.append(("Khâu kiểm tra", "Stage", f"{stage_vi} / {stage_en}"))
    if content.channel is not None:
        channel_vi, channel_en = CHANNEL_LABELS[content.channel]
        rows.append(("Phân luồng", "Risk channel", f"{channel_vi} / {channel_en}"))
    if content.kind is DocumentKind.CLEARANCE_CERTIFICATE:
        _, (crossing_vi, crossing_en) = _CROSSING[content.direction]
        rows.append(("Qua cửa khẩu", "Crossing", f"{crossing_vi} / {crossing_en}"))
    rows.extend(content.facts)
    return rows


def _context(content: Content, qr_svg: str) -> dict[str, Any]:
    issued = content.issued_at.astimezone(content.zone)
    title_vi, title_en = KIND_TITLES[content.kind]
    context: dict[str, Any] = {
        "doc": content,
        "authority": {
            "parent_vi": AUTHORITY_PARENT_VI,
            "name_vi": AUTHORITY_NAME_VI,
            "name_en": AUTHORITY_NAME_EN,
        },
        "number": document_number(content),
        "qr_svg": Markup(qr_svg),  # generated by segno above, not from content
        "issued_local": format_local_time(content.issued_at, content),
        "place_date_vi": f"{PLACE_VI}, ngày {issued.day:02d} tháng {issued.month:02d} "
        f"năm {issued.year}",
        "place_date_en": f"{PLACE_EN}, {issued.day} {_MONTHS_EN[issued.month - 1]} {issued.year}",
        "created_w3c": issued.isoformat(timespec="seconds"),
        "generator": _generator(),
        "subtitle_vi": None,
        "subtitle_en": None,
        "gate_name_vi": content.gate_name_vi,
        "gate_name_en": content.gate_name_en,
        "keywords": [f"document-id:{content.document_id}", f"kind:{content.kind.value}"],
        "cargo": [],
        "cargo_weight": 0.0,
        "cargo_packages": 0,
    }
    if isinstance(content, ReportContent):
        rows: list[tuple[str, str, str]] = []
        if content.period:
            rows.append(("Kỳ báo cáo", "Period", content.period))
        if content.gate_name_vi:
            rows.append(
                ("Cửa khẩu", "Border gate", f"{content.gate_name_vi} / {content.gate_name_en}")
            )
        rows.extend(content.facts)
        context.update(
            title_vi=content.title_vi,
            title_en=content.title_en,
            subtitle_vi=title_vi,
            subtitle_en=title_en,
            rows=rows,
        )
        return context

    context.update(
        title_vi=title_vi,
        title_en=title_en,
        rows=_declaration_rows(content),
        cargo=content.cargo,
        cargo_weight=sum(line.gross_weight_kg for line in content.cargo),
        cargo_packages=sum(line.packages for line in content.cargo),
    )
    context["keywords"] += [
        f"declaration:{content.declaration_number}",
        f"gate:{content.gate_code}",
    ]
    if content.stage is not None:
        stage_vi, stage_en = STAGE_LABELS[content.stage]
        context.update(
            subtitle_vi=stage_vi, subtitle_en=stage_en, stage_vi=stage_vi, stage_en=stage_en
        )
    if content.channel is not None:
        channel_vi, channel_en = CHANNEL_LABELS[content.channel]
        context.update(channel_vi=channel_vi, channel_en=channel_en)
    (crossing_vi, crossing_en), _ = _CROSSING[content.direction]
    context.update(crossing_vi=crossing_vi, crossing_en=crossing_en)
    return context


def render_html(content: Content, qr_svg: str | None = None) -> str:
    """The document as one self-contained HTML page (pass `qr_svg` to reuse a QR)."""
    if qr_svg is None:
        qr_svg = verification_qr_svg(content.verify_url)
    template = template_environment().get_template(f"{content.kind.value}.html")
    return template.render(_context(content, qr_svg))


def _leave_producer_to_signer(document: Any, pdf: Any) -> None:
    # pyHanko's signing update writes its own name as the XMP producer and appends it to the
    # Info producer; dropping WeasyPrint's Info entry keeps the two equal, as PDF/A requires.
    # WeasyPrint stays credited in the creator tool (<meta name="generator">).
    pdf.info.pop("Producer", None)


def html_to_pdf(html: str) -> bytes:
    """PDF/A-3u bytes of `html`, rendered with this thread's engine and the locked fetcher."""
    engine = render_engine()
    try:
        return HTML(string=html, base_url=engine.base_url, url_fetcher=engine.fetcher).write_pdf(
            stylesheets=[engine.stylesheet],
            font_config=engine.font_config,
            pdf_variant=PDF_VARIANT,
            finisher=_leave_producer_to_signer,
        )
    except FatalURLFetchingError as exc:
        if isinstance(exc.__cause__, ResourceRefused):
            raise exc.__cause__ from None
        raise DocumentRenderError(f"Không tải được tài nguyên / resource failed: {exc}") from exc


def render_pdf(content: Content) -> bytes:
    """Template, QR and WeasyPrint in one call: the unsigned PDF/A-3u."""
    return html_to_pdf(render_html(content))
