"""The `Sandbox` protocol: where one execution environment's runtime runs.

A sandbox knows processes, limits and counters, never Lambda semantics: it starts a command
with an environment, reports output bytes and the exit, measures memory and CPU, and tears
everything down. `process.py` runs a local process tree; the docker sandbox and the cgroup
limits of the resource model slot in behind the same protocol.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# Go's os.ProcessState.String() wording, which Lambda's platform messages use
# ("Runtime exited with error: signal: killed").
_SIGNAL_WORDS = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGINT: "interrupt",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
}


@dataclass(frozen=True, slots=True)
class ExitStatus:
    returncode: int  # negative: killed by that signal (subprocess convention)
    oom_killed: bool = False

    def describe(self) -> str:
        if self.returncode < 0:
            sig = -self.returncode
            try:
                word = _SIGNAL_WORDS.get(signal.Signals(sig), signal.Signals(sig).name)
            except ValueError:
                word = f"signal {sig}"
            return f"signal: {word}"
        return f"exit status {self.returncode}"


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    environment_id: str
    function_name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    memory_mb: int
    tmp_dir: Path
    # External extensions (executables) started before the runtime, in the same sandbox.
    extensions: tuple[Path, ...] = ()


OutputCallback = Callable[[bytes], None]

_READ_CHUNK = 65536


def read_output(fd: int, on_output: OutputCallback) -> bool:
    """Deliver everything a non-blocking output pipe holds now; False at end of file (every
    writer gone). Sandboxes call it from the event loop's reader and to drain synchronously
    when a response arrives, so each line lands in the invocation that printed it."""
    while True:
        try:
            data = os.read(fd, _READ_CHUNK)
        except BlockingIOError:
            return True
        except OSError:
            data = b""
        if not data:
            return False
        on_output(data)
        if len(data) < _READ_CHUNK:
            return True


class Sandbox(Protocol):
    """One environment's runtime, started once, stopped once."""

    kind: str  # "process", "docker"
    spec: SandboxSpec
    exited: asyncio.Future[ExitStatus]

    @property
    def pid(self) -> int | None: ...

    async def stage(self) -> None:
        """Do everything that can happen before a request needs the environment."""

    async def start(self) -> None:
        """Start the runtime (its init begins now)."""

    def init_finished(self) -> None:
        """The runtime called /next for the first time (resource limits tighten here)."""

    def freeze(self) -> None:
        """Stop the environment between invocations (Lambda freezes it)."""

    def thaw(self) -> None:
        """Let it run again, before an invocation is dispatched."""

    def drain_output(self) -> None:
        """Deliver every byte the runtime has written so far, synchronously."""

    def peak_memory_bytes(self) -> int:
        """Peak memory of the whole environment so far."""

    def memory_current_bytes(self) -> int:
        """Memory in use by the whole environment now (for the sampler)."""

    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU time of the environment so far."""

    async def stop(self, grace_s: float = 0.0) -> None:
        """SIGTERM (after `grace_s` SIGKILL) the whole tree and remove everything made."""


@runtime_checkable
class SupportsExtensions(Protocol):
    """A sandbox that can run external extensions beside the runtime (LAMBDA_SPEC §3):
    `start` then starts the extensions only, `start_runtime` the runtime once they registered."""

    def start_runtime(self) -> None: ...

    def signal_runtime(self, sig: int) -> None:
        """Signal the runtime alone (SIGTERM at shutdown; extensions get a SHUTDOWN event)."""

    def others_alive(self) -> bool:
        """Whether any process of the environment other than the runtime still runs."""


class SandboxFactory(Protocol):
    kind: str

    @property
    def stages(self) -> bool:
        """Whether staging a spare environment ahead of need saves cold-start time."""

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> Sandbox: ...
