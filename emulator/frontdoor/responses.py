"""Function results and failures → HTTP answers, as each service gives them
(docs/frontdoor-spec.md §3–§4). They differ between HTTP APIs, REST APIs and function URLs in
status, body and content type; every answer here cites the AWS recording it reproduces.

Pure functions returning `emulator.httpserver.Response`; the server adds nothing but CORS.

STUB: signatures fixed for the front door's other modules; bodies come with issue 14.
"""

from __future__ import annotations

from typing import Literal

from emulator.frontdoor.model import PayloadVersion
from emulator.httpserver import Response

Service = Literal["http", "rest", "url"]


def from_result(
    service: Service, payload_version: PayloadVersion, payload: bytes, request_id: str
) -> Response:
    """A function's successful result (its JSON payload) mapped to the HTTP answer; a
    malformed result gets the service's own answer for that (REST/HTTP 502, URL ...)."""
    raise NotImplementedError


def failure(
    service: Service,
    reason: Literal[
        "function_error",  # the function raised / the runtime reported an error
        "timeout",  # the function timed out (Lambda's own timeout)
        "integration_timeout",  # API Gateway's 29 s (REST) / 30 s (HTTP API)
        "throttled",  # Lambda's TooManyRequestsException
        "no_route",  # no route matched (HTTP 404 Not Found, REST 403 Missing Auth Token)
        "no_url",  # a function with no URL, or no such function
        "too_large",  # request over the service's payload limit
        "response_too_large",  # function response over the limit
        "unauthorized",  # authorizer: identity missing (401)
        "forbidden",  # authorizer denied (403)
        "authorizer_error",  # authorizer failed or answered garbage (500)
        "signature",  # AWS_IAM function URL: missing/bad SigV4 (403)
    ],
    request_id: str,
) -> Response:
    """The service's answer when no function result reaches the caller."""
    raise NotImplementedError


def request_id_headers(service: Service, request_id: str) -> list[tuple[str, str]]:
    """The request id header(s) each service sets on every answer (REST `x-amzn-RequestId`,
    HTTP API `apigw-requestid`, function URLs `x-amzn-RequestId`)."""
    raise NotImplementedError
