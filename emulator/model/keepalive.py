"""Keep-alive policies: how long an idle execution environment stays loaded.

    fixed:10m          every idle environment lives 10 minutes (the emulator's default)
    range:5m,7m        a uniform draw per idle period, what is observed on AWS (LAMBDA_SPEC §5 ⚠)
    reaper:10m,1s      the emulator's rule: idle longer than 10 min, reclaimed at the next tick
                       of a reaper that runs every 1 s (`serve` reaps once a second)
    hybrid             the hybrid histogram policy of Shahrad et al., "Serverless in the Wild"
                       (USENIX ATC 2020), with the paper's parameters (below)

The hybrid policy keeps a histogram of the function's idle times (IT: from the end of its last
execution to the next invocation, recorded when nothing was running) with 1-minute bins over a
4-hour range. While the histogram is representative (enough samples, coefficient of variation
of the bin counts at least 2, few out-of-range ITs) an idle environment is unloaded at once and
re-loaded after a pre-warm window (the 5th percentile of the ITs, less a 10 % margin), then kept
for a keep-alive window ending at the 99th percentile plus 10 %. Otherwise it falls back to the
paper's standard keep-alive: no pre-warm, loaded for the whole range. The paper's ARIMA forecast
for functions whose ITs exceed the range is not modelled: they get the standard keep-alive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emulator.model.distributions import FloatArray, ModelInputError, parse_seconds


@dataclass(frozen=True, slots=True)
class FixedKeepAlive:
    seconds: float

    @property
    def max_s(self) -> float:
        return self.seconds

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.seconds, dtype=np.float64)

    def describe(self) -> str:
        return f"fixed {_human(self.seconds)}"


@dataclass(frozen=True, slots=True)
class RandomKeepAlive:
    low_s: float
    high_s: float

    @property
    def max_s(self) -> float:
        return self.high_s

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.uniform(self.low_s, self.high_s, n)

    def describe(self) -> str:
        return f"random {_human(self.low_s)}–{_human(self.high_s)} per idle period"


@dataclass(frozen=True, slots=True)
class ReaperKeepAlive:
    """Reclaimed at the first tick of a periodic reaper after `seconds` idle: every idle
    environment of a run shares the reaper's phase (drawn once per run), so lifetimes between
    `seconds` and `seconds + interval_s` are not independent draws."""

    seconds: float
    interval_s: float

    @property
    def max_s(self) -> float:
        return self.seconds + self.interval_s

    def draw(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.seconds, dtype=np.float64)

    def describe(self) -> str:
        return f"{_human(self.seconds)}, reaped every {_human(self.interval_s)}"


@dataclass(frozen=True, slots=True)
class HybridHistogramPolicy:
    """Parameters of the hybrid histogram policy (the paper's defaults)."""

    range_s: float = 4 * 3600.0
    bin_s: float = 60.0
    head_percentile: float = 5.0
    tail_percentile: float = 99.0
    margin: float = 0.10
    cv_threshold: float = 2.0
    min_samples: int = 10
    max_out_of_range: float = 0.5  # share of ITs beyond the range that disqualifies the histogram

    @property
    def max_s(self) -> float:
        return self.range_s * (1 + self.margin)

    def describe(self) -> str:
        return (
            f"hybrid histogram (range {_human(self.range_s)}, "
            f"p{self.head_percentile:g}/p{self.tail_percentile:g}, margin {self.margin:.0%})"
        )

    def state(self) -> HybridHistogramState:
        bins = max(1, math.ceil(self.range_s / self.bin_s))
        return HybridHistogramState(self, [0] * bins)


@dataclass(slots=True)
class HybridHistogramState:
    """The histogram of one function during a run. `windows()` is recomputed once the
    histogram has grown by 1 % since the last time (each time while it is small): the
    percentiles move by less than that, and a busy function records an idle time per arrival."""

    policy: HybridHistogramPolicy
    counts: list[int]
    total: int = 0
    out_of_range: int = 0
    _windows: tuple[float, float] | None = field(default=None)
    _computed_at: int = 0

    def observe(self, idle_s: float) -> None:
        index = int(idle_s // self.policy.bin_s)
        if index < len(self.counts):
            self.counts[index] += 1
        else:
            self.out_of_range += 1
        self.total += 1

    def windows(self) -> tuple[float, float]:
        """(pre-warm, keep-alive) in seconds: unloaded for the first, then loaded for the second."""
        stale = self.total - self._computed_at > self._computed_at // 100
        if self._windows is None or stale:
            self._windows = self._compute()
            self._computed_at = self.total
        return self._windows

    def _compute(self) -> tuple[float, float]:
        policy = self.policy
        standard = (0.0, policy.range_s)
        in_range = self.total - self.out_of_range
        if in_range < policy.min_samples or self.out_of_range > policy.max_out_of_range * max(
            1, self.total
        ):
            return standard
        counts = np.asarray(self.counts, dtype=np.float64)
        mean = counts.mean()
        if mean == 0 or counts.std() / mean < policy.cv_threshold:
            return standard
        cumulative = np.cumsum(counts) / in_range
        head_bin = int(np.searchsorted(cumulative, policy.head_percentile / 100.0))
        tail_bin = int(np.searchsorted(cumulative, policy.tail_percentile / 100.0))
        pre_warm = head_bin * policy.bin_s * (1 - policy.margin)
        loaded_until = (tail_bin + 1) * policy.bin_s * (1 + policy.margin)
        return pre_warm, max(policy.bin_s, loaded_until - pre_warm)


KeepAlivePolicy = FixedKeepAlive | RandomKeepAlive | ReaperKeepAlive | HybridHistogramPolicy


def parse_keep_alive(spec: str) -> KeepAlivePolicy:
    """`fixed:10m` (or a bare `10m`), `range:5m,7m`, `reaper:10m,1s`, `hybrid` or
    `hybrid:RANGE`."""
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "hybrid":
        return (
            HybridHistogramPolicy(range_s=parse_seconds(rest)) if rest else HybridHistogramPolicy()
        )
    if kind == "fixed" and rest:
        return FixedKeepAlive(parse_seconds(rest))
    if kind in ("range", "random") and rest.count(",") == 1:
        low, high = (parse_seconds(part) for part in rest.split(","))
        if high < low:
            raise ModelInputError(f"keep-alive range: {high} s is below {low} s")
        return RandomKeepAlive(low, high)
    if kind == "reaper" and rest.count(",") == 1:
        keep, interval = (parse_seconds(part) for part in rest.split(","))
        if interval <= 0:
            raise ModelInputError("reaper: the interval must be positive")
        return ReaperKeepAlive(keep, interval)
    if not rest:
        return FixedKeepAlive(parse_seconds(kind))
    raise ModelInputError(
        f"not a keep-alive policy: {spec!r} (fixed:10m, range:5m,7m, reaper:10m,1s, hybrid)"
    )


def _human(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
