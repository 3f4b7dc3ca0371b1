"""`StreamingLambdaUser`: a Locust user that calls a function whose response streams, through
InvokeWithResponseStream, its function URL (InvokeMode RESPONSE_STREAM), or both in turn.

    class Tokens(StreamingLambdaUser):
        function = "stream_node"
        stream_via = "both"            # "invoke" | "url" | "both" (or --lambda-stream)

Each call fires Locust's one `request` event, its response time the time to the **last** byte:

    type IWRS   stream_node [cold] / [warm] / [function error] / [throttle] / [error]
                (InvokeWithResponseStream; the REPORT comes back in InvokeComplete's LogResult)
    type URL    stream_node [invoked] / [error] / [throttle]  (a URL returns no REPORT; with
                the emulator's trace, rows of type Lambda split them cold and warm)

and logs its time to the **first** payload byte on a row of its own, type `TTFB`, named
`stream_node [IWRS]` / `stream_node [URL]` (logged on that row only: Locust's
Aggregated line and requests per second count each call once). The event's context carries a
`StreamSample`, from which `loadtests.plugin` keeps TTFB and TTLB percentiles per target for
the summary and the Lambda tab. Importing this module imports Locust: only in a locustfile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

from locust.env import Environment

from loadtests.http import api_request_id
from loadtests.invoke import InvokeAnswer, SigV4Signer
from loadtests.routes import RouteSample
from loadtests.stats import Outcome
from loadtests.streaming import (
    FUNCTION_URL,
    INVOKE_STREAM,
    StreamConnection,
    StreamResult,
    function_url_path,
    invoke_stream,
    stream_headers,
    stream_invoke_path,
    url_stream,
)
from loadtests.user import InvokeFailed, LambdaUser, _option

# Locust's tables give the type 8 columns
REQUEST_TYPES = {INVOKE_STREAM: "IWRS", FUNCTION_URL: "URL"}
TTFB_TYPE = "TTFB"
STREAM_VIAS = ("invoke", "url", "both")


class StreamClient:
    """Streamed calls, each reported through Locust's `request` event and a TTFB row."""

    def __init__(
        self,
        environment: Environment,
        host: str,
        *,
        signer: SigV4Signer | None = None,
        log_tail: bool = True,
        url: str | None = None,
    ) -> None:
        self.environment = environment
        self.host = host.rstrip("/")
        self.signer = signer
        self.log_tail = log_tail
        self.conn = StreamConnection(self.host)
        # a function URL: a path on the host, or a whole URL (AWS's
        # https://<id>.lambda-url.<region>.on.aws/), on a connection of its own
        self.url = url
        self.url_conn = self.conn
        if url is not None and "://" in url:
            parts = urlsplit(url)
            self.url_conn = StreamConnection(f"{parts.scheme}://{parts.netloc}")
            self.url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def invoke_stream(
        self, function: str, body: bytes, qualifier: str | None = None
    ) -> InvokeAnswer:
        path = stream_invoke_path(function, qualifier)
        headers = stream_headers(log_tail=self.log_tail)
        if self.signer is not None:
            headers = self.signer.sign(self.host + path, body, headers)
        return self._call(
            INVOKE_STREAM,
            function,
            path,
            lambda: invoke_stream(self.conn, function, body, qualifier=qualifier, headers=headers),
        )

    def function_url(self, function: str, body: bytes) -> InvokeAnswer:
        path = self.url or function_url_path(function)
        return self._call(
            FUNCTION_URL, function, path, lambda: url_stream(self.url_conn, path, body)
        )

    def _call(
        self, target: str, function: str, path: str, call: Callable[[], StreamResult]
    ) -> InvokeAnswer:
        started = time.perf_counter()
        result: StreamResult | None = None
        try:
            result = call()
        except Exception as exc:  # connection refused, reset, a bad frame: reported, not raised
            answer = InvokeAnswer(Outcome.ERROR, None, type(exc).__name__)
            failure: BaseException | None = exc
            elapsed_ms = (time.perf_counter() - started) * 1000.0
        else:
            assert result is not None
            answer = result.answer()
            failure = None
            if answer.outcome in (Outcome.THROTTLE, Outcome.FUNCTION_ERROR, Outcome.ERROR):
                failure = InvokeFailed(answer.describe(result.status))
            elapsed_ms = result.ttlb_ms
        sample = result.sample() if result is not None else None
        request_type = REQUEST_TYPES[target]
        context: dict[str, Any] = {"function": function, "stream": sample}
        if target == INVOKE_STREAM:
            context["lambda"] = answer
        else:
            # a URL answers no REPORT: the plugin joins the request with the emulator's trace,
            # by its request id, to learn whether it was cold (as for `load --http`)
            status = result.status if result is not None else 0
            request_id = api_request_id(result.headers) if result is not None else None
            context["api"] = RouteSample(f"POST {path}", request_id, elapsed_ms, status)
        hooks: Any = self.environment.events  # Locust's EventHook is untyped
        hooks.request.fire(
            request_type=request_type,
            name=f"{function} [{answer.outcome.value}]",
            response_time=elapsed_ms,
            response_length=result.payload_bytes if result is not None else 0,
            exception=failure,
            context=context,
            url=path,
            response=None,
        )
        if sample is not None:
            entry: Any = self.environment.stats.get(f"{function} [{request_type}]", TTFB_TYPE)
            entry.log(sample.ttfb_ms, sample.payload_bytes)
        return answer

    def close(self) -> None:
        self.conn.close()
        if self.url_conn is not self.conn:
            self.url_conn.close()


class StreamingLambdaUser(LambdaUser):
    """Calls `function` back to back through InvokeWithResponseStream, its function URL, or
    both in turn (`stream_via`, else --lambda-stream; default both). The function URL is the
    emulator's /lambda-url/<function>/ unless `url` (or --lambda-stream-url) names one: a path
    on the host, or a whole URL. The payload is the event of InvokeWithResponseStream and the
    JSON body POSTed to the URL."""

    abstract = True
    stream_via: ClassVar[str | None] = None
    url: ClassVar[str | None] = None

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.via = self.stream_via or _option(environment, "lambda_stream", "both")
        if self.via not in STREAM_VIAS:
            raise ValueError(f"StreamingLambdaUser: stream_via must be one of {STREAM_VIAS}")
        signer = self.client.signer  # LambdaUser's, from --lambda-sigv4
        self.stream_client = StreamClient(
            environment,
            self.host or "",
            signer=signer,
            url=self.url or _option(environment, "lambda_stream_url", None),
        )
        self._turn = 0

    def invoke(self) -> None:
        body = self.payload_choices.pick(self.rng)
        via = self.via
        if via == "both":
            via = ("invoke", "url")[self._turn % 2]
            self._turn += 1
        if via == "invoke":
            answer = self.stream_client.invoke_stream(self.function_name, body)
        else:
            answer = self.stream_client.function_url(self.function_name, body)
        self._throttled = self._throttled + 1 if answer.outcome is Outcome.THROTTLE else 0

    def on_stop(self) -> None:
        self.stream_client.close()
        super().on_stop()
