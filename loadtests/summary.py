"""The Lambda summary of a load run: a JSON-ready dict, its rows for the web UI's Lambda tab,
and the text block printed at the end of a headless run.

Cost comes from `emulator.cost` (LAMBDA_SPEC §6): per million invocations at the run's mean
Billed Duration, and for the invocations of this run (requests included, no free tier).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from emulator.config import Architecture
from loadtests.stats import LambdaStats, Outcome, StreamStats

# The streaming targets' names in the rows (loadtests.streaming's targets).
STREAM_LABELS = {"invoke_stream": "InvokeWithResponseStream", "function_url": "function URL"}

if TYPE_CHECKING:
    from loadtests.routes import RouteStats

SCHEMA = "lambda-emu.load-summary/1"


def _cost(stats: LambdaStats, architecture: Architecture) -> dict[str, Any] | None:
    from emulator.cost import DEFAULT_PRICES, cost, cost_per_million

    billed = stats.billed_ms
    if billed.count == 0 or stats.memory_mb <= 0:
        return None
    mean_billed = billed.total / billed.count
    per_million = cost_per_million(stats.memory_mb, mean_billed, architecture=architecture)
    run = cost(billed.count, mean_billed, stats.memory_mb, architecture=architecture)
    return {
        "architecture": architecture,
        "memory_mb": stats.memory_mb,
        "mean_billed_ms": round(mean_billed, 3),
        "per_million_usd": round(per_million.total_usd, 6),
        "run_usd": run.total_usd,
        "prices_as_of": DEFAULT_PRICES.as_of,
        "region": DEFAULT_PRICES.region,
    }


def build_summary(
    stats: LambdaStats,
    *,
    function: str,
    target: str,
    started_at: float,
    ended_at: float | None = None,
    architecture: Architecture = "x86_64",
    emulator: dict[str, Any] | None = None,
    routes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ended = time.time() if ended_at is None else ended_at
    outcomes = stats.outcomes
    cold = stats.cold_starts
    classified = cold + stats.latency_warm_ms.count
    return {
        "schema": SCHEMA,
        "function": function,
        "target": target,
        "started_at": started_at,
        "ended_at": ended,
        "duration_s": round(ended - started_at, 3),
        "invocations": stats.invocations,
        "cold_starts": cold,
        "warm": stats.latency_warm_ms.count,
        "cold_start_rate": round(cold / classified, 6) if classified else None,
        "outcomes": {o.value: outcomes.get(o.value, 0) for o in Outcome},
        "throttles": outcomes.get(Outcome.THROTTLE.value, 0),
        "function_errors": outcomes.get(Outcome.FUNCTION_ERROR.value, 0),
        "errors": outcomes.get(Outcome.ERROR.value, 0),
        "error_types": dict(stats.error_types),
        "init_ms": stats.init_ms.summary(),
        "latency_ms": {
            "cold": stats.latency_cold_ms.summary(),
            "warm": stats.latency_warm_ms.summary(),
        },
        "duration_ms": stats.duration_ms.summary(),
        "billed_ms": stats.billed_ms.summary(),
        "max_memory_used_mb": stats.max_memory_mb.summary(),
        "memory_mb": stats.memory_mb or None,
        "executed_versions": _versions(stats),
        "cost": _cost(stats, architecture),
        "emulator": emulator,
        "series": _series(stats, started_at),
        # HTTP runs: per route key (loadtests.routes), cold/warm from the emulator's trace
        "routes": routes,
        # streamed responses (StreamingLambdaUser), per target: time to first / last byte
        "streaming": _streaming(stats) or None,
    }


def _streaming(stats: LambdaStats) -> dict[str, Any]:
    return {target: _stream_summary(target, s) for target, s in sorted(stats.streams.items())}


def _stream_summary(target: str, stream: StreamStats) -> dict[str, Any]:
    sizes = stream.payload_bytes
    ttlb_total_s = stream.ttlb_ms.total / 1000.0
    return {
        "label": STREAM_LABELS.get(target, target),
        "responses": stream.ttlb_ms.count,
        "ttfb_ms": stream.ttfb_ms.summary(),
        # split by the REPORT's cold start where the call returned one (count 0 for a URL)
        "ttfb_cold_ms": stream.ttfb_cold_ms.summary(),
        "ttfb_warm_ms": stream.ttfb_warm_ms.summary(),
        "ttlb_ms": stream.ttlb_ms.summary(),
        "payload_bytes": {
            "total": int(sizes.total),
            "mean": round(sizes.total / sizes.count, 1) if sizes.count else None,
        },
        # bytes over the time spent receiving them, per response (MB = 10^6 bytes)
        "mb_per_s": round(sizes.total / ttlb_total_s / 1e6, 3) if ttlb_total_s > 0 else None,
    }


def route_summaries(
    route_stats: RouteStats,
    *,
    started_at: float,
    ended_at: float | None = None,
    architecture: Architecture = "x86_64",
    watched: tuple[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`routes` of the summary: each route's counts (loadtests.routes) and, under `lambda`, the
    Lambda summary of its own invocations and throttles, drawn as the route's charts. A route
    whose function is the watched one (`watched`: name, its environments) gets its
    environments over time too."""
    out = route_stats.summary()
    for key, agg in route_stats.routes.items():
        function = out[key]["function"] or ""
        out[key]["lambda"] = build_summary(
            agg.lambda_stats,
            function=function,
            target=key,
            started_at=started_at,
            ended_at=ended_at,
            architecture=architecture,
            emulator=watched[1] if watched is not None and watched[0] == function else None,
        )
    return out


