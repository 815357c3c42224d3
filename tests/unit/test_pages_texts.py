"""Every word on the pages exists in both languages; charts draw without data; errors map."""

from __future__ import annotations

import re
from pathlib import Path

from border_gate.web import i18n
from border_gate.web.charts import Series, area_line, grouped_bars, horizontal_bars
from border_gate.web.dashboard_data import PERIODS
from workflows.machine import Decision
from workflows.roles import Role

WEB = Path(__file__).resolve().parents[2] / "border_gate" / "web"
_KEY = re.compile(r"""(?:\bt\(|TEXTS\[|text\()\s*['"]([a-z_]+\.[a-z0-9_]+)['"]\s*[)\],]""")


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*WEB.rglob("*.html"), *WEB.glob("*.py")]:
        keys.update(_KEY.findall(path.read_text(encoding="utf-8")))
    return keys


def test_every_text_used_on_a_page_exists_in_both_languages() -> None:
    used = _used_keys()
    assert len(used) > 100  # the scan found the pages' texts
    missing = sorted(key for key in used if key not in i18n.TEXTS)
    assert missing == []
    built = {f"dash.period_{p}" for p in PERIODS} | {
        "decide.not_open",
        "decide.done",
        "decide.not_in_workflow",
        "decide.with_firm",
    }  # keys the pages build or pick at run time
    assert built <= set(i18n.TEXTS)
    for key, (vi, en) in i18n.TEXTS.items():
        assert vi.strip() and en.strip(), key


def test_roles_actions_and_decisions_have_labels() -> None:
    assert set(i18n.ROLE_LABELS) == set(Role)
    assert {d.value for d in Decision} <= set(i18n.DECISION_LABELS)
    assert {d.value for d in Decision} <= set(i18n.ACTION_LABELS)
    assert i18n.actor_label("system:customs-screening", "en") == "System (customs screening)"
    assert i18n.actor_label("user:firm_a", "vi") == "firm_a"


def test_charts_are_inline_svg_even_when_empty() -> None:
    empty = grouped_bars([], [Series("x", "s1", [])], title="T", desc="D", chart_id="c")
    assert str(empty).startswith('<svg class="chart"') and "<title" in str(empty)
    bars = grouped_bars(
        ["08:00", "09:00"], [Series("Đã khai <b>", "s1", [3, 5])], title="T", desc="D", chart_id="c"
    )
    assert "&lt;b&gt;" in str(bars) and 'height="0.0"' not in str(bars)
    assert "<polyline" in str(area_line(["a", "b"], [0, 2], title="T", desc="D", chart_id="q"))
    rows = [("Hải quan", 12.0, "12 phút", True), ("Biên phòng", None, "—", False)]
    assert 'class="s4"' in str(horizontal_bars(rows, title="T", desc="D", chart_id="s"))


def test_pages_map_every_error_the_api_maps() -> None:
    """Otherwise the API's handler (more specific) would answer a page with JSON."""
    from border_gate.api.problems import EXCEPTION_HANDLERS
    from border_gate.web.errors import PAGE_EXCEPTION_HANDLERS

    assert set(EXCEPTION_HANDLERS) <= set(PAGE_EXCEPTION_HANDLERS)
