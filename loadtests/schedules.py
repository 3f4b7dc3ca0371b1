"""Load shapes as pure schedules: seconds since start → (users, spawn rate), or None to stop.

    steady                          --users at --spawn-rate for the whole run
    step[:steps=4,every=10]         users rise in `steps` equal steps, one every `every` s
    spike[:at=3,hold=10,base=1]     `base` users, then a burst to --users within one second
                                    (spawn rate = --users): Lambda's scale-out, and its 429s
                                    where concurrency is limited; back to `base` after `hold` s
    diurnal[:period=60,min=1]       a day compressed into `period` s: users follow
                                    min + (users - min) · (1 - cos 2πt/period) / 2
    replay:TRACE.jsonl[,speed=1,function=NAME]
                                    the arrival times of a recorded trace (`accepted_at` of
                                    each record, docs/trace-format.md), `speed` times faster;
                                    users = the trace's peak concurrency, each waits for the
                                    next arrival (see `Arrivals`)

`parse_shape(spec, users, spawn_rate)` builds one. Pure: the Locust shape class in
`loadtests.shapes` only asks it for ticks.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from emulator.metrics.trace import TraceFormatError, read_records

Tick = tuple[int, float] | None

SHAPES = ("steady", "step", "spike", "diurnal", "replay")


class ShapeError(ValueError):
    """A shape spec that cannot be used. `str()` is the one-line message."""


class Schedule(Protocol):
    def tick(self, t: float) -> Tick: ...


@dataclass(frozen=True)
class Steady:
    users: int
    spawn_rate: float

    def tick(self, t: float) -> Tick:
        return self.users, self.spawn_rate


@dataclass(frozen=True)
class Step:
    users: int
    spawn_rate: float
    steps: int = 4
    every_s: float = 10.0

    def tick(self, t: float) -> Tick:
        step = min(self.steps, int(t // self.every_s) + 1)
        return max(1, math.ceil(self.users * step / self.steps)), self.spawn_rate


@dataclass(frozen=True)
class Spike:
    users: int
    base: int = 1
    at_s: float = 3.0
    hold_s: float = 10.0

    def tick(self, t: float) -> Tick:
        if self.at_s <= t < self.at_s + self.hold_s:
            # All of them within one second: the burst that meets Lambda's scaling limits.
            return self.users, float(self.users)
        return self.base, float(max(self.users, 1))


@dataclass(frozen=True)
class Diurnal:
    users: int
    spawn_rate: float
    period_s: float = 60.0
    minimum: int = 1

    def tick(self, t: float) -> Tick:
        phase = (1.0 - math.cos(2.0 * math.pi * t / self.period_s)) / 2.0
        return round(self.minimum + (self.users - self.minimum) * phase), self.spawn_rate


@dataclass(frozen=True)
class Replay:
    """Arrival offsets (s from the first arrival, already divided by the speed)."""

    offsets: tuple[float, ...]
    users: int
    tail_s: float  # after the last arrival: time for the slowest invocation to finish

    def tick(self, t: float) -> Tick:
        if not self.offsets or t > self.offsets[-1] + self.tail_s:
            return None
        return self.users, float(self.users)


def read_trace(path: Path, *, function: str | None = None, speed: float = 1.0) -> Replay:
    """A `Replay` of the trace's arrivals; users = peak in-flight invocations, plus slack for
    the client's own latency."""
    if speed <= 0:
        raise ShapeError(f"replay: speed must be > 0, got {speed}")
    spans: list[tuple[float, float]] = []
    try:
        for record in read_records(path):
            if function is not None and record.get("function") != function:
                continue
            try:
                spans.append((float(record["accepted_at"]), float(record["end"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ShapeError(f"{path}: not a trace record ({exc})") from None
    except TraceFormatError as exc:
        raise ShapeError(f"replay: {exc}") from None
    if not spans:
        raise ShapeError(
            f"replay: {path} has no invocations" + (f" of {function}" if function else "")
        )
    spans.sort()
    first = spans[0][0]
    offsets = tuple((start - first) / speed for start, _ in spans)
    peak = _peak_concurrency(spans)
    longest = max(end - start for start, end in spans) / speed
    return Replay(offsets, users=peak + max(1, peak // 4), tail_s=longest + 1.0)


def _peak_concurrency(spans: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(max(e, s), -1) for s, e in spans])
    peak = level = 0
    for _, change in edges:
        level += change
        peak = max(peak, level)
    return max(1, peak)


class Arrivals:
    """The replay's arrival times, handed out one by one to the users of this process.

    With N Locust workers, worker i takes arrivals i, i+N, i+2N, …: together they replay the
    whole trace. Single-threaded use only (gevent greenlets)."""

    def __init__(self, offsets: tuple[float, ...], *, worker_index: int = 0, workers: int = 1):
        self._offsets: Iterator[float] = iter(offsets[worker_index :: max(1, workers)])
        self.started_at: float | None = None

    def start(self, now: float) -> None:
        self.started_at = now

    def wait(self, now: float) -> float | None:
        """Seconds until this user's next invocation is due; None when the trace is done."""
        if self.started_at is None:
            self.started_at = now
        offset = next(self._offsets, None)
        if offset is None:
            return None
        return max(0.0, self.started_at + offset - now)


def _options(text: str, allowed: set[str], shape: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or key not in allowed:
            raise ShapeError(
                f"shape {shape}: unknown option {part!r} (known: {', '.join(sorted(allowed))})"
            )
        options[key] = value
    return options


def _number(options: dict[str, str], key: str, default: float, shape: str) -> float:
    if key not in options:
        return default
    try:
        value = float(options[key])
    except ValueError:
        raise ShapeError(f"shape {shape}: {key} must be a number, got {options[key]!r}") from None
    if value < 0 or not math.isfinite(value):
        raise ShapeError(f"shape {shape}: {key} must be >= 0, got {options[key]!r}")
    return value


def parse_shape(spec: str, users: int, spawn_rate: float) -> Schedule:
    name, _, rest = spec.strip().partition(":")
    if name == "steady":
        _options(rest, set(), name)
        return Steady(users, spawn_rate)
    if name == "step":
        opts = _options(rest, {"steps", "every"}, name)
        steps = max(1, int(_number(opts, "steps", 4, name)))
        return Step(users, spawn_rate, steps, _number(opts, "every", 10.0, name) or 10.0)
    if name == "spike":
        opts = _options(rest, {"at", "hold", "base"}, name)
        return Spike(
            users,
            base=int(_number(opts, "base", 1, name)),
            at_s=_number(opts, "at", 3.0, name),
            hold_s=_number(opts, "hold", 10.0, name),
        )
    if name == "diurnal":
        opts = _options(rest, {"period", "min"}, name)
        period = _number(opts, "period", 60.0, name) or 60.0
        return Diurnal(users, spawn_rate, period, int(_number(opts, "min", 1, name)))
    if name == "replay":
        path, _, extra = rest.partition(",")
        if not path:
            raise ShapeError("shape replay: needs a trace, as replay:PATH.jsonl")
        opts = _options(extra, {"speed", "function"}, name)
        return read_trace(
            Path(path),
            function=opts.get("function"),
            speed=_number(opts, "speed", 1.0, name) or 1.0,
        )
    raise ShapeError(f"unknown shape {name!r} (known: {', '.join(SHAPES)})")
