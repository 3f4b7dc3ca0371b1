"""Per-function scaling, as Lambda does it (LAMBDA_SPEC §7).

- A request takes the most recently used idle environment (provisioned ones first).
- With none idle, a new environment is created for it (a cold start): one environment per
  concurrent request, never a queue.
- Reserved concurrency, the account-wide limit and the scaling rate (1,000 new environments
  per 10 s per function, refilled continuously) answer `429 TooManyRequestsException`.
- Provisioned concurrency keeps N environments initialised ahead of traffic.
- Idle on-demand environments are reaped after the keep-alive.
- `reset` and `reload` start a new generation: idle environments of the old one are shut
  down at once, busy ones finish their invocation and are shut down instead of going idle.
- A failed init is retried once inside the invoke phase, bounded by the function timeout
  ("suppressed init"), and only then reported to the caller (LAMBDA_SPEC §5).

The pool never knows which sandbox runs an environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from emulator import errors, wire
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.engine.environment import ExecutionEnvironment
from emulator.engine.finish import FunctionCounters, InvocationLedger, Outcome
from emulator.engine.handoff import HANDOFF_CHECK_S, HandoffWatch
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.engine.outcomes import InitFailure
from emulator.engine.states import EnvState
from emulator.metrics.logs import InvocationLog, LogSink
from emulator.metrics.report import init_report_line, start_line
from emulator.sandbox.base import SandboxFactory
from emulator.sandbox.runtimes import RuntimeCommand

# Lambda: 1,000 new execution environments every 10 s per function, refilled continuously.
SCALING_BURST = 1000
SCALING_REFILL_PER_S = 100.0


class AccountConcurrency:
    """The account-wide concurrency limit shared by every function (default 1,000)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0


