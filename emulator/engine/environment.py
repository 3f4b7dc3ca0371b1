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
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from emulator import wire
from emulator.api.extensions import ExtensionFailure, ExtensionsApi
from emulator.api.runtime import InitFailed, RuntimeApi, RuntimeState
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.engine.finish import FunctionCounters, InvocationLedger, Outcome
from emulator.engine.freezer import IdleFreezer
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.lambda_env import sandbox_spec
from emulator.engine.outcomes import (
    ExtensionFailed,
    InitDone,
    InitFailure,
    InitResult,
    PhaseEvent,
    error_body,
    extensions_end,
    init_failure,
    init_failure_lines,
    invoke_end,
)
from emulator.engine.shutdown import (
    SHUTDOWN_BUDGET_S,
    extension_executables,
    shutdown_extensions,
)
from emulator.engine.states import (
    TRANSITIONS,
    EnvState,
    ExtensionsReady,
    RuntimeReady,
    SandboxExited,
    TimedOut,
    check_transition,
)
from emulator.engine.streaming import StreamLimits
from emulator.httpserver import connection_timeouts
from emulator.metrics.logs import EnvironmentLog, InvocationLog, LogSink
from emulator.metrics.report import start_line
from emulator.sandbox.base import (
    ExitStatus,
    ReportsHostWait,
    Sandbox,
    SandboxFactory,
    SupportsExtensions,
)
from emulator.sandbox.runtimes import RuntimeCommand

