"""The emulator: pools for every function behind one Invoke API listener.

`start` prepares runtimes, initialises provisioned environments and binds the Invoke API
(port 0 picks a free port, reported in `.port`); `stop` refuses new work, lets in-flight
invocations finish within a deadline, and shuts every environment down so that no runtime
process survives. `run` wraps both around a signal-aware wait for the CLI.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from emulator import errors, wire
from emulator.api.control import ControlApi
from emulator.api.invoke import InvokeApi
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.engine.events import EventFailure, EventQueue, EventSettings
from emulator.engine.eventstore import EventStore
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.pool import AccountConcurrency, FunctionPool
from emulator.httpserver import HttpServer
from emulator.metrics.logs import LogSink
from emulator.metrics.sampler import Sampler
from emulator.metrics.trace import TraceWriter
from emulator.sandbox import cgroups, users
from emulator.sandbox.base import SandboxFactory
from emulator.sandbox.cgroups import CgroupBackend
from emulator.sandbox.process import ProcessSandboxFactory, can_mount_private_tmp
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver

if TYPE_CHECKING:
    from emulator.reload import Reloader

REAP_INTERVAL_S = 1.0


def _stderr(message: str) -> None:
    print(f"lambda-emu: {message}", file=sys.stderr, flush=True)


class Emulator:
    def __init__(
        self,
        cfg: EmulatorConfig,
        *,
        host_env: Mapping[str, str] | None = None,
        warn: Callable[[str], None] = _stderr,
    ) -> None:
        self.cfg = cfg
        self.host_env = dict(os.environ if host_env is None else host_env)
        self.warn = warn
        self.logs = LogSink(cfg.state_dir / "logs", to_terminal=cfg.log_to_terminal)
        trace_path = cfg.trace_path or cfg.state_dir / "traces" / "invocations.jsonl"
        self.trace = TraceWriter(trace_path)
        self.sampler = Sampler(
            trace_path.with_name("samples.jsonl"),
            cfg.sample_interval_s,
            lambda: [env for pool in self.pools.values() for env in pool.envs],
        )
        self.account = AccountConcurrency(cfg.account_concurrency)
        self.sandboxes: SandboxFactory = ProcessSandboxFactory()  # replaced in start()
        self.cgroups: CgroupBackend | None = None
        self.limits = ""
        self.function_user: users.FunctionUser | None = None
        self.resolver = RuntimeResolver(cfg.cache_dir, warn)
        self.pools: dict[str, FunctionPool] = {}
        self.control = ControlApi(self)
        self.invoke_api = InvokeApi(self)
        self.events = EventQueue(
            self._invoke_event,
            delay_scale=cfg.event_retry_delay_scale,
            on_final_failure=self._event_failed,
            settings=self._event_settings,
            store=EventStore(cfg.state_dir / "events.sqlite3"),
        )
        self.server = HttpServer(
            self.invoke_api.handle,
            host=cfg.host,
            port=cfg.port,
            max_body=8 * 1024 * 1024,
            on_handler_error=self.report_internal_error,
        )
        self._reaper: asyncio.Task[None] | None = None
        self.reloader: Reloader | None = None
        self._inflight: set[asyncio.Future[InvocationResult]] = set()
        self.handler_errors: list[Exception] = []

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        host = self.cfg.host if self.cfg.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    def default_pool(self) -> FunctionPool | None:
        """RIE's `/functions/function/invocations` reaches the only (else the first) function."""
        return next(iter(self.pools.values()), None)

    def report_internal_error(self, exc: Exception) -> None:
        """An error of the emulator's own (never of a function): kept for tests, printed."""
        self.handler_errors.append(exc)
        self.warn(f"internal error: {exc!r}")

    # --- lifecycle --------------------------------------------------------------------------
    def _prepare_sandboxes(self) -> None:
        """Detect what this machine can enforce (once), after cleaning a crashed run's state."""
        cfg = self.cfg
        if cfg.cgroups != "off":
            for stale in cgroups.remove_stale():
                self.warn(f"removed a stale cgroup of a previous run: {stale}")
            self.cgroups = cgroups.detect(cfg.cgroups)
        private_tmp = cfg.private_tmp and can_mount_private_tmp()
        # functions run as another user only with a private mount namespace (see users.py)
        user = users.resolve(cfg.function_user) if private_tmp else None
        self.function_user = user
        self.sandboxes = ProcessSandboxFactory(
            self.cgroups, private_tmp=private_tmp, cpu_period_us=cfg.cpu_period_us, user=user
        )
        self.limits = cgroups.summary(self.cgroups, private_tmp=private_tmp, freeze=cfg.freeze)
        whom = f"{user.name} (uid {user.uid})" if user is not None else f"uid {os.geteuid()}"
        self.limits += f", functions run as {whom}"
        self._prepare_docker()
        if self.cgroups is not None and self.cgroups.caps.cpu:
            for fn in cfg.functions:
                share = cgroups.cpu_share(fn.memory_mb)
                if share.capped:
                    self.warn(
                        f"function '{fn.name}': {fn.memory_mb} MB is {share.vcpus:.2f} vCPU on "
                        f"Lambda; capped at this machine's {share.applied:.0f} cores"
                    )

    def _prepare_docker(self) -> None:
        """Functions that run in containers (`--sandbox docker`, a function's own `sandbox`,
        PackageType Image) get the docker sandbox; the others keep the process sandbox."""
        from emulator.sandbox import docker

        cfg = self.cfg
        if cfg.sandbox != "docker" and all(
            fn.sandbox in (None, "auto", "process") and fn.package_type == "Zip"
            for fn in cfg.functions
        ):
            return
        if not docker.engine_answers():
            raise errors.SandboxError(
                "the docker sandbox needs a Docker engine and none answers "
                "(scripts/setup-docker starts one)"
            )

        def kind(fn: FunctionConfig) -> str:
            return docker.choose(fn, cfg.sandbox, True)

        factory = docker.DockerSandboxFactory(
            cpu_period_us=cfg.cpu_period_us, warn=self.warn, function_user=cfg.function_user
        )
        for name in factory.remove_stale():
            self.warn(f"removed a stale container of a previous run: {name}")
        resolver = docker.DispatchingResolver(self.resolver, factory, kind)
        self.resolver = resolver
        in_docker = sorted(fn.name for fn in cfg.functions if kind(fn) == "docker")
        self.sandboxes = docker.DispatchingFactory(
            self.sandboxes, resolver, all_docker=len(in_docker) == len(cfg.functions)
        )
        containers = (
            "docker sandbox: memory, pids and /tmp limited per container, CPU quota after init, "
            "freeze by pause"
        )
        if len(in_docker) == len(cfg.functions):
            self.limits = containers
        else:
            self.limits += f"; {containers} for {', '.join(in_docker) or 'no function'}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._prepare_sandboxes()
        commands: dict[str, RuntimeCommand] = {}
        for fn in self.cfg.functions:
            # May run pip once per runtime / requirements.txt: keep it off the event loop.
            commands[fn.name] = await loop.run_in_executor(None, self.resolver.prepare, fn)
        for fn in self.cfg.functions:
            self.pools[fn.name] = self._make_pool(fn, commands[fn.name])
        await asyncio.gather(*(pool.start() for pool in self.pools.values()))
        recovered = self.events.recover()
        if recovered:
            self.warn(f"delivering {recovered} Event invocation(s) queued by a previous run")
        await self.server.start()
        self._reaper = loop.create_task(self._reap_forever())
        self.sampler.start()
        if self.cfg.hot_reload and self.cfg.manifest_path is not None:
            from emulator.reload import Reloader

            self.reloader = Reloader(self, self.cfg.manifest_path, self.warn)
            await self.reloader.start()

    def _make_pool(self, fn: FunctionConfig, command: RuntimeCommand) -> FunctionPool:
        return FunctionPool(
            fn,
            self.cfg,
            command,
            sandboxes=self.sandboxes,
            logs=self.logs,
            trace=self.trace,
            account=self.account,
            host_env=self.host_env,
        )

    # --- hot reload (emulator/reload.py) ----------------------------------------------------
    async def _command(self, fn: FunctionConfig) -> RuntimeCommand:
        # May run pip (a changed requirements.txt): keep it off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, self.resolver.prepare, fn)

    async def reload_function(self, fn: FunctionConfig) -> None:
        pool = self.pools.get(fn.name)
        if pool is None:
            await self.add_function(fn)
            return
        await pool.reload(fn, await self._command(fn))

    async def add_function(self, fn: FunctionConfig) -> None:
        pool = self._make_pool(fn, await self._command(fn))
        self.pools[fn.name] = pool
        await pool.start()

    async def remove_function(self, name: str) -> None:
        pool = self.pools.pop(name, None)  # new invocations get ResourceNotFound from here on
        if pool is None:
            return
        deadline = time.monotonic() + pool.fn.timeout_s + 1.0
        while pool.busy_count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # in-flight invocations are answered first
        await pool.close()

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            now = time.monotonic()
            for pool in self.pools.values():
                pool.reap(now)
            self.trace.flush()
            self.logs.flush()

    async def stop(self, drain_s: float = 5.0) -> None:
        """Stop listening, let in-flight invocations finish for `drain_s`, remove everything."""
        await self.server.stop_accepting()
        if self.reloader is not None:
            await self.reloader.stop()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        deadline = time.monotonic() + drain_s
        while any(pool.busy_count for pool in self.pools.values()) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        kept = await self.events.close()
        if kept:
            self.warn(
                f"{kept} queued Event invocation(s) kept in {self.cfg.state_dir / 'events.sqlite3'}"
                "; the next start on this state directory delivers them"
            )
        await self.sampler.stop()
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
        await self.server.close()  # answers already written; drop whatever is left
        if self.cgroups is not None:
            self.cgroups.remove_all()
        self.trace.close()
        self.logs.close()

    # --- Event invocations ------------------------------------------------------------------
    def _invoke_event(self, inv: Invocation) -> asyncio.Future[InvocationResult]:
        pool = self.pools.get(inv.function_name)
        if pool is None:  # removed by a hot reload while the event waited
            fut: asyncio.Future[InvocationResult] = asyncio.get_running_loop().create_future()
            fut.set_exception(errors.ResourceNotFound(inv.function_name))
            return fut
        return asyncio.ensure_future(pool.invoke(inv))

    def _event_settings(self, name: str) -> EventSettings:
        pool = self.pools.get(name)
        if pool is None:
            return EventSettings()
        return EventSettings(pool.fn.maximum_retry_attempts, float(pool.fn.maximum_event_age_s))

    def _event_failed(self, failure: EventFailure) -> None:
        inv = failure.invocation
        self.logs.write(
            inv.function_name, f"Event {inv.request_id} was not delivered: {failure.condition}"
        )
        pool = self.pools.get(inv.function_name)
        destination = pool.fn.on_failure if pool is not None else None
        if destination is None:
            return
        record = json.dumps(invocation_record(failure), separators=(",", ":"))
        if destination.startswith("function:"):
            target = self.pools.get(destination.removeprefix("function:"))
            if target is None:
                self.warn(f"on_failure: no function '{destination}' for event {inv.request_id}")
                return
            try:
                self.events.submit(
                    Invocation(
                        function_name=target.fn.name,
                        payload=record.encode(),
                        invoked_arn=self.invoke_api.arn(target.fn.name),
                        invocation_type=wire.INVOCATION_EVENT,
                    )
                )
            except errors.TooManyRequests:
                self.warn(f"on_failure: the Event queue is full; record of {inv.request_id} lost")
            return
        try:
            with open(destination, "a", encoding="utf-8") as fh:
                fh.write(record + "\n")
        except OSError as exc:
            self.warn(f"on_failure: cannot write {destination}: {exc.strerror}")


