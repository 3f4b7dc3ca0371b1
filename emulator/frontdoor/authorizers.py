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
  ⚠ The whole token must match (Python's `re.fullmatch`; AWS's regex dialect is Java's).
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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from emulator.frontdoor.authorizer_events import (
    authorizer_event,
    execute_api_arn,
    identity_values,
)
from emulator.frontdoor.events import HttpRequest, Target
from emulator.frontdoor.model import ApiKind, Authorizer, HttpApi
from emulator.frontdoor.policy import PolicyError, Statement, Verdict, evaluate, parse_policy

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
FailureReason = Literal["unauthorized", "forbidden", "not_allowed", "authorizer_error"]


@dataclass(slots=True)
class Decision:
    """What the front door does with the request. "allow": invoke the route's function with
    `context` as its event's `requestContext.authorizer` (`Target.authorizer`). Otherwise answer
    `status` with `body` (JSON) and `headers`, API Gateway's own answer, byte for byte.
    `request_id` names the authorizer's invocation for the trace (None when none ran)."""

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
    # the same answer as `responses.failure`'s reason: "unauthorized", "forbidden" (REST: an
    # explicit Deny), "not_allowed" (REST: no statement allows), "authorizer_error"
    reason: FailureReason | None = None


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
        # BOTO identityValidationExpression; ⚠ the whole token must match
        pattern = authorizer.validation_regex if authorizer.kind == "token" else None
        if pattern:
            try:
                if re.fullmatch(pattern, values[0]) is None:
                    return _unauthorized(kind)
            except re.error:  # AWS refuses such an authorizer when it is created ⚠
                return _error(kind, None)

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


# --- answers --------------------------------------------------------------------------------


def _error_message(payload: bytes) -> str | None:
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    message = body.get("errorMessage") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None


def parse_answer(kind: ApiKind, authorizer: Authorizer, payload: bytes) -> _Answer:
    """The function's answer, validated as API Gateway does; `_Malformed` or `PolicyError`
    when API Gateway would answer 500."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError) as exc:
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
            reason="unauthorized",
        )
    return Decision(
        "unauthorized",
        request_id=request_id,
        status=401,
        body=_HTTP_UNAUTHORIZED,
        reason="unauthorized",
    )


def _forbidden(kind: ApiKind, verdict: Verdict, request_id: str | None) -> Decision:
    if kind == "rest":
        explicit = verdict == "explicit_deny"
        return Decision(
            "forbidden",
            request_id=request_id,
            status=403,
            body=_REST_EXPLICIT_DENY if explicit else _REST_IMPLICIT_DENY,
            headers=((ERROR_TYPE_HEADER, "AccessDeniedException"),),
            reason="forbidden" if explicit else "not_allowed",
        )
    return Decision(
        "forbidden", request_id=request_id, status=403, body=_HTTP_FORBIDDEN, reason="forbidden"
    )


def _error(kind: ApiKind, request_id: str | None) -> Decision:
    if kind == "rest":
        return Decision(
            "error",
            request_id=request_id,
            status=500,
            body=_REST_ERROR,
            headers=((ERROR_TYPE_HEADER, "AuthorizerConfigurationException"),),
            reason="authorizer_error",
        )
    return Decision(
        "error", request_id=request_id, status=500, body=_HTTP_ERROR, reason="authorizer_error"
    )


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
