"""An invocation is a message that carries its own way to answer.

The Invoke API builds an `Invocation` with a `responder`, submits it to the function's pool,
and the environment answers it exactly once (`answer`) with an `InvocationResult` as soon as
the result is known; the pool also returns the full result (with its REPORT) to whoever
submitted it (the Invoke API's task, or the Event queue).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.metrics.report import Report


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it to the runtime (LAMBDA_SPEC §1)."""
    epoch = f"{int(time.time()):08x}"
    return f"Root=1-{epoch}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass(slots=True, eq=False)
class Invocation:
    function_name: str
    payload: bytes
    invoked_arn: str
    request_id: str = field(default_factory=new_request_id)
    content_type: str = "application/json"
    trace_id: str = field(default_factory=new_trace_id)
    client_context: str | None = None  # decoded JSON text
    cognito_identity: str | None = None
    tenant_id: str | None = None
    invocation_type: str = "RequestResponse"
    log_tail: bool = False
    accepted_at: float = field(default_factory=time.perf_counter)
    deadline_ms: int = 0  # epoch ms; set when the invocation is dispatched to a runtime
    attempt: int = 0  # Event retries
    # Called once with the result, as early as it is known (before the REPORT bookkeeping
    # unless the caller asked for the log tail): the Invoke API writes the HTTP answer here.
    responder: Callable[[InvocationResult], object] | None = None
    answered: bool = False

    def answer(self, result: InvocationResult) -> bool:
        """Answer the caller once; a second answer is refused (returns False)."""
        if self.answered:
            return False
        self.answered = True
        if self.responder is not None:
            self.responder(result)
        return True


@dataclass(slots=True)
class InvocationResult:
    payload: bytes
    content_type: str = "application/json"
    function_error: bool = False
    report: Report | None = None
    log: bytes = b""  # the invocation's log (START … REPORT), for LogType Tail
    environment_id: str | None = None
