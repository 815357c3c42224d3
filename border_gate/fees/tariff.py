"""The fee tariff as data: TOML rules checked when loaded, and the lookup for one truck.

Pure: no database, no clock. A bad table fails at start-up with the rule and the fault
named, never on the 500th truck at the gate.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from workflows.model import MAX_TRUCK_GROSS_KG, DeclarationFacts, Direction

VehicleType = Literal["truck", "tractor_trailer"]
VEHICLE_TYPES: tuple[VehicleType, ...] = ("truck", "tractor_trailer")

#: One fee is at most a billion đồng: a typo with three zeros too many fails at load.
MAX_AMOUNT_VND = 1_000_000_000


class TariffError(ValueError):
    """The tariff cannot work; the message names the file, the rule and the fault."""


class TariffRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name_vi: Annotated[str, Meta(min_length=1, max_length=100)]
    name_en: Annotated[str, Meta(min_length=1, max_length=100)]
    amount: Annotated[int, Meta(ge=0, le=MAX_AMOUNT_VND)]  # VND, whole đồng
    direction: Literal["export", "import", "any"] = "any"
    gates: list[str] | None = None
    vehicle_type: VehicleType | None = None
    min_gross_kg: Annotated[float, Meta(ge=0)] = 0.0
    max_gross_kg: Annotated[float, Meta(gt=0)] | None = None

    def matches(self, gate: str, direction: Direction, vehicle: VehicleType, gross: float) -> bool:
        return (
            (self.direction == "any" or self.direction == direction.value)
            and (self.gates is None or gate in self.gates)
            and (self.vehicle_type is None or self.vehicle_type == vehicle)
            and self.min_gross_kg <= gross
            and (self.max_gross_kg is None or gross < self.max_gross_kg)
        )


class _TariffFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    currency: Literal["VND"]
    rule: Annotated[list[TariffRule], Meta(min_length=1)]


class Fee(msgspec.Struct, frozen=True):
    """What one truck owes, and why (the rule's index and name go on the receipt)."""

    amount_vnd: int
    rule_index: int
    rule_vi: str
    rule_en: str
    vehicle_type: VehicleType
    gross_weight_kg: float


def vehicle_type_of(facts: DeclarationFacts) -> VehicleType:
    """A declared trailer plate means a tractor with (semi-)trailer; otherwise a truck."""
    return "tractor_trailer" if facts.vehicle.trailer_plate else "truck"


class Tariff:
    """The rules in order; `fee_for` applies the first that matches."""

    def __init__(self, rules: list[TariffRule], where: str = "tariff") -> None:
        self.rules = rules
        self.where = where

    def lookup(
        self, gate: str, direction: Direction, vehicle: VehicleType, gross_weight_kg: float
    ) -> Fee | None:
        for index, rule in enumerate(self.rules):
            if rule.matches(gate, direction, vehicle, gross_weight_kg):
                return Fee(
                    amount_vnd=rule.amount,
                    rule_index=index,
                    rule_vi=rule.name_vi,
                    rule_en=rule.name_en,
                    vehicle_type=vehicle,
                    gross_weight_kg=gross_weight_kg,
                )
        return None

    def fee_for(self, facts: DeclarationFacts) -> Fee:
        """The fee for the truck these facts describe; TariffError if no rule covers it."""
        vehicle = vehicle_type_of(facts)
        fee = self.lookup(facts.gate, facts.direction, vehicle, facts.gross_weight_kg)
        if fee is None:
            raise TariffError(
                f"{self.where}: không có mức phí cho {facts.gate}/{facts.direction.value}/"
                f"{vehicle}/{facts.gross_weight_kg:g} kg / no rule covers this truck"
            )
        return fee

    def check_covers(self, gates: Iterable[str]) -> None:
        """Every gate, direction, vehicle type and weight up to a full truck finds a rule."""
        bounds = {0.0, MAX_TRUCK_GROSS_KG}
        for rule in self.rules:
            bounds.add(rule.min_gross_kg)
            if rule.max_gross_kg is not None:
                bounds.add(rule.max_gross_kg)
        points = sorted(b for b in bounds if b <= MAX_TRUCK_GROSS_KG)
        # Rules are half-open intervals: probing each bound and each gap's midpoint finds any hole.
        probes = points + [(a + b) / 2 for a, b in pairwise(points)]
        for gate in gates:
            for direction in Direction:
                for vehicle in VEHICLE_TYPES:
                    for gross in sorted(probes):
                        if self.lookup(gate, direction, vehicle, gross) is None:
                            raise TariffError(
                                f"{self.where}: không có mức phí cho cửa khẩu {gate}, "
                                f"{direction.value}, {vehicle}, {gross:g} kg / "
                                f"no rule covers gate {gate}, {direction.value}, {vehicle}, "
                                f"{gross:g} kg"
                            )


def parse_tariff(raw: bytes, where: str, gates: Iterable[str]) -> Tariff:
    """Check and build a tariff from TOML bytes; TariffError says what is wrong."""
    known = list(gates)
    try:
        document = tomllib.loads(raw.decode("utf-8"))
        parsed = msgspec.convert(document, _TariffFile)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, msgspec.ValidationError) as exc:
        raise TariffError(f"{where}: {exc}") from None
    for index, rule in enumerate(parsed.rule):
        label = f"{where}: rule {index + 1} ({rule.name_en})"
        if rule.max_gross_kg is not None and rule.max_gross_kg <= rule.min_gross_kg:
            raise TariffError(f"{label}: max_gross_kg must be above min_gross_kg")
        unknown = sorted(set(rule.gates or ()) - set(known))
        if unknown:
            raise TariffError(f"{label}: unknown gate(s) {', '.join(unknown)}")
        if rule.gates is not None and not rule.gates:
            raise TariffError(f"{label}: gates is empty; leave it out to mean every gate")
    tariff = Tariff(parsed.rule, where)
    tariff.check_covers(known)
    return tariff


def load_tariff(path: Path | None, gates: Iterable[str]) -> Tariff:
    """The tariff from `path`, or the bundled defaults; TariffError on any fault."""
    if path is None:
        raw = resources.files(__package__).joinpath("tariff.toml").read_bytes()
        return parse_tariff(raw, "tariff.toml (bundled)", gates)
    return parse_tariff(path.read_bytes(), str(path), gates)
