"""`ApiUser`: a Locust user that sends HTTP requests to an API's routes, on the emulator's API
port or on a deployed API's URL, with the same locustfile.

    class Items(ApiUser):
        route = "GET /items/{id}"
        path_params = PathParams.parse(["id=42"])
        headers = {"Authorization": "allow"}

    class Mixed(ApiUser):                         # your own tasks: one request per call
        @task
        def browse(self) -> None:
            self.client.request("GET /items/{id}", params={"id": "7"})
            self.client.request("POST /items", body=b'{"name": "x"}')

`--host` is the base URL: `http://127.0.0.1:3000` (the emulator serves routes at their declared
paths) or a stage's URL (`https://abc123.execute-api.eu-west-1.amazonaws.com/prod`). Every
request fires Locust's one `request` event, typed by its method and named by its route key,
so Locust's table has one row per route; its `context["api"]` (a `RouteSample`: the API's
request id from the response headers AWS sets) is what `loadtests.plugin` joins with the
emulator's trace to split cold and warm per route. Nothing is sent that AWS would not take.

Importing this module imports Locust (and gevent's monkey-patching): only in a locustfile.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from locust import User, task
from locust.env import Environment

from loadtests.http import HttpTarget, PathParams, api_request_id, parse_headers
from loadtests.payloads import Payloads
from loadtests.routes import RouteSample
from loadtests.user import Transport as HttpTransport
from loadtests.user import make_transport


class RequestFailed(Exception):
    """A request Locust lists under Failures (status >= 400, or no answer)."""


class ApiClient:
    """Sends requests to routes below one base URL and reports each through Locust's `request`
    event, timed with perf_counter."""

    def __init__(
        self,
        environment: Environment,
        base_url: str,
        *,
        transport: str = "fasthttp",
        headers: Mapping[str, str] | None = None,
        path_params: PathParams | None = None,
        rng: random.Random | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"ApiUser: the base URL must be http(s)://HOST[/stage], got {base_url!r}"
            )
        self.environment = environment
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")  # a deployed stage: "/prod"
        self.headers = dict(headers or {})
        self.path_params = path_params or PathParams()
        self.rng = rng or random.Random()
        self._transports: dict[str, HttpTransport] = {}
        self._kind = transport

    def _transport(self, origin: str) -> HttpTransport:
        transport = self._transports.get(origin)
        if transport is None:
            transport = self._transports[origin] = make_transport(self._kind, origin)
        return transport

    def request(
        self,
        route: str | HttpTarget,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        name: str | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """Send one request to `route` (a route key, or a method and full URL), its {params}
        from `params`, else from the client's PathParams. Never raises: a failure is reported."""
        target = route if isinstance(route, HttpTarget) else HttpTarget.parse(route)
        fill = PathParams({**self.path_params.fixed, **(params or {})}, self.path_params.rows)
        path = fill.fill(target.path, self.rng)
        origin = target.base_url or self.origin
        if target.base_url is None:
            path = self.prefix + path
        sent = {**self.headers, **(headers or {})}
        started = time.perf_counter()
        status, length = 0, 0
        answer: tuple[int, Mapping[str, str], bytes] = (0, {}, b"")
        failure: BaseException | None = None
        try:
            answer = self._transport(origin).request(target.send_method, path, body, sent)
            status, length = answer[0], len(answer[2])
            if status >= 400:
                failure = RequestFailed(f"HTTP {status}")
        except Exception as exc:  # connection refused, reset, timeout: reported, not raised
            failure = exc
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        route_key = name or target.route_key
        sample = RouteSample(route_key, api_request_id(answer[1]), elapsed_ms, status)
        hooks: Any = self.environment.events  # Locust's EventHook is untyped
        hooks.request.fire(
            request_type=target.send_method,
            name=route_key,
            response_time=elapsed_ms,
            response_length=length,
            exception=failure,
            context={"api": sample},
            url=origin + path,
            response=None,
        )
        return answer

    def close(self) -> None:
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()


def _option(environment: Environment, name: str, default: Any) -> Any:
    options = environment.parsed_options
    value = getattr(options, name, None) if options is not None else None
    return default if value is None or value in ("", []) else value


class ApiUser(User):
    """Sends `route` back to back. Class attributes win over the command line's options
    (`--lambda-http`, `--lambda-path-param`, `--lambda-path-params-file`, `--lambda-header`,
    `--lambda-payload`; loadtests.plugin)."""

    abstract = True
    route: ClassVar[str | None] = None  # "GET /items/{id}", or "GET https://…/items/{id}"
    path_params: ClassVar[PathParams | None] = None
    headers: ClassVar[Mapping[str, str] | None] = None
    payloads: ClassVar[Payloads | None] = None  # the body; none by default
    client_kind: ClassVar[str | None] = None

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        spec = self.route or _option(environment, "lambda_http", "")
        self.target: HttpTarget | None = HttpTarget.parse(spec) if spec else None
        params = self.path_params or PathParams.parse(
            _option(environment, "lambda_path_param", []),
            _option(environment, "lambda_path_params_file", None),
        )
        if self.target is not None:
            params.check(self.target.path)
        headers = self.headers
        if headers is None:
            headers = parse_headers(_option(environment, "lambda_header", []))
        payload = self.payloads
        if payload is None:
            spec_body = _option(environment, "lambda_payload", "")
            payload = Payloads.parse(spec_body) if spec_body and spec_body != "{}" else None
        self.body_choices = payload
        self.rng = random.Random()
        base = self.host or (self.target.base_url if self.target else None) or ""
        self.client = ApiClient(
            environment,
            base,
            transport=self.client_kind or _option(environment, "lambda_client", "fasthttp"),
            headers=headers,
            path_params=params,
            rng=self.rng,
        )
        if self.target is None:
            # a locustfile of its own tasks: `send` (inherited by every ApiUser) is not one
            self.tasks = [t for t in self.tasks if t is not ApiUser.send]
            if not self.tasks:
                raise ValueError("ApiUser: set `route` or --lambda-http, or write your own tasks")

    @task
    def send(self) -> None:
        assert self.target is not None
        body = self.body_choices.pick(self.rng) if self.body_choices is not None else None
        self.client.request(self.target, body=body)

    def on_stop(self) -> None:
        self.client.close()
