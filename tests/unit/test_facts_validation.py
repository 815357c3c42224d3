"""What a firm files: DeclarationFacts accepts real plates, HS codes and text, refuses the rest."""

from __future__ import annotations

import copy
import unicodedata
from typing import Any, Literal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.model import DeclarationFacts, Direction, plate_key

LINE: dict[str, Any] = {
    "hs_code": "081060",
    "description": "Sầu riêng tươi",
    "gross_weight_kg": 18000,
    "packages": 900,
    "value": 54000,
    "currency": "USD",
    "origin_country": "VN",
}
BODY: dict[str, Any] = {
    "direction": "export",
    "gate": "HUU_NGHI",
    "vehicle": {"plate": "12C-345.67", "trailer_plate": None, "country": "VN"},
    "driver": {"name": "Nguyễn Văn Đức", "document_number": "C1234567", "nationality": "VN"},
    "cargo": [LINE],
    "consignor": "Công ty TNHH Nông sản Đồng Đăng",
    "consignee": "Pingxiang Fruit Trading Co.",
    "planned_arrival": "2026-12-01T08:00:00+07:00",
}


def body(**changes: Any) -> dict[str, Any]:
    """The example body with top-level changes; nested dicts are replaced whole."""
    new = copy.deepcopy(BODY)
    new.update(changes)
    return new


def vehicle(plate: str, country: str = "VN", trailer: str | None = None) -> dict[str, Any]:
    return {"plate": plate, "trailer_plate": trailer, "country": country}


def line(**changes: Any) -> dict[str, Any]:
    return {**LINE, **changes}


def decode(raw: dict[str, Any]) -> DeclarationFacts:
    return msgspec.json.decode(msgspec.json.encode(raw), type=DeclarationFacts)


def refusal(raw: dict[str, Any]) -> tuple[str, str]:
    """(message, JSON path) of the validation error; the path is "" for the whole document."""
    with pytest.raises(msgspec.ValidationError) as caught:
        decode(raw)
    message, _, path = str(caught.value).rpartition(" - at `")
    if not message:
        return str(caught.value), ""
    return message, path.rstrip("`")


def test_the_example_body_is_accepted() -> None:
    facts = decode(BODY)
    assert facts.direction is Direction.EXPORT
    assert facts.gross_weight_kg == 18000
    assert facts.cargo[0].chapter == 8


# --- Plates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plate",
    [
        "12C-345.67",  # Lạng Sơn, five digits
        "29H-1234",  # four digits, no dot
        "51LD-123.45",  # two-letter series
        "12C34567",  # typed without dash and dot
        "12c-345.67",  # lower case
        "30E1-123.45",  # series with a digit
        "29H1234",
    ],
)
def test_vietnamese_plates(plate: str) -> None:
    assert decode(body(vehicle=vehicle(plate))).vehicle.plate == plate


@pytest.mark.parametrize("plate", ["桂A·12345", "桂F12345", "粤BD12345", "桂A.12345", "京A-1234X"])
def test_chinese_plates(plate: str) -> None:
    facts = decode(body(vehicle=vehicle(plate, "CN", trailer="桂F12345")))
    assert facts.vehicle.plate == plate


@pytest.mark.parametrize(
    ("plate", "country", "says"),
    [
        ("12C-34", "VN", "not a Vietnamese plate"),
        ("1C-345.67", "VN", "not a Vietnamese plate"),
        ("12C-3456.7", "VN", "not a Vietnamese plate"),
        ("12-345.67", "VN", "not a Vietnamese plate"),
        ("ABC-12345", "VN", "not a Vietnamese plate"),
        ("桂A·12345", "VN", "not a Vietnamese plate"),
        ("12C-345.67", "CN", "not a Chinese plate"),
        ("桂A·1234", "CN", "not a Chinese plate"),
        ("台A·12345", "CN", "not a Chinese plate"),
        ("A-1", "LA", "Expected `str` of length >= 4"),
        ("!!!!", "LA", "not a valid plate"),
    ],
)
def test_bad_plates_are_refused_at_the_vehicle(plate: str, country: str, says: str) -> None:
    message, path = refusal(body(vehicle=vehicle(plate, country)))
    assert says in message
    # Plate rules span plate and country, so the error is raised for the whole vehicle.
    assert path in ("$.vehicle", "$.vehicle.plate")


