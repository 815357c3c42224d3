"""Service-level targets per stage: how long a decision may take, and the share that must.

Defaults follow the seeds' bar (99.9 % of files on time); the minutes are the project's
own defaults (configuration, not law). Override with the settings (environment or
SETTINGS_FILE) `REPORT_SLA_MINUTES="customs=90,border_guard=20"` and
`REPORT_SLA_SHARE=0.999`, checked at start-up with the other settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from workflows.model import Stage

DEFAULT_MINUTES: dict[str, float] = {
    Stage.CUSTOMS.value: 120,
    Stage.PLANT_QUARANTINE.value: 240,
    Stage.ANIMAL_QUARANTINE.value: 240,
    Stage.HEALTH_QUARANTINE.value: 120,
    Stage.BORDER_GUARD.value: 30,
}
DEFAULT_SHARE = 0.999


class ServiceLevels(msgspec.Struct, frozen=True):
    target_seconds: dict[str, float]
    share: float

    def target_for(self, stage: str) -> float:
        return self.target_seconds.get(stage, DEFAULT_MINUTES[Stage.CUSTOMS.value] * 60)


def service_levels(environ: Mapping[str, str] | None = None) -> ServiceLevels:
    """The configured targets; ValueError naming the variable when one is wrong."""
    env = os.environ if environ is None else environ
    minutes = dict(DEFAULT_MINUTES)
    raw = env.get("REPORT_SLA_MINUTES", "").strip()
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        stage, _, value = pair.partition("=")
        stage = stage.strip()
        if stage not in DEFAULT_MINUTES:
            raise ValueError(
                f"REPORT_SLA_MINUTES: unknown stage {stage!r} (known: {', '.join(DEFAULT_MINUTES)})"
            )
        try:
            minutes[stage] = float(value)
        except ValueError:
            raise ValueError(f"REPORT_SLA_MINUTES: {stage}={value!r} is not a number") from None
        if minutes[stage] <= 0:
            raise ValueError(f"REPORT_SLA_MINUTES: {stage} must be more than 0 minutes")
    share_raw = env.get("REPORT_SLA_SHARE", "").strip()
    try:
        share = float(share_raw) if share_raw else DEFAULT_SHARE
    except ValueError:
        raise ValueError(f"REPORT_SLA_SHARE: {share_raw!r} is not a number") from None
    if not 0 < share <= 1:
        raise ValueError("REPORT_SLA_SHARE must be in (0, 1], e.g. 0.999")
    return ServiceLevels({k: v * 60 for k, v in minutes.items()}, share)
