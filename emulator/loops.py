"""The one event-loop choice: uvloop where it is installed, asyncio's own loop elsewhere.

`lambda-emu serve`, the embedded emulator (pytest plugin, lessons) and the tuning driver all
run on the loop this module gives, so a benchmark of one measures what the others run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
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
