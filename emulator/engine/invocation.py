"""An invocation is a message that carries its own reply.

Whoever accepts a request (the Invoke API, the Event queue, a front door) builds an
`Invocation` and submits it to the function's pool; the pool or the environment that serves
it resolves `inv.reply` exactly once, with an `InvocationResult` or with the `ServiceError`
the caller must see (a throttle that was decided after a short wait). Nothing else answers:
a second resolution is refused, so no caller is ever answered twice.

    Invoke API ──Invocation──▶ FunctionPool.submit ──▶ ExecutionEnvironment
        ▲                                                   │
        └──────────── inv.reply (resolved once) ◀───────────┘
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from emulator import wire
from emulator.metrics.report import Report

# Ids need to be unique, not secret: a generator seeded once from the OS spares a system call
# per id on the hot path.
_ids = random.Random(os.urandom(32))


def new_request_id() -> str:
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


def new_trace_id() -> str:
    """An X-Ray trace header as Lambda passes it to the runtime (LAMBDA_SPEC §1)."""
    raw = f"{_ids.getrandbits(160):040x}"
    return f"Root=1-{int(time.time()):08x}-{raw[:24]};Parent={raw[24:]};Sampled=0"


def trace_id_from(header: str | None) -> str:
    """The trace of an invocation: the caller's `X-Amzn-Trace-Id` when it names a Root
    (Lambda continues the caller's trace: docs services-xray.html, PassThrough), else a new
    one. A missing Parent is Lambda's own segment; a missing Sampled is 0."""
    if not header:
        return new_trace_id()
    fields: dict[str, str] = {}
    for part in header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and value:
            fields[key.strip().lower()] = value.strip()
    if "root" not in fields:
        return new_trace_id()
    parent = fields.get("parent") or os.urandom(8).hex()
    return f"Root={fields['root']};Parent={parent};Sampled={fields.get('sampled', '0')}"


class FlowControl(Protocol):
    """The runtime's side of a streamed response: stop and restart reading from it."""

    def pause(self) -> None: ...
    def resume(self) -> None: ...


class ResponseSink(Protocol):
    """Where a caller that takes a streamed response (InvokeWithResponseStream, a
    RESPONSE_STREAM function URL) receives it: `begin` when the runtime starts streaming, then
    each piece as the runtime flushed it. The end, and any error, come as `inv.reply`'s result
    (`InvocationResult.streamed`). A function that does not stream calls neither."""

    def begin(self, content_type: str, flow: FlowControl) -> None: ...
    def data(self, chunk: bytes) -> None: ...


@dataclass(slots=True)
class InvocationResult:
    payload: bytes
    content_type: str = "application/json"
    function_error: bool = False
    report: Report | None = None  # set when the answer waited for the REPORT (log tail)
    log: bytes = b""  # the invocation's log (START … REPORT), for LogType Tail
    environment_id: str | None = None
    # The body went to `Invocation.stream` as it was produced (`payload` is then empty, or an
    # error's details); `error_type` is the error a streamed response ended with.
    streamed: bool = False
    error_type: str | None = None


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
    invocation_type: str = wire.INVOCATION_REQUEST_RESPONSE
    log_tail: bool = False
    executed_version: str = wire.LATEST
    accepted_at: float = field(default_factory=time.perf_counter)
    deadline_ms: int = 0  # epoch ms; set when the invocation is dispatched to a runtime
    attempt: int = 0  # Event retries
    stream: ResponseSink | None = None  # the caller takes a streamed response (see above)
    # Made on first use, on the loop that serves it; a copy (`dataclasses.replace`, an Event
    # retry) gets a future of its own.
    _reply: asyncio.Future[InvocationResult] | None = field(default=None, init=False, repr=False)

    @property
    def reply(self) -> asyncio.Future[InvocationResult]:
        if self._reply is None:
            self._reply = asyncio.get_running_loop().create_future()
        return self._reply

    def resolve(self, result: InvocationResult) -> bool:
        """Answer the caller; False (and nothing sent) if it was answered already."""
        if self.reply.done():
            return False
        self.reply.set_result(result)
        return True

    def fail(self, exc: BaseException) -> bool:
        """Answer the caller with a service error (or the emulator's own failure)."""
        if self.reply.done():
            return False
        self.reply.set_exception(exc)
        return True

    @property
    def answered(self) -> bool:
        return self.reply.done()
