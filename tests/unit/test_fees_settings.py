"""Settings of fees and webhooks are checked at start, and a bad tariff stops start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from border_gate.fees.tariff import TariffError
from border_gate.platform import build_platform
from border_gate.settings import SettingsError, load_settings


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 40, **extra}


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert settings.payment_callback_secret is None
    assert settings.webhook_allow_private_targets is False
    assert settings.webhook_max_attempts == 8
    assert settings.webhook_expected_time_threshold_minutes == 15


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"PAYMENT_CALLBACK_SECRET": "short"}, "PAYMENT_CALLBACK_SECRET"),
        ({"FEE_TARIFF_FILE": "/nowhere/tariff.toml"}, "FEE_TARIFF_FILE"),
        (
            {"WEBHOOK_MIN_BACKOFF_MS": "5000", "WEBHOOK_MAX_BACKOFF_MS": "100"},
            "WEBHOOK_MAX_BACKOFF_MS",
        ),
        ({"WEBHOOK_MAX_ATTEMPTS": "0"}, "WEBHOOK_MAX_ATTEMPTS"),
        ({"WEBHOOK_ALLOW_PRIVATE_TARGETS": "perhaps"}, "WEBHOOK_ALLOW_PRIVATE_TARGETS"),
        ({"PAYMENT_CALLBACK_TOLERANCE_SECONDS": "-1"}, "PAYMENT_CALLBACK_TOLERANCE_SECONDS"),
    ],
)
def test_wrong_values_are_named(tmp_path: Path, extra: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as failed:
        load_settings(env(tmp_path, **extra))
    assert any(named in problem for problem in failed.value.problems)


def test_a_tariff_with_a_hole_stops_the_platform_at_start(tmp_path: Path) -> None:
    tariff = tmp_path / "tariff.toml"
    tariff.write_text(
        'currency = "VND"\n[[rule]]\nname_vi = "a"\nname_en = "a"\namount = 1\n'
        'direction = "export"\n'
    )
    settings = load_settings(env(tmp_path, FEE_TARIFF_FILE=str(tariff)))
    with pytest.raises(TariffError, match="import"):
        build_platform(settings)


@pytest.mark.parametrize(
    ("variable", "content", "said"),
    [
        ("FEE_TARIFF_FILE", 'currency = "VND"\n', "invalid fee tariff"),
        ("QUEUE_FILE", "[policy]\nbooked_weight = 0\n", "invalid queue configuration"),
    ],
)
def test_serve_refuses_a_broken_file_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    content: str,
    said: str,
) -> None:
    from border_gate.cli import main

    broken = tmp_path / "broken.toml"
    broken.write_text(content)
    for key, value in env(tmp_path, **{variable: str(broken)}).items():
        monkeypatch.setenv(key, value)
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert said in err and str(broken) in err and "Traceback" not in err
