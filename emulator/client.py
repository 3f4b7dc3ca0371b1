"""The one Invoke API client of the package: the CLI, tuning, lessons, the pytest plugin and the
tests all build their requests here, and read the answer into one `InvokeResult`.

It speaks only HTTP (the public Invoke API, plus the emulator's own `/_emu/reset`), so it
works against any running emulator, and its `InvokeResult` reads real Lambda's answers too.
httpx is imported when a client is made, so importing this module stays cheap.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emulator import wire
from emulator.metrics.report import Report, parse_report

if TYPE_CHECKING:
    import httpx

DEFAULT_TIMEOUT_S = 960.0  # Lambda's longest timeout (900 s) and init, with room


@dataclass(frozen=True, slots=True)
class InvokeRequest:
    path: str
    headers: dict[str, str]
    body: bytes


def invoke_request(
    name: str,
    payload: Any = None,
    *,
    raw: bytes | None = None,
    qualifier: str | None = None,
    invocation_type: str = wire.INVOCATION_REQUEST_RESPONSE,
    log_tail: bool = True,
    client_context: str | None = None,
) -> InvokeRequest:
    """The Invoke API request boto3 would send: `payload` is JSON-encoded (None is `{}`),
    `raw` goes as it is; `client_context` is the JSON text (base64-encoded here)."""
    body = raw if raw is not None else json.dumps({} if payload is None else payload).encode()
    headers = {"Content-Type": "application/json", "X-Amz-Invocation-Type": invocation_type}
    if log_tail:
        headers["X-Amz-Log-Type"] = wire.LOG_TYPE_TAIL
    if client_context is not None:
        headers["X-Amz-Client-Context"] = base64.b64encode(client_context.encode()).decode()
    path = f"{wire.INVOKE_PREFIX}{quote(name, safe=':')}{wire.INVOKE_SUFFIX}"
    if qualifier is not None:
        path += f"?Qualifier={quote(qualifier, safe='')}"
    return InvokeRequest(path, headers, body)


@dataclass
class InvokeResult:
    status: int
    payload: bytes
    function_error: str | None  # X-Amz-Function-Error
    log: str  # X-Amz-Log-Result, decoded
    headers: dict[str, str]  # names lower-cased

    @classmethod
    def from_response(cls, resp: httpx.Response) -> InvokeResult:
        log = base64.b64decode(resp.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
        return cls(
            status=resp.status_code,
            payload=resp.content,
            function_error=resp.headers.get("x-amz-function-error"),
            log=log,
            headers={k.lower(): v for k, v in resp.headers.items()},
        )

    def json(self) -> Any:
        return json.loads(self.payload)

    @property
    def request_id(self) -> str:
        return self.headers.get("x-amzn-requestid", "")

    @property
    def executed_version(self) -> str | None:
        """X-Amz-Executed-Version: the version that ran (an alias's, after its routing)."""
        return self.headers.get("x-amz-executed-version")

    @property
    def report(self) -> Report | None:
        return parse_report(self.log)

    @property
    def error(self) -> str | None:
        """What went wrong, in one word or so, or None: a service error's status and type,
        a function error's type, or a platform failure's (timeout, crash)."""
        if self.status >= 400:
            return f"HTTP {self.status} {self.headers.get('x-amzn-errortype', '')}".strip()
        report = self.report
        if self.function_error:
            return (report.error_type if report else None) or _error_type(self.payload)
        if report is not None and report.status is not None:
            return report.error_type or report.status
        return None


def _error_type(content: bytes) -> str:
    try:
        body = json.loads(content)
    except ValueError:
        return wire.FUNCTION_ERROR_UNHANDLED
    if isinstance(body, dict) and isinstance(body.get("errorType"), str):
        return str(body["errorType"])
    return wire.FUNCTION_ERROR_UNHANDLED


def _reset_body(function: str | None, wait: bool) -> bytes:
    return json.dumps({"function": function, "wait": wait}).encode()


class InvokeClient:
    """A blocking client (httpx, kept-alive connections)."""

    def __init__(
        self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT_S, max_connections: int = 100
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
        )

    def invoke(self, name: str, payload: Any = None, **options: Any) -> InvokeResult:
        req = invoke_request(name, payload, **options)
        resp = self._http.post(req.path, content=req.body, headers=req.headers)
        return InvokeResult.from_response(resp)

    def reset(self, function: str | None = None, *, wait: bool = True) -> None:
        """Shut environments down (all, or one function's): the next invocations are cold.
        With `wait`, returns once they are gone."""
        resp = self._http.post(wire.CONTROL_RESET, content=_reset_body(function, wait))
        resp.raise_for_status()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InvokeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class AsyncInvokeClient:
    """The same, for asyncio code (tuning, the CLI's one-off invoke)."""

    def __init__(
        self, base_url: str, *, timeout: float = DEFAULT_TIMEOUT_S, max_connections: int = 100
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def invoke(self, name: str, payload: Any = None, **options: Any) -> InvokeResult:
        req = invoke_request(name, payload, **options)
        resp = await self._http.post(req.path, content=req.body, headers=req.headers)
        return InvokeResult.from_response(resp)

    async def reset(self, function: str | None = None, *, wait: bool = True) -> None:
        resp = await self._http.post(wire.CONTROL_RESET, content=_reset_body(function, wait))
        resp.raise_for_status()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncInvokeClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
