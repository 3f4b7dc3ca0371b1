"""Trace records: one JSON line per invocation (schema in docs/trace-format.md).

The load harness and the offline model read these files through `read_records`, the one
reader: keep the field names stable. A record with a `kind` other than "invocation" (the HTTP
front door's request records, say) is skipped by it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from emulator.errors import LambdaEmuError
from emulator.metrics.report import Report

if TYPE_CHECKING:
    from emulator.config import EmulatorConfig

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class TraceRecord:
    v: int
    request_id: str
    function: str
    environment_id: str
    invocation_type: str
    init_type: str  # on-demand | provisioned-concurrency
    memory_mb: int
    cold: bool
    init_ms: float | None
    duration_ms: float
    billed_ms: int
    max_memory_mb: int
    cpu_user_ms: float  # CPU the environment used for this invocation (and init, when cold)
    cpu_system_ms: float
    accepted_at: float  # epoch seconds: the Invoke API accepted the request
    start: float  # epoch seconds: the invocation was handed to the runtime
    end: float  # epoch seconds: the runtime answered (or the platform gave up)
    outcome: str  # success | function_error | error | timeout
    error_type: str | None

    def json_line(self) -> str:
        """One JSON line; hand-written because this runs once per invocation on the hot path
        (dataclasses.asdict + json.dumps cost ~70 µs, this ~5 µs)."""
        init = "null" if self.init_ms is None else repr(self.init_ms)
        error = "null" if self.error_type is None else json.dumps(self.error_type)
        return (
            f'{{"v":{self.v},"request_id":"{self.request_id}","function":"{self.function}",'
            f'"environment_id":"{self.environment_id}","invocation_type":"{self.invocation_type}",'
            f'"init_type":"{self.init_type}","memory_mb":{self.memory_mb},'
            f'"cold":{"true" if self.cold else "false"},"init_ms":{init},'
            f'"duration_ms":{self.duration_ms!r},"billed_ms":{self.billed_ms},'
            f'"max_memory_mb":{self.max_memory_mb},"cpu_user_ms":{self.cpu_user_ms!r},'
            f'"cpu_system_ms":{self.cpu_system_ms!r},"accepted_at":{self.accepted_at!r},'
            f'"start":{self.start!r},"end":{self.end!r},"outcome":"{self.outcome}",'
            f'"error_type":{error}}}\n'
        )

    @classmethod
    def from_report(
        cls,
        report: Report,
        *,
        function: str,
        environment_id: str,
        invocation_type: str,
        accepted_at: float,
        started: float,
        function_error: bool,
        init_type: str,
        cpu: tuple[float, float],
    ) -> TraceRecord:
        # perf_counter instants → epoch seconds, through one common reference point
        offset = time.time() - time.perf_counter()
        if report.status is not None:
            outcome = report.status
        else:
            outcome = "function_error" if function_error else "success"
        return cls(
            v=SCHEMA_VERSION,
            request_id=report.request_id,
            function=function,
            environment_id=environment_id,
            invocation_type=invocation_type,
            init_type=init_type,
            memory_mb=report.memory_mb,
            cold=report.init_ms is not None,
            init_ms=None if report.init_ms is None else round(report.init_ms, 3),
            duration_ms=round(report.duration_ms, 3),
            billed_ms=report.billed_ms,
            max_memory_mb=report.max_memory_mb,
            cpu_user_ms=round(cpu[0] * 1000, 1),
            cpu_system_ms=round(cpu[1] * 1000, 1),
            accepted_at=round(accepted_at + offset, 6),
            start=round(started + offset, 6),
            end=round(started + offset + report.duration_ms / 1000, 6),
            outcome=outcome,
            error_type=report.error_type,
        )


class TraceWriter:
    """Appends records to a JSONL file; `None` path writes nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: TextIO | None = None
        self.count = 0

    def write(self, record: TraceRecord) -> None:
        self.count += 1
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # buffered: flushed every second by the emulator's reaper and on stop
            self._fh = open(self.path, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
        self._fh.write(record.json_line())

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def trace_path(cfg: EmulatorConfig) -> Path:
    """Where an emulator writes its invocation trace."""
    return cfg.trace_path or cfg.state_dir / "traces" / "invocations.jsonl"


class TraceFormatError(LambdaEmuError):
    """A trace file that cannot be read: `str()` names the file (and line)."""


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The invocation records of a trace file, in file order, as parsed JSON objects; blank
    lines and records of other kinds are skipped. TraceFormatError names the file and line."""
    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise TraceFormatError(f"{path}: {exc.strerror}") from None
    with fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise TraceFormatError(f"{path}:{number}: not a trace record ({exc})") from None
            if not isinstance(record, dict):
                raise TraceFormatError(f"{path}:{number}: not a trace record (not an object)")
            if record.get("kind", "invocation") == "invocation":
                yield record
