"""A CPU hog beside a test: busy-looping processes that the test starts and kills by PID.

Each process spins for at most `limit_s` (it ends by itself even if the test is killed), at
the test's own priority, so the emulator and its runtimes compete for every core."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

_SPIN = (
    "import sys, time\n"
    "end = time.monotonic() + float(sys.argv[1])\n"
    "while time.monotonic() < end: pass\n"
)


@contextlib.contextmanager
def cpu_hog(processes: int | None = None, limit_s: float = 900.0) -> Iterator[list[int]]:
    """One busy loop per core (or `processes` of them) while the block runs."""
    count = processes if processes is not None else (os.cpu_count() or 1)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(subprocess.Popen([sys.executable, "-c", _SPIN, str(limit_s)]))
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, 9)
            proc.wait()
