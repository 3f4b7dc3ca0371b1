"""A lean HTTP/1.1 server core: an asyncio Protocol with the httptools parser.

Both the Invoke API and every Runtime API listener run on it. The hot path of a warm
invocation crosses it four times, so it carries no framework: requests are parsed by
httptools, handed to one async handler, and answered with a single `transport.write`.
`TCP_NODELAY` is set on every connection (without it, small responses stall ~40 ms behind
delayed ACKs). Keep-alive, pipelining (answered in order), `Expect: 100-continue` and
bodies over a size cap (counted, then discarded, so the handler can answer 413 with the
real size) are supported. A client that half-closes its side after its request still gets
the answer. Idle connections, request heads and buffered bodies that take too long are
closed (`ConnectionTimeouts`), so a slow client cannot hold a connection; a request in
progress (a long poll, a streamed response or body) is never cut. See ARCHITECTURE.md, "the
HTTP core decides the warm latency".
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import Protocol, cast

import httptools

_STATUS_LINES = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}


_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


class Request:
    """One parsed request. Headers are lower-cased; a repeated header keeps its last value.
    `body_size` counts every byte received, even when the body was over the server's cap and
    `truncated` (then `body` is empty). A plain class: three are made per invocation.

    `raw_headers` is every header as received (names as sent, repeats, order) on a server
    made with `raw_headers=True` (the HTTP front door), else None."""

    __slots__ = (
        "body",
        "body_size",
        "body_stream",
        "connection",
        "headers",
        "keep_alive",
        "method",
        "params",
        "path",
        "peer",
        "query",
        "raw_headers",
        "truncated",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        body_size: int,
        truncated: bool,
        peer: tuple[str, int] | None = None,
        keep_alive: bool = True,
        raw_headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.body_size = body_size
        self.truncated = truncated
        self.peer = peer
        self.keep_alive = keep_alive
        self.raw_headers = raw_headers
        self.connection: _Connection | None = None
        self.params: Mapping[str, str] = _NO_PARAMS  # path parameters (api/routes.py)
        # the body as it arrives, on a server made with `stream_bodies` (then `body` is empty)
        self.body_stream: RequestBody | None = None

    def defer(self, on_cancel: Callable[[], None] | None = None) -> Reply:
        """Answer later: return the Reply from the handler and `send` it when ready.
        `on_cancel` runs if the client goes away first (long polls)."""
        assert self.connection is not None
        return Reply(self.connection, self.keep_alive, on_cancel)


class Reply:
    """A response sent later. `send` writes at once, in the caller's own step: no task, no
    future callback, no extra turn of the event loop on the invocation's critical path."""

    __slots__ = ("_conn", "_keep_alive", "_on_cancel", "_registered", "done")

    def __init__(
        self, conn: _Connection, keep_alive: bool, on_cancel: Callable[[], None] | None
    ) -> None:
        self._conn = conn
        self._keep_alive = keep_alive
        self._on_cancel = on_cancel
        self._registered = False  # the handler has returned it: the connection waits on it
        self.done = False

    def send(self, response: Response) -> bool:
        """Write the response (once); False if it was already sent or the client left."""
        if self.done:
            return False
        self.done = True
        conn = self._conn
        if not self._registered:  # sent from inside the handler: the connection goes on
            return conn._write(response, self._keep_alive)
        conn._inflight = None
        if conn._write(response, self._keep_alive):
            conn._next_request()
            return True
        return False

    def cancel(self) -> None:
        if not self.done:
            self.done = True
            if self._on_cancel is not None:
                self._on_cancel()

    def stream(
        self, status: int, headers: list[tuple[str, str]], content_type: str | None = None
    ) -> ResponseStream:
        """Start a response whose body is written as it is produced (chunked encoding); it
        counts as sent, and the connection serves its next request after `end`."""
        assert not self.done, "a Reply is answered once"
        self.done = True
        conn = self._conn
        out = ResponseStream(conn, self)
        if conn._closed or conn._transport is None:
            out.closed = True
            return out
        conn._out = out
        conn._transport.write(
            Response(status, b"", headers, content_type).encode_head(self._keep_alive)
        )
        return out


