"""Function results and failures → HTTP answers, as each service gives them
(docs/frontdoor-spec.md §3–§4). They differ between HTTP APIs, REST APIs and function URLs in
status, body and content type; every answer here cites the AWS recording it reproduces, ⚠
where none exists.

Pure functions returning `emulator.httpserver.Response`; the server adds nothing but CORS.
Every answer carries the service's request-id header(s) (`request_id_headers`).

    from_result   the function answered: payload 2.0 (HTTP API, function URL) or 1.0 (REST,
                  HTTP API 1.0) mapping; a malformed answer → the service's own error
    failure       no function result reaches the caller: errors, timeouts, throttles,
                  unknown routes, sizes, authorizers, SigV4
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from emulator.frontdoor.events import extended_request_id, is_binary_media
from emulator.frontdoor.model import PayloadVersion
from emulator.httpserver import Response

Service = Literal["http", "rest", "url"]

FailureReason = Literal[
    "function_error",  # the function raised / the runtime reported an error
    "timeout",  # the function timed out (Lambda's own timeout)
    "integration_timeout",  # API Gateway's 29 s (REST) / 30 s (HTTP API)
    "throttled",  # Lambda's TooManyRequestsException
    "no_route",  # no route matched (HTTP 404 Not Found, REST 403 Missing Auth Token)
    "no_url",  # a function with no URL, or no such function
    "too_large",  # request over the service's payload limit
    "response_too_large",  # function response over the limit
    "unauthorized",  # authorizer: identity missing (401)
    "forbidden",  # authorizer denied (403); REST: an explicit Deny
    "authorizer_error",  # authorizer failed or answered garbage (500)
    "signature",  # AWS_IAM function URL: missing/bad SigV4 (403)
    # Added by the events slice:
    "not_allowed",  # REST authorizer policy: no statement allows the method (403)
    "invoke_too_large",  # under the gateway's 10 MB but over Lambda's 6 MB invoke payload
]

# Limits (AG limits.md; Lambda quotas; docs/frontdoor-spec.md §6)
API_GATEWAY_PAYLOAD_BYTES = 10 * 1024 * 1024  # HTTP and REST APIs: 10 MB request
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invoke, request and response
REST_INTEGRATION_TIMEOUT_S = 29.0
HTTP_INTEGRATION_TIMEOUT_S = 30.0

JSON = "application/json"
# HTTP API (payload 2.0 and 1.0): a structured response (with `statusCode`) that sets no
# content type. AWS's own API Gateway emulator (aws/aws-lambda-dotnet Tools/LambdaTestTool-v2
# ApiGatewayResponseExtensions.cs: "api gateway v2 defaults to this content type"; the same
# for HttpV1); fujiwara/ridge#9; quarkusio/quarkus#15909; aws-powertools/powertools-lambda-
# python#2464.
HTTP_DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8"

# REST proxy responses may hold these keys only; anything else is "Malformed Lambda proxy
# response" (LocalStack test_aws_proxy_response_payload_format_validation, recorded 2024-11).
_REST_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})

_URL_FORBIDDEN = (
    '{"Message":"Forbidden. For troubleshooting Function URL authorization issues, see: '
    'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"}'
)


class _Malformed(Exception):
    """The function's answer is not a valid response for the service."""


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: str
    content_type: str | None = JSON
    error_type: str | None = None  # REST/URL `x-amzn-ErrorType`


# --- results ---------------------------------------------------------------------------------


def from_result(
    service: Service,
    payload_version: PayloadVersion,
    payload: bytes,
    request_id: str,
    *,
    accept: str | None = None,
    binary_media_types: tuple[str, ...] = (),
) -> Response:
    """A function's successful result (its JSON payload) mapped to the HTTP answer; a
    malformed result gets the service's own answer for that (REST 502, HTTP API 500, URL 502).

    `accept` (the request's Accept header) and `binary_media_types` (the REST API's
    binaryMediaTypes) decide whether a REST `isBase64Encoded` body is decoded: only when the
    first Accept type matches an entry; otherwise the base64 text goes out verbatim
    (LocalStack test_aws_proxy_binary_response)."""
    try:
        if payload_version == "1.0":
            response = _from_v1(service, payload, accept, binary_media_types)
        else:
            response = _from_v2(service, payload)
    except _Malformed:
        return failure(service, "function_error", request_id)
    response.headers = _reframed(service, response.headers)
    response.headers.extend(request_id_headers(service, request_id))
    return response


