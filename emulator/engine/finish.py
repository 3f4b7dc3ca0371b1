"""The one place an invocation is finished: END and REPORT lines, the trace record, the
telemetry `platform.report`, and the function's counters.

Both ends of an invocation use it: an environment when its invoke phase ends, and the pool
when an invocation's init failed twice (suppressed init) and no environment is left to run it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from emulator.engine.invocation import Invocation
from emulator.metrics.logs import InvocationLog, LogSink
from emulator.metrics.report import Report, billed_duration_ms, end_line
from emulator.metrics.trace import TraceWriter, invocation_line

_MB = 1024 * 1024


@dataclass(slots=True)
class FunctionCounters:
    """Per function, for `/_emu/functions` and `/metrics`."""

    invocations: int = 0
    cold_starts: int = 0
    throttles: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the caller receives, and how Lambda classes it."""

    payload: bytes
    content_type: str = "application/json"
    function_error: bool = False
    status: str | None = None  # "error" | "timeout": a platform failure (REPORT Status)
    error_type: str | None = None
    # A streamed response (emulator/engine/streaming.py): the bytes the caller received, the
    # first byte's perf_counter instant, and the error a stream ended with (the trailer's type)
    streamed_bytes: int | None = None
    first_byte_at: float | None = None
    stream_error: str | None = None


def max_memory_mb(peak_bytes: int, memory_mb: int) -> int:
    """Max Memory Used in whole MB, never above the memory size (an OOM kill reaches it)."""
    return min(memory_mb, math.ceil(peak_bytes / _MB)) if peak_bytes else 0


Telemetry = Callable[[str, object], None]


class InvocationLedger:
    """Writes what Lambda writes when an invocation ends, to the function's log, the
    invocation's own log (its tail), the trace, and the counters."""

    __slots__ = ("_logs", "_trace")

    def __init__(self, logs: LogSink, trace: TraceWriter) -> None:
        self._logs = logs
        self._trace = trace

    def finish(
        self,
        *,
        function: str,
        memory_mb: int,
        inv: Invocation,
        outcome: Outcome,
        log: InvocationLog,
        started: float,
        ended: float,
        init_ms: float | None,
        peak_bytes: int,
        environment_id: str,
        init_type: str,
        cpu: tuple[float, float],
        counters: FunctionCounters,
        telemetry: Telemetry | None = None,
        host_wait: float | None = None,
    ) -> Report:
        duration_ms = (ended - started) * 1000
        report = Report(
            request_id=inv.request_id,
            duration_ms=duration_ms,
            billed_ms=billed_duration_ms(duration_ms, init_ms, bill_init=True),
            memory_mb=memory_mb,
            max_memory_mb=max_memory_mb(peak_bytes, memory_mb),
            init_ms=init_ms,
            status=outcome.status,
            error_type=outcome.error_type,
        )
        logs = self._logs
        for text in (end_line(inv.request_id), report.line()):
            logs.write(function, text)
            log.lines.append(text)
        if outcome.function_error:
            counters.errors += 1
        if telemetry is not None:
            metrics: dict[str, float] = {
                "durationMs": round(report.duration_ms, 3),
                "billedDurationMs": report.billed_ms,
                "memorySizeMB": report.memory_mb,
                "maxMemoryUsedMB": report.max_memory_mb,
            }
            if init_ms is not None:
                metrics["initDurationMs"] = round(init_ms, 3)
            status = outcome.status or ("failure" if outcome.function_error else "success")
            telemetry(
                "platform.report",
                {"requestId": inv.request_id, "status": status, "metrics": metrics},
            )
        self._trace.write(
            invocation_line(
                report,
                function=function,
                environment_id=environment_id,
                invocation_type=inv.invocation_type,
                accepted_at=inv.accepted_at,
                started=started,
                function_error=outcome.function_error,
                init_type=init_type,
                cpu=cpu,
                streamed_bytes=outcome.streamed_bytes,
                first_byte_at=outcome.first_byte_at,
                host_wait=host_wait,
            )
        )
        return report
