"""An emulator embedded in a Python process: it serves from its own event loop in a background
thread, so blocking code (a test, `lambda-emu lessons`) can talk to it over HTTP.

    with EmbeddedEmulator(cfg) as emu:
        InvokeClient(emu.url).invoke("hello")

The pytest plugin and the lessons share it. Every running instance is listed in `RUNNING`,
which the pytest plugin reads to fail a test during which an emulator hit an internal error.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from emulator.config import EmulatorConfig
from emulator.loops import new_event_loop
from emulator.server import Emulator

_T = TypeVar("_T")

RUNNING: weakref.WeakSet[EmbeddedEmulator] = weakref.WeakSet()


class EmbeddedEmulator:
    def __init__(self, cfg: EmulatorConfig) -> None:
        self.cfg = cfg
        self.emulator: Emulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        assert self.emulator is not None
        return self.emulator.url

    @property
    def api_url(self) -> str | None:
        """The API Gateway routes' address (None: the manifest declares none)."""
        assert self.emulator is not None
        return self.emulator.api_url

    @property
    def port(self) -> int:
        assert self.emulator is not None
        return self.emulator.port

    @property
    def internal_errors(self) -> list[Exception]:
        return self.emulator.internal_errors if self.emulator is not None else []

    def start(self, timeout: float = 600.0) -> EmbeddedEmulator:
        self._thread = threading.Thread(target=self._run, name="lambda-emu", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("lambda-emu did not start in time")
        if self._error is not None:
            raise self._error
        RUNNING.add(self)
        return self

    def _run(self) -> None:
        loop = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._started.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.emulator = Emulator(self.cfg)
        try:
            await self.emulator.start()
            self._started.set()
            await self._stop.wait()
        finally:
            await self.emulator.stop()

    def call(self, fn: Callable[[Emulator], Coroutine[Any, Any, _T]], timeout: float = 120) -> _T:
        """Run a coroutine function on the emulator's loop and return its result."""
        assert self._loop is not None and self.emulator is not None
        return asyncio.run_coroutine_threadsafe(fn(self.emulator), self._loop).result(timeout)

    def stop(self) -> None:
        RUNNING.discard(self)
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(60)
        if self._error is not None:
            raise self._error

    def __enter__(self) -> EmbeddedEmulator:
        return self.start() if self._thread is None else self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# The name the first round exported; kept for users' conftest files.
EmulatorThread = EmbeddedEmulator
