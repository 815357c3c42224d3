"""Border guard: plate, trailer and driver's document against the watchlist and expiry dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from msgspec import Struct

from workflows.machine import Screen, ScreenedStage
from workflows.model import DeclarationFacts, Stage, plate_key

AGENCY = "border_guard"

#: A travel document expiring within this many days is flagged for the officer.
DEFAULT_EXPIRY_WARNING_DAYS = 30


class WatchlistEntry(Struct, frozen=True):
    """One watched plate or travel document, as the border guard recorded it."""

    kind: str  # "plate" or "document"
    value: str
    reason: str
    expires_at: datetime | None = None


def watch_key(kind: str, value: str) -> str:
    """How a watched value is compared: plates without punctuation, documents upper-case."""
    return plate_key(value) if kind == "plate" else "".join(value.split()).upper()


def assess(
    facts: DeclarationFacts,
    watchlist: list[WatchlistEntry],
    *,
    today: date,
    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS,
) -> tuple[str, ...]:
    """What the officer must look at; empty means nothing stood out (the officer still decides)."""
    findings: list[str] = []
    checked = [("plate", facts.vehicle.plate, "Biển số xe", "plate")]
    if facts.vehicle.trailer_plate:
        checked.append(("plate", facts.vehicle.trailer_plate, "Biển số rơ-moóc", "trailer plate"))
    checked.append(
        ("document", facts.driver.document_number, "Giấy tờ lái xe", "driver's document")
    )
    index = {(entry.kind, watch_key(entry.kind, entry.value)): entry for entry in watchlist}
    for kind, value, label_vi, label_en in checked:
        entry = index.get((kind, watch_key(kind, value)))
        if entry is not None:
            findings.append(
                f"{label_vi} {value} trong danh sách theo dõi: {entry.reason} / "
                f"{label_en} {value} is on the watchlist: {entry.reason}"
            )
    expiry = facts.driver.document_expiry
    if expiry is not None:
        if expiry < today:
            findings.append(
                f"Giấy tờ của lái xe đã hết hạn ngày {expiry:%d/%m/%Y} / "
                f"the driver's travel document expired on {expiry.isoformat()}"
            )
        elif expiry <= today + timedelta(days=expiry_warning_days):
            findings.append(
                f"Giấy tờ của lái xe sắp hết hạn ({expiry:%d/%m/%Y}) / "
                f"the driver's travel document expires soon ({expiry.isoformat()})"
            )
    return tuple(findings)


def screening(findings: tuple[str, ...], round_: int) -> Screen:
    """The border guard always looks at the truck; screening only tells them what to look for."""
    shown = findings or ("Không có cảnh báo / no warnings",)
    return Screen(
        agency=AGENCY,
        round=round_,
        stages={Stage.BORDER_GUARD: ScreenedStage(required=True, findings=shown)},
    )
