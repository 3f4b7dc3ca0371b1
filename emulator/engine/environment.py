"""One execution environment: its lifecycle, timings and failures (LAMBDA_SPEC §3, §5).

    Init ──first /next──▶ Ready ──invoke──▶ Invoking ──response──▶ Finishing ──/next──▶ Ready …
      │                                        │ timeout / exit / OOM                    │
      └── init error / exit / timeout ─────────┴──────────────────────────────▶ Shutdown ◀┘

An environment owns one Runtime API listener and one sandbox. It turns what the runtime did
into an `InvocationResult` with Lambda's own error bodies, writes START / END / REPORT, and
tells its pool when it is ready again (`on_ready`) or gone (`on_gone`). It never decides
which environment serves a request: that is the pool's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import secrets
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from emulator import wire
from emulator.api.extensions import ExtensionFailure, ExtensionsApi
from emulator.api.runtime import (
    FunctionError,
    FunctionResponse,
    InitFailed,
    ResponseTooLarge,
    RuntimeApi,
    RuntimeOutcome,
    RuntimeState,
)
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.metrics.logs import InvocationLog, LogSink
from emulator.metrics.report import (
    Report,
    billed_duration_ms,
    end_line,
    start_line,
)
from emulator.metrics.trace import TraceRecord, TraceWriter
from emulator.sandbox import peers
from emulator.sandbox.base import (
    ExitStatus,
    Sandbox,
    SandboxFactory,
    SandboxSpec,
    SupportsExtensions,
)
from emulator.sandbox.runtimes import RuntimeCommand

_MB = 1024 * 1024
MAX_EXTENSIONS = 10
# Shutdown with external extensions (LAMBDA_SPEC §3): 2,000 ms in all, of which the runtime
# gets up to 300 ms after SIGTERM; then SHUTDOWN to the extensions; SIGKILL at the deadline.
SHUTDOWN_BUDGET_S = 2.0
RUNTIME_SHUTDOWN_S = 0.3


class EnvState(StrEnum):
    INIT = "Init"
    READY = "Ready"
    INVOKING = "Invoking"
    FINISHING = "Finishing"  # response sent, runtime has not called /next yet
    SHUTDOWN = "Shutdown"


@dataclass(frozen=True, slots=True)
class InitDone:
    init_ms: float


@dataclass(frozen=True, slots=True)
class InitFailure:
    """Init did not finish: the runtime reported an error, exited, or ran out of time."""

    init_ms: float
    status: str  # "error" | "timeout"
    error_type: str
    body: bytes  # what the caller receives if this failure is final


InitResult = InitDone | InitFailure


@dataclass(frozen=True, slots=True)
class _Exited:
    status: ExitStatus


@dataclass(frozen=True, slots=True)
class _TimedOut:
    pass


@dataclass(frozen=True, slots=True)
class _ExtensionsReady:
    """What the environment waited for on its extensions holds (registered, or all in next)."""

    at: float


@dataclass(frozen=True, slots=True)
class _ExtensionFailed:
    failure: ExtensionFailure


_PhaseEvent = (
    RuntimeOutcome | InitFailed | _Exited | _TimedOut | _ExtensionsReady | _ExtensionFailed | float
)


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


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def lambda_environment(
    fn: FunctionConfig,
    cfg: EmulatorConfig,
    command: RuntimeCommand,
    *,
    runtime_api: str,
    init_type: str,
    tmp_dir: Path,
    host_env: Mapping[str, str],
) -> dict[str, str]:
    """The environment variables Lambda gives a runtime (LAMBDA_SPEC §5)."""
    today = dt.datetime.now(dt.UTC)
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": wire.LATEST,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today:%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}",
        "AWS_REGION": cfg.region,
        "AWS_DEFAULT_REGION": cfg.region,
        "_HANDLER": fn.handler,
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LAMBDA_RUNTIME_DIR": command.runtime_dir,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_INITIALIZATION_TYPE": init_type,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        # Lambda's PATH first; the host's after it so local tools a function calls resolve.
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin:" + host_env.get("PATH", ""),
        "TMPDIR": str(tmp_dir),
    }
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "LD_LIBRARY_PATH",
    ):
        if host_env.get(key):
            env[key] = host_env[key]
    env.setdefault("AWS_ACCESS_KEY_ID", "lambda-emu")  # what a role gives: some credentials
    env.setdefault("AWS_SECRET_ACCESS_KEY", "lambda-emu")
    if command.execution_env:
        env["AWS_EXECUTION_ENV"] = command.execution_env
    env.update(command.env)
    env.update(fn.environment)
    return env


class ExecutionEnvironment:
    def __init__(
        self,
        *,
        fn: FunctionConfig,
        cfg: EmulatorConfig,
        command: RuntimeCommand,
        sandboxes: SandboxFactory,
        logs: LogSink,
        trace: TraceWriter,
        host_env: Mapping[str, str],
        init_type: str = "on-demand",
        on_ready: Callable[[ExecutionEnvironment], None],
        on_gone: Callable[[ExecutionEnvironment], None],
    ) -> None:
        self.id = secrets.token_hex(6)
        self.fn = fn
        self.cfg = cfg
        self.command = command
        self.init_type = init_type
        self.generation = 0  # the pool's generation it was made in (reset and reload bump it)
        self.state = EnvState.INIT
        self.created_at = time.time()
        self.last_used = time.monotonic()
        self.invocations = 0
        self.init_ms: float | None = None
        self._sandboxes = sandboxes
        self._logs = logs
        self._trace = trace
        self._host_env = host_env
        self._on_ready = on_ready
        self._on_gone = on_gone
        self._phase: asyncio.Future[_PhaseEvent] | None = None
        self._log: InvocationLog | None = None
        self._partial = b""
        self._finish_timer: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._cpu_mark = (0.0, 0.0)
        self.runtime = RuntimeApi(
            on_init_done=self._set_phase,
            on_init_error=self._set_phase,
            on_ready=self._runtime_ready,
            admit=self._admits if cfg.runtime_api_owner_check else None,
        )
        self.sandbox: Sandbox | None = None
        # Extensions (LAMBDA_SPEC §3): internal ones may register with any function.
        self.extension_paths = extension_executables(fn.layers)
        self.extensions = ExtensionsApi(
            function_name=fn.name,
            handler=fn.handler,
            account_id=cfg.account_id,
            external_names=tuple(p.name for p in self.extension_paths),
            on_change=self._extensions_changed,
            on_failure=self._extension_failed,
        )
        self.runtime.extensions = self.extensions
        self._ext_pred: Callable[[], bool] | None = None
        self._ext_failure: ExtensionFailure | None = None
        self._shutdown_reason = "spindown"

    def __repr__(self) -> str:
        return f"<ExecutionEnvironment {self.fn.name}/{self.id} {self.state}>"

    # --- phase plumbing ---------------------------------------------------------------------
    def _set_phase(self, event: _PhaseEvent) -> None:
        phase = self._phase
        if phase is not None and not phase.done():
            phase.set_result(event)

    def _timeout(self) -> None:
        self._set_phase(_TimedOut())

    async def _await_extensions(self, predicate: Callable[[], bool]) -> _PhaseEvent:
        """Wait, on a fresh phase, until `predicate` holds for the extensions (or the runtime
        exits, an extension fails, the phase times out)."""
        if predicate():
            return _ExtensionsReady(time.perf_counter())
        phase: asyncio.Future[_PhaseEvent] = asyncio.get_running_loop().create_future()
        self._phase = phase
        self._ext_pred = predicate
        try:
            return await phase
        finally:
            self._ext_pred = None

    def _admits(self, peer: tuple[str, int]) -> bool:
        """Only this environment's own processes may use its Runtime API: another function
        on this machine could otherwise read its event and answer it (emulator/sandbox/peers.py)."""
        sandbox = self.sandbox
        if sandbox is None:
            return False
        pid = sandbox.pid
        if pid is None:
            # a container whose host pid is not known (yet, or not visible from here)
            return sandbox.kind != "process"
        return peers.connection_from_tree(peer, ("127.0.0.1", self.runtime.server.port), pid)

    def _extensions_changed(self) -> None:
        predicate = self._ext_pred
        if predicate is not None and predicate():
            self._set_phase(_ExtensionsReady(time.perf_counter()))

    def _extension_failed(self, failure: ExtensionFailure) -> None:
        # An extension's init/exit error is fatal for the environment (LAMBDA_SPEC §3).
        self._ext_failure = failure
        self._set_phase(_ExtensionFailed(failure))

    def _sandbox_exited(self, fut: asyncio.Future[ExitStatus]) -> None:
        if fut.cancelled():
            return
        self._set_phase(_Exited(fut.result()))
        if self.state in (EnvState.READY, EnvState.FINISHING):
            # An idle runtime died: nothing is in flight, the environment is simply gone.
            self._flush_partial()
            self._begin_shutdown()

    # --- output -----------------------------------------------------------------------------
    def _output(self, data: bytes) -> None:
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            self._line(line)
            self.extensions.record("function", line)

    def _flush_partial(self) -> None:
        if self._partial:
            partial, self._partial = self._partial, b""
            self._line(partial.decode("utf-8", "replace"))

    def _line(self, line: str) -> None:
        self._logs.write(self.fn.name, line)
        if self._log is not None:
            self._log.lines.append(line)

    # --- init -------------------------------------------------------------------------------
    async def stage(self) -> None:
        """Everything before the runtime starts: listener, environment, sandbox (a cgroup and
        a launcher waiting to exec). Pools stage a spare environment ahead of need."""
        if self.sandbox is not None or self.command.init_error is not None:
            return
        await self.runtime.start()
        tmp_dir = self.cfg.state_dir / "tmp" / f"{self.fn.name}-{self.id}"
        env = lambda_environment(
            self.fn,
            self.cfg,
            self.command,
            runtime_api=self.runtime.address,
            init_type=self.init_type,
            tmp_dir=tmp_dir,
            host_env=self._host_env,
        )
        if self.fn.layers and "PYTHONPATH" in env:
            # Lambda's order: the code, then each layer's python/ (/opt/python), the runtime.
            first, _, rest = env["PYTHONPATH"].partition(os.pathsep)
            extra = [str(layer / "python") for layer in self.fn.layers]
            env["PYTHONPATH"] = os.pathsep.join([first, *extra, *([rest] if rest else [])])
        spec = SandboxSpec(
            environment_id=self.id,
            function_name=self.fn.name,
            argv=self.command.argv,
            env=env,
            cwd=self.fn.code_dir,
            memory_mb=self.fn.memory_mb,
            tmp_dir=tmp_dir,
            extensions=self.extension_paths,
        )
        sandbox = self._sandboxes.create(spec, self._output)
        self.sandbox = sandbox
        await sandbox.stage()
        sandbox.exited.add_done_callback(self._sandbox_exited)

    def log_into(self, log: InvocationLog) -> None:
        """Output from now on also goes to this invocation's log (an invoke-phase init)."""
        self._log = log

    async def init(self, timeout_s: float) -> InitResult:
        """Start the runtime and wait for its first /next (init done), or its failure.
        Init Duration runs from the runtime's start, as on Lambda: not the staging before it."""
        loop = asyncio.get_running_loop()
        if self.command.init_error is not None:
            await self.runtime.start()
            error_type, message = self.command.init_error
            self._line(f"{message}\n{error_type}")
            await self._begin_shutdown_now()
            return InitFailure(0.0, "error", error_type, error_body(error_type, message))
        phase: asyncio.Future[_PhaseEvent] = loop.create_future()
        try:
            await self.stage()
            sandbox = self.sandbox
            assert sandbox is not None
            self._phase = phase
            started = time.perf_counter()
            await sandbox.start()
        except Exception as exc:  # SandboxError and anything the OS raised while spawning
            self._phase = None
            message = str(exc)
            self._line(message)
            await self._begin_shutdown_now()
            return InitFailure(
                0.0,
                "error",
                wire.RUNTIME_EXIT_ERROR,
                error_body(wire.RUNTIME_EXIT_ERROR, f"Error: {message}"),
            )
        timer = loop.call_later(timeout_s, self._timeout)
        ext = self.extensions
        if sandbox.spec.extensions:
            # Lambda starts the runtime once every external extension has registered.
            event = await self._await_extensions(ext.externals_registered)
            if isinstance(event, _ExtensionsReady):
                assert isinstance(sandbox, SupportsExtensions)
                self._phase = phase = loop.create_future()
                sandbox.start_runtime()
                event = await phase
        else:
            event = await phase
        if isinstance(event, float) and ext.count and not ext.all_waiting():
            # Init ends when the runtime and every extension wait in next.
            event = await self._await_extensions(ext.all_waiting)
            if isinstance(event, _ExtensionsReady):
                event = event.at
        timer.cancel()
        self._phase = None
        elapsed = (time.perf_counter() - started) * 1000
        if isinstance(event, float):
            self.init_ms = (event - started) * 1000
            self.state = EnvState.READY
            ext.close_registration()
            ext.record(
                "platform.initRuntimeDone",
                {"initializationType": self.init_type, "phase": "init", "status": "success"},
            )
            ext.record(
                "platform.initReport",
                {
                    "initializationType": self.init_type,
                    "phase": "init",
                    "status": "success",
                    "metrics": {"durationMs": round(self.init_ms, 3)},
                },
            )
            sandbox.init_finished()
            self._freeze()
            return InitDone(self.init_ms)
        sandbox.drain_output()
        self._flush_partial()
        if isinstance(event, _ExtensionFailed):
            f = event.failure
            self._line(f"Extension {f.name} reported {f.kind} error: {f.error_type}")
            failure = InitFailure(
                elapsed,
                "error",
                "Extension.InitError",
                f.body or error_body("Extension.InitError", f"{f.name}: {f.error_type}"),
            )
        elif isinstance(event, InitFailed):
            self.init_ms = (event.at - started) * 1000
            body = event.body or error_body(event.error_type, "init error")
            failure = InitFailure(self.init_ms, "error", event.error_type, body)
        elif isinstance(event, _Exited):
            message = f"Error: Runtime exited with error: {event.status.describe()}"
            self._line(f"{message}\n{wire.RUNTIME_EXIT_ERROR}")
            failure = InitFailure(
                elapsed,
                "error",
                wire.RUNTIME_EXIT_ERROR,
                error_body(wire.RUNTIME_EXIT_ERROR, message),
            )
        else:
            message = f"Task timed out after {timeout_s:.2f} seconds"
            failure = InitFailure(
                elapsed,
                "timeout",
                wire.SANDBOX_TIMEDOUT,
                error_body(wire.SANDBOX_TIMEDOUT, message),
            )
        await self._begin_shutdown_now()
        return failure

    # --- invoke -----------------------------------------------------------------------------
    async def invoke(
        self,
        inv: Invocation,
        *,
        init_ms: float | None,
        timeout_s: float | None = None,
        log: InvocationLog | None = None,
    ) -> InvocationResult:
        """Run one invocation on this READY environment and answer it with Lambda's shape.
        `log` is the invocation's log when it began before (START written: an invoke-phase
        init ran in it)."""
        loop = asyncio.get_running_loop()
        sandbox = self.sandbox
        assert sandbox is not None and self.state is EnvState.READY
        self.state = EnvState.INVOKING
        self.invocations += 1
        timeout = self.fn.timeout_s if timeout_s is None else timeout_s
        if log is None:
            log = InvocationLog()
            self._log = log
            self._line(start_line(inv.request_id))
        self._log = log
        phase: asyncio.Future[_PhaseEvent] = loop.create_future()
        self._phase = phase
        started = time.perf_counter()
        inv.deadline_ms = int(time.time() * 1000 + timeout * 1000)
        if self.cfg.freeze:
            sandbox.thaw()
        self.runtime.dispatch(inv, self._set_phase)
        ext = self.extensions
        if ext.count:
            ext.invoke(inv)
            ext.record("platform.start", {"requestId": inv.request_id, "version": wire.LATEST})
        timer = loop.call_later(timeout, self._timeout)
        event = await phase
        timer.cancel()
        self._phase = None
        ended = time.perf_counter()
        sandbox.drain_output()

        status: str | None = None
        error_type: str | None = None
        function_error = False
        content_type = "application/json"
        alive = True
        if isinstance(event, FunctionResponse):
            payload, content_type = event.body, event.content_type
            ended = event.at
        elif isinstance(event, FunctionError):
            ended = event.at
            function_error = True
            payload = event.body or error_body(event.error_type, "")
        elif isinstance(event, ResponseTooLarge):
            ended = event.at
            function_error = True
            status, error_type = "error", wire.RESPONSE_SIZE_TOO_LARGE
            message = (
                f"Response payload size ({event.size} bytes) exceeded maximum allowed payload "
                f"size ({wire.MAX_RUNTIME_RESPONSE_BYTES} bytes)."
            )
            payload = error_body(error_type, message)
            self._line(f"RequestId: {inv.request_id} Error: {message}\n{error_type}")
        elif isinstance(event, _Exited):
            alive = False
            function_error = True
            status, error_type = "error", wire.RUNTIME_EXIT_ERROR
            message = (
                f"RequestId: {inv.request_id} Error: Runtime exited with error: "
                f"{event.status.describe()}"
            )
            payload = error_body(error_type, message)
            self._flush_partial()
            self._line(f"{message}\n{error_type}")
            self._shutdown_reason = "failure"
        elif isinstance(event, _ExtensionFailed):
            alive = False
            function_error = True
            # ⚠ our guess at the caller's error for an extension's exit/error mid-invoke
            status, error_type = "error", "Extension.ExitError"
            f = event.failure
            message = f"RequestId: {inv.request_id} Error: extension {f.name}: {f.error_type}"
            payload = error_body(error_type, message)
            self._line(f"{message}\n{error_type}")
            self._shutdown_reason = "failure"
        else:  # timed out, or an unexpected event: either way the environment is reset
            alive = False
            function_error = True
            status, error_type = "timeout", wire.SANDBOX_TIMEDOUT
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            self._line(f"{stamp} {inv.request_id} Task timed out after {timeout:.2f} seconds")
            payload = error_body(
                error_type,
                f"RequestId: {inv.request_id} Error: Task timed out after {timeout:.2f} seconds",
            )
            self._shutdown_reason = "timeout"

        if ext.count:
            ext.record(
                "platform.runtimeDone",
                {
                    "requestId": inv.request_id,
                    "status": status or ("failure" if function_error else "success"),
                    "metrics": {
                        "durationMs": round((ended - started) * 1000, 3),
                        "producedBytes": len(payload),
                    },
                },
            )
        if ext.count and alive:
            # The caller gets the response now; the invoke phase, and Duration with it, runs
            # on until the runtime and every extension wait in next (LAMBDA_SPEC §3).
            # ⚠ A log tail asked for here holds what was logged so far, without REPORT.
            inv.answer(
                InvocationResult(
                    payload=payload,
                    content_type=content_type,
                    function_error=function_error,
                    log=log.tail(wire.LOG_TAIL_BYTES) if inv.log_tail else b"",
                    environment_id=self.id,
                )
            )
            remaining = max(0.0, inv.deadline_ms / 1000 - time.time())
            timer = loop.call_later(remaining, self._timeout)
            after = await self._await_extensions(
                lambda: self.runtime.state is RuntimeState.READY and ext.all_waiting()
            )
            timer.cancel()
            self._phase = None
            sandbox.drain_output()
            if isinstance(after, _ExtensionsReady):
                ended = after.at
            else:
                ended = time.perf_counter()
                alive = False
                if isinstance(after, _TimedOut):
                    status, error_type = "timeout", wire.SANDBOX_TIMEDOUT
                    self._line(
                        f"RequestId: {inv.request_id} Error: the runtime or an extension did "
                        f"not call next within the timeout ({timeout:.2f} seconds)"
                    )
                    self._shutdown_reason = "timeout"
                else:
                    status = "error"
                    error_type = (
                        "Extension.ExitError"
                        if isinstance(after, _ExtensionFailed)
                        else wire.RUNTIME_EXIT_ERROR
                    )
                    self._shutdown_reason = "failure"

        if not inv.log_tail:
            # The caller's answer goes out now; the REPORT bookkeeping follows it.
            inv.answer(
                InvocationResult(
                    payload=payload,
                    content_type=content_type,
                    function_error=function_error,
                    environment_id=self.id,
                )
            )
        duration_ms = (ended - started) * 1000
        peak = sandbox.peak_memory_bytes()
        report = Report(
            request_id=inv.request_id,
            duration_ms=duration_ms,
            billed_ms=billed_duration_ms(duration_ms, init_ms, bill_init=True),
            memory_mb=self.fn.memory_mb,
            max_memory_mb=min(self.fn.memory_mb, math.ceil(peak / _MB)) if peak else 0,
            init_ms=init_ms,
            status=status,
            error_type=error_type,
        )
        self._line(end_line(inv.request_id))
        self._line(report.line())
        if ext.count:
            metrics: dict[str, float] = {
                "durationMs": round(report.duration_ms, 3),
                "billedDurationMs": report.billed_ms,
                "memorySizeMB": report.memory_mb,
                "maxMemoryUsedMB": report.max_memory_mb,
            }
            if init_ms is not None:
                metrics["initDurationMs"] = round(init_ms, 3)
            ext.record(
                "platform.report",
                {
                    "requestId": inv.request_id,
                    "status": status or ("failure" if function_error else "success"),
                    "metrics": metrics,
                },
            )
        self._log = None
        self.last_used = time.monotonic()
        self._trace.write(
            TraceRecord.from_report(
                report,
                function=self.fn.name,
                environment_id=self.id,
                invocation_type=inv.invocation_type,
                accepted_at=inv.accepted_at,
                started=started,
                function_error=function_error,
                init_type=self.init_type,
                cpu=self._cpu_since_last(sandbox),
            )
        )
        if alive:
            if self.runtime.state is RuntimeState.READY:  # /next arrived while we reported
                self.state = EnvState.READY
                self._freeze()
                self._on_ready(self)
            else:
                self.state = EnvState.FINISHING
                # The invoke phase lasts until the runtime calls /next, bounded by the timeout.
                remaining = max(0.0, inv.deadline_ms / 1000 - time.time())
                self._finish_timer = loop.call_later(remaining, self._finish_overdue)
        else:
            self._begin_shutdown()
        result = InvocationResult(
            payload=payload,
            content_type=content_type,
            function_error=function_error,
            report=report,
            log=log.tail(wire.LOG_TAIL_BYTES) if inv.log_tail else b"",
            environment_id=self.id,
        )
        inv.answer(result)  # with the log tail, the answer waits for the REPORT line
        return result

    def _cpu_since_last(self, sandbox: Sandbox) -> tuple[float, float]:
        """CPU the environment used since its previous invocation ended (it is frozen in
        between, so this is the invocation's own, plus init on a cold start)."""
        user, system = sandbox.cpu_seconds()
        last_user, last_system = self._cpu_mark
        self._cpu_mark = (user, system)
        return max(0.0, user - last_user), max(0.0, system - last_system)

    def _freeze(self) -> None:
        # Lambda freezes an environment whose runtime waits on /next with nothing to do.
        if self.cfg.freeze and self.sandbox is not None:
            self.sandbox.freeze()

    def _runtime_ready(self) -> None:
        self._extensions_changed()
        if self._finish_timer is not None:
            self._finish_timer.cancel()
            self._finish_timer = None
        if self.state is EnvState.FINISHING:
            self.state = EnvState.READY
            self._freeze()
            self._on_ready(self)

    def _finish_overdue(self) -> None:
        self._finish_timer = None
        if self.state is EnvState.FINISHING:
            self._line(
                f"Environment {self.id}: runtime did not call /next before the deadline; reset"
            )
            self._begin_shutdown()

    # --- shutdown ---------------------------------------------------------------------------
    def _begin_shutdown(self) -> None:
        if self._stopping is None:
            # The state changes now, not when the task runs: the pool must never hand this
            # environment out again.
            was, self.state = self.state, EnvState.SHUTDOWN
            self._stopping = asyncio.get_running_loop().create_task(self._shutdown(was))

    async def _begin_shutdown_now(self) -> None:
        self._begin_shutdown()
        assert self._stopping is not None
        await asyncio.shield(self._stopping)

    async def shutdown(self) -> None:
        """Stop the runtime and its listener; idempotent, awaits completion."""
        await self._begin_shutdown_now()

    async def _shutdown_extensions(self, sandbox: Sandbox) -> None:
        """With external extensions: SIGTERM the runtime (up to 300 ms), SHUTDOWN to the
        extensions, wait until they are done or the 2,000 ms budget is spent (LAMBDA_SPEC §3).
        The caller SIGKILLs whatever is left."""
        ext = self.extensions
        if not isinstance(sandbox, SupportsExtensions) or not any(
            e.external for e in ext.extensions.values()
        ):
            return
        deadline = time.monotonic() + SHUTDOWN_BUDGET_S
        sandbox.thaw()
        if not sandbox.exited.done():
            sandbox.signal_runtime(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(sandbox.exited), RUNTIME_SHUTDOWN_S)
        # What is buffered for telemetry subscribers goes out before SHUTDOWN does.
        await ext.flush(max(0.0, min(0.5, deadline - time.monotonic())))
        deadline_ms = int((time.time() + deadline - time.monotonic()) * 1000)
        if not ext.shutdown(self._shutdown_reason, deadline_ms):
            return
        while time.monotonic() < deadline:
            if ext.shutdown_acknowledged() or not sandbox.others_alive():
                return
            await asyncio.sleep(0.02)
        sandbox.drain_output()
        self._line(
            f"Environment {self.id}: extensions still running at the shutdown deadline "
            f"({SHUTDOWN_BUDGET_S * 1000:.0f} ms): killed"
        )

    async def _shutdown(self, was: EnvState) -> None:
        if self._finish_timer is not None:
            self._finish_timer.cancel()
        exited = self.sandbox.exited if self.sandbox is not None else None
        if exited is not None and exited.done() and not exited.cancelled():
            self._set_phase(_Exited(exited.result()))
        else:
            self._set_phase(_Exited(ExitStatus(-9)))
        try:
            if self.sandbox is not None:
                await self._shutdown_extensions(self.sandbox)
                await self.extensions.close()
                # No extensions (or after them): SIGKILL at once (LAMBDA_SPEC §3).
                await self.sandbox.stop(grace_s=0.0)
                self.sandbox.drain_output()
            self._flush_partial()
            await self.runtime.close()
        finally:
            if was is not EnvState.SHUTDOWN:
                self._on_gone(self)