class FunctionPool:
    def __init__(
        self,
        fn: FunctionConfig,
        cfg: EmulatorConfig,
        command: RuntimeCommand,
        *,
        sandboxes: SandboxFactory,
        logs: LogSink,
        ledger: InvocationLedger,
        account: AccountConcurrency,
        host_env: Mapping[str, str],
        on_internal_error: Callable[[Exception], None] = lambda _exc: None,
    ) -> None:
        self.fn = fn
        self.cfg = cfg
        self.command = command
        self._sandboxes = sandboxes
        self._logs = logs
        self._ledger = ledger
        self._account = account
        self._internal_error = on_internal_error
        self._host_env = host_env
        self.envs: set[ExecutionEnvironment] = set()
        self._idle: list[ExecutionEnvironment] = []  # on-demand, most recently used last
        self._idle_provisioned: list[ExecutionEnvironment] = []
        self._busy: set[ExecutionEnvironment] = set()
        self._handoff: deque[asyncio.Future[ExecutionEnvironment | None]] = deque()
        # Finishing environments a waiting request found busy with work of their own: later
        # requests do not wait for them (engine/handoff.py).
        self._overdue: set[ExecutionEnvironment] = set()
        self._tokens = float(SCALING_BURST)
        self._tokens_at = time.monotonic()
        self._stopping: set[asyncio.Task[None]] = set()
        self._spare: ExecutionEnvironment | None = None
        self._spare_task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.closed = False
        self.generation = 0
        self.counters = FunctionCounters()  # for the control API and /metrics
        # Busy environments of the whole function, all versions' pools: the registry shares
        # reserved concurrency between them, as Lambda does.
        self.function_busy: Callable[[], int] = lambda: len(self._busy)

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Initialise the provisioned environments (AWS_LAMBDA_INITIALIZATION_TYPE) and stage
        the spare."""
        self._stage_spare()
        if self.fn.provisioned_concurrency:
            await asyncio.gather(
                *(self._provision() for _ in range(self.fn.provisioned_concurrency))
            )

    async def _provision(self) -> None:
        env = self._new_env("provisioned-concurrency")
        # Provisioned environments may take max(130 s, timeout) to initialise (LAMBDA_SPEC §5).
        result = await env.init(max(130.0, float(self.fn.timeout_s)))
        if isinstance(result, InitFailure):
            self._logs.write(
                self.fn.name,
                init_report_line(result.init_ms, "init", result.status, result.error_type),
            )
            return
        if env.generation != self.generation or self.closed:
            self._stop(env)  # reset or reloaded while it initialised
            return
        self._idle_provisioned.append(env)

    async def close(self) -> None:
        self.closed = True
        if self._spare_task is not None:
            await asyncio.gather(self._spare_task, return_exceptions=True)
        spare, self._spare = self._spare, None
        if spare is not None:
            await spare.shutdown()
        for fut in self._handoff:
            if not fut.done():
                fut.cancel()
        await asyncio.gather(*(env.shutdown() for env in list(self.envs)), return_exceptions=True)
        if self._running:  # cold starts in progress end with their environments
            await asyncio.gather(*self._running, return_exceptions=True)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    @property
    def init_timeout_s(self) -> float:
        """Lambda's init limit; under --debug the function's (10 h) timeout instead, as the
        init phase then includes the wait for the debugger to attach (emulator/overrides.py)."""
        if self.fn.debug_port is not None:
            return float(self.fn.timeout_s)
        return self.cfg.init_timeout_s

    def reap(self, now: float) -> None:
        """Shut down on-demand environments idle for longer than the keep-alive (never the
        one a debugger is attached to)."""
        if self.fn.debug_port is not None:
            return
        keep = []
        for env in self._idle:
            if now - env.last_used > self.cfg.keep_alive_s:
                self._stop(env)
            else:
                keep.append(env)
        self._idle = keep

    async def reset(self) -> None:
        """Start a new generation: the next invocation is a cold start. Idle environments are
        shut down now, busy ones when their invocation ends; provisioned environments are
        initialised again, as Lambda keeps them."""
        await self._new_generation()
        await self.start()

    async def reload(self, fn: FunctionConfig, command: RuntimeCommand) -> None:
        """New code or configuration: new invocations go to fresh environments, running ones
        finish, the old ones are drained and removed (hot reload)."""
        self.fn, self.command = fn, command
        await self.reset()

    async def _new_generation(self) -> None:
        self.generation += 1
        old = self._idle + self._idle_provisioned
        self._idle, self._idle_provisioned = [], []
        spare, self._spare = self._spare, None
        if spare is not None:
            old.append(spare)
        await asyncio.gather(*(env.shutdown() for env in old), return_exceptions=True)

    # --- the staged spare -------------------------------------------------------------------
    # Like Lambda's pool of pre-created sandboxes: one environment per function is staged
    # ahead of need (listener bound, cgroup joined, launcher waiting), so a cold start pays
    # only for the runtime's own init. Spares are not counted as environments until used.
    def _stage_spare(self) -> None:
        if self.closed or self._spare is not None or self._spare_task is not None:
            return
        if not self._sandboxes.stages(self.fn.name):
            return
        if self.fn.reserved_concurrency == 0:
            return
        self._spare_task = asyncio.get_running_loop().create_task(self._staging())

    async def _staging(self) -> None:
        env = self._make_env("on-demand")
        try:
            await env.stage()
        except Exception as exc:
            self._logs.write(self.fn.name, f"staging a spare environment failed: {exc}")
            await env.shutdown()
        else:
            if self.closed or self._spare is not None or env.generation != self.generation:
                await env.shutdown()
            else:
                self._spare = env
        finally:
            self._spare_task = None

    def _take_spare(self) -> ExecutionEnvironment | None:
        env, self._spare = self._spare, None
        if env is None or env.state is not EnvState.INIT or env.generation != self.generation:
            if env is not None:
                self._stop(env)
            return None
        self.envs.add(env)
        return env

    # --- environments -----------------------------------------------------------------------
    def _new_env(self, init_type: str = "on-demand") -> ExecutionEnvironment:
        env = self._make_env(init_type)
        self.envs.add(env)
        return env

    def _make_env(self, init_type: str) -> ExecutionEnvironment:
        env = ExecutionEnvironment(
            fn=self.fn,
            cfg=self.cfg,
            command=self.command,
            sandboxes=self._sandboxes,
            logs=self._logs,
            ledger=self._ledger,
            counters=self.counters,
            host_env=self._host_env,
            init_type=init_type,
            on_ready=self._on_ready,
            on_gone=self._on_gone,
        )
        env.generation = self.generation
        return env

    def _stop(self, env: ExecutionEnvironment) -> None:
        task = asyncio.get_running_loop().create_task(env.shutdown())
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def _mark_busy(self, env: ExecutionEnvironment) -> None:
        if env not in self._busy:
            self._busy.add(env)
            self._account.in_use += 1

    def _release(self, env: ExecutionEnvironment) -> None:
        if env in self._busy:
            self._busy.discard(env)
            self._account.in_use -= 1

    def _on_ready(self, env: ExecutionEnvironment) -> None:
        self._overdue.discard(env)
        if self.closed or env.generation != self.generation:
            self._release(env)
            self._stop(env)
            return
        while self._handoff:
            waiter = self._handoff.popleft()
            if not waiter.done():
                waiter.set_result(env)  # stays busy: it serves the waiting request next
                return
        self._release(env)
        if env.init_type == "provisioned-concurrency":
            self._idle_provisioned.append(env)
        else:
            self._idle.append(env)

    def _on_gone(self, env: ExecutionEnvironment) -> None:
        self.envs.discard(env)
        self._overdue.discard(env)
        self._release(env)
        if self._handoff and self.finishing < len(self._handoff):
            waiter = self._handoff.popleft()  # it waited for this one: it goes cold now
            if not waiter.done():
                waiter.set_result(None)
        for idle in (self._idle, self._idle_provisioned):
            if env in idle:
                idle.remove(env)

    def _take_idle(self) -> ExecutionEnvironment | None:
        for idle in (self._idle_provisioned, self._idle):
            while idle:
                env = idle.pop()
                if env.state is EnvState.READY:
                    return env
        return None

    def _admit_cold(self) -> None:
        reserved = self.fn.reserved_concurrency
        if reserved is not None and self.function_busy() >= reserved:
            raise errors.TooManyRequests(wire.REASON_RESERVED_CONCURRENCY)
        if self._account.in_use >= self._account.limit:
            raise errors.TooManyRequests(wire.REASON_ACCOUNT_CONCURRENCY)
        now = time.monotonic()
        self._tokens = min(
            float(SCALING_BURST), self._tokens + (now - self._tokens_at) * SCALING_REFILL_PER_S
        )
        self._tokens_at = now
        if self._tokens < 1.0:
            raise errors.TooManyRequests(wire.REASON_SCALING_RATE)
        self._tokens -= 1.0

    def has_older_environments(self) -> bool:
        """Whether an environment made before the last reset or reload still exists."""
        return any(env.generation != self.generation for env in self.envs)

    @property
    def busy_count(self) -> int:
        return len(self._busy)

    @property
    def finishing(self) -> int:
        """Environments that have answered and are on their way back to /next."""
        return sum(
            1 for env in self._busy if env.state is EnvState.FINISHING and env not in self._overdue
        )

    async def _await_handoff(self) -> ExecutionEnvironment | None:
        """Wait for a finishing environment while one is still on its way back to /next,
        bounded by its progress rather than the clock (engine/handoff.py); None: go cold."""
        waiter: asyncio.Future[ExecutionEnvironment | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._handoff.append(waiter)
        watches: dict[ExecutionEnvironment, HandoffWatch] = {}
        try:
            if self._idle or self._idle_provisioned:
                return None  # one came back before this request began waiting
            self._handing_off(waiter, watches)
            while True:
                await asyncio.wait((waiter,), timeout=HANDOFF_CHECK_S)
                if waiter.done():
                    return waiter.result()
                if not self._handing_off(waiter, watches):
                    # One more turn of the loop before giving up: a /next that arrived while
                    # the emulator itself was starved is read first.
                    await asyncio.wait((waiter,), timeout=0.001)
                    return waiter.result() if waiter.done() else None
        finally:
            with contextlib.suppress(ValueError):
                self._handoff.remove(waiter)

    def _handing_off(
        self,
        waiter: asyncio.Future[ExecutionEnvironment | None],
        watches: dict[ExecutionEnvironment, HandoffWatch],
    ) -> bool:
        """Whether enough finishing environments are still on their way back for `waiter`
        (by its place in the queue); the ones busy with work of their own become overdue."""
        now = time.monotonic()
        handing = 0
        for env in self._busy:
            if env.state is not EnvState.FINISHING or env in self._overdue:
                continue
            watch = watches.get(env)
            if watch is None:
                watches[env] = HandoffWatch(env.sandbox, now)
            elif watch.busy(now):
                self._overdue.add(env)
                continue
            handing += 1
        try:
            place = self._handoff.index(waiter)
        except ValueError:
            return False
        return handing > place

    # --- invoking ---------------------------------------------------------------------------
    def submit(self, inv: Invocation) -> None:
        """Serve `inv` on a warm environment, or a new one; its reply is resolved when it
        ends. Raises TooManyRequests when it is throttled at once (a throttle decided after
        the hand-off wait goes to the reply instead)."""
        if self.closed:
            raise errors.TooManyRequests(wire.REASON_ACCOUNT_CONCURRENCY, "Emulator is stopping")
        env = self._take_idle()
        if env is not None:
            if self._account.in_use >= self._account.limit:
                self._on_ready(env)  # put it back
                self.counters.throttles += 1
                raise errors.TooManyRequests(wire.REASON_ACCOUNT_CONCURRENCY)
            self._mark_busy(env)
            self.counters.invocations += 1
            env.invoke(inv)  # the warm path: no task, the runtime's answer ends it
            return
        if self.finishing > len(self._handoff):
            self._spawn(self._after_handoff(inv), inv)
            return
        self._admit(inv)

    def _admit(self, inv: Invocation) -> None:
        try:
            self._admit_cold()
        except errors.TooManyRequests:
            self.counters.throttles += 1
            raise
        self.counters.invocations += 1
        self.counters.cold_starts += 1
        # The new environment is busy from now: the next request's admission counts it.
        env = self._take_spare() or self._new_env()
        self._mark_busy(env)
        # The next spare is staged once this cold start has answered: staging beside it (a
        # fork of the emulator, a cgroup, a mount namespace, a launcher) competed with the
        # runtime's init for CPU and added ~10-25 ms to a Node cold start on 2 cores.
        inv.reply.add_done_callback(lambda _reply: self._stage_spare())
        self._spawn(self._cold(inv, env), inv)

    async def _after_handoff(self, inv: Invocation) -> None:
        env = await self._await_handoff()
        if env is None:
            # It came back before this request's wait began (this task's first step), or
            # another one did meanwhile: idle, and warm.
            env = self._take_idle()
            if env is not None:
                self._mark_busy(env)
        if env is not None:
            self.counters.invocations += 1
            env.invoke(inv)
        else:
            self._admit(inv)

    def _spawn(self, coro: Coroutine[Any, Any, None], inv: Invocation) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(lambda t: self._ended(t, inv))

    def _ended(self, task: asyncio.Task[None], inv: Invocation) -> None:
        """Whatever happened, the invocation gets one answer."""
        self._running.discard(task)
        if task.cancelled():
            inv.fail(
                errors.TooManyRequests(wire.REASON_ACCOUNT_CONCURRENCY, "Emulator is stopping")
            )
            return
        exc = task.exception()
        if exc is None:
            return
        if not isinstance(exc, errors.ServiceError):
            self._internal_error(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
        inv.fail(exc)

    async def _cold(self, inv: Invocation, env: ExecutionEnvironment) -> None:
        try:
            first = await env.init(self.init_timeout_s)
        except BaseException:
            await env.shutdown()  # never leak a concurrency slot or a process
            raise
        if not isinstance(first, InitFailure):
            env.invoke(inv, init_ms=first.init_ms)
            return
        if self.closed:
            # Stopped during init (which killed it): no second attempt that would outlive
            # the stop (under --debug one would wait hours for a debugger).
            raise errors.TooManyRequests(wire.REASON_ACCOUNT_CONCURRENCY, "Emulator is stopping")
        # Suppressed init: Lambda logs the failed init and runs it again in the invoke phase,
        # bounded by the function timeout; the caller sees the second attempt's outcome.
        self._logs.write(
            self.fn.name, init_report_line(first.init_ms, "init", first.status, first.error_type)
        )
        retry = self._new_env()
        self._mark_busy(retry)
        # The second init belongs to the invocation: START first, its output in the tail.
        log = InvocationLog()
        start = start_line(inv.request_id, inv.executed_version)
        self._logs.write(self.fn.name, start)
        log.lines.append(start)
        retry.log_into(log)
        started = time.perf_counter()
        try:
            second = await retry.init(float(self.fn.timeout_s))
        except BaseException:
            await retry.shutdown()
            raise
        if not isinstance(second, InitFailure):
            remaining = self.fn.timeout_s - (time.perf_counter() - started)
            retry.invoke(inv, init_ms=second.init_ms, timeout_s=max(0.001, remaining), log=log)
            return
        self._init_failed(inv, second, log)

    def _init_failed(self, inv: Invocation, failure: InitFailure, log: InvocationLog) -> None:
        """The invoke-phase init failed too: its log (START, the init's output) ends here."""
        line = init_report_line(failure.init_ms, "invoke", failure.status, failure.error_type)
        self._logs.write(self.fn.name, line)
        log.lines.append(line)
        payload = failure.payload(inv.request_id)
        outcome = Outcome(
            payload, function_error=True, status=failure.status, error_type=failure.error_type
        )
        ended = time.perf_counter()
        report = self._ledger.finish(
            function=self.fn.name,
            memory_mb=self.fn.memory_mb,
            inv=inv,
            outcome=outcome,
            log=log,
            started=ended - failure.init_ms / 1000,
            ended=ended,
            init_ms=None,
            peak_bytes=failure.peak_bytes,
            environment_id="",
            init_type="on-demand",
            cpu=(0.0, 0.0),
            counters=self.counters,
        )
        inv.resolve(
            InvocationResult(
                payload=payload,
                function_error=True,
                report=report,
                log=log.tail(wire.LOG_TAIL_BYTES) if inv.log_tail else b"",
            )
        )

    # --- introspection ----------------------------------------------------------------------
    def describe(self) -> dict[str, object]:
        return {
            "name": self.fn.name,
            "version": self.fn.version,
            "runtime": self.fn.runtime,
            "memory_mb": self.fn.memory_mb,
            "timeout_s": self.fn.timeout_s,
            "reserved_concurrency": self.fn.reserved_concurrency,
            "provisioned_concurrency": self.fn.provisioned_concurrency,
            "environments": len(self.envs),
            "busy": len(self._busy),
            "idle": len(self._idle) + len(self._idle_provisioned),
            "invocations": self.counters.invocations,
            "cold_starts": self.counters.cold_starts,
            "throttles": self.counters.throttles,
            "errors": self.counters.errors,
        }

    def environments(self) -> list[dict[str, object]]:
        return [
            {
                "id": env.id,
                "function": self.fn.name,
                "version": self.fn.version,
                "state": str(env.state),
                "init_type": env.init_type,
                "pid": env.sandbox.pid if env.sandbox else None,
                "invocations": env.invocations,
                "init_ms": env.init_ms,
                "created_at": env.created_at,
            }
            for env in self.envs
        ]
