"""boto3 against the Invoke API: what botocore parses is what users get."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.embedded import EmulatorThread
from emulator.metrics.report import parse_report


def _log(resp: dict[str, Any]) -> str:
    return base64.b64decode(resp["LogResult"]).decode()


def test_payload_round_trip(lambda_client: Any) -> None:
    event = {"hello": "world", "n": [1, 2, 3], "unicode": "λ"}
    resp = lambda_client.invoke(FunctionName="echo", Payload=json.dumps(event))
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == event


def test_log_tail_has_init_duration_on_first_call_only(
    lambda_client: Any, lambda_reset: EmulatorThread
) -> None:
    first = lambda_client.invoke(FunctionName="echo", Payload=b'{"a": 1}', LogType="Tail")
    second = lambda_client.invoke(FunctionName="echo", Payload=b'{"a": 2}', LogType="Tail")
    log1, log2 = _log(first), _log(second)
    assert log1.startswith("START RequestId: ")
    assert "echo: {'a': 1}" in log1
    assert "\nEND RequestId: " in log1
    r1, r2 = parse_report(log1), parse_report(log2)
    assert r1 is not None and r2 is not None
    assert r1.init_ms is not None and r1.init_ms > 0
    assert r2.init_ms is None
    assert "Init Duration" in log1 and "Init Duration" not in log2
    assert r1.memory_mb == 256
    assert 0 < r2.max_memory_mb <= 256
    assert r2.billed_ms >= 1
    report_line = next(line for line in log2.splitlines() if line.startswith("REPORT"))
    assert report_line.endswith("\t")
    assert "\tBilled Duration: " in report_line


def test_function_error(lambda_client: Any) -> None:
    resp = lambda_client.invoke(FunctionName="boom", Payload=b"{}")
    assert resp["StatusCode"] == 200
    assert resp["FunctionError"] == "Unhandled"
    body = json.loads(resp["Payload"].read())
    assert body["errorMessage"] == "boom"
    assert body["errorType"] == "Exception"
    assert any("raise Exception" in frame for frame in body["stackTrace"])


def test_event_and_dry_run_status_codes(lambda_client: Any) -> None:
    assert (
        lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")[
            "StatusCode"
        ]
        == 202
    )
    assert (
        lambda_client.invoke(FunctionName="echo", InvocationType="DryRun", Payload=b"{}")[
            "StatusCode"
        ]
        == 204
    )


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def test_unknown_function_is_404(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="nope", Payload=b"{}")
    status, code, message = _error(exc)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope:$LATEST"
    )


def test_unknown_qualifier_is_404(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="echo", Qualifier="prod", Payload=b"{}")
    assert _error(exc)[:2] == (404, "ResourceNotFoundException")


def test_payload_not_json_is_400(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="echo", Payload=b"not json")
    status, code, message = _error(exc)
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message.startswith("Could not parse request body into json")


def test_oversized_requests_are_413(lambda_client: Any) -> None:
    big = json.dumps("x" * 6_300_000).encode()
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="echo", Payload=big)
    status, code, message = _error(exc)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert "6291456 bytes" in message
    event = json.dumps("x" * 1_100_000).encode()
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=event)
    status, code, message = _error(exc)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert "too large for the Event invocation type" in message


def test_reserved_concurrency_zero_is_429(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        lambda_client.invoke(FunctionName="throttled", Payload=b"{}")
    assert _error(exc)[:2] == (429, "TooManyRequestsException")
    assert exc.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


@pytest.mark.parametrize(
    "name",
    [
        "ctx",
        "ctx:$LATEST",
        "123456789012:function:ctx",
        "arn:aws:lambda:us-east-1:123456789012:function:ctx",
        "arn:aws:lambda:us-east-1:123456789012:function:ctx:$LATEST",
    ],
)
def test_function_name_forms(lambda_client: Any, name: str) -> None:
    resp = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(resp["Payload"].read())
    assert body["function_name"] == "ctx"
    assert body["invoked_function_arn"].startswith(
        "arn:aws:lambda:us-east-1:123456789012:function:ctx"
    )


def test_context_and_environment(lambda_client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    resp = lambda_client.invoke(FunctionName="ctx", Payload=b"{}", ClientContext=context)
    body = json.loads(resp["Payload"].read())
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "ctx"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/ctx"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.handler"
    assert env["TZ"] == ":UTC"
    assert env["GREETING"] == "hi"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert body["client_context"] == {"k": "v"}
    assert body["memory_limit_in_mb"] == "256"
    # the deadline is a real epoch deadline: timeout 3 s
    assert 0 < body["remaining_ms"] <= 3000


def test_provisioned_environment(lambda_client: Any) -> None:
    resp = lambda_client.invoke(FunctionName="provisioned", Payload=b"{}", LogType="Tail")
    body = json.loads(resp["Payload"].read())
    assert body["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"
    report = parse_report(_log(resp))
    assert report is not None and report.init_ms is None  # initialised ahead of the request
