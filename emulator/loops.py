"""The one event-loop choice: uvloop where it is installed, asyncio's own loop elsewhere.

`lambda-emu serve`, the embedded emulator (pytest plugin, lessons) and the tuning driver all
run on the loop this module gives, so a benchmark of one measures what the others run.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

_T = TypeVar("_T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` to completion on a new loop of the kind `new_event_loop` gives."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(coro)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[asyncio.Event]:
    """An event that SIGINT or SIGTERM sets, on the running loop; the handlers removed on the
    way out. Set explicitly, they also stop a process that a shell started in the background,
    where SIGINT arrives ignored (no KeyboardInterrupt would ever come)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, not main thread
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        yield stop
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
