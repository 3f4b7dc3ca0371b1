"""Resource samples: every environment's memory and CPU at a fixed interval.

One JSON line per environment per tick in `<state-dir>/traces/samples.jsonl` (schema in
docs/trace-format.md), beside the invocation trace. Counters come from the environment's
cgroup where there is one, from psutil otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from emulator.engine.environment import ExecutionEnvironment


class Sampler:
    def __init__(
        self,
        path: Path,
        interval_s: float,
        environments: Callable[[], Iterable[ExecutionEnvironment]],
    ) -> None:
        self.path = path
        self.interval_s = interval_s
        self._environments = environments
        self._fh: TextIO | None = None
        self._task: asyncio.Task[None] | None = None
        self.samples = 0

    def start(self) -> None:
        if self.interval_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.sample_once()

    def sample_once(self) -> None:
        now = time.time()
        lines = []
        for env in self._environments():
            sandbox = env.sandbox
            if sandbox is None or sandbox.pid is None or sandbox.exited.done():
                continue
            user, system = sandbox.cpu_seconds()
            mb = sandbox.memory_current_bytes() / (1024 * 1024)
            lines.append(
                f'{{"t":{now:.3f},"function":"{env.fn.name}","environment_id":"{env.id}",'
                f'"state":"{env.state}","memory_mb":{mb:.1f},'
                f'"cpu_user_ms":{user * 1000:.1f},"cpu_system_ms":{system * 1000:.1f}}}\n'
            )
        if not lines:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._fh.writelines(lines)
        self._fh.flush()
        self.samples += len(lines)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None
