"""One prediction: traffic + service times + keep-alive + limits → a `Summary`; and the
provisioned-concurrency recommendation, which re-runs the same draws for several
provisioned counts (common random numbers, so candidates differ only by the setting)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from emulator.config import Architecture
from emulator.model.distributions import FloatArray
from emulator.model.keepalive import KeepAlivePolicy
from emulator.model.results import Summary, summarise
from emulator.model.simulator import Limits, Run, simulate
from emulator.model.traces import ServiceModel
from emulator.model.traffic import ManyFunctions, SingleTraffic, Traffic


@dataclass(frozen=True)
class Draws:
    """The random inputs of a run, drawn once."""

    arrivals: FloatArray
    warm_s: FloatArray
    init_s: FloatArray
    horizon_s: float


def draw(
    traffic: SingleTraffic, service: ServiceModel, duration_s: float, seed: int = 0, stream: int = 0
) -> Draws:
    """Arrivals, Durations and Init Durations of one function; `stream` tells functions of one
    run apart (each gets its own random stream)."""
    rng = np.random.default_rng([seed, stream])
    arrivals = traffic.arrivals(rng, duration_s)
    n = len(arrivals)
    return Draws(
        arrivals=arrivals,
        warm_s=service.duration.sample(rng, n),
        init_s=service.init.sample(rng, n),
        horizon_s=duration_s,
    )


def run(draws: Draws, keep_alive: KeepAlivePolicy, limits: Limits, seed: int = 0) -> Run:
    return simulate(
        draws.arrivals,
        draws.warm_s,
        draws.init_s,
        keep_alive,
        limits=limits,
        horizon_s=draws.horizon_s,
        rng=np.random.default_rng(seed + 1),
    )


def run_traffic(
    traffic: Traffic,
    service: ServiceModel,
    duration_s: float,
    keep_alive: KeepAlivePolicy,
    limits: Limits,
    seed: int = 0,
) -> Run:
    """One run; several functions (`ManyFunctions`) are simulated one by one, each with its
    own environments and limits, and merged into one `Run`."""
    if not isinstance(traffic, ManyFunctions):
        return run(draw(traffic, service, duration_s, seed), keep_alive, limits, seed)
    runs = [
        run(draw(f, service, duration_s, seed, stream), keep_alive, limits, seed + stream)
        for stream, f in enumerate(traffic.functions)
    ]
    return merge_runs(runs, duration_s)


def merge_runs(runs: list[Run], horizon_s: float) -> Run:
    """Runs of different functions as one: the totals, time-averages and peaks of `summarise`
    then cover them all (every function keeps its own environments)."""
    arrivals = np.concatenate([r.arrivals for r in runs]) if runs else np.empty(0)
    order = np.argsort(arrivals, kind="stable")

    def merged(field: str) -> FloatArray:
        out: FloatArray = np.concatenate([getattr(r, field) for r in runs])[order]
        return out

    return Run(
        arrivals=arrivals[order],
        kind=np.concatenate([r.kind for r in runs])[order] if runs else np.empty(0, np.uint8),
        busy_s=merged("busy_s") if runs else np.empty(0),
        init_s=merged("init_s") if runs else np.empty(0),
        births=np.sort(np.concatenate([r.births for r in runs])) if runs else np.empty(0),
        deaths=np.sort(np.concatenate([r.deaths for r in runs])) if runs else np.empty(0),
        horizon_s=horizon_s,
        provisioned=sum(r.provisioned for r in runs),
    )


# Student's t, 97.5th percentile, by degrees of freedom: a 95 % interval of a mean of few runs.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip


def t975(df: int) -> float:
    """Student's t quantile 0.975 (beyond 30 degrees of freedom, the Cornish-Fisher term)."""
    if df <= len(_T975):
        return _T975[max(df, 1) - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df)


@dataclass(frozen=True)
class Spread:
    """One figure over independent replications (seeds): its mean with a 95 % confidence
    interval (Student's t), and the spread a single real run may show (sd, 5–95 %)."""

    runs: int
    mean: float
    sd: float
    ci95_low: float
    ci95_high: float
    p5: float
    p95: float


def spread_of(values: list[float]) -> Spread:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if not len(arr):
        arr = np.zeros(1)
    sd = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    half = t975(len(arr) - 1) * sd / math.sqrt(len(arr)) if len(arr) > 1 else 0.0
    mean = float(arr.mean())
    return Spread(
        runs=len(values),
        mean=mean,
        sd=sd,
        ci95_low=mean - half,
        ci95_high=mean + half,
        p5=float(np.percentile(arr, 5)),
        p95=float(np.percentile(arr, 95)),
    )


