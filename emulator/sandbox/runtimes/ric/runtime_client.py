"""`runtime_client` for awslambdaric where its C extension was not built (macOS, Windows).

The same four calls as awslambdaric/runtime_client.cpp, over http.client to the Runtime API
2018-06-01 at AWS_LAMBDA_RUNTIME_API: `next` returns (payload, headers) with the deadline as
an integer, `post_invocation_result` and `post_error` post the answer. As in aws-lambda-cpp,
an error carries its X-Ray cause header and no error-type header (the type is in the body).
Standard library only, Python 3.9+: it runs in the function's interpreter, not the emulator's.
"""

from __future__ import annotations

import http.client
import os
from typing import Any

_PREFIX = "/2018-06-01/runtime/invocation"
_state: dict[str, Any] = {}


def initialize_client(user_agent: str) -> None:
    endpoint = os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    host, _, port = endpoint.rpartition(":")
    _state["host"], _state["port"], _state["agent"] = host, int(port), user_agent
    _state["conn"] = None


def _connection() -> http.client.HTTPConnection:
    conn = _state.get("conn")
    if conn is None:
        if "host" not in _state:
            raise RuntimeError("Client not yet initalized")
        # no timeout: /next blocks until the next invocation, however long that is
        conn = http.client.HTTPConnection(_state["host"], _state["port"])
        _state["conn"] = conn
    return conn


def _request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Any:
    headers = {"User-Agent": _state.get("agent", "lambda-emu-ric"), **headers}
    for attempt in (1, 2):
        conn = _connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            return response, data
        except (ConnectionError, http.client.HTTPException):
            conn.close()
            _state["conn"] = None
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def next() -> tuple[bytes, dict[str, object | None]]:
    response, payload = _request("GET", f"{_PREFIX}/next", None, {})
    if response.status != 200:
        raise RuntimeError("Failed to get next")

    def header(name: str) -> str | None:
        value = response.getheader(name)
        return value or None

    deadline = header("Lambda-Runtime-Deadline-Ms")
    return payload, {
        "Lambda-Runtime-Aws-Request-Id": header("Lambda-Runtime-Aws-Request-Id"),
        "Lambda-Runtime-Trace-Id": header("Lambda-Runtime-Trace-Id"),
        "Lambda-Runtime-Invoked-Function-Arn": header("Lambda-Runtime-Invoked-Function-Arn"),
        "Lambda-Runtime-Deadline-Ms": int(deadline) if deadline else 0,
        "Lambda-Runtime-Client-Context": header("Lambda-Runtime-Client-Context"),
        "Content-Type": header("Content-Type"),
        "Lambda-Runtime-Cognito-Identity": header("Lambda-Runtime-Cognito-Identity"),
        "Lambda-Runtime-Aws-Tenant-Id": header("Lambda-Runtime-Aws-Tenant-Id"),
        "Lambda-Runtime-Invocation-Id": header("Lambda-Runtime-Invocation-Id"),
    }


def post_invocation_result(
    invoke_id: str, result: bytes, content_type: str, *_more: object
) -> None:
    response, _ = _request(
        "POST",
        f"{_PREFIX}/{invoke_id}/response",
        result,
        {"Content-Type": content_type, "Content-Length": str(len(result))},
    )
    if response.status >= 300:
        raise RuntimeError("Failed to post invocation response")


def post_error(invoke_id: str, error: str, xray_fault: str, *_more: object) -> None:
    body = error.encode("utf-8")
    response, _ = _request(
        "POST",
        f"{_PREFIX}/{invoke_id}/error",
        body,
        {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Lambda-Runtime-Function-XRay-Error-Cause": xray_fault,
        },
    )
    if response.status >= 300:
        raise RuntimeError("Failed to post invocation error")
