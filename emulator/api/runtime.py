"""Runtime API `2018-06-01`, served to one execution environment (LAMBDA_SPEC §1).

Each environment gets its own listener (on the address its sandbox chooses) and its own
`RuntimeApi`, so a runtime can only ever see and answer its own invocations; its paths are
rows of the route table (emulator/api/routes.py). The runtime side of the lifecycle is an
explicit state machine with RIE's state names (RIE `core/states.go`):

    Started ──/next──▶ Ready ──dispatch──▶ Running ──/response|/error──▶ RuntimeResponseSentState
       │                 ▲                    │ /next: same invocation again      │    ▲
       │                 └────────────────────┴────────────────/next──────────────┘    │
       └──/init/error──▶ InitError            └─streamed /response─▶ RuntimeInvocationResponseState
                                                                     (until the body ends)

An illegal transition is answered `403 InvalidStateTransition`; a request id that is not the
one in flight (or was already answered) is `400 InvalidRequestID`. The environment learns of
what the runtime did through callbacks and one future per dispatched invocation; this module
knows nothing of pools or processes.

A streamed `/response` (`Lambda-Runtime-Function-Response-Mode: streaming`) to a caller that
takes a stream is handed over as it arrives (emulator/engine/streaming.py); to a buffered
caller it is read whole, as RAPID reads it (RIE `directinvoke.go`), and its error trailers
make it a function error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Final

from emulator import errors, wire
from emulator.api.routes import Router
from emulator.engine.invocation import Invocation
from emulator.engine.states import RuntimeReady
from emulator.engine.streaming import (
    ResponseRelay,
    StreamedResponse,
    StreamLimits,
    decode_error_body,
)
from emulator.httpserver import (
    ConnectionTimeouts,
    HttpServer,
    Reply,
    Request,
    RequestBody,
    Response,
)

if TYPE_CHECKING:
    from emulator.api.extensions import ExtensionsApi

_JSON = "application/json"
_H_RESPONSE_MODE = wire.H_RESPONSE_MODE.lower()
_H_ERROR_TYPE = wire.H_FUNCTION_ERROR_TYPE.lower()
_H_ERROR_BODY = wire.H_FUNCTION_ERROR_BODY.lower()
_ACCEPTED = Response(202, b'{"status":"OK"}', content_type=_JSON)


class RuntimeState(StrEnum):
    STARTED = "Started"
    INIT_ERROR = "InitError"
    READY = "Ready"
    RUNNING = "Running"
    RESPONDING = "RuntimeInvocationResponseState"  # a streamed /response in progress
    RESPONSE_SENT = "RuntimeResponseSentState"


# The runtime's moves, as RIE's core/states.go allows them; anything else is answered
# 403 InvalidStateTransition with RIE's message.
RUNTIME_TRANSITIONS: Final[dict[RuntimeState, frozenset[RuntimeState]]] = {
    RuntimeState.STARTED: frozenset({RuntimeState.READY, RuntimeState.INIT_ERROR}),
    RuntimeState.INIT_ERROR: frozenset(),
    RuntimeState.READY: frozenset({RuntimeState.RUNNING}),
    RuntimeState.RUNNING: frozenset({RuntimeState.RESPONSE_SENT, RuntimeState.RESPONDING}),
    RuntimeState.RESPONDING: frozenset({RuntimeState.RESPONSE_SENT}),
    RuntimeState.RESPONSE_SENT: frozenset({RuntimeState.READY}),
}


@dataclass(frozen=True, slots=True)
class FunctionResponse:
    body: bytes
    content_type: str
    at: float  # perf_counter when the runtime posted it


@dataclass(frozen=True, slots=True)
class FunctionError:
    body: bytes
    error_type: str  # normalised: Runtime.X / Function.X kept, else Runtime.Unknown
    at: float


@dataclass(frozen=True, slots=True)
class ResponseTooLarge:
    size: int
    at: float


RuntimeOutcome = FunctionResponse | FunctionError | ResponseTooLarge | StreamedResponse


@dataclass(frozen=True, slots=True)
class InitFailed:
    body: bytes
    error_type: str
    at: float


def normalise_error_type(value: str | None) -> str:
    """RIE `fatalerror`: `(Runtime|Function).Xxx` kept, other `Function.*` unknown."""
    if not value:
        return wire.RUNTIME_UNKNOWN
    head, _, tail = value.partition(".")
    if head in ("Runtime", "Function") and tail[:1].isupper() and tail.isalnum():
        return value
    return "Function.Unknown" if head == "Function" else wire.RUNTIME_UNKNOWN


class RuntimeApi:
    """The Runtime API of one environment: its listener and its runtime state machine."""

    def __init__(
        self,
        *,
        on_init_done: Callable[[RuntimeReady], None],
        on_init_error: Callable[[InitFailed], None],
        on_ready: Callable[[], None],
        on_server_error: Callable[[Exception], None] | None = None,
        admit: Callable[[tuple[str, int]], bool] | None = None,
        host: str = "127.0.0.1",
        stream_limits: StreamLimits | None = None,
        timeouts: ConnectionTimeouts | None = None,
    ) -> None:
        self.state = RuntimeState.STARTED
        self._on_init_done = on_init_done
        self._on_init_error = on_init_error
        self._on_ready = on_ready
        self._waiter: Reply | None = None
        self._current: Invocation | None = None
        self._on_outcome: Callable[[RuntimeOutcome], None] | None = None
        self.relay: ResponseRelay | None = None  # the invocation's streamed response, if any
        # The Extensions and Telemetry APIs share this listener (AWS_LAMBDA_RUNTIME_API).
        self.extensions: ExtensionsApi | None = None
        self.host = host
        self.stream_limits = stream_limits or StreamLimits()
        self.server = HttpServer(
            self._route,
            host=host,
            port=0,
            max_body=wire.MAX_RUNTIME_RESPONSE_BYTES,
            on_handler_error=on_server_error,
            cancel_on_disconnect=True,
            admit=admit,
            stream_bodies=self._streams,
            timeouts=timeouts,
        )
        self._router: Router | None = None

    @property
    def address(self) -> str:
        """`host:port`, no scheme: where this listener is bound."""
        return f"{self.host}:{self.server.port}"

    async def start(self) -> None:
        await self.server.start()

    async def close(self) -> None:
        if self._waiter is not None:
            self._waiter.cancel()
        await self.server.close()

    def _route(self, request: Request) -> Response | Reply | Awaitable[Response]:
        router = self._router
        if router is None:  # the extensions surface is attached after construction
            surfaces: dict[str, object] = {"runtime": self}
            if self.extensions is not None:
                surfaces["extensions"] = self.extensions
            router = Router("runtime", surfaces)
            self._router = router
        return router(request)

    def _move(self, target: RuntimeState) -> None:
        if target not in RUNTIME_TRANSITIONS[self.state]:
            raise errors.InvalidStateTransition(self.state, target)
        self.state = target

    # --- the environment's side -----------------------------------------------------------
    def dispatch(
        self, invocation: Invocation, on_outcome: Callable[[RuntimeOutcome], None]
    ) -> None:
        """Hand an invocation to the runtime waiting in `/next` (or to its next `/next`);
        `on_outcome` is called once with what the runtime answered."""
        self._move(RuntimeState.RUNNING)
        self._current = invocation
        self._on_outcome = on_outcome
        self.relay = None
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.send(_render_invocation(invocation))

    # --- handlers (api/routes.py) ---------------------------------------------------------
    def next(self, request: Request) -> Response | Reply:
        state = self.state
        if state is RuntimeState.RUNNING and self._current is not None:
            # RIE: a repeated /next while Running returns the same invocation again.
            return _render_invocation(self._current)
        if self._polling():  # a second long poll beside a live one
            raise errors.InvalidStateTransition(state, RuntimeState.READY)
        if state is not RuntimeState.READY:  # READY: polling again after a dropped connection
            self._move(RuntimeState.READY)
            if state is RuntimeState.STARTED:
                self._on_init_done(RuntimeReady(time.perf_counter()))
            else:
                self._current = None
                self._on_ready()
        if self.state is RuntimeState.RUNNING and self._current is not None:
            return _render_invocation(self._current)  # dispatched from inside _on_ready
        # The long poll: answered by dispatch(). If the runtime's connection goes away the
        # server cancels this Reply; an invocation dispatched later stays current and is
        # returned by the runtime's next /next.
        waiter = request.defer(on_cancel=self._poll_dropped)
        self._waiter = waiter
        return waiter

    def _polling(self) -> bool:
        return self._waiter is not None and not self._waiter.done

    def _poll_dropped(self) -> None:
        self._waiter = None

    def _check_in_flight(self, request_id: str, target: str) -> Invocation:
        if self.state in (RuntimeState.STARTED, RuntimeState.INIT_ERROR, RuntimeState.RESPONDING):
            # RESPONDING: RIE's RuntimeInvocationResponseState allows nothing but its end
            raise errors.InvalidStateTransition(self.state, target)
        current = self._current
        if current is None or current.request_id != request_id:
            raise errors.InvalidRequestID()
        if self.state is not RuntimeState.RUNNING:
            raise errors.InvalidRequestID()  # already answered
        return current

    def _resolve(self, outcome: RuntimeOutcome) -> None:
        self._move(RuntimeState.RESPONSE_SENT)
        callback, self._on_outcome = self._on_outcome, None
        if callback is not None:
            callback(outcome)

    def _streams(self, headers: dict[str, str], url: bytes) -> bool:
        """The server asks, when a request's head is complete: is its body taken as it
        arrives? A streamed /response, while the invocation's caller takes a stream."""
        current = self._current
        return (
            current is not None
            and current.stream is not None
            and headers.get(_H_RESPONSE_MODE) == wire.RESPONSE_MODE_STREAMING
            and url.partition(b"?")[0].endswith(b"/response")
        )

    def response(self, request: Request) -> Response | Reply:
        current = self._check_in_flight(request.params["RequestId"], "InvocationResponse")
        headers = request.headers
        mode = headers.get(_H_RESPONSE_MODE)
        if mode is not None and mode != wire.RESPONSE_MODE_STREAMING:
            raise _InvalidResponseMode()
        content_type = headers.get("content-type") or _JSON
        body = request.body_stream
        if body is not None:
            return self._stream(request, body, current, content_type)
        now = time.perf_counter()
        if request.truncated:
            self._resolve(ResponseTooLarge(request.body_size, now))
            raise errors.RuntimeEntityTooLarge()
        # Trailers of a chunked body land among the headers: an error reported after the body
        # (NRIC streams, GO sends every response so) makes it a function error, as RAPID
        # forwards the trailers to a buffered invoke (RIE `directinvoke.go`)
        trailer_type = headers.get(_H_ERROR_TYPE) if "trailer" in headers else None
        if trailer_type:
            error_body = decode_error_body(headers.get(_H_ERROR_BODY, ""))
            self._resolve(FunctionError(error_body, normalise_error_type(trailer_type), now))
        else:
            self._resolve(FunctionResponse(request.body, content_type, now))
        return self._accepted_after_the_caller(request)

    def _stream(
        self, request: Request, body: RequestBody, inv: Invocation, content_type: str
    ) -> Reply:
        """A streamed /response to a caller that takes it: relayed as it arrives; the phase
        ends, and the runtime gets its 202, when the body does (RIE `invocationresponse.go`
        answers after the last chunk, and NRIC waits for it before /next)."""
        self._move(RuntimeState.RESPONDING)
        reply = request.defer()

        def ended(outcome: StreamedResponse) -> None:
            if self.state is RuntimeState.RESPONDING and self._current is inv:
                self._resolve(outcome)
            if outcome.ended == "oversized":
                answer = Response(
                    413,
                    b'{"errorMessage":"Exceeded maximum allowed payload size","errorType":'
                    b'"RequestEntityTooLarge"}',
                    content_type=_JSON,
                )
                loop.call_soon(_send_when_read, reply, answer, body)
            elif outcome.ended == "complete":
                loop.call_soon(reply.send, _ACCEPTED)

        loop = asyncio.get_running_loop()
        self.relay = ResponseRelay(body, inv, content_type, self.stream_limits, ended)
        return reply

    @staticmethod
    def _accepted_after_the_caller(request: Request) -> Reply:
        """The runtime's 202 goes out in the loop's next step, after the caller's answer
        (resolved just now): the invocation's latency does not carry this write."""
        reply = request.defer()
        asyncio.get_running_loop().call_soon(reply.send, _ACCEPTED)
        return reply

    def error(self, request: Request) -> Response:
        self._check_in_flight(request.params["RequestId"], "InvocationErrorResponse")
        error_type = normalise_error_type(request.headers.get(_H_ERROR_TYPE))
        body = request.body if not request.truncated else b""
        self._resolve(FunctionError(body, error_type, time.perf_counter()))
        return _ACCEPTED

    def init_error(self, request: Request) -> Response:
        if self.state is not RuntimeState.STARTED:
            raise errors.InvalidStateTransition(self.state, RuntimeState.INIT_ERROR)
        self._move(RuntimeState.INIT_ERROR)
        error_type = normalise_error_type(request.headers.get(_H_ERROR_TYPE))
        self._on_init_error(InitFailed(request.body, error_type, time.perf_counter()))
        return _ACCEPTED


