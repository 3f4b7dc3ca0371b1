"""CORS as each front end applies an API's or a URL's `Cors` configuration (notes §6).

HTTP APIs (AG `http-api-cors.md`): with CORS configured, API Gateway answers a preflight
(`OPTIONS` with `Origin` and `Access-Control-Request-Method`) itself, even with no OPTIONS
route, without calling the integration; on other requests it adds the configured headers to
the integration's response and ignores the CORS headers the integration returned. CORS headers
are returned only when the request has an `Origin` (same page). Preflight status 204 ⚠
(observed by third parties, not documented).

REST APIs through SAM `Cors` (SAMT `swagger.py add_cors`): SAM adds an OPTIONS method with a
MOCK integration to every path that has none: 200, body `{}`, `application/json`, the
configured headers; `Allow-Methods` defaults to the path's methods plus OPTIONS, upper case,
sorted, comma-joined. Lambda proxy responses get no CORS headers: the function sets them
(AG `set-up-lambda-proxy-integrations.md`).

Function URLs (LDG `urls-configuration.md`): Lambda answers the preflight and adds the
configured headers to the function's responses; on a conflict the configured ones win.
Preflight status 200 ⚠ (not documented).

An origin is allowed when the configuration lists `*`, the origin itself (case-insensitive ⚠),
or a `scheme://*` pattern it starts with (HTTP APIs' `https://*`). A disallowed origin gets no
CORS headers (⚠ the preflight still answers, without them).
"""

from __future__ import annotations

from collections.abc import Iterable

from emulator.frontdoor.matching import ANY_METHODS
from emulator.frontdoor.model import ANY, Cors

H_ORIGIN = "origin"
H_REQUEST_METHOD = "access-control-request-method"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"
ALLOW_METHODS = "Access-Control-Allow-Methods"
ALLOW_HEADERS = "Access-Control-Allow-Headers"
ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"
MAX_AGE = "Access-Control-Max-Age"

HTTP_PREFLIGHT_STATUS = 204  # ⚠
URL_PREFLIGHT_STATUS = 200  # ⚠


def allowed_origin(cors: Cors, origin: str | None) -> str | None:
    """The `Access-Control-Allow-Origin` value for `origin`, or None (no CORS headers)."""
    if not origin:
        return None
    if "*" in cors.allow_origins:
        # a credentialed request cannot use `*` (SAM refuses the combination for HTTP APIs)
        return origin if cors.allow_credentials else "*"
    low = origin.lower()
    for allowed in cors.allow_origins:
        a = allowed.lower()
        if a == low or (a.endswith("://*") and low.startswith(a[:-1])):
            return origin
    return None


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return method == "OPTIONS" and H_ORIGIN in headers and H_REQUEST_METHOD in headers


def preflight_headers(cors: Cors, origin: str | None) -> list[tuple[str, str]]:
    """HTTP API and function URL preflight answers: the configured headers (none for an origin
    that is not allowed)."""
    value = allowed_origin(cors, origin)
    if value is None:
        return []
    out = [(ALLOW_ORIGIN, value)]
    if cors.allow_methods:
        out.append((ALLOW_METHODS, ",".join(cors.allow_methods)))
    if cors.allow_headers:
        out.append((ALLOW_HEADERS, ",".join(cors.allow_headers)))
    if cors.allow_credentials:
        out.append((ALLOW_CREDENTIALS, "true"))
    if cors.max_age_s is not None:
        out.append((MAX_AGE, str(cors.max_age_s)))
    if value != "*":
        out.append(("Vary", "Origin"))
    return out


def response_headers(cors: Cors, origin: str | None) -> list[tuple[str, str]]:
    """The headers HTTP APIs and function URLs add to a (non-preflight) response."""
    value = allowed_origin(cors, origin)
    if value is None:
        return []
    out = [(ALLOW_ORIGIN, value)]
    if cors.allow_credentials:
        out.append((ALLOW_CREDENTIALS, "true"))
    if cors.expose_headers:
        out.append((EXPOSE_HEADERS, ",".join(cors.expose_headers)))
    if value != "*":
        out.append(("Vary", "Origin"))
    return out


def merged(
    headers: list[tuple[str, str]], added: list[tuple[str, str]], *, drop_own: bool
) -> list[tuple[str, str]]:
    """`headers` plus the configured CORS headers. The configured ones win a conflict (function
    URLs); `drop_own` also removes every CORS header the function set (HTTP APIs)."""
    if not added and not drop_own:
        return headers
    names = {name.lower() for name, _ in added}
    kept = [
        (name, value)
        for name, value in headers
        if name.lower() not in names
        and not (drop_own and name.lower().startswith("access-control-"))
    ]
    return kept + added


def rest_preflight_headers(cors: Cors, methods: Iterable[str]) -> list[tuple[str, str]]:
    """SAM's MOCK OPTIONS method of a REST path (SAMT `_options_method_response_for_cors`):
    `methods` are the path's declared methods."""
    out = [(ALLOW_ORIGIN, cors.allow_origins[0] if cors.allow_origins else "*")]
    if cors.allow_headers:
        out.append((ALLOW_HEADERS, ",".join(cors.allow_headers)))
    if cors.allow_methods:
        allow = ",".join(cors.allow_methods)
    else:
        declared = {m for m in methods}
        if ANY in declared:
            declared = set(ANY_METHODS)
        allow = ",".join(sorted(declared | {"OPTIONS"}))
    out.append((ALLOW_METHODS, allow))
    if cors.max_age_s is not None:
        out.append((MAX_AGE, str(cors.max_age_s)))
    if cors.allow_credentials:
        out.append((ALLOW_CREDENTIALS, "true"))
    return out
