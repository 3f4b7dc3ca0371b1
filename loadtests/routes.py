"""Per-route statistics of an HTTP load run, cold and warm told apart through the emulator's
trace (docs/trace-format.md), never through anything a deployed API would not send.

A client sees only the status, its latency and the API's request id (a response header AWS
sets). The emulator's trace has, for that request id, one `kind: "http"` record naming the
Lambda request ids it caused (the authorizer's, if it ran, then the integration's), and for each
of those an invocation record saying whether it was cold:

    record(RouteSample)          the client's side of one request (any process that sends)
    ingest(trace records)        the emulator's side (the process that reads the trace)
    summary() -> {route key: {...}}   what summary.json's `routes` holds
    RouteAggregate.lambda_stats       the route's own Lambda stats (its integration's REPORT
                                      facts, its 429s): the report's charts per route

Both sides can arrive first (the trace is flushed every second; workers report every few
seconds), so each waits for the other in a bounded buffer. Against a deployed API there is no
trace: every request still counts, with its latency and status, and `correlated` stays 0.

Pure and import-light (no locust, no gevent).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from emulator.metrics.report import Report
from loadtests.stats import Histogram, LambdaStats, Outcome

# What waits for its other half; beyond it the oldest is dropped (a run against a server that
# writes no trace, or a trace of other clients' requests, must not grow without bound).
MAX_PENDING = 200_000
ROUTE_PERCENTILES = (0.50, 0.90, 0.99)
MAX_READ_BYTES = 32 << 20  # per read of the trace: the rest waits for the next one


class RouteSample(NamedTuple):
    """One request as the client saw it."""

    route: str  # route key, "GET /items/{id}"
    api_request_id: str | None  # None: no answer, or no request id header
    latency_ms: float
    status: int  # 0: no answer (connection error)


@dataclass(frozen=True)
class Joined:
    """A request and what the trace says of it."""

    sample: RouteSample
    http: dict[str, Any]
    integration: dict[str, Any] | None  # the integration's invocation record
    authorizer: dict[str, Any] | None  # the authorizer's, when it was invoked (not cached)

    @property
    def cold(self) -> bool | None:
        return None if self.integration is None else bool(self.integration.get("cold"))


def _percentiles(h: Histogram, prefix: str = "", suffix: str = "_ms") -> dict[str, float | None]:
    return {f"{prefix}p{round(p * 100)}{suffix}": h.percentile(p) for p in ROUTE_PERCENTILES}


@dataclass
class RouteAggregate:
    """One route's counts and histograms (client latency; the authorizer's server-side time)."""

    requests: int = 0
    correlated: int = 0
    cold_starts: int = 0
    warm: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    latency_ms: Histogram = field(default_factory=Histogram)
    latency_cold_ms: Histogram = field(default_factory=Histogram)
    latency_warm_ms: Histogram = field(default_factory=Histogram)
    authorizer_ms: Histogram = field(default_factory=Histogram)
    authorizer_invoked: int = 0
    authorizer_cached: int = 0
    authorizer_cold_starts: int = 0
    functions: Counter[str] = field(default_factory=Counter)
    authorizers: Counter[str] = field(default_factory=Counter)
    # the integration's invocations of this route (cold/warm, Init Duration, memory, billed)
    # and its throttled requests, as the function's own LambdaStats: the route's charts
    lambda_stats: LambdaStats = field(default_factory=LambdaStats)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "function": self.functions.most_common(1)[0][0] if self.functions else None,
            "requests": self.requests,
            "correlated": self.correlated,
            "cold_starts": self.cold_starts,
            "warm": self.warm,
            "statuses": dict(sorted(self.statuses.items())),
        }
        out.update(_percentiles(self.latency_ms))
        out["mean_ms"] = (
            round(self.latency_ms.total / self.latency_ms.count, 3)
            if self.latency_ms.count
            else None
        )
        out["cold_ms"] = _percentiles(self.latency_cold_ms, suffix="")
        out["warm_ms"] = _percentiles(self.latency_warm_ms, suffix="")
        if self.authorizers:
            out["authorizer"] = {
                "function": self.authorizers.most_common(1)[0][0],
                "invoked": self.authorizer_invoked,
                "cached": self.authorizer_cached,
                "cold_starts": self.authorizer_cold_starts,
            }
            out.update(_percentiles(self.authorizer_ms, prefix="authorizer_ms_", suffix=""))
            # The authorizer's share of the latency of the correlated requests.
            correlated_total = self.latency_cold_ms.total + self.latency_warm_ms.total
            out["authorizer_share"] = (
                round(self.authorizer_ms.total / correlated_total, 4) if correlated_total else None
            )
        else:
            out["authorizer"] = None
        return out


class RouteStats:
    """Client samples joined with trace records, per route."""

    def __init__(self, *, correlate: bool = True) -> None:
        self.correlate = correlate
        self.routes: dict[str, RouteAggregate] = {}
        self._samples: dict[str, RouteSample] = {}
        self._http: dict[str, dict[str, Any]] = {}
        self._invocations: dict[str, dict[str, Any]] = {}
        self.dropped = 0

    def route(self, key: str) -> RouteAggregate:
        agg = self.routes.get(key)
        if agg is None:
            agg = self.routes[key] = RouteAggregate()
        return agg

    # --- the client's side ------------------------------------------------------------------

    def record(self, sample: RouteSample) -> None:
        agg = self.route(sample.route)
        agg.requests += 1
        agg.statuses[str(sample.status)] += 1
        agg.latency_ms.add(sample.latency_ms)
        if sample.status == THROTTLED:
            # no invocation ran: only the client knows (the second it is recorded here)
            agg.lambda_stats.record(Outcome.THROTTLE, sample.latency_ms)
        if self.correlate and sample.api_request_id:
            _put(self._samples, sample.api_request_id, sample)
            if len(self._samples) > MAX_PENDING:
                self.dropped += 1

    # --- the trace's side -------------------------------------------------------------------

    def ingest(self, records: Iterable[dict[str, Any]]) -> list[Joined]:
        """Take trace records; return the requests they complete (already counted here)."""
        for record in records:
            kind = record.get("kind", "invocation")
            if kind == "http":
                key = record.get("api_request_id")
                if key:
                    _put(self._http, str(key), record)
            elif kind == "invocation" and record.get("request_id"):
                _put(self._invocations, str(record["request_id"]), record)
        return self.join()

    def join(self, *, final: bool = False) -> list[Joined]:
        """Requests whose sample and http record are both here (and, unless `final`, the
        invocation records they name)."""
        done: list[Joined] = []
        for key in [k for k in self._samples if k in self._http]:
            http = self._http[key]
            ids = [str(i) for i in http.get("request_ids") or []]
            auth = http.get("authorizer") or {}
            auth_id = auth.get("request_id")
            integration_id = ids[-1] if ids and ids[-1] != auth_id else None
            needed = [i for i in (integration_id, auth_id) if i]
            if not final and any(i not in self._invocations for i in needed):
                continue
            sample = self._samples.pop(key)
            del self._http[key]
            joined = Joined(
                sample,
                http,
                self._invocations.pop(integration_id, None) if integration_id else None,
                self._invocations.pop(auth_id, None) if auth_id else None,
            )
            self._count(joined)
            done.append(joined)
        return done

    def _count(self, joined: Joined) -> None:
        agg = self.route(joined.sample.route)
        agg.correlated += 1
        if joined.http.get("function"):
            agg.functions[str(joined.http["function"])] += 1
        if joined.integration is not None:
            outcome, report, error, at = invocation_facts(joined.integration)
            agg.lambda_stats.record(outcome, joined.sample.latency_ms, report, error, at=at)
        cold = joined.cold
        if cold is True:
            agg.cold_starts += 1
            agg.latency_cold_ms.add(joined.sample.latency_ms)
        elif cold is False:
            agg.warm += 1
            agg.latency_warm_ms.add(joined.sample.latency_ms)
        auth = joined.http.get("authorizer")
        if auth:
            agg.authorizers[str(auth.get("function"))] += 1
            if auth.get("cached"):
                agg.authorizer_cached += 1
            elif auth.get("request_id"):
                agg.authorizer_invoked += 1
                if joined.authorizer is not None and joined.authorizer.get("cold"):
                    agg.authorizer_cold_starts += 1
            ms = joined.http.get("authorizer_ms")
            if isinstance(ms, int | float):
                agg.authorizer_ms.add(float(ms))

    @property
    def pending(self) -> int:
        return len(self._samples)

    def summary(self) -> dict[str, Any]:
        return {key: agg.summary() for key, agg in sorted(self.routes.items())}


def _put(store: dict[str, Any], key: str, value: Any) -> None:
    store[key] = value
    if len(store) > MAX_PENDING:
        del store[next(iter(store))]  # the oldest: dicts keep insertion order


THROTTLED = 429  # API Gateway's and Lambda's answer to a throttled request


def invocation_facts(
    record: dict[str, Any],
) -> tuple[Outcome, Report | None, str | None, float | None]:
    """What `LambdaStats.record` takes from an invocation record: its outcome (cold or warm
    from the REPORT it stands for), the REPORT, the error type, and when it ended."""
    report = report_of(record)
    outcome = {"success": Outcome.WARM, "function_error": Outcome.FUNCTION_ERROR}.get(
        str(record.get("outcome")), Outcome.ERROR
    )
    if outcome is Outcome.WARM and report is not None and report.cold:
        outcome = Outcome.COLD
    error = record.get("error_type") if outcome is not Outcome.WARM else None
    end = record.get("end")
    return outcome, report, error, float(end) if isinstance(end, int | float) else None


def report_of(record: dict[str, Any]) -> Report | None:
    """The REPORT an invocation record stands for (the Lambda stats of an HTTP run come from
    the trace: a client of an API never sees the REPORT line)."""
    try:
        return Report(
            request_id=str(record["request_id"]),
            duration_ms=float(record["duration_ms"]),
            billed_ms=int(record["billed_ms"]),
            memory_mb=int(record["memory_mb"]),
            max_memory_mb=int(record.get("max_memory_mb") or 0),
            init_ms=record.get("init_ms") if record.get("cold") else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


class TraceTail:
    """New complete lines of a JSONL file since the last read (the emulator appends; a line
    being written is left for the next read)."""

    def __init__(self, path: Path, *, from_end: bool = False) -> None:
        """`from_end`: skip what is already there (a long-running emulator's earlier traffic)."""
        self.path = path
        self._offset = 0
        self._rest = b""
        if from_end:
            with contextlib.suppress(OSError):
                self._offset = path.stat().st_size

    def read(self) -> Iterator[dict[str, Any]]:
        try:
            with self.path.open("rb") as fh:
                size = fh.seek(0, 2)
                if size < self._offset:  # replaced or truncated: start over
                    self._offset, self._rest = 0, b""
                fh.seek(self._offset)
                data = fh.read(MAX_READ_BYTES)
        except OSError:
            return
        self._offset += len(data)
        *lines, self._rest = (self._rest + data).split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def trace_routes(path: Path) -> dict[str, dict[str, Any]]:
    """The trace's own count per route (every HTTP request the emulator served, whoever sent
    it): requests, cold starts and warm of the integration, authorizer invoked/cached."""
    invocations: dict[str, bool] = {}
    http: list[dict[str, Any]] = []
    for record in TraceTail(path).read():
        if record.get("kind") == "http":
            http.append(record)
        elif record.get("request_id"):
            invocations[str(record["request_id"])] = bool(record.get("cold"))
    out: dict[str, dict[str, Any]] = {}
    for record in http:
        route = str(record.get("route"))
        row = out.setdefault(
            route,
            {"requests": 0, "cold_starts": 0, "warm": 0, "authorizer_invoked": 0,
             "authorizer_cached": 0},
        )  # fmt: skip
        row["requests"] += 1
        ids = record.get("request_ids") or []
        auth = record.get("authorizer") or {}
        if ids and ids[-1] != auth.get("request_id") and ids[-1] in invocations:
            row["cold_starts" if invocations[ids[-1]] else "warm"] += 1
        if auth.get("cached"):
            row["authorizer_cached"] += 1
        elif auth.get("request_id"):
            row["authorizer_invoked"] += 1
    return out
