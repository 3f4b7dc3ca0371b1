"""The Lambda page (`GET /lambda`) and the run's report (`lambda-report.html` in `--out`): one
section per function and, in an HTTP run, one per route (its integration's invocations and its
throttles), each with its table and seven charts with axes and units —
cold starts over time, concurrent environments (busy and idle) over time, latency
percentiles cold vs warm, the Init Duration distribution, Max Memory Used against the memory
size, throttles over time, and the cost per million invocations by line of the bill.

Self-contained HTML with inline SVG (loadtests/charts.py): no script, no CDN, so it works
offline and as a file. Each section has the id `fn-FUNCTION` or `route-METHOD-path` (the route
key's words joined by dashes); `GET /lambda?function=NAME` shows one function's sections.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

from loadtests.charts import Series, category_chart, empty_chart, nice_ticks, xy_chart
from loadtests.summary import route_rows, rows

CHART_TITLES = (
    "Cold starts over time",
    "Concurrent environments over time",
    "Latency percentiles, cold vs warm",
    "Init Duration distribution",
    "Max Memory Used vs memory size",
    "Throttles over time",
    "Cost per million invocations",
)


def _column(summary: dict[str, Any], name: str) -> list[tuple[float, float]]:
    series = summary.get("series") or {}
    columns = series.get("per_second_columns", [])
    if name not in columns:
        return []
    i = columns.index(name)
    # a second's bar is drawn over that second: centred half a second after its start
    return [(float(r[0]) + 0.5, float(r[i])) for r in series.get("per_second", [])]


def _binned(counts: Sequence[Sequence[float]], bins: int = 20) -> list[tuple[float, float]]:
    """A histogram's (value, count) pairs regrouped into about `bins` bins of a round width;
    each bin is drawn at its centre."""
    if not counts:
        return []
    high = max(float(v) for v, _ in counts)
    width = nice_ticks(high / bins if high > 0 else 1.0, 1)[-1]
    out: dict[int, float] = {}
    for value, count in counts:
        k = math.floor(float(value) / width)
        out[k] = out.get(k, 0.0) + float(count)
    return [((k + 0.5) * width, c) for k, c in sorted(out.items())]


def charts(
    summary: dict[str, Any], *, environments_note: str = "only when the target is lambda-emu"
) -> list[str]:
    """The seven charts of one function (or route), in CHART_TITLES' order."""
    time_label = "time since the start (s)"
    colds = _column(summary, "cold")
    out = [
        xy_chart(
            CHART_TITLES[0],
            time_label,
            "cold starts per second",
            [Series("cold starts", colds)],
            bars=True,
        )
    ]
    emulator = summary.get("emulator")
    if emulator and emulator.get("timeline"):
        timeline = emulator["timeline"]
        out.append(
            xy_chart(
                CHART_TITLES[1],
                time_label,
                "environments",
                [
                    Series("all", [(t, n) for t, n, _ in timeline]),
                    Series("busy", [(t, b) for t, _, b in timeline]),
                    Series("idle", [(t, n - b) for t, n, b in timeline]),
                ],
            )
        )
    else:
        out.append(empty_chart(CHART_TITLES[1], time_label, "environments", environments_note))
    latency = summary["latency_ms"]
    percentiles = ("p50", "p95", "p99")
    out.append(
        category_chart(
            CHART_TITLES[2],
            "latency seen by the caller (ms)",
            "percentile",
            percentiles,
            [
                Series(
                    kind,
                    [
                        (k, float(latency[kind][p]))
                        for k, p in enumerate(percentiles)
                        if latency[kind][p] is not None
                    ],
                )
                for kind in ("cold", "warm")
            ],
        )
    )
    series = summary.get("series") or {}
    out.append(
        xy_chart(
            CHART_TITLES[3],
            "Init Duration (ms)",
            "cold starts",
            [Series("cold starts", _binned(series.get("init_ms", [])))],
            bars=True,
        )
    )
    memory = summary.get("memory_mb")
    out.append(
        xy_chart(
            CHART_TITLES[4],
            "Max Memory Used (MB)",
            "invocations",
            [Series("invocations", _binned(series.get("max_memory_mb", [])))],
            bars=True,
            marker=(float(memory), f"Memory Size {memory} MB") if memory else None,
        )
    )
    out.append(
        xy_chart(
            CHART_TITLES[5],
            time_label,
            "throttles (429) per second",
            [Series("throttles", _column(summary, "throttle"))],
            bars=True,
            x_max=max((t for t, _ in colds), default=None),
        )
    )
    out.append(_cost_chart(summary))
    return out


