"""The environment variables Lambda gives a runtime (LAMBDA_SPEC §5), built in one place, and
the sandbox spec of an environment that carries them.

Order of precedence, lowest first: Lambda's own variables, the host's credentials, the
runtime's (`RuntimeCommand.env`: PYTHONPATH, …), then the function's `Environment`. Lambda
refuses reserved keys in a function's environment; the manifest loaders do the same, so a
function cannot override what the platform sets here.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from pathlib import Path

from emulator import wire
from emulator.config import FunctionConfig
from emulator.sandbox.base import SandboxSpec
from emulator.sandbox.runtimes import RuntimeCommand

# Passed through from the host when set: what a role (or a developer's shell) provides.
HOST_PASSTHROUGH = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "LD_LIBRARY_PATH",
)
# Lambda's PATH, /var/lang/bin first (LocalStack's AWS-recorded
# TestLambdaRuntimesCommon::test_introspection_invoke[python3.13], 2026-01); the host's follows
# it so local tools a function calls resolve.
LAMBDA_PATH = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
# Lambda's X-Ray daemon listens on 169.254.100.1:2000 (same recording); an X-Ray daemon run
# locally listens on 127.0.0.1:2000, so the SDKs' UDP segments reach it here.
XRAY_DAEMON_HOST = "127.0.0.1"
XRAY_DAEMON_PORT = 2000


def log_stream_name(version: str = wire.LATEST) -> str:
    today = dt.datetime.now(dt.UTC)
    return f"{today:%Y/%m/%d}/[{version}]{secrets.token_hex(16)}"


def lambda_environment(
    fn: FunctionConfig,
    command: RuntimeCommand,
    *,
    region: str,
    runtime_api: str,
    init_type: str,
    tmp_dir: Path,
    host_env: Mapping[str, str],
    version: str = wire.LATEST,
) -> dict[str, str]:
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": fn.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": version,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name(version),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": fn.handler,
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LAMBDA_RUNTIME_DIR": command.runtime_dir,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_INITIALIZATION_TYPE": init_type,
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": f"{XRAY_DAEMON_HOST}:{XRAY_DAEMON_PORT}",
        "_AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON_HOST,
        "_AWS_XRAY_DAEMON_PORT": str(XRAY_DAEMON_PORT),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": f"{LAMBDA_PATH}:{host_env.get('PATH', '')}",
        "TMPDIR": str(tmp_dir),
    }
    for key in HOST_PASSTHROUGH:
        if host_env.get(key):
            env[key] = host_env[key]
    if "AWS_ACCESS_KEY_ID" not in env:
        # What a role gives: session credentials, the token beside the key pair (same
        # recording). A host's own long-term key pair is passed on without a made-up token.
        env["AWS_ACCESS_KEY_ID"] = "lambda-emu"
        env["AWS_SECRET_ACCESS_KEY"] = "lambda-emu"
        env["AWS_SESSION_TOKEN"] = "lambda-emu"
    env.setdefault("AWS_SECRET_ACCESS_KEY", "lambda-emu")
    if command.execution_env:
        env["AWS_EXECUTION_ENV"] = command.execution_env
    if fn.log_format == "JSON":
        # What the managed runtimes' clients read (aws-lambda-ric LogPatch.js,
        # awslambdaric bootstrap.py): the format, and the application log level
        # (docs monitoring-cloudwatchlogs-advanced.html: INFO unless configured; ⚠ that Lambda
        # sets neither variable with the Text format).
        env["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env["AWS_LAMBDA_LOG_LEVEL"] = (fn.application_log_level or "INFO").upper()
    env.update(command.env)
    env.update(fn.environment)
    return env


def sandbox_spec(
    fn: FunctionConfig,
    command: RuntimeCommand,
    *,
    environment_id: str,
    state_dir: Path,
    region: str,
    runtime_api: str,
    init_type: str,
    host_env: Mapping[str, str],
    extensions: tuple[Path, ...],
) -> SandboxSpec:
    """What a sandbox needs to run one environment of `fn`: its command, Lambda's variables,
    its code directory, memory, its own /tmp, and its external extensions."""
    tmp_dir = state_dir / "tmp" / f"{fn.name}-{environment_id}"
    env = lambda_environment(
        fn,
        command,
        region=region,
        runtime_api=runtime_api,
        init_type=init_type,
        tmp_dir=tmp_dir,
        host_env=host_env,
        version=fn.version,
    )
    return SandboxSpec(
        environment_id=environment_id,
        function_name=fn.name,
        argv=command.argv,
        env=env,
        cwd=fn.code_dir,
        memory_mb=fn.memory_mb,
        tmp_dir=tmp_dir,
        extensions=extensions,
        exec_wrapper=exec_wrapper(fn, env),
        cpu_quota=fn.debug_port is None,
        task_overlay=command.task_overlay,
        env_unmounted={
            key: value
            for key, value in command.env_unmounted.items()
            if env.get(key) == command.env.get(key)
        },
    )


def exec_wrapper(fn: FunctionConfig, env: Mapping[str, str]) -> str | None:
    """The function's AWS_LAMBDA_EXEC_WRAPPER: every managed runtime honours it, a custom
    runtime's bootstrap does not (LocalStack's test_runtime_wrapper_invoke: "Does NOT work
    for provided runtimes")."""
    if fn.runtime.startswith("provided"):
        return None
    return env.get("AWS_LAMBDA_EXEC_WRAPPER") or None
