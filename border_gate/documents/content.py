"""What goes on a clearance document or a signed report: plain msgspec values, checked once.

The worker that issues a document fills one of these from the declaration and the decision;
`render` turns it into HTML and PDF, `sign` seals it. Nothing here touches I/O.
"""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, TypeAlias
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from workflows.model import QUARANTINE_STAGES, Channel, Direction, Stage
from workflows.model import CargoLine as DeclaredCargoLine


class DocumentKind(StrEnum):
    YARD_TICKET = "yard_ticket"
    QUARANTINE_CERTIFICATE = "quarantine_certificate"
    CUSTOMS_RELEASE = "customs_release"
    CLEARANCE_CERTIFICATE = "clearance_certificate"
    FEE_RECEIPT = "fee_receipt"
    REPORT = "report"


#: Titles people read, Vietnamese first. The quarantine certificate adds its stage.
KIND_TITLES: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.YARD_TICKET: ("Phiếu vào bãi kiểm soát", "Yard ticket"),
    DocumentKind.QUARANTINE_CERTIFICATE: ("Giấy chứng nhận kiểm dịch", "Quarantine certificate"),
    DocumentKind.CUSTOMS_RELEASE: ("Quyết định thông quan hàng hóa", "Customs release"),
    DocumentKind.CLEARANCE_CERTIFICATE: (
        "Giấy xác nhận hoàn thành thủ tục qua cửa khẩu",
        "Border clearance certificate",
    ),
    DocumentKind.FEE_RECEIPT: (
        "Biên lai thu phí sử dụng công trình hạ tầng cửa khẩu",
        "Border-gate infrastructure fee receipt",
    ),
    DocumentKind.REPORT: ("Báo cáo", "Report"),
}

#: A short code per kind, printed in the document number (e.g. HN-2026-000123/KDTV).
KIND_CODES: dict[DocumentKind, str] = {
    DocumentKind.YARD_TICKET: "PVB",
    DocumentKind.QUARANTINE_CERTIFICATE: "KD",
    DocumentKind.CUSTOMS_RELEASE: "TQ",
    DocumentKind.CLEARANCE_CERTIFICATE: "XNQ",
    DocumentKind.FEE_RECEIPT: "BLP",
    DocumentKind.REPORT: "BC",
}

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

ShortText = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(min_length=1, max_length=4000)]
#: One extra line of the facts table: (label in Vietnamese, label in English, value).
Fact: TypeAlias = tuple[str, str, str]


class DocumentContentError(ValueError):
    """The content cannot make a valid document; the message says why, in both languages."""


class CargoLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    hs_code: Annotated[str, Meta(pattern=r"^\d{4,10}$")]
    description: Annotated[str, Meta(min_length=1, max_length=500)]
    gross_weight_kg: Annotated[float, Meta(gt=0)]
    packages: Annotated[int, Meta(ge=0)]

    @classmethod
    def from_declared(cls, line: DeclaredCargoLine) -> CargoLine:
        """The part of a declared cargo line that a document shows."""
        return cls(
            hs_code=line.hs_code,
            description=line.description,
            gross_weight_kg=line.gross_weight_kg,
            packages=line.packages,
        )


def _nfc(text: str) -> str:
    # Vietnamese typed on different keyboards arrives composed or decomposed; fonts and
    # pdftotext agree only on the composed (NFC) form.
    return unicodedata.normalize("NFC", text)


