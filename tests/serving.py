"""`lambda-emu serve` as a real subprocess whose stderr is followed line by line (the dev-loop
tests wait on what it prints). Waits end on progress: a line seen, or the process gone; the
deadline only stops a test that would otherwise hang."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from emulator.embedded import EmbeddedEmulator

BIN = Path(sys.executable).parent
HANG_S = 600.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Serve:
    def __init__(self, manifest: Path, state_dir: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [
                str(BIN / "lambda-emu"),
                "serve",
                "--manifest",
                str(manifest),
                "--port",
                "0",
                "--state-dir",
                str(state_dir),
                *([] if "--reload" in args else ["--no-reload"]),
                *args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.url = self.wait_for(r"Invoke API on (http://\S+)").group(1)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    @property
    def output(self) -> str:
        with self._seen:
            return "".join(self.lines)

    def wait_for(self, pattern: str, start: int = 0) -> re.Match[str]:
        """The first line from `start` on that matches; fails once serve has exited."""
        rx = re.compile(pattern)
        with self._seen:
            i = start
            while True:
                while i < len(self.lines):
                    match = rx.search(self.lines[i])
                    if match:
                        return match
                    i += 1
                if not self._reader.is_alive():
                    raise AssertionError(f"serve ended before {pattern!r}:\n{self.output}")
                if not self._seen.wait(HANG_S):
                    raise AssertionError(f"serve printed nothing for {HANG_S} s:\n{self.output}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # serve stops every environment it started
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


def trace_record(emu: EmbeddedEmulator, request_id: str) -> dict[str, Any] | None:
    """The emulator's trace record of invocation `request_id` (the trace flushed first)."""
    from emulator.metrics.trace import read_records

    async def flush(e: Any) -> None:
        e.trace.flush()

    emu.call(flush)
    assert emu.emulator is not None and emu.emulator.trace.path is not None
    return next(
        (r for r in read_records(emu.emulator.trace.path) if r["request_id"] == request_id), None
    )
