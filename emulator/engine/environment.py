"""One execution environment: its lifecycle, timings and failures (LAMBDA_SPEC §3, §5).

An environment owns one Runtime API listener and one sandbox, and moves through the states of
emulator/engine/states.py (every move checked against its table). What happens to it arrives
as typed events: the runtime's first /next, its answer, its init error, the sandbox's exit,
the timer, an extension's failure. It turns them into Lambda's outcomes
(emulator/engine/outcomes.py), finishes each invocation in the one place that writes END,
REPORT and the trace (emulator/engine/finish.py), and resolves the invocation's reply.

The warm path has no task of its own: `invoke` hands the invocation to the runtime waiting in
/next and returns; the runtime's answer, the exit or the timer ends it through `_event`. Init,
and the wait for extensions after an answer, are coroutines (the cold and the rare paths).
The environment tells its pool when it is ready again (`on_ready`) or gone (`on_gone`); it
never decides which environment serves a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from emulator import wire
from emulator.api.extensions import ExtensionFailure, ExtensionsApi
from emulator.api.runtime import InitFailed, RuntimeApi, RuntimeState
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.engine.finish import FunctionCounters, InvocationLedger, Outcome
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.lambda_env import lambda_environment
from emulator.engine.outcomes import (
    ExtensionFailed,
    InitDone,
    InitFailure,
    InitResult,
    PhaseEvent,
    error_body,
    init_failure,
    init_failure_lines,
    invoke_end,
)
from emulator.engine.states import (
    EnvState,
    ExtensionsReady,
    RuntimeReady,
    SandboxExited,
    TimedOut,
    check_transition,
)
from emulator.metrics.logs import InvocationLog, LogSink
from emulator.metrics.report import start_line
from emulator.sandbox.base import (
    ExitStatus,
    Sandbox,
    SandboxFactory,
    SandboxSpec,
    SupportsExtensions,
)
from emulator.sandbox.runtimes import RuntimeCommand

MAX_EXTENSIONS = 10
# Shutdown with external extensions (LAMBDA_SPEC §3): 2,000 ms in all, of which the runtime
# gets up to 300 ms after SIGTERM; then SHUTDOWN to the extensions; SIGKILL at the deadline.
SHUTDOWN_BUDGET_S = 2.0
RUNTIME_SHUTDOWN_S = 0.3


def extension_executables(layers: tuple[Path, ...]) -> tuple[Path, ...]:
    """External extensions: the executable files in each layer's `extensions/` (Lambda's
    /opt/extensions), by name, at most 10 (LAMBDA_SPEC §3)."""
    import os

    found: dict[str, Path] = {}
    for layer in layers:
        folder = layer / "extensions"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.is_file() and os.access(path, os.X_OK):
                    found[path.name] = path  # a later layer's file of the same name wins
    return tuple(found.values())[:MAX_EXTENSIONS]


@dataclass(slots=True)
class _Run:
    """The invocation in flight, waiting for the runtime's answer."""

    inv: Invocation
    started: float
    init_ms: float | None
    timeout_s: float
    timer: asyncio.TimerHandle
    log: InvocationLog


