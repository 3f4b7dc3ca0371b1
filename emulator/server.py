"""The emulator: the function registry behind one Invoke API listener, and their lifecycle.

`start` prepares runtimes, initialises provisioned environments and binds the Invoke API
(port 0 picks a free port, reported in `.port`); `stop` refuses new work, lets in-flight
invocations finish within a deadline, and shuts every environment down so that no runtime
process survives. `run` wraps both around a signal-aware wait for the CLI.

The server wires the parts and owns their lifetimes; the HTTP surfaces get the registry and
the few narrow things they need (the Event queue's `submit`, the ARN scheme, where internal
errors go), never the server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from emulator import errors
from emulator.api.control import ControlApi
from emulator.api.invoke import InvokeApi
from emulator.api.invoke_stream import InvokeStreamApi
from emulator.api.routes import Router
from emulator.arns import ArnScheme
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.controlplane.aliases_api import AliasesApi
from emulator.controlplane.functions_api import FunctionsApi
from emulator.controlplane.plane import ControlPlane
from emulator.controlplane.policy_api import PolicyApi
from emulator.controlplane.settings_api import SettingsApi
from emulator.controlplane.store import CREATE_REQUEST_MAX_BYTES
from emulator.controlplane.urls_api import UrlsApi
from emulator.engine.destinations import FailureDestinations
from emulator.engine.events import EventQueue, EventSettings
from emulator.engine.eventstore import EventStore
from emulator.engine.finish import InvocationLedger
from emulator.engine.functions import FunctionRegistry
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.pool import AccountConcurrency, FunctionPool
from emulator.frontdoor.model import HttpConfig
from emulator.frontdoor.server import API_MAX_BODY, FrontDoor
from emulator.httpserver import HttpServer, connection_timeouts
from emulator.loops import stop_on_signals
from emulator.metrics.logs import LogSink
from emulator.metrics.sampler import Sampler
from emulator.metrics.trace import TraceWriter, trace_path
from emulator.sandbox import capabilities, registry
from emulator.sandbox.cgroups import CgroupBackend
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
        self.internal_errors: list[Exception] = []
        self.logs = LogSink(cfg.state_dir / "logs", to_terminal=cfg.log_to_terminal)
        self.trace = TraceWriter(trace_path(cfg))
        self.ledger = InvocationLedger(self.logs, self.trace)
        self.account = AccountConcurrency(cfg.account_concurrency)
        self.resolver = RuntimeResolver(cfg.cache_dir, warn)
        self.sandboxes = registry.RoutingSandboxFactory(
            registry.SandboxSettings(cfg, self.resolver, warn)
        )
        self.functions = FunctionRegistry(make_pool=self._make_pool, prepare=self._prepare)
        self.arns = ArnScheme(cfg.region, cfg.account_id)
        self.events = EventQueue(
            self._invoke_event,
            delay_scale=cfg.event_retry_delay_scale,
            on_final_failure=FailureDestinations(
                self.functions, self._submit_event, self.logs, self.arns, warn
            ),
            settings=self._event_settings,
            store=EventStore(cfg.state_dir / "events.sqlite3"),
        )
        self.invoke_api = InvokeApi(
            self.functions, self.events, self.arns, on_internal_error=self.report_internal_error
        )
        self.invoke_stream = InvokeStreamApi(
            self.invoke_api, on_internal_error=self.report_internal_error
        )
        self.control = ControlApi(self.functions, self.health)
        self.frontdoor = FrontDoor(
            cfg.http,
            self.functions,
            self.arns,
            self.trace,
            region=cfg.region,
            account_id=cfg.account_id,
            credentials=cfg.credentials,
            on_internal_error=self.report_internal_error,
            warn=warn,
        )
        self.controlplane = ControlPlane(
            self.functions,
            self.arns,
            cfg.state_dir,
            s3_dir=cfg.s3_dir or cfg.state_dir / "s3",
            account_concurrency=cfg.account_concurrency,
            http=lambda: self.frontdoor.config,
            on_http=self.update_http,
            warn=warn,
        )
        self.invoke_api.state_of = self.controlplane.unserved_state
        functions_api = FunctionsApi(self.controlplane)
        self.server = HttpServer(
            Router(
                "invoke",
                {
                    "invoke": self.invoke_api,
                    "invoke_stream": self.invoke_stream,
                    "control": self.control,
                    "urls": self.frontdoor,
                    "functions": functions_api,
                    "aliases": AliasesApi(functions_api),
                    "settings": SettingsApi(self.controlplane, functions_api),
                    "url_configs": UrlsApi(functions_api),
                    "policy": PolicyApi(functions_api),
                },
            ),
            host=cfg.host,
            port=cfg.port,
            # CreateFunction's limit (a 50 MB zip, base64); the Invoke API checks its own 6 MB
            max_body=CREATE_REQUEST_MAX_BYTES + 1,
            on_handler_error=self.report_internal_error,
            # function URLs need every header as received; the Invoke API alone does not
            raw_headers=bool(cfg.http.urls),
            timeouts=connection_timeouts(cfg),
        )
        # API Gateway's routes: a second listener, bound only while the manifest has routes
        self.api_server = HttpServer(
            Router("api", {"apis": self.frontdoor}),
            host=cfg.host,
            port=cfg.api_port,
            max_body=API_MAX_BODY,
            on_handler_error=self.report_internal_error,
            raw_headers=True,
            timeouts=connection_timeouts(cfg),
        )
        self.api_listening = False
        self.sampler = Sampler(
            trace_path(cfg).with_name("samples.jsonl"),
            cfg.sample_interval_s,
            lambda: [env for pool in self.functions.all_pools() for env in pool.envs],
        )
        self._reaper: asyncio.Task[None] | None = None
        self.reloader: Reloader | None = None

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        host = self.cfg.host if self.cfg.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str | None:
        """The API Gateway listener's address, None while no API route is served."""
        if not self.api_listening:
            return None
        host = self.cfg.host if self.cfg.host not in ("0.0.0.0", "::") else "127.0.0.1"
        return f"http://{host}:{self.api_server.port}"

    def http_routes(self) -> list[dict[str, object]]:
        """Every API route and function URL served, with its address (start lines, health)."""
        return self.frontdoor.describe(self.api_url, self.url)

    async def _manifest_http(self, http: HttpConfig) -> None:
        """A hot-reloaded manifest's routes and URLs, with the Lambda API's URLs kept."""
        await self.update_http(self.controlplane.merge_http(http))

    async def update_http(self, http: HttpConfig) -> None:
        """Serve a new front-door configuration (hot reload): the api listener starts when
        the first route appears and stops when the last one goes."""
        self.frontdoor.update(http)
        self.server.raw_headers = bool(http.urls)
        if http.routes and not self.api_listening:
            await self.api_server.start()
            self.api_listening = True
        elif not http.routes and self.api_listening:
            await self.api_server.stop_accepting()
            await self.api_server.close()
            self.api_listening = False

    @property
    def limits(self) -> str:
        """What this machine enforces, per sandbox kind in use: the start line."""
        return self.sandboxes.describe()

    @property
    def cgroups(self) -> CgroupBackend | None:
        """The cgroups the process sandbox makes environments in (None: none writable, or no
        function runs in processes)."""
        process = self.sandboxes.factories.get("process")
        backend: CgroupBackend | None = getattr(process, "cgroups", None)
        return backend

    def report_internal_error(self, exc: Exception) -> None:
        """An error of the emulator's own (never of a function): kept for tests, printed."""
        self.internal_errors.append(exc)
        self.warn(f"internal error: {exc!r}")

    def health(self) -> dict[str, object]:
        """What `/_emu/health` says about this emulator (beside the function count)."""
        process = self.sandboxes.factories.get("process")
        backend = self.cgroups
        kinds = {f.kind for f in self.sandboxes.factories.values()}
        return {
            "pid": os.getpid(),
            "cgroups": backend.version if backend is not None else None,
            "limits": self.limits,
            # the portable sandbox (macOS, Windows, --sandbox portable) enforces no limit
            "portable": "portable" in kinds,
            "events_pending": self.events.pending,
            "function_uid": getattr(process, "function_uid", None) or capabilities.euid(),
            "api_url": self.api_url,
            "http": self.http_routes(),
            "isolation": self.isolation(),
        }

    def isolation(self) -> dict[str, list[str]]:
        """Per function, where its isolation does not hold (docs/security.md): an empty list
        when it runs as its own user, with its own /tmp and its code read-only."""
        gaps: dict[str, list[str]] = {}
        for fn in self.cfg.functions:
            factory = self.sandboxes.factories.get(registry.choose(fn, self.cfg.sandbox))
            method = getattr(factory, "isolation_gaps", None)
            gaps[fn.name] = list(method()) if method is not None else []
        return gaps

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # every sandbox kind the manifest's functions use is made now: a missing engine or an
        # unwritable cgroup is said at start, not at the first invocation
        kinds = [registry.choose(fn, self.cfg.sandbox) for fn in self.cfg.functions]
        for kind in dict.fromkeys(kinds or [registry.choose_default(self.cfg.sandbox)]):
            self.sandboxes.factory(kind)
        for name, gaps in self.isolation().items():
            if gaps:
                self.warn(f"⚠ function '{name}' is not isolated: it {', '.join(gaps)}")
        await self.functions.start(self.cfg.functions)
        await self.controlplane.restore(fresh=self.cfg.fresh)
        recovered = self.events.recover()
        if recovered:
            self.warn(f"delivering {recovered} Event invocation(s) queued by a previous run")
        await self.server.start()
        if self.cfg.http.routes:
            try:
                await self.api_server.start()
            except BaseException:
                await self.server.close()
                raise
            self.api_listening = True
        self._reaper = loop.create_task(self._reap_forever())
        self.sampler.start()
        if self.cfg.hot_reload and self.cfg.manifest_path is not None:
            from emulator.manifests import StackSettings
            from emulator.reload import Reloader

            self.reloader = Reloader(
                self.functions,
                self.cfg.manifest_path,
                self.cfg.state_dir,
                self.warn,
                overrides=self.cfg.overrides,
                http=self.cfg.http,
                on_http=self._manifest_http,
                settings=StackSettings(
                    self.cfg.parameter_overrides, self.cfg.region, self.cfg.account_id
                ),
            )
            await self.reloader.start()

    async def _prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        # May run pip (a new requirements.txt) or build a plan: keep it off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, self.sandboxes.prepare, fn)

    def _make_pool(self, fn: FunctionConfig, command: RuntimeCommand) -> FunctionPool:
        return FunctionPool(
            fn,
            self.cfg,
            command,
            sandboxes=self.sandboxes,
            logs=self.logs,
            ledger=self.ledger,
            account=self.account,
            host_env=self.host_env,
            on_internal_error=self.report_internal_error,
        )

    async def _reap_forever(self) -> None:
        while True:
            await asyncio.sleep(REAP_INTERVAL_S)
            self.functions.reap(time.monotonic())
            self.trace.flush()
            self.logs.flush()

    async def stop(self, drain_s: float = 5.0) -> None:
        """Stop listening, let in-flight invocations finish for `drain_s`, remove everything."""
        await self.server.stop_accepting()
        if self.api_listening:
            await self.api_server.stop_accepting()
        if self.reloader is not None:
            await self.reloader.stop()
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        await self.controlplane.close()
        deadline = time.monotonic() + drain_s
        while self.functions.busy_count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self.frontdoor.close()  # authorizations still waiting are dropped
        kept = await self.events.close()
        if kept:
            self.warn(
                f"{kept} queued Event invocation(s) kept in {self.cfg.state_dir / 'events.sqlite3'}"
                "; the next start on this state directory delivers them"
            )
        await self.sampler.stop()
        await self.functions.close()
        await self.server.close()  # answers already written; drop whatever is left
        if self.api_listening:
            await self.api_server.close()
            self.api_listening = False
        await asyncio.get_running_loop().run_in_executor(None, self.sandboxes.close)
        self.trace.close()
        self.logs.close()

    # --- Event invocations ------------------------------------------------------------------
    def _invoke_event(self, inv: Invocation) -> asyncio.Future[InvocationResult]:
        pool = self.functions.pool_for(inv.function_name, inv.executed_version)
        try:
            if pool is None:  # removed by a hot reload while the event waited
                raise errors.ResourceNotFound(inv.function_name)
            pool.submit(inv)
        except errors.ServiceError as exc:
            inv.fail(exc)
        return inv.reply

    def _submit_event(self, inv: Invocation) -> None:
        self.events.submit(inv)

    def _event_settings(self, name: str) -> EventSettings:
        pool = self.functions.get(name)
        if pool is None:
            return EventSettings()
        return EventSettings(pool.fn.maximum_retry_attempts, float(pool.fn.maximum_event_age_s))


async def run(cfg: EmulatorConfig, *, on_started: Callable[[Emulator], None]) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly (handlers restored on the way out)."""
    emulator = Emulator(cfg)
    with stop_on_signals() as stop:
        try:
            await emulator.start()
            on_started(emulator)
            await stop.wait()
        finally:
            await emulator.stop()
