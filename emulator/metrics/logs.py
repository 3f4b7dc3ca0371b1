"""Where function logs go: one file per function and, optionally, the terminal.

Everything an environment prints (init output, START, the function's own lines, END,
REPORT) is written in order as it happens, as CloudWatch Logs would receive it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO


class LogSink:
    def __init__(self, log_dir: Path, *, to_terminal: bool) -> None:
        self.log_dir = log_dir
        self.to_terminal = to_terminal
        self._files: dict[str, TextIO] = {}

    def _file(self, function: str) -> TextIO:
        fh = self._files.get(function)
        if fh is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            # buffered: flushed every second by the emulator's reaper and on close
            fh = open(self.log_dir / f"{function}.log", "a", buffering=1 << 16, encoding="utf-8")  # noqa: SIM115
            self._files[function] = fh
        return fh

    def write(self, function: str, line: str) -> None:
        self._file(function).write(line + "\n")
        if self.to_terminal:
            sys.stderr.write(f"[{function}] {line}\n")

    def flush(self) -> None:
        for fh in self._files.values():
            fh.flush()
        if self.to_terminal:
            sys.stderr.flush()

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()


# awslambdaric's error record (Text format): on stdout its lines are joined by "\r"; Lambda
# gives the runtime its telemetry log descriptor, where the same record is one event joined by
# "\n" (awslambdaric bootstrap.py FramedTelemetryLogSink.log_error; tests/test_bootstrap.py
# ::test_log_error_framed_log_sink). The record is kept as one entry, as CloudWatch keeps
# one event (LocalStack's AWS-recorded TestLambdaDLQ::test_dead_letter_queue › log_result).
ERROR_RECORD = "[ERROR] "


class InvocationLog:
    """The lines of one invocation, for `X-Amz-Log-Result` (its last 4 KB)."""

    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[str] = []

    def tail(self, limit: int) -> bytes:
        data = ("\n".join(self.lines) + "\n").encode("utf-8", "replace")
        return data[-limit:]


class EnvironmentLog:
    """What one environment prints, line by line: to the function's log, and while an
    invocation runs, to that invocation's own log (its tail). `feed` takes the runtime's raw
    output; a line is complete at its newline (a partial one waits, or `flush_partial`)."""

    __slots__ = ("_function", "_on_output_line", "_partial", "_sink", "invocation")

    def __init__(self, sink: LogSink, function: str, on_output_line: Callable[[str], None]) -> None:
        self._sink = sink
        self._function = function
        self._on_output_line = on_output_line  # the runtime's own lines (telemetry "function")
        self._partial = b""
        self.invocation: InvocationLog | None = None

    def feed(self, data: bytes) -> None:
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if line.startswith(ERROR_RECORD) and "\r" in line:
                line = line.replace("\r", "\n")
            self.line(line)
            self._on_output_line(line)

    def flush_partial(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, b""
            self.line(partial.decode("utf-8", "replace"))

    def line(self, line: str) -> None:
        self._sink.write(self._function, line)
        if self.invocation is not None:
            self.invocation.lines.append(line)
