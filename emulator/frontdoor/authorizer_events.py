"""The events a Lambda authorizer function gets, and the identity they are keyed by
(docs/frontdoor-authorizers.md; the sources are in `emulator.frontdoor.authorizers`' docstring).

Pure functions of the request and where it was routed: the identity-source values (None when
one is missing: API Gateway's 401), the execute-api ARN of the request, and the TOKEN, REQUEST
(REST and HTTP 1.0) and HTTP 2.0 authorizer events.

⚠ These events are built here, not by `events.build_event`: the front door's integration events
add headers of AWS's own (x-forwarded-*, x-amzn-trace-id) that the authorizer events here lack.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from emulator.frontdoor.events import HttpRequest, Target
from emulator.frontdoor.model import ApiKind, Authorizer, stable_id

DEFAULT_TOKEN_SOURCE = "method.request.header.Authorization"  # SAM's TOKEN default header


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
