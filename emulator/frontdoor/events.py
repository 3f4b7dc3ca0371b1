"""The events API Gateway and function URLs hand to a function (docs/frontdoor-spec.md §1–§2).

Pure functions: an `HttpRequest` (what arrived on the socket) plus where it was routed →
the event as a dict, exactly as AWS builds it. No I/O, no clock of their own (`time` is in
the request), so tests compare them field by field with AWS's recorded events.

STUB: signatures fixed for the front door's other modules; bodies come with issue 14.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.frontdoor.model import PayloadVersion


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


def build_event(request: HttpRequest, target: Target) -> dict[str, Any]:
    """The event for `target.payload_version` (function URLs use 2.0 with `$default`)."""
    raise NotImplementedError


def is_text(content_type: str | None, content_encoding: str | None) -> bool:
    """Whether a body of this type reaches the function as text (else base64, isBase64Encoded)."""
    raise NotImplementedError
