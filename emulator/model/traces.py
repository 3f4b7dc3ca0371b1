"""Service and init times fitted from trace files written by `serve` and `load`
(docs/trace-format.md): empirical distributions, per function and memory size.

Durations come from successful invocations (warm and cold: Duration excludes init), Init
Durations from the cold starts. A trace with no cold start has no init distribution; the caller
then needs `--init`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from emulator.metrics.trace import TraceFormatError, read_records
from emulator.model.distributions import Distribution, Empirical, ModelInputError


@dataclass(frozen=True, slots=True)
class TraceRecord:
    function: str
    memory_mb: int
    cold: bool
    init_ms: float | None
    duration_ms: float
    accepted_at: float
    outcome: str


@dataclass(frozen=True)
class ServiceModel:
    """What one invocation costs in time: Duration, and Init Duration when it is a cold start."""

    duration: Distribution
    init: Distribution
    memory_mb: int = 128
    function: str = ""


@dataclass(frozen=True)
class TraceFit:
    """A trace reduced to one function at one memory size."""

    function: str
    memory_mb: int
    records: tuple[TraceRecord, ...]
    duration: Empirical
    init: Empirical | None

    @property
    def cold_starts(self) -> int:
        return sum(1 for r in self.records if r.cold)

    @property
    def arrival_times(self) -> list[float]:
        return [r.accepted_at for r in self.records]


def read_trace(*paths: Path) -> list[TraceRecord]:
    records: list[TraceRecord] = []
    for path in paths:
        try:
            for raw in read_records(path):
                try:
                    records.append(
                        TraceRecord(
                            function=str(raw["function"]),
                            memory_mb=int(raw["memory_mb"]),
                            cold=bool(raw["cold"]),
                            init_ms=None if raw.get("init_ms") is None else float(raw["init_ms"]),
                            duration_ms=float(raw["duration_ms"]),
                            accepted_at=float(raw["accepted_at"]),
                            outcome=str(raw.get("outcome", "success")),
                        )
                    )
                except (ValueError, KeyError, TypeError) as exc:
                    raise ModelInputError(f"{path}: not a trace record ({exc})") from exc
        except TraceFormatError as exc:
            raise ModelInputError(str(exc)) from None
    if not records:
        raise ModelInputError(f"no trace records in {', '.join(map(str, paths))}")
    records.sort(key=lambda r: r.accepted_at)
    return records


def fit_trace(
    records: list[TraceRecord], *, function: str | None = None, memory_mb: int | None = None
) -> TraceFit:
    """The records of `function` at `memory_mb` (default: the most invoked of each) and the
    empirical distributions of their Duration and Init Duration."""
    if function is None:
        function = _users_function(records)
    mine = [r for r in records if r.function == function]
    if not mine:
        known = ", ".join(sorted({r.function for r in records}))
        raise ModelInputError(f"no records of function {function!r} (the trace has {known})")
    sizes = Counter(r.memory_mb for r in mine)
    if memory_mb is None:
        memory_mb = sizes.most_common(1)[0][0]
    mine = [r for r in mine if r.memory_mb == memory_mb]
    if not mine:
        known = ", ".join(f"{size} MB" for size in sorted(sizes))
        raise ModelInputError(
            f"no records of {function} at {memory_mb} MB (the trace has {known}; "
            "or give --service and --init)"
        )
    ok = [r for r in mine if r.outcome == "success"] or mine
    durations = tuple(r.duration_ms / 1000.0 for r in ok)
    inits = tuple(r.init_ms / 1000.0 for r in mine if r.cold and r.init_ms is not None)
    source = f"{function} at {memory_mb} MB"
    return TraceFit(
        function=function,
        memory_mb=memory_mb,
        records=tuple(mine),
        duration=Empirical(durations, f"{source}, Duration"),
        init=Empirical(inits, f"{source}, Init Duration") if inits else None,
    )


def is_tuning_function(name: str, memory_mb: int) -> bool:
    """`lambda-emu tune` runs FN at each size as its own function `FN-<MB>` (emulator.tuning):
    a name ending in the record's own memory size is one of those."""
    base, dash, size = name.rpartition("-")
    return bool(base) and bool(dash) and size == str(memory_mb)


def _users_function(records: list[TraceRecord]) -> str:
    """The most invoked function that is not a tuning run's sized copy; if the trace holds only
    those, the most invoked of them."""
    counts = Counter(r.function for r in records if not is_tuning_function(r.function, r.memory_mb))
    if not counts:
        counts = Counter(r.function for r in records)
    return counts.most_common(1)[0][0]
