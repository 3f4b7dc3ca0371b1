"""Lambda authorizers (emulator/frontdoor/authorizers.py): allow, deny, 401, 500, the result
cache and the context each integration sees.

The authorizer is the sample `functions/http_authorizer`, really invoked through a running
emulator's Invoke API (no mock on the invocation path); only the cache's clock is faked.
Expected values name their AWS source (the keys are explained in the module's docstring):
AG = API Gateway developer guide, PT = events Powertools captured from real APIs,
GO = aws-lambda-go's test events, notes = /work/notes/apigw-spec.md §4–§5; ⚠ = a guess.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import pytest

from emulator.client import AsyncInvokeClient
from emulator.config import EmulatorConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.authorizers import (
    Authorizers,
    CallResult,
    Decision,
    authorizer_event,
    execute_api_arn,
    identity_values,
)
from emulator.frontdoor.events import HttpRequest, Target
from emulator.frontdoor.model import Authorizer, HttpApi, PayloadVersion
from emulator.frontdoor.policy import evaluate, parse_policy
from emulator.manifests import load_manifest

SAMPLES = Path(__file__).resolve().parent.parent / "functions" / "lambda-emu.toml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
# what functions/http_authorizer puts in its answers' context
CONTEXT = {"user": "alice", "level": 1, "beta": True}

_T = TypeVar("_T")


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmbeddedEmulator]:
    (sample,) = [fn for fn in load_manifest(SAMPLES) if fn.name == "http_authorizer"]
    iam = replace(
        sample, name="http_authorizer_iam", environment=MappingProxyType({"RESPONSE_TYPE": "iam"})
    )
    cfg = EmulatorConfig(
        functions=(sample, iam),
        port=0,
        state_dir=Path(tempfile.mkdtemp(prefix="lambda-emu-auth-")),
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as running:
        yield running
    assert running.internal_errors == []


class InvokeApi:
    """The `invoke` of `Authorizers`: a real invocation through the emulator's Invoke API.
    Counts calls and keeps the events sent, so a test sees when the function was not called."""

    def __init__(self, client: AsyncInvokeClient) -> None:
        self.client = client
        self.events: list[dict[str, Any]] = []

    async def __call__(self, function: str, payload: bytes) -> CallResult:
        self.events.append(json.loads(payload))
        result = await self.client.invoke(function, raw=payload, log_tail=False)
        return CallResult(
            payload=result.payload,
            function_error=result.function_error is not None,
            request_id=result.request_id,
            throttled=result.status == 429,
        )


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def http_api(kind: str = "http") -> HttpApi:
    return HttpApi(name="SampleApi", kind="rest" if kind == "rest" else "http")


def request(
    path: str = "/items/42",
    *,
    method: str = "GET",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
    authorization: str | None = "allow",
) -> HttpRequest:
    head = [("Host", "localhost:3000"), ("User-Agent", "curl/8.5.0")]
    if authorization is not None:
        head.append(("Authorization", authorization))
    return HttpRequest(
        method=method,
        raw_path=path,
        raw_query=query,
        headers=head + (headers or []),
        body=b"",
        source_ip="127.0.0.1",
        time=1718639559.080,
    )


def target(
    payload_version: PayloadVersion = "2.0",
    *,
    route_key: str = "GET /items/{id}",
    stage: str = "$default",
    rest: bool = False,
) -> Target:
    return Target(
        payload_version=payload_version,
        route_key=route_key,
        resource="/items/{id}",
        api_id="lsw1ro4ipb",
        domain_name=f"lsw1ro4ipb.execute-api.{REGION}.amazonaws.com",
        stage=stage,
        request_id="ZhNHJhhLjoEEPiw=",
        account_id=ACCOUNT,
        path_parameters={"id": "42"},
        is_rest=rest,
    )


HTTP_SIMPLE = Authorizer(
    name="Simple",
    function="http_authorizer",
    simple_responses=True,
    identity_sources=("$request.header.Authorization",),
)
HTTP_IAM = Authorizer(
    name="Iam", function="http_authorizer_iam", identity_sources=("$request.header.Authorization",)
)
HTTP_V1 = Authorizer(
    name="V1",
    function="http_authorizer",
    payload_version="1.0",
    identity_sources=("$request.header.Authorization",),
)
REST_TOKEN = Authorizer(
    name="Token",
    function="http_authorizer",
    kind="token",
    identity_sources=("method.request.header.Authorization",),
)
REST_REQUEST = Authorizer(
    name="Request",
    function="http_authorizer",
    kind="request",
    identity_sources=("method.request.header.Authorization",),
)


def run(emulator: EmbeddedEmulator, body: Any) -> Any:
    """Run `body(authorizers, invoke, clock)` on a fresh event loop."""

    async def main() -> Any:
        async with AsyncInvokeClient(emulator.url) as client:
            invoke = InvokeApi(client)
            clock = FakeClock()
            return await body(Authorizers(invoke, clock), invoke, clock)

    return _run(main())


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    return asyncio.run(coro)


def authorize(
    emulator: EmbeddedEmulator,
    kind: str,
    authorizer: Authorizer,
    req: HttpRequest,
    tgt: Target,
) -> tuple[Decision, list[dict[str, Any]]]:
    async def body(auth: Authorizers, invoke: InvokeApi, _clock: FakeClock) -> Any:
        return await auth.authorize(http_api(kind), authorizer, req, tgt), invoke.events

    result: tuple[Decision, list[dict[str, Any]]] = run(emulator, body)
    return result


# --- HTTP APIs ------------------------------------------------------------------------------


def test_http_simple_allow_gives_the_2_0_integration_its_context(
    emulator: EmbeddedEmulator,
) -> None:
    decision, events = authorize(emulator, "http", HTTP_SIMPLE, request(), target())
    assert decision.outcome == "allow"
    # GO apigw-v2-request-lambda-authorizer.json; floci-io/floci#2652 (checked against AWS)
    assert decision.context == {"lambda": CONTEXT}
    assert decision.request_id and not decision.cached
    assert len(events) == 1 and events[0]["identitySource"] == ["allow"]


def test_http_simple_deny_is_403_forbidden(emulator: EmbeddedEmulator) -> None:
    decision, _ = authorize(emulator, "http", HTTP_SIMPLE, request(authorization="deny"), target())
    assert decision.outcome == "forbidden"
    # ⚠ notes §4.2: {"message":"Forbidden"} from emulators, no AWS recording
    assert (decision.status, decision.body) == (403, b'{"message":"Forbidden"}')
    assert decision.request_id


def test_http_missing_identity_is_401_without_a_call(emulator: EmbeddedEmulator) -> None:
    for req in (request(authorization=None), request(authorization="")):
        decision, events = authorize(emulator, "http", HTTP_SIMPLE, req, target())
        # AG http-api-lambda-authorizer.md "Identity sources"; BOTO apigatewayv2 IdentitySource
        assert (decision.outcome, decision.status) == ("unauthorized", 401)
        assert decision.body == b'{"message":"Unauthorized"}'
        assert events == [] and decision.request_id is None


def test_http_iam_policy_allow_and_deny(emulator: EmbeddedEmulator) -> None:
    allowed, _ = authorize(emulator, "http", HTTP_IAM, request(), target())
    assert allowed.outcome == "allow"
    assert allowed.context == {"lambda": CONTEXT}  # ⚠ principalId not added for 2.0
    assert allowed.principal_id == "alice"
    denied, _ = authorize(emulator, "http", HTTP_IAM, request(authorization="deny"), target())
    assert (denied.outcome, denied.status) == ("forbidden", 403)


def test_http_simple_answers_are_malformed_without_simple_responses(
    emulator: EmbeddedEmulator,
) -> None:
    # ⚠ AG: simple answers need EnableSimpleResponses; otherwise the answer is invalid → 500
    no_simple = replace(HTTP_SIMPLE, simple_responses=False)
    decision, _ = authorize(emulator, "http", no_simple, request(), target())
    assert (decision.outcome, decision.status) == ("error", 500)


def test_http_v1_authorizer_and_a_1_0_integration(emulator: EmbeddedEmulator) -> None:
    decision, events = authorize(emulator, "http", HTTP_V1, request(), target("1.0"))
    assert decision.outcome == "allow"
    # AG / GO apigw-v2-custom-authorizer-v1-request.json: comma-joined identity, methodArn
    assert events[0]["identitySource"] == events[0]["authorizationToken"] == "allow"
    assert events[0]["methodArn"].endswith("lsw1ro4ipb/$default/GET/items/42")
    assert list(events[0])[:5] == [
        "version",
        "type",
        "methodArn",
        "identitySource",
        "authorizationToken",
    ]
    assert {"resource", "path", "httpMethod", "headers", "requestContext"} <= set(events[0])
    assert "body" not in events[0] and "authorizer" not in events[0]["requestContext"]
    assert events[0]["stageVariables"] == {}  # AG's example: {} when empty ⚠
    # ⚠ 1.0 integrations of HTTP APIs: flat context with principalId and integrationLatency
    assert decision.context is not None
    assert {k: v for k, v in decision.context.items() if k != "integrationLatency"} == {
        "principalId": "alice",
        **CONTEXT,
    }
    assert isinstance(decision.context["integrationLatency"], int)


def test_http_errors_are_500(emulator: EmbeddedEmulator) -> None:
    for token in ("crash", "garbage"):
        decision, _ = authorize(
            emulator, "http", HTTP_SIMPLE, request(authorization=token), target()
        )
        # AG http-api-lambda-authorizer.md "Troubleshooting": invalid answer / failure → 500
        assert (decision.outcome, decision.status) == ("error", 500)
        assert decision.body == b'{"message":"Internal Server Error"}'
        assert decision.request_id


# --- REST APIs ------------------------------------------------------------------------------


def test_rest_token_allow_flattens_and_stringifies_the_context(
    emulator: EmbeddedEmulator,
) -> None:
    decision, events = authorize(
        emulator, "rest", REST_TOKEN, request(), target("1.0", stage="prod", rest=True)
    )
    # PT apigw-rest/authorizer-token.json
    assert events == [
        {
            "type": "TOKEN",
            "authorizationToken": "allow",
            "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:lsw1ro4ipb/prod/GET/items/42",
        }
    ]
    assert decision.outcome == "allow"
    # PT apigw-rest/lambda-authorizer-auth.json (principalId, integrationLatency, context);
    # AG api-gateway-lambda-authorizer-output.md: values stringified ("1", "true")
    assert decision.context is not None
    latency = decision.context["integrationLatency"]
    assert isinstance(latency, int) and latency >= 0
    assert dict(decision.context) == {
        "principalId": "alice",
        "integrationLatency": latency,
        "user": "alice",
        "level": "1",
        "beta": "true",
    }


def test_rest_explicit_deny_is_403_with_aws_message(emulator: EmbeddedEmulator) -> None:
    decision, _ = authorize(
        emulator, "rest", REST_TOKEN, request(authorization="deny"), target("1.0", rest=True)
    )
    # notes §4.1 (loige.co 2023): capital M, AccessDeniedException
    assert (decision.outcome, decision.status) == ("forbidden", 403)
    assert decision.body == (
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
    )
    assert decision.headers == (("x-amzn-ErrorType", "AccessDeniedException"),)
    assert decision.reason == "forbidden"


def test_rest_unauthorized_error_is_401(emulator: EmbeddedEmulator) -> None:
    decision, events = authorize(
        emulator, "rest", REST_TOKEN, request(authorization="nobody"), target("1.0", rest=True)
    )
    # AG apigateway-use-lambda-authorizer.md: the function fails with "Unauthorized" → 401
    assert len(events) == 1 and decision.request_id
    assert (decision.outcome, decision.status) == ("unauthorized", 401)
    assert decision.body == b'{"message":"Unauthorized"}'
    assert decision.headers == (("x-amzn-ErrorType", "UnauthorizedException"),)


def test_rest_token_regex_mismatch_is_401_without_a_call(emulator: EmbeddedEmulator) -> None:
    strict = replace(REST_TOKEN, validation_regex="^allow$")
    decision, events = authorize(
        emulator, "rest", strict, request(authorization="allowed"), target("1.0", rest=True)
    )
    # AG / BOTO identityValidationExpression: mismatch → 401, function not invoked
    assert (decision.outcome, decision.status, events) == ("unauthorized", 401, [])
    decision, events = authorize(emulator, "rest", strict, request(), target("1.0", rest=True))
    assert decision.outcome == "allow" and len(events) == 1


def test_rest_errors_are_500(emulator: EmbeddedEmulator) -> None:
    for token in ("crash", "garbage"):
        decision, _ = authorize(
            emulator, "rest", REST_TOKEN, request(authorization=token), target("1.0", rest=True)
        )
        # notes §4.1 (auth0-samples#6): AuthorizerConfigurationException, {"message": null} ⚠
        assert (decision.outcome, decision.status) == ("error", 500)
        assert decision.body == b'{"message": null}'
        assert decision.headers == (("x-amzn-ErrorType", "AuthorizerConfigurationException"),)


def test_rest_request_authorizer_event(emulator: EmbeddedEmulator) -> None:
    decision, events = authorize(
        emulator,
        "rest",
        REST_REQUEST,
        request(query="a=1&a=2"),
        target("1.0", stage="prod", rest=True),
    )
    assert decision.outcome == "allow"
    (event,) = events
    # PT apigw-rest/authorizer-request.json: the proxy request's fields, no body
    assert event["type"] == "REQUEST"
    assert event["methodArn"].endswith(":lsw1ro4ipb/prod/GET/items/42")
    assert set(event) == {
        "type",
        "methodArn",
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "requestContext",
    }
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["stageVariables"] == {}  # PT: {} when empty, not null
    assert event["requestContext"]["path"] == "/prod/items/42"
    assert "authorizer" not in event["requestContext"]


# --- the cache ------------------------------------------------------------------------------


def test_cache_hits_within_ttl_keyed_by_identity(emulator: EmbeddedEmulator) -> None:
    cached = replace(HTTP_SIMPLE, ttl_s=300)

    async def body(auth: Authorizers, invoke: InvokeApi, clock: FakeClock) -> None:
        api = http_api()
        first = await auth.authorize(api, cached, request(), target())
        assert not first.cached and first.request_id
        # AG "Caching authorizer responses": same identity within the TTL → no invocation,
        # and the answer serves every route using the authorizer
        clock.now += 299
        again = await auth.authorize(api, cached, request("/other"), target(route_key="GET /other"))
        assert again.cached and again.request_id is None and len(invoke.events) == 1
        assert again.outcome == "allow" and again.context == {"lambda": CONTEXT}
        # another identity is another key
        other = await auth.authorize(api, cached, request(authorization="deny"), target())
        assert not other.cached and other.outcome == "forbidden" and len(invoke.events) == 2
        denied_again = await auth.authorize(api, cached, request(authorization="deny"), target())
        assert denied_again.cached and denied_again.outcome == "forbidden"
        # after the TTL the function is asked again
        clock.now += 2
        expired = await auth.authorize(api, cached, request(), target())
        assert not expired.cached and expired.request_id and len(invoke.events) == 3

    run(emulator, body)


def test_no_cache_when_ttl_is_zero(emulator: EmbeddedEmulator) -> None:
    async def body(auth: Authorizers, invoke: InvokeApi, _clock: FakeClock) -> None:
        for _ in range(3):
            decision = await auth.authorize(http_api(), HTTP_SIMPLE, request(), target())
            assert not decision.cached and decision.request_id
        assert len(invoke.events) == 3

    run(emulator, body)


def test_rest_cached_policy_is_evaluated_per_method(emulator: EmbeddedEmulator) -> None:
    cached = replace(REST_TOKEN, ttl_s=300)

    async def body(auth: Authorizers, invoke: InvokeApi, _clock: FakeClock) -> None:
        api = http_api("rest")
        tgt = target("1.0", rest=True)
        here = request(authorization="allow-here")
        assert (await auth.authorize(api, cached, here, tgt)).outcome == "allow"
        # serverless/serverless#6176: the cached policy allowed /items/42 only
        elsewhere = await auth.authorize(
            api, cached, request("/items/43", authorization="allow-here"), tgt
        )
        assert elsewhere.cached and elsewhere.outcome == "forbidden"
        assert elsewhere.body == b'{"Message":"User is not authorized to access this resource"}'
        assert elsewhere.reason == "not_allowed"
        again = await auth.authorize(api, cached, here, tgt)
        # ⚠ a cached answer reports integrationLatency 0
        assert again.cached and again.context is not None
        assert again.context["integrationLatency"] == 0
        assert len(invoke.events) == 1

    run(emulator, body)


# --- pure parts -----------------------------------------------------------------------------


def test_http_v2_authorizer_event_matches_the_recorded_shape() -> None:
    req = request("/lambda", method="POST", headers=[("Cookie", "a=1; b=2")])
    tgt = target(route_key="POST /lambda")
    tgt.path_parameters = {}
    arn = execute_api_arn(REGION, tgt, req)
    values = identity_values("http", HTTP_SIMPLE, req, tgt)
    assert values == ["allow"]
    event = authorizer_event("http", HTTP_SIMPLE, req, tgt, arn, values)
    # PT apigw-http/authorizer-request.json (values adapted); AG for cookies
    assert (
        event["routeArn"]
        == f"arn:aws:execute-api:{REGION}:{ACCOUNT}:lsw1ro4ipb/$default/POST/lambda"
    )
    assert list(event) == [
        "version",
        "type",
        "routeArn",
        "identitySource",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "headers",
        "requestContext",
    ]
    assert event["cookies"] == ["a=1", "b=2"]
    # the headers API Gateway adds, as in the recording (values describe the local listener)
    assert set(event["headers"]) == {
        "host",
        "user-agent",
        "authorization",
        "content-length",
        "x-amzn-trace-id",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
    }
    assert event["headers"]["authorization"] == "allow"
    assert event["requestContext"] == {
        "accountId": ACCOUNT,
        "apiId": "lsw1ro4ipb",
        "domainName": f"lsw1ro4ipb.execute-api.{REGION}.amazonaws.com",
        "domainPrefix": "lsw1ro4ipb",
        "http": {
            "method": "POST",
            "path": "/lambda",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "curl/8.5.0",
        },
        "requestId": "ZhNHJhhLjoEEPiw=",
        "routeKey": "POST /lambda",
        "stage": "$default",
        "time": "17/Jun/2024:15:52:39 +0000",
        "timeEpoch": 1718639559080,
    }


def test_identity_sources_of_every_kind() -> None:
    tgt = target()
    tgt.stage_variables = {"env": "dev"}
    auth = replace(
        HTTP_SIMPLE,
        identity_sources=(
            "$request.header.X-Key",
            "$request.querystring.tenant",
            "$stageVariables.env",
            "$context.routeKey",
        ),
    )
    req = request(query="tenant=a&tenant=b", headers=[("x-key", "k1"), ("X-KEY", "k2")])
    # AG: header names case-insensitive, repeats comma-joined ⚠; query names case-sensitive
    assert identity_values("http", auth, req, tgt) == ["k1,k2", "a,b", "dev", "GET /items/{id}"]
    assert identity_values("http", auth, request(query="Tenant=a"), tgt) is None


def test_policy_wildcards_and_explicit_deny() -> None:
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api/prod/GET/items/42"
    allow_all = parse_policy(
        {"Statement": {"Effect": "Allow", "Action": "execute-api:*", "Resource": "arn:*"}}
    )
    assert evaluate(allow_all, arn) == "allow"
    mixed = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["execute-api:Invoke"], "Resource": ["*"]},
                {
                    "Effect": "Deny",
                    "Action": "execute-api:Invoke",
                    "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:api/*/GET/items/4?",
                },
            ]
        }
    )
    # IAM evaluation: an explicit Deny wins over an Allow
    assert evaluate(mixed, arn) == "explicit_deny"
    assert evaluate(mixed, arn.replace("GET", "PUT")) == "allow"
    other = parse_policy(
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    )
    assert evaluate(other, arn) == "implicit_deny"
