"""Lambda authorizers (docs/frontdoor-authorizers.md): the event an authorizer function gets,
what its answer means, and API Gateway's result cache keyed by identity with a TTL.

Authorizer calls are real Lambda invocations through the injected `invoke` (the front door's
adapter to the registry: cold starts, REPORT, trace). The front door asks
`Authorizers.authorize` before invoking a route's function and gets a `Decision`: allow (with
the context for the integration's `requestContext.authorizer`), or the exact answer API
Gateway gives instead (status, body, headers).

What AWS does, and where each fact comes from (⚠ = guessed or weakly sourced)
-----------------------------------------------------------------------------
Sources: AG = awsdocs/amazon-api-gateway-developer-guide `doc_source/` (+ current
docs.aws.amazon.com text); PT = aws-powertools/powertools-lambda-typescript
`packages/parser/tests/events/` (events captured from real APIs, 2024-06); GO =
aws/aws-lambda-go `events/testdata/`; BOTO = botocore apigateway/apigatewayv2 models;
notes = /work/notes/apigw-spec.md §4–§5 (which cites further sources).

HTTP APIs (AG `http-api-lambda-authorizer.md`):
- Event 2.0: `version`, `type: "REQUEST"`, `routeArn`, `identitySource` (list of the values,
  in configured order), `routeKey`, `rawPath`, `rawQueryString`, `cookies`?, `headers`,
  `queryStringParameters`?, `requestContext` (no `authorizer`), `pathParameters`?,
  `stageVariables`?; no `body` or `isBase64Encoded` (PT `apigw-http/authorizer-request.json`).
- Event 1.0: `version: "1.0"`, `type: "REQUEST"`, `methodArn`, `identitySource` and
  `authorizationToken` (both the values comma-joined: "user1,123"), `resource`, `path`,
  `httpMethod`, `headers`, `queryStringParameters`, `pathParameters`, `stageVariables`,
  REST-style `requestContext` (AG; GO `apigw-v2-custom-authorizer-v1-request.json`).
  ⚠ `multiValueHeaders`/`multiValueQueryStringParameters` are sent too (AG's example omits
  them; floci-io/floci#1011 sends them).
- Answers: simple `{"isAuthorized": bool, "context": {...}}` (2.0 with EnableSimpleResponses),
  else an IAM policy `{"principalId", "policyDocument", "context"}` (AG). ⚠ With simple
  responses on, a policy answer is still honoured; without, `isAuthorized` is malformed.
  ⚠ A non-boolean `isAuthorized` is malformed (ministack).
- Identity sources `$request.header.X` (case-insensitive), `$request.querystring.X`
  (case-sensitive), `$context.X`, `$stageVariables.X`; one missing or empty → 401 without
  invoking (AG; BOTO apigatewayv2 `IdentitySource`).
- Cache: `authorizerResultTtlInSeconds` 0–3600, 0 off, needs ≥ 1 identity source; key = the
  identity values; shared by every route using the authorizer; a simple answer allows or
  denies every route for that key, a cached policy is evaluated again per routeArn (AG).
- Errors (notes §4.2): 401 `{"message":"Unauthorized"}`; ⚠ deny → 403 `{"message":"Forbidden"}`
  (ministack and other emulators; no AWS recording); function error, timeout, throttle or an
  invalid answer → 500 `{"message":"Internal Server Error"}` (AG troubleshooting section).
  ⚠ A function failing with "Unauthorized" is a 500 on HTTP APIs (only REST documents 401).
- Integration sees, payload 2.0: `requestContext.authorizer = {"lambda": context}`, `null`
  when the answer had no context (GO `apigw-v2-request-lambda-authorizer.json`; PT
  `apigw-http/lambda-authorizer-auth.json`; floci-io/floci#2652 checked against AWS). Context
  values pass through as JSON (AG's example has arrays and maps). ⚠ `principalId` of a policy
  answer is not added. ⚠ Payload 1.0 integrations of an HTTP API get the context flat (as the
  JWT authorizer's `claims` lose their `jwt` wrapper in 1.0), with `principalId` (policy
  answers) and `integrationLatency`, as REST does.

REST APIs (AG `apigateway-use-lambda-authorizer.md`, `api-gateway-lambda-authorizer-input.md`,
`-output.md`):
- TOKEN event `{"type": "TOKEN", "authorizationToken", "methodArn"}` (PT
  `apigw-rest/authorizer-token.json`); the token header missing or empty → 401; a token that
  does not match `identityValidationExpression` → 401, function not invoked (AG, BOTO).
- REQUEST event: `type`, `methodArn`, `resource`, `path`, `httpMethod`, `headers`,
  `multiValueHeaders`, `queryStringParameters`, `multiValueQueryStringParameters`,
  `pathParameters`, `stageVariables` — `{}` when empty, not null — and `requestContext` (PT
  `apigw-rest/authorizer-request.json`).
- methodArn/routeArn: `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}{path}`
  with the request's own path (`.../prod/POST/lambda-request`, PT); the ARN of a request to
  `/` ends in `/GET/` (AG). ⚠ Percent-encoding of the path is kept as sent.
- Answer: `principalId` (string), `policyDocument`, `context` whose values must be strings,
  numbers or booleans (objects/arrays → AuthorizerConfigurationException, 500; gist
  djm/15cf09b6…), optional `usageIdentifierKey` (ignored here).
- Policy: an explicit Deny matching methodArn → 403 `{"Message":"User is not authorized to
  access this resource with an explicit deny"}`; no Allow matching → 403
  `{"Message":"User is not authorized to access this resource"}`, both with
  `x-amzn-ErrorType: AccessDeniedException` (notes §4.1: loige.co 2023). ⚠ Since ~2025 the
  explicit-deny message may read "...with an explicit deny in an identity-based policy".
- The function fails with exactly "Unauthorized" → 401 `{"message":"Unauthorized"}`,
  UnauthorizedException; any other failure, an invalid answer or a throttle → 500
  `{"message": null}`, AuthorizerConfigurationException (notes §4.1; auth0-samples#6).
- Cache: TOKEN key = the token, REQUEST key = the identity values; the cached policy is
  evaluated again for each methodArn (serverless/serverless#6176). The TTL is the manifest's
  (REST's default of 300 s when unset is the manifest reader's to apply, BOTO).
- Integration sees `requestContext.authorizer = {"principalId", "integrationLatency": ms,
  **context}` (PT `apigw-rest/lambda-authorizer-auth.json`), context values stringified
  ("1", "true": AG `-output.md` example; gist above). ⚠ A cached answer reports
  `integrationLatency: 0`.

Not emulated: JWT and AWS_IAM authorizers, API keys/usage plans (`usageIdentifierKey`), the
8 KB answer limit and 10 s authorizer timeout (the function's own timeout applies), 414 for
ARNs over 1600 bytes, `Condition` and `NotResource`/`NotAction` in policies.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote

from emulator.frontdoor.events import HttpRequest, Target
from emulator.frontdoor.model import ApiKind, Authorizer, HttpApi, stable_id
from emulator.frontdoor.policy import PolicyError, Statement, Verdict, evaluate, parse_policy

DEFAULT_TOKEN_SOURCE = "method.request.header.Authorization"  # SAM's TOKEN default header
UNAUTHORIZED_MESSAGE = "Unauthorized"  # the error message that means 401 (REST)
MAX_TTL_S = 3600  # BOTO: authorizerResultTtlInSeconds ≤ 3600
_CACHE_PRUNE_AT = 10_000

# Wire bodies, byte for byte (see the module docstring for their sources).
_REST_UNAUTHORIZED = b'{"message":"Unauthorized"}'
_REST_EXPLICIT_DENY = (
    b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
)
_REST_IMPLICIT_DENY = b'{"Message":"User is not authorized to access this resource"}'
_REST_ERROR = b'{"message": null}'
_HTTP_UNAUTHORIZED = b'{"message":"Unauthorized"}'
_HTTP_FORBIDDEN = b'{"message":"Forbidden"}'
_HTTP_ERROR = b'{"message":"Internal Server Error"}'
ERROR_TYPE_HEADER = "x-amzn-ErrorType"


@dataclass(slots=True)
class CallResult:
    """One invocation of an authorizer function, as the front door ran it."""

    payload: bytes
    function_error: bool  # the authorizer raised, timed out or crashed
    request_id: str  # the Lambda request id
    throttled: bool = False


# invoke(function_name, payload) → CallResult: a real invocation through the registry
Invoke = Callable[[str, bytes], Awaitable[CallResult]]

Outcome = Literal["allow", "unauthorized", "forbidden", "error"]


@dataclass(slots=True)
class Decision:
    outcome: Outcome
    # what reaches the integration's requestContext.authorizer, shaped for its payload version
    context: Mapping[str, Any] | None = None
    request_id: str | None = None  # the authorizer invocation's Lambda request id (None: cached)
    cached: bool = False
    # API Gateway's answer when the outcome is not "allow" (JSON body; REST adds its
    # x-amzn-ErrorType header); 200/empty for "allow".
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    principal_id: str | None = None  # a policy answer's principalId


@dataclass(frozen=True, slots=True)
class _Answer:
    """An authorizer function's valid answer, as cached."""

    is_authorized: bool | None  # a simple answer; None for a policy answer
    statements: tuple[Statement, ...]
    principal_id: str | None
    context: Mapping[str, Any] | None


