"""What a finished simulation prints: its tally and the throughput report of its window."""

from __future__ import annotations

from typing import Any

from workflows.labels import STATUS_LABELS
from workflows.model import Status


async def summary(simulation: Any, tally: Any) -> str:
    counts = await simulation.counts()
    gate = simulation.gate
    start = simulation.start.astimezone(gate.zone)
    end = simulation.end.astimezone(gate.zone)
    lines = [
        "",
        f"Mô phỏng / simulation: {gate.name_vi} ({gate.code}), {start:%d/%m/%Y %H:%M} – {end:%H:%M} "
        f"(UTC{start:%z})",
        f"  xe đã khai / trucks filed: {tally.filed}; vào bãi / gated in: {tally.gated_in}; "
        f"qua cửa khẩu / departed: {tally.departed}",
        "  quyết định / decisions: "
        + ", ".join(f"{name} {n}" for name, n in sorted(tally.decisions.items())),
        "  trạng thái cuối / final status: "
        + ", ".join(
            f"{STATUS_LABELS[s][1].lower()} {counts[s.value]}" for s in Status if counts[s.value]
        ),
    ]
    return "\n".join(lines)
