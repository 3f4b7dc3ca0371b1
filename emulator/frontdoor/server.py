"""The front door's listeners: API Gateway routes on the `api` listener, function URLs on the
Invoke API's (`/lambda-url/<FunctionName>/<path>`, cargo-lambda's convention).

    request ─▶ FrontDoor.api / .url       (rows of emulator/api/routes.py)
      │ route (matching.py), CORS preflight (cors.py), SigV4 for AWS_IAM URLs (sigv4.py)
      │ authorizer (authorizers.py, through `call_function`: a real invocation)
      ▼ events.build_event ─▶ Invocation ─▶ pool.submit ─▶ inv.reply
      ▼ responses.from_result / failure (+ the configured CORS headers) ─▶ the client
      ▼ one `kind: "http"` trace record (exchange.py; docs/trace-format.md)

Like the Invoke API, it sees functions only through the `FunctionRegistry` and answers
through `Reply`: a request without an authorizer runs no task of its own. API Gateway's own
integration timeout (29 s REST, 30 s HTTP APIs: AG `limits.md`) is a timer armed only when the
function may run longer; function URLs have none (the function's timeout ends it).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from emulator import errors, wire
from emulator.arns import ArnScheme
from emulator.engine.functions import FunctionRegistry
from emulator.engine.invocation import (
    Invocation,
    InvocationResult,
    new_request_id,
    trace_id_from,
)
from emulator.frontdoor import cors, events, responses, sigv4
from emulator.frontdoor.authorizers import Authorizers, CallResult, Decision
from emulator.frontdoor.exchange import Exchange, http_api_request_id, rest_request_id
from emulator.frontdoor.listing import authorizer_of, describe, describe_line
from emulator.frontdoor.matching import Match, RouteTable
from emulator.frontdoor.model import (
    DEFAULT_ROUTE,
    Authorizer,
    FunctionUrl,
    HttpApi,
    HttpConfig,
)
from emulator.frontdoor.streaming import UrlStream
from emulator.httpserver import Request, Response, Result
from emulator.metrics.trace import TraceWriter

__all__ = ["API_MAX_BODY", "INTEGRATION_TIMEOUT_S", "FrontDoor", "describe_line"]

# API Gateway's integration timeout (AG `limits.md`): REST 50 ms–29 s, HTTP APIs 30 s
INTEGRATION_TIMEOUT_S: Mapping[str, float] = {"rest": 29.0, "http": 30.0}
# the most an authorizer may take (AG `limits.md`: "Lambda authorizer response timeout" 10 s)
AUTHORIZER_TIMEOUT_S = 10.0
# request payload limits: API Gateway 10 MB (AG `limits.md`); function URLs are Lambda's 6 MB
API_MAX_BODY = 10 * 1024 * 1024
URL_MAX_BODY = wire.MAX_SYNC_REQUEST_BYTES
_H_TRACE = "x-amzn-trace-id"  # a request without it (the common case) skips the header scan

# the exchange being authorized: the authorizer's own invocations add their request ids to it
_CURRENT: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "frontdoor_exchange", default=None
)


class FrontDoor:
    """The surface behind the `api` rows (`api`) and the invoke listener's `/lambda-url` rows
    (`url`). `update` swaps the configuration (hot reload)."""

    def __init__(
        self,
        config: HttpConfig,
        functions: FunctionRegistry,
        arns: ArnScheme,
        trace: TraceWriter,
        *,
        region: str,
        account_id: str,
        credentials: Mapping[str, str],
        on_internal_error: Callable[[Exception], None],
        warn: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.functions = functions
        self.arns = arns
        self.trace = trace
        self.region = region
        self.account_id = account_id
        self.credentials = credentials
        self._internal_error = on_internal_error
        self.warn = warn
        self.authorizers = Authorizers(self.call_function, time.monotonic, region=region)
        self._tasks: set[asyncio.Task[None]] = set()
        self.requests = 0  # answered, for /_emu/health and tests
        self.config = config
        self.table = RouteTable(config)
        self._urls: dict[str, FunctionUrl] = {}
        self._ids: dict[str, str] = {}
        self._domains: dict[str, str] = {}
        self.update(config)

    def update(self, config: HttpConfig) -> None:
        self.config = config
        self.table = RouteTable(config)
        # /lambda-url/<name>/: "Function" or "Function:alias"; a function whose one URL is an
        # alias's (SAM's AutoPublishAlias) is also reached by the function's name
        self._urls = {url.name: url for url in config.urls}
        per_function = Counter(url.function for url in config.urls)
        for url in config.urls:
            if per_function[url.function] == 1:
                self._urls.setdefault(url.function, url)
        # ids are hashes of names: computed once per configuration, not per request
        self._ids = {api.name: api.api_id for api in config.apis}
        self._ids.update({f"url:{url.name}": url.url_id for url in config.urls})
        self._domains = {
            api.name: f"{api.api_id}.execute-api.{self.region}.amazonaws.com" for api in config.apis
        }
        self.authorizers.clear()  # cached answers belong to the previous configuration
        for hidden, winner in self.table.shadowed():
            self.warn(
                f"route '{hidden.route_key}' of API {hidden.api} is never reached: API "
                f"{winner.api} declares it first (APIs share the api port)"
            )

    # --- handlers (rows of emulator/api/routes.py) ----------------------------------------
    def api(self, request: Request) -> Result:
        headers = request.headers
        ex = Exchange("http", request.method, request.path, headers.get(cors.H_ORIGIN))
        match = self.table.match(request.method, request.path)
        api = match.api if match is not None else self.table.owner(request.path)
        if api is not None:
            ex.service = api.kind
            ex.api, ex.api_id = api.name, self._ids[api.name]
        if api is not None and api.kind == "rest":
            ex.api_request_id = rest_request_id()
        else:
            ex.api_request_id = http_api_request_id()
        if request.method == "OPTIONS" and api is not None:
            # a preflight is the API's that declares the path, not another API's $default
            owner = api
            if match is not None and match.route.path == DEFAULT_ROUTE:
                owner = self.table.declaring(request.path) or api
            if owner.cors is not None:
                preflight = self._api_preflight(ex, owner, request, match)
                if preflight is not None:
                    if owner is not api:
                        ex.service, ex.api = owner.kind, owner.name
                        ex.api_id = self._ids[owner.name]
                    return self._done(ex, preflight)
        if match is None or api is None:
            return self._done(ex, responses.failure(ex.service, "no_route", ex.api_request_id))
        route = match.route
        route_key = ex.route = route.route_key
        ex.function, ex.qualifier = route.function, route.qualifier
        if api.kind == "http" and api.cors is not None:
            ex.cors = api.cors
        if request.truncated or request.body_size > API_MAX_BODY:
            return self._done(ex, responses.failure(ex.service, "too_large", ex.api_request_id))
        http_request = _http_request(request, request.path, ex.accepted_at)
        target = events.Target(
            payload_version=route.payload_version,
            route_key=route_key,
            resource=route.path if route.path != DEFAULT_ROUTE else request.path,
            api_id=ex.api_id,
            domain_name=self._domains[api.name],
            stage=api.stage,
            request_id=ex.api_request_id,
            account_id=self.account_id,
            path_parameters=match.path_parameters,
            stage_variables=api.stage_variables,
            is_rest=api.kind == "rest",
            binary_media_types=api.binary_media_types,
            extended_request_id=(
                events.extended_request_id(ex.api_request_id) if api.kind == "rest" else ""
            ),
            trace_id=trace_id_from(
                _trace_header(http_request.headers) if _H_TRACE in headers else None
            ),
        )
        authorizer = authorizer_of(api, route.authorizer)
        ex.reply = request.defer()
        if authorizer is None:
            self._integrate(ex, http_request, target, None)
        else:
            self._spawn(self._authorized(ex, api, authorizer, http_request, target))
        return ex.reply

    def url(self, request: Request) -> Result:
        raw_name = request.params["FunctionName"]
        name = raw_name  # function names are [A-Za-z0-9-_]: nothing to decode
        prefix = f"{wire.LAMBDA_URL_PREFIX}/{raw_name}"
        raw_path = request.path[len(prefix) :] or "/"
        headers = request.headers
        ex = Exchange("url", request.method, raw_path, headers.get(cors.H_ORIGIN))
        ex.route = DEFAULT_ROUTE
        url = self._urls.get(name)
        if url is None or url.function not in self.functions:
            ex.api_request_id = new_request_id()
            return self._done(ex, responses.failure("url", "no_url", ex.api_request_id))
        ex.api_id = self._ids[f"url:{url.name}"]
        ex.function, ex.qualifier = url.function, url.qualifier
        ex.cors = url.cors
        request_id = new_request_id()
        ex.api_request_id = request_id
        if url.cors is not None and cors.is_preflight(request.method, headers):
            answer = Response(
                cors.URL_PREFLIGHT_STATUS,
                headers=[
                    *responses.request_id_headers("url", request_id),
                    *cors.preflight_headers(url.cors, ex.origin),
                ],
            )
            ex.cors = None
            return self._done(ex, answer)
        if request.truncated or request.body_size > URL_MAX_BODY:
            return self._done(ex, responses.failure("url", "too_large", request_id))
        all_headers = _headers_of(request)
        authorizer: Mapping[str, Any] | None = None
        if url.auth_type == "AWS_IAM":
            try:
                verified = sigv4.verify(
                    method=request.method,
                    raw_path=request.path,
                    raw_query=request.query,
                    headers=all_headers,
                    body=request.body,
                    credentials=self.credentials,
                    region=self.region,
                )
            except sigv4.SignatureError as exc:
                self.warn(f"function URL {name}: signature refused: {exc}")
                return self._done(ex, responses.failure("url", "signature", request_id))
            authorizer = self._iam_authorizer(verified.access_key)
        http_request = _http_request(request, raw_path, ex.accepted_at, all_headers)
        target = events.Target(
            payload_version="2.0",
            route_key=DEFAULT_ROUTE,
            resource=raw_path,
            api_id=ex.api_id,
            domain_name=f"{ex.api_id}.lambda-url.{self.region}.on.aws",
            stage=DEFAULT_ROUTE,
            request_id=request_id,
            account_id=self.account_id,
            authorizer=authorizer,
            trace_id=trace_id_from(_trace_header(all_headers)),
        )
        ex.reply = request.defer()
        streamed = url.invoke_mode == "RESPONSE_STREAM"
        self._integrate(ex, http_request, target, request_id, streamed=streamed)
        return ex.reply

    def _iam_authorizer(self, access_key: str) -> dict[str, Any]:
        """requestContext.authorizer of an AWS_IAM URL. ⚠ There is no IAM here: the user's
        ARN and id are made from the access key that signed."""
        user_arn = f"arn:aws:iam::{self.account_id}:user/{access_key}"
        return events.iam_authorizer(access_key, self.account_id, user_arn, access_key)

    # --- CORS preflight -------------------------------------------------------------------
    def _api_preflight(
        self, ex: Exchange, api: HttpApi, request: Request, match: Match | None
    ) -> Response | None:
        assert api.cors is not None
        if api.kind == "http":
            if not cors.is_preflight(request.method, request.headers):
                return None
            # An OPTIONS route, and the $default route, take preflights like any request (AG
            # http-api-cors.md: "The $default route catches requests for all methods and
            # routes that you haven't explicitly defined, including OPTIONS requests"). ⚠ ANY
            # routes do not: API Gateway answers those preflights itself.
            if (
                match is not None
                and match.api.name == api.name
                and (match.route.method == "OPTIONS" or match.route.path == DEFAULT_ROUTE)
            ):
                return None
            return Response(
                cors.HTTP_PREFLIGHT_STATUS,
                headers=[
                    *responses.request_id_headers("http", ex.api_request_id),
                    *cors.preflight_headers(api.cors, ex.origin),
                ],
            )
        # REST: SAM's MOCK OPTIONS method, on paths that declare no OPTIONS of their own
        if match is not None and match.route.method == "OPTIONS":
            return None
        resource = self.table.resource(api, request.path)
        if resource is None:
            return None
        path, methods = resource
        ex.route = f"OPTIONS {path}"
        return Response(
            200,
            b"{}",
            [
                *responses.request_id_headers("rest", ex.api_request_id),
                *cors.rest_preflight_headers(api.cors, methods),
            ],
            content_type="application/json",
        )

    # --- authorizers ----------------------------------------------------------------------
    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _authorized(
        self,
        ex: Exchange,
        api: HttpApi,
        authorizer: Authorizer,
        request: events.HttpRequest,
        target: events.Target,
    ) -> None:
        _CURRENT.set(ex)
        ex.authorizer = {"function": authorizer.function, "request_id": None, "cached": False}
        before = len(ex.request_ids)
        t0 = time.perf_counter()
        try:
            decision: Decision = await self.authorizers.authorize(api, authorizer, request, target)
        except Exception as exc:  # our own bug: the caller still gets an answer
            self._internal_error(exc)
            decision = Decision("error", status=500, body=b'{"message":"Internal Server Error"}')
        ex.authorizer_ms = (time.perf_counter() - t0) * 1000
        ex.authorizer["cached"] = decision.cached
        called = ex.request_ids[before:]
        ex.authorizer["request_id"] = decision.request_id or (called[-1] if called else None)
        if decision.outcome != "allow":
            # API Gateway's own 401/403/500, as the authorizers module words it
            if decision.reason is not None:
                answer = responses.failure(ex.service, decision.reason, ex.api_request_id)
            else:
                answer = Response(
                    decision.status,
                    decision.body,
                    [
                        *responses.request_id_headers(ex.service, ex.api_request_id),
                        *decision.headers,
                    ],
                    content_type="application/json",
                )
            self._send(ex, answer)
            return
        self._integrate(ex, request, replace(target, authorizer=decision.context), None)

    async def call_function(self, name: str, payload: bytes) -> CallResult:
        """The authorizers' `Invoke`: a real invocation of `name` through the registry (cold
        starts, REPORT, trace), limited to the authorizer's 10 s."""
        pool = self.functions.get(name)
        inv = Invocation(
            function_name=name, payload=payload, invoked_arn=self.arns.function_arn(name)
        )
        if pool is None:
            return CallResult(b"", True, inv.request_id)
        try:
            pool.submit(inv)
        except errors.TooManyRequests:
            return CallResult(b"", True, inv.request_id, throttled=True)
        ex = _CURRENT.get()
        if ex is not None:
            ex.request_ids.append(inv.request_id)
        try:
            result = await asyncio.wait_for(asyncio.shield(inv.reply), AUTHORIZER_TIMEOUT_S)
        except TimeoutError:
            return CallResult(b"", True, inv.request_id)
        except errors.TooManyRequests:
            return CallResult(b"", True, inv.request_id, throttled=True)
        except errors.ServiceError:
            return CallResult(b"", True, inv.request_id)
        return CallResult(result.payload, result.function_error, inv.request_id)

    # --- the integration ------------------------------------------------------------------
    def _integrate(
        self,
        ex: Exchange,
        request: events.HttpRequest,
        target: events.Target,
        request_id: str | None,
        *,
        streamed: bool = False,
    ) -> None:
        assert ex.function is not None
        pool = self.functions.resolve(ex.function, ex.qualifier)
        if pool is None:  # removed by a hot reload: API Gateway's answer to a failed invoke
            self._send(ex, responses.failure(ex.service, "function_error", ex.api_request_id))
            return
        try:
            payload = events.encode_event(request, target)
        except Exception as exc:  # our own bug (or a stub)
            self._internal_error(exc)
            self._send(ex, responses.failure(ex.service, "function_error", ex.api_request_id))
            return
        if len(payload) > wire.MAX_SYNC_REQUEST_BYTES:
            reason: responses.FailureReason = "invoke_too_large"
            self._send(ex, responses.failure(ex.service, reason, ex.api_request_id))
            return
        inv = Invocation(
            function_name=pool.fn.name,
            payload=payload,
            invoked_arn=self.arns.function_arn(pool.fn.name, ex.qualifier),
            trace_id=target.trace_id,
            executed_version=pool.fn.version,
        )
        if request_id is not None:
            inv.request_id = request_id
        sink = None
        if streamed:  # a RESPONSE_STREAM function URL (frontdoor/streaming.py)
            sink = UrlStream(ex, self._send, self._streamed)
            inv.stream = sink
        try:
            pool.submit(inv)
        except errors.TooManyRequests:
            self._send(ex, responses.failure(ex.service, "throttled", ex.api_request_id))
            return
        ex.request_ids.append(inv.request_id)
        if sink is not None:
            inv.reply.add_done_callback(sink.complete)
            return
        limit = INTEGRATION_TIMEOUT_S.get(ex.service)
        if limit is not None and pool.fn.timeout_s >= limit:
            ex.timer = asyncio.get_running_loop().call_later(limit, self._integration_timed_out, ex)
        # only REST's 1.0 mapping reads the Accept header (binary responses)
        accept = _header(request.headers, "accept") if target.payload_version == "1.0" else None
        inv.reply.add_done_callback(partial(self._answer, ex, target, accept))

    def _integration_timed_out(self, ex: Exchange) -> None:
        ex.timer = None
        self._send(ex, responses.failure(ex.service, "integration_timeout", ex.api_request_id))

    def _answer(
        self,
        ex: Exchange,
        target: events.Target,
        accept: str | None,
        fut: asyncio.Future[InvocationResult],
    ) -> None:
        if ex.timer is not None:
            ex.timer.cancel()
            ex.timer = None
        if ex.reply is None or ex.reply.done:
            return  # API Gateway gave up already (integration timeout); Lambda ran on
        exc = fut.exception()
        if exc is None:
            result = fut.result()
            if result.function_error:
                answer = responses.failure(
                    ex.service, _failure_reason(result.payload), ex.api_request_id
                )
            else:
                answer = responses.from_result(
                    ex.service,
                    target.payload_version,
                    result.payload,
                    ex.api_request_id,
                    accept=accept,
                    binary_media_types=target.binary_media_types,
                )
        elif isinstance(exc, errors.TooManyRequests):
            answer = responses.failure(ex.service, "throttled", ex.api_request_id)
        elif isinstance(exc, errors.RequestTooLarge):
            answer = responses.failure(ex.service, "too_large", ex.api_request_id)
        else:
            if not isinstance(exc, errors.ServiceError):
                self._internal_error(exc if isinstance(exc, Exception) else RuntimeError(exc))
            answer = responses.failure(ex.service, "function_error", ex.api_request_id)
        self._send(ex, answer)

    # --- answers and their trace records --------------------------------------------------
    def _send(self, ex: Exchange, response: Response) -> None:
        try:
            response = self._shaped(ex, response)
        except Exception as exc:  # never leave a client without an answer
            self._internal_error(exc)
            response = Response(500, b'{"message":"Internal Server Error"}')
        assert ex.reply is not None
        ex.answer()
        ex.reply.send(response)
        # recorded once the answer is on its way, in the same step: formatting the record is
        # not the client's wait (its `end` is still the moment the answer went out)
        try:
            self._recorded(ex, response.status)
        except Exception as exc:
            self._internal_error(exc)

    def _streamed(self, ex: Exchange, status: int) -> None:
        """A streamed answer ended: its trace record (CORS went with its head)."""
        self.requests += 1
        self.trace.write(ex.record(status))

    def _done(self, ex: Exchange, response: Response) -> Response:
        response = self._shaped(ex, response)
        self._recorded(ex, response.status)
        return response

    def _shaped(self, ex: Exchange, response: Response) -> Response:
        if ex.cors is not None:
            response.headers = cors.merged(
                response.headers,
                cors.response_headers(ex.cors, ex.origin),
                drop_own=ex.service == "http",
            )
        if ex.method == "HEAD":
            response.body = b""  # ⚠ AWS sends the GET's Content-Length; a body would desync
        return response

    def _recorded(self, ex: Exchange, status: int) -> None:
        self.requests += 1
        self.trace.write(ex.record(status))

    def describe(self, api_url: str | None, invoke_url: str) -> list[dict[str, Any]]:
        """Every route and URL with the address it is served at (listing.describe)."""
        return describe(self.config, api_url, invoke_url)

    async def close(self) -> None:
        """Authorizations in flight are dropped (their listeners are closed already)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _headers_of(request: Request) -> list[tuple[str, str]]:
    if request.raw_headers is not None:
        return request.raw_headers
    return list(request.headers.items())  # a listener without raw headers: one value each


def _http_request(
    request: Request, raw_path: str, at: float, headers: list[tuple[str, str]] | None = None
) -> events.HttpRequest:
    peer = request.peer
    return events.HttpRequest(
        method=request.method,
        raw_path=raw_path,
        raw_query=request.query,
        headers=headers if headers is not None else _headers_of(request),
        body=request.body,
        source_ip=peer[0] if peer is not None else "127.0.0.1",
        time=at,
    )


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    """The first value of a header (`name` lower case)."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _trace_header(headers: list[tuple[str, str]]) -> str | None:
    return _header(headers, _H_TRACE)


def _failure_reason(payload: bytes) -> responses.FailureReason:
    """A function error's kind, from Lambda's error body."""
    if b"Sandbox.Timedout" in payload:
        return "timeout"
    if b"ResponseSizeTooLarge" in payload:
        return "response_too_large"
    return "function_error"
