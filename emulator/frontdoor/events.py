"""The events API Gateway and function URLs hand to a function (docs/frontdoor-spec.md §1–§2).

Pure functions: an `HttpRequest` (what arrived on the socket) plus where it was routed →
the event as a dict, exactly as AWS builds it. No I/O, no clock of their own (`time` is in
the request), so tests compare them field by field with AWS's recorded events
(tests/data/frontdoor/aws/).

Three shapes:
- payload 2.0 of an HTTP API (`_event_v2`), keys left out when empty;
- payload 2.0 of a function URL: the same with routeKey/stage `$default`, the `cookie` header
  kept, no `content-length` added, no pathParameters/stageVariables;
- payload 1.0 (`_event_v1`): REST proxy integration (every key present, `null` when empty), or
  an HTTP API route with `PayloadFormatVersion: '1.0'` (adds `version`, lower-case headers).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time as _time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from emulator.frontdoor.model import PayloadVersion, stable_id

# API Gateway and function URLs drop the hop-by-hop headers before building the event: a
# recorded function-URL echo (LocalStack test_lambda_url_echo_http_fixture_default, sent by
# python-requests with `Connection: keep-alive`) and every recorded API Gateway event show no
# `connection`. The rest of RFC 9110 §7.6.1's list is dropped likewise ⚠.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

# Payload 2.0 bodies reach the function as text only for these types; everything else (a
# missing Content-Type, form posts, multipart) is base64 (docs/frontdoor-spec.md §1.3).
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-javascript"}
)

# REST `requestContext.identity`: exactly these keys, null unless they apply (PT
# apigw-rest/no-auth.json, LocalStack test_lambda_aws_proxy_integration).
_IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "sourceIp",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "userAgent",
    "user",
)


@dataclass(slots=True)
class HttpRequest:
    """One HTTP request as the front door received it."""

    method: str  # upper case
    raw_path: str  # as sent, percent-encoding kept; for URLs without /lambda-url/<name>
    raw_query: str  # without "?"
    headers: list[tuple[str, str]]  # in arrival order, names as sent, repeats kept
    body: bytes
    source_ip: str
    time: float  # epoch seconds when it arrived
    protocol: str = "HTTP/1.1"


@dataclass(slots=True)
class Target:
    """Where a request was routed, and the context API Gateway adds to its event."""

    payload_version: PayloadVersion
    route_key: str  # "GET /items/{id}", "$default"; REST: the resource path + method
    resource: str  # payload 1.0 `resource` ("/items/{id}"); "$default" → the raw path
    api_id: str  # API id, or the function URL id
    domain_name: str  # <id>.execute-api.<region>.amazonaws.com, <id>.lambda-url.<region>.on.aws
    stage: str
    request_id: str  # the API's request id (function URLs: the Lambda request id)
    account_id: str
    path_parameters: Mapping[str, str] = field(default_factory=dict)  # decoded values
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    authorizer: Mapping[str, Any] | None = None  # requestContext.authorizer, as AWS shapes it
    is_rest: bool = False  # payload 1.0 from a REST API (vs. an HTTP API's 1.0)
    extended_request_id: str = ""  # REST `extendedRequestId`
    # Added by the events slice (optional, defaults keep the fixed signature):
    # REST `binaryMediaTypes` (SAM `BinaryMediaTypes`, `~1` already turned into `/`); a
    # request body whose Content-Type matches one reaches the function base64-encoded.
    binary_media_types: tuple[str, ...] = ()
    # X-Ray trace header API Gateway adds (`Root=1-…`); "" → one derived from request_id.
    trace_id: str = ""

    @property
    def is_url(self) -> bool:
        """A function URL's target: its domain is `<id>.lambda-url.<region>.on.aws`."""
        return ".lambda-url." in self.domain_name


def build_event(request: HttpRequest, target: Target) -> dict[str, Any]:
    """The event for `target.payload_version` (function URLs use 2.0 with `$default`)."""
    if target.payload_version == "1.0":
        return _event_v1(request, target)
    return _event_v2(request, target)


