"""Power tuning's pure part: workloads and payloads, the statistics of a sweep's samples, and
the strategies that pick a memory size. No emulator, no I/O: emulator/tuning/driver.py runs
the sweep and hands its REPORT lines here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from emulator import cost
from emulator.config import MEMORY_MAX_MB, MEMORY_MIN_MB, Architecture, FunctionConfig
from emulator.errors import LambdaEmuError
from emulator.metrics.report import Report

Strategy = Literal["cost", "speed", "balanced"]
STRATEGIES: tuple[Strategy, ...] = ("cost", "speed", "balanced")
DEFAULT_MEMORY_SIZES = (128, 256, 512, 1024, 1536, 1769, 3008)
DEFAULT_INVOCATIONS = 10
DEFAULT_TRIM = 0.2  # power tuning's discardTopBottom
DEFAULT_BALANCED_WEIGHT = 0.5

ProgressCallback = Callable[[int, int, str], None]  # (done, total, what is running)


class TuningError(LambdaEmuError):
    """A sweep that cannot run or cannot conclude. `str()` is the one-line CLI message."""


# --- payloads --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeightedPayload:
    weight: float
    payload: bytes


def payload_choices(text: str) -> tuple[WeightedPayload, ...]:
    """One payload, or power tuning's weighted list `[{"weight": w, "payload": {...}}, ...]`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TuningError(f"the payload is not valid JSON: {exc}") from None
    if (
        isinstance(data, list)
        and data
        and all(isinstance(item, dict) and set(item) == {"weight", "payload"} for item in data)
    ):
        choices = []
        for item in data:
            weight = item["weight"]
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
                raise TuningError(f"payload weights must be numbers > 0, got {weight!r}")
            choices.append(WeightedPayload(float(weight), json.dumps(item["payload"]).encode()))
        return tuple(choices)
    return (WeightedPayload(1.0, text.encode()),)


def payload_sequence(choices: Sequence[WeightedPayload], n: int) -> list[bytes]:
    """`n` payloads in proportion to their weights, interleaved, the same for every size
    (largest remainder for the counts, then the most-behind payload goes next)."""
    total = sum(c.weight for c in choices)
    exact = [c.weight * n / total for c in choices]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(choices)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    issued = [0] * len(choices)
    sequence: list[bytes] = []
    for step in range(n):
        behind = [counts[i] * (step + 1) / n - issued[i] for i in range(len(choices))]
        pick = max(
            (i for i in range(len(choices)) if issued[i] < counts[i]), key=lambda i: behind[i]
        )
        issued[pick] += 1
        sequence.append(choices[pick].payload)
    return sequence


# --- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """What is sent to every function of a sweep, and how it is priced."""

    invocations: int = DEFAULT_INVOCATIONS
    payloads: tuple[WeightedPayload, ...] = (WeightedPayload(1.0, b"{}"),)
    parallel: bool = False
    only_cold_starts: bool = False
    trim: float = DEFAULT_TRIM
    architecture: Architecture | None = None  # for pricing; None: each function's own
    # On-demand INIT is billed since 2025-08-01; False: the older rule, where only custom
    # runtimes and container images billed it.
    bill_init: bool = True
    prices: cost.PriceTable = cost.DEFAULT_PRICES

    def __post_init__(self) -> None:
        if self.invocations < 1:
            raise TuningError(f"invocations must be at least 1, got {self.invocations}")
        if not 0.0 <= self.trim < 0.5:
            raise TuningError(f"trim must be from 0 to below 0.5, got {self.trim}")
        if not self.payloads:
            raise TuningError("at least one payload is needed")


@dataclass(frozen=True, slots=True)
class Sample:
    """One invocation as its REPORT line tells it."""

    duration_ms: float
    billed_ms: int
    init_ms: float | None
    max_memory_mb: int
    error: str | None = None


@dataclass(frozen=True)
class Measurement:
    """One function (one memory size) under the workload."""

    function: str
    memory_mb: int
    architecture: Architecture
    invocations: int
    errors: int
    cold_starts: int
    avg_ms: float  # trimmed mean of Duration
    p50_ms: float
    p95_ms: float
    avg_billed_ms: float  # trimmed mean of Billed Duration
    avg_init_ms: float | None  # mean Init Duration of the cold starts
    max_memory_used_mb: int
    cost_per_invocation_usd: float  # billed GB-s + request fee
    cost_per_million_usd: float
    durations_ms: tuple[float, ...] = field(repr=False)
    first_error: str | None = None
    ephemeral_mb: int = 512  # priced above 512 MB


@dataclass(frozen=True)
class Recommendation:
    memory_mb: int
    reason: str


@dataclass(frozen=True)
class TuningResult:
    function: str
    strategy: Strategy
    balanced_weight: float
    workload: Workload
    measurements: tuple[Measurement, ...]
    recommendation: Recommendation

    @property
    def recommended(self) -> Measurement:
        return next(m for m in self.measurements if m.memory_mb == self.recommendation.memory_mb)


def trimmed_mean(values: Sequence[float], trim: float) -> float:
    """Mean without the `trim` share of the values at each end (at least one value kept)."""
    ordered = sorted(values)
    k = int(len(ordered) * trim)
    if len(ordered) - 2 * k < 1:
        k = (len(ordered) - 1) // 2
    kept = ordered[k : len(ordered) - k]
    return sum(kept) / len(kept)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def sample_from(report: Report, error: str | None, *, bill_init: bool) -> Sample:
    return Sample(
        duration_ms=report.duration_ms,
        billed_ms=cost.billed_ms(report.duration_ms, report.init_ms, bill_init=bill_init),
        init_ms=report.init_ms,
        max_memory_mb=report.max_memory_mb,
        error=error,
    )


