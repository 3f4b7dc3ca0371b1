"""Streamed responses as a client reads them: time to first byte (TTFB) and to last byte (TTLB).

Two ways to call a function whose response streams (issue 16):

    InvokeWithResponseStream   POST /2021-11-15/functions/{name}/response-streaming-invocations
                               → AWS event-stream messages: PayloadChunk* then InvokeComplete
    a function URL             POST /lambda-url/{name}/  (InvokeMode RESPONSE_STREAM)
                               → the body itself, chunked

`StreamConnection` is a keep-alive HTTP/1.1 connection (the standard library's http.client,
which gevent patches under Locust) read with `read1`, so each piece is seen when it arrives.
`EventStreamDecoder` splits the bytes into event-stream messages incrementally, checking both
CRCs as botocore does (botocore/eventstream.py). `invoke_stream` and `url_stream` time one call:
TTFB is the first byte of the *payload* (the first non-empty PayloadChunk, the first body
byte), TTLB the end of the response (InvokeComplete, the last chunk).

Pure and import-light (no locust, no gevent): the bench and the tests import it too.
"""

from __future__ import annotations

import http.client
import json
import struct
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from emulator.metrics.report import Report, parse_report
from emulator.wire import (
    EVENT_INVOKE_COMPLETE,
    EVENT_PAYLOAD_CHUNK,
    H_EXECUTED_VERSION,
    H_LOG_TYPE,
    INVOKE_STREAM_PATH,
    LAMBDA_URL_PREFIX,
    LOG_TYPE_TAIL,
)
from loadtests.invoke import HTTP_TOO_MANY_REQUESTS, InvokeAnswer, decode_log
from loadtests.stats import Outcome

# The two targets, as the stats and the summary name them.
INVOKE_STREAM = "invoke_stream"
FUNCTION_URL = "function_url"
TARGET_LABELS = {INVOKE_STREAM: "InvokeWithResponseStream", FUNCTION_URL: "function URL"}
# Event-stream messages (botocore/eventstream.py): prelude 12 bytes, message CRC 4 bytes.
_PRELUDE = struct.Struct(">III")
_MAX_MESSAGE = 24 * 1024 * 1024 + 128 * 1024 + 16
READ_SIZE = 256 * 1024
# Lambda's longest timeout is 900 s; the client must not give up first.
NETWORK_TIMEOUT_S = 960.0


def stream_invoke_path(function: str, qualifier: str | None = None) -> str:
    path = INVOKE_STREAM_PATH.format(FunctionName=quote(function, safe=""))
    return f"{path}?Qualifier={quote(qualifier, safe='')}" if qualifier else path


def function_url_path(function: str) -> str:
    """The emulator's function URL of `function` (cargo-lambda's /lambda-url/<name>/)."""
    return f"{LAMBDA_URL_PREFIX}/{quote(function, safe='')}/"


class EventStreamError(ValueError):
    """Bytes that are not AWS event-stream messages (a bad length or CRC)."""


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, Any]
    payload: bytes

    @property
    def event_type(self) -> str | None:
        value = self.headers.get(":event-type")
        return value if isinstance(value, str) else None


class EventStreamDecoder:
    """Feed it bytes as they arrive; it yields each complete message."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[Message]:
        self._buf += data
        start = 0  # messages are read in place, and dropped from the buffer once at the end
        try:
            while len(self._buf) - start >= _PRELUDE.size:
                total, headers_len, prelude_crc = _PRELUDE.unpack_from(self._buf, start)
                with memoryview(self._buf) as view:
                    if zlib.crc32(view[start : start + 8]) != prelude_crc:
                        raise EventStreamError("event-stream prelude CRC mismatch")
                    if total > _MAX_MESSAGE or headers_len > total - 16:
                        raise EventStreamError(f"event-stream message of {total} bytes")
                    if len(self._buf) - start < total:
                        return
                    end = start + total
                    (crc,) = struct.unpack_from(">I", view, end - 4)
                    if zlib.crc32(view[start : end - 4]) != crc:
                        raise EventStreamError("event-stream message CRC mismatch")
                    headers = _headers(bytes(view[start + 12 : start + 12 + headers_len]))
                    payload = bytes(view[start + 12 + headers_len : end - 4])
                start = end
                yield Message(headers, payload)
        finally:
            del self._buf[:start]

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message."""
        return len(self._buf)


_FIXED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