class ResponseStream:
    """A response body sent as it is produced: one HTTP/1.1 chunk per `write`, then `end` (the
    last chunk) or `abort` (the connection closes without it: the client sees a truncated
    body). `on_pause` / `on_resume` follow the transport's write buffer (flow control); a
    client that goes away calls `on_resume` too, and every later write is dropped."""

    __slots__ = ("_conn", "_reply", "closed", "on_pause", "on_resume")

    def __init__(self, conn: _Connection, reply: Reply) -> None:
        self._conn = conn
        self._reply = reply
        self.closed = False
        self.on_pause: Callable[[], None] | None = None
        self.on_resume: Callable[[], None] | None = None

    def write(self, data: bytes) -> bool:
        """One chunk; False when the client is gone (or the stream ended)."""
        conn = self._conn
        if self.closed or conn._closed or conn._transport is None:
            return False
        if data:
            conn._transport.writelines((b"%x\r\n" % len(data), data, b"\r\n"))
        return True

    def end(self) -> bool:
        """The last chunk; the connection goes on to its next request (or closes)."""
        if self.closed:
            return False
        self.closed = True
        conn = self._conn
        conn._out = None
        conn._epoch += 1
        if conn._closed or conn._transport is None:
            return False
        conn._transport.write(b"0\r\n\r\n")
        if not self._reply._keep_alive or conn._server.draining:
            conn._transport.close()
            conn._closed = True
            return False
        if self._reply._registered:
            conn._inflight = None
            conn._next_request()
        elif conn._eof and conn.idle:
            conn.close()
        return True

    def abort(self) -> None:
        """Close the connection without the last chunk (what is written still goes out)."""
        if self.closed:
            return
        self.closed = True
        conn = self._conn
        conn._out = None
        if conn._transport is not None and not conn._closed:
            conn._transport.close()
            conn._closed = True

    def _gone(self) -> None:
        self.closed = True
        if self.on_resume is not None:
            self.on_resume()


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str | None = None

    def encode(self, keep_alive: bool) -> bytes:
        head = _STATUS_LINES.get(self.status) or f"HTTP/1.1 {self.status} Unknown\r\n"
        if self.content_type is not None:
            head += f"Content-Type: {self.content_type}\r\n"
        for k, v in self.headers:
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(self.body)}\r\n"
        if not keep_alive:
            head += "Connection: close\r\n"
        return (head + "\r\n").encode("latin-1") + self.body

    def encode_head(self, keep_alive: bool) -> bytes:
        """The head of a chunked response (`Reply.stream`); the body is ignored."""
        head = _STATUS_LINES.get(self.status) or f"HTTP/1.1 {self.status} Unknown\r\n"
        if self.content_type is not None:
            head += f"Content-Type: {self.content_type}\r\n"
        for k, v in self.headers:
            head += f"{k}: {v}\r\n"
        head += "Transfer-Encoding: chunked\r\n"
        if not keep_alive:
            head += "Connection: close\r\n"
        return (head + "\r\n").encode("latin-1")


class RequestBody:
    """A request body handed over as it arrives (a server made with `stream_bodies`): its
    bytes go to the consumer that `attach`es, which must happen before the handler returns
    (else they are counted and dropped); then its end, with the trailer fields (names lower
    case), or its abort (the client went away mid-body). `pause` / `resume` stop and restart
    reading from the client (flow control)."""

    __slots__ = ("_conn", "_on_abort", "_on_data", "_on_end", "aborted", "complete", "size",
                 "trailers")  # fmt: skip

    def __init__(self, conn: _Connection) -> None:
        self._conn = conn
        self._on_data: Callable[[bytes], None] | None = None
        self._on_end: Callable[[], None] | None = None
        self._on_abort: Callable[[], None] | None = None
        self.trailers: dict[str, str] = {}
        self.size = 0
        self.complete = False
        self.aborted = False

    def attach(
        self,
        on_data: Callable[[bytes], None],
        on_end: Callable[[], None],
        on_abort: Callable[[], None],
    ) -> None:
        self._on_data, self._on_end, self._on_abort = on_data, on_end, on_abort

    def detach(self) -> None:
        """Drop the rest of the body (it is still read, and counted)."""
        self._on_data = self._on_end = self._on_abort = None
        self.resume()

    def pause(self) -> None:
        transport = self._conn._transport
        if transport is not None and not self._conn._closed:
            transport.pause_reading()

    def resume(self) -> None:
        transport = self._conn._transport
        if transport is not None and not self._conn._closed:
            transport.resume_reading()

    # the connection's side
    def _feed(self, data: bytes) -> None:
        self.size += len(data)
        if self._on_data is not None:
            self._on_data(data)

    def _finish(self) -> None:
        self.complete = True
        if self._on_end is not None:
            self._on_end()

    def _abort(self) -> None:
        self.aborted = True
        if self._on_abort is not None:
            self._on_abort()


