"""Service-time and init-time distributions of the offline model, in seconds.

    fixed:120ms            every draw is 120 ms
    exp:120ms              exponential with mean 120 ms
    lognormal:120ms,0.5    lognormal with median 120 ms and shape sigma 0.5
    uniform:50ms,200ms     uniform between the two
    Empirical(values)      resampled with replacement from what a trace measured

Durations take `us`, `ms`, `s`, `m`, `h` (bare numbers are seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from emulator.errors import LambdaEmuError

FloatArray = npt.NDArray[np.float64]

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


class ModelInputError(LambdaEmuError):
    """An input of the model (distribution, traffic, keep-alive or trace) that cannot be used."""


def parse_seconds(text: str) -> float:
    """`120ms`, `1.5s`, `10m`, `2h` or a bare number of seconds."""
    value = text.strip().lower()
    for unit in sorted(_UNITS, key=len, reverse=True):
        if value.endswith(unit):
            number = value[: -len(unit)]
            scale = _UNITS[unit]
            break
    else:
        number, scale = value, 1.0
    try:
        seconds = float(number) * scale
    except ValueError:
        raise ModelInputError(f"not a duration: {text!r} (try 120ms, 1.5s, 10m)") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise ModelInputError(f"a duration must be finite and non-negative: {text!r}")
    return seconds


class Distribution(Protocol):
    """Something that draws non-negative durations in seconds."""

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray: ...

    @property
    def mean(self) -> float: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Fixed:
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return np.full(n, self.value, dtype=np.float64)

    @property
    def mean(self) -> float:
        return self.value

    def describe(self) -> str:
        return f"fixed {self.value * 1000:g} ms"


@dataclass(frozen=True, slots=True)
class Exponential:
    mean_s: float

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.exponential(self.mean_s, n)

    @property
    def mean(self) -> float:
        return self.mean_s

    def describe(self) -> str:
        return f"exponential, mean {self.mean_s * 1000:g} ms"


@dataclass(frozen=True, slots=True)
class LogNormal:
    median_s: float
    sigma: float

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.lognormal(math.log(self.median_s), self.sigma, n)

    @property
    def mean(self) -> float:
        return self.median_s * math.exp(self.sigma**2 / 2)

    def describe(self) -> str:
        return f"lognormal, median {self.median_s * 1000:g} ms, sigma {self.sigma:g}"


@dataclass(frozen=True, slots=True)
class Uniform:
    low_s: float
    high_s: float

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.uniform(self.low_s, self.high_s, n)

    @property
    def mean(self) -> float:
        return (self.low_s + self.high_s) / 2

    def describe(self) -> str:
        return f"uniform {self.low_s * 1000:g}–{self.high_s * 1000:g} ms"


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resampling of measured values (seconds), e.g. the Durations of a trace."""

    values: tuple[float, ...]
    source: str = "trace"

    def __post_init__(self) -> None:
        if not self.values:
            raise ModelInputError(f"no measured values to resample ({self.source})")

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.choice(np.asarray(self.values, dtype=np.float64), n, replace=True)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def describe(self) -> str:
        values = np.asarray(self.values)
        return (
            f"empirical from {self.source}: {len(values)} values, "
            f"median {float(np.median(values)) * 1000:.1f} ms, mean {self.mean * 1000:.1f} ms"
        )


def parse_distribution(spec: str) -> Distribution:
    """`fixed:D`, `exp:MEAN`, `lognormal:MEDIAN,SIGMA`, `uniform:LOW,HIGH`, or a bare duration
    (fixed)."""
    kind, _, rest = spec.partition(":")
    kind = kind.strip().lower()
    args = [part for part in rest.split(",") if part.strip()] if rest else []
    try:
        if not rest:
            return Fixed(parse_seconds(kind))
        if kind == "fixed" and len(args) == 1:
            return Fixed(parse_seconds(args[0]))
        if kind in ("exp", "exponential") and len(args) == 1:
            return Exponential(parse_seconds(args[0]))
        if kind == "lognormal" and len(args) == 2:
            return LogNormal(parse_seconds(args[0]), float(args[1]))
        if kind == "uniform" and len(args) == 2:
            low, high = parse_seconds(args[0]), parse_seconds(args[1])
            if high < low:
                raise ModelInputError(f"uniform: {args[1]} is below {args[0]}")
            return Uniform(low, high)
    except ValueError:
        pass
    raise ModelInputError(
        f"not a distribution: {spec!r} (fixed:120ms, exp:120ms, lognormal:120ms,0.5, "
        "uniform:50ms,200ms)"
    )