def _headers(data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    i = 0
    while i < len(data):
        n = data[i]
        name = data[i + 1 : i + 1 + n].decode()
        kind = data[i + 1 + n]
        i += 2 + n
        value: Any
        if kind in (0, 1):
            value = kind == 0
        elif kind in _FIXED:
            fmt = _FIXED[kind]
            (value,) = struct.unpack_from(fmt, data, i)
            i += struct.calcsize(fmt)
        elif kind in (6, 7):
            (length,) = struct.unpack_from(">H", data, i)
            raw = data[i + 2 : i + 2 + length]
            value = raw.decode() if kind == 7 else raw
            i += 2 + length
        elif kind == 9:
            value = data[i : i + 16]
            i += 16
        else:
            raise EventStreamError(f"event-stream header type {kind}")
        out[name] = value
    return out


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers (what Lambda sends): for tests and the
    bench's direct server."""
    head = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
        for k, v in headers.items()
    )
    total = 16 + len(head) + len(payload)
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + head + payload
    return body + struct.pack(">I", zlib.crc32(body))


# --- the connection --------------------------------------------------------------------------


class StreamConnection:
    """One keep-alive HTTP/1.1 connection to `base` (http://host:port), reopened after an error
    or when the server closes it."""

    def __init__(self, base: str, timeout_s: float = NETWORK_TIMEOUT_S) -> None:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base!r}")
        self.base = base.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._timeout = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        return self._conn

    def post(
        self,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        on_data: Callable[[bytes], None],
        on_head: Callable[[int, dict[str, str]], None] | None = None,
    ) -> tuple[int, dict[str, str]]:
        """POST; `on_head(status, headers)` when the head arrives, then `on_data(piece)` for
        each piece of the (de-chunked) body as it arrives. Returns (status, headers with
        lower-case names); raises what the socket raises. A kept-alive connection the server
        had closed (nothing came back) is replaced once, as HTTP clients' pools do."""
        reused = self._conn is not None and self._conn.sock is not None
        conn = self._connection()
        try:
            try:
                conn.request("POST", path, body=body, headers=dict(headers))
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                self.close()
                conn = self._connection()
                conn.request("POST", path, body=body, headers=dict(headers))
                resp = conn.getresponse()
            head = {k.lower(): v for k, v in resp.getheaders()}
            if on_head is not None:
                on_head(resp.status, head)
            while True:
                piece = resp.read1(READ_SIZE)
                if not piece:
                    break
                on_data(piece)
            # read1 leaves a Content-Length response open at its end; read() closes it, so
            # the connection takes the next request
            rest = resp.read()
            if rest:
                on_data(rest)
            if resp.will_close:
                self.close()
            return resp.status, head
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- one streamed call -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StreamSample:
    """What a load run records of one streamed response (the `stream` of Locust's request
    event's context)."""

    target: str
    ttfb_ms: float
    ttlb_ms: float
    payload_bytes: int
    cold: bool | None = None  # from the REPORT in InvokeComplete; None: no REPORT (a URL)


@dataclass
class StreamResult:
    """One streamed call as the client saw it. Times are ms since the request was sent."""

    target: str
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    ttfb_ms: float | None = None  # the first payload byte
    ttlb_ms: float = 0.0  # the end of the response
    payload_bytes: int = 0
    pieces: list[tuple[float, bytes]] = field(default_factory=list)  # when kept: (ms, bytes)
    complete: dict[str, Any] | None = None  # InvokeComplete's fields
    body: bytes = b""  # a non-streamed answer (an error status)

    @property
    def payload(self) -> bytes:
        return b"".join(p for _, p in self.pieces)

    @property
    def error_code(self) -> str | None:
        code = (self.complete or {}).get("ErrorCode")
        return str(code) if code else None

    @property
    def report(self) -> Report | None:
        log = (self.complete or {}).get("LogResult")
        return parse_report(decode_log(str(log))) if log else None

    def sample(self) -> StreamSample | None:
        """None when no payload byte arrived (an error before the stream, an empty stream)."""
        if self.ttfb_ms is None:
            return None
        report = self.report
        cold = report.cold if report is not None else None
        return StreamSample(self.target, self.ttfb_ms, self.ttlb_ms, self.payload_bytes, cold)

    def answer(self) -> InvokeAnswer:
        """What it means for the load run, as `loadtests.invoke.classify` names outcomes."""
        answer = self._answer()
        version = self.headers.get(H_EXECUTED_VERSION.lower())
        if version is None:
            return answer
        return InvokeAnswer(answer.outcome, answer.report, answer.error_type, version)

    def _answer(self) -> InvokeAnswer:
        if self.status == HTTP_TOO_MANY_REQUESTS:
            return InvokeAnswer(Outcome.THROTTLE, None, _error_type(self.headers, self.body))
        if self.status >= 300 or self.status == 0:
            return InvokeAnswer(Outcome.ERROR, None, _error_type(self.headers, self.body))
        if self.target == INVOKE_STREAM and self.complete is None:
            return InvokeAnswer(Outcome.ERROR, None, "no InvokeComplete")
        report = self.report
        if self.error_code:
            outcome = Outcome.FUNCTION_ERROR
            if self.error_code.startswith("Sandbox.") or (report and report.status):
                outcome = Outcome.ERROR
            return InvokeAnswer(outcome, report, self.error_code)
        if report is None:
            return InvokeAnswer(Outcome.INVOKED, None, None)
        if report.status is not None:
            return InvokeAnswer(Outcome.ERROR, report, report.error_type or report.status)
        return InvokeAnswer(Outcome.COLD if report.cold else Outcome.WARM, report, None)


