"""Invoke API (`POST /2015-03-31/functions/{FunctionName}/invocations`): statuses, headers and
error shapes as AWS answered them (cases A1–A23 of the notes)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conformance.calls import client_error, invoke

LS_API = "LS test_lambda_api :: TestLambdaFunction::test_function_name_and_qualifier_validation"
FN_RE_INVOKE = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUAL_RE = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


def test_unknown_function_names_the_latest_arn(aws: Any, arn_prefix: str) -> None:
    # [A1] LS test_lambda :: TestLambdaFeatures::test_invoke_exceptions
    #      › invoke_function_doesnotexist (rec 24-11-2025); the 2023 key lacked `:$LATEST`
    status, code, message = client_error(aws, FunctionName="doesnotexist")
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn_prefix}doesnotexist:$LATEST"


def test_unknown_function_body_has_type_and_capital_message(raw: httpx.Client) -> None:
    # [A1] same key: body {"Type":"User","Message":…} (RNFE is modeled: keys are wire data)
    resp = raw.post("/2015-03-31/functions/doesnotexist/invocations", content=b"{}")
    assert resp.status_code == 404
    assert resp.headers["x-amzn-ErrorType"].startswith("ResourceNotFoundException")
    body = resp.json()
    assert body["Type"] == "User" and body["Message"].startswith("Function not found: ")


def test_unknown_alias_names_it(aws: Any, arn_prefix: str) -> None:
    # [A3] LS test_lambda :: TestLambdaAliases::test_lambda_alias_moving
    #      › invocation_exc_not_existent (rec 25-11-2025)
    status, code, message = client_error(aws, FunctionName="probe", Qualifier="non-existent-alias")
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn_prefix}probe:non-existent-alias"


def test_lowercase_latest_is_looked_up_case_sensitively(aws: Any, arn_prefix: str) -> None:
    # [A4] LS_API[lowercase_latest_qualifier-invoke] › invoke_exception (rec 25-11-2025)
    status, code, message = client_error(
        aws, FunctionName=f"{arn_prefix}probe", Qualifier="$latest"
    )
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn_prefix}probe:$latest"


def test_a_65_character_name_is_not_found_not_invalid(aws: Any, arn_prefix: str) -> None:
    # [A5] LS_API[function_name_too_long-invoke] (rec 25-11-2025)
    status, code, message = client_error(aws, FunctionName="a" * 65)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn_prefix}{'a' * 65}:$LATEST"


def test_incomplete_arn_takes_function_as_the_name(aws: Any, arn_prefix: str) -> None:
    # [A6] LS_API[incomplete_arn-invoke] (rec 25-11-2025)
    status, code, message = client_error(aws, FunctionName=arn_prefix.rstrip(":"))
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Function not found: {arn_prefix}function:$LATEST"


def test_arn_qualifier_that_conflicts_with_the_parameter(
    raw: httpx.Client, arn_prefix: str
) -> None:
    # [A7] LS_API[latest_version_with_additional_qualifier-invoke] (rec 25-11-2025); LS
    #      test_lambda_api :: …test_ops_with_arn_qualifier_mismatch[get_function] (lowercase key)
    name = f"{arn_prefix}probe:$LATEST"
    resp = raw.post(f"/2015-03-31/functions/{name}/invocations?Qualifier=1", content=b"{}")
    assert resp.status_code == 400
    assert resp.headers["x-amzn-ErrorType"].startswith("InvalidParameterValueException")
    assert resp.json() == {
        "Type": "User",
        "message": "The derived qualifier from the function name does not match the specified "
        "qualifier.",
    }


_INVALID_NAMES = {
    # [A8] LS_API[<id>-invoke] › invoke_exception (rec 25-11-2025)
    "invalid_characters_in_function_name": "my-function!",
    "function_name_is_single_invalid": "*",
    "invalid_account_id_in_partial_arn": "invalid-account:function:my-function",
    "invalid_region_in_arn": "arn:aws:lambda:invalid-region:{acct}:function:my-function",
    "non_lambda_arn": "arn:aws:ec2:{region}:{acct}:instance:i-1234567890abcdef0",
    "missing_region_in_arn": "arn:aws:lambda::{acct}:function:my-function",
    "missing_account_id_in_arn": "arn:aws:lambda:{region}::function:my-function",
    "full_arn_with_multiple_qualifiers": "arn:aws:lambda:{region}:{acct}:function:my-function:1:2",
    "partial_arn_with_extra_qualifier": "function:my-function:$LATEST:extra",
    "misspelled_latest_in_arn": "arn:aws:lambda:{region}:{acct}:function:my-function:$LATES",
    "function_name_too_long_and_invalid_region": (
        "arn:aws:lambda:invalid-region:{acct}:function:my-function" + "a" * 170
    ),
    # LS test_lambda_api :: TestLambdaFunction::test_invalid_invoke
    #   › invoke_function_name_pattern_exc (rec 25-11-2025), recorded verbatim
    "test_invalid_invoke": "arn:aws:lambda:{region}:123400000000@function:myfn",
}


@pytest.mark.parametrize("case", list(_INVALID_NAMES), ids=list(_INVALID_NAMES))
def test_invalid_function_name_is_a_validation_error(
    aws: Any, conformance_emulator: Any, case: str
) -> None:
    cfg = conformance_emulator.cfg
    name = _INVALID_NAMES[case].format(region=cfg.region, acct=cfg.account_id)
    status, code, message = client_error(aws, FunctionName=name)
    assert (status, code) == (400, "ValidationException")
    assert message == (
        f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {FN_RE_INVOKE}"
    )


def test_invalid_qualifier_characters(aws: Any) -> None:
    # [A9] LS_API[invalid_characters_in_qualifier-invoke] (rec 25-11-2025)
    status, code, message = client_error(aws, FunctionName="probe", Qualifier="invalid!")
    assert (status, code) == (400, "ValidationException")
    assert message == (
        "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {QUAL_RE}"
    )


def test_qualifier_too_long(aws: Any) -> None:
    # [A9] LS_API[qualifier_too_long-invoke] (rec 25-11-2025)
    status, code, message = client_error(aws, FunctionName="probe", Qualifier="a" * 129)
    assert (status, code) == (400, "ValidationException")
    assert message == (
        f"1 validation error detected: Value '{'a' * 129}' at 'qualifier' failed to satisfy "
        "constraint: Member must have length less than or equal to 128"
    )


def test_arn_of_another_region_is_not_reachable(aws: Any, conformance_emulator: Any) -> None:
    # [A10] LS test_lambda_api :: TestLambdaFunction::test_get_function_wrong_region[invoke]
    #       › wrong_region_exception (rec 25-11-2025)
    cfg = conformance_emulator.cfg
    other = "ap-southeast-1" if cfg.region != "ap-southeast-1" else "eu-west-1"
    name = f"arn:aws:lambda:{other}:{cfg.account_id}:function:probe"
    status, code, message = client_error(aws, FunctionName=name)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Functions from '{other}' are not reachable in this region ('{cfg.region}')"


_JACKSON_LOCATION = (
    "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); "
)
_VALID_VALUE = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"


@pytest.mark.parametrize(
    ("payload", "detail", "column"),
    [
        (b"n\x87r\x9e\xe9\xb5\xd7I\xee\x9bmt", "Invalid UTF-8 start byte 0x87", 3),
        (
            b"\x99\xeb,j\x07\xa1zYh",
            f"Unexpected character ((CTRL-CHAR, code 153)): expected a valid value {_VALID_VALUE}",
            1,
        ),
    ],
    ids=["invalid_utf8_start_byte", "ctrl_char"],
)
def test_payload_that_is_not_json(
    raw: httpx.Client, payload: bytes, detail: str, column: int
) -> None:
    # [A11] LS test_lambda :: TestLambdaErrors::test_lambda_invoke_payload_encoding_error
    #       › invoke_function_invalid_payload_body (rec 24-11-2025): the whole message
    resp = raw.post("/2015-03-31/functions/probe/invocations", content=payload)
    assert resp.status_code == 400
    assert resp.headers["x-amzn-ErrorType"].startswith("InvalidRequestContentException")
    body = resp.json()
    assert body["Type"] == "User"
    assert body["message"] == (
        "Could not parse request body into json: Could not parse payload into json: "
        f"{detail}{_JACKSON_LOCATION}line: 1, column: {column}]"
    )


def test_payload_quoted_with_apostrophes(raw: httpx.Client) -> None:
    # [A11] older form, quoted in LS lambda_service.py (comment near line 455): payload 'test'
    #       → "Unexpected character (''' (code 39)): expected a valid value …". The location
    #       follows the newer recordings above (REDACTED source, Jackson 2.13+ column of the
    #       character itself: 1) ⚠ the older quote reads `(byte[])"'test'"; … column: 2`.
    resp = raw.post("/2015-03-31/functions/probe/invocations", content=b"'test'")
    assert resp.status_code == 400
    assert resp.json()["message"] == (
        "Could not parse request body into json: Could not parse payload into json: "
        f"Unexpected character (''' (code 39)): expected a valid value {_VALID_VALUE}"
        f"{_JACKSON_LOCATION}line: 1, column: 1]"
    )


@pytest.mark.parametrize(
    "event",
    [
        True,
        False,
        None,
        [1, 2],
        1,
        'a "quoted" string with émoji 🙂',
        {"hello": "obi wan!" * 655360},
    ],
    ids=["true", "false", "null", "list", "number", "string", "5MB"],
)
def test_any_json_payload_is_echoed(aws: Any, event: Any) -> None:
    # [A12] LS test_lambda_common.py::TestLambdaRuntimesCommon::test_echo_invoke (rec 12-01-2026);
    #       LS test_lambda :: TestLambdaBaseFeatures::test_large_payloads (rec 24-11-2025)
    resp = aws.invoke(FunctionName="probe", Payload=json.dumps(event))
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert json.loads(resp["Payload"].read()) == event


def test_no_payload_reaches_the_function_as_an_empty_object(aws: Any) -> None:
    # [A12] LS test_lambda_common.py::TestLambdaRuntimesCommon::test_echo_invoke (rec 12-01-2026)
    resp = aws.invoke(FunctionName="probe")
    assert json.loads(resp["Payload"].read()) == {}


def test_request_too_large(aws: Any) -> None:
    # [A13] gh:pelmers/streetwarp-web#14 (2024-12-03); gh:awslabs/aws-athena-query-federation#793
    status, code, message = client_error(
        aws, FunctionName="probe", Payload=json.dumps({"a": "x" * (6 * 1024 * 1024 + 1)})
    )
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert message == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_response_too_large_has_no_byte_count(aws: Any) -> None:
    # [A15] LS test_lambda :: TestLambdaBaseFeatures::test_lambda_too_large_response
    #       › invoke_result, invoke_result_2 (rec 24-11-2025): newest recording, no size
    for _ in range(2):  # the environment stays usable
        result = invoke(aws, "probe", {"mode": "big", "size": 7 * 1024 * 1024})
        assert result.response["FunctionError"] == "Unhandled"
        assert result.response["ExecutedVersion"] == "$LATEST"
        assert result.payload == {
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
            "(6291556 bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }
        assert "generating bytes..." in result.log


def test_response_just_under_the_limit_succeeds(aws: Any) -> None:
    # [A15] LS test_lambda :: TestLambdaBaseFeatures::test_lambda_large_response (rec 24-11-2025)
    resp = aws.invoke(FunctionName="probe", Payload=json.dumps({"mode": "big", "size": 6291456}))
    assert "FunctionError" not in resp
    assert len(resp["Payload"].read()) == 6291458


def test_request_response_success(aws: Any, arn_prefix: str) -> None:
    # [A16] LS test_lambda :: TestLambdaFeatures::test_invocation_type_request_response[python3.10]
    resp = aws.invoke(
        FunctionName=f"{arn_prefix}probe", Payload=b"{}", InvocationType="RequestResponse"
    )
    assert resp["StatusCode"] == 200 and resp["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in resp
    assert resp["Payload"].read() == b"{}"


def test_handler_returning_none_answers_null(aws: Any) -> None:
    # [A17] LS test_lambda :: TestLambdaFeatures::test_invocation_type_no_return_payload
    #       [python-RequestResponse] (rec 24-11-2025)
    resp = aws.invoke(FunctionName="probe", Payload=json.dumps({"mode": "none"}))
    assert resp["Payload"].read() == b"null"
    assert resp["ExecutedVersion"] == "$LATEST"


def test_event_is_202_without_executed_version(aws: Any) -> None:
    # [A18] LS test_lambda :: TestLambdaFeatures::test_invocation_type_event[python3.10]
    resp = aws.invoke(FunctionName="probe", Payload=b"{}", InvocationType="Event")
    assert resp["StatusCode"] == 202
    assert "ExecutedVersion" not in resp
    assert resp["Payload"].read() == b""


def test_dry_run_is_204_without_executed_version(aws: Any) -> None:
    # [A19] LS test_lambda :: TestLambdaFeatures::test_invocation_type_dry_run[python3.10]
    #       (rec 26-04-2023)
    resp = aws.invoke(FunctionName="probe", Payload=b"{}", InvocationType="DryRun")
    assert resp["StatusCode"] == 204
    assert "ExecutedVersion" not in resp
    assert resp["Payload"].read() == b""


def test_request_id_is_the_context_and_log_id(aws: Any) -> None:
    # [A25] LS test_lambda :: TestRequestIdHandling::test_request_id_invoke (rec 24-11-2025)
    result = invoke(aws, "probe", {"mode": "ctx"})
    request_id = result.response["ResponseMetadata"]["RequestId"]
    assert result.payload["aws_request_id"] == request_id
    assert f"START RequestId: {request_id} Version: $LATEST" in result.log
    assert f"END RequestId: {request_id}" in result.log
    assert f"REPORT RequestId: {request_id}\t" in result.log