def _send_when_read(reply: Reply, answer: Response, body: RequestBody) -> None:
    """Answer once the rest of the body is read (the connection serves requests in order)."""
    if body.complete or body.aborted:
        reply.send(answer)
    else:
        body.attach(lambda _data: None, partial(_send, reply, answer), lambda: None)


def _send(reply: Reply, answer: Response) -> None:
    reply.send(answer)


class _InvalidResponseMode(errors.RuntimeApiError):
    status = 400
    error_type = wire.INVALID_RESPONSE_MODE

    def __init__(self) -> None:
        super().__init__("Invalid function response mode")


def _render_invocation(inv: Invocation) -> Response:
    # Every header is set only when it has a value (RIE rendering.renderInvokeHeaders);
    # Content-Type is always present: awslambdaric's native client needs it.
    headers = [
        (wire.H_REQUEST_ID, inv.request_id),
        (wire.H_DEADLINE_MS, str(inv.deadline_ms)),
        (wire.H_FUNCTION_ARN, inv.invoked_arn),
        (wire.H_TRACE_ID, inv.trace_id),
    ]
    if inv.client_context:
        headers.append((wire.H_CLIENT_CONTEXT, inv.client_context))
    if inv.cognito_identity:
        headers.append((wire.H_COGNITO_IDENTITY, inv.cognito_identity))
    if inv.tenant_id:
        headers.append((wire.H_TENANT_ID, inv.tenant_id))
    return Response(200, inv.payload, headers, content_type=inv.content_type or _JSON)
