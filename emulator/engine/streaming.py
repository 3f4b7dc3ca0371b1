"""A streamed response on its way from the runtime to the caller (docs/architecture.md,
"One streamed response").

The runtime posts `/response` with `Lambda-Runtime-Function-Response-Mode: streaming` and a
chunked body (LAMBDA_SPEC, /work/notes/streaming-spec.md §1). When the caller takes a stream
(`Invocation.stream`), the Runtime API hands the body, as it arrives, to a `ResponseRelay`,
which passes each piece to the caller's sink in the same step of the loop — nothing is
buffered but what the bandwidth limit holds back — and, at the end of the body, reports one
`StreamedResponse`: the bytes streamed, the first and last byte's instants, and the error the
runtime's trailers (or the connection's loss, or the size limit) ended it with.

    runtime ──chunked /response──▶ RequestBody ─▶ ResponseRelay ─▶ inv.stream (the caller's sink)
                                    (httpserver)   limits, counts    PayloadChunk / HTTP chunk
                                                   └─ end ─▶ StreamedResponse ─▶ the environment

Lambda's limits for streamed responses (docs.aws.amazon.com/lambda/latest/dg/
configuration-response-streaming.html, "Bandwidth limits for response streaming"): at most
200 MB per response, the first 6 MB at full speed and the rest at up to 2 MBps. The shape of
the limiter is RIE's (`core/bandwidthlimiter`: a token bucket of 6 MiB, filled at 2 MiB/s).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from emulator import wire
from emulator.engine.invocation import Invocation
from emulator.httpserver import RequestBody

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StreamLimits:
    # ⚠ "200 MB" (docs): read as MiB, as Lambda's "6 MB" is 6 MiB
    max_bytes: int = 200 * _MIB
    rate_bps: float = 2 * _MIB  # 0: no bandwidth limit
    burst_bytes: int = 6 * _MIB


@dataclass(frozen=True, slots=True)
class StreamedResponse:
    """How a streamed `/response` ended (a phase event of the environment)."""

    content_type: str
    size: int  # bytes passed to the caller
    first_byte: float | None  # perf_counter instants
    at: float  # the last byte (or the end of the stream)
    error_type: str | None = None  # from the trailers, or the platform's (see `ended`)
    error_body: bytes = b""  # the trailer's body, base64-decoded
    ended: str = "complete"  # "complete" | "truncated" (connection lost) | "oversized"


def decode_error_body(value: str) -> bytes:
    """`Lambda-Runtime-Function-Error-Body` is base64 (NRIC `ResponseStream.js`, GO
    `runtime_api_client.go`); RIE's LMI keeps nothing when it does not decode
    (`lmi/invoke/runtime_response_request.go`): here it is kept as sent."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return value.encode()


class ResponseRelay:
    """Carries one streamed `/response` from the runtime's connection to the caller's sink.
    Pieces go on in the step they arrive in; over the bandwidth limit they wait in order (and
    the runtime's connection is paused). The caller's own back-pressure pauses it too."""

    __slots__ = (
        "_body",
        "_ended",
        "_held",
        "_last",
        "_limits",
        "_loop",
        "_on_end",
        "_pauses",
        "_timer",
        "_tokens",
        "content_type",
        "first_byte",
        "inv",
        "size",
    )

    def __init__(
        self,
        body: RequestBody,
        inv: Invocation,
        content_type: str,
        limits: StreamLimits,
        on_end: Callable[[StreamedResponse], None],
    ) -> None:
        self._body = body
        self.inv = inv
        self.content_type = content_type
        self._limits = limits
        self._on_end: Callable[[StreamedResponse], None] | None = on_end
        self._loop = asyncio.get_running_loop()
        self._held: deque[bytes] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._tokens = float(limits.burst_bytes)
        self._last = time.perf_counter()
        self._pauses: set[str] = set()
        self._ended = False
        self.size = 0
        self.first_byte: float | None = None
        body.attach(self._data, self._end, self._abort)
        sink = inv.stream
        if sink is not None:
            sink.begin(content_type, self)

    # --- flow control (the caller's sink calls these too) -------------------------------------
    def pause(self, reason: str = "caller") -> None:
        if not self._pauses:
            self._body.pause()
        self._pauses.add(reason)

    def resume(self, reason: str = "caller") -> None:
        if reason in self._pauses:
            self._pauses.discard(reason)
            if not self._pauses:
                self._body.resume()

    # --- the runtime's body ------------------------------------------------------------------
    def _data(self, chunk: bytes) -> None:
        self._held.append(chunk)
        if self._timer is None:
            self._pump()

    def _pump(self) -> None:
        self._timer = None
        held = self._held
        rate = self._limits.rate_bps
        while held:
            chunk = held[0]
            if rate > 0:
                now = time.perf_counter()
                burst = self._limits.burst_bytes
                self._tokens = min(burst, self._tokens + (now - self._last) * rate)
                self._last = now
                need = min(len(chunk), burst)
                if self._tokens < need:
                    self.pause("bandwidth")
                    self._timer = self._loop.call_later((need - self._tokens) / rate, self._pump)
                    return
                self._tokens -= len(chunk)
            held.popleft()
            if not self._forward(chunk):
                return
        self.resume("bandwidth")
        if self._ended:
            self._finish("complete")

    def _forward(self, chunk: bytes) -> bool:
        if self.size + len(chunk) > self._limits.max_bytes:
            self._oversized()
            return False
        if self.first_byte is None:
            self.first_byte = time.perf_counter()
        self.size += len(chunk)
        sink = self.inv.stream
        if sink is not None and not self.inv.answered:  # a timeout may have answered already
            sink.data(chunk)
        return True

    def _end(self) -> None:
        self._ended = True
        if not self._held and self._timer is None:
            self._finish("complete")

    def _abort(self) -> None:
        self._finish("truncated")

    def _oversized(self) -> None:
        # Lambda cuts a stream at its size limit ⚠ (RIE `directinvoke.go`: the oversize path
        # ends the copy, End-Of-Response: Oversized); the rest of the body is read and dropped.
        self._body.detach()
        self._finish("oversized")

    def _finish(self, ended: str) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()
        now = time.perf_counter()
        trailers = self._body.trailers
        error_type = trailers.get(_TRAILER_TYPE)
        body = decode_error_body(trailers.get(_TRAILER_BODY, ""))
        if ended == "oversized":
            error_type = wire.RESPONSE_SIZE_TOO_LARGE
            body = (
                f"Response payload size exceeded maximum allowed payload size "
                f"({self._limits.max_bytes} bytes)."
            ).encode()
        elif ended == "truncated":
            error_type = error_type or wire.RUNTIME_TRUNCATED_RESPONSE
        on_end(
            StreamedResponse(
                self.content_type, self.size, self.first_byte, now, error_type or None, body, ended
            )
        )


_TRAILER_TYPE = wire.H_FUNCTION_ERROR_TYPE.lower()
_TRAILER_BODY = wire.H_FUNCTION_ERROR_BODY.lower()