def test_a_bad_trailer_plate_is_refused_and_named() -> None:
    message, path = refusal(body(vehicle=vehicle("12C-345.67", trailer="12C-34")))
    # The vehicle-level rule names its field first ("trailer_plate: …"); the API turns that
    # into the field `vehicle.trailer_plate`.
    assert "'12C-34'" in message and path == "$.vehicle"
    assert message.startswith("trailer_plate: ")


def test_plate_errors_speak_vietnamese_and_english() -> None:
    message, _ = refusal(body(vehicle=vehicle("12C-34")))
    assert message.startswith("plate: ")
    vi, en = message.removeprefix("plate: ").split(" / ")
    assert vi.startswith("Biển số Việt Nam không hợp lệ") and en.startswith("not a Vietnamese")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("12C-345.67", "12c34567"),
        ("12C-345.67", " 12C 345 67 "),
        ("桂A·12345", "桂a12345"),
        ("51LD-123.45", "51ld12345"),
    ],
)
def test_plate_key_matches_the_ways_people_write_a_plate(a: str, b: str) -> None:
    assert plate_key(a) == plate_key(b)


def test_plate_key_keeps_what_identifies_the_plate() -> None:
    assert plate_key("12C-345.67") == "12C34567"
    assert plate_key("桂A·12345") == "桂A12345"
    assert plate_key("12C-345.67") != plate_key("12C-345.68")


vn_plates = st.builds(
    lambda province, series, digits, dash, dot: (
        f"{province:02d}{series}{'-' if dash else ''}"
        + (f"{digits[:3]}{'.' if dot else ''}{digits[3:]}" if len(digits) == 5 else digits)
    ),
    st.integers(10, 99),
    st.from_regex(r"[A-Z]{1,2}[0-9]?", fullmatch=True),
    st.from_regex(r"[0-9]{4,5}", fullmatch=True),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(vn_plates)
def test_any_well_formed_vietnamese_plate_is_accepted_and_keyed(plate: str) -> None:
    facts = decode(body(vehicle=vehicle(plate)))
    key = plate_key(facts.vehicle.plate)
    assert key == plate_key(key) == plate_key(plate.lower())
    assert key.isalnum() and key == key.upper()


# --- HS codes --------------------------------------------------------------------------------


@pytest.mark.parametrize("hs_code", ["0810", "081060", "08106000", "0810600010", "9701", "0101"])
def test_hs_codes_of_four_to_ten_digits(hs_code: str) -> None:
    assert decode(body(cargo=[line(hs_code=hs_code)])).cargo[0].hs_code == hs_code


@pytest.mark.parametrize("hs_code", ["081", "08106000101", "08.10", "0810a0", "", " 0810"])
def test_hs_codes_that_are_not_four_to_ten_digits(hs_code: str) -> None:
    message, path = refusal(body(cargo=[line(), line(hs_code=hs_code)]))
    assert "matching regex" in message
    assert path == "$.cargo[1].hs_code"


@pytest.mark.parametrize(
    ("hs_code", "chapter"), [("7701", "77"), ("980100", "98"), ("9903", "99"), ("000100", "00")]
)
def test_hs_chapters_that_do_not_exist(hs_code: str, chapter: str) -> None:
    message, path = refusal(body(cargo=[line(), line(), line(hs_code=hs_code)]))
    assert f"chapter {chapter} does not exist" in message
    assert f"chương {chapter}" in message
    # The chapter rule runs on the whole cargo line, so the path stops at the line.
    assert path == "$.cargo[2]"


# --- Bounds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "path", "says"),
    [
        ("gross_weight_kg", 0, "gross_weight_kg", "Expected `float` > 0"),
        ("gross_weight_kg", -1, "gross_weight_kg", "Expected `float` > 0"),
        ("gross_weight_kg", 100_001, "gross_weight_kg", "Expected `float` <= 100000"),
        ("packages", 0, "packages", "Expected `int` >= 1"),
        ("packages", 1_000_001, "packages", "Expected `int` <= 1000000"),
        ("packages", 1.5, "packages", "Expected `int`, got `float`"),
        ("value", 0, "value", "Expected `float` > 0"),
        ("value", 1e11, "value", "Expected `float` <= 10000000000"),
        ("currency", "usd", "currency", "matching regex"),
        ("origin_country", "VNM", "origin_country", "matching regex"),
        ("description", "", "description", "length >= 1"),
        ("description", "x" * 501, "description", "length <= 500"),
    ],
)
def test_cargo_line_bounds(field: str, value: Any, path: str, says: str) -> None:
    message, at = refusal(body(cargo=[line(**{field: value})]))
    assert says in message
    assert at == f"$.cargo[0].{path}"