Result = Response | Reply | Awaitable[Response]
Handler = Callable[[Request], Result]


# Request line plus headers; more gets 431 (AWS's front ends refuse oversized headers too).
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class ConnectionTimeouts:
    """How long a connection may wait on its client while no request of it is in progress.

    Lambda and API Gateway document none of theirs for clients (⚠); ALB's documented default
    idle timeout is 60 s, which `idle_s` follows. `header_s` bounds a request's head from its
    first byte (slow-loris), `body_s` a buffered body from the end of its head; both answer
    408 and close. A request in progress (a Runtime API /next long poll, an invocation, a
    streamed response, a body streamed to the handler) has no timeout here. None: no limit.
    """

    idle_s: float | None = 60.0  # ⚠
    header_s: float | None = 10.0  # ⚠
    body_s: float | None = 60.0  # ⚠

    def sweep_every(self) -> float | None:
        limits = [t for t in (self.idle_s, self.header_s, self.body_s) if t is not None]
        return max(0.005, min(limits) / 4) if limits else None


NO_TIMEOUTS = ConnectionTimeouts(None, None, None)


class _TimeoutSettings(Protocol):
    @property
    def idle_timeout_s(self) -> float | None: ...
    @property
    def header_timeout_s(self) -> float | None: ...
    @property
    def body_timeout_s(self) -> float | None: ...


def connection_timeouts(cfg: _TimeoutSettings) -> ConnectionTimeouts:
    """The timeouts an EmulatorConfig asks for (0 or None: no limit)."""
    values = (cfg.idle_timeout_s, cfg.header_timeout_s, cfg.body_timeout_s)
    idle, header, body = (v if v else None for v in values)
    return ConnectionTimeouts(idle, header, body)


class _HeadTooLarge(Exception):
    pass


