"""InvokeWithResponseStream (botocore lambda 2015-03-31 model; /work/notes/streaming-spec.md §2):
what boto3's `invoke_with_response_stream` calls.

    POST /2021-11-15/functions/{FunctionName}/response-streaming-invocations?Qualifier=…

Service errors (not found, throttled, too large) are answered as the Invoke API answers them,
before any stream. Otherwise the answer is 200, `application/vnd.amazon.eventstream`, in
HTTP/1.1 chunked encoding: one `PayloadChunk` message per piece the runtime flushed, sent as it
arrives, then one `InvokeComplete` with `ErrorCode` / `ErrorDetails` when the function failed
and `LogResult` for `X-Amz-Log-Type: Tail`. A function that does not stream sends its whole
response as one `PayloadChunk` (as RAPID streams a buffered response through: RIE
`directinvoke.go`). There is no `Event` invocation type; `DryRun` is 204 (the model ⚠).

The AWS CLI has no command for this operation: both v1 and v2 remove it
(aws-cli `awscli/customizations/removals.py`, `invoke-with-response-stream`).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable

from emulator import errors, wire
from emulator.api import eventstream
from emulator.api.invoke import InvokeApi, client_context_header
from emulator.api.payload_errors import parse_error_message
from emulator.api.responses import service_error
from emulator.arns import ValidationError
from emulator.engine.invocation import (
    FlowControl,
    Invocation,
    InvocationResult,
    new_request_id,
    trace_id_from,
)
from emulator.httpserver import Reply, Request, Response, ResponseStream


class _ServiceException(errors.ServiceError):
    status = 500
    error_type = wire.SERVICE_EXCEPTION
    message_key = "Message"


_INVOCATION_TYPES = (wire.INVOCATION_REQUEST_RESPONSE, wire.INVOCATION_DRY_RUN)


class InvokeStreamApi:
    """The `invoke_stream` surface of the invoke listener; functions are found, and named, as
    the Invoke API finds them."""

    def __init__(
        self, invoke_api: InvokeApi, *, on_internal_error: Callable[[Exception], None]
    ) -> None:
        self.invoke_api = invoke_api
        self._internal_error = on_internal_error

    def invoke(self, request: Request) -> Response | Reply:
        pool, arn = self.invoke_api.resolve(request.params["FunctionName"], request.query)
        kind = request.headers.get(wire.H_INVOCATION_TYPE) or wire.INVOCATION_REQUEST_RESPONSE
        if kind not in _INVOCATION_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [RequestResponse, DryRun]"
            )
        if request.body_size > wire.MAX_SYNC_REQUEST_BYTES or request.truncated:
            raise errors.RequestTooLarge(
                f"Request must be smaller than {wire.MAX_SYNC_REQUEST_BYTES} bytes for the "
                "InvokeWithResponseStream operation"
            )
        payload = request.body or b"{}"
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise errors.InvalidRequestContent(parse_error_message(payload)) from exc
        client_context = client_context_header(request.headers.get(wire.H_CALLER_CLIENT_CONTEXT))
        if kind == wire.INVOCATION_DRY_RUN:
            return Response(204, headers=[(wire.H_AMZN_REQUEST_ID, new_request_id())])
        inv = Invocation(
            function_name=pool.fn.name,
            payload=payload,
            invoked_arn=arn,
            client_context=client_context,
            tenant_id=request.headers.get(wire.H_CALLER_TENANT_ID),
            trace_id=trace_id_from(request.headers.get(wire.H_CALLER_TRACE_ID)),
            log_tail=request.headers.get(wire.H_LOG_TYPE) == wire.LOG_TYPE_TAIL,
            executed_version=pool.fn.version,
        )
        reply = request.defer()
        sink = EventStreamSink(inv, reply, self._internal_error)
        inv.stream = sink
        pool.submit(inv)  # raises TooManyRequests when throttled at once
        inv.reply.add_done_callback(sink.complete)
        return reply


class EventStreamSink:
    """One InvokeWithResponseStream answer: the 200 and its headers when the runtime starts
    streaming (or when the invocation ends, for a function that does not stream), a
    `PayloadChunk` per piece, `InvokeComplete` at the end."""

    __slots__ = ("_internal_error", "_out", "inv", "reply")

    def __init__(
        self, inv: Invocation, reply: Reply, on_internal_error: Callable[[Exception], None]
    ) -> None:
        self.inv = inv
        self.reply = reply
        self._out: ResponseStream | None = None
        self._internal_error = on_internal_error

    def _start(self) -> ResponseStream:
        out = self._out
        if out is None:
            inv = self.inv
            out = self.reply.stream(
                200,
                [
                    (wire.H_AMZN_REQUEST_ID, inv.request_id),
                    (wire.H_EXECUTED_VERSION, inv.executed_version),
                ],
                wire.EVENT_STREAM_CONTENT_TYPE,
            )
            self._out = out
        return out

    # --- ResponseSink ------------------------------------------------------------------------
    def begin(self, content_type: str, flow: FlowControl) -> None:
        out = self._start()
        out.on_pause = flow.pause
        out.on_resume = flow.resume

    def data(self, chunk: bytes) -> None:
        if self._out is not None:
            self._out.write(eventstream.payload_chunk(chunk))

    # --- the end -------------------------------------------------------------------------------
    def complete(self, fut: asyncio.Future[InvocationResult]) -> None:
        exc = fut.exception()
        if exc is not None and self._out is None:
            # before any stream: the Invoke API's answer (throttled after a wait, …)
            if isinstance(exc, errors.ServiceError):
                self.reply.send(service_error(exc, self.inv.request_id))
                return
            self._internal_error(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            failure = _ServiceException(f"{type(exc).__name__}: {exc}")
            self.reply.send(service_error(failure, self.inv.request_id))
            return
        out = self._start()
        if exc is not None:  # ⚠ our own failure mid-stream: ends it as an error
            if not isinstance(exc, errors.ServiceError):
                self._internal_error(exc if isinstance(exc, Exception) else RuntimeError(exc))
            out.write(eventstream.invoke_complete(wire.SERVICE_EXCEPTION, str(exc)))
            out.end()
            return
        result = fut.result()
        error_code = error_details = None
        if result.function_error:
            # ⚠ AWS's InvokeComplete for a failed function is not recorded: the code is the
            # trailer's error type, else the error body's errorType (Sandbox.Timedout, …);
            # the details are the body, as Invoke would have returned it
            error_code = result.error_type or _error_type_of(result.payload)
            error_details = result.payload.decode(errors="replace")
        elif not result.streamed and result.payload:
            out.write(eventstream.payload_chunk(result.payload))
        log = base64.b64encode(result.log).decode() if self.inv.log_tail else None
        out.write(eventstream.invoke_complete(error_code, error_details, log))
        out.end()


def _error_type_of(payload: bytes) -> str:
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return wire.RUNTIME_UNKNOWN
    value = body.get("errorType") if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else wire.RUNTIME_UNKNOWN
