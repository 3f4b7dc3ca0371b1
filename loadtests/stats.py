"""Lambda statistics of a load run: what Locust's own stats do not know.

Locust counts requests and client latency; a Lambda load run also wants to know which
invocations were cold, their Init Duration, Max Memory Used, throttles and what the run would
cost. `LambdaStats` collects that from each invocation's REPORT line (or from its absence):

    record(outcome, latency_ms, report)   one invocation, on the process that sent it
    record_stream(target, ttfb, ttlb, n, cold)  a streamed response's first and last byte, per
                                      target (TTFB also cold/warm where the REPORT says)
    serialize() -> dict                   the counts since the last call (a worker's report)
    merge(dict)                           add a worker's report (on the master)

Histograms keep values rounded to three significant digits, as Locust's response-time buckets
do, so a long run stays small in memory and in the worker → master messages.

Pure and import-light (no locust, no gevent): the pytest process and the CLI import it.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from emulator.metrics.report import Report

PERCENTILES = (0.50, 0.95, 0.99)


class Outcome(StrEnum):
    """How an invocation ended, as the harness names it in Locust's request event."""

    COLD = "cold"  # REPORT carries Init Duration: this invocation initialised its environment
    WARM = "warm"
    INVOKED = "invoked"  # answered, but no REPORT in the log tail (extensions, or no tail)
    FUNCTION_ERROR = "function error"  # 200 with X-Amz-Function-Error
    THROTTLE = "throttle"  # 429 TooManyRequestsException: Lambda's answer at a concurrency limit
    ERROR = "error"  # any other failure: 4xx/5xx from the service, connection errors


def _bucket(value: float) -> float:
    """Three significant digits: 0.0123, 1.23, 123, 1230."""
    if value <= 0 or not math.isfinite(value):
        return 0.0
    digits = 3 - math.floor(math.log10(value)) - 1
    return float(round(value, digits))