class _Connection(asyncio.Protocol):
    """One client connection. Requests are answered strictly in arrival order."""

    __slots__ = (
        "_begun",
        "_body",
        "_body_size",
        "_closed",
        "_eof",
        "_epoch",
        "_head_pending",
        "_head_size",
        "_header_name",
        "_headers",
        "_in_body",
        "_in_head",
        "_inflight",
        "_inflight_keep_alive",
        "_out",
        "_parser",
        "_peer",
        "_pending",
        "_raw",
        "_server",
        "_transport",
        "_url",
        "_watch",
        "_watch_since",
    )

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._pending: deque[tuple[Request, bool]] = deque()
        self._inflight: asyncio.Future[Response] | Reply | None = None
        self._inflight_keep_alive = True
        self._closed = False
        self._peer: tuple[str, int] | None = None
        self._in_head = True  # bytes of an unfinished request head are counted
        self._head_pending = 0
        self._raw: list[tuple[str, str]] | None = None
        self._out: ResponseStream | None = None  # a streamed response in progress
        # for the timeouts' sweep (HttpServer._sweep): a request begun, its head done, the
        # client's side shut (half-close), and a counter that moves with every step
        self._begun = False
        self._in_body = False
        self._eof = False
        self._epoch = 0
        self._watch: tuple[str, int] | None = None
        self._watch_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self._url = b""
        self._head_size = 0
        self._headers: dict[str, str] = {}
        self._header_name = b""
        self._body: list[bytes] = []
        self._body_size = 0

    # --- asyncio.Protocol ---------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its interface
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self._peer = (str(peer[0]), int(peer[1]))
        admit = self._server.admit
        if admit is not None and (self._peer is None or not admit(self._peer)):
            body = b'{"errorType":"AccessDenied","errorMessage":"not this environment\'s runtime"}'
            denied = Response(403, body, content_type="application/json")
            self._transport.write(denied.encode(keep_alive=False))
            self._transport.close()
            return
        self._server._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._server._connections.discard(self)
        if self._out is not None:
            out, self._out = self._out, None
            out._gone()
        inflight = self._inflight
        if isinstance(inflight, Reply):
            # A long poll whose client went away; an invocation's Reply simply goes unsent.
            if self._server.cancel_on_disconnect:
                inflight.cancel()
        elif self._server.cancel_on_disconnect and inflight is not None and not inflight.done():
            inflight.cancel()

    def eof_received(self) -> bool:
        """The client shut its side (half-close): requests already sent are still answered,
        then the connection closes."""
        self._eof = True
        # False (nothing left to answer; a request begun can never complete): asyncio
        # closes the transport
        return not self.idle

    def pause_writing(self) -> None:
        out = self._out
        if out is not None and out.on_pause is not None:
            out.on_pause()

    def resume_writing(self) -> None:
        out = self._out
        if out is not None and out.on_resume is not None:
            out.on_resume()

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_pending += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400)
            return
        except httptools.HttpParserError as exc:
            self._fail(431 if isinstance(exc.__context__, _HeadTooLarge) else 400)
            return
        if self._in_head and self._head_pending > MAX_HEAD_BYTES:
            # one header line that never ends: httptools buffers it until it does
            self._fail(431)

    # --- httptools callbacks ------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reset()
        self._in_head = True
        self._head_pending = 0
        self._begun = True
        self._epoch += 1

    # The request line and headers are buffered until complete: bounded, like bodies.
    def on_url(self, url: bytes) -> None:
        self._url += url
        self._head_size += len(url)
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLarge
        self._headers[name.lower().decode("latin-1")] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._in_body = True
        self._epoch += 1
        if self._headers.get("expect", "").lower() == "100-continue" and self._transport:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        self._body_size += len(body)
        if self._body_size <= self._server.max_body:
            self._body.append(body)
        elif self._body:
            self._body.clear()  # over the cap: keep counting, stop buffering

    def on_message_complete(self) -> None:
        self._begun = self._in_body = False
        self._in_head = True  # the next request's head is counted from its first byte on
        self._head_pending = 0
        url = self._url
        if url[:1] == b"/":  # origin form, what every client sends: no URL object needed
            path, _, query = url.partition(b"?")
            query = query.partition(b"#")[0]
        else:
            parsed = httptools.parse_url(url)
            path, query = parsed.path or b"/", parsed.query or b""
        truncated = self._body_size > self._server.max_body
        body = self._body
        keep_alive = self._parser.should_keep_alive()
        request = Request(
            self._parser.get_method().decode("latin-1"),
            path.decode("latin-1"),
            query.decode("latin-1"),
            self._headers,
            b"" if truncated else (body[0] if len(body) == 1 else b"".join(body)),
            self._body_size,
            truncated,
            self._peer,
            keep_alive,
            self._raw,
        )
        self._pending.append((request, keep_alive))
        if self._inflight is None:
            self._next_request()

    # --- request handling ---------------------------------------------------------------
    # A handler returns a Response (answered at once), a Reply (answered when the handler's
    # owner calls `send`: long polls and invocations) or an awaitable (run as a task; the
    # control API). Requests on one connection are answered in order.
    def _next_request(self) -> None:
        self._next_requests()
        if self._eof and self.idle and not self._closed and self._out is None:
            self.close()  # a half-closed client had all its answers

    def _next_requests(self) -> None:
        while self._pending and not self._closed:
            request, keep_alive = self._pending.popleft()
            request.connection = self
            try:
                result = self._server.handler(request)
            except Exception as exc:
                result = self._internal_error(exc)
            if isinstance(result, Response):
                if not self._write(result, keep_alive):
                    return
                continue
            if isinstance(result, Reply):
                if result.done and self._out is None:  # already sent from inside the handler
                    continue
                result._registered = True
                self._inflight = result
                return
            task = asyncio.ensure_future(result)
            self._inflight = task
            self._inflight_keep_alive = keep_alive
            task.add_done_callback(self._finished)
            return

    def _finished(self, fut: asyncio.Future[Response]) -> None:
        self._inflight = None
        if fut.cancelled():
            return
        exc = fut.exception()
        response = fut.result() if exc is None else self._internal_error(exc)
        if self._write(response, self._inflight_keep_alive):
            self._next_request()

    def _internal_error(self, exc: BaseException) -> Response:
        # the server's own bug: answer 500, keep serving
        if isinstance(exc, Exception):
            self._server.on_handler_error(exc)
        return Response(
            500, b'{"message":"Internal Server Error"}', content_type="application/json"
        )

    def _write(self, response: Response, keep_alive: bool) -> bool:
        """Send a response; False when the connection is (now) closed."""
        if self._closed or self._transport is None:
            return False
        keep_alive = keep_alive and not self._server.draining
        self._epoch += 1
        self._transport.write(response.encode(keep_alive))
        if not keep_alive:
            self._transport.close()
            self._closed = True
            return False
        return True

    def _fail(self, status: int) -> None:
        if self._transport is not None and not self._closed:
            self._transport.write(Response(status).encode(keep_alive=False))
            self._transport.close()
            self._closed = True

    def _timed_out(self, now: float, timeouts: ConnectionTimeouts) -> None:
        """Called by the server's sweep: close this connection if it waited on its client
        for longer than allowed (never while a request of it is in progress)."""
        if self._closed or self._inflight is not None or self._pending or self._out is not None:
            self._watch = None
            return
        if self._in_body:
            kind, limit = "body", timeouts.body_s
        elif self._begun:
            kind, limit = "head", timeouts.header_s
        else:
            kind, limit = "idle", timeouts.idle_s
        key = (kind, self._epoch)
        if key != self._watch:
            self._watch, self._watch_since = key, now
            return
        if limit is None or now - self._watch_since < limit:
            return
        if kind == "idle":
            self.close()
            self._closed = True
        else:
            self._fail(408)

    @property
    def idle(self) -> bool:
        return self._inflight is None and not self._pending

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _RawConnection(_Connection):
    """A connection that also keeps every header as received (`Request.raw_headers`). Its own
    class, so servers without raw headers pay nothing for them: httptools binds the protocol's
    `on_header` once per parser."""

    __slots__ = ()

    def _reset(self) -> None:
        _Connection._reset(self)
        self._raw = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLarge
        # UTF-8 where it decodes (what a function behind AWS sees ⚠), else byte for byte
        try:
            text = value.decode()
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        sent = name.decode("latin-1")
        self._headers[sent.lower()] = text
        self._raw.append((sent, text))  # type: ignore[union-attr]


