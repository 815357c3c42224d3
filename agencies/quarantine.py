"""Quarantine: which of plant, animal and health quarantine the cargo needs, from HS codes."""

from __future__ import annotations

import tomllib
from importlib import resources

from msgspec import Struct, convert

from workflows.labels import STAGE_LABELS
from workflows.machine import Screen, ScreenedStage
from workflows.model import QUARANTINE_STAGES, CargoLine, DeclarationFacts, Stage

AGENCY = "quarantine"


class StageRule(Struct, frozen=True, forbid_unknown_fields=True):
    chapters: list[int] = []
    prefixes: list[str] = []

    def matches(self, line: CargoLine) -> bool:
        return line.chapter in self.chapters or any(
            line.hs_code.startswith(p) for p in self.prefixes
        )


class QuarantineRules(Struct, frozen=True, forbid_unknown_fields=True):
    animal_quarantine: StageRule = StageRule()
    plant_quarantine: StageRule = StageRule()
    health_quarantine: StageRule = StageRule()

    def rule(self, stage: Stage) -> StageRule:
        return {
            Stage.ANIMAL_QUARANTINE: self.animal_quarantine,
            Stage.PLANT_QUARANTINE: self.plant_quarantine,
            Stage.HEALTH_QUARANTINE: self.health_quarantine,
        }[stage]


def rules_from_toml(raw: bytes) -> QuarantineRules:
    return convert(tomllib.loads(raw.decode("utf-8")), QuarantineRules)


def default_rules() -> QuarantineRules:
    return rules_from_toml(
        resources.files("agencies.rules").joinpath("quarantine.toml").read_bytes()
    )


class QuarantineNeed(Struct, frozen=True):
    stage: Stage
    required: bool
    reasons: tuple[str, ...]


def assess(facts: DeclarationFacts, rules: QuarantineRules) -> list[QuarantineNeed]:
    """For each quarantine stage: needed or not, and the cargo lines that need it."""
    needs = []
    for stage in QUARANTINE_STAGES:
        rule = rules.rule(stage)
        vi, en = STAGE_LABELS[stage]
        lines = [
            f"Dòng {i}: HS {line.hs_code} ({line.description}) cần {vi.lower()} / "
            f"line {i}: HS {line.hs_code} needs {en.lower()}"
            for i, line in enumerate(facts.cargo, start=1)
            if rule.matches(line)
        ]
        if lines:
            needs.append(QuarantineNeed(stage=stage, required=True, reasons=tuple(lines)))
        else:
            needs.append(
                QuarantineNeed(
                    stage=stage,
                    required=False,
                    reasons=(
                        f"Hàng hoá không thuộc diện {vi.lower()} / no cargo needs {en.lower()}",
                    ),
                )
            )
    return needs


def screening(needs: list[QuarantineNeed], round_: int) -> Screen:
    return Screen(
        agency=AGENCY,
        round=round_,
        stages={
            need.stage: ScreenedStage(required=need.required, findings=need.reasons)
            for need in needs
        },
    )