def _versions(stats: LambdaStats) -> dict[str, dict[str, Any]]:
    """Invocations per X-Amz-Executed-Version: how an alias's RoutingConfig split the run."""
    total = sum(stats.versions.values())
    return {
        version: {
            "invocations": count,
            "share": round(count / total, 6),
            "cold_starts": stats.versions_cold.get(version, 0),
        }
        for version, count in sorted(stats.versions.items())
    }


def _series(stats: LambdaStats, started_at: float) -> dict[str, Any]:
    """What the charts draw: invocations per second by outcome (seconds since the start), and
    the Init Duration and Max Memory Used histograms (value → count)."""
    seconds = sorted({t for t, _ in stats.per_second})
    per_second = [
        [t - int(started_at)] + [stats.per_second.get((t, o.value), 0) for o in Outcome]
        for t in seconds
    ]
    return {
        "per_second_columns": ["t_s", *(o.value for o in Outcome)],
        "per_second": per_second,
        "init_ms": sorted([v, c] for v, c in stats.init_ms.counts.items()),
        "max_memory_mb": sorted([v, c] for v, c in stats.max_memory_mb.counts.items()),
    }


def _ms(value: object) -> str:
    return "–" if value is None else f"{value:g} ms"


def _usd(value: object) -> str:
    return "–" if not isinstance(value, int | float) else f"${value:.6f}".rstrip("0")


def rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """(metric, value) rows: the Lambda tab's table and the headless block."""
    rate = summary["cold_start_rate"]
    init, cold, warm = (
        summary["init_ms"],
        summary["latency_ms"]["cold"],
        summary["latency_ms"]["warm"],
    )
    memory = summary["max_memory_used_mb"]
    out = [
        ("Function", summary["function"]),
        ("Invocations", str(summary["invocations"])),
        ("Cold starts", str(summary["cold_starts"])),
        ("Warm invocations", str(summary["warm"])),
        ("Cold-start rate", "–" if rate is None else f"{rate:.2%}"),
        ("Throttles (429)", str(summary["throttles"])),
        ("Function errors", str(summary["function_errors"])),
        ("Other errors", str(summary["errors"])),
    ]
    versions = summary.get("executed_versions") or {}
    if set(versions) - {"$LATEST"}:  # a version or an alias was loaded: show what ran
        for version, split in versions.items():
            out.append(
                (
                    f"Executed version {version}",
                    f"{split['invocations']} ({split['share']:.1%}), {split['cold_starts']} cold",
                )
            )
    for p in ("p50", "p95", "p99"):
        out.append((f"Init Duration {p}", _ms(init[p])))
    for p in ("p50", "p95", "p99"):
        out.append((f"Latency warm {p}", _ms(warm[p])))
    for p in ("p50", "p95", "p99"):
        out.append((f"Latency cold {p}", _ms(cold[p])))
    out.append(("Duration p50", _ms(summary["duration_ms"]["p50"])))
    out.append(("Billed Duration mean", _ms(summary["billed_ms"]["mean"])))
    mem = summary["memory_mb"]
    out.append(
        (
            "Max Memory Used (max / p50)",
            "–"
            if memory["max"] is None
            else f"{memory['max']:g} / {memory['p50']:g} MB" + (f" of {mem} MB" if mem else ""),
        )
    )
    emulator = summary.get("emulator")
    if emulator:
        if emulator.get("timeline"):
            _, now, busy = emulator["timeline"][-1]
            out.append(("Environments now (busy)", f"{now:g} ({busy:g})"))
        out.append(("Environments created", str(emulator["environments_created"])))
        out.append(("Environments peak", str(emulator["environments_peak"])))
    cost = summary.get("cost")
    if cost:
        out.append(("Cost per 1M invocations", _usd(cost["per_million_usd"])))
        out.append(("Cost of this run", _usd(cost["run_usd"])))
    out += route_rows(summary.get("routes") or {})
    out += stream_rows(summary.get("streaming") or {})
    return [{"metric": metric, "value": value} for metric, value in out]