# Headers that frame the connection are the front end's, not the function's. REST renames the
# function's to `X-Amzn-Remapped-<name>` (AG api-gateway-known-issues.md, its table of
# headers "dropped, remapped, or otherwise modified … sent back by your integration"; the list
# here from the current page ⚠ — the stored snapshot leaves the table out); HTTP APIs and
# function URLs drop them ⚠. Either way the emulator's own Content-Length frames the body.
_FRAMING = frozenset(
    {"connection", "content-length", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"}
)
_REST_REMAPPED = _FRAMING | {
    "authorization",
    "content-md5",
    "date",
    "proxy-authenticate",
    "server",
    "user-agent",
    "www-authenticate",
}


def _reframed(service: Service, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if service == "rest":
        return [
            (f"X-Amzn-Remapped-{name}", value) if name.lower() in _REST_REMAPPED else (name, value)
            for name, value in headers
        ]
    return [(name, value) for name, value in headers if name.lower() not in _FRAMING]


def _from_v2(service: Service, payload: bytes) -> Response:
    """Payload 2.0 (AG http-api-develop-integrations-lambda.md; LDG urls-invocation.md): a JSON
    object with `statusCode` is a structured response; any other JSON is a 200
    `application/json` whose body is a string unquoted, else that JSON — re-serialized
    compactly by function URLs (LocalStack test_lambda_url_invocation[dict|string|list-mixed|
    integer|float|boolean], recorded), as the function wrote it by HTTP APIs (AG example).
    A payload that is not JSON at all goes out as it is, 200 `application/json` (HTTP API:
    "observed behavior, which differs from the documentation", AWS's own emulator
    aws/aws-lambda-dotnet Tools/LambdaTestTool-v2 InvokeResponseExtensions.cs; URLs ⚠)."""
    try:
        result = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Response(200, payload, [], JSON)
    if not (isinstance(result, dict) and "statusCode" in result):
        if isinstance(result, str):
            return Response(200, result.encode(), [], JSON)
        if service == "http":
            # "treats the entire response as the body": as the function wrote it (AG example
            # `{ "message": "Hello from Lambda!" }` → that text; TT "uses the response as-is")
            return Response(200, payload, [], JSON)
        return Response(200, _compact(result).encode(), [], JSON)
    status = _status(result.get("statusCode"))
    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise _Malformed
    for name, value in raw_headers.items():
        if value is not None:
            headers.append((str(name), _header_value(value)))
    # `multiValueHeaders` is not part of 2.0: both services ignore it (AG "Format 2.0 doesn't
    # have multiValueHeaders"; HTTP API: aws-powertools/powertools-lambda-python#2464; URLs:
    # akrylysov/algnhsa#33, a-h/awsapigatewayv2handler#3).
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise _Malformed
    # each cookie its own Set-Cookie line (AG; LDG urls-invocation.md "cookies")
    headers.extend(("Set-Cookie", str(cookie)) for cookie in cookies)
    body = _body(result.get("body"), bool(result.get("isBase64Encoded")), decode=True)
    content_type = None
    if not any(name.lower() == "content-type" for name, _ in headers):
        # function URLs: application/json (LocalStack test_lambda_url_invocation
        # [http-response], recorded); HTTP APIs: text/plain (HTTP_DEFAULT_CONTENT_TYPE)
        content_type = JSON if service == "url" else HTTP_DEFAULT_CONTENT_TYPE
    return Response(status, body, headers, content_type)


def _from_v1(
    service: Service, payload: bytes, accept: str | None, binary_media_types: tuple[str, ...]
) -> Response:
    """Payload 1.0 (AG set-up-lambda-proxy-integrations.md; LocalStack
    test_aws_proxy_response_payload_format_validation, test_lambda_aws_proxy_response_format):
    an object of the five proxy keys, each optional; `statusCode` defaults to 200."""
    result = _load(payload)
    if not isinstance(result, dict):
        raise _Malformed  # `"justAString"` → 502 (recorded)
    if service == "rest" and not set(result) <= _REST_KEYS:
        raise _Malformed  # `wrongValue`, `cookies` → 502 (recorded; anomalyco/sst#2760)
    if service != "rest" and "statusCode" not in result:
        # HTTP API 1.0 needs a statusCode (AWS's LambdaTestTool-v2 answers 500 without one;
        # `sam local` likewise) ⚠; REST defaults to 200 (recorded: invoke-api-only-headers)
        raise _Malformed
    status = _status(result.get("statusCode", 200))
    single = result.get("headers")
    if single is not None and not isinstance(single, dict):
        raise _Malformed
    multi = list(_multi(result.get("multiValueHeaders")))
    headers: list[tuple[str, str]] = []
    # A name in both maps answers with the multi values then the single one, in the multi
    # map's casing (LocalStack test_aws_proxy_response_payload_format_validation,
    # invoke-api-multi-headers-overwrite[-casing], recorded 2024-11).
    multi_casing = {name.lower(): name for name, _ in multi}
    for name, values in multi:
        headers.extend((name, value) for value in values)
    for name, value in (single or {}).items():
        if value is not None:
            shown = multi_casing.get(str(name).lower(), str(name))
            headers.append((shown, _header_value(value)))
    has_type = any(name.lower() == "content-type" for name, _ in headers)
    raw_body = result.get("body")
    if service == "rest" and raw_body is not None and not isinstance(raw_body, str):
        raise _Malformed  # ⚠ "body must be a string" (no recording)
    flagged = bool(result.get("isBase64Encoded"))
    if service == "rest":
        # REST decodes only when the first Accept type is a binary media type (recorded)
        first_accept = (accept or "").split(",", 1)[0]
        decode = (
            flagged and bool(first_accept) and is_binary_media(first_accept, binary_media_types)
        )
    else:
        decode = flagged  # HTTP APIs decode unconditionally (ministackorg/ministack#766) ⚠
    body = _body(raw_body, flagged, decode=decode)
    # REST: application/json when the function sets none (LocalStack
    # test_aws_proxy_response_payload_format_validation, recorded); HTTP API 1.0 as its 2.0
    # (LambdaTestTool-v2 HttpV1 mode)
    content_type = None
    if not has_type:
        content_type = JSON if service == "rest" else HTTP_DEFAULT_CONTENT_TYPE
    return Response(status, body, headers, content_type)


def _load(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _Malformed from exc


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _status(value: Any) -> int:
    """An int, or a string of digits (`"418"`: LocalStack test_lambda_url_headers_and_status;
    REST `"201"` ok, `"test"` → 502, recorded)."""
    if isinstance(value, bool):
        raise _Malformed
    if isinstance(value, int):
        status = value
    elif isinstance(value, str) and value.strip().isdigit():
        status = int(value)
    else:
        raise _Malformed
    if not 100 <= status <= 599:  # ⚠ range
        raise _Malformed
    return status


def _header_value(value: Any) -> str:
    """Strings as they are; `true` → "true" (REST, recorded); numbers as JSON ⚠."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    raise _Malformed


def _multi(value: Any) -> Iterable[tuple[str, list[str]]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _Malformed
    out = []
    for name, values in value.items():
        if values is None:
            continue
        if not isinstance(values, list):
            raise _Malformed  # `"value1"` instead of a list → 502 (REST, recorded)
        out.append((str(name), [_header_value(v) for v in values]))
    return out


def _body(value: Any, flagged: bool, *, decode: bool) -> bytes:
    if value is None:
        return b""
    # 2.0 accepts an object/array body and serializes it (LocalStack echo fixture) ⚠
    text = value if isinstance(value, str) else _compact(value)
    if flagged and decode:
        try:
            # whitespace (MIME line breaks) tolerated; anything else is malformed ⚠
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Malformed from exc
    return text.encode()


# --- failures --------------------------------------------------------------------------------

_REST_INTERNAL = _Answer(502, '{"message": "Internal server error"}')
_HTTP_INTERNAL = _Answer(500, '{"message":"Internal Server Error"}')
# LocalStack test_lambda_url_invocation_exception: body "Internal Server Error", 502;
# the content type is not recorded ⚠.
_URL_INTERNAL = _Answer(502, "Internal Server Error", "text/plain; charset=utf-8")

_ANSWERS: dict[Service, dict[str, _Answer]] = {
    "rest": {
        # Lambda proxy: a function error, crash or Lambda timeout → 502 (AG
        # set-up-lambda-proxy-integrations.md; LocalStack test_apigateway_integrations
        # snapshot, Content-Length 36 → the space after the colon). x-amzn-ErrorType ⚠.
        "function_error": _REST_INTERNAL,
        "timeout": _REST_INTERNAL,
        "response_too_large": _REST_INTERNAL,  # Function.ResponseSizeTooLarge ⚠
        # 29 s (ks888/LambStatus#36) ⚠ ErrorType
        "integration_timeout": _Answer(504, '{"message": "Endpoint request timed out"}'),
        # Lambda's 429 reaches the client as 500 ⚠ (repost.aws; SO 36363280)
        "throttled": _Answer(500, '{"message": "Internal server error"}'),
        # LocalStack TestApigatewayRouting::test_routing_not_found (recorded)
        "no_route": _Answer(
            403,
            '{"message":"Missing Authentication Token"}',
            JSON,
            "MissingAuthenticationTokenException",
        ),
        "no_url": _Answer(
            403,
            '{"message":"Missing Authentication Token"}',
            JSON,
            "MissingAuthenticationTokenException",
        ),
        # over 10 MB: koki-develop/lgtm-generator#10 (curl output) ⚠ exact type
        "too_large": _Answer(
            413, "HTTP content length exceeded 10485760 bytes.", "text; charset=utf-8"
        ),
        # under 10 MB, over Lambda's 6 MB (same issue)
        "invoke_too_large": _Answer(
            413, '{"message": "Request Too Long"}', JSON, "BadRequestException"
        ),
        # loige.co authorizer article (2023, curl); auth0-samples/jwt-rsa-aws-custom-authorizer#6
        "unauthorized": _Answer(401, '{"message":"Unauthorized"}', JSON, "UnauthorizedException"),
        "forbidden": _Answer(
            403,
            '{"Message":"User is not authorized to access this resource with an explicit deny"}',
            JSON,
            "AccessDeniedException",
        ),
        "not_allowed": _Answer(
            403,
            '{"Message":"User is not authorized to access this resource"}',
            JSON,
            "AccessDeniedException",
        ),
        # auth0-samples#6; LocalStack gateway_response.py ⚠
        "authorizer_error": _Answer(
            500, '{"message": null}', JSON, "AuthorizerConfigurationException"
        ),
        # AWS_IAM method without a signature ⚠ (REST answers unsigned IAM calls so)
        "signature": _Answer(
            403,
            '{"message":"Missing Authentication Token"}',
            JSON,
            "MissingAuthenticationTokenException",
        ),
    },
    "http": {
        # AG http-api-troubleshooting-lambda.md; Lambda timeouts too (denoland/deno_registry2#87)
        "function_error": _HTTP_INTERNAL,
        "timeout": _HTTP_INTERNAL,
        "response_too_large": _HTTP_INTERNAL,  # ⚠
        "throttled": _HTTP_INTERNAL,  # ⚠ not confirmed
        # 30 s: 503 (cortexlabs/cortex#1225; anomalyco/sst#2232), observed without a
        # Content-Type ⚠
        "integration_timeout": _Answer(503, '{"message":"Service Unavailable"}', None),
        # AG http-api-develop-routes.md
        "no_route": _Answer(404, '{"message":"Not Found"}'),
        "no_url": _Answer(404, '{"message":"Not Found"}'),
        "too_large": _Answer(413, '{"message":"Request Entity Too Large"}'),  # ⚠ body
        "invoke_too_large": _Answer(413, '{"message":"Request Entity Too Large"}'),  # ⚠
        # identity source missing: BOTO apigatewayv2 IdentitySource; AG
        "unauthorized": _Answer(401, '{"message":"Unauthorized"}'),
        "forbidden": _Answer(403, '{"message":"Forbidden"}'),  # ⚠ emulators only
        "not_allowed": _Answer(403, '{"message":"Forbidden"}'),  # ⚠
        "authorizer_error": _HTTP_INTERNAL,  # AG http-api-lambda-authorizer.md
        "signature": _Answer(403, '{"message":"Forbidden"}'),  # ⚠ IAM-authorized routes
    },
    "url": {
        "function_error": _URL_INTERNAL,
        "timeout": _URL_INTERNAL,  # ⚠ assumed as for errors
        "integration_timeout": _URL_INTERNAL,  # no gateway timeout of its own: the function's
        "response_too_large": _URL_INTERNAL,  # ⚠
        # 429 (LDG urls-configuration.md "Throttling function URLs"); body and ErrorType as a
        # URL's throttle was observed (github.com/huntharo/lambda-provisioned-throttling, 2022,
        # then with status 400 by a since-fixed bug) ⚠
        "throttled": _Answer(429, '{"message":"Rate Exceeded."}', JSON, "ThrottlingException"),
        # LocalStack test_lambda_url_non_existing_url (recorded 2025-11)
        "no_url": _Answer(403, '{"Message":null}', JSON, "AccessDeniedException"),
        "no_route": _Answer(403, '{"Message":null}', JSON, "AccessDeniedException"),
        # over 6 MB: 413 (ducktors/turborepo-remote-cache#677); body ⚠
        "too_large": _Answer(
            413, '{"Message":"Request Entity Too Large"}', JSON, "RequestEntityTooLargeException"
        ),
        "invoke_too_large": _Answer(
            413, '{"Message":"Request Entity Too Large"}', JSON, "RequestEntityTooLargeException"
        ),
        # LocalStack TestLambdaPermissions::test_lambda_permission_url_invocation (recorded)
        "signature": _Answer(403, _URL_FORBIDDEN, JSON, "AccessDeniedException"),
        "forbidden": _Answer(403, _URL_FORBIDDEN, JSON, "AccessDeniedException"),
        "not_allowed": _Answer(403, _URL_FORBIDDEN, JSON, "AccessDeniedException"),
        "unauthorized": _Answer(403, _URL_FORBIDDEN, JSON, "AccessDeniedException"),  # ⚠
        "authorizer_error": _URL_INTERNAL,  # URLs have no authorizers ⚠
    },
}


def failure(service: Service, reason: FailureReason, request_id: str) -> Response:
    """The service's answer when no function result reaches the caller."""
    answer = _ANSWERS[service][reason]
    headers: list[tuple[str, str]] = []
    if answer.error_type is not None:
        headers.append(("x-amzn-ErrorType", answer.error_type))
    headers.extend(request_id_headers(service, request_id))
    return Response(answer.status, answer.body.encode(), headers, answer.content_type)


def request_id_headers(service: Service, request_id: str) -> list[tuple[str, str]]:
    """The request id header(s) each service sets on every answer (REST `x-amzn-RequestId`
    and `x-amz-apigw-id` = extendedRequestId, HTTP API `apigw-requestid`, function URLs
    `x-amzn-RequestId` = the Lambda request id: LocalStack test_request_id_invoke_url)."""
    if service == "http":
        return [("apigw-requestid", request_id)]
    if service == "rest":
        return [
            ("x-amzn-RequestId", request_id),
            ("x-amz-apigw-id", extended_request_id(request_id)),
        ]
    return [("x-amzn-RequestId", request_id)]
