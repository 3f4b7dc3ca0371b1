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


@dataclass(frozen=True)
class Spread:
    """One figure over independent replications (seeds): what a single real run may show."""

    runs: int
    mean: float
    sd: float
    p5: float
    p95: float


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
) -> dict[str, Spread]:
    """Cold starts, cold-start probability and throttles over `runs` seeds (seed, seed + 1, …):
    the spread a single run of `duration_s` of this traffic has."""
    figures: dict[str, list[float]] = {
        "cold_starts": [],
        "cold_start_probability": [],
        "throttles": [],
    }
    for k in range(runs):
        summary = summarise(
            run_traffic(traffic, service, duration_s, keep_alive, limits, seed + k),
            memory_mb=memory_mb,
        )
        figures["cold_starts"].append(summary.cold_starts)
        figures["cold_start_probability"].append(summary.cold_start_probability)
        figures["throttles"].append(summary.throttles)
    out = {}
    for name, values in figures.items():
        arr = np.asarray(values, dtype=np.float64)
        arr = arr[np.isfinite(arr)]
        if not len(arr):
            arr = np.zeros(1)
        out[name] = Spread(
            runs=runs,
            mean=float(arr.mean()),
            sd=float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
            p5=float(np.percentile(arr, 5)),
            p95=float(np.percentile(arr, 95)),
        )
    return out


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
) -> Recommendation:
    """The provisioned concurrency with the lowest monthly cost whose cold-start probability is
    at most `target`. Candidates run from 0 to the peak concurrency of the on-demand run."""
    if baseline is None:
        baseline = summarise(
            run(draws, keep_alive, replace(limits, provisioned=0), seed), memory_mb=memory_mb
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
        )
        candidates.append(
            Candidate(
                count,
                summary.cold_start_probability,
                summary.throttles,
                summary.monthly_cost_usd,
            )
        )
    meeting = [c for c in candidates if c.cold_start_probability <= target]
    if meeting:
        best = min(meeting, key=lambda c: (c.monthly_cost_usd, c.provisioned))
        return Recommendation(best.provisioned, target, True, tuple(candidates))
    best = min(candidates, key=lambda c: (c.cold_start_probability, c.provisioned))
    return Recommendation(best.provisioned, target, False, tuple(candidates))
