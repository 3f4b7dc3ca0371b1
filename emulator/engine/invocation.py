"""An invocation is a message that carries its own reply future.

The Invoke API builds an `Invocation`, submits it to the function's pool and awaits
`reply`; the pool and the environment resolve it exactly once with an `InvocationResult`.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
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
    reply: asyncio.Future[InvocationResult] | None = None

    def __post_init__(self) -> None:
        if self.reply is None:
            self.reply = asyncio.get_running_loop().create_future()

    def answer(self, result: InvocationResult) -> bool:
        """Resolve the reply once; a second answer is refused (returns False)."""
        assert self.reply is not None
        if self.reply.done():
            return False
        self.reply.set_result(result)
        return True


@dataclass(slots=True)
class InvocationResult:
    payload: bytes
    content_type: str = "application/json"
    function_error: bool = False
    report: Report | None = None
    log: bytes = b""  # the invocation's log (START … REPORT), for LogType Tail
    environment_id: str | None = None
