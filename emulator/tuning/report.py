"""Power tuning's output: the table, the recommendation's words, JSON, and the chart (PNG and
a self-contained HTML page with the chart inlined as SVG). The sweep itself is
emulator/tuning/driver.py; this module only formats a `TuningResult`.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from emulator import cost
from emulator.tuning.stats import (
    STRATEGIES,
    Measurement,
    TuningResult,
    Workload,
    recommend,
)


def _describe(workload: Workload, architecture: str, per: str = "size") -> str:
    mode = "parallel" if workload.parallel else "serial"
    cold = ", every invocation cold" if workload.only_cold_starts else ""
    init = "INIT billed" if workload.bill_init else "INIT billed as before 2025-08-01"
    return (
        f"{workload.invocations} invocations per {per} ({mode}{cold}), trimmed mean drops "
        f"{workload.trim:.0%} at each end; {architecture} prices, {workload.prices.region}, "
        f"as of {workload.prices.as_of}, {init}"
    )


_COLUMNS = (
    ("memory MB", 9),
    ("avg ms", 9),
    ("p50 ms", 9),
    ("p95 ms", 9),
    ("billed ms", 9),
    ("init ms", 8),
    ("max MB", 6),
    ("$/invocation", 14),
    ("$/1M", 9),
    ("errors", 6),
)


def _row(m: Measurement) -> list[str]:
    init = "-" if m.avg_init_ms is None else f"{m.avg_init_ms:.1f}"
    return [
        str(m.memory_mb),
        f"{m.avg_ms:.1f}",
        f"{m.p50_ms:.1f}",
        f"{m.p95_ms:.1f}",
        f"{m.avg_billed_ms:.1f}",
        init,
        str(m.max_memory_used_mb),
        f"{m.cost_per_invocation_usd:.10f}",
        f"{m.cost_per_million_usd:.2f}",
        str(m.errors),
    ]


def format_table(result: TuningResult) -> str:
    """The sweep as a text table, then the recommendation and its reason."""
    architecture = result.workload.architecture or result.measurements[0].architecture
    lines = [f"{result.function}: {_describe(result.workload, architecture)}", ""]
    lines.append("  ".join(f"{name:>{width}}" for name, width in _COLUMNS))
    for m in result.measurements:
        mark = " ←" if m.memory_mb == result.recommendation.memory_mb else ""
        cells = _row(m)
        lines.append("  ".join(f"{c:>{w}}" for c, (_, w) in zip(cells, _COLUMNS, strict=True)))
        lines[-1] += mark
    lines.append("")
    lines.append(
        f"recommended ({result.strategy}): {result.recommendation.memory_mb} MB - "
        f"{result.recommendation.reason}"
    )
    others = [
        f"{name}{f' ({result.balanced_weight:g})' if name == 'balanced' else ''} → "
        f"{recommend(result.measurements, name, result.balanced_weight).memory_mb} MB"
        for name in STRATEGIES
        if name != result.strategy
    ]
    lines.append(f"other strategies: {', '.join(others)}")
    return "\n".join(lines)


def format_monthly(result: TuningResult, requests_per_s: float) -> str:
    """A month (730 h) of `requests_per_s` at each size: the measured billed duration, the
    duration tiers and the request fee, no free tier."""
    invocations = requests_per_s * cost.SECONDS_PER_MONTH
    parts = []
    for m in result.measurements:
        bill = cost.cost(
            invocations,
            m.avg_billed_ms,
            m.memory_mb,
            architecture=m.architecture,
            ephemeral_mb=m.ephemeral_mb,
            prices=result.workload.prices,
        )
        parts.append(f"{m.memory_mb} MB ${bill.total_usd:,.2f}")
    return f"a month at {requests_per_s:g} req/s: " + ", ".join(parts)


def format_comparison(measurements: Sequence[Measurement], workload: Workload) -> str:
    """Two or more functions side by side, each with its ratio to the first (B/A, C/A, ...)."""

    def ratio(x: float | None, y: float | None) -> str:
        if x is None or y is None or x == 0:
            return "-"
        return f"{y / x:.2f}×"

    def num(value: float | None, digits: int = 1) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    first, rest = measurements[0], measurements[1:]
    figures: list[tuple[str, Callable[[Measurement], float | None], Callable[[Measurement], str]]]
    figures = [
        ("memory (MB)", lambda m: m.memory_mb, lambda m: str(m.memory_mb)),
        ("architecture", lambda m: None, lambda m: m.architecture),
        ("avg duration (ms)", lambda m: m.avg_ms, lambda m: num(m.avg_ms)),
        ("p50 duration (ms)", lambda m: m.p50_ms, lambda m: num(m.p50_ms)),
        ("p95 duration (ms)", lambda m: m.p95_ms, lambda m: num(m.p95_ms)),
        ("avg billed (ms)", lambda m: m.avg_billed_ms, lambda m: num(m.avg_billed_ms)),
        ("init (ms, cold)", lambda m: m.avg_init_ms, lambda m: num(m.avg_init_ms)),
        (
            "max memory used (MB)",
            lambda m: m.max_memory_used_mb,
            lambda m: str(m.max_memory_used_mb),
        ),
        (
            "$ per invocation",
            lambda m: m.cost_per_invocation_usd,
            lambda m: f"{m.cost_per_invocation_usd:.10f}",
        ),
        (
            "$ per 1M invocations",
            lambda m: m.cost_per_million_usd,
            lambda m: f"{m.cost_per_million_usd:.2f}",
        ),
        ("errors", lambda m: None, lambda m: str(m.errors)),
    ]
    letters = "BCDEFGHIJKLMNOPQRSTUVWXYZ"
    header = ("", *(m.function for m in measurements), *(f"{x}/A" for x in letters[: len(rest)]))
    rows: list[tuple[str, ...]] = []
    for label, value, shown in figures:
        ratios = (
            [ratio(value(first), value(m)) for m in rest]
            if label not in ("architecture", "errors")
            else ["" for _ in rest]
        )
        rows.append((label, *(shown(m) for m in measurements), *ratios))
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        label, *others = cells
        return "  ".join(
            [
                f"{label:<{widths[0]}}",
                *(f"{c:>{w}}" for c, w in zip(others, widths[1:], strict=True)),
            ]
        )

    lines = [_describe(workload, workload.architecture or "each function's own", "function"), ""]
    lines += [line(header), *(line(row) for row in rows)]
    return "\n".join(lines)


def to_json(result: TuningResult) -> dict[str, Any]:
    w = result.workload
    return {
        "function": result.function,
        "strategy": result.strategy,
        "balanced_weight": result.balanced_weight,
        "recommendation": asdict(result.recommendation),
        "picks": {
            name: recommend(result.measurements, name, result.balanced_weight).memory_mb
            for name in STRATEGIES
        },
        "workload": {
            "invocations": w.invocations,
            "payloads": [
                {"weight": p.weight, "payload": p.payload.decode("utf-8", "replace")}
                for p in w.payloads
            ],
            "parallel": w.parallel,
            "only_cold_starts": w.only_cold_starts,
            "trim": w.trim,
            "architecture": w.architecture,
            "bill_init": w.bill_init,
        },
        "prices": {"as_of": w.prices.as_of, "source": w.prices.source, "region": w.prices.region},
        "results": [
            {**asdict(m), "durations_ms": list(m.durations_ms)} for m in result.measurements
        ],
    }


def write_json(result: TuningResult, path: Path) -> None:
    path.write_text(json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n")


def _figure(result: TuningResult) -> Any:
    """Duration and cost against memory on two y axes, like power tuning's visualisation."""
    from matplotlib.figure import Figure

    ms = result.measurements
    x = list(range(len(ms)))
    fig = Figure(figsize=(8.0, 4.5), dpi=100, layout="constrained")
    left = fig.add_subplot()
    right = left.twinx()
    left.plot(x, [m.avg_ms for m in ms], marker="o", color="#1f77b4", label="avg duration")
    right.plot(
        x,
        [m.cost_per_million_usd for m in ms],
        marker="s",
        color="#d62728",
        label="cost per 1M invocations",
    )
    best = next(i for i, m in enumerate(ms) if m.memory_mb == result.recommendation.memory_mb)
    left.axvline(best, color="#2ca02c", linestyle="--", linewidth=1, label="recommended")
    for i, m in enumerate(ms):
        if m.errors:
            left.annotate(
                f"{m.errors} failed",
                (i, m.avg_ms),
                textcoords="offset points",
                xytext=(0, 8),
                ha="center",
                fontsize=8,
                color="#d62728",
            )
    left.set_xticks(x, [f"{m.memory_mb}" for m in ms])
    left.set_xlabel("memory (MB)")
    left.set_ylabel("avg duration (ms)", color="#1f77b4")
    right.set_ylabel("USD per 1M invocations (incl. requests)", color="#d62728")
    left.set_ylim(bottom=0)
    right.set_ylim(bottom=0)
    left.grid(True, axis="y", alpha=0.3)
    handles = left.get_lines() + right.get_lines()
    fig.legend(
        handles,
        [str(h.get_label()) for h in handles],
        loc="outside lower center",
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    left.set_title(
        f"{result.function}: {result.strategy} → {result.recommendation.memory_mb} MB", fontsize=11
    )
    return fig


def write_chart(result: TuningResult, png_path: Path) -> Path:
    """The chart as PNG at `png_path`, and an HTML page beside it (same name, `.html`) with the
    chart as inline SVG and the table: no scripts, nothing fetched. Returns the HTML path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(result)
    FigureCanvasAgg(fig)
    fig.savefig(png_path, format="png", metadata={"Software": None})
    svg = io.StringIO()
    fig.savefig(svg, format="svg", metadata={"Date": None})
    html_path = png_path.with_suffix(".html")
    html_path.write_text(_html(result, svg.getvalue()), encoding="utf-8")
    return html_path


def _html(result: TuningResult, svg: str) -> str:
    start = svg.find("<svg")
    inline = svg[start:] if start >= 0 else svg
    architecture = result.workload.architecture or result.measurements[0].architecture
    header = "".join(f"<th>{html.escape(name)}</th>" for name, _ in _COLUMNS)
    rows = []
    for m in result.measurements:
        cls = ' class="pick"' if m.memory_mb == result.recommendation.memory_mb else ""
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in _row(m))
        rows.append(f"<tr{cls}>{cells}</tr>")
    prices = result.workload.prices
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>lambda-emu tune: {html.escape(result.function)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 0.25em 0.7em; text-align: right; border-bottom: 1px solid #ddd; }}
tr.pick {{ background: #e8f5e9; font-weight: 600; }}
.chart svg {{ max-width: 100%; height: auto; }}
small {{ color: #666; }}
</style>
</head>
<body>
<h1>{html.escape(result.function)}: {result.recommendation.memory_mb} MB</h1>
<p><strong>{html.escape(result.strategy)}</strong>: {html.escape(result.recommendation.reason)}</p>
<p>{html.escape(_describe(result.workload, architecture))}</p>
<div class="chart">{inline}</div>
<table><tr>{header}</tr>
{chr(10).join(rows)}
</table>
<p><small>Prices: {html.escape(prices.source)}</small></p>
</body>
</html>
"""