@pytest.mark.parametrize("count", [1, 200])
def test_one_to_two_hundred_cargo_lines(count: int) -> None:
    facts = decode(body(cargo=[line(gross_weight_kg=100)] * count))
    assert len(facts.cargo) == count


@pytest.mark.parametrize(("count", "says"), [(0, "length >= 1"), (201, "length <= 200")])
def test_no_cargo_or_too_many_lines(count: int, says: str) -> None:
    message, path = refusal(body(cargo=[line(gross_weight_kg=100)] * count))
    assert says in message and path == "$.cargo"


def test_total_gross_weight_up_to_one_hundred_tonnes() -> None:
    facts = decode(body(cargo=[line(gross_weight_kg=50_000), line(gross_weight_kg=50_000)]))
    assert facts.gross_weight_kg == 100_000


def test_total_gross_weight_over_one_hundred_tonnes_is_refused() -> None:
    message, path = refusal(
        body(cargo=[line(gross_weight_kg=60_000), line(gross_weight_kg=40_001)])
    )
    assert "total gross weight 100,001 kg exceeds one truck's 100,000 kg" in message
    assert "Tổng trọng lượng" in message
    # A rule over the whole declaration: msgspec reports it at the root (no "- at" suffix).
    assert path == ""


@pytest.mark.parametrize(
    ("changes", "path", "says"),
    [
        ({"gate": "huu_nghi"}, "$.gate", "matching regex"),
        ({"direction": "transit"}, "$.direction", "Invalid enum value 'transit'"),
        ({"consignor": ""}, "$.consignor", "length >= 1"),
        ({"consignee": "x" * 201}, "$.consignee", "length <= 200"),
        (
            {"driver": {"name": "A", "document_number": "C12", "nationality": "VN"}},
            "$.driver.document_number",
            "matching regex",
        ),
        (
            {"driver": {"name": "A", "document_number": "C1234567", "nationality": "vn"}},
            "$.driver.nationality",
            "matching regex",
        ),
    ],
)
def test_other_fields(changes: dict[str, Any], path: str, says: str) -> None:
    message, at = refusal(body(**changes))
    assert says in message and at == path


# --- Unknown fields, text, time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (body(colour="red"), ""),
        (body(vehicle={**vehicle("12C-345.67"), "axles": 3}), "$.vehicle"),
        (body(driver={**BODY["driver"], "phone": "0912345678"}), "$.driver"),
        (body(cargo=[line(), line(organic=True)]), "$.cargo[1]"),
    ],
)
def test_unknown_fields_are_refused(raw: dict[str, Any], path: str) -> None:
    message, at = refusal(raw)
    assert message.startswith("Object contains unknown field")
    assert at == path


def test_a_missing_field_is_named() -> None:
    raw = body()
    del raw["driver"]["document_number"]
    message, path = refusal(raw)
    assert message == "Object missing required field `document_number`" and path == "$.driver"


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_vietnamese_text_is_kept_as_written(form: Literal["NFC", "NFD"]) -> None:
    name = unicodedata.normalize(form, "Nguyễn Thị Hường")
    consignor = unicodedata.normalize(form, "Công ty TNHH Thương mại Kỳ Lừa – Đồng Đăng")
    description = unicodedata.normalize(form, "Vải thiều tươi, đóng thùng xốp")
    raw = body(
        driver={"name": name, "document_number": "B7654321", "nationality": "VN"},
        consignor=consignor,
        cargo=[line(description=description)],
    )
    facts = decode(raw)
    assert facts.driver.name == name
    assert facts.consignor == consignor
    assert facts.cargo[0].description == description
    assert decode(msgspec.to_builtins(facts)) == facts


@pytest.mark.parametrize("when", ["2026-12-01T08:00:00", "2026-12-01 08:00"])
def test_planned_arrival_needs_a_timezone(when: str) -> None:
    message, path = refusal(body(planned_arrival=when))
    assert path == "$.planned_arrival"
    assert "timezone" in message or "datetime" in message


@pytest.mark.parametrize("when", ["2026-12-01T08:00:00+07:00", "2026-12-01T01:00:00Z"])
def test_planned_arrival_with_an_offset(when: str) -> None:
    facts = decode(body(planned_arrival=when))
    assert facts.planned_arrival.utcoffset() is not None
    assert facts.planned_arrival == decode(BODY).planned_arrival


def test_a_valid_body_survives_a_round_trip() -> None:
    facts = decode(BODY)
    assert msgspec.json.decode(msgspec.json.encode(facts), type=DeclarationFacts) == facts