def stream_rows(streaming: dict[str, Any]) -> list[tuple[str, str]]:
    """Per streaming target: responses, time to first byte and to last byte, throughput."""
    out: list[tuple[str, str]] = []
    for stream in streaming.values():
        label = stream["label"]
        out.append((f"{label}: streamed responses", str(stream["responses"])))
        for p in ("p50", "p95", "p99"):
            out.append((f"{label}: TTFB {p}", _ms(stream["ttfb_ms"][p])))
        for kind in ("cold", "warm"):
            split = stream.get(f"ttfb_{kind}_ms") or {}
            if split.get("count"):
                out.append((f"{label}: TTFB {kind} p50", _ms(split["p50"])))
        for p in ("p50", "p95", "p99"):
            out.append((f"{label}: TTLB {p}", _ms(stream["ttlb_ms"][p])))
        rate, mean = stream["mb_per_s"], stream["payload_bytes"]["mean"]
        out.append(
            (
                f"{label}: throughput",
                "–" if rate is None else f"{rate:g} MB/s ({mean:,.0f} bytes a response)",
            )
        )
    return out


def route_rows(routes: dict[str, Any]) -> list[tuple[str, str]]:
    """Per route: requests, cold/warm, latency, and the authorizer's share."""
    out: list[tuple[str, str]] = []
    for key, r in routes.items():
        split = (
            f"{r['cold_starts']} cold / {r['warm']} warm"
            if r["correlated"]
            else "cold/warm unknown (no trace)"
        )
        out.append((f"{key}", f"{r['requests']} requests, {split}"))
        out.append(
            (f"{key} latency p50/p90/p99", "/".join(_ms(r[f"p{p}_ms"]) for p in (50, 90, 99)))
        )
        if r["correlated"]:
            cold, warm = r["cold_ms"], r["warm_ms"]
            out.append((f"{key} cold p50 / warm p50", f"{_ms(cold['p50'])} / {_ms(warm['p50'])}"))
        auth = r.get("authorizer")
        if auth:
            share = r.get("authorizer_share")
            out.append(
                (
                    f"{key} authorizer {auth['function']}",
                    f"{auth['invoked']} invoked ({auth['cold_starts']} cold), "
                    f"{auth['cached']} cached; p50 {_ms(r['authorizer_ms_p50'])}"
                    + ("" if share is None else f", {share:.1%} of the latency"),
                )
            )
    return out


def render_text(summary: dict[str, Any]) -> str:
    lines = [f"Lambda summary ({summary['function']} at {summary['target']})"]
    width = max(len(r["metric"]) for r in rows(summary))
    lines += [f"  {r['metric']:<{width}}  {r['value']}" for r in rows(summary)]
    emulator = summary.get("emulator")
    if emulator and emulator.get("timeline"):
        points = emulator["timeline"]
        step = max(1, len(points) // 12)
        shown = " ".join(f"{t:g}s:{n}" for t, n, _ in points[::step])
        lines.append(f"  {'Environments over time':<{width}}  {shown}")
    return "\n".join(lines)
