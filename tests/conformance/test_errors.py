"""Errors in init and invoke: the body, FunctionError and ExecutedVersion AWS answered
(cases B1–B10 of the notes)."""

from __future__ import annotations

import re
from typing import Any

from conformance.calls import invoke

UUID = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"


def _exit_error(result: Any, reason: str) -> None:
    assert result.response["FunctionError"] == "Unhandled"
    assert result.response["ExecutedVersion"] == "$LATEST"
    assert list(result.payload) == ["errorType", "errorMessage"]
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert re.fullmatch(
        f"RequestId: {UUID} Error: {re.escape(reason)}", result.payload["errorMessage"]
    )


def test_handler_exception(aws: Any, conformance_emulator: Any) -> None:
    # [B1] LS test_lambda :: TestLambdaErrors::test_lambda_handler_error › invocation_error
    #      (rec 24-11-2025)
    result = invoke(aws, "probe", {"mode": "raise"})
    assert result.response["StatusCode"] == 200
    assert result.response["FunctionError"] == "Unhandled"
    assert result.response["ExecutedVersion"] == "$LATEST"
    payload = result.payload
    assert list(payload) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert payload["errorMessage"] == "Handler fails"
    assert payload["errorType"] == "Exception"
    assert payload["requestId"] == result.response["ResponseMetadata"]["RequestId"]
    assert payload["stackTrace"][-1].endswith('    raise Exception("Handler fails")\n')


def test_provided_runtime_error_type_is_verbatim(aws: Any) -> None:
    # [B2] LS test_lambda_runtimes :: TestGoProvidedRuntimes::test_uncaught_exception_invoke
    #      [provided.al2023] › error_result (rec 25-11-2025)
    result = invoke(aws, "custom", {"error_msg": "some_error_msg"})
    assert result.response["FunctionError"] == "Unhandled"
    assert result.payload == {"errorMessage": "Error: some_error_msg", "errorType": "errorString"}


def test_exception_at_import(aws: Any) -> None:
    # [B3] LS test_lambda :: TestLambdaErrors::test_lambda_runtime_error › invocation_error
    #      (rec 24-11-2025): the exception class, requestId "", the import frames
    result = invoke(aws, "init_raise", {})
    assert result.response["FunctionError"] == "Unhandled"
    assert result.response["ExecutedVersion"] == "$LATEST"
    payload = result.payload
    assert payload["errorMessage"] == "Runtime startup fails"
    assert payload["errorType"] == "Exception"
    assert payload["requestId"] == ""
    assert payload["stackTrace"][-1].endswith(
        ', line 1, in <module>\n    raise Exception("Runtime startup fails")\n'
    )


def test_exit_0_during_init(aws: Any) -> None:
    # [B7] LS test_lambda :: TestLambdaErrors::test_lambda_runtime_exit › invocation_error
    #      (rec 24-11-2025)
    _exit_error(invoke(aws, "init_exit0", {}), "Runtime exited without providing a reason")


def test_exit_0_during_invoke(aws: Any) -> None:
    # [B8] LS test_lambda :: TestLambdaErrors::test_lambda_handler_exit › invocation_error
    #      (rec 24-11-2025)
    _exit_error(
        invoke(aws, "probe", {"mode": "exit", "code": 0}),
        "Runtime exited without providing a reason",
    )


def test_exit_1_during_invoke(aws: Any) -> None:
    # [B9] gh:floci-io/floci#3314, real-AWS column (2026-09)
    _exit_error(
        invoke(aws, "probe", {"mode": "exit", "code": 1}),
        "Runtime exited with error: exit status 1",
    )


def test_timeout_names_the_configured_timeout(aws: Any) -> None:
    # [B6] LS test_lambda :: TestLambdaBehavior::test_lambda_invoke_with_timeout › invoke-result
    #      (rec 25-11-2025): errorType first, the configured timeout with 2 decimals
    result = invoke(aws, "probe_timeout", {"mode": "sleep", "seconds": 2})
    assert result.response["FunctionError"] == "Unhandled"
    assert result.response["ExecutedVersion"] == "$LATEST"
    assert list(result.payload) == ["errorType", "errorMessage"]
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        f"RequestId: {UUID} Error: Task timed out after 1.00 seconds",
        result.payload["errorMessage"],
    )
    assert "done waiting" not in result.log


def test_missing_exec_wrapper_exits_127(aws: Any) -> None:
    # [B10] LS test_lambda :: TestLambdaErrors::test_lambda_runtime_wrapper_not_found
    #       › invocation_error (rec 24-11-2025)
    _exit_error(invoke(aws, "wrapper_missing", {}), "Runtime exited with error: exit status 127")