def summarise(
    fn: FunctionConfig,
    samples: Sequence[Sample],
    errors: Sequence[str],
    workload: Workload,
    invocations: int,
) -> Measurement:
    """Statistics and prices of one function's `invocations`. `errors` lists every failed
    invocation (with or without a REPORT line); `samples` every invocation with one."""
    if not samples:
        first = errors[0] if errors else "no REPORT line"
        raise TuningError(
            f"no invocation of '{fn.name}' at {fn.memory_mb} MB returned a REPORT line "
            f"(first error: {first})"
        )
    architecture = workload.architecture or fn.architecture
    durations = [s.duration_ms for s in samples]
    billed = trimmed_mean([float(s.billed_ms) for s in samples], workload.trim)
    inits = [s.init_ms for s in samples if s.init_ms is not None]
    per_invocation = cost.cost(
        1,
        billed,
        fn.memory_mb,
        architecture=architecture,
        ephemeral_mb=fn.ephemeral_storage_mb,
        prices=workload.prices,
    )
    per_million = cost.cost_per_million(
        fn.memory_mb,
        billed,
        architecture=architecture,
        ephemeral_mb=fn.ephemeral_storage_mb,
        prices=workload.prices,
    )
    return Measurement(
        function=fn.name,
        memory_mb=fn.memory_mb,
        architecture=architecture,
        invocations=invocations,
        errors=len(errors),
        cold_starts=len(inits),
        avg_ms=trimmed_mean(durations, workload.trim),
        p50_ms=percentile(durations, 50),
        p95_ms=percentile(durations, 95),
        avg_billed_ms=billed,
        avg_init_ms=sum(inits) / len(inits) if inits else None,
        max_memory_used_mb=max(s.max_memory_mb for s in samples),
        cost_per_invocation_usd=per_invocation.total_usd,
        cost_per_million_usd=per_million.total_usd,
        durations_ms=tuple(durations),
        first_error=errors[0] if errors else None,
        ephemeral_mb=fn.ephemeral_storage_mb,
    )


def recommend(
    measurements: Sequence[Measurement],
    strategy: Strategy,
    balanced_weight: float = DEFAULT_BALANCED_WEIGHT,
) -> Recommendation:
    """The size `strategy` picks among the sizes without errors, with a one-line reason."""
    ok = [m for m in measurements if m.errors == 0]
    if not ok:
        raise TuningError("every memory size had failed invocations; nothing to recommend")
    if not 0.0 <= balanced_weight <= 1.0:
        raise TuningError(f"the balanced weight must be from 0 to 1, got {balanced_weight}")
    cheapest = min(ok, key=lambda m: (m.cost_per_invocation_usd, m.avg_ms))
    fastest = min(ok, key=lambda m: (m.avg_ms, m.cost_per_invocation_usd))
    skipped = sorted(m.memory_mb for m in measurements if m.errors)
    note = f"; skipped {', '.join(map(str, skipped))} MB (errors)" if skipped else ""
    if strategy == "cost":
        pick = cheapest
        reason = (
            f"cheapest at ${pick.cost_per_million_usd:.2f} per 1M invocations; "
            f"{pick.avg_ms / fastest.avg_ms:.2f}× the duration of the fastest "
            f"({fastest.memory_mb} MB)"
        )
    elif strategy == "speed":
        pick = fastest
        reason = (
            f"fastest at {pick.avg_ms:.1f} ms; "
            f"{pick.cost_per_invocation_usd / cheapest.cost_per_invocation_usd:.2f}× the cost "
            f"of the cheapest ({cheapest.memory_mb} MB)"
        )
    else:
        max_cost = max(m.cost_per_invocation_usd for m in ok)
        max_ms = max(m.avg_ms for m in ok) or 1.0

        def score(m: Measurement) -> float:
            return (
                balanced_weight * m.cost_per_invocation_usd / max_cost
                + (1.0 - balanced_weight) * m.avg_ms / max_ms
            )

        pick = min(ok, key=lambda m: (score(m), m.cost_per_invocation_usd))
        reason = (
            f"lowest {balanced_weight:g}·cost + {1.0 - balanced_weight:g}·duration "
            f"(each relative to its maximum): {score(pick):.3f}, at {pick.avg_ms:.1f} ms and "
            f"${pick.cost_per_million_usd:.2f} per 1M invocations"
        )
    return Recommendation(pick.memory_mb, reason + note)


def sized_function(
    fn: FunctionConfig, memory_mb: int, architecture: Architecture | None = None
) -> FunctionConfig:
    """`fn` at `memory_mb` under its own name, on demand only, so that it starts cold.
    `architecture` is declared (and priced); the code still runs on this host's CPU."""
    if not MEMORY_MIN_MB <= memory_mb <= MEMORY_MAX_MB:
        raise TuningError(
            f"memory sizes must be from {MEMORY_MIN_MB} to {MEMORY_MAX_MB} MB, got {memory_mb}"
        )
    suffix = f"-{memory_mb}"
    name = fn.name[: 64 - len(suffix)] + suffix  # Lambda's 64-character limit on names
    return replace(
        fn.with_overrides(memory_mb=memory_mb),
        name=name,
        provisioned_concurrency=0,
        architecture=architecture or fn.architecture,
    )
