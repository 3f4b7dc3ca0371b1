"""Arrival processes of the offline model: sorted arrival times in seconds from 0.

poisson:20/s                 Poisson arrivals, 20 per second (also /m, /h)
deterministic:20/s           one every 50 ms
onoff:50/s,30s,90s           Poisson at 50/s during ON periods (mean 30 s), silent during OFF
                             periods (mean 90 s); both exponential
mmpp:50/s,2/s,60s,300s       two-state Markov-modulated Poisson process: rates and mean
                             sojourn times of each state
diurnal:20/s,0.8             Poisson with a daily sinusoidal rate: mean 20/s, ±80 %,
                             trough at midnight (optionally a third argument: the period)
replay[:PATH]                the arrival times of a trace (JSONL `accepted_at`), or of a text
                             or CSV file with one epoch-seconds timestamp per line (Locust's
                             request times exported that way)
azure:PATH[,ROW|HASH]        the Azure Functions 2019 trace's per-minute invocation counts
                             (invocations_per_function_md.anon.dNN.csv): one row (index or
                             HashFunction), or every row summed; arrivals uniform within
                             each minute
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from emulator.model.distributions import FloatArray, ModelInputError, parse_seconds

_RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 1 / 60, "min": 1 / 60, "h": 1 / 3600}
AZURE_MINUTES_PER_DAY = 1440


def parse_rate(text: str) -> float:
    """`20/s`, `300/m`, `5/h`, `1/537s` (one per 537 s, any duration `parse_seconds` reads),
    or a bare number per second."""
    number, _, unit = text.strip().partition("/")
    unit = unit.strip().lower() or "s"
    try:
        if unit in _RATE_UNITS:
            rate = float(number) * _RATE_UNITS[unit]
        else:
            per_s = parse_seconds(unit if unit[0].isdigit() else f"1{unit}")
            rate = float(number) / per_s if per_s > 0 else math.inf
    except (ModelInputError, ValueError, IndexError):
        raise ModelInputError(f"not a rate: {text!r} (try 20/s, 300/m, 1/537s)") from None
    if not math.isfinite(rate) or rate < 0:
        raise ModelInputError(f"a rate must be finite and non-negative: {text!r}")
    return rate


@dataclass(frozen=True, slots=True)
class Poisson:
    rate: float

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        return _poisson(rng, self.rate, 0.0, duration_s)

    def describe(self) -> str:
        return f"Poisson {self.rate:g}/s"


@dataclass(frozen=True, slots=True)
class Deterministic:
    rate: float

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        if self.rate <= 0:
            return np.empty(0)
        return np.arange(0.0, duration_s, 1.0 / self.rate)

    def describe(self) -> str:
        return f"deterministic {self.rate:g}/s"


@dataclass(frozen=True, slots=True)
class MMPP:
    """Markov-modulated Poisson process: state k lasts Exp(mean sojourns[k]) and emits Poisson
    arrivals at rates[k]; states are visited in turn (two states: on/off when one rate is 0)."""

    rates: tuple[float, ...]
    sojourns_s: tuple[float, ...]

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        chunks: list[FloatArray] = []
        t, state = 0.0, 0
        while t < duration_s:
            stay = rng.exponential(self.sojourns_s[state])
            end = min(duration_s, t + stay)
            chunks.append(_poisson(rng, self.rates[state], t, end))
            t, state = end, (state + 1) % len(self.rates)
        return np.concatenate(chunks) if chunks else np.empty(0)

    def describe(self) -> str:
        parts = ", ".join(
            f"{r:g}/s for ~{s:g} s" for r, s in zip(self.rates, self.sojourns_s, strict=True)
        )
        return f"MMPP ({parts})"


@dataclass(frozen=True, slots=True)
class Diurnal:
    """Poisson with rate mean × (1 − amplitude × cos(2π t / period)): lowest at t = 0."""

    mean_rate: float
    amplitude: float
    period_s: float = 86400.0

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        peak = self.mean_rate * (1 + abs(self.amplitude))
        candidates = _poisson(rng, peak, 0.0, duration_s)
        rate = self.mean_rate * (
            1 - self.amplitude * np.cos(2 * math.pi * candidates / self.period_s)
        )
        keep = rng.random(len(candidates)) * peak < rate
        kept: FloatArray = candidates[keep]
        return kept

    def describe(self) -> str:
        return (
            f"diurnal Poisson, mean {self.mean_rate:g}/s ±{self.amplitude:.0%} "
            f"over {self.period_s:g} s"
        )


@dataclass(frozen=True, slots=True)
class Replay:
    """Recorded arrival times, shifted to start at 0, cut to the run's length."""

    times: tuple[float, ...]
    source: str

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        base: FloatArray = np.sort(np.asarray(self.times, dtype=np.float64))
        if len(base):
            base = base - base[0]
            base = base[base <= duration_s]
        return base

    @property
    def span_s(self) -> float:
        return max(self.times) - min(self.times) if self.times else 0.0

    def describe(self) -> str:
        return f"replay of {len(self.times)} arrivals from {self.source}"