def encode_event(request: HttpRequest, target: Target) -> bytes:
    """The event as the JSON the function receives: exactly
    `json.dumps(build_event(request, target), separators=(",", ":")).encode()`. Payload 2.0,
    the shape of most traffic, is written directly (`_encode_v2`): no dict per request, the
    headers read in one pass (tests/test_frontdoor_events.py holds the two equal)."""
    if target.payload_version == "1.0":
        return _compact(build_event(request, target))
    return _encode_v2(request, target)


def iam_authorizer(
    access_key: str, account_id: str, user_arn: str, user_id: str, caller_id: str | None = None
) -> dict[str, Any]:
    """`requestContext.authorizer` of an `AWS_IAM` route or function URL, for the identity
    whose SigV4 signature was verified: exactly these seven keys (PT apigw-http/iam-auth.json,
    recorded; LDG urls-invocation.md). `callerId` is the user id for IAM users,
    `<role id>:<session>` for assumed roles."""
    return {
        "iam": {
            "accessKey": access_key,
            "accountId": account_id,
            "callerId": caller_id if caller_id is not None else user_id,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": user_id,
        }
    }


def is_text(content_type: str | None, content_encoding: str | None) -> bool:
    """Whether a body of this type reaches the function as text (else base64, isBase64Encoded).

    HTTP APIs and function URLs: `text/*`, `application/json`, `application/xml`,
    `application/javascript` are text; a missing type, forms and everything else are base64
    (ministackorg/ministack#766 "verified against real AWS"; LocalStack
    test_lambda_url_form_payload: multipart → base64; test_lambda_url_echo_invoke: text/plain
    → text). `+json`/`+xml` suffix types count as text ⚠. A compressed body
    (`Content-Encoding` other than identity) is bytes whatever its type ⚠."""
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return False
    media = _media_type(content_type)
    if not media:
        return False
    if media.startswith("text/") or media in _TEXT_TYPES:
        return True
    return media.endswith(("+json", "+xml"))  # ⚠ not in any recording


def is_binary_media(content_type: str | None, binary_media_types: Iterable[str]) -> bool:
    """REST APIs: a body is binary (base64 to the function) iff its Content-Type matches one
    of the API's `binaryMediaTypes` — exactly, as `type/*`, or `*/*` (AG
    api-gateway-payload-encodings.md; ministackorg/ministack#767 "confirmed against real AWS").
    With none configured every body is text. Responses use the same test on the request's
    first Accept type (LocalStack test_aws_proxy_binary_response, aws.validated: entry
    `image/png` matches only `image/png`; `*/test` matches nothing)."""
    media = _media_type(content_type)
    for entry in binary_media_types:
        pattern = entry.strip().lower()
        if pattern == "*/*":
            return True
        if not media or pattern.startswith("*/"):
            continue  # `*/test` never matches, not even `*/test` (LS, recorded)
        if pattern == media:
            return True
        if pattern.endswith("/*") and media.split("/", 1)[0] == pattern[:-2]:
            return True
    return False


# --- payload 2.0 ---------------------------------------------------------------------------


def _event_v2(request: HttpRequest, target: Target) -> dict[str, Any]:
    url = target.is_url
    raw_path = request.raw_path or "/"
    if not url and target.stage != "$default":
        # AWS's rawPath of a named HTTP API stage carries `/{stage}` (RUST
        # apigw_v2_proxy_request_with_stage_in_path.json); the emulator serves without it.
        raw_path = f"/{target.stage}{raw_path}"
    headers, cookies = _headers_v2(request, target, keep_cookie=url)
    route_key = "$default" if url else target.route_key
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_joined(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    context: dict[str, Any] = {
        "accountId": target.account_id,
        "apiId": target.api_id,
    }
    if target.authorizer is not None:
        context["authorizer"] = dict(target.authorizer)
    context.update(
        {
            "domainName": target.domain_name,
            "domainPrefix": target.domain_name.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": _header(request.headers, "user-agent") or "",
            },
            "requestId": target.request_id,
            "routeKey": route_key,
            "stage": "$default" if url else target.stage,
            "time": _clf_time(request.time),
            "timeEpoch": round(request.time * 1000),
        }
    )
    event["requestContext"] = context
    if not url:
        if target.path_parameters:
            event["pathParameters"] = dict(target.path_parameters)
        if target.stage_variables:
            event["stageVariables"] = dict(target.stage_variables)
    if request.body:
        text = is_text(
            _header(request.headers, "content-type"), _header(request.headers, "content-encoding")
        )
        event["body"] = _body_text(request.body, text)
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    return event


