"""Event (asynchronous) invocations: accepted with 202, then delivered with Lambda's retries.

Lambda's policy (LAMBDA_SPEC §7): a function error (including timeouts and crashes) is retried
twice more, after 1 minute and then 2 minutes; a throttle is retried with backoff from 1 s up
to 5 minutes until the event is older than the maximum event age (6 hours). Retries keep the
request id. `EmulatorConfig.event_retry_delay_scale` shrinks every delay (tests use ~0.01).

The queue lives in memory for now: events still queued when the emulator stops are reported
on stop, not kept (the durable on-disk queue is separate work).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

from emulator import errors
from emulator.engine.invocation import Invocation, InvocationResult

FUNCTION_ERROR_RETRY_DELAYS_S = (60.0, 120.0)
THROTTLE_BACKOFF_START_S = 1.0
THROTTLE_BACKOFF_MAX_S = 300.0
MAX_EVENT_AGE_S = 6 * 3600.0


class EventQueue:
    def __init__(
        self,
        invoke: Callable[[Invocation], asyncio.Future[InvocationResult]],
        *,
        delay_scale: float,
        on_final_failure: Callable[[Invocation, str], None],
    ) -> None:
        self._invoke = invoke
        self._scale = delay_scale
        self._on_final_failure = on_final_failure
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, inv: Invocation) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(inv))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, inv: Invocation) -> None:
        accepted = time.monotonic()
        retries = 0
        backoff = THROTTLE_BACKOFF_START_S
        while True:
            attempt = replace(inv, attempt=retries, responder=None, answered=False)
            try:
                result = await self._invoke(attempt)
            except errors.TooManyRequests:
                if (
                    time.monotonic() - accepted + backoff * self._scale
                    > MAX_EVENT_AGE_S * self._scale
                ):
                    self.failed += 1
                    self._on_final_failure(inv, "EventAgeExceeded")
                    return
                await asyncio.sleep(backoff * self._scale)
                backoff = min(backoff * 2, THROTTLE_BACKOFF_MAX_S)
                continue
            if not result.function_error:
                self.delivered += 1
                return
            if retries >= len(FUNCTION_ERROR_RETRY_DELAYS_S):
                self.failed += 1
                self._on_final_failure(inv, "RetriesExhausted")
                return
            await asyncio.sleep(FUNCTION_ERROR_RETRY_DELAYS_S[retries] * self._scale)
            retries += 1

    async def close(self) -> int:
        """Cancel pending deliveries; returns how many were still pending."""
        pending = len(self._tasks)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        return pending
