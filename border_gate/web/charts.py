"""Charts drawn on the server as inline SVG: no chart library, no script, readable offline.

Colours come from CSS classes (static/app.css), so the charts follow the page's palette;
each chart has a <title> and <desc> for screen readers, and the page offers the same
figures as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 44


@dataclass(frozen=True)
class Series:
    name: str
    css: str  # s1 … s4 in app.css
    values: Sequence[float]


def _nice_max(value: float) -> float:
    """A round top for the axis, so ticks read 0, 5, 10 … rather than 0, 3.7, 7.4 …"""
    if value <= 0:
        return 4.0  # an empty chart still gets whole-number ticks
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return float(step * 4)
    return float(value)


def _label_every(count: int) -> int:
    return 1 if count <= 12 else (3 if count <= 24 else 5)


def _frame(title: str, desc: str, body: list[str], chart_id: str, height: int = HEIGHT) -> Markup:
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>"
    )
    return Markup(svg)


def _axis(top: float, plot_h: float, plot_w: float) -> list[str]:
    parts = []
    for i in range(5):
        value = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:g}</text>'
        )
    return parts


def grouped_bars(
    labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, chart_id: str
) -> Markup:
    """Bars side by side per period (e.g. declared / arrived / cleared / departed per hour)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((v for s in series for v in s.values), default=0))
    body = _axis(top, plot_h, plot_w)
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = max(1.0, group_w * 0.8 / max(len(series), 1))
    every = _label_every(len(labels))
    for g, label in enumerate(labels):
        x0 = LEFT + g * group_w + group_w * 0.1
        for k, s in enumerate(series):
            value = s.values[g]
            h = plot_h * value / top
            body.append(
                f'<rect class="{s.css}" x="{x0 + k * bar_w:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(label)} · '
                f"{escape(s.name)}: {value:g}</title></rect>"
            )
        if g % every == 0:
            body.append(
                f'<text class="tick" x="{LEFT + g * group_w + group_w / 2:.1f}" '
                f'y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    body.extend(_legend(series, TOP + plot_h + 34))
    return _frame(title, desc, body, chart_id)


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts = []
    x = LEFT
    for s in series:
        parts.append(
            f'<rect class="{s.css}" x="{x}" y="{y - 9}" width="12" height="12"/>'
            f'<text class="legend" x="{x + 16}" y="{y + 1}">{escape(s.name)}</text>'
        )
        x += 24 + 8 * len(s.name)
    return parts


def horizontal_bars(
    rows: Sequence[tuple[str, float | None, str, bool]],
    *,
    title: str,
    desc: str,
    chart_id: str,
) -> Markup:
    """One bar per row: (label, value or None, text beside the bar, highlighted)."""
    row_h = 30
    label_w = 190
    height = TOP + row_h * max(len(rows), 1) + 8
    plot_w = WIDTH - label_w - RIGHT - 150
    top = _nice_max(max((v or 0 for _, v, _, _ in rows), default=0))
    body = []
    for i, (label, value, note, highlight) in enumerate(rows):
        y = TOP + i * row_h
        w = plot_w * (value or 0) / top
        css = "s4" if highlight else "s1"
        body.append(
            f'<text class="legend" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="{css}" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="18"/>'
            f'<text class="tick" x="{label_w + w + 6:.1f}" y="{y + 17}">{escape(note)}</text>'
        )
    return _frame(title, desc, body, chart_id, height=height)


def area_line(
    labels: Sequence[str], values: Sequence[float], *, title: str, desc: str, chart_id: str
) -> Markup:
    """A filled line (e.g. trucks in the yard at the end of each period)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max(values, default=0))
    body = _axis(top, plot_h, plot_w)
    count = max(len(values), 1)
    step = plot_w / max(count - 1, 1)
    points = [(LEFT + i * step, TOP + plot_h - plot_h * v / top) for i, v in enumerate(values)] or [
        (LEFT, TOP + plot_h)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    area = f"{LEFT},{TOP + plot_h} {line} {points[-1][0]:.1f},{TOP + plot_h}"
    body.append(f'<polygon class="area" points="{area}"/>')
    body.append(f'<polyline class="line" points="{line}"/>')
    every = _label_every(len(labels))
    for i, (label, value) in enumerate(zip(labels, values, strict=False)):
        x, y = points[i]
        body.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(label)}: {value:g}</title></circle>"
        )
        if i % every == 0:
            body.append(
                f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _frame(title, desc, body, chart_id)
