"""The agencies' rule tables for this deployment: bundled defaults or files from settings."""

from __future__ import annotations

import msgspec

from agencies import customs, quarantine
from border_gate.settings import Settings, SettingsError


class ScreeningRules(msgspec.Struct, frozen=True):
    customs: customs.CustomsRules
    quarantine: quarantine.QuarantineRules
    seed: int
    expiry_warning_days: int


def load_screening_rules(settings: Settings) -> ScreeningRules:
    """Load and check the rules; a bad file stops start-up with the file and the fault named."""
    try:
        customs_rules = (
            customs.rules_from_toml(settings.customs_rules_file.read_bytes())
            if settings.customs_rules_file
            else customs.default_rules()
        )
    except (ValueError, msgspec.ValidationError) as exc:
        raise SettingsError([f"CUSTOMS_RULES_FILE: {exc}"]) from None
    try:
        quarantine_rules = (
            quarantine.rules_from_toml(settings.quarantine_rules_file.read_bytes())
            if settings.quarantine_rules_file
            else quarantine.default_rules()
        )
    except (ValueError, msgspec.ValidationError) as exc:
        raise SettingsError([f"QUARANTINE_RULES_FILE: {exc}"]) from None
    return ScreeningRules(
        customs=customs_rules,
        quarantine=quarantine_rules,
        seed=settings.screening_seed,
        expiry_warning_days=settings.document_expiry_warning_days,
    )