def figures(summary: Summary) -> dict[str, float]:
    """Every number of a summary under one flat name (`latency_ms.p99`, …), for replications."""
    out: dict[str, float] = {}
    for name, value in summary.as_dict().items():
        if isinstance(value, dict):
            out.update({f"{name}.{k}": float(v) for k, v in value.items()})
        elif isinstance(value, int | float) and name not in (
            "horizon_s",
            "warmup_s",
            "provisioned",
        ):
            out[name] = float(value)
    return out


def replicate(
    traffic: Traffic,
    service: ServiceModel,
    duration_s: float,
    keep_alive: KeepAlivePolicy,
    limits: Limits,
    *,
    runs: int,
    seed: int = 0,
    memory_mb: int = 128,
    architecture: Architecture = "x86_64",
    warmup_s: float = 0.0,
) -> dict[str, Spread]:
    """Every figure of the summary over `runs` seeds (seed, seed + 1, …): the mean with its
    95 % confidence interval, and the spread a single run of `duration_s` has."""
    values: dict[str, list[float]] = {}
    for k in range(runs):
        summary = summarise(
            run_traffic(traffic, service, duration_s, keep_alive, limits, seed + k),
            memory_mb=memory_mb,
            architecture=architecture,
            warmup_s=warmup_s,
        )
        for name, value in figures(summary).items():
            values.setdefault(name, []).append(value)
    return {name: spread_of(v) for name, v in values.items()}


@dataclass(frozen=True)
class Candidate:
    provisioned: int
    cold_start_probability: float
    throttles: int
    monthly_cost_usd: float


@dataclass(frozen=True)
class Recommendation:
    provisioned: int
    target_cold_start_probability: float
    met: bool  # False: no candidate reached the target; the one with fewest cold starts
    candidates: tuple[Candidate, ...]
    reason: str  # why this count, in words: the target, or cost


def recommend_provisioned(
    draws: Draws,
    keep_alive: KeepAlivePolicy,
    limits: Limits,
    *,
    target: float,
    memory_mb: int,
    architecture: Architecture = "x86_64",
    baseline: Summary | None = None,
    max_candidates: int = 12,
    seed: int = 0,
    warmup_s: float = 0.0,
) -> Recommendation:
    """The provisioned concurrency with the lowest monthly cost whose cold-start probability is
    at most `target`. Candidates run from 0 to the peak concurrency of the on-demand run."""
    if baseline is None:
        baseline = summarise(
            run(draws, keep_alive, replace(limits, provisioned=0), seed),
            memory_mb=memory_mb,
            warmup_s=warmup_s,
        )
    peak = max(1, baseline.max_concurrency)
    step = max(1, math.ceil(peak / (max_candidates - 1)))
    counts = sorted({*range(0, peak + 1, step), peak})
    candidates = []
    for count in counts:
        summary = summarise(
            run(draws, keep_alive, replace(limits, provisioned=count), seed),
            memory_mb=memory_mb,
            architecture=architecture,
            warmup_s=warmup_s,
        )
        candidates.append(
            Candidate(
                count,
                summary.cold_start_probability,
                summary.throttles,
                summary.monthly_cost_usd,
            )
        )
    return _choose(tuple(candidates), target)


def _choose(candidates: tuple[Candidate, ...], target: float) -> Recommendation:
    on_demand = candidates[0]
    meeting = [c for c in candidates if c.cold_start_probability <= target]
    if not meeting:
        best = min(candidates, key=lambda c: (c.cold_start_probability, c.provisioned))
        reason = (
            f"no count reaches {target:.2%} cold starts; {best.provisioned} gives the fewest "
            f"({best.cold_start_probability:.3%})"
        )
        return Recommendation(best.provisioned, target, False, candidates, reason)
    best = min(meeting, key=lambda c: (c.monthly_cost_usd, c.provisioned))
    if best.provisioned == 0:
        reason = (
            f"on demand already meets the target ({on_demand.cold_start_probability:.3%} ≤ "
            f"{target:.2%} cold starts); provisioning would only add cost"
        )
    elif on_demand.cold_start_probability <= target:
        saving = on_demand.monthly_cost_usd - best.monthly_cost_usd
        reason = (
            f"cost: on demand already meets the target ({on_demand.cold_start_probability:.3%}"
            f" ≤ {target:.2%}), but {best.provisioned} provisioned is ${saving:,.2f}/month "
            "cheaper (busy enough for the provisioned rates)"
        )
    else:
        reason = (
            f"cold-start target: on demand gives {on_demand.cold_start_probability:.3%} > "
            f"{target:.2%}; {best.provisioned} is the cheapest count that meets it"
        )
    return Recommendation(best.provisioned, target, True, candidates, reason)
