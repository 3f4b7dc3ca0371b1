"""The function registry: every function the emulator serves, by name, and its pools.

It is the one thing the HTTP surfaces (Invoke API, control API, front doors) and the
reloader are given to reach functions: they get, add, remove, reload, reset and describe
functions here, and never see the server. It is a read-only mapping of name → the pool of
`$LATEST`.

Versions and aliases: each published version has a pool of its own, as on Lambda, where
versions never share execution environments; an alias is a name for a version, with weighted
routing (`AdditionalVersionWeights`) decided per invocation.

    resolve(name, qualifier):  None | "$LATEST" ─► the $LATEST pool
                               "N"              ─► version N's pool
                               alias            ─► its version's pool, or by weight another's
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import replace

from emulator.config import LATEST_VERSION, AliasConfig, FunctionConfig, VersionConfig
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
        self._pools: dict[str, FunctionPool] = {}  # name -> $LATEST
        self._published: dict[str, dict[str, FunctionPool]] = {}  # name -> version -> pool
        self._aliases: dict[str, dict[str, AliasConfig]] = {}
        self._random = random.Random()

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
        return sum(pool.busy_count for pool in self.all_pools())

    def all_pools(self) -> list[FunctionPool]:
        """Every pool: each function's $LATEST, then its published versions'."""
        return [
            pool
            for name, latest in self._pools.items()
            for pool in (latest, *self._published.get(name, {}).values())
        ]

    # --- qualifiers ---------------------------------------------------------------------------
    def resolve(self, name: str, qualifier: str | None) -> FunctionPool | None:
        """The pool an invocation of `name` (with `qualifier`) runs in: `$LATEST`'s, a
        version's, or an alias's version's; with weighted routing, the alias's version or an
        additional one, picked at random by weight. None when either is unknown."""
        if qualifier is None or qualifier == LATEST_VERSION:
            return self._pools.get(name)
        published = self._published.get(name, {})
        if qualifier in published:
            return published[qualifier]
        alias = self._aliases.get(name, {}).get(qualifier)
        if alias is None:
            return None
        return self.pool_for(name, self.route(alias))

    def route(self, alias: AliasConfig) -> str:
        """The version one invocation of `alias` executes: each additional version with its
        weight's probability, else the alias's own (RoutingConfig, docs
        configuration-aliases.html#configuring-alias-routing)."""
        draw = self._random.random()
        for version, weight in alias.routing.items():
            if draw < weight:
                return version
            draw -= weight
        return alias.version

    def pool_for(self, name: str, version: str) -> FunctionPool | None:
        """The pool of one version (`$LATEST` or a number) of `name`."""
        if version == LATEST_VERSION:
            return self._pools.get(name)
        return self._published.get(name, {}).get(version)

    def versions(self, name: str) -> tuple[str, ...]:
        return tuple(self._published.get(name, {}))

    def aliases(self, name: str) -> Mapping[str, AliasConfig]:
        return dict(self._aliases.get(name, {}))

    async def publish(self, name: str, snapshot: FunctionConfig | None = None) -> str:
        """PublishVersion: a new numbered version, a snapshot of `$LATEST`'s configuration,
        with a pool of its own. Returns its number. The control plane passes its own
        `snapshot` (its number in `version`; code of its own) when it restores a version."""
        latest = self._pools[name].fn
        published = self._published.setdefault(name, {})
        if snapshot is None:
            number = str(max((int(v) for v in published), default=0) + 1)
            snapshot = latest.published(VersionConfig(number))
        pool = await self._start_pool(snapshot)
        published[snapshot.version] = pool
        self._share_concurrency(name)
        return snapshot.version

    def put_alias(self, name: str, alias: AliasConfig) -> None:
        """CreateAlias / UpdateAlias (the version and its weights exist: the caller checks)."""
        self._aliases.setdefault(name, {})[alias.name] = alias

    def delete_alias(self, name: str, alias: str) -> None:
        self._aliases.get(name, {}).pop(alias, None)

    def configure(self, name: str, versions: tuple[str, ...], **settings: object) -> None:
        """Settings that leave the environments be (reserved concurrency, event invoke
        config), as on Lambda: these versions' pools read them from the next invocation on."""
        for version in versions:
            pool = self.pool_for(name, version)
            if pool is not None:
                pool.fn = replace(pool.fn, **settings)  # type: ignore[arg-type]

    async def remove_version(self, name: str, version: str) -> None:
        """DeleteFunction of one version: its pool drained and removed."""
        pool = self._published.get(name, {}).pop(version, None)
        if pool is not None:
            self._share_concurrency(name)
            await self._drain(pool)

    async def update(self, fn: FunctionConfig) -> None:
        """One pool's new configuration (`fn.version`: `$LATEST` or a published version),
        its versions and aliases untouched (the control plane's UpdateFunctionCode, …
        Configuration, provisioned concurrency): new invocations go to fresh environments."""
        pool = self.pool_for(fn.name, fn.version)
        if pool is None:
            raise KeyError(f"{fn.name}:{fn.version}")
        await pool.reload(fn, await self._prepare(fn))

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self, functions: tuple[FunctionConfig, ...]) -> None:
        """Prepare every function's runtime, then start the pools (provisioned environments
        initialise here)."""
        commands = [await self._prepare(fn) for fn in functions]
        for fn, command in zip(functions, commands, strict=True):
            self._pools[fn.name] = self._make_pool(fn, command)
            self._published[fn.name] = {
                v.version: self._make_pool(fn.published(v), command) for v in fn.versions
            }
            self._aliases[fn.name] = {alias.name: alias for alias in fn.aliases}
            self._share_concurrency(fn.name)
        await asyncio.gather(*(pool.start() for pool in self.all_pools()))

    async def _start_pool(self, fn: FunctionConfig) -> FunctionPool:
        pool = self._make_pool(fn, await self._prepare(fn))
        await pool.start()
        return pool

    def _share_concurrency(self, name: str) -> None:
        """Reserved concurrency is the function's, shared by all its versions' pools."""
        pools = [self._pools[name], *self._published.get(name, {}).values()]
        for pool in pools:
            pool.function_busy = lambda: sum(p.busy_count for p in pools)

    async def add(self, fn: FunctionConfig) -> None:
        self._pools[fn.name] = await self._start_pool(fn)
        self._published[fn.name] = {}
        await self._set_versions(fn)

    async def _set_versions(self, fn: FunctionConfig) -> None:
        """The manifest's versions and aliases, as declared: each version's pool reloaded
        (⚠ Lambda's versions are immutable; a changed manifest republishes them), versions it
        no longer declares (published ones too) drained and removed."""
        published = self._published.setdefault(fn.name, {})
        wanted = {v.version: fn.published(v) for v in fn.versions}
        for number in [n for n in published if n not in wanted]:
            await self._drain(published.pop(number))
        for number, config in wanted.items():
            if number in published:
                await published[number].reload(config, await self._prepare(config))
            else:
                published[number] = await self._start_pool(config)
        self._aliases[fn.name] = {alias.name: alias for alias in fn.aliases}
        self._share_concurrency(fn.name)

    async def reload(self, fn: FunctionConfig) -> None:
        """New code or configuration: new invocations go to fresh environments."""
        pool = self._pools.get(fn.name)
        if pool is None:
            await self.add(fn)
            return
        await pool.reload(fn, await self._prepare(fn))
        await self._set_versions(fn)

    async def remove(self, name: str) -> None:
        pool = self._pools.pop(name, None)  # new invocations get ResourceNotFound from here on
        if pool is None:
            return
        self._aliases.pop(name, None)
        pools = [pool, *self._published.pop(name, {}).values()]
        await asyncio.gather(*(self._drain(p) for p in pools))

    async def _drain(self, pool: FunctionPool) -> None:
        deadline = time.monotonic() + pool.fn.timeout_s + 1.0
        while pool.busy_count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # in-flight invocations are answered first
        await pool.close()

    async def reset(self, name: str | None = None, *, wait: bool = False) -> bool:
        """Shut environments down (every function's, or one's): the next invocations are
        cold. With `wait`, returns once they are gone (provisioned ones are initialised
        again, as Lambda keeps them); False if the function is unknown, or some environment
        outlived RESET_WAIT_S."""
        if name is None:
            pools: list[FunctionPool | None] = list(self.all_pools())
        elif name not in self._pools:
            return False
        else:
            pools = [self._pools[name], *self._published.get(name, {}).values()]
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
        for pool in self.all_pools():
            pool.reap(now)

    async def close(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self.all_pools()))

    # --- introspection ----------------------------------------------------------------------
    def describe(self) -> list[dict[str, object]]:
        out = []
        for name, pool in self._pools.items():
            described = pool.describe()
            published = self._published.get(name, {})
            if published or self._aliases.get(name):
                described["versions"] = {v: p.describe() for v, p in published.items()}
                described["aliases"] = {
                    alias.name: {
                        "version": alias.version,
                        "routing": dict(alias.routing),
                        "provisioned_concurrency": alias.provisioned_concurrency,
                    }
                    for alias in self._aliases.get(name, {}).values()
                }
            out.append(described)
        return out

    def environments(self) -> list[dict[str, object]]:
        return [env for pool in self.all_pools() for env in pool.environments()]
