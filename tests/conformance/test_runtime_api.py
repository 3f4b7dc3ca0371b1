"""Runtime API `2018-06-01` as a custom runtime sees it (docs runtimes-api.html; the Python
client's expectations, RIC)."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from conformance.calls import invoke


def _headers(aws: Any) -> tuple[dict[str, str], Any]:
    result = invoke(aws, "custom", {"mode": "headers"})
    return {k.lower(): v for k, v in result.payload.items()}, result


def test_next_carries_the_invocation_headers(aws: Any, arn_prefix: str) -> None:
    # DOC runtimes-api.html "Next invocation": Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
    # -Invoked-Function-Arn, -Trace-Id
    headers, result = _headers(aws)
    assert (
        headers["lambda-runtime-aws-request-id"] == result.response["ResponseMetadata"]["RequestId"]
    )
    assert headers["lambda-runtime-invoked-function-arn"] == f"{arn_prefix}custom"
    deadline = int(headers["lambda-runtime-deadline-ms"])
    assert 0 < deadline - time.time() * 1000 <= 3000
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]",
        headers["lambda-runtime-trace-id"],
    )


def test_callers_trace_header_is_honoured(raw: httpx.Client) -> None:
    # DOC services-xray.html: "Lambda … adds a tracing header to the request if one is not
    # present"; a caller's X-Amzn-Trace-Id is the invocation's trace (Root kept)
    root = "Root=1-5759e988-bd862e3fe1be46a994272793"
    resp = raw.post(
        "/2015-03-31/functions/custom/invocations",
        json={"mode": "headers"},
        headers={"X-Amzn-Trace-Id": f"{root};Parent=53995c3f42cd8ad8;Sampled=1"},
    )
    trace = {k.lower(): v for k, v in resp.json().items()}["lambda-runtime-trace-id"]
    assert trace.startswith(root + ";")


def test_response_under_a_wrong_request_id(aws: Any) -> None:
    # DOC runtimes-api.html "Invocation response": 400 for an unknown request id; RIE
    # rapi/rendering/render_error.go body {"errorMessage":"Invalid request ID","errorType":…}
    answer = invoke(aws, "custom", {"mode": "wrong_id"}).payload
    assert answer["status"] == 400
    assert answer["body"]["errorType"] == "InvalidRequestID"