def _check_common(document_id: str, issued_at: datetime, verify_url: str, timezone: str) -> str:
    try:
        canonical = str(uuid.UUID(document_id))
    except (ValueError, AttributeError, TypeError):
        raise DocumentContentError(
            f"Mã văn bản phải là UUID: {document_id!r} / document_id must be a UUID"
        ) from None
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise DocumentContentError(
            "Thời điểm ban hành phải có múi giờ / issued_at must be timezone-aware"
        )
    parts = urlsplit(verify_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DocumentContentError(
            f"Địa chỉ tra cứu phải là http(s)://… : {verify_url!r} / "
            "verify_url must be an http(s) URL"
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DocumentContentError(
            f"Múi giờ không hợp lệ: {timezone!r} / not an IANA time zone"
        ) from None
    return canonical


class DocumentContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One clearance document about one declaration (every kind except `report`)."""

    document_id: str  # UUID; printed, in the QR's URL, and in the signature field name
    kind: DocumentKind
    declaration_id: str
    declaration_number: ShortText
    direction: Direction
    gate_code: ShortText
    gate_name_vi: ShortText
    gate_name_en: ShortText
    plate: ShortText
    driver_name: ShortText
    firm_name: ShortText
    issued_at: datetime  # aware; shown in `timezone`
    issuer: ShortText  # an officer's name or a system actor such as system:customs-screening
    verify_url: str
    trailer_plate: ShortText | None = None
    stage: Stage | None = None  # the quarantine stage a certificate is for
    channel: Channel | None = None  # customs release: the risk channel
    decision_reason: LongText | None = None
    yard_position: ShortText | None = None
    cargo: list[CargoLine] = msgspec.field(default_factory=list)
    facts: list[Fact] = msgspec.field(default_factory=list)
    timezone: str = DEFAULT_ZONE

    def __post_init__(self) -> None:
        if self.kind is DocumentKind.REPORT:
            raise DocumentContentError(
                "Báo cáo dùng ReportContent / a report uses ReportContent, not DocumentContent"
            )
        canonical = _check_common(self.document_id, self.issued_at, self.verify_url, self.timezone)
        # Frozen structs: normalising in place is the one sanctioned write.
        msgspec.structs.force_setattr(self, "document_id", canonical)
        if self.kind is DocumentKind.QUARANTINE_CERTIFICATE and self.stage not in QUARANTINE_STAGES:
            raise DocumentContentError(
                "Giấy chứng nhận kiểm dịch cần stage là plant_quarantine, animal_quarantine "
                "hoặc health_quarantine / a quarantine certificate needs a quarantine stage"
            )
        if self.kind is DocumentKind.CUSTOMS_RELEASE and self.channel is None:
            raise DocumentContentError(
                "Quyết định thông quan cần luồng (channel) / a customs release needs its channel"
            )
        for name in (
            "declaration_number",
            "gate_name_vi",
            "gate_name_en",
            "plate",
            "driver_name",
            "firm_name",
            "issuer",
            "trailer_plate",
            "decision_reason",
            "yard_position",
        ):
            value = getattr(self, name)
            if value is not None:
                msgspec.structs.force_setattr(self, name, _nfc(value))
        msgspec.structs.force_setattr(
            self, "facts", [(_nfc(a), _nfc(b), _nfc(c)) for a, b, c in self.facts]
        )
        msgspec.structs.force_setattr(
            self,
            "cargo",
            [
                msgspec.structs.replace(line, description=_nfc(line.description))
                for line in self.cargo
            ],
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ReportTable(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    caption: str | None = None
    columns: list[str]
    rows: list[list[str]]
    #: Columns to align right (numbers), by index.
    numeric_columns: list[int] = msgspec.field(default_factory=list)


class ReportSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    heading_vi: ShortText
    heading_en: ShortText
    paragraphs: list[str] = msgspec.field(default_factory=list)
    #: SVG charts drawn by the platform's own report code (trusted markup, see render.py).
    charts_svg: list[str] = msgspec.field(default_factory=list)
    tables: list[ReportTable] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        for chart in self.charts_svg:
            if not chart.lstrip().startswith("<svg"):
                raise DocumentContentError(
                    "Biểu đồ phải là một phần tử <svg> / a chart must be one <svg> element"
                )


class ReportContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A signed management report: a title, a period, and sections of text, charts, tables."""

    document_id: str
    title_vi: ShortText
    title_en: ShortText
    issued_at: datetime
    issuer: ShortText
    verify_url: str
    period: ShortText | None = None  # e.g. "01/11/2026 – 30/11/2026"
    gate_code: ShortText | None = None  # None: all gates
    gate_name_vi: ShortText | None = None
    gate_name_en: ShortText | None = None
    sections: list[ReportSection] = msgspec.field(default_factory=list)
    facts: list[Fact] = msgspec.field(default_factory=list)
    timezone: str = DEFAULT_ZONE

    def __post_init__(self) -> None:
        canonical = _check_common(self.document_id, self.issued_at, self.verify_url, self.timezone)
        msgspec.structs.force_setattr(self, "document_id", canonical)

    @property
    def kind(self) -> DocumentKind:
        return DocumentKind.REPORT

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


#: Anything the document library can render and sign.
Content: TypeAlias = DocumentContent | ReportContent
