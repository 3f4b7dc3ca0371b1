"""What `lambda-emu model` prints and writes: a text table, JSON, and a PNG chart of live
environments, invocations in flight and cold starts over time."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from emulator.model.predict import Recommendation, Spread
from emulator.model.results import Summary, cut_warmup, timeline
from emulator.model.simulator import Run


def table(
    summary: Summary,
    inputs: dict[str, str],
    rec: Recommendation | None = None,
    spread: dict[str, Spread] | None = None,
) -> str:
    rows: list[tuple[str, str]] = [(k, v) for k, v in inputs.items()]
    rows.append(("", ""))
    rows += [
        ("simulated", f"{_duration(summary.horizon_s)}, {summary.invocations:,} invocations"),
        (
            "cold starts",
            f"{summary.cold_starts:,} ({summary.cold_start_probability:.3%} of served)",
        ),
        ("throttles", f"{summary.throttles:,}"),
    ]
    if summary.provisioned:
        rows.append(
            (
                "on provisioned",
                f"{summary.provisioned_invocations:,} invocations on {summary.provisioned} "
                "provisioned environments",
            )
        )
    lat = summary.latency_ms
    rows += [
        (
            "latency (incl. init)",
            "  ".join(f"{k} {_ms(v)}" for k, v in lat.items()),
        ),
        ("mean Init Duration", _ms(summary.init_ms_mean) if summary.cold_starts else "-"),
        (
            "environments",
            f"mean {summary.mean_environments:.2f}, "
            + _levels(summary.environments_percentiles)
            + f", max {summary.max_environments}",
        ),
        (
            "concurrency",
            f"mean {summary.mean_concurrency:.2f}, "
            + _levels(summary.concurrency_percentiles)
            + f", max {summary.max_concurrency}",
        ),
        (
            "environments created",
            f"{summary.environments_created:,}, mean lifespan "
            + (_duration(summary.mean_lifespan_s) if summary.environments_created else "-"),
        ),
        (
            "idle environment-s",
            f"{summary.idle_environment_s:,.0f} of {summary.environment_s:,.0f} "
            f"({_share(summary.idle_environment_s, summary.environment_s)})",
        ),
        (
            f"cost, simulated {_duration(summary.horizon_s)}",
            f"${summary.cost_usd:,.4f}  ({_bill(summary.cost_breakdown_period, 4)})",
        ),
        (
            "cost, 730-hour month",
            f"${summary.monthly_cost_usd:,.2f}  ({_bill(summary.cost_breakdown, 2)})",
        ),
    ]
    if summary.warmup_s > 0:
        rows.insert(
            len(inputs) + 1,
            ("warm-up cut", f"the first {_duration(summary.warmup_s)} (not in the figures)"),
        )
    if spread:
        rows.append(("", ""))
        runs = spread["cold_starts"].runs
        rows.append((f"over {runs} seeds", "mean [95 % CI of the mean] (5–95 % of single runs)"))
        for name in SPREAD_ROWS:
            if name in spread:
                s = spread[name]
                rows.append(
                    (
                        f"  {name}",
                        f"{s.mean:,.4g} [{s.ci95_low:,.4g}, {s.ci95_high:,.4g}] "
                        f"({s.p5:,.4g}–{s.p95:,.4g})",
                    )
                )
    if rec is not None:
        rows.append(("", ""))
        rows.append(("provisioned concurrency", f"recommend {rec.provisioned}"))
        rows.append(("  why", rec.reason))
        for c in rec.candidates:
            mark = " ←" if c.provisioned == rec.provisioned else ""
            rows.append(
                (
                    f"  provisioned {c.provisioned}",
                    f"cold {c.cold_start_probability:.3%}, throttles {c.throttles}, "
                    f"${c.monthly_cost_usd:,.2f}/month{mark}",
                )
            )
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" if k or v else "" for k, v in rows)


def as_json(
    summary: Summary,
    inputs: dict[str, str],
    rec: Recommendation | None = None,
    spread: dict[str, Spread] | None = None,
    run: Run | None = None,
    bins: int = 200,
) -> dict[str, Any]:
    out: dict[str, Any] = {"inputs": inputs, "summary": _finite(summary.as_dict())}
    if run is not None:
        series = timeline(cut_warmup(run, summary.warmup_s), bins)
        width = float(series["t"][1] - series["t"][0]) if len(series["t"]) > 1 else 0.0
        out["timeline"] = {
            "bin_s": width,
            "t_s": "start of each bin, seconds after the warm-up cut",
            "environments": "mean live environments in the bin",
            "concurrency": "mean invocations in flight in the bin",
            "cold_starts": "cold starts that arrived in the bin",
            "throttles": "throttled invocations that arrived in the bin",
            "series": {k: _finite(v.tolist()) for k, v in series.items()},
        }
    if spread:
        out["replications"] = {name: _finite(asdict(s)) for name, s in spread.items()}
    if rec is not None:
        out["recommendation"] = _finite(asdict(rec))
    return out


def chart(run: Run, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = timeline(run)
    t = series["t"]
    bin_label = _duration(float(t[1] - t[0])) if len(t) > 1 else "-"
    scale, unit = (3600.0, "h") if run.horizon_s > 3 * 3600 else (60.0, "min")
    if run.horizon_s < 600:
        scale, unit = 1.0, "s"
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    top.step(t / scale, series["environments"], where="post", label="live environments")
    top.step(t / scale, series["concurrency"], where="post", label="invocations in flight")
    top.set_title(f"{title}\n(mean per {bin_label} bin)", fontsize=10)
    if run.provisioned:
        top.axhline(run.provisioned, color="grey", linestyle="--", label="provisioned")
    top.set_ylabel(f"environments (mean per {bin_label})")
    top.legend(loc="upper right")
    width = (t[1] - t[0]) / scale if len(t) > 1 else 1.0
    bottom.bar(t / scale, series["cold_starts"], width=width, align="edge", label="cold starts")
    if series["throttles"].any():
        bottom.bar(
            t / scale,
            series["throttles"],
            width=width,
            align="edge",
            bottom=series["cold_starts"],
            label="throttles",
        )
    bottom.set_ylabel(f"count per {bin_label} bin")
    bottom.set_xlabel(f"time ({unit})")
    bottom.legend(loc="upper right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


SPREAD_ROWS = (
    "cold_starts",
    "cold_start_probability",
    "throttles",
    "latency_ms.p50",
    "latency_ms.p99",
    "mean_environments",
    "max_environments",
    "mean_concurrency",
    "max_concurrency",
    "cost_usd",
    "monthly_cost_usd",
)


def _levels(percentiles: dict[str, int]) -> str:
    return " ".join(f"{k} {v}" for k, v in percentiles.items())


def _bill(lines: dict[str, float], digits: int) -> str:
    names = {
        "requests": "requests",
        "duration": "duration",
        "provisioned": "provisioned",
        "provisioned_duration": "provisioned duration",
    }
    return ", ".join(
        f"{names[k]} ${v:,.{digits}f}"
        for k, v in lines.items()
        if v or k in ("requests", "duration")
    )


def _finite(value: Any) -> Any:
    """JSON has no NaN: None instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _ms(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.1f} ms"


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole > 0 else "-"


def _duration(seconds: float) -> str:
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"
