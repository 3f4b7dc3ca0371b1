"""Event (asynchronous) invocations: accepted with 202, then delivered with Lambda's retries.

Lambda's policy (LAMBDA_SPEC §7): a function error (including timeouts and crashes) is retried
up to `MaximumRetryAttempts` times (default 2), after 1 minute and then 2 minutes; a throttle
is retried with backoff from 1 s up to 5 minutes; an event older than `MaximumEventAgeInSeconds`
(default 6 hours) is dropped. Retries keep the request id. An event that fails for good goes to
the function's on-failure destination (`on_failure`) as Lambda's invocation record.
`EmulatorConfig.event_retry_delay_scale` shrinks every delay and age (tests use ~0.01).

Every accepted event is in the durable store (emulator/engine/eventstore.py) before the 202 and
until it is delivered or failed for good, so a stop or a crash loses none: the next emulator on
the same state directory delivers what is left (`recover`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from emulator import errors, wire
from emulator.engine.eventstore import EventStore
from emulator.engine.invocation import Invocation, InvocationResult

FUNCTION_ERROR_RETRY_DELAYS_S = (60.0, 120.0)
THROTTLE_BACKOFF_START_S = 1.0
THROTTLE_BACKOFF_MAX_S = 300.0
MAX_EVENT_AGE_S = 6 * 3600.0
MAX_RETRY_ATTEMPTS = 2
# Back-pressure: beyond this many undelivered events, new ones get 429 instead of growing the
# emulator's memory without bound (our limit; Lambda's queue has none a caller can reach).
MAX_PENDING_EVENTS = 10_000


@dataclass(frozen=True, slots=True)
class EventSettings:
    """A function's EventInvokeConfig."""

    max_retries: int = MAX_RETRY_ATTEMPTS
    max_age_s: float = MAX_EVENT_AGE_S


@dataclass(frozen=True, slots=True)
class EventFailure:
    """An event that will not be delivered: what the on-failure destination receives."""

    invocation: Invocation
    condition: str  # RetriesExhausted | EventAgeExceeded | FunctionNotFound
    invoke_count: int
    result: InvocationResult | None


class EventQueue:
    def __init__(
        self,
        invoke: Callable[[Invocation], asyncio.Future[InvocationResult]],
        *,
        delay_scale: float,
        on_final_failure: Callable[[EventFailure], None],
        settings: Callable[[str], EventSettings] = lambda _name: EventSettings(),
        store: EventStore | None = None,
    ) -> None:
        self._invoke = invoke
        self._scale = delay_scale
        self._on_final_failure = on_final_failure
        self._settings = settings
        self.store = store
        self.max_pending = MAX_PENDING_EVENTS
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, inv: Invocation) -> None:
        """Accept an event: durable on return (the caller's 202 follows); TooManyRequests
        when the queue is full."""
        if len(self._tasks) >= self.max_pending:
            raise errors.TooManyRequests(
                wire.REASON_CALLER_RATE, "Too many Event invocations are waiting for delivery."
            )
        accepted = self.store.add(inv) if self.store is not None else time.time()
        self._start(inv, accepted, 0)

    def recover(self) -> int:
        """Deliver the events a previous emulator left in the store; returns how many."""
        if self.store is None:
            return 0
        pending = self.store.pending()
        for event in pending:
            self._start(event.invocation, event.accepted_at, event.attempts)
        return len(pending)

    def _start(self, inv: Invocation, accepted: float, attempts: int) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(inv, accepted, attempts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, inv: Invocation, accepted: float, attempts: int) -> None:
        settings = self._settings(inv.function_name)
        max_age = settings.max_age_s * self._scale
        retries = attempts  # function-error attempts made so far (kept across restarts)
        invokes = attempts
        backoff = THROTTLE_BACKOFF_START_S
        result: InvocationResult | None = None
        while True:
            if time.time() - accepted > max_age:
                self._fail(inv, "EventAgeExceeded", invokes, result)
                return
            attempt = replace(inv, attempt=retries)
            try:
                result = await self._invoke(attempt)
            except errors.TooManyRequests:
                if time.time() - accepted + backoff * self._scale > max_age:
                    self._fail(inv, "EventAgeExceeded", invokes, result)
                    return
                await asyncio.sleep(backoff * self._scale)
                backoff = min(backoff * 2, THROTTLE_BACKOFF_MAX_S)
                continue
            except errors.ResourceNotFound:
                self._fail(inv, "FunctionNotFound", invokes, result)
                return
            invokes += 1
            if not result.function_error:
                self.delivered += 1
                if self.store is not None:
                    self.store.remove(inv.request_id)
                return
            retries += 1
            if self.store is not None:
                self.store.attempted(inv.request_id, retries)
            if retries > settings.max_retries:
                self._fail(inv, "RetriesExhausted", invokes, result)
                return
            delay = FUNCTION_ERROR_RETRY_DELAYS_S[min(retries, 2) - 1]
            await asyncio.sleep(delay * self._scale)

    def _fail(
        self, inv: Invocation, condition: str, invokes: int, result: InvocationResult | None
    ) -> None:
        self.failed += 1
        self._on_final_failure(EventFailure(inv, condition, invokes, result))
        if self.store is not None:
            self.store.remove(inv.request_id)  # after the destination has it: at least once

    async def close(self) -> int:
        """Stop delivering; returns how many events were still pending (they stay in the
        store, for the next start)."""
        pending = len(self._tasks)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.store is not None:
            self.store.close()
        return pending