def _headers_v2(
    request: HttpRequest, target: Target, *, keep_cookie: bool
) -> tuple[dict[str, str], list[str]]:
    """Lower-cased names, repeats joined with "," (no space: AG http-api-develop-integrations-
    lambda.md "Duplicate headers are combined with commas"). `Cookie` becomes `cookies`
    (split on "; "); HTTP APIs then drop the header (Kludex/mangum#153), function URLs keep it
    (aws-lambda-rust-runtime lambda_function_url_request.json) ⚠."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key in _HOP_BY_HOP:
            continue
        if key == "cookie":
            cookies.extend(c for c in value.split("; ") if c)
            if not keep_cookie:
                continue
        if key == "content-length" and not target.is_url:
            continue  # HTTP APIs set their own, below
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    if not target.is_url:
        # HTTP APIs always send content-length, "0" without a body (PT apigw-http/no-auth.json
        # POST, GO apigw-v2-request-no-authorizer.json GET).
        headers["content-length"] = str(len(request.body))
    for key, value in _added_headers(request, target, headers):
        headers[key] = value
    return headers, cookies


def _encode_v2(request: HttpRequest, target: Target) -> bytes:
    """`_event_v2` and `_headers_v2` written straight to JSON, key for key in their order."""
    url = ".lambda-url." in target.domain_name
    raw_path = request.raw_path or "/"
    if not url and target.stage != "$default":
        raw_path = f"/{target.stage}{raw_path}"
    headers: dict[str, str] = {}
    cookies: list[str] = []
    # the request headers the event reads, first value of each (`_header`)
    user_agent = content_type = content_encoding = client_xff = host = None
    for name, value in request.headers:
        key = name.lower()
        if key in _HOP_BY_HOP:
            continue
        if key in _READ:
            if key == "user-agent":
                if user_agent is None:
                    user_agent = value
            elif key == "content-type":
                if content_type is None:
                    content_type = value
            elif key == "content-encoding":
                if content_encoding is None:
                    content_encoding = value
            elif key == "x-forwarded-for":
                if client_xff is None:
                    client_xff = value
            elif key == "host":
                if host is None:
                    host = value
            elif key == "cookie":
                cookies.extend(c for c in value.split("; ") if c)
                if not url:
                    continue
            elif key == "content-length" and not url:
                continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    if not url:
        headers["content-length"] = str(len(request.body))
    # `_added_headers`, from the values read above
    if "x-amzn-trace-id" not in headers:
        headers["x-amzn-trace-id"] = target.trace_id or _trace_id(target, request.time)
    headers["x-forwarded-for"] = (
        f"{client_xff}, {request.source_ip}" if client_xff else request.source_ip
    )
    host = host or ""
    headers["x-forwarded-port"] = (
        host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else "80"
    )
    headers["x-forwarded-proto"] = "http"
    q = _quoted
    head, context, domain, route_stage = _v2_fixed(
        target.account_id, target.api_id, target.domain_name, target.route_key, target.stage, url
    )
    path = q(raw_path)
    parts = [f'{head}"rawPath":{path},"rawQueryString":{q(request.raw_query)},']
    if cookies:
        parts.append(f'"cookies":[{",".join(map(q, cookies))}],')
    parts.append(f'"headers":{{{",".join([f"{q(k)}:{q(v)}" for k, v in headers.items()])}}},')
    if request.raw_query:
        query = _query_joined(request.raw_query)
        if query:
            parts.append(f'"queryStringParameters":{_compact_text(query)},')
    parts.append('"requestContext":')
    parts.append(context)
    if target.authorizer is not None:
        parts.append(f'"authorizer":{_compact_text(dict(target.authorizer))},')
    parts.append(
        f'{domain}"http":{{"method":{q(request.method)},"path":{path},'
        f'"protocol":{q(request.protocol)},"sourceIp":{q(request.source_ip)},'
        f'"userAgent":{q(user_agent or "")}}},"requestId":{q(target.request_id)},'
        f"{route_stage}"
        f'"time":"{_clf_time(request.time)}","timeEpoch":{round(request.time * 1000)}}}'
    )
    if not url:
        if target.path_parameters:
            parts.append(f',"pathParameters":{_compact_text(dict(target.path_parameters))}')
        if target.stage_variables:
            parts.append(f',"stageVariables":{_compact_text(dict(target.stage_variables))}')
    if request.body:
        text = _is_text(content_type, content_encoding)
        parts.append(
            f',"body":{q(_body_text(request.body, text))},'
            f'"isBase64Encoded":{"false" if text else "true"}}}'
        )
    else:
        parts.append(',"isBase64Encoded":false}')
    return "".join(parts).encode()


# --- payload 1.0 ---------------------------------------------------------------------------


def _event_v1(request: HttpRequest, target: Target) -> dict[str, Any]:
    rest = target.is_rest
    path = request.raw_path or "/"
    if rest:
        # REST collapses a leading "//" in `path` (LocalStack test_lambda_aws_proxy_integration)
        while path.startswith("//"):
            path = path[1:]
        context_path = f"/{target.stage}{path}"
        event_path = path
    else:
        # HTTP API 1.0: `path` carries `/{stage}` for a named stage (dougmoscrop/serverless-
        # http#143) ⚠; requestContext.path likewise.
        event_path = path if target.stage == "$default" else f"/{target.stage}{path}"
        context_path = event_path
    single, multi = _headers_v1(request, target)
    query_single, query_multi = _query_v1(request.raw_query)
    event: dict[str, Any] = {}
    if not rest:
        event["version"] = "1.0"
    resource = target.resource
    if resource == "$default":
        resource = path  # ⚠ an HTTP API $default route: AWS shows the request path
    event.update(
        {
            "resource": resource,
            "path": event_path,
            "httpMethod": request.method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": query_single,
            "multiValueQueryStringParameters": query_multi,
            "pathParameters": dict(target.path_parameters) if target.path_parameters else None,
            "stageVariables": dict(target.stage_variables) if target.stage_variables else None,
            "requestContext": _context_v1(request, target, resource, context_path),
        }
    )
    if request.body:
        content_type = _header(request.headers, "content-type")
        if rest:
            binary = is_binary_media(content_type, target.binary_media_types)
        else:
            binary = not is_text(content_type, _header(request.headers, "content-encoding"))
        event["body"] = _body_text(request.body, not binary)
        event["isBase64Encoded"] = binary
    else:
        event["body"] = None
        event["isBase64Encoded"] = False
    return event


def _context_v1(
    request: HttpRequest, target: Target, resource: str, context_path: str
) -> dict[str, Any]:
    user_agent = _header(request.headers, "user-agent")
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_KEYS)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = user_agent
    context: dict[str, Any] = {
        "accountId": target.account_id,
        "apiId": target.api_id,
    }
    if target.authorizer is not None:
        context["authorizer"] = dict(target.authorizer)
    elif not target.is_rest:
        # HTTP API 1.0 example (AG http-api-develop-integrations-lambda.md) ⚠ doc only
        context["authorizer"] = {"claims": None, "scopes": None}
    context.update(
        {
            "domainName": target.domain_name,
            "domainPrefix": target.domain_name.split(".", 1)[0],
            "extendedRequestId": target.extended_request_id
            or extended_request_id(target.request_id),
            "httpMethod": request.method,
            "identity": identity,
            "path": context_path,
            "protocol": request.protocol,
            "requestId": target.request_id,
            "requestTime": _clf_time(request.time),
            "requestTimeEpoch": round(request.time * 1000),
            "resourceId": _short_id("resource", target.api_id, resource)
            if target.is_rest
            else None,
            "resourcePath": resource,
            "stage": target.stage,
        }
    )
    if target.is_rest:
        # a stable deployment id per API ⚠ (AWS: one per deployment)
        context["deploymentId"] = _short_id("deployment", target.api_id)
    return context


def _headers_v1(
    request: HttpRequest, target: Target
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """REST: names as sent, except `authorization` → `Authorization`; `Content-Length`
    dropped (LocalStack test_lambda_aws_proxy_integration); a repeated header's last value in
    `headers` ⚠, all of them in `multiValueHeaders`. HTTP API 1.0: lower-case names ⚠ (AG
    example) and its own content-length, as in 2.0."""
    rest = target.is_rest
    multi: dict[str, list[str]] = {}
    names: dict[str, str] = {}  # lower-case name → the casing the event shows
    for name, value in request.headers:
        key = name.lower()
        if key in _HOP_BY_HOP or key == "content-length":
            continue
        if rest and key == "authorization" and value.startswith("AWS4-"):
            continue  # "dropped if it contains a Signature Version 4 signature" (AG known issues)
        shown = names.setdefault(key, _rest_case(name) if rest else key)
        multi.setdefault(shown, []).append(value)
    if not rest:
        multi["content-length"] = [str(len(request.body))]
    for key, value in _added_headers(request, target, names):
        shown = names.get(key) or (_REST_ADDED_CASE[key] if rest else key)
        multi[shown] = [value]
    return {k: v[-1] for k, v in multi.items()}, multi


def _rest_case(name: str) -> str:
    return "Authorization" if name.lower() == "authorization" else name


def _query_v1(raw_query: str) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """REST: decoded (`+` → space), the last value of a repeated key in the single map, all in
    the multi map; `null` without a query (LocalStack test_lambda_aws_proxy_integration)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if not pairs:
        return None, None
    multi: dict[str, list[str]] = {}
    for k, v in pairs:
        multi.setdefault(k, []).append(v)
    return {k: v[-1] for k, v in multi.items()}, multi


