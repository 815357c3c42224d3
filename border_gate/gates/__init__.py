"""The gates the platform serves, read from TOML and checked at start-up."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from workflows.definitions import (
    DEFAULT_GRAPHS,
    DefinitionError,
    WorkflowDefinition,
    build_definition,
)
from workflows.model import Direction


class GateConfigError(ValueError):
    """The gates file cannot work; the message names the gate and the fault."""


class Gate(msgspec.Struct, frozen=True):
    code: str
    prefix: str
    name_vi: str
    name_en: str
    far_side: str
    timezone: str
    yard_capacity: int
    workflows: dict[Direction, WorkflowDefinition]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class UnknownGate(LookupError):
    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(code)
        self.code = code
        self.known = known


class GateRegistry:
    """All configured gates by code."""

    def __init__(self, gates: list[Gate]) -> None:
        self._gates = {gate.code: gate for gate in gates}

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._gates.values())

    def __contains__(self, code: object) -> bool:
        return code in self._gates

    def get(self, code: str) -> Gate:
        try:
            return self._gates[code]
        except KeyError:
            raise UnknownGate(code, sorted(self._gates)) from None

    def definition(self, code: str, direction: Direction) -> WorkflowDefinition:
        return self.get(code).workflows[direction]

    @property
    def codes(self) -> list[str]:
        return list(self._gates)


def load_gates(path: Path | None = None) -> GateRegistry:
    """Read gates from `path`, or the bundled defaults; raise GateConfigError on any fault."""
    if path is None:
        raw = resources.files(__package__).joinpath("gates.toml").read_bytes()
        where = "gates.toml (bundled)"
    else:
        raw = path.read_bytes()
        where = str(path)
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GateConfigError(f"{where}: {exc}") from None
    entries = document.get("gate")
    if not isinstance(entries, list) or not entries:
        raise GateConfigError(f"{where}: no [[gate]] entries")
    gates = [_parse_gate(entry, where) for entry in entries]
    codes = [g.code for g in gates]
    if len(set(codes)) != len(codes):
        raise GateConfigError(f"{where}: a gate code appears twice")
    prefixes = [g.prefix for g in gates]
    if len(set(prefixes)) != len(prefixes):
        raise GateConfigError(f"{where}: a declaration number prefix appears twice")
    return GateRegistry(gates)


def _parse_gate(entry: dict[str, Any], where: str) -> Gate:
    code = str(entry.get("code", ""))
    label = f"{where}: gate {code or '?'}"
    required = ("code", "prefix", "name_vi", "name_en")
    missing = [key for key in required if not entry.get(key)]
    if missing:
        raise GateConfigError(f"{label}: missing {', '.join(missing)}")
    if not code.isupper() or not code.replace("_", "").isalnum():
        raise GateConfigError(f"{label}: code must be UPPER_CASE letters, digits and _")
    timezone = entry.get("timezone", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise GateConfigError(f"{label}: unknown timezone {timezone!r}") from None
    capacity = entry.get("yard_capacity", 100)
    if not isinstance(capacity, int) or capacity < 1:
        raise GateConfigError(f"{label}: yard_capacity must be a positive integer")
    overrides = entry.get("workflow", {})
    workflows: dict[Direction, WorkflowDefinition] = {}
    for direction in Direction:
        graph = overrides.get(direction.value, DEFAULT_GRAPHS[direction])
        try:
            workflows[direction] = build_definition(f"{code}-{direction.value}", direction, graph)
        except DefinitionError as exc:
            raise GateConfigError(f"{label}: {exc}") from None
    unknown = set(overrides) - {d.value for d in Direction}
    if unknown:
        raise GateConfigError(f"{label}: unknown workflow direction(s) {sorted(unknown)}")
    return Gate(
        code=code,
        prefix=str(entry["prefix"]),
        name_vi=str(entry["name_vi"]),
        name_en=str(entry["name_en"]),
        far_side=str(entry.get("far_side", "")),
        timezone=timezone,
        yard_capacity=capacity,
        workflows=workflows,
    )