class _StreamingConnection(_Connection):
    """A connection whose requests may be handed to the handler when their head is complete,
    their body following as it arrives (`Request.body_stream`): those the server's
    `stream_bodies` picks, when nothing is in progress before them on the connection. Its own
    class, so the other servers' connections pay nothing for it."""

    __slots__ = ("_stream",)

    def __init__(self, server: HttpServer) -> None:
        self._stream: RequestBody | None = None
        _Connection.__init__(self, server)

    def on_headers_complete(self) -> None:
        _Connection.on_headers_complete(self)
        wants = self._server.stream_bodies
        if wants is None or self._inflight is not None or self._pending or self._closed:
            return
        url = self._url
        if not wants(self._headers, url):
            return
        if url[:1] == b"/":
            path, _, query = url.partition(b"?")
            query = query.partition(b"#")[0]
        else:
            parsed = httptools.parse_url(url)
            path, query = parsed.path or b"/", parsed.query or b""
        keep_alive = self._parser.should_keep_alive()
        request = Request(
            self._parser.get_method().decode("latin-1"),
            path.decode("latin-1"),
            query.decode("latin-1"),
            self._headers,
            b"",
            0,
            False,
            self._peer,
            keep_alive,
            self._raw,
        )
        stream = RequestBody(self)
        request.body_stream = stream
        self._stream = stream
        self._pending.append((request, keep_alive))
        self._next_request()

    def on_header(self, name: bytes, value: bytes) -> None:
        stream = self._stream
        if stream is None:  # a head's header (or a buffered request's trailer)
            _Connection.on_header(self, name, value)
            return
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES:
            raise _HeadTooLarge
        stream.trailers[name.lower().decode("latin-1")] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        stream = self._stream
        if stream is None:
            _Connection.on_body(self, body)
        else:
            stream._feed(body)

    def eof_received(self) -> bool:
        if self._stream is not None:  # a streamed body that can never end: it is aborted
            return False
        return _Connection.eof_received(self)

    def on_message_complete(self) -> None:
        stream = self._stream
        if stream is None:
            _Connection.on_message_complete(self)
            return
        self._stream = None
        self._begun = self._in_body = False
        self._in_head = True
        self._head_pending = 0
        stream._finish()

    def connection_lost(self, exc: Exception | None) -> None:
        stream = self._stream
        self._stream = None
        _Connection.connection_lost(self, exc)
        if stream is not None:
            stream._abort()


