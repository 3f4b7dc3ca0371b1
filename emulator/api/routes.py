"""The one route table: every HTTP surface the emulator serves, and the router built from it.

A row names the listener that serves it, the method (`*`: any), the path template (`{Name}`
matches one segment, `{Name+}` the rest of the path), and the surface and action that answer.
A listener's router binds each row's action to the surface object it is given, so a surface is
one module with handler methods plus its rows here; handlers read path parameters from
`request.params` and raise the errors of their listener (`ServiceError`, `RuntimeApiError`),
which the router renders.

Listeners:
- `invoke`: the Invoke API's port (9000): Lambda's Invoke API, its control plane (CreateFunction
  and friends) and the emulator's own control API.
- `runtime`: one listener per execution environment (`AWS_LAMBDA_RUNTIME_API`): the Runtime,
  Extensions and Telemetry APIs of that environment only.
- `api`: the HTTP front door's API Gateway listener (`--api-port`, 3000): every path and
  method goes to the front door, which routes by the manifest's APIs (emulator/frontdoor/).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

from emulator import errors, wire
from emulator.api import responses
from emulator.httpserver import Handler, Reply, Request, Response, Result


@dataclass(frozen=True, slots=True)
class Route:
    listener: str
    method: str
    template: str
    surface: str
    action: str


_RUNTIME = wire.RUNTIME_PREFIX
_EXTENSION = "/2020-01-01/extension"

ROUTES: Final[tuple[Route, ...]] = (
    # Invoke API 2015-03-31 (emulator/api/invoke.py)
    Route("invoke", "POST", "/2015-03-31/functions/{FunctionName}/invocations", "invoke", "invoke"),
    Route(
        "invoke",
        "POST",
        "/2014-11-13/functions/{FunctionName}/invoke-async",
        "invoke",
        "invoke_async",
    ),
    # InvokeWithResponseStream 2021-11-15 (emulator/api/invoke_stream.py)
    Route("invoke", "POST", wire.INVOKE_STREAM_PATH, "invoke_stream", "invoke"),
    # the Lambda control plane (emulator/controlplane/): *_api.py
    Route("invoke", "POST", "/2015-03-31/functions", "functions", "create_function"),
    Route("invoke", "GET", "/2015-03-31/functions", "functions", "list_functions"),
    Route("invoke", "GET", "/2015-03-31/functions/{FunctionName}", "functions", "get_function"),
    Route(
        "invoke",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}",
        "functions",
        "delete_function",
    ),
    Route(
        "invoke",
        "GET",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "functions",
        "get_function_configuration",
    ),
    Route(
        "invoke",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/configuration",
        "functions",
        "update_function_configuration",
    ),
    Route(
        "invoke",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/code",
        "functions",
        "update_function_code",
    ),
    Route(
        "invoke",
        "POST",
        "/2015-03-31/functions/{FunctionName}/versions",
        "functions",
        "publish_version",
    ),
    Route(
        "invoke",
        "GET",
        "/2015-03-31/functions/{FunctionName}/versions",
        "functions",
        "list_versions",
    ),
    Route(
        "invoke",
        "POST",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "aliases",
        "create_alias",
    ),
    Route(
        "invoke",
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases",
        "aliases",
        "list_aliases",
    ),
    Route(
        "invoke",
        "GET",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "aliases",
        "get_alias",
    ),
    Route(
        "invoke",
        "PUT",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "aliases",
        "update_alias",
    ),
    Route(
        "invoke",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/aliases/{Name}",
        "aliases",
        "delete_alias",
    ),
    Route(
        "invoke",
        "POST",
        "/2015-03-31/functions/{FunctionName}/policy",
        "policy",
        "add_permission",
    ),
    Route(
        "invoke",
        "GET",
        "/2015-03-31/functions/{FunctionName}/policy",
        "policy",
        "get_policy",
    ),
    Route(
        "invoke",
        "DELETE",
        "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",
        "policy",
        "remove_permission",
    ),
    Route(
        "invoke",
        "PUT",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "settings",
        "put_concurrency",
    ),
    Route(
        "invoke",
        "DELETE",
        "/2017-10-31/functions/{FunctionName}/concurrency",
        "settings",
        "delete_concurrency",
    ),
    Route(
        "invoke",
        "GET",
        "/2019-09-30/functions/{FunctionName}/concurrency",
        "settings",
        "get_concurrency",
    ),
    Route(
        "invoke",
        "PUT",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "settings",
        "put_provisioned",
    ),
    Route(
        "invoke",
        "GET",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "settings",
        "get_provisioned",
    ),
    Route(
        "invoke",
        "DELETE",
        "/2019-09-30/functions/{FunctionName}/provisioned-concurrency",
        "settings",
        "delete_provisioned",
    ),
    Route(
        "invoke",
        "PUT",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "settings",
        "put_event_invoke",
    ),
    Route(
        "invoke",
        "POST",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "settings",
        "update_event_invoke",
    ),
    Route(
        "invoke",
        "GET",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "settings",
        "get_event_invoke",
    ),
    Route(
        "invoke",
        "DELETE",
        "/2019-09-25/functions/{FunctionName}/event-invoke-config",
        "settings",
        "delete_event_invoke",
    ),
    Route(
        "invoke", "POST", "/2021-10-31/functions/{FunctionName}/url", "url_configs", "create_url"
    ),
    Route("invoke", "GET", "/2021-10-31/functions/{FunctionName}/url", "url_configs", "get_url"),
    Route("invoke", "PUT", "/2021-10-31/functions/{FunctionName}/url", "url_configs", "update_url"),
    Route(
        "invoke",
        "DELETE",
        "/2021-10-31/functions/{FunctionName}/url",
        "url_configs",
        "delete_url",
    ),
    Route("invoke", "GET", "/2016-08-19/account-settings", "settings", "account_settings"),
    Route("invoke", "GET", "/2017-03-31/tags/{Resource}", "policy", "list_tags"),
    Route("invoke", "POST", "/2017-03-31/tags/{Resource}", "policy", "tag_resource"),
    Route("invoke", "DELETE", "/2017-03-31/tags/{Resource}", "policy", "untag_resource"),
    # the emulator's own API (emulator/api/control.py)
    Route("invoke", "GET", wire.CONTROL_HEALTH, "control", "health"),
    Route("invoke", "GET", wire.CONTROL_FUNCTIONS, "control", "functions"),
    Route("invoke", "GET", wire.CONTROL_ENVIRONMENTS, "control", "environments"),
    Route("invoke", "POST", wire.CONTROL_RESET, "control", "reset"),
    Route("invoke", "GET", wire.METRICS_PATH, "control", "metrics"),
    # function URLs, cargo-lambda's convention: /lambda-url/<FunctionName>/<path>, any method
    # (emulator/frontdoor/server.py); the trailing-slash row keeps `/` as the rawPath
    Route("invoke", "*", f"{wire.LAMBDA_URL_PREFIX}/{{FunctionName}}", "urls", "url"),
    Route("invoke", "*", f"{wire.LAMBDA_URL_PREFIX}/{{FunctionName}}/", "urls", "url"),
    Route("invoke", "*", f"{wire.LAMBDA_URL_PREFIX}/{{FunctionName}}/{{Rest+}}", "urls", "url"),
    # Runtime API 2018-06-01, one listener per environment (emulator/api/runtime.py)
    Route("runtime", "GET", f"{_RUNTIME}/invocation/next", "runtime", "next"),
    Route(
        "runtime", "POST", f"{_RUNTIME}/invocation/{{RequestId}}/response", "runtime", "response"
    ),
    Route("runtime", "POST", f"{_RUNTIME}/invocation/{{RequestId}}/error", "runtime", "error"),
    Route("runtime", "POST", f"{_RUNTIME}/init/error", "runtime", "init_error"),
    # Extensions API 2020-01-01, Telemetry API 2022-07-01, Logs API 2020-08-15, on the same
    # listener (emulator/api/extensions.py)
    Route("runtime", "POST", f"{_EXTENSION}/register", "extensions", "register"),
    Route("runtime", "GET", f"{_EXTENSION}/event/next", "extensions", "next"),
    Route("runtime", "POST", f"{_EXTENSION}/init/error", "extensions", "init_error"),
    Route("runtime", "POST", f"{_EXTENSION}/exit/error", "extensions", "exit_error"),
    Route("runtime", "PUT", "/2022-07-01/telemetry", "extensions", "subscribe_telemetry"),
    Route("runtime", "PUT", "/2020-08-15/logs", "extensions", "subscribe_logs"),
    # anything else under these versions: 404 with no body, as RIE answers
    Route("runtime", "*", "/2020-01-01/{Rest+}", "extensions", "unknown"),
    Route("runtime", "*", "/2022-07-01/{Rest+}", "extensions", "unknown"),
    Route("runtime", "*", "/2020-08-15/{Rest+}", "extensions", "unknown"),
    # API Gateway's routes, every API of the manifest, without a stage prefix as `sam local
    # start-api` serves them (emulator/frontdoor/server.py routes them itself)
    Route("api", "*", "/", "apis", "api"),
    Route("api", "*", "/{Rest+}", "apis", "api"),
)


@dataclass(frozen=True, slots=True)
class Fallbacks:
    """What a listener answers when no row serves a request, and how it renders the errors
    its handlers raise."""

    not_found: Callable[[Request], Response]
    method_not_allowed: Callable[[Request], Response]


FALLBACKS: Final[dict[str, Fallbacks]] = {
    "invoke": Fallbacks(responses.unknown_operation, responses.unknown_operation),
    "runtime": Fallbacks(responses.runtime_not_found, responses.runtime_method_not_allowed),
    # never reached while the two catch-all rows stand: the front door answers every path
    "api": Fallbacks(responses.api_not_found, responses.api_not_found),
}

_PARAM = re.compile(r"\{(\w+)(\+?)\}")


def compile_template(template: str) -> re.Pattern[str] | None:
    """A regex for a template with parameters; None for a static path."""
    if "{" not in template:
        return None
    out, at = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[at : m.start()]))
        out.append(f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})")
        at = m.end()
    out.append(re.escape(template[at:]))
    return re.compile("".join(out))


@dataclass(frozen=True, slots=True)
class _Bound:
    method: str
    pattern: re.Pattern[str] | None
    template: str
    handler: Handler


class Router:
    """The handler of one listener: matches a request against that listener's rows in table
    order; a path some row serves with another method is 405 (or the listener's own answer)."""

    def __init__(
        self,
        listener: str,
        surfaces: Mapping[str, object],
        *,
        routes: tuple[Route, ...] = ROUTES,
        fallbacks: Fallbacks | None = None,
    ) -> None:
        self.listener = listener
        self.fallbacks = fallbacks if fallbacks is not None else FALLBACKS[listener]
        self._static: dict[str, dict[str, Handler]] = {}
        self._patterns: list[_Bound] = []
        for row in routes:
            if row.listener != listener or row.surface not in surfaces:
                continue
            handler: Handler = getattr(surfaces[row.surface], row.action)
            pattern = compile_template(row.template)
            if pattern is None:
                self._static.setdefault(row.template, {})[row.method] = handler
            else:
                self._patterns.append(_Bound(row.method, pattern, row.template, handler))

    def match(self, request: Request) -> Handler | None:
        """The handler for `request` (its path parameters set), or None (no path matched);
        raises `_WrongMethod` when a path matched with another method only."""
        path, method = request.path, request.method
        wrong_method = False
        by_method = self._static.get(path)
        if by_method is not None:
            handler = by_method.get(method) or by_method.get("*")
            if handler is not None:
                return handler
            wrong_method = True
        for bound in self._patterns:
            assert bound.pattern is not None
            m = bound.pattern.fullmatch(path)
            if m is None:
                continue
            if bound.method not in (method, "*"):
                wrong_method = True
                continue
            request.params = m.groupdict()
            return bound.handler
        if wrong_method:
            raise _WrongMethod
        return None

    def __call__(self, request: Request) -> Result:
        try:
            try:
                handler = self.match(request)
                if handler is None and len(request.path) > 1 and request.path.endswith("/"):
                    request.path = request.path.rstrip("/")  # `/_emu/health/` as well
                    handler = self.match(request)
            except _WrongMethod:
                return self.fallbacks.method_not_allowed(request)
            if handler is None:
                return self.fallbacks.not_found(request)
            result = handler(request)
        except errors.LambdaEmuError as exc:
            return _rendered(exc)
        if isinstance(result, (Response, Reply)):
            return result
        return _rendering(result)


def _rendered(exc: errors.LambdaEmuError) -> Response:
    if isinstance(exc, errors.ServiceError):
        return responses.service_error(exc)
    if isinstance(exc, errors.RuntimeApiError):
        return responses.runtime_error(exc)
    raise exc


async def _rendering(pending: Awaitable[Response]) -> Response:
    """An async handler's errors, rendered like a synchronous one's."""
    try:
        return await pending
    except errors.LambdaEmuError as exc:
        return _rendered(exc)


class _WrongMethod(Exception):
    pass


def routes_of(listener: str) -> list[tuple[str, str, str]]:
    """(method, template, surface) of a listener's rows: for docs and the start line."""
    return [(r.method, r.template, r.surface) for r in ROUTES if r.listener == listener]