@dataclass(frozen=True, slots=True)
class MinuteCounts:
    """Invocations per minute (the Azure Functions 2019 trace); uniform within each minute."""

    counts: tuple[int, ...]
    source: str

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        counts = np.asarray(self.counts, dtype=np.int64)
        starts = np.repeat(np.arange(len(counts), dtype=np.float64) * 60.0, counts)
        times = np.sort(starts + rng.random(len(starts)) * 60.0)
        return times[times <= duration_s]

    @property
    def span_s(self) -> float:
        return len(self.counts) * 60.0

    def describe(self) -> str:
        return f"{sum(self.counts)} invocations over {len(self.counts)} minutes from {self.source}"


@dataclass(frozen=True, slots=True)
class BinnedCounts:
    """Invocation counts per interval (`edges` in seconds from the start, one more than
    `counts`); arrivals uniform within each interval."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    source: str

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        edges = np.asarray(self.edges, dtype=np.float64)
        counts = np.asarray(self.counts, dtype=np.int64)
        starts = np.repeat(edges[:-1], counts)
        widths = np.repeat(np.diff(edges), counts)
        times = np.sort(starts + rng.random(len(starts)) * widths)
        kept: FloatArray = times[times <= duration_s]
        return kept

    @property
    def span_s(self) -> float:
        return self.edges[-1] - self.edges[0] if self.edges else 0.0

    def describe(self) -> str:
        return f"{sum(self.counts)} requests over {self.span_s:g} s from {self.source}"


@dataclass(frozen=True, slots=True)
class ManyFunctions:
    """Several functions' traffic (the rows of an Azure file), simulated one by one with the
    same service times and merged: each function has its own environments."""

    functions: tuple[MinuteCounts, ...]
    source: str

    @property
    def span_s(self) -> float:
        return max((f.span_s for f in self.functions), default=0.0)

    def arrivals(self, rng: np.random.Generator, duration_s: float) -> FloatArray:
        """Every function's arrivals together (as one function would see them)."""
        return np.sort(np.concatenate([f.arrivals(rng, duration_s) for f in self.functions]))

    def describe(self) -> str:
        total = sum(sum(f.counts) for f in self.functions)
        return f"{len(self.functions)} functions, {total} invocations, from {self.source}"


SingleTraffic = Poisson | Deterministic | MMPP | Diurnal | Replay | MinuteCounts | BinnedCounts
Traffic = SingleTraffic | ManyFunctions


def parse_traffic(spec: str, *, trace: Path | None = None, function: str | None = None) -> Traffic:
    kind, _, rest = spec.strip().partition(":")
    kind = kind.lower()
    args = [a.strip() for a in rest.split(",")] if rest else []
    if kind == "poisson" and len(args) == 1:
        return Poisson(parse_rate(args[0]))
    if kind in ("deterministic", "constant") and len(args) == 1:
        return Deterministic(parse_rate(args[0]))
    if kind == "onoff" and len(args) == 3:
        return MMPP((parse_rate(args[0]), 0.0), (parse_seconds(args[1]), parse_seconds(args[2])))
    if kind == "mmpp" and len(args) >= 4 and len(args) % 2 == 0:
        half = len(args) // 2
        return MMPP(
            tuple(parse_rate(a) for a in args[:half]),
            tuple(parse_seconds(a) for a in args[half:]),
        )
    if kind == "diurnal" and len(args) in (2, 3):
        period = parse_seconds(args[2]) if len(args) == 3 else 86400.0
        return Diurnal(parse_rate(args[0]), float(args[1]), period)
    if kind == "replay":
        path = Path(rest) if rest else trace
        if path is None:
            raise ModelInputError("replay needs a file: replay:PATH, or a trace argument")
        return Replay(tuple(read_arrival_times(path, function=function)), str(path))
    if kind == "locust" and rest:
        return read_locust_history(Path(rest))
    if kind == "azure" and args:
        path = Path(args[0])
        if len(args) == 1:
            return ManyFunctions(read_azure_rows(path), path.name)
        if args[1] == "sum":
            return read_azure_minute_counts(path)
        return read_azure_minute_counts(path, args[1])
    raise ModelInputError(
        f"not a traffic description: {spec!r} (poisson:20/s, deterministic:5/s, "
        "onoff:50/s,30s,90s, mmpp:50/s,2/s,60s,300s, diurnal:20/s,0.8, replay[:PATH], "
        "locust:PATH_stats_history.csv, "
        "azure:PATH[,ROW|sum])"
    )