class HttpServer:
    """`start` binds (port 0 picks a free port, reported in `.port`), `close` stops it."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = 8 * 1024 * 1024,
        on_handler_error: Callable[[Exception], None] | None = None,
        cancel_on_disconnect: bool = False,
        admit: Callable[[tuple[str, int]], bool] | None = None,
        raw_headers: bool = False,
        stream_bodies: Callable[[dict[str, str], bytes], bool] | None = None,
        timeouts: ConnectionTimeouts | None = None,
    ) -> None:
        self.handler = handler
        self.timeouts = timeouts if timeouts is not None else ConnectionTimeouts()
        self._sweeper: asyncio.TimerHandle | None = None
        # Picks the requests whose body the handler takes as it arrives (`Request.body_stream`,
        # the Runtime API's streamed responses): asked with the head's headers (lower-case
        # names) and raw URL when the head is complete.
        self.stream_bodies = stream_bodies
        # Keep every header as received on connections accepted from now on (the front door's
        # listener; the Invoke API's only while function URLs are served on it).
        self.raw_headers = raw_headers
        # Called with each new connection's peer address; False closes it with a 403.
        self.admit = admit
        # True for long polls (the Runtime API's /next); False where work must finish even if
        # the client leaves (an invocation runs to its end on Lambda whoever is waiting).
        self.cancel_on_disconnect = cancel_on_disconnect
        self.host = host
        self.port = port
        self.max_body = max_body
        self._on_handler_error = on_handler_error
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self.draining = False

    def on_handler_error(self, exc: Exception) -> None:
        if self._on_handler_error is not None:
            self._on_handler_error(exc)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._connection, self.host, self.port, reuse_address=True, backlog=1024
        )
        sockets: Iterable[socket.socket] = self._server.sockets or ()
        for sock in sockets:
            self.port = int(sock.getsockname()[1])
            break
        self._schedule_sweep()

    # One timer per server, not per connection: the hot path only bumps a counter.
    def _schedule_sweep(self) -> None:
        every = self.timeouts.sweep_every()
        if every is not None and self._server is not None:
            self._sweeper = asyncio.get_running_loop().call_later(every, self._sweep)

    def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        for conn in list(self._connections):
            conn._timed_out(now, self.timeouts)
        self._schedule_sweep()

    def _connection(self) -> _Connection:
        if self.stream_bodies is not None:
            return _StreamingConnection(self)
        return _RawConnection(self) if self.raw_headers else _Connection(self)

    async def stop_accepting(self) -> None:
        """Stop listening and close idle connections; requests in progress still get their
        response, and their connection closes after it."""
        if self._server is not None:
            self._server.close()
        self.draining = True
        for conn in list(self._connections):
            if conn.idle:
                conn.close()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._server is not None:
            self._server.close()
            for conn in list(self._connections):
                conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