class _Malformed(ValueError):
    pass


class Authorizers:
    """The authorizers of every API, with their result caches. `clock` (seconds, monotonic) is
    injectable for TTL tests; `region` is used when the target's domain name does not carry
    one."""

    def __init__(
        self, invoke: Invoke, clock: Callable[[], float], *, region: str = "us-east-1"
    ) -> None:
        self.invoke = invoke
        self.clock = clock
        self.region = region
        self._cache: dict[tuple[str, ...], tuple[float, _Answer]] = {}

    def clear(self) -> None:
        """Forget every cached answer (the emulator's reset)."""
        self._cache.clear()

    async def authorize(
        self, api: HttpApi, authorizer: Authorizer, request: HttpRequest, target: Target
    ) -> Decision:
        kind = api.kind
        arn = execute_api_arn(self._region(target), target, request)
        values = identity_values(kind, authorizer, request, target)
        if values is None:
            return _unauthorized(kind)
        # API Gateway matches the whole token (BOTO: identityValidationExpression)
        pattern = authorizer.validation_regex if authorizer.kind == "token" else None
        if pattern and re.fullmatch(pattern, values[0]) is None:
            return _unauthorized(kind)

        ttl = min(max(authorizer.ttl_s, 0), MAX_TTL_S)
        key = (api.name, authorizer.name, *values) if ttl and values else None
        if key is not None:
            hit = self._cache.get(key)
            if hit is not None and self.clock() < hit[0]:
                return _decide(kind, authorizer, target, hit[1], arn, None, latency_ms=0)

        event = authorizer_event(kind, authorizer, request, target, arn, values)
        started = time.perf_counter()
        result = await self.invoke(authorizer.function, json.dumps(event).encode())
        latency_ms = round((time.perf_counter() - started) * 1000)
        if result.throttled:
            return _error(kind, result.request_id)
        if result.function_error:
            if kind == "rest" and _error_message(result.payload) == UNAUTHORIZED_MESSAGE:
                return _unauthorized(kind, result.request_id)
            return _error(kind, result.request_id)
        try:
            answer = parse_answer(kind, authorizer, result.payload)
        except (_Malformed, PolicyError):
            return _error(kind, result.request_id)
        if key is not None:
            if len(self._cache) >= _CACHE_PRUNE_AT:
                self._prune()
            self._cache[key] = (self.clock() + ttl, answer)
        return _decide(kind, authorizer, target, answer, arn, result.request_id, latency_ms)

    def _region(self, target: Target) -> str:
        # <apiId>.execute-api.<region>.amazonaws.com
        labels = target.domain_name.split(".")
        if len(labels) > 2 and labels[1] == "execute-api":
            return labels[2]
        return self.region

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, (expires, _) in self._cache.items() if expires <= now]:
            del self._cache[key]
        if len(self._cache) >= _CACHE_PRUNE_AT:
            self._cache.clear()