# The host's load is said (once a minute at most, in the function's log, never in REPORT or a
# tail) when an invocation waited this long for a CPU its quota allowed, and a tenth or more.
HOST_WAIT_NOTE_S = 0.005
HOST_WAIT_NOTE_EVERY_S = 60.0


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
        self.log = EnvironmentLog(logs, fn.name, self._output_line)
        self._finish_timer: asyncio.TimerHandle | None = None
        self.freezer = IdleFreezer(
            self._loop,
            # a frozen debuggee cannot answer its debugger (pause, breakpoints) between calls
            enabled=cfg.freeze and fn.debug_port is None,
            after_s=cfg.freeze_after_s,
            is_idle=lambda: self.state is EnvState.READY,
        )
        self._stopping: asyncio.Task[None] | None = None
        self._cpu_mark = (0.0, 0.0)
        self._host_wait_mark = 0.0
        self._host_wait_reader: Callable[[], float | None] | None = None
        self._host_wait_noted = -HOST_WAIT_NOTE_EVERY_S
        self._shutdown_reason = "spindown"
        bind, self._advertise = sandboxes.runtime_api_host(fn)
        self.runtime = RuntimeApi(
            on_init_done=self._event,
            on_init_error=self._event,
            on_ready=self._runtime_ready,
            admit=self._admits if cfg.runtime_api_owner_check else None,
            host=bind,
            stream_limits=StreamLimits(rate_bps=cfg.stream_rate_bps),
            timeouts=connection_timeouts(cfg),
        )
        self.sandbox: Sandbox | None = None
        # Extensions (LAMBDA_SPEC §3): internal ones may register with any function.
        self.extension_paths = extension_executables(fn.layers)
        self.extensions = ExtensionsApi(
            function_name=fn.name,
            function_version=fn.version,
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
        if target not in TRANSITIONS[self.state]:
            check_transition(self.state, target)  # raises InvalidTransition
        self.state = target

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
            self.log.flush_partial()
            self._begin_shutdown()

    # --- output -----------------------------------------------------------------------------
    def _output_line(self, line: str) -> None:
        self.extensions.record("function", line)

    # --- init -------------------------------------------------------------------------------
    async def stage(self) -> None:
        """Everything before the runtime starts: listener, environment, sandbox (a cgroup and
        a launcher waiting to exec). Pools stage a spare environment ahead of need."""
        if self.sandbox is not None or self.command.init_error is not None:
            return
        await self.runtime.start()
        spec = sandbox_spec(
            self.fn,
            self.command,
            environment_id=self.id,
            state_dir=self.cfg.state_dir,
            region=self.cfg.region,
            runtime_api=f"{self._advertise}:{self.runtime.server.port}",
            init_type=self.init_type,
            host_env=self._host_env,
            extensions=self.extension_paths,
        )
        sandbox = self._sandboxes.create(spec, self.log.feed)
        if isinstance(sandbox, ReportsHostWait):
            self._host_wait_reader = sandbox.host_wait_seconds
        self.freezer.sandbox = sandbox
        self.sandbox = sandbox
        await sandbox.stage()
        sandbox.exited.add_done_callback(self._sandbox_exited)

    def log_into(self, log: InvocationLog) -> None:
        """Output from now on also goes to this invocation's log (an invoke-phase init)."""
        self.log.invocation = log

    async def init(self, timeout_s: float) -> InitResult:
        """Start the runtime and wait for its first /next (init done), or its failure.
        Init Duration runs from the runtime's start, as on Lambda: not the staging before it."""
        if self.command.init_error is not None:
            await self.runtime.start()
            error_type, message = self.command.init_error
            self.log.line(f"{message}\n{error_type}")
            await self._begin_shutdown_now()
            return InitFailure(0.0, "error", error_type, error_body(error_type, message))
        phase: asyncio.Future[PhaseEvent | ExtensionsReady] = self._loop.create_future()
        try:
            await self.stage()
            sandbox = self.sandbox
            assert sandbox is not None
            self._phase = phase
            if self.fn.debug_port is not None:
                port = self.fn.debug_port
                self.log.line(f"lambda-emu: waiting for a debugger on 127.0.0.1:{port}")
            started = time.perf_counter()
            await sandbox.start()
        except Exception as exc:  # SandboxError and anything the OS raised while spawning
            self._phase = None
            message = str(exc)
            self.log.line(message)
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
        self.log.flush_partial()
        for line in init_failure_lines(event):
            self.log.line(line)
        failure = replace(
            init_failure(event, started, now, timeout_s), peak_bytes=sandbox.peak_memory_bytes()
        )
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
        ext.record_init_done(self.init_type, self.init_ms)
        sandbox.init_finished()
        self.freezer.went_idle()
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
        self.freezer.thaw()
        self.invocations += 1
        timeout = self.fn.timeout_s if timeout_s is None else timeout_s
        if log is None:
            log = InvocationLog()
            self.log.invocation = log
            self.log.line(start_line(inv.request_id, inv.executed_version))
        self.log.invocation = log
        started = time.perf_counter()
        inv.deadline_ms = int(time.time() * 1000 + timeout * 1000)
        timer = self._loop.call_later(timeout, self._timeout)
        self._run = _Run(inv, started, init_ms, timeout, timer, log)
        self.runtime.dispatch(inv, self._event)
        if self.extensions.count:
            self.extensions.invoke(inv)

    def _end_invoke(self, run: _Run, event: PhaseEvent) -> None:
        self._run = None
        run.timer.cancel()
        sandbox = self.sandbox
        assert sandbox is not None
        sandbox.drain_output()
        inv = run.inv
        end = invoke_end(event, inv.request_id, run.timeout_s, time.perf_counter())
        relay = self.runtime.relay
        if relay is not None and relay.inv is inv and end.outcome.streamed_bytes is None:
            # cut mid-stream (timeout, exit): the trace still tells what was streamed
            streamed = replace(
                end.outcome, streamed_bytes=relay.size, first_byte_at=relay.first_byte
            )
            end = replace(end, outcome=streamed)
        if end.shutdown_reason is not None:
            self.log.flush_partial()
            self._shutdown_reason = end.shutdown_reason
        for line in end.lines:
            self.log.line(line)
        outcome = end.outcome
        ext = self.extensions
        if ext.count:
            status = outcome.status or ("failure" if outcome.function_error else "success")
            produced = outcome.streamed_bytes
            ext.record_runtime_done(
                inv.request_id,
                status,
                (end.ended - run.started) * 1000,
                len(outcome.payload) if produced is None else produced,
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
        end = extensions_end(after, outcome, run.inv.request_id, run.timeout_s)
        for line in end.lines:
            self.log.line(line)
        self._shutdown_reason = end.shutdown_reason or "failure"
        outcome = end.outcome
        self._finish(run, outcome, time.perf_counter(), alive=False)

    def _result(self, outcome: Outcome, log: bytes, inv: Invocation) -> InvocationResult:
        return InvocationResult(
            payload=outcome.payload,
            content_type=outcome.content_type,
            function_error=outcome.function_error,
            log=log if inv.log_tail else b"",
            environment_id=self.id,
            streamed=outcome.streamed_bytes is not None,
            error_type=outcome.stream_error,
        )

    def _finish(self, run: _Run, outcome: Outcome, ended: float, *, alive: bool) -> None:
        """REPORT and trace, then back to the pool (or shut down). Without a log tail the
        caller is answered first and the bookkeeping follows in the loop's next step, so
        the answer does not wait for it (nothing else can reach this environment meanwhile:
        it stays Invoking until the bookkeeping is done)."""
        inv = run.inv
        if inv.log_tail:
            self._bookkeep(run, outcome, ended, alive)
            return
        inv.resolve(self._result(outcome, b"", inv))
        self._loop.call_soon(self._bookkeep, run, outcome, ended, alive)

    def _bookkeep(self, run: _Run, outcome: Outcome, ended: float, alive: bool) -> None:
        inv = run.inv
        sandbox = self.sandbox
        assert sandbox is not None
        if sandbox.exited.done():
            alive = False  # it died between the answer and now: gone, not back to the pool
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
            host_wait=self._host_wait_since_last(run, ended),
        )
        self.log.invocation = None
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

    def _host_wait_since_last(self, run: _Run, ended: float) -> float | None:
        """Time the runtime waited for a CPU its quota allowed since the previous invocation
        ended: the host's load, not its limit. Said when it is a tenth of the invocation or
        more, as durations then read long (docs/fidelity.md, "CPU under contention")."""
        reader = self._host_wait_reader
        total = reader() if reader is not None else None
        if total is None:
            return None
        waited, self._host_wait_mark = max(0.0, total - self._host_wait_mark), total
        span = ended - run.started + (run.init_ms or 0.0) / 1000
        if waited > max(HOST_WAIT_NOTE_S, span / 10):
            now = time.monotonic()
            if now - self._host_wait_noted > HOST_WAIT_NOTE_EVERY_S:
                self._host_wait_noted = now
                self._logs.write(
                    self.fn.name,
                    f"lambda-emu: the host could not give environment {self.id} its CPU share: "
                    f"it waited {waited * 1000:.0f} ms for a CPU in {span * 1000:.0f} ms "
                    "(durations read long; see host_wait_ms in the trace)",
                )
        return waited

    # --- idle: freeze and thaw ----------------------------------------------------------------
    def _went_idle(self) -> None:
        self.freezer.went_idle()
        self._on_ready(self)

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
            self.log.line(
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

    async def _shutdown(self, was: EnvState) -> None:
        self.freezer.cancel()
        if self._finish_timer is not None:
            self._finish_timer.cancel()
        exited = self.sandbox.exited if self.sandbox is not None else None
        if exited is not None and exited.done() and not exited.cancelled():
            self._event(SandboxExited(exited.result()))
        else:
            self._event(SandboxExited(ExitStatus(-9)))
        try:
            if self.sandbox is not None:
                if await shutdown_extensions(self.sandbox, self.extensions, self._shutdown_reason):
                    self.log.line(
                        f"Environment {self.id}: extensions still running at the shutdown "
                        f"deadline ({SHUTDOWN_BUDGET_S * 1000:.0f} ms): killed"
                    )
                await self.extensions.close()
                # No extensions (or after them): SIGKILL at once (LAMBDA_SPEC §3).
                await self.sandbox.stop(grace_s=0.0)
                self.sandbox.drain_output()
            self.log.flush_partial()
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