def read_arrival_times(path: Path, *, function: str | None = None) -> list[float]:
    """Arrival times (epoch seconds) from a trace JSONL (`accepted_at`, optionally of one
    function), or a text/CSV file whose first numeric column is a timestamp per line."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ModelInputError(f"{path}: {exc.strerror}") from exc
    times: list[float] = []
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text.startswith("{"):
            record = json.loads(text)
            if function is None or record.get("function") == function:
                times.append(float(record.get("accepted_at", record.get("start"))))
            continue
        first = text.split(",")[0].strip()
        try:
            times.append(float(first))
        except ValueError:
            continue  # a header
    if not times:
        raise ModelInputError(f"{path}: no arrival times")
    return times


def read_locust_history(path: Path) -> BinnedCounts:
    """Requests per interval from Locust's `<prefix>_stats_history.csv`: the cumulative
    `Total Request Count` of the `Aggregated` rows, one a second (epoch `Timestamp`)."""
    try:
        with path.open(newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r.get("Name") == "Aggregated"]
    except OSError as exc:
        raise ModelInputError(f"{path}: {exc.strerror}") from exc
    try:
        points = sorted((float(r["Timestamp"]), int(float(r["Total Request Count"]))) for r in rows)
    except (KeyError, ValueError) as exc:
        raise ModelInputError(f"{path}: not a Locust stats history CSV ({exc})") from exc
    if len(points) < 2:
        raise ModelInputError(f"{path}: fewer than two Aggregated rows")
    start = points[0][0] - 1.0  # the first row counts the requests of the second before it
    edges = [0.0] + [t - start for t, _ in points]
    totals = [0] + [total for _, total in points]
    counts = [max(0, b - a) for a, b in pairwise(totals)]
    return BinnedCounts(tuple(edges), tuple(counts), path.name)


def read_azure_rows(path: Path) -> tuple[MinuteCounts, ...]:
    """Every row of an Azure Functions 2019 per-minute file, each labelled by HashFunction."""
    header, rows = _read_azure(path)
    minute_columns = [i for i, name in enumerate(header) if name.strip().isdigit()]
    hash_column = header.index("HashFunction") if "HashFunction" in header else None
    out = []
    for index, r in enumerate(rows):
        counts = tuple(int(float(r[i] or 0)) for i in minute_columns)
        label = r[hash_column] if hash_column is not None else f"row {index}"
        out.append(MinuteCounts(counts, f"{path.name} {label}"))
    return tuple(out)


def _read_azure(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
    except (OSError, StopIteration) as exc:
        raise ModelInputError(f"{path}: not an Azure per-minute invocation CSV") from exc
    if not any(name.strip().isdigit() for name in header) or not rows:
        raise ModelInputError(f"{path}: no minute columns (1 … 1440) or no rows")
    return header, rows


def read_azure_minute_counts(path: Path, row: str | None = None) -> MinuteCounts:
    """One row (an index, or a HashFunction) of the Azure Functions 2019 per-minute counts, or
    the sum of every row. Columns: HashOwner, HashApp, HashFunction, Trigger, 1 … 1440."""
    try:
        with path.open(newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
    except (OSError, StopIteration) as exc:
        raise ModelInputError(f"{path}: not an Azure per-minute invocation CSV") from exc
    minute_columns = [i for i, name in enumerate(header) if name.strip().isdigit()]
    if not minute_columns or not rows:
        raise ModelInputError(f"{path}: no minute columns (1 … 1440) or no rows")
    hash_column = header.index("HashFunction") if "HashFunction" in header else None
    if row is not None:
        if row.isdigit() and int(row) < len(rows):
            chosen = [rows[int(row)]]
        else:
            chosen = [r for r in rows if hash_column is not None and r[hash_column] == row]
        if not chosen:
            raise ModelInputError(f"{path}: no row {row!r}")
    else:
        chosen = rows
    counts = np.zeros(len(minute_columns), dtype=np.int64)
    for r in chosen:
        counts += np.asarray([int(float(r[i] or 0)) for i in minute_columns], dtype=np.int64)
    label = f"{path.name}" + (f" row {row}" if row is not None else f" ({len(chosen)} rows)")
    return MinuteCounts(tuple(int(c) for c in counts), label)


def _poisson(rng: np.random.Generator, rate: float, start: float, end: float) -> FloatArray:
    if rate <= 0 or end <= start:
        return np.empty(0)
    count = rng.poisson(rate * (end - start))
    return np.sort(start + rng.random(count) * (end - start))