# --- identity -------------------------------------------------------------------------------


def identity_values(
    kind: ApiKind, authorizer: Authorizer, request: HttpRequest, target: Target
) -> list[str] | None:
    """The values of the authorizer's identity sources, in order; None when one is missing or
    empty (API Gateway then answers 401 without invoking the function). A TOKEN authorizer's
    one value is its token."""
    sources: Sequence[str] = authorizer.identity_sources
    if authorizer.kind == "token":
        sources = sources[:1] or (DEFAULT_TOKEN_SOURCE,)
    values = []
    for source in sources:
        value = _source_value(source, request, target)
        if not value:
            return None
        values.append(value)
    return values


def _source_value(source: str, request: HttpRequest, target: Target) -> str | None:
    # "$request.header.X" (HTTP), "method.request.header.X" (REST), "$context.X"/"context.X",
    # "$stageVariables.X"/"stageVariables.X"
    expr = source.strip().removeprefix("$").removeprefix("method.")
    if expr.startswith("request.header."):
        return header_value(request.headers, expr[len("request.header.") :])
    if expr.startswith("request.querystring."):
        return query_value(request.raw_query, expr[len("request.querystring.") :])
    if expr.startswith("stageVariables."):
        return target.stage_variables.get(expr[len("stageVariables.") :])
    if expr.startswith("context."):
        return _context_variables(request, target).get(expr[len("context.") :])
    return None


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """A header's value, names compared case-insensitively; repeats comma-joined."""
    wanted = name.lower()
    found = [v for k, v in headers if k.lower() == wanted]
    return ",".join(found) if found else None


