"""Responses every surface shares: JSON bodies, Lambda's service errors, the runtime errors,
and what each listener answers for a path it does not serve."""

from __future__ import annotations

import json
import uuid

from emulator import errors, wire
from emulator.httpserver import Request, Response

JSON = "application/json"


def json_response(data: object, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), content_type=JSON)


def service_error(exc: errors.ServiceError, request_id: str | None = None) -> Response:
    """A Lambda service error: its status, `x-amzn-ErrorType`, and Lambda's JSON body."""
    headers = [
        (wire.H_ERROR_TYPE, exc.error_type),
        (wire.H_AMZN_REQUEST_ID, request_id or str(uuid.uuid4())),
    ]
    return Response(exc.status, exc.render(), headers, content_type=JSON)


def unknown_operation(request: Request) -> Response:
    """What Lambda's endpoint answers for a path or method it has no operation for."""
    body = json.dumps({"Type": "User", "message": f"Unknown operation {request.path}"}).encode()
    return Response(
        404, body, [(wire.H_ERROR_TYPE, "UnknownOperationException")], content_type=JSON
    )


def runtime_error(exc: errors.RuntimeApiError) -> Response:
    """A Runtime/Extensions API error: `{"errorMessage", "errorType"}` (RIE errorresponse.go)."""
    return Response(exc.status, exc.render(), content_type=JSON)


def runtime_not_found(request: Request) -> Response:
    body = {"errorMessage": f"Unknown path {request.path}", "errorType": "NotFound"}
    return json_response(body, 404)


def runtime_method_not_allowed(_request: Request) -> Response:
    return Response(
        405,
        b'{"errorMessage":"Method Not Allowed","errorType":"MethodNotAllowed"}',
        content_type=JSON,
    )


def api_not_found(_request: Request) -> Response:
    """An HTTP API's answer for a route it does not have (the front door's own listener)."""
    return Response(404, b'{"message":"Not Found"}', content_type=JSON)
