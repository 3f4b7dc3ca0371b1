"""A RESPONSE_STREAM function URL's answer (/work/notes/streaming-spec.md §3): chunked HTTP,
written as the function streams.

    runtime's stream ─▶ UrlStream.begin / data ─▶ the client, chunk by chunk
      application/vnd.awslambda.http-integration-response:
          <JSON prelude> 8×NUL <body>: status, headers and cookies from the prelude (NRIC
          `HttpResponseStream.js`, GO `events.LambdaFunctionURLStreamingResponse`); nothing
          goes out until the delimiter has arrived ("starts streaming after it receives valid
          metadata and delimiter": docs apigateway `response-transfer-mode-lambda`)
      any other content type: 200 with that Content-Type (honojs/hono#1672, a capture)
    inv.reply ─▶ UrlStream.complete: the last chunk; or, when the function failed after bytes
          went out, the connection closes without it ⚠ (the client sees a truncated body)

A function that does not stream answers 200 with its raw result as the body, not read as an
HTTP response (LocalStack's AWS-validated `test_lambda_url_echo_invoke[RESPONSE_STREAM]`).
Failures before any byte are answered as a buffered URL answers them (502, 429, …).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from emulator import errors, wire
from emulator.engine.invocation import FlowControl, InvocationResult
from emulator.frontdoor import cors, responses
from emulator.frontdoor.exchange import Exchange
from emulator.httpserver import Response, ResponseStream

_DELIMITER = b"\0" * 8
# ⚠ Lambda's limit on the prelude is not documented; a prelude longer than this, with no
# delimiter, is taken as a body without one
MAX_PRELUDE_BYTES = 64 * 1024
# the framing is the front end's own (responses._FRAMING)
_FRAMING = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)


class _BadPrelude(Exception):
    pass


def parse_prelude(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    """Status and headers from an HTTP integration prelude: `statusCode` (default 200),
    `headers` (an object; a list value is joined with ", " ⚠), `cookies` (one Set-Cookie each)."""
    try:
        meta = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _BadPrelude from exc
    if not isinstance(meta, dict):
        raise _BadPrelude
    status = meta.get("statusCode", 200)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise _BadPrelude
    headers: list[tuple[str, str]] = []
    raw_headers: Any = meta.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise _BadPrelude
    for name, value in raw_headers.items():
        if value is None or str(name).lower() in _FRAMING:
            continue
        if isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = value if isinstance(value, str) else json.dumps(value)
        headers.append((str(name), text))
    cookies: Any = meta.get("cookies") or []
    if not isinstance(cookies, list):
        raise _BadPrelude
    headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
    return status, headers


class UrlStream:
    """One RESPONSE_STREAM URL request's answer (a `ResponseSink`). `send` answers with a
    whole response (failures before any byte); `done` writes the trace record of a stream."""

    __slots__ = ("_content_type", "_done", "_flow", "_out", "_prelude", "_send", "ex", "status")

    def __init__(
        self,
        ex: Exchange,
        send: Callable[[Exchange, Response], None],
        done: Callable[[Exchange, int], None],
    ) -> None:
        self.ex = ex
        self._send = send
        self._done = done
        self._out: ResponseStream | None = None
        self._prelude: bytearray | None = None  # collecting the prelude until its delimiter
        self._flow: FlowControl | None = None
        # a stream without a prelude: its 200 goes out with the first byte, so that a function
        # failing before it still gets the 502 of a failure
        self._content_type: str | None = None
        self.status = 0

    def _start(self, status: int, headers: list[tuple[str, str]], content_type: str | None) -> None:
        ex = self.ex
        headers = [*headers, *responses.request_id_headers("url", ex.api_request_id)]
        if ex.cors is not None:
            headers = cors.merged(
                headers, cors.response_headers(ex.cors, ex.origin), drop_own=False
            )
        if content_type is not None and any(k.lower() == "content-type" for k, _ in headers):
            content_type = None
        assert ex.reply is not None
        self.status = status
        out = ex.reply.stream(status, headers, content_type)
        flow = self._flow
        if flow is not None:
            out.on_pause = flow.pause
            out.on_resume = flow.resume
        self._out = out

    # --- ResponseSink ------------------------------------------------------------------------
    def begin(self, content_type: str, flow: FlowControl) -> None:
        self._flow = flow
        if content_type == wire.HTTP_INTEGRATION_CONTENT_TYPE:
            self._prelude = bytearray()
        else:
            self._content_type = content_type

    def data(self, chunk: bytes) -> None:
        prelude = self._prelude
        if prelude is None:
            if self._content_type is not None:
                content_type, self._content_type = self._content_type, None
                self._start(200, [], content_type)
            if self._out is not None and self.ex.method != "HEAD":
                self._out.write(chunk)
            return
        prelude += chunk
        at = prelude.find(_DELIMITER)
        if at < 0:
            if len(prelude) > MAX_PRELUDE_BYTES:
                self._prelude = None
                self._start(200, [], "application/octet-stream")
                self.data(bytes(prelude))
            return
        self._prelude = None
        try:
            status, headers = parse_prelude(bytes(prelude[:at]))
        except _BadPrelude:
            # ⚠ a prelude that is not valid metadata: what Lambda answers is not recorded
            self._fail_early("function_error")
            return
        self._start(status, headers, "application/octet-stream")
        rest = bytes(prelude[at + len(_DELIMITER) :])
        if rest:
            self.data(rest)

    # --- the end -------------------------------------------------------------------------------
    def complete(self, fut: asyncio.Future[InvocationResult]) -> None:
        ex = self.ex
        if ex.reply is None:
            return
        exc = fut.exception()
        if exc is not None:
            reason: responses.FailureReason = (
                "throttled" if isinstance(exc, errors.TooManyRequests) else "function_error"
            )
            self._end_in_failure(reason)
            return
        result = fut.result()
        if result.function_error:
            timed_out = b"Sandbox.Timedout" in result.payload
            self._end_in_failure("timeout" if timed_out else "function_error")
            return
        if not result.streamed:  # a function that does not stream: its raw result, 200
            self._start(200, [], result.content_type)
            if ex.method != "HEAD":
                assert self._out is not None
                self._out.write(result.payload)
        elif self._prelude is not None:
            # the stream ended before a delimiter: NRIC sends a prelude alone so when the
            # handler never writes (spec §1.2, aws-lambda-nodejs-runtime-interface-client#95) ⚠
            prelude, self._prelude = bytes(self._prelude), None
            try:
                status, headers = parse_prelude(prelude)
            except _BadPrelude:
                self._fail_early("function_error")
                return
            self._start(status, headers, "application/octet-stream")
        elif self._content_type is not None:  # an empty stream
            self._start(200, [], self._content_type)
        elif self._out is None:
            return  # answered already (a bad prelude)
        assert self._out is not None
        self._out.end()
        self._done(ex, self.status)

    def _end_in_failure(self, reason: responses.FailureReason) -> None:
        if self._out is None:
            self._fail_early(reason)
            return
        # ⚠ status and headers are out: what Lambda does is not recorded; the connection
        # closes without the last chunk, so the client sees a truncated body
        self._out.abort()
        self._done(self.ex, self.status)

    def _fail_early(self, reason: responses.FailureReason) -> None:
        if self._out is not None or self.ex.reply is None or self.ex.reply.done:
            return
        self._prelude = self._content_type = None
        self._send(self.ex, responses.failure("url", reason, self.ex.api_request_id))