def query_value(raw_query: str, name: str) -> str | None:
    """A query parameter's decoded value, names case-sensitive; repeats comma-joined."""
    found = [v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k == name]
    return ",".join(found) if found else None


def _context_variables(request: HttpRequest, target: Target) -> dict[str, str]:
    # the $context variables an identity source can name (AG http-api-logging-variables.md)
    return {
        "accountId": target.account_id,
        "apiId": target.api_id,
        "domainName": target.domain_name,
        "domainPrefix": _domain_prefix(target),
        "httpMethod": request.method,
        "http.method": request.method,
        "path": request.raw_path,
        "protocol": request.protocol,
        "requestId": target.request_id,
        "resourcePath": target.resource,
        "routeKey": target.route_key,
        "stage": target.stage,
        "identity.sourceIp": request.source_ip,
        "identity.userAgent": header_value(request.headers, "user-agent") or "",
    }


# --- events ---------------------------------------------------------------------------------


def execute_api_arn(region: str, target: Target, request: HttpRequest) -> str:
    """The methodArn/routeArn of this request: the request's own method and path."""
    path = request.raw_path if request.raw_path.startswith("/") else "/" + request.raw_path
    return (
        f"arn:aws:execute-api:{region}:{target.account_id}:"
        f"{target.api_id}/{target.stage}/{request.method}{path}"
    )


def authorizer_event(
    kind: ApiKind,
    authorizer: Authorizer,
    request: HttpRequest,
    target: Target,
    arn: str,
    values: Sequence[str],
) -> dict[str, Any]:
    """The event the authorizer function gets."""
    if kind == "rest":
        if authorizer.kind == "token":
            return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
        return {"type": "REQUEST", "methodArn": arn, **_v1_request(request, target, rest=True)}
    if authorizer.payload_version == "1.0":
        joined = ",".join(values)
        return {
            "version": "1.0",
            "type": "REQUEST",
            "methodArn": arn,
            "identitySource": joined,
            "authorizationToken": joined,
            **_v1_request(request, target, rest=False),
        }
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": arn,
        "identitySource": list(values),
        **_v2_request(request, target),
    }


