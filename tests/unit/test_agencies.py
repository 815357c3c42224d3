"""The agencies' automated checks, as pure functions over the filed facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from agencies import border_guard, customs, quarantine, yard
from workflows.model import Channel, DeclarationFacts, Stage

TODAY = date(2026, 11, 23)


def facts(**overrides: Any) -> DeclarationFacts:
    body: dict[str, Any] = {
        "direction": "export",
        "gate": "HUU_NGHI",
        "vehicle": {"plate": "12C-345.67", "country": "VN"},
        "driver": {"name": "Nguyễn Văn Đức", "document_number": "C1234567", "nationality": "VN"},
        "cargo": [line()],
        "consignor": "Công ty TNHH Nông sản Đồng Đăng",
        "consignee": "Pingxiang Fruit Trading Co.",
        "planned_arrival": "2026-12-01T08:00:00+07:00",
    }
    body.update(overrides)
    return msgspec.convert(body, DeclarationFacts)


def line(
    hs_code: str = "081060", kg: float = 18000, value: float = 54000, currency: str = "USD"
) -> dict[str, Any]:
    return {
        "hs_code": hs_code,
        "description": "Hàng",
        "gross_weight_kg": kg,
        "packages": 10,
        "value": value,
        "currency": currency,
        "origin_country": "VN",
    }


RULES = customs.default_rules()
QUIET = msgspec.structs.replace(RULES, random_red_rate=0.0, first_declarations=0)


def assess(
    f: DeclarationFacts,
    rules: customs.CustomsRules = QUIET,
    prior: int = 10,
    declaration_id: str = "d",
) -> customs.CustomsAssessment:
    return customs.assess(
        f, prior_declarations=prior, rules=rules, seed=7, declaration_id=declaration_id, round_=1
    )


def test_ordinary_durian_is_green_and_released_automatically() -> None:
    result = assess(facts())
    assert result.channel is Channel.GREEN
    command = customs.screening(result, 1)
    assert command.stages[Stage.CUSTOMS].auto_approve is True
    assert command.channel is Channel.GREEN


def test_first_declarations_of_a_firm_are_yellow() -> None:
    rules = msgspec.structs.replace(QUIET, first_declarations=3)
    assert assess(facts(), rules, prior=0).channel is Channel.YELLOW
    assert assess(facts(), rules, prior=2).channel is Channel.YELLOW
    assert assess(facts(), rules, prior=3).channel is Channel.GREEN


def test_value_per_kg_far_from_the_norm() -> None:
    # durian norm 2 USD/kg: 0.5 USD/kg is a quarter (yellow), 0.1 USD/kg a twentieth (red)
    assert assess(facts(cargo=[line(value=9000)])).channel is Channel.YELLOW
    red = assess(facts(cargo=[line(value=1800)]))
    assert red.channel is Channel.RED
    assert any("USD/kg" in r for r in red.reasons)
    # other currencies are converted with the reference rates
    assert assess(facts(cargo=[line(value=54000 * 25000, currency="VND")])).channel is Channel.GREEN


def test_watched_party_is_red_and_named() -> None:
    result = assess(facts(consignee="guangxi shadow trading co."))
    assert result.channel is Channel.RED
    assert any("guangxi shadow trading co." in r for r in result.reasons)


def test_two_yellow_triggers_make_red() -> None:
    # a risky chapter (85, electronics) and a new firm
    rules = msgspec.structs.replace(QUIET, first_declarations=1)
    result = assess(facts(cargo=[line(hs_code="851712", kg=100, value=12000)]), rules, prior=0)
    assert result.channel is Channel.RED


def test_random_sample_is_reproducible_from_the_seed() -> None:
    rules = msgspec.structs.replace(QUIET, random_red_rate=0.5)
    picks = [assess(facts(), rules, declaration_id=f"id-{i}").channel for i in range(200)]
    again = [assess(facts(), rules, declaration_id=f"id-{i}").channel for i in range(200)]
    assert picks == again
    red = picks.count(Channel.RED) / len(picks)
    assert 0.35 < red < 0.65
    assert customs.sample_fraction(1, "x", 1) != customs.sample_fraction(2, "x", 1)


@pytest.mark.parametrize(
    ("hs_code", "needed"),
    [
        ("081060", {Stage.PLANT_QUARANTINE, Stage.HEALTH_QUARANTINE}),  # durian
        ("030617", {Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE}),  # frozen shrimp
        ("160100", {Stage.ANIMAL_QUARANTINE, Stage.HEALTH_QUARANTINE}),  # sausages
        ("440710", {Stage.PLANT_QUARANTINE}),  # sawn wood
        ("440900", set()),  # worked wood: not raw
        ("847989", set()),  # machinery
        ("071410", {Stage.PLANT_QUARANTINE, Stage.HEALTH_QUARANTINE}),  # cassava
        ("310520", set()),  # fertiliser
    ],
)
def test_quarantine_needs_by_hs_code(hs_code: str, needed: set[Stage]) -> None:
    needs = quarantine.assess(
        facts(cargo=[line(hs_code=hs_code, value=100000)]), quarantine.default_rules()
    )
    assert {n.stage for n in needs if n.required} == needed
    command = quarantine.screening(needs, 2)
    assert command.round == 2 and set(command.stages) == {
        Stage.PLANT_QUARANTINE,
        Stage.ANIMAL_QUARANTINE,
        Stage.HEALTH_QUARANTINE,
    }
    for need in needs:
        assert need.reasons  # the officer sees why


def test_quarantine_reasons_name_the_lines() -> None:
    needs = quarantine.assess(
        facts(cargo=[line("847989"), line("081060", kg=1000)]), quarantine.default_rules()
    )
    plant = next(n for n in needs if n.stage is Stage.PLANT_QUARANTINE)
    assert len(plant.reasons) == 1 and "Dòng 2" in plant.reasons[0] and "line 2" in plant.reasons[0]


def test_border_guard_watchlist_matches_plates_and_documents_loosely() -> None:
    watch = [
        border_guard.WatchlistEntry(kind="plate", value="12c 345 67", reason="Nghi buôn lậu"),
        border_guard.WatchlistEntry(kind="document", value=" c1234567 ", reason="Giấy tờ giả"),
    ]
    findings = border_guard.assess(facts(), watch, today=TODAY)
    assert len(findings) == 2
    assert any("Nghi buôn lậu" in f for f in findings) and any("Giấy tờ giả" in f for f in findings)
    assert border_guard.assess(facts(), [], today=TODAY) == ()


def test_trailer_plate_is_checked_too() -> None:
    f = facts(vehicle={"plate": "12C-345.67", "trailer_plate": "12R-001.23", "country": "VN"})
    watch = [
        border_guard.WatchlistEntry(kind="plate", value="12R00123", reason="Rơ-moóc bị truy tìm")
    ]
    assert any("trailer" in x for x in border_guard.assess(f, watch, today=TODAY))


@pytest.mark.parametrize(
    ("expiry", "expect"),
    [
        (date(2026, 11, 1), "expired"),
        (date(2026, 12, 10), "expires soon"),
        (date(2027, 6, 1), None),
    ],
)
def test_travel_document_expiry(expiry: date, expect: str | None) -> None:
    driver = {
        "name": "A",
        "document_number": "C1234567",
        "nationality": "VN",
        "document_expiry": expiry.isoformat(),
    }
    findings = border_guard.assess(facts(driver=driver), [], today=TODAY)
    if expect is None:
        assert findings == ()
    else:
        assert any(expect in f for f in findings)


def test_border_guard_is_always_looked_at() -> None:
    command = border_guard.screening((), 1)
    stage = command.stages[Stage.BORDER_GUARD]
    assert stage.required is True and stage.auto_approve is False and stage.findings


def test_yard_slots() -> None:
    assert yard.assign_position(3, set()) == "P001"
    assert yard.assign_position(3, {"P001", "P003"}) == "P002"
    assert yard.assign_position(2, {"P001", "P002"}) is None


def test_rules_files_are_checked() -> None:
    with pytest.raises(ValueError):
        customs.rules_from_toml(b"random_red_rate = 2.0")
    with pytest.raises(msgspec.ValidationError):
        customs.rules_from_toml(b"surprise = 1")
    with pytest.raises(msgspec.ValidationError):
        quarantine.rules_from_toml(b"[animal_quarantine]\nchapters = ['one']")
