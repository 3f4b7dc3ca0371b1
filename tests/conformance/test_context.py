"""The Python context object (cases E1–E2, A26 of the notes)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from conformance.calls import invoke

LS_INTROSPECT = "LS test_lambda_common :: TestLambdaRuntimesCommon::test_introspection_invoke"


def test_unqualified_invoke(aws: Any, arn_prefix: str) -> None:
    # [E1] LS_INTROSPECT[python3.13] › invocation_result_payload.ctx (rec 12-01-2026)
    result = invoke(aws, "probe", {"mode": "ctx"})
    ctx = result.payload
    assert ctx["function_name"] == "probe"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == f"{arn_prefix}probe"
    assert ctx["memory_limit_in_mb"] == "128"  # a string
    assert ctx["aws_request_id"] == result.response["ResponseMetadata"]["RequestId"]
    assert ctx["log_group_name"] == "/aws/lambda/probe"
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}/\[\$LATEST\][0-9a-f]{8,32}", ctx["log_stream_name"])
    assert 0 < ctx["remaining_time_in_millis"] <= 3000


def test_qualified_arn_is_kept_as_written(aws: Any, arn_prefix: str) -> None:
    # [E2] LS_INTROSPECT[python3.13] › invocation_result_payload_qualified (rec 12-01-2026)
    ctx = invoke(aws, f"{arn_prefix}probe:$LATEST", {"mode": "ctx"}).payload
    assert ctx["invoked_function_arn"] == f"{arn_prefix}probe:$LATEST"
    assert ctx["function_version"] == "$LATEST"


def test_no_client_context_is_none(aws: Any) -> None:
    # [A26] LS test_lambda :: TestLambdaFeatures::test_invocation_with_qualifier
    #       › invocation-response "client_context": null (rec 24-11-2025)
    assert invoke(aws, "probe", {"mode": "ctx"}).payload["client_context"] is None


def test_client_context_reaches_the_function(aws: Any) -> None:
    # [A26] LS test_lambda :: TestLambdaFeatures::test_lambda_with_context › invocation
    #       (rec 09-09-2022, Node; the Python runtime exposes the same object)
    context = {
        "custom": {"foo": "bar"},
        "client": {"snap": ["crackle", "pop"]},
        "env": {"fizz": "buzz"},
    }
    ctx = invoke(
        aws,
        "probe",
        {"mode": "ctx"},
        ClientContext=base64.b64encode(json.dumps(context).encode()).decode(),
    ).payload
    assert ctx["client_context"] == "set"
