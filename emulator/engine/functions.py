"""The function registry: every function the emulator serves, by name, and its pool.

It is the one thing the HTTP surfaces (Invoke API, control API, front doors) and the
reloader are given to reach functions: they get, add, remove, reload, reset and describe
functions here, and never see the server. It is a read-only mapping of name → pool.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping

from emulator.config import FunctionConfig
from emulator.engine.pool import FunctionPool
from emulator.sandbox.runtimes import RuntimeCommand

RESET_WAIT_S = 30.0


class FunctionRegistry(Mapping[str, FunctionPool]):
    def __init__(
        self,
        *,
        make_pool: Callable[[FunctionConfig, RuntimeCommand], FunctionPool],
        prepare: Callable[[FunctionConfig], Awaitable[RuntimeCommand]],
    ) -> None:
        self._make_pool = make_pool
        self._prepare = prepare
        self._pools: dict[str, FunctionPool] = {}

    # --- Mapping --------------------------------------------------------------------------
    def __getitem__(self, name: str) -> FunctionPool:
        return self._pools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pools)

    def __len__(self) -> int:
        return len(self._pools)

    def default(self) -> FunctionPool | None:
        """RIE's `/functions/function/invocations` reaches the only (else the first) function."""
        return next(iter(self._pools.values()), None)

    def configs(self) -> tuple[FunctionConfig, ...]:
        return tuple(pool.fn for pool in self._pools.values())

    @property
    def busy_count(self) -> int:
        return sum(pool.busy_count for pool in self._pools.values())

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self, functions: tuple[FunctionConfig, ...]) -> None:
        """Prepare every function's runtime, then start the pools (provisioned environments
        initialise here)."""
        commands = [await self._prepare(fn) for fn in functions]
        for fn, command in zip(functions, commands, strict=True):
            self._pools[fn.name] = self._make_pool(fn, command)
        await asyncio.gather(*(pool.start() for pool in self._pools.values()))

    async def add(self, fn: FunctionConfig) -> None:
        pool = self._make_pool(fn, await self._prepare(fn))
        self._pools[fn.name] = pool
        await pool.start()

    async def reload(self, fn: FunctionConfig) -> None:
        """New code or configuration: new invocations go to fresh environments."""
        pool = self._pools.get(fn.name)
        if pool is None:
            await self.add(fn)
            return
        await pool.reload(fn, await self._prepare(fn))

    async def remove(self, name: str) -> None:
        pool = self._pools.pop(name, None)  # new invocations get ResourceNotFound from here on
        if pool is None:
            return
        deadline = time.monotonic() + pool.fn.timeout_s + 1.0
        while pool.busy_count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # in-flight invocations are answered first
        await pool.close()

    async def reset(self, name: str | None = None, *, wait: bool = False) -> bool:
        """Shut environments down (every function's, or one's): the next invocations are
        cold. With `wait`, returns once they are gone (provisioned ones are initialised
        again, as Lambda keeps them); False if the function is unknown, or some environment
        outlived RESET_WAIT_S."""
        pools = list(self._pools.values()) if name is None else [self._pools.get(name)]
        if None in pools:
            return False
        for pool in pools:
            assert pool is not None
            await pool.reset()
        if not wait:
            return True
        deadline = time.monotonic() + RESET_WAIT_S
        while any(pool is not None and pool.has_older_environments() for pool in pools):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def reap(self, now: float) -> None:
        for pool in self._pools.values():
            pool.reap(now)

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))

    # --- introspection ----------------------------------------------------------------------
    def describe(self) -> list[dict[str, object]]:
        return [pool.describe() for pool in self._pools.values()]

    def environments(self) -> list[dict[str, object]]:
        return [env for pool in self._pools.values() for env in pool.environments()]
