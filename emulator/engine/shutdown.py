"""An environment's extensions at its start and at its end (LAMBDA_SPEC §3): which executables
are external extensions, and the shutdown budget they get."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

from emulator.api.extensions import ExtensionsApi
from emulator.sandbox.base import Sandbox, SupportsExtensions

MAX_EXTENSIONS = 10
# Shutdown with external extensions (LAMBDA_SPEC §3): 2,000 ms in all, of which the runtime
# gets up to 300 ms after SIGTERM; then SHUTDOWN to the extensions; SIGKILL at the deadline.
SHUTDOWN_BUDGET_S = 2.0
RUNTIME_SHUTDOWN_S = 0.3


def extension_executables(layers: tuple[Path, ...]) -> tuple[Path, ...]:
    """External extensions: the executable files in each layer's `extensions/` (Lambda's
    /opt/extensions), by name, at most 10 (LAMBDA_SPEC §3)."""
    found: dict[str, Path] = {}
    for layer in layers:
        folder = layer / "extensions"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and os.access(path, os.X_OK):
                    found[path.name] = path  # a later layer's file of the same name wins
    return tuple(found.values())[:MAX_EXTENSIONS]


async def shutdown_extensions(sandbox: Sandbox, ext: ExtensionsApi, reason: str) -> bool:
    """With external extensions: SIGTERM the runtime (up to 300 ms), SHUTDOWN to the
    extensions, wait until they are done or the 2,000 ms budget is spent (LAMBDA_SPEC §3).
    True when some extension was still running at the deadline; the caller SIGKILLs what is
    left (at once, when there are no external extensions)."""
    if not isinstance(sandbox, SupportsExtensions) or not any(
        e.external for e in ext.extensions.values()
    ):
        return False
    deadline = time.monotonic() + SHUTDOWN_BUDGET_S
    sandbox.thaw()
    if not sandbox.exited.done():
        sandbox.signal_runtime(signal.SIGTERM)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(sandbox.exited), RUNTIME_SHUTDOWN_S)
    # What is buffered for telemetry subscribers goes out before SHUTDOWN does.
    await ext.flush(max(0.0, min(0.5, deadline - time.monotonic())))
    deadline_ms = int((time.time() + deadline - time.monotonic()) * 1000)
    if not ext.shutdown(reason, deadline_ms):
        return False
    while time.monotonic() < deadline:
        if ext.shutdown_acknowledged() or not sandbox.others_alive():
            return False
        await asyncio.sleep(0.02)
    sandbox.drain_output()
    return True
