"""Trace records: one JSON line per invocation (schema in docs/trace-format.md).

The load harness and the offline model read these files through `read_records`, the one
reader: keep the field names stable. A record with a `kind` other than "invocation" (the HTTP
front door's request records, say) is skipped by it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from emulator.errors import LambdaEmuError
from emulator.metrics.report import Report

if TYPE_CHECKING:
    from emulator.config import EmulatorConfig

SCHEMA_VERSION = 1


def invocation_line(
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
    streamed_bytes: int | None = None,
    first_byte_at: float | None = None,
    host_wait: float | None = None,
) -> str:
    """One invocation record as a JSON line (fields in docs/trace-format.md). Formatted by
    hand: this runs once per invocation on the hot path (a dataclass and json.dumps cost
    several times more). `accepted_at` and `started` are perf_counter instants."""
    # perf_counter instants → epoch seconds, through one common reference point
    offset = time.time() - time.perf_counter()
    start = started + offset
    outcome = report.status or ("function_error" if function_error else "success")
    init = "null" if report.init_ms is None else f"{report.init_ms:.3f}"
    error = "null" if report.error_type is None else json.dumps(report.error_type)
    streamed = ""
    if streamed_bytes is not None:  # a streamed response: its size and first byte
        first = "null" if first_byte_at is None else f"{(first_byte_at - started) * 1000:.3f}"
        streamed = f',"streamed_bytes":{streamed_bytes},"first_byte_ms":{first}'
    if host_wait is not None:  # the host's load, where the sandbox can tell
        streamed += f',"host_wait_ms":{host_wait * 1000:.1f}'
    return (
        f'{{"v":{SCHEMA_VERSION},"request_id":"{report.request_id}","function":"{function}",'
        f'"environment_id":"{environment_id}","invocation_type":"{invocation_type}",'
        f'"init_type":"{init_type}","memory_mb":{report.memory_mb},'
        f'"cold":{"false" if report.init_ms is None else "true"},"init_ms":{init},'
        f'"duration_ms":{report.duration_ms:.3f},"billed_ms":{report.billed_ms},'
        f'"max_memory_mb":{report.max_memory_mb},"cpu_user_ms":{cpu[0] * 1000:.1f},'
        f'"cpu_system_ms":{cpu[1] * 1000:.1f},"accepted_at":{accepted_at + offset:.6f},'
        f'"start":{start:.6f},"end":{start + report.duration_ms / 1000:.6f},'
        f'"outcome":"{outcome}","error_type":{error}{streamed}}}\n'
    )


class TraceWriter:
    """Appends records to a JSONL file; `None` path writes nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fh: TextIO | None = None
        self.count = 0

    def write(self, line: str) -> None:
        """One record, a JSON line ending in a newline (`invocation_line`)."""
        self.count += 1
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # buffered: flushed every second by the emulator's reaper and on stop
            self._fh = open(self.path, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
        self._fh.write(line)

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