def _error_type(headers: Mapping[str, str], body: bytes) -> str | None:
    value = headers.get("x-amzn-errortype")
    if value:
        return value.split(":", 1)[0]
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        found = (
            data.get("Type") or data.get("__type") or data.get("errorType") or data.get("Message")
        )
        return str(found) if found else None
    return None


def stream_headers(*, log_tail: bool = True) -> dict[str, str]:
    """InvokeWithResponseStream's headers: with Tail, the log comes back in InvokeComplete's
    LogResult (not in a header, as for Invoke)."""
    headers = {"Content-Type": "application/json"}
    if log_tail:
        headers[H_LOG_TYPE] = LOG_TYPE_TAIL
    return headers


def invoke_stream(
    conn: StreamConnection,
    function: str,
    payload: bytes,
    *,
    qualifier: str | None = None,
    log_tail: bool = True,
    keep: bool = False,
    headers: Mapping[str, str] | None = None,
    path: str | None = None,
) -> StreamResult:
    """One InvokeWithResponseStream call; `keep` keeps the payload pieces with their times.
    `headers` replace `stream_headers(log_tail=log_tail)` (e.g. the same, signed); `path`
    replaces the API's (a server that answers the same way elsewhere)."""
    result = StreamResult(INVOKE_STREAM)
    decoder = EventStreamDecoder()
    sent = stream_headers(log_tail=log_tail) if headers is None else headers
    body_parts: list[bytes] = []
    started = time.perf_counter()

    def on_head(status: int, _headers: dict[str, str]) -> None:
        result.status = status

    def on_data(piece: bytes) -> None:
        if result.status != 200:  # an error of the service, before any stream
            body_parts.append(piece)
            return
        for message in decoder.feed(piece):
            now = (time.perf_counter() - started) * 1000.0
            if message.event_type == EVENT_PAYLOAD_CHUNK:
                if message.payload and result.ttfb_ms is None:
                    result.ttfb_ms = now
                result.payload_bytes += len(message.payload)
                if keep:
                    result.pieces.append((now, message.payload))
            elif message.event_type == EVENT_INVOKE_COMPLETE:
                result.complete = json.loads(message.payload or b"{}")

    path = path or stream_invoke_path(function, qualifier)
    result.status, result.headers = conn.post(path, payload, sent, on_data, on_head)
    result.ttlb_ms = (time.perf_counter() - started) * 1000.0
    result.body = b"".join(body_parts)
    return result


def url_stream(
    conn: StreamConnection,
    path: str,
    payload: bytes,
    *,
    keep: bool = False,
    headers: Mapping[str, str] | None = None,
) -> StreamResult:
    """One POST to a function URL whose response streams."""
    result = StreamResult(FUNCTION_URL)
    sent = {"Content-Type": "application/json", **(headers or {})}
    started = time.perf_counter()

    def on_data(piece: bytes) -> None:
        now = (time.perf_counter() - started) * 1000.0
        if result.ttfb_ms is None:
            result.ttfb_ms = now
        result.payload_bytes += len(piece)
        if keep:
            result.pieces.append((now, piece))

    result.status, result.headers = conn.post(path, payload, sent, on_data)
    result.ttlb_ms = (time.perf_counter() - started) * 1000.0
    if result.status >= 300:
        result.body = result.payload
    return result
