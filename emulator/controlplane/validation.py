"""CreateFunction's and UpdateFunctionConfiguration's checks, with AWS's messages, and the
`FunctionConfig` a record runs as.

AWS checks a request against its model first (ValidationException: `1 validation error
detected: Value '…' at '…' failed to satisfy constraint: …`), then against the service's own
rules (InvalidParameterValueException). The configuration that passes is then built by the
manifests' own validation (`emulator.manifests.validate.build`), so a function created through
the API is the same `FunctionConfig` a manifest would declare; anything that validation still
refuses is answered InvalidParameterValueException with its message.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from emulator import errors
from emulator.arns import ValidationError
from emulator.config import FunctionConfig, LogFormat
from emulator.manifests import validate

# AWS's enum as it prints it (LocalStack's AWS-recorded TestLambdaFunction::
# test_create_lambda_exceptions › invalid_runtime_exc, 2026-01-12), in its order
AWS_RUNTIMES = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
)
# ⚠ runtimes AWS no longer accepts for creating or updating (docs: lambda-runtimes.html,
# "Deprecated runtimes": block function create/update dates already past)
DEPRECATED_RUNTIMES = (
    "python3.7", "python3.6", "python2.7", "nodejs14.x", "nodejs12.x", "nodejs10.x",
    "nodejs8.10", "nodejs6.10", "nodejs4.3", "nodejs", "java8", "dotnetcore3.1",
    "dotnetcore2.1", "dotnetcore1.0", "dotnet5.0", "dotnet7", "go1.x", "ruby2.7", "ruby2.5",
    "provided",
)  # fmt: skip
ROLE_PATTERN = r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"
_ROLE = re.compile(r"arn:(aws[a-zA-Z\-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")
HANDLER_PATTERN = r"[^\s]+"


class ModelValidation(ValidationError):
    """A request that fails the model: the body carries `message` only (no `Type`), as the
    AWS-recorded ValidationExceptions show (test_create_lambda_exceptions › invalid_role)."""

    def body(self) -> dict[str, str]:
        return {"message": self.message}


def violation(value: object, field: str, constraint: str) -> ModelValidation:
    shown = value if isinstance(value, str) else json.dumps(value)
    return ModelValidation(
        f"1 validation error detected: Value '{shown}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _integer(cfg: dict[str, Any], key: str, field: str, low: int, high: int) -> None:
    value = cfg.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise violation(value, field, "Member must be an integer")  # ⚠ the SDKs type-check
    if value > high:
        # Timeout: gh:covidatlas/li#575 (2020-08) recorded `Value '3000' at 'timeout' …
        # less than or equal to 900`; ⚠ MemorySize's and EphemeralStorage's are the same shape
        raise violation(str(value), field, f"Member must have value less than or equal to {high}")
    if value < low:
        raise violation(str(value), field, f"Member must have value greater than or equal to {low}")


def check_configuration(cfg: dict[str, Any], *, creating: bool) -> None:
    """The checks of CreateFunction (`creating`) and UpdateFunctionConfiguration."""
    role = cfg.get("Role")
    if (role is not None or creating) and (not isinstance(role, str) or not _ROLE.fullmatch(role)):
        raise violation(
            role or "", "role", f"Member must satisfy regular expression pattern: {ROLE_PATTERN}"
        )
    archs = cfg.get("Architectures")
    if archs is not None:
        shown = "[" + ", ".join(str(a) for a in archs) + "]"
        if len(archs) > 1:
            # AWS-recorded test_create_lambda_exceptions › multiple_architectures (2026-01)
            raise violation(
                shown, "architectures", "Member must have length less than or equal to 1"
            )
        if any(a not in ("x86_64", "arm64") for a in archs):
            raise violation(
                shown,
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: "
                "[x86_64, arm64], Member must not be null]",
            )
    _integer(cfg, "Timeout", "timeout", 1, 900)
    _integer(cfg, "MemorySize", "memorySize", 128, 10240)  # ⚠ AWS's model says 32768
    storage = cfg.get("EphemeralStorage")
    if storage is not None:
        _integer(storage, "Size", "ephemeralStorage.size", 512, 10240)
    handler = cfg.get("Handler")
    if handler is not None and (
        not isinstance(handler, str) or not re.fullmatch(HANDLER_PATTERN, handler)
    ):
        # ⚠ unrecorded: the model's pattern, in the model-validation shape
        raise violation(
            handler, "handler", f"Member must satisfy regular expression pattern: {HANDLER_PATTERN}"
        )
    if isinstance(handler, str) and len(handler) > 128:
        raise violation(handler, "handler", "Member must have length less than or equal to 128")
    runtime = cfg.get("Runtime")
    if runtime is not None:
        if runtime in DEPRECATED_RUNTIMES:
            # AWS-recorded TestRuntimeValidation::test_create_deprecated_function_runtime_with_
            # validation_enabled[python3.7] (2026-01-12)
            raise errors.InvalidParameterValue(
                f"The runtime parameter of {runtime} is no longer supported for creating or "
                "updating AWS Lambda functions. We recommend you use a supported runtime while "
                "creating or updating functions."
            )
        if runtime not in AWS_RUNTIMES.split(", "):
            # AWS-recorded test_create_lambda_exceptions › invalid_runtime_exc: no quotes
            raise errors.InvalidParameterValue(
                f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{AWS_RUNTIMES}] or be a valid ARN"
            )
        if runtime not in validate.KNOWN_RUNTIMES:
            raise errors.InvalidParameterValue(
                f"⚠ lambda-emu cannot run the runtime {runtime} (it runs "
                f"{', '.join(validate.KNOWN_RUNTIMES)})"
            )
    env = (cfg.get("Environment") or {}).get("Variables") or {}
    reserved = [key for key in env if key in validate.RESERVED_ENV_KEYS]
    if reserved:
        # ⚠ AWS's wording as users report it (unrecorded in our sources)
        raise errors.InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not "
            f"supported for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    measured = json.dumps(env, separators=(",", ":"))
    if len(measured.encode()) > validate.ENV_MAX_BYTES:
        # AWS-recorded TestLambdaSizeLimits::test_large_environment_variables_fails (2025-11)
        raise errors.InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. String measured: " + measured
        )


def check_package(cfg: dict[str, Any]) -> None:
    """A Zip function names its runtime and handler; an Image function has none."""
    if cfg.get("PackageType", "Zip") == "Zip" and (
        not cfg.get("Runtime") or not cfg.get("Handler")
    ):
        # ⚠ AWS's wording as users report it (unrecorded in our sources)
        raise errors.InvalidParameterValue(
            "Runtime and Handler are mandatory parameters for functions created with "
            "deployment packages."
        )


_LABELS = {
    "runtime": "Runtime",
    "handler": "Handler",
    "code": "Code",
    "memory": "MemorySize",
    "timeout": "Timeout",
    "environment": "Environment",
    "architecture": "Architectures",
    "ephemeral_storage": "EphemeralStorage",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "provisioned_concurrency": "ProvisionedConcurrentExecutions",
    "package_type": "PackageType",
    "image_uri": "ImageUri",
    "sandbox": "sandbox",
    "layers": "Layers",
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_event_age": "MaximumEventAgeInSeconds",
    "on_failure": "DestinationConfig",
}


def function_config(
    name: str,
    cfg: dict[str, Any],
    code_dir: str,
    *,
    version: str,
    reserved: int | None,
    provisioned: int,
    event_invoke: dict[str, Any] | None,
    base: FunctionConfig | None,
) -> FunctionConfig:
    """The `FunctionConfig` one version of a record runs as: built by the manifests'
    validation (API functions), or the manifest's own with the API's changes (`base`)."""
    invoke = event_invoke or {}
    retries = invoke.get("MaximumRetryAttempts")
    max_age = invoke.get("MaximumEventAgeInSeconds")
    destination = ((invoke.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
        "Destination"
    )
    on_failure = None
    if isinstance(destination, str) and ":function:" in destination:
        on_failure = "function:" + destination.split(":function:", 1)[1].split(":")[0]
    env = (cfg.get("Environment") or {}).get("Variables") or {}
    logging = cfg.get("LoggingConfig") or {}
    log_format: LogFormat = "JSON" if logging.get("LogFormat") == "JSON" else "Text"
    level = logging.get("ApplicationLogLevel") if log_format == "JSON" else None
    image = cfg.get("PackageType") == "Image"
    if base is not None:
        fn = replace(
            base,
            runtime="" if image else cfg.get("Runtime", base.runtime),
            handler="" if image else cfg.get("Handler", base.handler),
            code_dir=Path(code_dir) if code_dir else base.code_dir,
            memory_mb=cfg.get("MemorySize", base.memory_mb),
            timeout_s=cfg.get("Timeout", base.timeout_s),
            environment=MappingProxyType(dict(env)),
            ephemeral_storage_mb=(cfg.get("EphemeralStorage") or {}).get(
                "Size", base.ephemeral_storage_mb
            ),
        )
    else:
        values = {
            "runtime": cfg.get("Runtime"),
            "handler": cfg.get("Handler"),
            "code": code_dir or None,
            "memory": cfg.get("MemorySize"),
            "timeout": cfg.get("Timeout"),
            "architecture": (cfg.get("Architectures") or [None])[0],
            "ephemeral_storage": (cfg.get("EphemeralStorage") or {}).get("Size"),
            "package_type": cfg.get("PackageType"),
            "image_uri": cfg.get("ImageUri") if image else None,
        }
        raw = validate.RawFunction(
            name=name,
            name_field="FunctionName",
            origin="the Lambda API",
            labels=_LABELS,
            values={
                key: validate.RawValue(value, _LABELS[key])
                for key, value in values.items()
                if value is not None
            },
            env={
                key: validate.RawValue(value, "Environment.Variables") for key, value in env.items()
            },
            env_field="Environment.Variables",
        )
        try:
            (fn,) = validate.build(Path("lambda-api"), [raw])
        except errors.ManifestError as exc:
            raise errors.InvalidParameterValue(f"{exc.field}: {exc.message}") from None
        fn = replace(fn, source=None)
    return replace(
        fn,
        version=version,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        maximum_retry_attempts=2 if retries is None else retries,
        maximum_event_age_s=21_600 if max_age is None else max_age,
        on_failure=on_failure if base is None or event_invoke else base.on_failure,
        log_format=log_format,
        application_log_level=level,
        versions=(),
        aliases=(),
    )