def _v2_request(request: HttpRequest, target: Target) -> dict[str, Any]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            # HTTP APIs move cookies out of the headers (notes §1)
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    event: dict[str, Any] = {
        "routeKey": target.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _joined_query(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": target.account_id,
        "apiId": target.api_id,
        "domainName": target.domain_name,
        "domainPrefix": _domain_prefix(target),
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": header_value(request.headers, "user-agent") or "",
        },
        "requestId": target.request_id,
        "routeKey": target.route_key,
        "stage": target.stage,
        "time": _clf_time(request.time),
        "timeEpoch": int(request.time * 1000),
    }
    if target.path_parameters:
        event["pathParameters"] = dict(target.path_parameters)
    if target.stage_variables:
        event["stageVariables"] = dict(target.stage_variables)
    return event


def _v1_request(request: HttpRequest, target: Target, *, rest: bool) -> dict[str, Any]:
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value  # REST keeps the last of repeated headers (AG proxy docs)
        multi_headers.setdefault(name, []).append(value)
    pairs = parse_qsl(request.raw_query, keep_blank_values=True)
    query = {k: v for k, v in pairs}
    multi_query: dict[str, list[str]] = {}
    for k, v in pairs:
        multi_query.setdefault(k, []).append(v)
    path = _decoded_path(request.raw_path)
    stage_path = f"/{target.stage}{path}" if rest else path
    return {
        "resource": target.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(target.path_parameters),
        "stageVariables": dict(target.stage_variables),
        "requestContext": {
            "resourceId": stable_id("resource", target.api_id, target.resource, length=6),
            "resourcePath": target.resource,
            "httpMethod": request.method,
            "extendedRequestId": target.extended_request_id,
            "requestTime": _clf_time(request.time),
            "path": stage_path,
            "accountId": target.account_id,
            "protocol": request.protocol,
            "stage": target.stage,
            "domainPrefix": _domain_prefix(target),
            "requestTimeEpoch": int(request.time * 1000),
            "requestId": target.request_id,
            "identity": _v1_identity(request),
            "domainName": target.domain_name,
            "deploymentId": stable_id("deployment", target.api_id, length=6),
            "apiId": target.api_id,
        },
    }


def _v1_identity(request: HttpRequest) -> dict[str, Any]:
    # PT apigw-rest/authorizer-request.json: an unauthenticated caller's identity
    return {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": header_value(request.headers, "user-agent"),
        "user": None,
    }


