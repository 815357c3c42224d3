"""The queue's configuration (queue.toml): capacity per gate, direction and hour; rules; policy.

Read once at start-up (build_platform) and checked there: a wrong file stops the platform
with a message naming the entry and the fault, not the 500th booking.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from msgspec import Struct

from border_gate.gates import GateRegistry
from workflows.model import Direction
from workflows.queueing import Lane, QueuePolicy, StageTimes

HOURS = 24


class QueueConfigError(ValueError):
    """The queue file cannot work; the message names the entry and the fault."""


class CommodityRule(Struct, frozen=True):
    """Goods with these HS prefixes may only cross at `gates` (for `directions`)."""

    code: str
    hs_prefixes: tuple[str, ...]
    gates: frozenset[str]
    directions: frozenset[Direction]
    name_vi: str
    name_en: str

    def forbids(self, hs_codes: Sequence[str], gate: str, direction: Direction) -> bool:
        return (
            direction in self.directions
            and gate not in self.gates
            and any(code.startswith(self.hs_prefixes) for code in hs_codes)
        )


class HourlyCapacity(Struct, frozen=True):
    yard_in: tuple[int, ...]  # 24 local hours
    far_side: tuple[int, ...]  # 24 local hours; the far side's default daily quota is the sum

    @property
    def default_quota(self) -> int:
        return sum(self.far_side)


class QueueConfig(Struct, frozen=True):
    policy: QueuePolicy
    booking_share: float
    call_window: int
    booking_horizon: timedelta
    default_stage_times: StageTimes
    measure_last: int
    capacity: dict[tuple[str, Direction], HourlyCapacity]
    commodity_rules: tuple[CommodityRule, ...]

    def capacity_for(self, gate: str, direction: Direction) -> HourlyCapacity:
        return self.capacity[(gate, direction)]


def load_queue_config(path: Path | None, gates: GateRegistry) -> QueueConfig:
    if path is None:
        raw = resources.files(__package__).joinpath("queue.toml").read_bytes()
        where = "queue.toml (bundled)"
    else:
        raw = path.read_bytes()
        where = str(path)
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise QueueConfigError(f"{where}: {exc}") from None
    try:
        return _parse(document, gates)
    except (KeyError, TypeError, ValueError) as exc:
        raise QueueConfigError(f"{where}: {exc}") from None


def _positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
    return value


def _hours(value: Any, open_hours: tuple[int, int], name: str) -> tuple[int, ...]:
    if isinstance(value, list):
        if len(value) != HOURS:
            raise ValueError(f"{name} must list {HOURS} hours, not {len(value)}")
        return tuple(_positive_int(v, f"{name}[{i}]", minimum=0) for i, v in enumerate(value))
    per_hour = _positive_int(value, name, minimum=0)
    start, end = open_hours
    return tuple(per_hour if start <= hour < end else 0 for hour in range(HOURS))


def _open_hours(entry: dict[str, Any], fallback: tuple[int, int], label: str) -> tuple[int, int]:
    raw = entry.get("open_hours", list(fallback))
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(isinstance(h, int) for h in raw)
        or not 0 <= raw[0] < raw[1] <= HOURS
    ):
        raise ValueError(f"{label}: open_hours must be [start, end] with 0 <= start < end <= 24")
    return (raw[0], raw[1])


def _parse(document: dict[str, Any], gates: GateRegistry) -> QueueConfig:
    policy_raw = document.get("policy", {})
    shares_raw = policy_raw.get("class_shares", {"perishable": 3, "aeo": 2, "other": 1})
    shares = {}
    for lane in (Lane.PERISHABLE, Lane.AEO, Lane.OTHER):
        shares[lane] = _positive_int(shares_raw.get(lane.value), f"policy.class_shares.{lane}")
    unknown = set(shares_raw) - {lane.value for lane in shares}
    if unknown:
        raise ValueError(f"policy.class_shares: unknown class(es) {sorted(unknown)}")
    prefixes = policy_raw.get("perishable_hs_prefixes", [])
    if not all(isinstance(p, str) and p.isdigit() and 2 <= len(p) <= 10 for p in prefixes):
        raise ValueError("policy.perishable_hs_prefixes must be HS code prefixes (2-10 digits)")
    policy = QueuePolicy(
        booked_weight=_positive_int(policy_raw.get("booked_weight", 3), "policy.booked_weight"),
        walk_in_weight=_positive_int(policy_raw.get("walk_in_weight", 1), "policy.walk_in_weight"),
        class_shares=shares,
        perishable_hs_prefixes=tuple(prefixes),
        aeo_organisations=frozenset(str(o) for o in policy_raw.get("aeo_organisations", [])),
        booked_lead=timedelta(
            minutes=_positive_int(
                policy_raw.get("booked_lead_minutes", 60), "policy.booked_lead_minutes", minimum=0
            )
        ),
        record_threshold=timedelta(
            minutes=_positive_int(
                policy_raw.get("record_threshold_minutes", 15), "policy.record_threshold_minutes"
            )
        ),
    )
    share = policy_raw.get("booking_share", 0.7)
    if not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ValueError(f"policy.booking_share must be between 0 and 1, not {share!r}")

    times = document.get("stage_times", {})
    stage_times = StageTimes(
        call_to_gate_in=60.0
        * _positive_int(
            times.get("call_to_gate_in_minutes", 20), "stage_times.call_to_gate_in_minutes"
        ),
        gate_in_to_gate_out=60.0
        * _positive_int(
            times.get("gate_in_to_gate_out_minutes", 120),
            "stage_times.gate_in_to_gate_out_minutes",
        ),
    )

    default = document.get("default_capacity", {})
    default_open = _open_hours(default, (7, 19), "default_capacity")
    default_capacity = HourlyCapacity(
        yard_in=_hours(default.get("yard_in", 30), default_open, "default_capacity.yard_in"),
        far_side=_hours(default.get("far_side", 20), default_open, "default_capacity.far_side"),
    )
    capacity = {(gate.code, d): default_capacity for gate in gates for d in Direction}
    seen: set[tuple[str, Direction]] = set()
    for entry in document.get("capacity", []):
        gate = str(entry.get("gate", ""))
        label = f"capacity {gate or '?'}/{entry.get('direction', '?')}"
        if gate not in gates:
            raise ValueError(f"{label}: unknown gate {gate!r} (known: {', '.join(gates.codes)})")
        direction = Direction(entry.get("direction"))
        if (gate, direction) in seen:
            raise ValueError(f"{label}: appears twice")
        seen.add((gate, direction))
        open_hours = _open_hours(entry, default_open, label)
        capacity[(gate, direction)] = HourlyCapacity(
            yard_in=_hours(entry.get("yard_in", 30), open_hours, f"{label}.yard_in"),
            far_side=_hours(entry.get("far_side", 20), open_hours, f"{label}.far_side"),
        )

    rules = []
    for entry in document.get("commodity_rule", []):
        code = str(entry.get("code", ""))
        label = f"commodity_rule {code or '?'}"
        for key in ("code", "hs_prefixes", "gates", "name_vi", "name_en"):
            if not entry.get(key):
                raise ValueError(f"{label}: missing {key}")
        unknown_gates = [g for g in entry["gates"] if g not in gates]
        if unknown_gates:
            raise ValueError(f"{label}: unknown gate(s) {unknown_gates}")
        rules.append(
            CommodityRule(
                code=code,
                hs_prefixes=tuple(str(p) for p in entry["hs_prefixes"]),
                gates=frozenset(entry["gates"]),
                directions=frozenset(
                    Direction(d) for d in entry.get("directions", [d.value for d in Direction])
                ),
                name_vi=str(entry["name_vi"]),
                name_en=str(entry["name_en"]),
            )
        )
    return QueueConfig(
        policy=policy,
        booking_share=float(share),
        call_window=_positive_int(policy_raw.get("call_window", 20), "policy.call_window"),
        booking_horizon=timedelta(
            days=_positive_int(
                policy_raw.get("booking_horizon_days", 14), "policy.booking_horizon_days"
            )
        ),
        default_stage_times=stage_times,
        measure_last=_positive_int(times.get("measure_last", 50), "stage_times.measure_last"),
        capacity=capacity,
        commodity_rules=tuple(rules),
    )
