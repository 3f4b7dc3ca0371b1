"""Figures of a simulated run: cold starts, latency, concurrency, idle time and cost.

Every time-average is over [0, horizon]: live environments are the provisioned ones plus the
on-demand births minus deaths up to `t`; busy ones are the invocations in flight. Idle
environment-seconds are live minus busy environment-seconds. Cost goes through
`emulator.cost.cost` for the simulated period and for a 730-hour month of the same traffic.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from emulator.config import Architecture
from emulator.cost import (
    MB_PER_GB,
    SECONDS_PER_MONTH,
    CostBreakdown,
    cost,
    provisioned_billed_s,
)
from emulator.model.distributions import FloatArray
from emulator.model.simulator import COLD, PROVISIONED, THROTTLED, Run

PERCENTILES = (50.0, 90.0, 99.0, 99.9)
# Percentiles of live environments and invocations in flight, weighted by time.
LEVEL_PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True)
class Summary:
    invocations: int
    served: int
    cold_starts: int
    cold_start_probability: float  # cold starts / served invocations
    provisioned_invocations: int
    throttles: int
    latency_ms: dict[str, float]  # p50 … p99.9 of Duration (+ Init Duration on cold starts)
    init_ms_mean: float  # of the cold starts
    mean_environments: float  # live environments, time-average
    max_environments: int
    mean_concurrency: float  # invocations in flight, time-average
    max_concurrency: int
    environments_percentiles: dict[str, int]  # share of time with at most this many live
    concurrency_percentiles: dict[str, int]  # … with at most this many in flight
    environments_created: int  # on-demand environments born (cold starts and hybrid pre-loads)
    mean_lifespan_s: float  # of an on-demand environment (Little: live-seconds / births)
    environment_s: float
    idle_environment_s: float
    horizon_s: float
    provisioned: int
    warmup_s: float  # simulated before the figures start (cut)
    cost_usd: float  # the simulated period
    monthly_cost_usd: float  # 730 hours of the same traffic
    cost_breakdown: dict[str, float]  # monthly, by line of the bill
    cost_breakdown_period: dict[str, float]  # the simulated period, by line of the bill

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def cut_warmup(run: Run, warmup_s: float) -> Run:
    """The run from `warmup_s` on, times shifted to start at 0: invocations that arrived
    earlier are dropped (with their time in flight after the cut), environments live at the
    cut are live at 0 (a birth and death before it cancel out)."""
    if warmup_s <= 0:
        return run
    keep = run.arrivals >= warmup_s
    return Run(
        arrivals=run.arrivals[keep] - warmup_s,
        kind=run.kind[keep],
        busy_s=run.busy_s[keep],
        init_s=run.init_s[keep],
        births=np.maximum(run.births - warmup_s, 0.0),
        deaths=np.maximum(run.deaths - warmup_s, 0.0),
        horizon_s=max(0.0, run.horizon_s - warmup_s),
        provisioned=run.provisioned,
    )


def summarise(
    run: Run,
    *,
    memory_mb: int = 128,
    architecture: Architecture = "x86_64",
    warmup_s: float = 0.0,
) -> Summary:
    run = cut_warmup(run, warmup_s)
    kind = run.kind
    served_mask = kind != THROTTLED
    cold_mask = kind == COLD
    served = int(served_mask.sum())
    colds = int(cold_mask.sum())
    horizon = run.horizon_s
    latency = run.busy_s[served_mask] * 1000.0
    latency_ms = (
        dict(
            zip(
                (f"p{p:g}" for p in PERCENTILES),
                np.percentile(latency, PERCENTILES).tolist(),
                strict=True,
            )
        )
        if served
        else {f"p{p:g}": math.nan for p in PERCENTILES}
    )
    starts = run.arrivals[served_mask]
    ends = starts + run.busy_s[served_mask]
    births, deaths = run.births, run.deaths
    env_s = run.provisioned * horizon + _integral(births, deaths, horizon)
    busy_s = float(np.minimum(ends, horizon).sum() - np.minimum(starts, horizon).sum())
    period, monthly = _costs(run, memory_mb=memory_mb, architecture=architecture)
    sorted_ends = np.sort(ends, kind="stable")
    on_demand_s = _integral(births, deaths, horizon)
    created = int((births <= horizon).sum())
    return Summary(
        invocations=len(kind),
        served=served,
        cold_starts=colds,
        cold_start_probability=colds / served if served else math.nan,
        provisioned_invocations=int((kind == PROVISIONED).sum()),
        throttles=int((kind == THROTTLED).sum()),
        latency_ms=latency_ms,
        init_ms_mean=float(run.init_s[cold_mask].mean() * 1000.0) if colds else 0.0,
        mean_environments=env_s / horizon if horizon > 0 else math.nan,
        max_environments=run.provisioned + _peak(births, deaths, horizon),
        mean_concurrency=busy_s / horizon if horizon > 0 else math.nan,
        max_concurrency=_peak(starts, sorted_ends, horizon),
        environments_percentiles=_level_percentiles(births, deaths, horizon, run.provisioned),
        concurrency_percentiles=_level_percentiles(starts, sorted_ends, horizon, 0),
        environments_created=created,
        # births at the cut (0) are environments carried over from the warm-up: counted too
        mean_lifespan_s=on_demand_s / created if created else math.nan,
        environment_s=env_s,
        idle_environment_s=max(0.0, env_s - busy_s),
        horizon_s=horizon,
        provisioned=run.provisioned,
        warmup_s=warmup_s,
        cost_usd=period.total_usd,
        monthly_cost_usd=monthly.total_usd,
        cost_breakdown=_bill_lines(monthly),
        cost_breakdown_period=_bill_lines(period),
    )


def _bill_lines(bill: CostBreakdown) -> dict[str, float]:
    return {
        "requests": bill.request_usd,
        "duration": bill.duration_usd,
        "provisioned": bill.provisioned_usd,
        "provisioned_duration": bill.provisioned_duration_usd,
    }


def _level_percentiles(
    ups: FloatArray, downs: FloatArray, horizon: float, base: int
) -> dict[str, int]:
    """Time-weighted percentiles of base + #ups ≤ t − #downs ≤ t over [0, H]: the level the
    count stays at or under for that share of the time."""
    up = ups[ups <= horizon]
    down = downs[downs <= horizon]
    if horizon <= 0:
        return {f"p{p:g}": base for p in LEVEL_PERCENTILES}
    times = np.concatenate((up, down, [horizon]))
    steps = np.concatenate((np.ones(len(up)), -np.ones(len(down)), [0.0]))
    # a down at the same instant as an up counts first, as in _peak
    order = np.lexsort((steps, times))
    times, steps = times[order], steps[order]
    levels = base + np.cumsum(steps)
    spans = np.diff(np.concatenate((times, [horizon])))
    level_at_0 = float(base)
    all_levels = np.concatenate(([level_at_0], levels))
    all_spans = np.concatenate(([times[0] if len(times) else horizon], spans))
    by_level = np.argsort(all_levels, kind="stable")
    cum = np.cumsum(all_spans[by_level])
    out = {}
    for p in LEVEL_PERCENTILES:
        index = int(np.searchsorted(cum, cum[-1] * p / 100.0 - 1e-12, side="left"))
        out[f"p{p:g}"] = int(all_levels[by_level][min(index, len(cum) - 1)])
    return out


def billed_ms(run: Run) -> npt.NDArray[np.float64]:
    """Billed Duration of each served invocation: ceil to 1 ms, at least 1 ms, Init Duration
    included on on-demand cold starts (billed since 2025-08-01, LAMBDA_SPEC §6)."""
    served = run.kind != THROTTLED
    billed: npt.NDArray[np.float64] = np.maximum(1.0, np.ceil(run.busy_s[served] * 1000.0 - 1e-9))
    return billed


def _costs(run: Run, *, memory_mb: int, architecture: Architecture) -> tuple[CostBreakdown, ...]:
    billed = billed_ms(run)
    served = run.kind[run.kind != THROTTLED]
    total_ms = float(billed.sum())
    pc_ms = float(billed[served == PROVISIONED].sum())
    each = total_ms / len(billed) if len(billed) else 0.0
    share = pc_ms / total_ms if total_ms > 0 else 0.0
    allocated_per_s = run.provisioned * memory_mb / MB_PER_GB
    out = []
    for seconds in (run.horizon_s, SECONDS_PER_MONTH):
        scale = seconds / run.horizon_s if run.horizon_s > 0 else 0.0
        out.append(
            cost(
                len(billed) * scale,
                each,
                memory_mb,
                architecture=architecture,
                provisioned_share=share,
                # configured for the whole period, billed by the 5 minutes as AWS bills it
                provisioned_allocated_gb_s=allocated_per_s * provisioned_billed_s(seconds),
            )
        )
    return tuple(out)


def _integral(ups: FloatArray, downs: FloatArray, horizon: float) -> float:
    """∫₀ᴴ (#ups ≤ t − #downs ≤ t) dt."""
    up = ups[ups <= horizon]
    down = downs[downs <= horizon]
    return float((horizon - up).sum() - (horizon - down).sum())


def _peak(ups: FloatArray, downs: FloatArray, horizon: float) -> int:
    """max over [0, H] of #ups ≤ t − #downs ≤ t; a down at the same instant counts first."""
    up = ups[ups <= horizon]
    if not len(up):
        return 0
    # at each up, the count is (ups so far) − (downs up to and including that instant)
    ups_so_far = np.arange(1, len(up) + 1)
    downs_so_far = np.searchsorted(downs, up, side="right")
    return int(max(0, (ups_so_far - downs_so_far).max()))


def timeline(run: Run, bins: int = 200) -> dict[str, FloatArray]:
    """Per bin: mean live environments, mean invocations in flight, cold starts, throttles."""
    horizon = max(run.horizon_s, 1e-9)
    edges = np.linspace(0.0, horizon, bins + 1)
    served = run.kind != THROTTLED
    starts = run.arrivals[served]
    ends = np.sort(starts + run.busy_s[served], kind="stable")
    width = edges[1] - edges[0]
    live = run.provisioned + np.diff(_integral_at(run.births, run.deaths, edges)) / width
    busy = np.diff(_integral_at(starts, ends, edges)) / width
    colds, _ = np.histogram(run.arrivals[run.kind == COLD], bins=edges)
    throttles, _ = np.histogram(run.arrivals[run.kind == THROTTLED], bins=edges)
    return {
        "t": edges[:-1],
        "environments": live,
        "concurrency": busy,
        "cold_starts": colds.astype(np.float64),
        "throttles": throttles.astype(np.float64),
    }


def _integral_at(ups: FloatArray, downs: FloatArray, points: FloatArray) -> FloatArray:
    """∫₀ᵖ (#ups ≤ t − #downs ≤ t) dt at each point p (ups and downs sorted)."""

    def part(times: FloatArray) -> FloatArray:
        count = np.searchsorted(times, points, side="right")
        sums = np.concatenate(([0.0], np.cumsum(times)))[count]
        out: FloatArray = count * points - sums
        return out

    return part(ups) - part(downs)