@dataclass
class Histogram:
    """Counts of values rounded to three significant digits; percentiles from the buckets."""

    counts: Counter[float] = field(default_factory=Counter)
    total: float = 0.0  # exact sum, for the mean

    def add(self, value: float) -> None:
        self.counts[_bucket(value)] += 1
        self.total += value

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def percentile(self, fraction: float) -> float | None:
        """The smallest bucket at or below which `fraction` of the values lie."""
        n = self.count
        if n == 0:
            return None
        rank = max(1, math.ceil(fraction * n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return max(self.counts)

    def summary(self) -> dict[str, float | int | None]:
        n = self.count
        out: dict[str, float | int | None] = {"count": n}
        for p in PERCENTILES:
            out[f"p{round(p * 100)}"] = self.percentile(p)
        out["mean"] = round(self.total / n, 3) if n else None
        out["max"] = max(self.counts) if n else None
        return out

    def serialize(self) -> dict[str, Any]:
        return {"counts": [[v, c] for v, c in sorted(self.counts.items())], "total": self.total}

    def merge(self, data: dict[str, Any]) -> None:
        for value, count in data["counts"]:
            self.counts[float(value)] += int(count)
        self.total += float(data["total"])


@dataclass
class StreamStats:
    """The streamed responses of one target (InvokeWithResponseStream, a function URL): time
    to first byte, time to last byte, bytes."""

    ttfb_ms: Histogram = field(default_factory=Histogram)
    ttlb_ms: Histogram = field(default_factory=Histogram)
    payload_bytes: Histogram = field(default_factory=Histogram)
    # the same first bytes split by the REPORT's cold start, where the call returned one
    # (InvokeWithResponseStream; a function URL answers none)
    ttfb_cold_ms: Histogram = field(default_factory=Histogram)
    ttfb_warm_ms: Histogram = field(default_factory=Histogram)

    def record(
        self, ttfb_ms: float, ttlb_ms: float, payload_bytes: int, cold: bool | None = None
    ) -> None:
        self.ttfb_ms.add(ttfb_ms)
        self.ttlb_ms.add(ttlb_ms)
        self.payload_bytes.add(payload_bytes)
        if cold is not None:
            (self.ttfb_cold_ms if cold else self.ttfb_warm_ms).add(ttfb_ms)

    def serialize(self) -> dict[str, Any]:
        return {
            "ttfb_ms": self.ttfb_ms.serialize(),
            "ttlb_ms": self.ttlb_ms.serialize(),
            "payload_bytes": self.payload_bytes.serialize(),
            "ttfb_cold_ms": self.ttfb_cold_ms.serialize(),
            "ttfb_warm_ms": self.ttfb_warm_ms.serialize(),
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.ttfb_ms.merge(data["ttfb_ms"])
        self.ttlb_ms.merge(data["ttlb_ms"])
        self.payload_bytes.merge(data["payload_bytes"])
        self.ttfb_cold_ms.merge(data["ttfb_cold_ms"])
        self.ttfb_warm_ms.merge(data["ttfb_warm_ms"])


_HISTOGRAMS = (
    "init_ms",
    "latency_cold_ms",
    "latency_warm_ms",
    "duration_ms",
    "billed_ms",
    "max_memory_mb",
)


@dataclass
class LambdaStats:
    """Per-invocation facts of one function's load run, mergeable across Locust workers."""

    outcomes: Counter[str] = field(default_factory=Counter)
    error_types: Counter[str] = field(default_factory=Counter)
    init_ms: Histogram = field(default_factory=Histogram)
    latency_cold_ms: Histogram = field(default_factory=Histogram)  # client-side, cold starts
    latency_warm_ms: Histogram = field(default_factory=Histogram)
    duration_ms: Histogram = field(default_factory=Histogram)  # REPORT Duration
    billed_ms: Histogram = field(default_factory=Histogram)
    max_memory_mb: Histogram = field(default_factory=Histogram)
    memory_mb: int = 0  # Memory Size of the last REPORT seen
    # (epoch second, outcome) → invocations that ended in that second: the charts over time
    per_second: Counter[tuple[int, str]] = field(default_factory=Counter)
    # X-Amz-Executed-Version → invocations, and cold starts: an alias's weighted split
    versions: Counter[str] = field(default_factory=Counter)
    versions_cold: Counter[str] = field(default_factory=Counter)
    # streamed responses, by target (loadtests.streaming: "invoke_stream", "function_url")
    streams: dict[str, StreamStats] = field(default_factory=dict)

    def record_stream(
        self,
        target: str,
        ttfb_ms: float,
        ttlb_ms: float,
        payload_bytes: int,
        cold: bool | None = None,
    ) -> None:
        stream = self.streams.setdefault(target, StreamStats())
        stream.record(ttfb_ms, ttlb_ms, payload_bytes, cold)

    def record(
        self,
        outcome: Outcome,
        latency_ms: float,
        report: Report | None = None,
        error_type: str | None = None,
        at: float | None = None,
        executed_version: str | None = None,
    ) -> None:
        self.outcomes[outcome.value] += 1
        if executed_version is not None:
            self.versions[executed_version] += 1
            if report is not None and report.init_ms is not None:
                self.versions_cold[executed_version] += 1
        self.per_second[(int(time.time() if at is None else at), outcome.value)] += 1
        if error_type:
            self.error_types[error_type] += 1
        if report is None:
            return
        if report.init_ms is not None:
            self.init_ms.add(report.init_ms)
            self.latency_cold_ms.add(latency_ms)
        else:
            self.latency_warm_ms.add(latency_ms)
        self.duration_ms.add(report.duration_ms)
        self.billed_ms.add(report.billed_ms)
        self.max_memory_mb.add(report.max_memory_mb)
        self.memory_mb = report.memory_mb or self.memory_mb

    @property
    def invocations(self) -> int:
        return sum(self.outcomes.values())

    @property
    def cold_starts(self) -> int:
        """Cold starts seen in REPORT lines (function errors on a cold start count too)."""
        return self.init_ms.count

    @property
    def reported(self) -> int:
        return self.billed_ms.count

    def serialize(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "outcomes": dict(self.outcomes),
            "error_types": dict(self.error_types),
            "memory_mb": self.memory_mb,
            "per_second": [[t, o, n] for (t, o), n in sorted(self.per_second.items())],
            "versions": dict(self.versions),
            "versions_cold": dict(self.versions_cold),
            "streams": {t: s.serialize() for t, s in sorted(self.streams.items())},
        }
        for name in _HISTOGRAMS:
            data[name] = getattr(self, name).serialize()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        self.outcomes.update(data["outcomes"])
        self.error_types.update(data["error_types"])
        self.memory_mb = int(data["memory_mb"]) or self.memory_mb
        self.versions.update(data.get("versions", {}))
        self.versions_cold.update(data.get("versions_cold", {}))
        for t, outcome, n in data.get("per_second", []):
            self.per_second[(int(t), str(outcome))] += int(n)
        for name in _HISTOGRAMS:
            getattr(self, name).merge(data[name])
        for target, stream in data.get("streams", {}).items():
            self.streams.setdefault(target, StreamStats()).merge(stream)

    def take(self) -> dict[str, Any]:
        """`serialize()` and start over: what a worker sends with each report."""
        data = self.serialize()
        fresh = LambdaStats()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))
        return data