def _cost_chart(summary: dict[str, Any]) -> str:
    from emulator.cost import cost_per_million

    cost = summary.get("cost")
    y_label, x_label = "USD per 1M invocations", "line of the bill"
    if not cost:
        return empty_chart(CHART_TITLES[6], x_label, y_label, "no REPORT line yet")
    bill = cost_per_million(
        int(cost["memory_mb"]), float(cost["mean_billed_ms"]), architecture=cost["architecture"]
    )
    lines = ("requests", "duration", "total")
    values = (bill.request_usd, bill.duration_usd + bill.ephemeral_usd, bill.total_usd)
    title = (
        f"{CHART_TITLES[6]} ({cost['memory_mb']} MB, {cost['architecture']}, "
        f"mean Billed Duration {cost['mean_billed_ms']:g} ms)"
    )
    return category_chart(title, y_label, x_label, lines, [Series("USD", list(enumerate(values)))])


def _section(summary: dict[str, Any]) -> str:
    function = str(summary["function"])
    table = "".join(
        f"<tr><th>{html.escape(r['metric'])}</th><td>{html.escape(r['value'])}</td></tr>"
        for r in rows(summary)
    )
    figures = "".join(f'<figure class="lambda-chart">{svg}</figure>' for svg in charts(summary))
    return (
        f'<section class="function" id="fn-{html.escape(function)}">'
        f"<h2>{html.escape(function)}</h2>"
        f'<div class="charts">{figures}</div>'
        f'<table class="summary">{table}</table></section>'
        + "".join(_route_section(k, r) for k, r in (summary.get("routes") or {}).items())
    )


def route_anchor(route_key: str) -> str:
    """`route-GET-items-id` for "GET /items/{id}"."""
    return "route-" + "-".join(re.findall(r"[A-Za-z0-9_$]+", route_key))


def _route_section(key: str, route: dict[str, Any]) -> str:
    """A route of an HTTP run: its integration's charts, its own rows."""
    lam = route.get("lambda")
    if not lam:
        return ""
    table = "".join(
        f"<tr><th>{html.escape(metric)}</th><td>{html.escape(value)}</td></tr>"
        for metric, value in route_rows({key: route})
    )
    function = route.get("function") or "no function yet"
    note = f"only for the run's watched function ({function} is not it)"
    figures = "".join(
        f'<figure class="lambda-chart">{svg}</figure>'
        for svg in charts(lam, environments_note=note)
    )
    return (
        f'<section class="route" id="{html.escape(route_anchor(key))}">'
        f"<h2>Route {html.escape(key)} → {html.escape(function)}</h2>"
        f'<div class="charts">{figures}</div>'
        f'<table class="summary">{table}</table></section>'
    )


def render_report(summaries: Sequence[dict[str, Any]], *, refresh_s: int | None = None) -> str:
    """The page: a section per function's summary; `refresh_s` reloads it (the live page)."""
    refresh = f"<meta http-equiv='refresh' content='{refresh_s}'>" if refresh_s else ""
    names = ", ".join(str(s["function"]) for s in summaries) or "no function"
    targets = ", ".join(sorted({str(s.get("target", "")) for s in summaries}))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"{refresh}<title>Lambda: {html.escape(names)}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em;color:#1a202c}"
        ".charts{display:flex;flex-wrap:wrap;gap:12px}"
        "figure{margin:0;border:1px solid #e2e8f0;border-radius:4px;padding:4px}"
        "table{border-collapse:collapse;margin-top:1em}th{text-align:left;padding-right:2em}"
        "td,th{border-bottom:1px solid #e2e8f0;padding:.25em .5em;font-size:14px}</style>"
        f"</head><body><h1>Lambda: {html.escape(names)}</h1>"
        f"<p>target {html.escape(targets)}</p>"
        + "".join(_section(s) for s in summaries)
        + "</body></html>"
    )
