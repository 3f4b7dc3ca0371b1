"""The Node.js runtime (nodejs20.x through AWS's aws-lambda-ric): error payloads, context,
variables, logs (cases A16, A17, A20, A26, B2, C4, D3, D7, E2, E5).

Where the recording is of another Node version (nodejs16.x, nodejs22.x), the value is one
every Node runtime shares in that recording's parametrisation or in the runtime interface
client's code (aws-lambda-ric 3.3.0, `dist/index.mjs`, the build of
aws/aws-lambda-nodejs-runtime-interface-client's `src/`); ⚠ marks a value carried over by
analogy.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from typing import Any

import pytest

from conformance.calls import invoke
from emulator.sandbox.process import lambda_paths

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

NODE = "node_probe"
UUID = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"
ISO_MS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


@pytest.fixture(scope="module")
def node_env(aws: Any) -> dict[str, str]:
    return invoke(aws, NODE, {"mode": "env"}).payload  # type: ignore[no-any-return]


def test_uncaught_error_payload(aws: Any) -> None:
    # [B2] LS test_lambda_common :: TestLambdaRuntimesCommon::test_uncaught_exception_invoke
    #      [nodejs16.x … nodejs24.x] › error_result (rec 12-01-2026): `throw Error(`Error: ${msg}`)`
    #      gives errorType "Error", errorMessage "Error: some_error_msg", trace, in that order;
    #      FunctionError Unhandled
    r = invoke(aws, NODE, {"mode": "raise", "error_msg": "some_error_msg"})
    assert r.response["FunctionError"] == "Unhandled"
    assert list(r.payload) == ["errorType", "errorMessage", "trace"]
    assert (r.payload["errorType"], r.payload["errorMessage"]) == (
        "Error",
        "Error: some_error_msg",
    )
    # the trace is error.stack split at newlines (RIC Errors.toRapidResponse); the snapshot
    # replaces it with <stack-trace>
    trace = r.payload["trace"]
    assert trace[0] == "Error: Error: some_error_msg"
    assert trace[1:] and all(line.startswith("    at ") for line in trace[1:])


def test_success_has_no_function_error(aws: Any) -> None:
    # [A16] LS test_lambda :: TestLambdaFeatures::test_invocation_type_request_response
    #       [nodejs16.x] (rec 24-11-2025): 200, ExecutedVersion $LATEST, Payload {}
    r = invoke(aws, NODE, {})
    assert r.response["StatusCode"] == 200
    assert r.response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in r.response
    assert r.payload == {}


def test_undefined_is_null(aws: Any) -> None:
    # [A17] LS test_lambda :: TestLambdaFeatures::test_invocation_type_no_return_payload
    #       [nodejs-RequestResponse] (rec 24-11-2025): the 4 bytes `null`
    resp = aws.invoke(FunctionName=NODE, Payload=json.dumps({"mode": "none"}))
    assert resp["Payload"].read() == b"null"


def test_console_log_line_in_the_tail(aws: Any) -> None:
    # [A20]/[C4] LS test_lambda :: TestLambdaFeatures::test_invocation_with_logs[nodejs16.x]
    #       › logs (rec 24-11-2025): "<ISO date>\t<id>\tINFO\t{}\n" between START and END
    r = invoke(aws, NODE, {})
    request_id = r.response["ResponseMetadata"]["RequestId"]
    lines = r.log.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("START RequestId: "))
    assert lines[start] == f"START RequestId: {request_id} Version: $LATEST\n"
    assert re.fullmatch(rf"{ISO_MS}\t{request_id}\tINFO\t\{{\}}\n", lines[start + 1])
    assert lines[start + 2] == f"END RequestId: {request_id}\n"


def test_context_fields(aws: Any, arn_prefix: str) -> None:
    # [E5] LS test_lambda :: TestLambdaFeatures::test_lambda_with_context › invocation
    #      (nodejs16.x, rec 09-09-2022): callbackWaitsForEmptyEventLoop true, functionVersion
    #      $LATEST, memoryLimitInMB "128" (a string), logGroupName /aws/lambda/<fn>,
    #      invokedFunctionArn unqualified; [A26] clientContext is the caller's object as sent
    client_context = {"custom": {"foo": "bar"}, "client": {"snap": ["crackle", "pop"]}}
    client_context["env"] = {"fizz": "buzz"}
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    ctx = invoke(aws, NODE, {"mode": "ctx"}, ClientContext=encoded).payload
    assert ctx["callbackWaitsForEmptyEventLoop"] is True
    assert ctx["functionName"] == NODE
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["memoryLimitInMB"] == "128"
    assert ctx["logGroupName"] == f"/aws/lambda/{NODE}"
    assert ctx["invokedFunctionArn"] == f"{arn_prefix}{NODE}"
    assert re.fullmatch(UUID, ctx["awsRequestId"])
    # [C10] log stream name <YYYY/MM/DD/[$LATEST]hex>
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["logStreamName"])
    assert ctx["clientContext"] == client_context
    assert 0 < ctx["remaining"] <= 3000


def test_qualified_arn_is_kept(aws: Any, arn_prefix: str) -> None:
    # [E2] LS test_lambda_common :: …::test_introspection_invoke › invocation_result_payload_
    #      qualified (python3.13, nodejs22.x, provided.al2023 agree; rec 12-01-2026)
    ctx = invoke(aws, f"{arn_prefix}{NODE}:$LATEST", {"mode": "ctx"}).payload
    assert ctx["invokedFunctionArn"] == f"{arn_prefix}{NODE}:$LATEST"


def test_node_variables(node_env: dict[str, str]) -> None:
    # [D3] LS test_lambda_common :: TestLambdaRuntimesCommon::test_introspection_invoke
    #      [nodejs22.x] (rec 12-01-2026): D1's set with AWS_EXECUTION_ENV=AWS_Lambda_<runtime>
    #      (⚠ nodejs20.x by analogy with the recorded nodejs22.x), _HANDLER=index.handler, no
    #      LC_CTYPE and no PYTHONPATH
    assert node_env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert node_env["_HANDLER"] == "index.handler"
    assert node_env["TEST_KEY"] == "TEST_VAL"
    assert node_env["TZ"] == ":UTC"
    assert node_env["LANG"] == "en_US.UTF-8"
    assert "PYTHONPATH" not in node_env
    assert "LC_CTYPE" not in node_env


@pytest.mark.skipif(
    lambda_paths.can_present() is not None,
    reason="Lambda's paths need root and a mount namespace (lambda_paths); local paths here",
)
def test_node_path_ends_with_the_runtime_and_the_task(node_env: dict[str, str]) -> None:
    # [D3] same recording: NODE_PATH=/opt/nodejs/node22/node_modules:/opt/nodejs/node_modules:
    #      /var/runtime/node_modules:/var/runtime:/var/task; LAMBDA_TASK_ROOT /var/task
    assert node_env["NODE_PATH"].split(":")[-2:] == ["/var/runtime", "/var/task"]
    assert node_env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert node_env["LAMBDA_RUNTIME_DIR"] == "/var/runtime"


def test_exec_wrapper_runs_the_node_runtime(aws: Any) -> None:
    # [D7] LS test_lambda_common :: TestLambdaRuntimesCommon::test_runtime_wrapper_invoke
    #      [nodejs16.x … nodejs24.x] (rec 12-01-2026): WRAPPER_VAR visible in process.env
    env = invoke(aws, "node_wrapped", {"mode": "env"}).payload
    assert env["WRAPPER_VAR"] == "wrapper-test-value"
