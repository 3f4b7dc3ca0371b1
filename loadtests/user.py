"""`LambdaUser`: a Locust user that invokes one function through the public Invoke API.

    class Checkout(LambdaUser):
        function = "checkout"
        payloads = Payloads.fixed('{"cart": 3}')

Every invocation fires Locust's one `request` event (request_type "Invoke"), named by what
happened, so Locust's own table already tells them apart:

    checkout [cold]  checkout [warm]  checkout [function error]  checkout [throttle]
    checkout [error]  checkout [invoked] (no REPORT in the tail, e.g. with extensions)

The event's `context` carries the parsed REPORT (`loadtests.plugin` turns it into the Lambda
stats). The HTTP client is geventhttpclient, the engine of Locust's FastHttpUser, or httpx
(`client = "httpx"`); bench/harness_throughput.py measures both. Importing this module imports
Locust (and gevent's monkey-patching): do it in a locustfile, never in the emulator's process.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from locust import User, task
from locust.env import Environment

from loadtests.invoke import (
    InvokeAnswer,
    SigV4Signer,
    base_headers,
    classify,
    invoke_path,
)
from loadtests.payloads import Payloads
from loadtests.schedules import Arrivals
from loadtests.stats import Outcome

REQUEST_TYPE = "Invoke"
# Lambda's longest timeout is 900 s; the client must not give up first.
NETWORK_TIMEOUT_S = 960.0
CLIENTS = ("fasthttp", "httpx")


Answer = tuple[int, Mapping[str, str], bytes]  # status, headers (lower-case names), body


class InvokeFailed(Exception):
    """A failed invocation as Locust lists it under Failures: throttle, function error,
    error. The user goes on; nothing is raised out of the task."""


class Transport(Protocol):
    def request(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Answer:
        """(status, headers with lower-case names, body)"""
        ...

    def close(self) -> None: ...


class FastHttpTransport:
    """geventhttpclient, one keep-alive connection per user (what FastHttpUser runs on)."""

    def __init__(self, host: str) -> None:
        from geventhttpclient import HTTPClient

        self._client = HTTPClient.from_url(
            host, concurrency=1, network_timeout=NETWORK_TIMEOUT_S, connection_timeout=10.0
        )

    def request(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Answer:
        resp = self._client.request(method, path, body=body, headers=dict(headers))
        try:
            content = resp.read()
        finally:
            resp.release()
        return resp.status_code, {k.lower(): v for k, v in resp.items()}, content

    def close(self) -> None:
        self._client.close()


class HttpxTransport:
    def __init__(self, host: str) -> None:
        import httpx

        self._client = httpx.Client(base_url=host, timeout=NETWORK_TIMEOUT_S)

    def request(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Answer:
        resp = self._client.request(method, path, content=body, headers=dict(headers))
        return resp.status_code, resp.headers, resp.content

    def close(self) -> None:
        self._client.close()


def make_transport(kind: str, host: str) -> Transport:
    if kind == "httpx":
        return HttpxTransport(host)
    if kind == "fasthttp":
        return FastHttpTransport(host)
    raise ValueError(f"unknown client {kind!r} (known: {', '.join(CLIENTS)})")


class LambdaClient:
    """Invokes functions and reports each invocation through Locust's `request` event,
    timed with perf_counter (the pattern of Locust's gRPC example)."""

    def __init__(
        self,
        environment: Environment,
        host: str,
        *,
        transport: str = "fasthttp",
        signer: SigV4Signer | None = None,
        log_tail: bool = True,
    ) -> None:
        self.environment = environment
        self.host = host.rstrip("/")
        self.transport = make_transport(transport, self.host)
        self.signer = signer
        self.headers = base_headers(log_tail=log_tail)

    def invoke(self, function: str, body: bytes, qualifier: str | None = None) -> InvokeAnswer:
        path = invoke_path(function, qualifier)
        headers = self.headers
        if self.signer is not None:
            headers = self.signer.sign(self.host + path, body, headers)
        started = time.perf_counter()
        status, length = 0, 0
        try:
            status, resp_headers, content = self.transport.request("POST", path, body, headers)
            answer = classify(status, resp_headers, content)
            length = len(content)
        except Exception as exc:  # connection refused, reset, timeout: reported, not raised
            answer = InvokeAnswer(Outcome.ERROR, None, type(exc).__name__)
            failure: BaseException | None = exc
        else:
            failure = None
            if answer.outcome in (Outcome.THROTTLE, Outcome.FUNCTION_ERROR, Outcome.ERROR):
                failure = InvokeFailed(answer.describe(status))
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        hooks: Any = self.environment.events  # Locust's EventHook is untyped
        hooks.request.fire(
            request_type=REQUEST_TYPE,
            name=f"{function} [{answer.outcome.value}]",
            response_time=elapsed_ms,
            response_length=length,
            exception=failure,
            context={"lambda": answer, "function": function},
            url=path,
            response=None,
        )
        return answer

    def close(self) -> None:
        self.transport.close()


def _option(environment: Environment, name: str, default: Any) -> Any:
    options = environment.parsed_options
    value = getattr(options, name, None) if options is not None else None
    # An empty LAMBDA_* variable (docker-compose's `${LAMBDA_PAYLOAD:-}`) means the default.
    return default if value is None or value == "" else value


class LambdaUser(User):
    """Invokes `function` back to back (or at the replayed arrival times) with `payloads`.

    Class attributes win over the command line's `--lambda-*` options (loadtests.plugin)."""

    abstract = True
    function: ClassVar[str | None] = None
    payloads: ClassVar[Payloads | None] = None
    client_kind: ClassVar[str | None] = None
    sigv4_region: ClassVar[str | None] = None  # sign with SigV4 for this region
    arrivals: ClassVar[Arrivals | None] = None  # set by the replay shape's setup
    throttle_backoff: ClassVar[float | None] = None  # base of the backoff after a 429, s

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.function_name: str = self.function or _option(environment, "lambda_function", "")
        if not self.function_name:
            raise ValueError("LambdaUser: set `function` or --lambda-function")
        payload = self.payloads or Payloads.parse(_option(environment, "lambda_payload", "{}"))
        self.payload_choices = payload
        region = self.sigv4_region or (
            _option(environment, "lambda_region", "us-east-1")
            if _option(environment, "lambda_sigv4", False)
            else None
        )
        self.rng = random.Random()
        self._due = False
        self._throttled = 0  # throttles in a row
        self.throttle_backoff_s = float(
            self.throttle_backoff
            if self.throttle_backoff is not None
            else _option(environment, "lambda_throttle_backoff", 0.05)
        )
        self.client = LambdaClient(
            environment,
            self.host or "",
            transport=self.client_kind or _option(environment, "lambda_client", "fasthttp"),
            signer=SigV4Signer(region) if region else None,
        )

    def wait_time(self) -> float:
        arrivals = type(self).arrivals
        if arrivals is None:
            return self._backoff()
        due = arrivals.wait(time.time())
        self._due = due is not None
        # The trace is done: idle (interruptibly, in Locust's wait) until the shape ends the run.
        return 3600.0 if due is None else due

    @task
    def call(self) -> None:
        if type(self).arrivals is not None and not self._due:
            return  # a replay's user first waits for its arrival, then invokes
        self._due = False
        self.invoke()

    def invoke(self) -> None:
        """One invocation (a subclass calls the function its own way)."""
        answer = self.client.invoke(self.function_name, self.payload_choices.pick(self.rng))
        self._throttled = self._throttled + 1 if answer.outcome is Outcome.THROTTLE else 0

    def _backoff(self) -> float:
        """After a throttle, wait as the AWS SDKs do before retrying: exponential backoff with
        full jitter, capped at 20 × the base; without it a throttled user would spin on 429s
        and the count of throttles would only measure the client's speed."""
        if not self._throttled or self.throttle_backoff_s <= 0:
            return 0.0
        cap = self.throttle_backoff_s * min(20, 2 ** (self._throttled - 1))
        return self.rng.uniform(0, cap)

    def on_stop(self) -> None:
        self.client.close()
