"""Customs: the risk channel (green / yellow / red) from configurable risk rules."""

from __future__ import annotations

import hashlib
import tomllib
from importlib import resources

from msgspec import Struct, convert

from workflows.labels import CHANNEL_LABELS
from workflows.machine import Screen, ScreenedStage
from workflows.model import Channel, DeclarationFacts, Stage

AGENCY = "customs"


class CustomsRules(Struct, frozen=True, forbid_unknown_fields=True):
    red_if_yellow_triggers: int = 2
    random_red_rate: float = 0.03
    first_declarations: int = 3
    value_deviation_factor: float = 3.0
    value_extreme_factor: float = 10.0
    risky_chapters: list[int] = []
    usd_per_unit: dict[str, float] = {}
    norm_usd_per_kg: dict[str, float] = {}
    watched_parties: list[str] = []

    def __post_init__(self) -> None:
        if not 0.0 <= self.random_red_rate <= 1.0:
            raise ValueError("random_red_rate must be within 0..1")
        if (
            self.value_deviation_factor <= 1
            or self.value_extreme_factor < self.value_deviation_factor
        ):
            raise ValueError("need 1 < value_deviation_factor <= value_extreme_factor")
        if self.red_if_yellow_triggers < 1 or self.first_declarations < 0:
            raise ValueError("red_if_yellow_triggers >= 1 and first_declarations >= 0")


def rules_from_toml(raw: bytes) -> CustomsRules:
    return convert(tomllib.loads(raw.decode("utf-8")), CustomsRules)


def default_rules() -> CustomsRules:
    return rules_from_toml(resources.files("agencies.rules").joinpath("customs.toml").read_bytes())


class CustomsAssessment(Struct, frozen=True):
    channel: Channel
    reasons: tuple[str, ...]


def sample_fraction(seed: int, declaration_id: str, round_: int) -> float:
    """A number in [0, 1) fixed by seed, declaration and round: reproducible sampling."""
    digest = hashlib.sha256(f"{seed}:{declaration_id}:{round_}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assess(
    facts: DeclarationFacts,
    *,
    prior_declarations: int,
    rules: CustomsRules,
    seed: int,
    declaration_id: str,
    round_: int,
) -> CustomsAssessment:
    """The risk channel and every reason for it, in the order an officer should read them."""
    red: list[str] = []
    yellow: list[str] = []
    watched = {name.casefold() for name in rules.watched_parties}
    for role_vi, role_en, party in (
        ("Người gửi", "consignor", facts.consignor),
        ("Người nhận", "consignee", facts.consignee),
    ):
        if party.strip().casefold() in watched:
            red.append(f"{role_vi} trong danh sách theo dõi: {party} / watched {role_en}: {party}")
    for index, line in enumerate(facts.cargo, start=1):
        if line.chapter in rules.risky_chapters:
            yellow.append(
                f"Dòng {index}: chương HS {line.chapter:02d} có rủi ro cao / "
                f"line {index}: HS chapter {line.chapter:02d} is high-risk"
            )
        norm = rules.norm_usd_per_kg.get(line.hs_code[:4])
        rate = rules.usd_per_unit.get(line.currency)
        if norm and rate:
            per_kg = line.value * rate / line.gross_weight_kg
            ratio = per_kg / norm
            words = (
                f"Dòng {index}: trị giá {per_kg:.2f} USD/kg so với mức thường {norm:.2f} USD/kg / "
                f"line {index}: declared {per_kg:.2f} USD/kg against a norm of {norm:.2f} USD/kg"
            )
            if ratio > rules.value_extreme_factor or ratio < 1 / rules.value_extreme_factor:
                red.append(words)
            elif ratio > rules.value_deviation_factor or ratio < 1 / rules.value_deviation_factor:
                yellow.append(words)
    if prior_declarations < rules.first_declarations:
        yellow.append(
            f"Doanh nghiệp mới: tờ khai thứ {prior_declarations + 1} / "
            f"new firm: declaration number {prior_declarations + 1}"
        )
    if not red and sample_fraction(seed, declaration_id, round_) < rules.random_red_rate:
        red.append(
            f"Chọn ngẫu nhiên kiểm tra thực tế ({rules.random_red_rate:.0%}) / "
            f"random sample for physical inspection ({rules.random_red_rate:.0%})"
        )
    if red or len(yellow) >= rules.red_if_yellow_triggers:
        channel = Channel.RED
    elif yellow:
        channel = Channel.YELLOW
    else:
        channel = Channel.GREEN
    vi, en = CHANNEL_LABELS[channel]
    reasons: tuple[str, ...]
    if channel is Channel.GREEN:
        reasons = (
            f"{vi}: không có dấu hiệu rủi ro, thông quan tự động / {en}: no risk indicators, released automatically",
        )
    else:
        reasons = (f"{vi} / {en}", *red, *yellow)
    return CustomsAssessment(channel=channel, reasons=reasons)


def screening(assessment: CustomsAssessment, round_: int) -> Screen:
    """The workflow command that records the assessment: green releases at gate-in."""
    return Screen(
        agency=AGENCY,
        round=round_,
        channel=assessment.channel,
        stages={
            Stage.CUSTOMS: ScreenedStage(
                required=True,
                auto_approve=assessment.channel is Channel.GREEN,
                findings=assessment.reasons,
            )
        },
    )