def invocation_record(failure: EventFailure) -> dict[str, object]:
    """Lambda's invocation record for an asynchronous invocation's destination."""
    inv = failure.invocation
    try:
        request_payload: object = json.loads(inv.payload or b"{}")
    except ValueError:
        request_payload = inv.payload.decode("utf-8", "replace")
    record: dict[str, object] = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z",
        "requestContext": {
            "requestId": inv.request_id,
            # qualified, as Lambda writes it: ...:function:<name>:<version>
            "functionArn": inv.invoked_arn
            if inv.invoked_arn.count(":") >= 7
            else f"{inv.invoked_arn}:{wire.LATEST}",
            "condition": failure.condition,
            "approximateInvokeCount": failure.invoke_count,
        },
        "requestPayload": request_payload,
    }
    result = failure.result
    if result is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": wire.LATEST,
            "functionError": "Unhandled" if result.function_error else None,
        }
        try:
            record["responsePayload"] = json.loads(result.payload or b"null")
        except ValueError:
            record["responsePayload"] = result.payload.decode("utf-8", "replace")
    return record


async def run(cfg: EmulatorConfig, *, on_started: Callable[[Emulator], None]) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (handlers restored on the way out)."""
    emulator = Emulator(cfg)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await emulator.start()
        on_started(emulator)
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        await emulator.stop()