def _joined_query(raw_query: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        out[k] = f"{out[k]},{v}" if k in out else v
    return out


def _decoded_path(raw_path: str) -> str:
    return unquote(raw_path)


def _domain_prefix(target: Target) -> str:
    return target.domain_name.split(".", 1)[0]


def _clf_time(epoch_s: float) -> str:
    # "17/Jun/2024:15:52:39 +0000" (PT); month names in English whatever the locale
    t = datetime.fromtimestamp(epoch_s, tz=UTC)
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{t.day:02d}/{month[t.month - 1]}/{t.year}:{t:%H:%M:%S} +0000"


# --- answers --------------------------------------------------------------------------------


def _error_message(payload: bytes) -> str | None:
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    message = body.get("errorMessage") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def parse_answer(kind: ApiKind, authorizer: Authorizer, payload: bytes) -> _Answer:
    """The function's answer, validated as API Gateway does; `_Malformed` or `PolicyError`
    when API Gateway would answer 500."""
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise _Malformed("not JSON") from exc
    if not isinstance(body, dict):
        raise _Malformed("not an object")
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise _Malformed("context is not an object")
    simple = kind == "http" and authorizer.payload_version == "2.0" and authorizer.simple_responses
    if simple and "isAuthorized" in body:
        if not isinstance(body["isAuthorized"], bool):
            raise _Malformed("isAuthorized is not a boolean")
        return _Answer(body["isAuthorized"], (), None, context)
    statements = parse_policy(body.get("policyDocument"))
    principal = body.get("principalId")
    if kind == "rest":
        if not isinstance(principal, str):
            raise _Malformed("principalId is not a string")
        if context is not None and any(isinstance(v, (dict, list)) for v in context.values()):
            raise _Malformed("context values must be strings, numbers or booleans")
    elif principal is not None and not isinstance(principal, str):
        raise _Malformed("principalId is not a string")
    return _Answer(None, statements, principal, context)


def _decide(
    kind: ApiKind,
    authorizer: Authorizer,
    target: Target,
    answer: _Answer,
    arn: str,
    request_id: str | None,
    latency_ms: int,
) -> Decision:
    cached = request_id is None
    verdict: Verdict
    if answer.is_authorized is not None:
        verdict = "allow" if answer.is_authorized else "implicit_deny"
    else:
        verdict = evaluate(answer.statements, arn)
    if verdict != "allow":
        decision = _forbidden(kind, verdict, request_id)
        decision.cached = cached
        decision.principal_id = answer.principal_id
        return decision
    return Decision(
        "allow",
        context=integration_context(kind, target, answer, latency_ms),
        request_id=request_id,
        cached=cached,
        principal_id=answer.principal_id,
    )


def integration_context(
    kind: ApiKind, target: Target, answer: _Answer, latency_ms: int
) -> dict[str, Any]:
    """`requestContext.authorizer` of the integration's event."""
    context = dict(answer.context) if answer.context is not None else None
    if target.payload_version == "2.0":
        return {"lambda": context}
    out: dict[str, Any] = {}
    if answer.principal_id is not None:
        out["principalId"] = answer.principal_id
    out["integrationLatency"] = latency_ms
    for key, value in (context or {}).items():
        if key in ("principalId", "integrationLatency"):
            continue  # ⚠ API Gateway's own keys win
        out[key] = _stringified(value) if kind == "rest" else value
    return out


def _stringified(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


# --- API Gateway's answers ------------------------------------------------------------------


def _unauthorized(kind: ApiKind, request_id: str | None = None) -> Decision:
    if kind == "rest":
        return Decision(
            "unauthorized",
            request_id=request_id,
            status=401,
            body=_REST_UNAUTHORIZED,
            headers=((ERROR_TYPE_HEADER, "UnauthorizedException"),),
        )
    return Decision("unauthorized", request_id=request_id, status=401, body=_HTTP_UNAUTHORIZED)


def _forbidden(kind: ApiKind, verdict: Verdict, request_id: str | None) -> Decision:
    if kind == "rest":
        body = _REST_EXPLICIT_DENY if verdict == "explicit_deny" else _REST_IMPLICIT_DENY
        return Decision(
            "forbidden",
            request_id=request_id,
            status=403,
            body=body,
            headers=((ERROR_TYPE_HEADER, "AccessDeniedException"),),
        )
    return Decision("forbidden", request_id=request_id, status=403, body=_HTTP_FORBIDDEN)


def _error(kind: ApiKind, request_id: str | None) -> Decision:
    if kind == "rest":
        return Decision(
            "error",
            request_id=request_id,
            status=500,
            body=_REST_ERROR,
            headers=((ERROR_TYPE_HEADER, "AuthorizerConfigurationException"),),
        )
    return Decision("error", request_id=request_id, status=500, body=_HTTP_ERROR)


__all__ = [
    "Authorizers",
    "CallResult",
    "Decision",
    "Invoke",
    "authorizer_event",
    "execute_api_arn",
    "identity_values",
    "integration_context",
    "parse_answer",
]