class ExecutionEnvironment:
    def __init__(
        self,
        *,
        fn: FunctionConfig,
        cfg: EmulatorConfig,
        command: RuntimeCommand,
        sandboxes: SandboxFactory,
        logs: LogSink,
        ledger: InvocationLedger,
        counters: FunctionCounters,
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
        self._ledger = ledger
        self._counters = counters
        self._host_env = host_env
        self._on_ready = on_ready
        self._on_gone = on_gone
        self._loop = asyncio.get_running_loop()
        self._phase: asyncio.Future[PhaseEvent | ExtensionsReady] | None = None
        self._run: _Run | None = None
        self._log: InvocationLog | None = None
        self._partial = b""
        self._finish_timer: asyncio.TimerHandle | None = None
        self._freeze_timer: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._cpu_mark = (0.0, 0.0)
        self._shutdown_reason = "spindown"
        bind, self._advertise = sandboxes.runtime_api_host(fn)
        self.runtime = RuntimeApi(
            on_init_done=self._event,
            on_init_error=self._event,
            on_ready=self._runtime_ready,
            admit=self._admits if cfg.runtime_api_owner_check else None,
            host=bind,
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

    def __repr__(self) -> str:
        return f"<ExecutionEnvironment {self.fn.name}/{self.id} {self.state}>"

    def _move(self, target: EnvState) -> None:
        self.state = check_transition(self.state, target)

    # --- events -----------------------------------------------------------------------------
    def _event(self, event: PhaseEvent) -> None:
        """Something that ends the current phase happened: the invocation in flight takes it,
        else the coroutine waiting on the phase (init, extensions); else it is moot."""
        run = self._run
        if run is not None:
            self._end_invoke(run, event)
            return
        phase = self._phase
        if phase is not None and not phase.done():
            phase.set_result(event)

    def _timeout(self) -> None:
        self._event(TimedOut())

    async def _await_extensions(
        self, predicate: Callable[[], bool]
    ) -> PhaseEvent | ExtensionsReady:
        """Wait, on a fresh phase, until `predicate` holds for the extensions (or the runtime
        exits, an extension fails, the phase times out)."""
        if predicate():
            return ExtensionsReady(time.perf_counter())
        phase: asyncio.Future[PhaseEvent | ExtensionsReady] = self._loop.create_future()
        self._phase = phase
        self._ext_pred = predicate
        try:
            return await phase
        finally:
            self._ext_pred = None

    def _extensions_changed(self) -> None:
        predicate = self._ext_pred
        phase = self._phase
        if predicate is not None and predicate() and phase is not None and not phase.done():
            phase.set_result(ExtensionsReady(time.perf_counter()))

    def _extension_failed(self, failure: ExtensionFailure) -> None:
        # An extension's init/exit error is fatal for the environment (LAMBDA_SPEC §3).
        self._event(ExtensionFailed(failure))

    def _admits(self, peer: tuple[str, int]) -> bool:
        """Only this environment's own processes may use its Runtime API: the sandbox knows
        who they are (emulator/sandbox/peers.py for local processes)."""
        sandbox = self.sandbox
        if sandbox is None:
            return False
        return sandbox.admits(peer, self.runtime.server.port)

    def _sandbox_exited(self, fut: asyncio.Future[ExitStatus]) -> None:
        if fut.cancelled():
            return
        self._event(SandboxExited(fut.result()))
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
            self.command,
            region=self.cfg.region,
            runtime_api=f"{self._advertise}:{self.runtime.server.port}",
            init_type=self.init_type,
            tmp_dir=tmp_dir,
            host_env=self._host_env,
        )
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
        if self.command.init_error is not None:
            await self.runtime.start()
            error_type, message = self.command.init_error
            self._line(f"{message}\n{error_type}")
            await self._begin_shutdown_now()
            return InitFailure(0.0, "error", error_type, error_body(error_type, message))
        phase: asyncio.Future[PhaseEvent | ExtensionsReady] = self._loop.create_future()
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
            body = error_body(wire.RUNTIME_EXIT_ERROR, f"Error: {message}")
            return InitFailure(0.0, "error", wire.RUNTIME_EXIT_ERROR, body)
        timer = self._loop.call_later(timeout_s, self._timeout)
        event = await self._init_phase(phase, sandbox)
        timer.cancel()
        self._phase = None
        if isinstance(event, RuntimeReady):
            return self._init_done(event, started, sandbox)
        now = time.perf_counter()
        sandbox.drain_output()
        self._flush_partial()
        for line in init_failure_lines(event):
            self._line(line)
        failure = init_failure(event, started, now, timeout_s)
        if isinstance(event, InitFailed):
            self.init_ms = failure.init_ms
        await self._begin_shutdown_now()
        return failure

    async def _init_phase(
        self, phase: asyncio.Future[PhaseEvent | ExtensionsReady], sandbox: Sandbox
    ) -> PhaseEvent | ExtensionsReady:
        ext = self.extensions
        if sandbox.spec.extensions:
            # Lambda starts the runtime once every external extension has registered.
            event = await self._await_extensions(ext.externals_registered)
            if not isinstance(event, ExtensionsReady):
                return event
            assert isinstance(sandbox, SupportsExtensions)
            self._phase = phase = self._loop.create_future()
            sandbox.start_runtime()
        event = await phase
        if isinstance(event, RuntimeReady) and ext.count and not ext.all_waiting():
            # Init ends when the runtime and every extension wait in next.
            after = await self._await_extensions(ext.all_waiting)
            if not isinstance(after, ExtensionsReady):
                return after
            return RuntimeReady(after.at)
        return event

    def _init_done(self, event: RuntimeReady, started: float, sandbox: Sandbox) -> InitDone:
        self.init_ms = (event.at - started) * 1000
        self._move(EnvState.READY)
        ext = self.extensions
        ext.close_registration()
        if ext.count:
            common = {"initializationType": self.init_type, "phase": "init", "status": "success"}
            ext.record("platform.initRuntimeDone", common)
            ext.record(
                "platform.initReport",
                {**common, "metrics": {"durationMs": round(self.init_ms, 3)}},
            )
        sandbox.init_finished()
        self._freeze_soon()
        return InitDone(self.init_ms)

    # --- invoke -----------------------------------------------------------------------------
    def invoke(
        self,
        inv: Invocation,
        *,
        init_ms: float | None = None,
        timeout_s: float | None = None,
        log: InvocationLog | None = None,
    ) -> None:
        """Hand one invocation to this READY environment's runtime; its reply is resolved when
        the runtime answers, exits or runs out of time. `log` is the invocation's log when it
        began before (START written: an invoke-phase init ran in it)."""
        sandbox = self.sandbox
        assert sandbox is not None
        self._move(EnvState.INVOKING)
        self._thaw()
        self.invocations += 1
        timeout = self.fn.timeout_s if timeout_s is None else timeout_s
        if log is None:
            log = InvocationLog()
            self._log = log
            self._line(start_line(inv.request_id, inv.executed_version))
        self._log = log
        started = time.perf_counter()
        inv.deadline_ms = int(time.time() * 1000 + timeout * 1000)
        timer = self._loop.call_later(timeout, self._timeout)
        self._run = _Run(inv, started, init_ms, timeout, timer, log)
        self.runtime.dispatch(inv, self._event)
        ext = self.extensions
        if ext.count:
            ext.invoke(inv)
            ext.record("platform.start", {"requestId": inv.request_id, "version": wire.LATEST})

    def _end_invoke(self, run: _Run, event: PhaseEvent) -> None:
        self._run = None
        run.timer.cancel()
        sandbox = self.sandbox
        assert sandbox is not None
        sandbox.drain_output()
        inv = run.inv
        end = invoke_end(event, inv.request_id, run.timeout_s, time.perf_counter())
        if end.shutdown_reason is not None:
            self._flush_partial()
            self._shutdown_reason = end.shutdown_reason
        for line in end.lines:
            self._line(line)
        outcome = end.outcome
        ext = self.extensions
        if ext.count:
            ext.record(
                "platform.runtimeDone",
                {
                    "requestId": inv.request_id,
                    "status": outcome.status
                    or ("failure" if outcome.function_error else "success"),
                    "metrics": {
                        "durationMs": round((end.ended - run.started) * 1000, 3),
                        "producedBytes": len(outcome.payload),
                    },
                },
            )
            if end.shutdown_reason is None:
                # The caller gets the response now; the invoke phase, and Duration with it,
                # runs on until the runtime and every extension wait in next (LAMBDA_SPEC §3).
                # ⚠ A log tail asked for here holds what was logged so far, without REPORT.
                inv.resolve(self._result(outcome, run.log.tail(wire.LOG_TAIL_BYTES), inv))
                task = self._loop.create_task(self._finish_after_extensions(run, outcome))
                task.add_done_callback(_log_failure)
                return
        self._finish(run, outcome, end.ended, alive=end.shutdown_reason is None)

    async def _finish_after_extensions(self, run: _Run, outcome: Outcome) -> None:
        timer = self._loop.call_later(
            max(0.0, run.inv.deadline_ms / 1000 - time.time()), self._timeout
        )
        ext = self.extensions
        after = await self._await_extensions(
            lambda: self.runtime.state is RuntimeState.READY and ext.all_waiting()
        )
        timer.cancel()
        self._phase = None
        assert self.sandbox is not None
        self.sandbox.drain_output()
        if isinstance(after, ExtensionsReady):
            self._finish(run, outcome, after.at, alive=True)
            return
        if isinstance(after, TimedOut):
            status, error_type, reason = "timeout", wire.SANDBOX_TIMEDOUT, "timeout"
            self._line(
                f"RequestId: {run.inv.request_id} Error: the runtime or an extension did not "
                f"call next within the timeout ({run.timeout_s:.2f} seconds)"
            )
        else:
            failed = isinstance(after, ExtensionFailed)
            status, reason = "error", "failure"
            error_type = "Extension.ExitError" if failed else wire.RUNTIME_EXIT_ERROR
        self._shutdown_reason = reason
        outcome = Outcome(
            outcome.payload, outcome.content_type, outcome.function_error, status, error_type
        )
        self._finish(run, outcome, time.perf_counter(), alive=False)

    def _result(self, outcome: Outcome, log: bytes, inv: Invocation) -> InvocationResult:
        return InvocationResult(
            payload=outcome.payload,
            content_type=outcome.content_type,
            function_error=outcome.function_error,
            log=log if inv.log_tail else b"",
            environment_id=self.id,
        )

    def _finish(self, run: _Run, outcome: Outcome, ended: float, *, alive: bool) -> None:
        """REPORT and trace, then back to the pool (or shut down)."""
        inv = run.inv
        if not inv.log_tail:
            inv.resolve(self._result(outcome, b"", inv))  # the answer first, bookkeeping after
        sandbox = self.sandbox
        assert sandbox is not None
        report = self._ledger.finish(
            function=self.fn.name,
            memory_mb=self.fn.memory_mb,
            inv=inv,
            outcome=outcome,
            log=run.log,
            started=run.started,
            ended=ended,
            init_ms=run.init_ms,
            peak_bytes=sandbox.peak_memory_bytes(),
            environment_id=self.id,
            init_type=self.init_type,
            cpu=self._cpu_since_last(sandbox),
            counters=self._counters,
            telemetry=self.extensions.record if self.extensions.count else None,
        )
        self._log = None
        self.last_used = time.monotonic()
        if not alive:
            self._begin_shutdown()
        elif self.runtime.state is RuntimeState.READY:  # /next arrived while we reported
            self._move(EnvState.READY)
            self._went_idle()
        else:
            self._move(EnvState.FINISHING)
            # The invoke phase lasts until the runtime calls /next, bounded by the timeout.
            remaining = max(0.0, inv.deadline_ms / 1000 - time.time())
            self._finish_timer = self._loop.call_later(remaining, self._finish_overdue)
        if inv.log_tail:  # the answer waited for the REPORT line
            result = self._result(outcome, run.log.tail(wire.LOG_TAIL_BYTES), inv)
            result.report = report
            inv.resolve(result)

    def _cpu_since_last(self, sandbox: Sandbox) -> tuple[float, float]:
        """CPU the environment used since its previous invocation ended (it is frozen in
        between, so this is the invocation's own, plus init on a cold start)."""
        user, system = sandbox.cpu_seconds()
        last_user, last_system = self._cpu_mark
        self._cpu_mark = (user, system)
        return max(0.0, user - last_user), max(0.0, system - last_system)

    # --- idle: freeze and thaw ----------------------------------------------------------------
    def _went_idle(self) -> None:
        self._freeze_soon()
        self._on_ready(self)

    def _freeze_soon(self) -> None:
        if self.cfg.freeze and self._freeze_timer is None:
            # ⚠ Lambda freezes an environment whose runtime waits in /next with nothing to do;
            # it does not say how soon. A request within cfg.freeze_after_s finds it running,
            # which spares two signals per invocation on a busy function's hot path.
            self._freeze_timer = self._loop.call_later(self.cfg.freeze_after_s, self._freeze)

    def _freeze(self) -> None:
        self._freeze_timer = None
        if self.state is EnvState.READY and self.sandbox is not None:
            self.sandbox.freeze()

    def _thaw(self) -> None:
        timer = self._freeze_timer
        if timer is not None:  # never frozen: still within freeze_after_s of going idle
            timer.cancel()
            self._freeze_timer = None
        elif self.cfg.freeze and self.sandbox is not None:
            self.sandbox.thaw()

    def _runtime_ready(self) -> None:
        self._extensions_changed()
        if self._finish_timer is not None:
            self._finish_timer.cancel()
            self._finish_timer = None
        if self.state is EnvState.FINISHING:
            self._move(EnvState.READY)
            self._went_idle()

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
            was = self.state
            self._move(EnvState.SHUTDOWN)
            self._stopping = self._loop.create_task(self._shutdown(was))

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
        for timer in (self._finish_timer, self._freeze_timer):
            if timer is not None:
                timer.cancel()
        exited = self.sandbox.exited if self.sandbox is not None else None
        if exited is not None and exited.done() and not exited.cancelled():
            self._event(SandboxExited(exited.result()))
        else:
            self._event(SandboxExited(ExitStatus(-9)))
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


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        loop = task.get_loop()
        loop.call_exception_handler(
            {"message": "finishing an invocation failed", "exception": task.exception()}
        )
