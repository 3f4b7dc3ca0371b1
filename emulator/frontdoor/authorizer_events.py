"""The events a Lambda authorizer function gets, and the identity they are keyed by
(docs/frontdoor-authorizers.md; the sources are in `emulator.frontdoor.authorizers`' docstring).

Pure functions of the request and where it was routed: the identity-source values (None when
one is missing: API Gateway's 401), the execute-api ARN of the request, and the TOKEN, REQUEST
(REST and HTTP 1.0) and HTTP 2.0 authorizer events, built from the integration event of the
same request (`events.build_event`) so both carry the same headers and request context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from emulator.frontdoor.events import HttpRequest, Target, build_event
from emulator.frontdoor.model import ApiKind, Authorizer

DEFAULT_TOKEN_SOURCE = "method.request.header.Authorization"  # SAM's TOKEN default header
_V1_MAPS = (
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
)


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
        "domainPrefix": target.domain_name.split(".", 1)[0],
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
    """The event the authorizer function gets: the integration event of the same request
    (`events.build_event`, in the authorizer's payload format) without its body and
    authorizer, and with the authorizer's own keys in front."""
    if kind == "rest" and authorizer.kind == "token":
        return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
    version = "1.0" if kind == "rest" else authorizer.payload_version
    base = build_event(
        request,
        replace(target, payload_version=version, authorizer=None, is_rest=kind == "rest"),
    )
    for key in ("version", "body", "isBase64Encoded"):
        base.pop(key, None)
    if version == "2.0":
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": arn,
            "identitySource": list(values),
            **base,
        }
    # Payload 1.0: no authorizer in the request context (the HTTP API 1.0 integration
    # event's JWT placeholder neither ⚠), and `{}` for empty maps, not null (PT
    # apigw-rest/authorizer-request.json; AG's HTTP 1.0 example has `"pathParameters": {}`).
    base["requestContext"].pop("authorizer", None)
    for key in _V1_MAPS:
        if base.get(key) is None:
            base[key] = {}
    head: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
    if kind == "http":
        joined = ",".join(values)
        head = {
            "version": "1.0",
            **head,
            "identitySource": joined,
            "authorizationToken": joined,
        }
    return {**head, **base}
