"""Freezing an idle environment, as Lambda does once the runtime and its extensions wait in
next with nothing to do (LAMBDA_SPEC §5).

⚠ Lambda does not say how soon after going idle an environment is frozen. The emulator
freezes it `freeze_after_s` (10 ms by default) after it went idle: a request that comes sooner
(a busy function) finds it running, which spares two signals per invocation on the hot path;
background work in the function gets at most that long after each invocation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from emulator.sandbox.base import Sandbox


class IdleFreezer:
    __slots__ = ("_after_s", "_enabled", "_is_idle", "_loop", "_timer", "sandbox")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        enabled: bool,
        after_s: float,
        is_idle: Callable[[], bool],
    ) -> None:
        self._loop = loop
        self._enabled = enabled
        self._after_s = after_s
        self._is_idle = is_idle
        self._timer: asyncio.TimerHandle | None = None
        self.sandbox: Sandbox | None = None

    @property
    def pending(self) -> bool:
        """Idle, and not frozen yet."""
        return self._timer is not None

    def went_idle(self) -> None:
        if self._enabled and self._timer is None:
            self._timer = self._loop.call_later(self._after_s, self._freeze)

    def _freeze(self) -> None:
        self._timer = None
        if self._is_idle() and self.sandbox is not None:
            self.sandbox.freeze()

    def thaw(self) -> None:
        """Before work: cancels a freeze still pending, or thaws the sandbox."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        elif self._enabled and self.sandbox is not None:
            self.sandbox.thaw()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
