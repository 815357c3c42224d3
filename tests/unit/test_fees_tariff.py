"""The fee tariff: lookup by direction, gate, vehicle type and weight band; checked at load."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from border_gate.fees.service import vnd
from border_gate.fees.tariff import TariffError, load_tariff, parse_tariff
from workflows.model import CargoLine, DeclarationFacts, Direction, Driver, Vehicle

GATES = ["HUU_NGHI", "TAN_THANH"]


def facts(
    weight: float, *, trailer: str | None = None, gate: str = "HUU_NGHI", direction: str = "export"
) -> DeclarationFacts:
    return DeclarationFacts(
        direction=Direction(direction),
        gate=gate,
        vehicle=Vehicle(plate="12C-345.67", trailer_plate=trailer),
        driver=Driver(name="Nguyễn Văn Đức", document_number="C1234567", nationality="VN"),
        cargo=[
            CargoLine(
                hs_code="081060",
                description="Sầu riêng",
                gross_weight_kg=weight,
                packages=10,
                value=100.0,
                currency="USD",
                origin_country="VN",
            )
        ],
        consignor="A",
        consignee="B",
        planned_arrival=datetime(2026, 11, 24, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("weight", "trailer", "amount"),
    [
        (100, None, 200_000),
        (4_999.9, None, 200_000),
        (5_000, None, 500_000),  # bands are [min, max): the bound belongs to the upper band
        (14_999, None, 500_000),
        (15_000, None, 800_000),
        (29_999, None, 800_000),
        (30_000, None, 1_000_000),
        (100_000, None, 1_000_000),
        (2_000, "12R-001.23", 1_000_000),  # a trailer: the first rule, whatever the weight
    ],
)
def test_bundled_tariff_by_weight_band_and_vehicle(
    weight: float, trailer: str | None, amount: int
) -> None:
    tariff = load_tariff(None, GATES)
    fee = tariff.fee_for(facts(weight, trailer=trailer))
    assert fee.amount_vnd == amount
    assert fee.vehicle_type == ("tractor_trailer" if trailer else "truck")


def test_direction_and_gate_specific_rules_come_first(tmp_path: Path) -> None:
    path = tmp_path / "tariff.toml"
    path.write_text(
        """
currency = "VND"
[[rule]]
name_vi = "Nhập khẩu qua Tân Thanh"
name_en = "Import at Tan Thanh"
direction = "import"
gates = ["TAN_THANH"]
amount = 300_000
[[rule]]
name_vi = "Mọi xe"
name_en = "Every truck"
amount = 100_000
"""
    )
    tariff = load_tariff(path, GATES)
    assert tariff.fee_for(facts(10_000, gate="TAN_THANH", direction="import")).amount_vnd == 300_000
    assert tariff.fee_for(facts(10_000, gate="TAN_THANH", direction="export")).amount_vnd == 100_000
    assert tariff.fee_for(facts(10_000, gate="HUU_NGHI", direction="import")).amount_vnd == 100_000


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        ('currency = "VND"\n', "rule"),
        ('currency = "USD"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\n', "currency"),
        ('currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=-5\n', "amount"),
        ('currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1.5\n', "amount"),
        (
            'currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\ncolour="red"\n',
            "colour",
        ),
        (
            'currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\ngates=["NOWHERE"]\n',
            "NOWHERE",
        ),
        (
            'currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\n'
            "min_gross_kg=10\nmax_gross_kg=5\n",
            "max_gross_kg",
        ),
        # a hole: nothing covers 10 t to 20 t
        (
            'currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\nmax_gross_kg=10000\n'
            '[[rule]]\nname_vi="b"\nname_en="b"\namount=2\nmin_gross_kg=20000\n',
            "no rule covers",
        ),
        # only exports are priced: imports have no rule
        (
            'currency = "VND"\n[[rule]]\nname_vi="a"\nname_en="a"\namount=1\ndirection="export"\n',
            "import",
        ),
        ("not toml [", "tariff"),
    ],
)
def test_a_bad_tariff_fails_at_load_naming_the_fault(body: str, fault: str) -> None:
    with pytest.raises(TariffError, match=fault):
        parse_tariff(body.encode(), "tariff", GATES)


@given(st.floats(min_value=0.1, max_value=100_000, allow_nan=False))
def test_every_weight_has_exactly_the_band_it_falls_in(weight: float) -> None:
    tariff = load_tariff(None, GATES)
    fee = tariff.fee_for(facts(weight))
    expected = (
        200_000
        if weight < 5_000
        else 500_000
        if weight < 15_000
        else 800_000
        if weight < 30_000
        else 1_000_000
    )
    assert fee.amount_vnd == expected


def test_vnd_groups_thousands_with_dots() -> None:
    assert vnd(1_000_000) == "1.000.000 ₫"
    assert vnd(500) == "500 ₫"
