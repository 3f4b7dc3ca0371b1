"""The one validation both manifest formats share.

A reader (`native`, `sam`) turns its format into `RawFunction`s: values as the user wrote
them, each with the field name they were written under. `build` turns those into
`FunctionConfig`s; every check lives here, so every failure is the same one-line
`ManifestError` (file, function, field) whichever format it came from.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from emulator.config import (
    DEFAULT_EPHEMERAL_MB,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    EPHEMERAL_MAX_MB,
    EPHEMERAL_MIN_MB,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    TIMEOUT_MAX_S,
    TIMEOUT_MIN_S,
    Architecture,
    FunctionConfig,
    PackageType,
    SandboxKind,
)
from emulator.errors import ManifestError

KNOWN_RUNTIMES: tuple[str, ...] = (
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "java17",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "dotnet8",
    "provided",
    "provided.al2",
    "provided.al2023",
)

# Environment variables Lambda sets itself and refuses in a function's configuration (§5).
RESERVED_ENV_KEYS: tuple[str, ...] = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)

ENV_MAX_BYTES = 4096  # names plus values, UTF-8 (§5)
FUNCTION_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
ENV_KEY_PATTERN = "^[a-zA-Z][a-zA-Z0-9_]+$"
_FUNCTION_NAME_RE = re.compile(FUNCTION_NAME_PATTERN.strip("^$"))
_ENV_KEY_RE = re.compile(ENV_KEY_PATTERN.strip("^$"))

_ARCHITECTURES: dict[str, Architecture] = {"x86_64": "x86_64", "arm64": "arm64"}
_PACKAGE_TYPES: dict[str, PackageType] = {"Zip": "Zip", "Image": "Image"}
_SANDBOXES: dict[str, SandboxKind] = {
    "auto": "auto",
    "process": "process",
    "docker": "docker",
    "portable": "portable",
}

MAX_LAYERS = 5  # Lambda's limit (LAMBDA_SPEC §7)

# Canonical keys of a function; the native format spells them exactly like this.
KEYS = (
    "runtime",
    "handler",
    "code",
    "memory",
    "timeout",
    "environment",
    "architecture",
    "ephemeral_storage",
    "reserved_concurrency",
    "provisioned_concurrency",
    "package_type",
    "image_uri",
    "image",
    "sandbox",
    "layers",
    "maximum_retry_attempts",
    "maximum_event_age",
    "on_failure",
    "log_format",
    "application_log_level",
)

_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

_T = TypeVar("_T")


@dataclass(frozen=True)
class RawValue:
    value: object
    field: str  # the field as the user wrote it: "memory", "defaults.memory", "MemorySize"


@dataclass(frozen=True)
class RawFunction:
    """One function as a manifest format read it, before validation."""

    name: str
    name_field: str
    origin: str  # where it is declared, for the duplicate-name message
    labels: Mapping[str, str]  # canonical key -> this format's field name (for unset keys)
    values: Mapping[str, RawValue]  # canonical key -> value (never "environment")
    env: Mapping[str, RawValue]  # variable name -> value; field is the containing mapping
    env_field: str
    # declared with a value this format cannot resolve here (SAM: an intrinsic): left unset
    unresolved_env: tuple[str, ...] = ()


def build(path: Path, raws: Iterable[RawFunction]) -> tuple[FunctionConfig, ...]:
    """Every function `path` declares, validated, in declaration order; names are unique."""
    base_dir = path.absolute().parent.resolve()
    first: dict[str, str] = {}
    functions: list[FunctionConfig] = []
    for raw in raws:
        if raw.name in first:
            raise ManifestError(
                path,
                f"function names must be unique, got '{raw.name}' again in {raw.origin} "
                f"(first declared in {first[raw.name]})",
                function=raw.name,
                field=raw.name_field,
            )
        first[raw.name] = raw.origin
        functions.append(_validate(path, base_dir, raw))
    return tuple(functions)


def _validate(path: Path, base_dir: Path, raw: RawFunction) -> FunctionConfig:
    """The checks both formats share; every failure names file, function and field."""

    def label(key: str) -> str:
        value = raw.values.get(key)
        return raw.labels[key] if value is None else value.field

    def fail(key: str, message: str) -> ManifestError:
        return ManifestError(path, message, function=raw.name, field=label(key))

    def get(key: str) -> object:
        value = raw.values.get(key)
        return None if value is None else value.value

    def integer(key: str, low: int, high: int | None) -> int | None:
        value = get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            expected = f"from {low} to {high}" if high is not None else f">= {low}"
            raise fail(key, f"must be an integer {expected}, got {show(value)}")
        return value

    def choice(key: str, choices: Mapping[str, _T]) -> _T | None:
        value = get(key)
        if value is None:
            return None
        if isinstance(value, str) and value in choices:
            return choices[value]
        raise fail(key, f"must be {_one_of(choices)}, got {show(value)}{_suggest(value, choices)}")

    def string(key: str) -> str | None:
        value = get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, got {show(value)}")
        return value

    if not _FUNCTION_NAME_RE.fullmatch(raw.name):
        raise ManifestError(
            path,
            f"must match {FUNCTION_NAME_PATTERN} (1 to 64 letters, digits, '-' or '_'), "
            f"got {show(raw.name)}",
            function=raw.name,
            field=raw.name_field,
        )

    package_type = choice("package_type", _PACKAGE_TYPES) or "Zip"

    def required(key: str) -> ManifestError:
        return fail(key, f"is required when {label('package_type')} is {package_type}, got nothing")

    runtime = get("runtime")
    if runtime is not None and (not isinstance(runtime, str) or runtime not in KNOWN_RUNTIMES):
        raise fail(
            "runtime",
            f"must be one of {', '.join(KNOWN_RUNTIMES)}, got {show(runtime)}"
            f"{_suggest(runtime, KNOWN_RUNTIMES)}",
        )
    handler = string("handler")
    code = string("code")
    image_uri = string("image_uri")
    if package_type == "Zip":
        if runtime is None:
            raise required("runtime")
        if handler is None:
            raise required("handler")
        if code is None:
            raise required("code")
        if image_uri is not None:
            raise fail(
                "image_uri",
                f"is only used when {label('package_type')} is Image, "
                f"got {show(image_uri)} for a Zip function",
            )
    elif image_uri is None:
        raise required("image_uri")
    image = string("image")
    if image is not None and package_type != "Zip":
        raise fail(
            "image", f"is only used for Zip functions (an Image function runs {label('image_uri')})"
        )

    code_dir = base_dir
    if code is not None:
        code_dir = (base_dir / code).resolve()
        if code_dir.is_file() and code_dir.suffix.lower() == ".zip":
            code_dir = unzipped(code_dir, lambda message: fail("code", message))
        if not code_dir.exists():
            raise fail(
                "code",
                f"must be an existing directory (relative to {base_dir}), "
                f"got {show(code)}: {code_dir} does not exist",
            )
        if not code_dir.is_dir():
            raise fail(
                "code",
                f"must be a directory or a .zip file, got {show(code)}, which is another file",
            )

    memory = integer("memory", MEMORY_MIN_MB, MEMORY_MAX_MB)
    timeout = integer("timeout", TIMEOUT_MIN_S, TIMEOUT_MAX_S)
    ephemeral = integer("ephemeral_storage", EPHEMERAL_MIN_MB, EPHEMERAL_MAX_MB)
    reserved = integer("reserved_concurrency", 0, None)
    provisioned = integer("provisioned_concurrency", 0, None) or 0
    if reserved is not None and provisioned > reserved:
        raise fail(
            "provisioned_concurrency",
            f"must be at most {label('reserved_concurrency')} ({reserved}), got {provisioned}",
        )

    from emulator.manifests.versions import build_versions

    def fail_at(field_name: str, message: str) -> ManifestError:
        return ManifestError(path, message, function=raw.name, field=field_name)

    versions, aliases = build_versions(
        fail_at, raw.values.get("publish"), raw.values.get("versions"), raw.values.get("aliases")
    )
    allocated = provisioned + sum(v.provisioned_concurrency for v in versions)
    allocated += sum(alias.provisioned_concurrency for alias in aliases)
    if reserved is not None and allocated > reserved:
        raise fail(
            "reserved_concurrency",
            f"must cover the provisioned concurrency of every version and alias ({allocated}), "
            f"got {reserved}",
        )

    layers: list[Path] = []
    raw_layers = get("layers")
    if raw_layers is not None:
        if not isinstance(raw_layers, list) or not all(
            isinstance(item, str) and item.strip() for item in raw_layers
        ):
            raise fail("layers", f"must be a list of directories, got {show(raw_layers)}")
        if len(raw_layers) > MAX_LAYERS:
            raise fail("layers", f"must list at most {MAX_LAYERS} layers, got {len(raw_layers)}")
        for item in raw_layers:
            layer = (base_dir / item).resolve()
            if layer.is_file() and layer.suffix.lower() == ".zip":
                layer = unzipped(layer, lambda message: fail("layers", message))
            if not layer.is_dir():
                raise fail("layers", f"must be directories, got {show(item)}: {layer} is not one")
            layers.append(layer)

    retries = integer("maximum_retry_attempts", 0, 2)
    max_age = integer("maximum_event_age", 60, 21_600)
    on_failure = string("on_failure")
    if on_failure is not None and not on_failure.startswith("function:"):
        on_failure = str((base_dir / on_failure).resolve())  # a JSONL file

    # LoggingConfig (botocore lambda model: LogFormat JSON|Text, ApplicationLogLevel
    # TRACE|DEBUG|INFO|WARN|ERROR|FATAL, the latter only with the JSON format)
    log_format = string("log_format") or "Text"
    if log_format not in ("Text", "JSON"):
        raise fail("log_format", f"must be 'Text' or 'JSON', got {show(log_format)}")
    log_level = string("application_log_level")
    if log_level is not None:
        if log_level.upper() not in _LOG_LEVELS:
            raise fail(
                "application_log_level",
                f"must be one of {', '.join(_LOG_LEVELS)}, got {show(log_level)}",
            )
        if log_format != "JSON":
            # AWS: "ApplicationLogLevel ... only with LogFormat JSON" (CreateFunction
            # LoggingConfig docs: log levels require the JSON log format)
            raise fail("application_log_level", "needs log_format 'JSON', got 'Text'")
        log_level = log_level.upper()

    environment: dict[str, str] = {}
    size = 0
    for key, item in raw.env.items():
        where = {"function": raw.name, "field": item.field}
        if not _ENV_KEY_RE.fullmatch(key):
            raise ManifestError(
                path, f"variable names must match {ENV_KEY_PATTERN}, got {show(key)}", **where
            )
        if key in RESERVED_ENV_KEYS:
            raise ManifestError(
                path,
                f"variable names must not be reserved by Lambda, got {show(key)}",
                **where,
            )
        value = item.value
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | int | float):
            text = str(value)
        else:
            raise ManifestError(
                path,
                f"variable '{key}' must be a string, number or boolean, got {show(value)}",
                **where,
            )
        environment[key] = text
        size += len(key.encode()) + len(text.encode())
    if size > ENV_MAX_BYTES:
        raise ManifestError(
            path,
            f"variables must total at most {ENV_MAX_BYTES} bytes (names plus values), "
            f"got {size} bytes",
            function=raw.name,
            field=raw.env_field,
        )

    return FunctionConfig(
        name=raw.name,
        runtime=runtime or "",
        handler=handler or "",
        code_dir=code_dir,
        memory_mb=DEFAULT_MEMORY_MB if memory is None else memory,
        timeout_s=DEFAULT_TIMEOUT_S if timeout is None else timeout,
        environment=MappingProxyType(environment),
        architecture=choice("architecture", _ARCHITECTURES) or "x86_64",
        ephemeral_storage_mb=DEFAULT_EPHEMERAL_MB if ephemeral is None else ephemeral,
        reserved_concurrency=reserved,
        provisioned_concurrency=provisioned,
        package_type=package_type,
        image_uri=image_uri,
        image=image,
        sandbox=choice("sandbox", _SANDBOXES),
        layers=tuple(layers),
        maximum_retry_attempts=2 if retries is None else retries,
        maximum_event_age_s=21_600 if max_age is None else max_age,
        on_failure=on_failure,
        log_format="JSON" if log_format == "JSON" else "Text",
        application_log_level=log_level,
        source=path,
        versions=versions,
        aliases=aliases,
        unresolved_env=tuple(k for k in raw.unresolved_env if k not in environment),
    )


# Where `.zip` code, layers and InlineCode are unpacked: EmulatorConfig.cache_dir's default
# (the manifest is read before any EmulatorConfig exists).
CODE_CACHE = Path.home() / ".cache" / "lambda-emu" / "code"


def unzipped(archive: Path, fail: Callable[[str], ManifestError]) -> Path:
    """A `.zip` (what `sam build` or `zip` makes) unpacked once into the cache, keyed by its
    content, as Lambda unpacks a deployment package into /var/task."""
    import hashlib
    import zipfile

    digest = hashlib.sha256(archive.read_bytes()).hexdigest()[:24]
    target = CODE_CACHE / f"zip-{digest}"
    if target.is_dir():
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(archive) as package:
            for info in package.infolist():
                out = (partial / info.filename).resolve()
                if not out.is_relative_to(partial.resolve()):
                    raise fail(f"{archive.name}: entry {info.filename!r} leaves the archive")
                package.extract(info, partial)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    out.chmod(mode)  # bootstrap and scripts stay executable
        partial.replace(target)
    except (zipfile.BadZipFile, OSError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if target.is_dir():  # another process unpacked it first
            return target
        raise fail(f"cannot unpack {archive}: {exc}") from None
    return target


def inline_code(source: str, runtime: object, fail: Callable[[str], ManifestError]) -> Path:
    """InlineCode / Code.ZipFile as Lambda packages it: one file named `index` with the
    runtime's extension (docs: aws-properties-lambda-function-code.html, ZipFile)."""
    import hashlib

    if isinstance(runtime, str) and runtime.startswith("python"):
        name = "index.py"
    elif isinstance(runtime, str) and runtime.startswith("nodejs"):
        name = "index.js"
    else:
        raise fail(f"inline code needs a python or nodejs Runtime, got {show(runtime)}")
    digest = hashlib.sha256(f"{name}\0{source}".encode()).hexdigest()[:24]
    target = CODE_CACHE / f"inline-{digest}"
    if not (target / name).is_file():
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(source, encoding="utf-8")
    return target


def show(value: object) -> str:
    """A value as an error message quotes it (one line, short)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    tag = intrinsic_tag(value)
    if tag is not None:
        return tag
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def intrinsic_tag(value: object) -> str | None:
    """`!Ref X` / `!Sub` for a CloudFormation intrinsic (long or short form), else None.

    Here rather than in `sam` because `show` quotes an intrinsic by its tag."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((key, argument),) = value.items()
    if key == "Ref":
        return f"!Ref {argument}" if isinstance(argument, str) else "!Ref"
    if key == "Condition":
        return "!Condition"
    if isinstance(key, str) and key.startswith("Fn::"):
        return "!" + key.removeprefix("Fn::")
    return None


def _one_of(choices: Iterable[str]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _suggest(value: object, choices: Iterable[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown_key(key: str, known: Iterable[str]) -> str:
    known = list(known)
    return f"unknown key; expected one of {', '.join(known)}, got '{key}'{_suggest(key, known)}"
