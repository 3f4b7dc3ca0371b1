"""The execution environment a function sees: variables, user, paths, limits (cases D1–D7)."""

from __future__ import annotations

import os
import re
from typing import Any

import pytest

from conformance.calls import invoke
from emulator.sandbox.process import lambda_paths

LS_INTROSPECT = "LS test_lambda_common :: TestLambdaRuntimesCommon::test_introspection_invoke"


@pytest.fixture(scope="module")
def environ(aws: Any) -> dict[str, str]:
    return invoke(aws, "probe", {"mode": "env"}).payload  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def introspection(aws: Any) -> dict[str, Any]:
    return invoke(aws, "probe", {"mode": "introspect"}).payload  # type: ignore[no-any-return]


# [D1] LS_INTROSPECT[python3.13] › invocation_result_payload.environment (rec 12-01-2026)
_FIXED = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_NAME": "probe",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/probe",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "_HANDLER": "app.handler",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "TEST_KEY": "TEST_VAL",
}


@pytest.mark.parametrize("key", list(_FIXED))
def test_fixed_variables(environ: dict[str, str], key: str) -> None:
    # [D1] LS_INTROSPECT[python3.13] (rec 12-01-2026)
    assert environ.get(key) == _FIXED[key]


def test_region_variables(environ: dict[str, str], conformance_emulator: Any) -> None:
    # [D1] LS_INTROSPECT[python3.13] (rec 12-01-2026)
    region = conformance_emulator.cfg.region
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == region


@pytest.mark.parametrize(
    "key",
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ],
)
def test_credentials_are_a_session(environ: dict[str, str], key: str) -> None:
    # [D1] LS_INTROSPECT[python3.13]: all three <set> (a role's session credentials)
    assert environ.get(key)


@pytest.mark.parametrize(
    "key", ["AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_PORT"]
)
def test_xray_daemon_variables(environ: dict[str, str], key: str) -> None:
    # [D1] LS_INTROSPECT[python3.13]: 169.254.100.1:2000 / 169.254.100.1 / 2000
    daemon = {
        "AWS_XRAY_DAEMON_ADDRESS": environ.get("_AWS_XRAY_DAEMON_ADDRESS", "")
        + ":"
        + environ.get("_AWS_XRAY_DAEMON_PORT", ""),
    }
    assert environ.get(key)
    if key in daemon:
        assert environ[key] == daemon[key]
    if key == "_AWS_XRAY_DAEMON_PORT":
        assert environ[key] == "2000"


def test_trace_id_is_set(environ: dict[str, str]) -> None:
    # [D1] LS_INTROSPECT[python3.13]: _X_AMZN_TRACE_ID=<set>
    assert re.match(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", environ["_X_AMZN_TRACE_ID"])


def test_log_stream_name(environ: dict[str, str]) -> None:
    # [C10] LS transformer_utility.py PATTERN_LOGSTREAM_ID, applied to every recorded stream
    assert re.fullmatch(
        r"\d{4}/\d{1,2}/\d{1,2}/\[\$LATEST\][0-9a-f]{8,32}", environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    )


def test_path_starts_with_var_lang_bin(environ: dict[str, str]) -> None:
    # [D1] LS_INTROSPECT[python3.13]: PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin
    assert environ["PATH"].startswith("/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin")


@pytest.mark.parametrize("absent", ["AWS_LAMBDA_FUNCTION_TIMEOUT", "_LAMBDA_TELEMETRY_LOG_FD"])
def test_not_on_aws(environ: dict[str, str], absent: str) -> None:
    # [D1] LS test_lambda_common.py skip list: LocalStack-only variables; telemetry fd hidden
    #      from Python
    assert absent not in environ


@pytest.mark.skipif(
    lambda_paths.can_present() is not None,
    reason="Lambda's paths need root and a mount namespace (lambda_paths); local paths here",
)
@pytest.mark.parametrize(
    ("key", "value"), [("LAMBDA_TASK_ROOT", "/var/task"), ("LAMBDA_RUNTIME_DIR", "/var/runtime")]
)
def test_lambda_paths(environ: dict[str, str], key: str, value: str) -> None:
    # [D1] LS_INTROSPECT[python3.13] (rec 12-01-2026)
    assert environ[key] == value


def test_provided_runtime_has_no_execution_env(aws: Any) -> None:
    # [D2] LS_INTROSPECT[provided.al2023] (rec 13-01-2026): no AWS_EXECUTION_ENV, _HANDLER kept
    env = invoke(aws, "custom", {"mode": "env"}).payload
    assert "AWS_EXECUTION_ENV" not in env
    assert env["_HANDLER"] == "function.handler"


def test_cwd_is_the_task_root(introspection: dict[str, Any], environ: dict[str, str]) -> None:
    # [D5] LS test_lambda :: TestLambdaBehavior::test_runtime_introspection_x86 (rec 24-11-2025):
    #      cwd /var/task = LAMBDA_TASK_ROOT (here: the task root wherever it lives)
    assert introspection["cwd"] == environ["LAMBDA_TASK_ROOT"]


def test_tmp_is_sticky_and_world_writable(introspection: dict[str, Any]) -> None:
    # [D5] LS test_lambda :: TestLambdaBehavior::test_runtime_introspection_x86 (rec 24-11-2025)
    assert (introspection["tmp_mode"], introspection["tmp_uid"]) == ("drwxrwxrwt", 0)


@pytest.mark.skipif(
    lambda_paths.can_present() is not None or os.geteuid() != 0,
    reason="the name needs a user of the function's own (root) and a mount namespace; "
    "functions run as the host user here",
)
def test_user_is_sbx_user1051(introspection: dict[str, Any]) -> None:
    # [D5] same recording: getpass.getuser() == "sbx_user1051" (its uid unrecorded ⚠: here
    #      nobody's, named so in the environment's /etc/passwd)
    assert introspection["user"] == "sbx_user1051"


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="Lambda's limits (NPROC: a user of the function's own) need the emulator to run as root",
)
def test_ulimits(introspection: dict[str, Any]) -> None:
    # [D6] LS test_lambda :: TestLambdaBehavior::test_runtime_ulimits › invoke_runtime_ulimits
    #      (rec 24-11-2025)
    assert introspection["ulimits"] == {
        "AS": [-1, -1], "CORE": [10737418240, 10737418240], "CPU": [-1, -1],
        "DATA": [-1, -1], "FSIZE": [-1, -1], "MEMLOCK": [65536, 65536],
        "NOFILE": [1024, 1024], "NPROC": [742, 742], "RSS": [-1, -1], "STACK": [8388608, -1],
    }  # fmt: skip


def test_exec_wrapper_runs_the_runtime(aws: Any) -> None:
    # [D7] LS test_lambda_common :: TestLambdaRuntimesCommon::test_runtime_wrapper_invoke
    #      [python3.12] (rec 12-01-2026); DOC runtimes-modify.html#runtime-wrapper
    env = invoke(aws, "wrapped", {"mode": "env"}).payload
    assert env["WRAPPER_VAR"] == "wrapper-test-value"
