"""The `Sandbox` protocol: where one execution environment's runtime runs.

A sandbox knows processes, limits and counters, never Lambda semantics: it starts a command
with an environment, reports output bytes and the exit, measures memory and CPU, and tears
everything down. `process.py` runs a local process tree, `docker/` a container, `fake.py`
an in-memory runtime for the engine's own tests; each comes from a `SandboxFactory` named in
the sandbox table (emulator/sandbox/registry.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from emulator.config import FunctionConfig
    from emulator.sandbox.runtimes import RuntimeCommand

# Go's os.ProcessState.String() wording, which Lambda's platform messages use
# ("Runtime exited with error: signal: killed").
# Windows lacks SIGKILL, SIGBUS, SIGHUP and SIGPIPE: only the signals this host has.
_SIGNAL_WORDS = {
    getattr(signal, name): word
    for name, word in (
        ("SIGKILL", "killed"),
        ("SIGTERM", "terminated"),
        ("SIGSEGV", "segmentation fault"),
        ("SIGABRT", "aborted"),
        ("SIGINT", "interrupt"),
        ("SIGBUS", "bus error"),
        ("SIGFPE", "floating point exception"),
        ("SIGILL", "illegal instruction"),
        ("SIGHUP", "hangup"),
        ("SIGPIPE", "broken pipe"),
    )
    if hasattr(signal, name)
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


WRAPPER_CHECK = (
    'if [ ! -f "$0" ]; then echo "$0: does not exist"; exit 127; fi; '
    'if [ ! -x "$0" ]; then echo "$0: is not an executable"; exit 126; fi; '
    'exec "$0" "$@"'
)


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
    # AWS_LAMBDA_EXEC_WRAPPER: the script Lambda starts the runtime through, with the
    # runtime's command line as its arguments (docs runtimes-modify.html#runtime-wrapper).
    exec_wrapper: str | None = None
    # False: no CPU quota after init (--debug: stepping through a 128 MB function's 7 % of a
    # CPU would crawl)
    cpu_quota: bool = True
    # RuntimeCommand.task_overlay, and the variables that stand in for it where it cannot be
    # mounted (only those the function's own Environment did not replace).
    task_overlay: Path | None = None
    env_unmounted: Mapping[str, str] = field(default_factory=dict)

    def runtime_argv(self) -> tuple[str, ...]:
        """The runtime's command line, through the wrapper when there is one, checked as
        Lambda's own bootstrap checks it: a missing wrapper prints "<wrapper>: does not exist"
        and ends with status 127, one that is not executable "<wrapper>: is not an executable"
        and 126 (/var/runtime/bootstrap of nodejs18.x, as printed from the runtime in public
        write-ups; LocalStack's AWS-recorded
        TestLambdaErrors::test_lambda_runtime_wrapper_not_found, 2025-11: exit status 127)."""
        if not self.exec_wrapper:
            return self.argv
        return ("/bin/sh", "-c", WRAPPER_CHECK, self.exec_wrapper, *self.argv)


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

    def admits(self, peer: tuple[str, int], port: int) -> bool:
        """Whether the connection from `peer` to this environment's Runtime API listener (on
        `port`) comes from the environment itself: only its own processes may use it."""


@runtime_checkable
class SupportsExtensions(Protocol):
    """A sandbox that can run external extensions beside the runtime (LAMBDA_SPEC §3):
    `start` then starts the extensions only, `start_runtime` the runtime once they registered."""

    def start_runtime(self) -> None: ...

    def signal_runtime(self, sig: int) -> None:
        """Signal the runtime alone (SIGTERM at shutdown; extensions get a SHUTDOWN event)."""

    def others_alive(self) -> bool:
        """Whether any process of the environment other than the runtime still runs."""


@runtime_checkable
class ReportsScheduling(Protocol):
    """A sandbox that can tell how the host scheduled its runtime: the pool's hand-off tells a
    runtime starved by a loaded host from one busy with work of its own (engine/handoff.py)."""

    def scheduling(self) -> tuple[float, float] | None:
        """(seconds on a CPU, seconds runnable but waiting for one) of the runtime so far,
        summed over its threads; None when unknown."""


@runtime_checkable
class ReportsHostWait(Protocol):
    """A sandbox that can tell how long its runtime waited for a CPU its quota allowed."""

    def host_wait_seconds(self) -> float | None:
        """Seconds the runtime's main thread was runnable, not throttled by its quota, yet
        not on a CPU, so far; None when unknown."""


class SandboxFactory(Protocol):
    """Makes the sandboxes of one kind. A kind is one module with a factory that follows this
    protocol, plus one row of the sandbox table (emulator/sandbox/registry.py)."""

    kind: str

    def stages(self, function: str) -> bool:
        """Whether staging a spare environment ahead of need saves cold-start time."""

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        """What `fn`'s environments run (blocking: may install or build once; called at
        start-up and on reload, off the event loop)."""

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        """(address the Runtime API listener binds, host its runtime is told to reach in
        AWS_LAMBDA_RUNTIME_API) for `fn`'s environments."""

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> Sandbox: ...

    def describe(self) -> str:
        """One line: what this kind enforces here and what it does not (the start line)."""

    def remove_stale(self) -> list[str]:
        """Remove what a crashed earlier run of the emulator left (names of what went)."""

    def close(self) -> None:
        """Remove whatever of this factory's making is left (at stop)."""