# --- shared --------------------------------------------------------------------------------


def _query_joined(raw_query: str) -> dict[str, str]:
    """Payload 2.0: decoded, a repeated key's values comma-joined (LocalStack
    test_lambda_url_echo_http_fixture_default: `multiQuery=foo&multiQuery=%2Fbar` →
    `"foo,/bar"`). `+` decodes to a space ⚠."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        out[k] = f"{out[k]},{v}" if k in out else v
    return out


# How REST shows the headers it adds (PT apigw-rest/no-auth.json)
_REST_ADDED_CASE = {
    "x-amzn-trace-id": "X-Amzn-Trace-Id",
    "x-forwarded-for": "X-Forwarded-For",
    "x-forwarded-port": "X-Forwarded-Port",
    "x-forwarded-proto": "X-Forwarded-Proto",
}


def _added_headers(
    request: HttpRequest, target: Target, present: Mapping[str, str]
) -> list[tuple[str, str]]:
    """The headers every front end adds (PT apigw-http/no-auth.json, apigw-rest/no-auth.json,
    LocalStack function-URL echo), as (lower-case name, value) replacing what the client sent:
    the X-Ray trace id (a client's own kept) and X-Forwarded-For/-Port/-Proto. They describe
    the local connection (`http`, the Host header's port), not AWS's `https`/443 ⚠."""
    added: list[tuple[str, str]] = []
    if "x-amzn-trace-id" not in present:
        added.append(("x-amzn-trace-id", target.trace_id or _trace_id(target, request.time)))
    client_xff = _header(request.headers, "x-forwarded-for")
    # AWS appends the peer it saw to what the client sent ⚠ (REST: "client, cloudfront")
    xff = f"{client_xff}, {request.source_ip}" if client_xff else request.source_ip
    added.append(("x-forwarded-for", xff))
    host = _header(request.headers, "host") or ""
    port = host.rsplit(":", 1)[1] if ":" in host and not host.endswith("]") else "80"
    added.append(("x-forwarded-port", port))
    added.append(("x-forwarded-proto", "http"))
    return added


@functools.lru_cache(maxsize=256)
def _v2_fixed(
    account_id: str, api_id: str, domain_name: str, route_key: str, stage: str, url: bool
) -> tuple[str, str, str, str]:
    """The parts of a 2.0 event that are the route's, quoted once per route: the event's head
    (up to `rawPath`), `requestContext` up to `authorizer`, `domainName` and `domainPrefix`,
    and its `routeKey` and `stage`."""
    q = _quoted
    shown_route = q("$default" if url else route_key)
    head = f'{{"version":"2.0","routeKey":{shown_route},'
    context = f'{{"accountId":{q(account_id)},"apiId":{q(api_id)},'
    prefix = domain_name.split(".", 1)[0]
    domain = f'"domainName":{q(domain_name)},"domainPrefix":{q(prefix)},'
    route_stage = f'"routeKey":{shown_route},"stage":{q("$default" if url else stage)},'
    return head, context, domain, route_stage


@functools.lru_cache(maxsize=256)
def _is_text(content_type: str | None, content_encoding: str | None) -> bool:
    return is_text(content_type, content_encoding)


# the request headers `_encode_v2` reads or treats apart, in its one pass
_READ = frozenset(
    {"user-agent", "content-type", "content-encoding", "x-forwarded-for", "host", "cookie"}
    | {"content-length"}
)
_quoted = json.encoder.encode_basestring_ascii  # json.dumps's own string encoder
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _compact_text(value: Any) -> str:
    return _COMPACT.encode(value)


def _compact(value: Any) -> bytes:
    return _COMPACT.encode(value).encode()


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name:
            return v
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _body_text(body: bytes, text: bool) -> str:
    if text:
        return body.decode("utf-8", errors="replace")  # ⚠ invalid UTF-8 under a text type
    return base64.b64encode(body).decode("ascii")


_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
# the second formatted last, and its text: one strftime a second, not one a request
_clf_last: list[tuple[int, str]] = [(-1, "")]


def _clf_time(epoch_s: float) -> str:
    """API Gateway's `time`/`requestTime`: `17/Jun/2024:15:52:39 +0000` (UTC, English month
    abbreviations whatever the locale)."""
    second = int(epoch_s)
    last_second, last_text = _clf_last[0]
    if second == last_second and epoch_s >= 0:
        return last_text
    t = _time.gmtime(epoch_s)
    text = (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )
    if epoch_s >= 0:
        _clf_last[0] = (second, text)
    return text


def _trace_id(target: Target, epoch_s: float) -> str:
    """`Root=1-<8 hex epoch s>-<24 hex>`, derived from the request id so it is stable."""
    digest = hashlib.sha256(target.request_id.encode()).hexdigest()[:24]
    return f"Root=1-{int(epoch_s):08x}-{digest}"


def extended_request_id(request_id: str) -> str:
    """REST's `extendedRequestId` / `x-amz-apigw-id` header (16 characters ending "=", like
    `ZhDrKF5dDoEEHfA=`), derived from the request id so the event and the header agree."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()[:11]).decode()[:15] + "="


@functools.lru_cache(maxsize=1024)
def _short_id(*parts: str) -> str:
    """REST's 6-character `resourceId`/`deploymentId` (`3nq1cq`, `v99qix`)."""
    return stable_id(*parts, length=6)
