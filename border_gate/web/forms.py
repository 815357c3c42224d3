"""The declaration form: HTML fields <-> DeclarationFacts, with msgspec's errors on each field.

Every leaf is checked against its own annotated type first, so a form shows all its
mistakes at once; then the structs' own checks (plate for its country, HS chapter, total
weight) run, then the service's (configured gate, ISO code lists, arrival window).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar.datastructures import FormMultiDict

from border_gate.api.problems import field_from, message_en, message_vi, without_field
from border_gate.errors import InvalidInput
from border_gate.gates import GateRegistry
from workflows.model import CargoLine, DeclarationFacts, Driver, Vehicle

Pair = tuple[str, str]

#: Form field name -> (struct, attribute). Names are the API's field paths.
TOP_FIELDS = ("direction", "gate", "consignor", "consignee", "planned_arrival")
VEHICLE_FIELDS = ("plate", "trailer_plate", "country")
DRIVER_FIELDS = ("name", "document_number", "nationality", "document_expiry")
CARGO_FIELDS = (
    "hs_code",
    "description",
    "gross_weight_kg",
    "packages",
    "value",
    "currency",
    "origin_country",
)
OPTIONAL = {"vehicle.trailer_plate", "driver.document_expiry"}
UPPER = {"vehicle.country", "driver.nationality", "currency", "origin_country", "gate"}
MAX_LINES = 200

_LINE_FIELD = re.compile(r"^cargo\[(\d{1,3})\]\.([a-z_]+)$")

#: What a pattern means, in words, instead of the regular expression msgspec quotes.
PATTERN_WORDS: dict[str, Pair] = {
    "gate": ("Chọn một cửa khẩu", "Choose a gate"),
    "country": ("Mã quốc gia 2 chữ cái, ví dụ VN", "A two-letter country code, e.g. VN"),
    "nationality": ("Mã quốc gia 2 chữ cái, ví dụ VN", "A two-letter country code, e.g. VN"),
    "origin_country": ("Mã quốc gia 2 chữ cái, ví dụ VN", "A two-letter country code, e.g. VN"),
    "currency": ("Mã tiền tệ 3 chữ cái, ví dụ USD", "A three-letter currency code, e.g. USD"),
    "document_number": ("5–20 chữ cái hoặc chữ số", "5-20 letters or digits"),
    "hs_code": ("Mã HS gồm 4–10 chữ số", "An HS code of 4-10 digits"),
}

REQUIRED: Pair = ("Vui lòng nhập ô này", "Please fill in this field")


def _types(struct: type[msgspec.Struct]) -> dict[str, Any]:
    return {f.name: f.type for f in msgspec.structs.fields(struct)}


_TOP_TYPES = _types(DeclarationFacts)
_VEHICLE_TYPES = _types(Vehicle)
_DRIVER_TYPES = _types(Driver)
_CARGO_TYPES = _types(CargoLine)


@dataclass
class DeclarationForm:
    """What the person typed (always strings), and the errors by field name."""

    values: dict[str, str] = field(default_factory=dict)
    cargo: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, Pair] = field(default_factory=dict)
    general: list[Pair] = field(default_factory=list)

    def error(self, name: str) -> Pair | None:
        return self.errors.get(name)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.general)


def blank_line() -> dict[str, str]:
    return {name: "" for name in CARGO_FIELDS} | {"currency": "USD", "origin_country": "VN"}


def new_form(gates: GateRegistry, now: datetime) -> DeclarationForm:
    first = next(iter(gates))
    arrival = (now + timedelta(days=1)).astimezone(first.zone).replace(second=0, microsecond=0)
    return DeclarationForm(
        values={
            "direction": "export",
            "gate": first.code,
            "vehicle.country": "VN",
            "driver.nationality": "VN",
            "planned_arrival": arrival.strftime("%Y-%m-%dT%H:%M"),
        },
        cargo=[blank_line()],
    )


def _number(value: float | int) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def form_from_facts(facts: DeclarationFacts, zone: ZoneInfo) -> DeclarationForm:
    values = {
        "direction": facts.direction.value,
        "gate": facts.gate,
        "consignor": facts.consignor,
        "consignee": facts.consignee,
        "planned_arrival": facts.planned_arrival.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "vehicle.plate": facts.vehicle.plate,
        "vehicle.trailer_plate": facts.vehicle.trailer_plate or "",
        "vehicle.country": facts.vehicle.country,
        "driver.name": facts.driver.name,
        "driver.document_number": facts.driver.document_number,
        "driver.nationality": facts.driver.nationality,
        "driver.document_expiry": (
            facts.driver.document_expiry.isoformat() if facts.driver.document_expiry else ""
        ),
    }
    cargo = [
        {
            "hs_code": line.hs_code,
            "description": line.description,
            "gross_weight_kg": _number(line.gross_weight_kg),
            "packages": str(line.packages),
            "value": _number(line.value),
            "currency": line.currency,
            "origin_country": line.origin_country,
        }
        for line in facts.cargo
    ]
    return DeclarationForm(values=values, cargo=cargo)


def form_from_post(form: FormMultiDict) -> DeclarationForm:
    """Read the posted fields; cargo lines come as cargo[i].field, in the order of i."""
    values: dict[str, str] = {}
    lines: dict[int, dict[str, str]] = {}
    names = (
        *TOP_FIELDS,
        *(f"vehicle.{n}" for n in VEHICLE_FIELDS),
        *(f"driver.{n}" for n in DRIVER_FIELDS),
    )
    for name in names:
        values[name] = str(form.get(name, "")).strip()
    for key in form:
        match = _LINE_FIELD.match(key)
        if match and match.group(2) in CARGO_FIELDS and int(match.group(1)) < MAX_LINES:
            lines.setdefault(int(match.group(1)), blank_line() | {n: "" for n in CARGO_FIELDS})
            lines[int(match.group(1))][match.group(2)] = str(form.get(key, "")).strip()
    cargo = [lines[i] for i in sorted(lines)]
    return DeclarationForm(values=values, cargo=cargo)


def _is_blank_line(line: dict[str, str]) -> bool:
    # The currency and origin defaults alone do not make a line.
    return not any(v for k, v in line.items() if k not in ("currency", "origin_country"))


def _message(exc: msgspec.ValidationError, attribute: str) -> Pair:
    text = str(exc)
    message = text.rpartition(" - at `")[0] or text
    if "matching regex" in message and attribute in PATTERN_WORDS:
        return PATTERN_WORDS[attribute]
    message = without_field(message)
    return (message_vi(message), message_en(message))


def _convert_leaf(
    form: DeclarationForm, name: str, raw: str, annotation: Any, attribute: str
) -> Any:
    if raw == "":
        if name in OPTIONAL:
            return None
        form.errors[name] = REQUIRED
        return None
    try:
        return msgspec.convert(raw, annotation, strict=False)
    except msgspec.ValidationError as exc:
        form.errors[name] = _message(exc, attribute)
        return None


def _arrival(form: DeclarationForm, raw: str, zone: ZoneInfo) -> datetime | None:
    if not raw:
        form.errors["planned_arrival"] = REQUIRED
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        form.errors["planned_arrival"] = (
            "Ngày giờ không hợp lệ (ngày/tháng/năm giờ:phút)",
            "Not a valid date and time",
        )
        return None
    # datetime-local has no zone: the person typed the gate's local time.
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def facts_from_form(
    form: DeclarationForm, gates: GateRegistry, fallback: ZoneInfo
) -> DeclarationFacts | None:
    """The facts, or None with `form.errors` saying what is wrong where."""
    v = form.values
    for name in UPPER & set(v):
        v[name] = v[name].upper()
    for line in form.cargo:
        for name in ("currency", "origin_country"):
            line[name] = line[name].upper()
    gate_code = v.get("gate", "")
    zone = gates.get(gate_code).zone if gate_code in gates else fallback
    top: dict[str, Any] = {}
    for name in ("direction", "gate", "consignor", "consignee"):
        top[name] = _convert_leaf(form, name, v.get(name, ""), _TOP_TYPES[name], name)
    top["planned_arrival"] = _arrival(form, v.get("planned_arrival", ""), zone)
    vehicle = {
        n: _convert_leaf(form, f"vehicle.{n}", v.get(f"vehicle.{n}", ""), _VEHICLE_TYPES[n], n)
        for n in VEHICLE_FIELDS
    }
    driver = {
        n: _convert_leaf(form, f"driver.{n}", v.get(f"driver.{n}", ""), _DRIVER_TYPES[n], n)
        for n in DRIVER_FIELDS
    }
    form.cargo = [line for line in form.cargo if not _is_blank_line(line)] or form.cargo[:1]
    cargo = []
    for i, line in enumerate(form.cargo):
        if _is_blank_line(line):
            form.general.append(("Cần ít nhất một dòng hàng", "At least one cargo line is needed"))
            continue
        cargo.append(
            {
                n: _convert_leaf(form, f"cargo[{i}].{n}", line.get(n, ""), _CARGO_TYPES[n], n)
                for n in CARGO_FIELDS
            }
        )
    if not form.cargo:
        form.general.append(("Cần ít nhất một dòng hàng", "At least one cargo line is needed"))
    if form.has_errors:
        return None
    document = {**top, "vehicle": vehicle, "driver": driver, "cargo": cargo}
    # The structs' own checks (plate for its country, HS chapter, total weight) name a field.
    for path, part, struct in (
        ("vehicle", vehicle, Vehicle),
        ("driver", driver, Driver),
        *((f"cargo[{i}]", line, CargoLine) for i, line in enumerate(cargo)),
    ):
        try:
            msgspec.convert(part, struct)
        except msgspec.ValidationError as exc:
            add_validation_error(form, exc, root=path)
    if form.has_errors:
        return None
    try:
        return msgspec.convert(document, DeclarationFacts)
    except msgspec.ValidationError as exc:
        add_validation_error(form, exc)
        return None


def add_validation_error(
    form: DeclarationForm, exc: msgspec.ValidationError, *, root: str = ""
) -> None:
    text = str(exc)
    message, _, path = text.rpartition(" - at `")
    if not message:
        message, path = text, ""
    name = field_from(message, path.rstrip("`"))
    if root:
        name = root if name == "$" else f"{root}.{name}"
    message = without_field(message)
    pair = (message_vi(message), message_en(message))
    if name in ("$", "cargo"):
        form.general.append(pair)
    else:
        form.errors[name] = pair


def add_service_error(form: DeclarationForm, exc: InvalidInput) -> None:
    """The service's own checks (gate, ISO lists, arrival window) on the field they name."""
    if exc.field and (exc.field in form.values or exc.field.startswith("cargo[")):
        form.errors[exc.field] = (exc.vi, exc.en)
    else:
        form.general.append((exc.vi, exc.en))


def form_fingerprint(form: FormMultiDict) -> str:
    """What the idempotency key is bound to: the posted fields but the token and the button."""
    items = sorted(
        (k, str(v)) for k, v in form.multi_items() if k not in ("_csrf_token", "op", "form_key")
    )
    return hashlib.sha256(repr(items).encode()).hexdigest()
