"""SVG charts drawn here, with axes, ticks, units and a legend: the Lambda page and report
work offline (no CDN, no JavaScript library). Pure: strings in, an `<svg>` string out.

    xy_chart(title, x_label, y_label, [Series("cold starts", [(t, n), ...])], bars=True)
    category_chart(title, y_label, ["p50", "p95", "p99"], [Series("cold", [(0, 812), ...])])
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 48, 46  # room for the y label and ticks, title, x label
COLORS = ("#2b6cb0", "#dd6b20", "#2f855a", "#c53030", "#6b46c1")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """0 … at least `high` in steps of 1, 2 or 5 × 10^k."""
    if not math.isfinite(high) or high <= 0:
        high = 1.0
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    n = math.ceil(high / step - 1e-9)
    return [round(i * step, 10) for i in range(n + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:g}"


def _frame(title: str, x_label: str, y_label: str, y_ticks: list[float]) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    y_max = y_ticks[-1]
    parts = [
        f'<text class="title" x="{WIDTH / 2}" y="18" text-anchor="middle" '
        f'font-weight="bold">{html.escape(title)}</text>',
        f'<text class="axis-label x-label" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" '
        f'y="{HEIGHT - 8}" text-anchor="middle">{html.escape(x_label)}</text>',
        f'<text class="axis-label y-label" transform="translate(14,{TOP + plot_h / 2}) '
        f'rotate(-90)" text-anchor="middle">{html.escape(y_label)}</text>',
        f'<line class="axis y-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" '
        'stroke="#333"/>',
        f'<line class="axis x-axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}" stroke="#333"/>',
    ]
    for tick in y_ticks:
        y = TOP + plot_h - tick / y_max * plot_h
        parts.append(
            f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
            'stroke="#e2e8f0"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_fmt(tick)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    x = LEFT + 8
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        parts.append(
            f'<rect x="{x}" y="{TOP - 20}" width="10" height="10" fill="{color}"/>'
            f'<text class="legend" x="{x + 14}" y="{TOP - 11}" font-size="11">'
            f"{html.escape(s.name)}</text>"
        )
        x += 24 + 7 * len(s.name)
    return parts


def _svg(parts: list[str], title: str) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{html.escape(title)}" font-family="sans-serif" font-size="12">'
        + "".join(parts)
        + "</svg>"
    )


def empty_chart(title: str, x_label: str, y_label: str, note: str) -> str:
    parts = _frame(title, x_label, y_label, nice_ticks(1.0))
    parts.append(
        f'<text class="note" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" '
        f'fill="#718096">{html.escape(note)}</text>'
    )
    return _svg(parts, title)


def xy_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    bars: bool = False,
    x_max: float | None = None,
    marker: tuple[float, str] | None = None,
) -> str:
    """Lines (or bars) of y against a numeric x, both axes from 0; `marker` draws a labelled
    vertical line (the memory size, say)."""
    points = [p for s in series for p in s.points]
    if not points:
        return empty_chart(title, x_label, y_label, "no data yet")
    high_x = max([x_max or 0.0, *(x for x, _ in points), marker[0] if marker else 0.0])
    x_ticks = nice_ticks(high_x)
    y_ticks = nice_ticks(max(y for _, y in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_top, y_top = x_ticks[-1], y_ticks[-1]

    def px(x: float) -> float:
        return LEFT + x / x_top * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - y / y_top * plot_h

    parts = _frame(title, x_label, y_label, y_ticks)
    for tick in x_ticks:
        parts.append(
            f'<text class="tick" x="{px(tick):.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle" font-size="11">{_fmt(tick)}</text>'
        )
    xs = sorted({x for x, _ in points})
    gap = min((b - a for a, b in pairwise(xs)), default=x_top / 20)
    bar_w = max(1.5, gap / x_top * plot_w * 0.8 / max(1, len(series)))
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        cls = html.escape(s.name.replace(" ", "-"))
        if bars:
            for x, y in s.points:
                left = px(x) - bar_w * len(series) / 2 + i * bar_w
                parts.append(
                    f'<rect class="bar {cls}" x="{left:.1f}" y="{py(y):.1f}" '
                    f'width="{bar_w:.1f}" height="{py(0) - py(y):.1f}" fill="{color}">'
                    f"<title>{_fmt(x)}: {_fmt(y)}</title></rect>"
                )
        else:
            line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s.points)
            parts.append(
                f'<polyline class="line {cls}" fill="none" stroke="{color}" stroke-width="2" '
                f'points="{line}"/>'
            )
    if marker is not None:
        x, label = marker
        parts.append(
            f'<line class="marker" x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" '
            f'y2="{TOP + plot_h}" stroke="#c53030" stroke-dasharray="4 3"/>'
            f'<text x="{px(x) - 4:.1f}" y="{TOP + 14}" text-anchor="end" fill="#c53030" '
            f'font-size="11">{html.escape(label)}</text>'
        )
    return _svg(parts + _legend(series), title)


def category_chart(
    title: str, y_label: str, x_label: str, categories: Sequence[str], series: Sequence[Series]
) -> str:
    """Grouped bars: for each category (x = its index), one bar per series."""
    values = [y for s in series for _, y in s.points]
    if not values:
        return empty_chart(title, x_label, y_label, "no data yet")
    y_ticks = nice_ticks(max(values))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar_w = slot * 0.7 / max(1, len(series))
    parts = _frame(title, x_label, y_label, y_ticks)
    for k, name in enumerate(categories):
        parts.append(
            f'<text class="tick" x="{LEFT + slot * (k + 0.5):.1f}" y="{TOP + plot_h + 16}" '
            f'text-anchor="middle" font-size="11">{html.escape(name)}</text>'
        )
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        for index, y in s.points:
            k = int(index)
            left = LEFT + slot * (k + 0.15) + i * bar_w
            height = y / y_ticks[-1] * plot_h
            parts.append(
                f'<rect class="bar" x="{left:.1f}" y="{TOP + plot_h - height:.1f}" '
                f'width="{bar_w:.1f}" height="{height:.1f}" fill="{color}">'
                f"<title>{html.escape(s.name)} {html.escape(categories[k])}: "
                f"{_fmt(y)}</title></rect>"
            )
    return _svg(parts + _legend(series), title)
