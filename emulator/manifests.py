"""Manifest loaders: `lambda-emu.toml` (native) and SAM `template.yaml`.

Both formats are read into `_RawFunction`s (values plus the field names the user wrote), and
one `_validate` turns each into a `FunctionConfig`, so every check and every one-line error
message (`ManifestError`: file, function, field) is shared.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

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

if TYPE_CHECKING:
    import yaml

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
NATIVE_MANIFEST = "lambda-emu.toml"
SAM_MANIFESTS = ("template.yaml", "template.yml")

FUNCTION_NAME_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
ENV_KEY_PATTERN = "^[a-zA-Z][a-zA-Z0-9_]+$"
_FUNCTION_NAME_RE = re.compile(FUNCTION_NAME_PATTERN.strip("^$"))
_ENV_KEY_RE = re.compile(ENV_KEY_PATTERN.strip("^$"))

_ARCHITECTURES: dict[str, Architecture] = {"x86_64": "x86_64", "arm64": "arm64"}
_PACKAGE_TYPES: dict[str, PackageType] = {"Zip": "Zip", "Image": "Image"}
_SANDBOXES: dict[str, SandboxKind] = {"auto": "auto", "process": "process", "docker": "docker"}

MAX_LAYERS = 5  # Lambda's limit (LAMBDA_SPEC §7)

# Canonical keys of a function; the native format spells them exactly like this.
_KEYS = (
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
    "sandbox",
    "layers",
    "maximum_retry_attempts",
    "maximum_event_age",
    "on_failure",
)
_NATIVE_LABELS: dict[str, str] = {"name": "name", **{key: key for key in _KEYS}}
_SAM_LABELS: dict[str, str] = {
    "name": "FunctionName",
    "runtime": "Runtime",
    "handler": "Handler",
    "code": "CodeUri",
    "memory": "MemorySize",
    "timeout": "Timeout",
    "environment": "Environment.Variables",
    "architecture": "Architectures",
    "ephemeral_storage": "EphemeralStorage.Size",
    "reserved_concurrency": "ReservedConcurrentExecutions",
    "provisioned_concurrency": "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions",
    "package_type": "PackageType",
    "image_uri": "ImageUri",
    "sandbox": "sandbox",
    "layers": "Layers",
    "maximum_retry_attempts": "EventInvokeConfig.MaximumRetryAttempts",
    "maximum_event_age": "EventInvokeConfig.MaximumEventAgeInSeconds",
    "on_failure": "EventInvokeConfig.DestinationConfig.OnFailure.Destination",
}
_CFN_LABELS: dict[str, str] = {**_SAM_LABELS, "code": "Code", "image_uri": "Code.ImageUri"}

_SERVERLESS_FUNCTION = "AWS::Serverless::Function"
_LAMBDA_FUNCTION = "AWS::Lambda::Function"
# CloudFormation short-form tags; `!X v` is read as its long form `{"Fn::X": v}`.
_INTRINSIC_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Equals",
    "Select",
    "FindInMap",
    "ImportValue",
    "Split",
    "Base64",
    "Not",
    "And",
    "Or",
    "GetAZs",
    "Cidr",
)

_T = TypeVar("_T")


def find_manifest(directory: Path) -> Path:
    """The manifest in `directory`: `lambda-emu.toml`, else `template.yaml` / `template.yml`."""
    for name in (NATIVE_MANIFEST, *SAM_MANIFESTS):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ManifestError(directory, "no lambda-emu.toml or template.yaml here")


def load_manifest(path: Path) -> tuple[FunctionConfig, ...]:
    """Every function `path` declares, in declaration order. Raises `ManifestError`."""
    suffix = path.suffix.lower()
    reader: Callable[[Path, str], list[_RawFunction]]
    if suffix == ".toml":
        reader = _read_native
    elif suffix in (".yaml", ".yml"):
        reader = _read_sam
    else:
        raise ManifestError(
            path, f"expected a .toml (lambda-emu) or .yaml/.yml (SAM) file, got '{path.name}'"
        )
    return _build(path, reader(path, _read_text(path)))


# --- shared ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    value: object
    field: str  # the field as the user wrote it: "memory", "defaults.memory", "MemorySize"


@dataclass(frozen=True)
class _RawFunction:
    """One function as a manifest format read it, before validation."""

    name: str
    name_field: str
    origin: str  # where it is declared, for the duplicate-name message
    labels: Mapping[str, str]  # canonical key -> this format's field name (for unset keys)
    values: Mapping[str, _Value]  # canonical key -> value (never "environment")
    env: Mapping[str, _Value]  # variable name -> value; field is the containing mapping
    env_field: str


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(path, "no such file") from None
    except IsADirectoryError:
        raise ManifestError(path, "is a directory, expected a manifest file") from None
    except OSError as exc:
        raise ManifestError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            path, f"must be UTF-8 text, got an invalid byte at offset {exc.start}"
        ) from None


def _build(path: Path, raws: Iterable[_RawFunction]) -> tuple[FunctionConfig, ...]:
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


def _validate(path: Path, base_dir: Path, raw: _RawFunction) -> FunctionConfig:
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
            raise fail(key, f"must be an integer {expected}, got {_show(value)}")
        return value

    def choice(key: str, choices: Mapping[str, _T]) -> _T | None:
        value = get(key)
        if value is None:
            return None
        if isinstance(value, str) and value in choices:
            return choices[value]
        raise fail(key, f"must be {_one_of(choices)}, got {_show(value)}{_suggest(value, choices)}")

    def string(key: str) -> str | None:
        value = get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, got {_show(value)}")
        return value

    if not _FUNCTION_NAME_RE.fullmatch(raw.name):
        raise ManifestError(
            path,
            f"must match {FUNCTION_NAME_PATTERN} (1 to 64 letters, digits, '-' or '_'), "
            f"got {_show(raw.name)}",
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
            f"must be one of {', '.join(KNOWN_RUNTIMES)}, got {_show(runtime)}"
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
                f"got {_show(image_uri)} for a Zip function",
            )
    elif image_uri is None:
        raise required("image_uri")

    code_dir = base_dir
    if code is not None:
        code_dir = (base_dir / code).resolve()
        if not code_dir.exists():
            raise fail(
                "code",
                f"must be an existing directory (relative to {base_dir}), "
                f"got {_show(code)}: {code_dir} does not exist",
            )
        if not code_dir.is_dir():
            raise fail(
                "code",
                f"must be a directory (archives are not unpacked), got {_show(code)}, "
                f"which is a file",
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

    layers: list[Path] = []
    raw_layers = get("layers")
    if raw_layers is not None:
        if not isinstance(raw_layers, list) or not all(
            isinstance(item, str) and item.strip() for item in raw_layers
        ):
            raise fail("layers", f"must be a list of directories, got {_show(raw_layers)}")
        if len(raw_layers) > MAX_LAYERS:
            raise fail("layers", f"must list at most {MAX_LAYERS} layers, got {len(raw_layers)}")
        for item in raw_layers:
            layer = (base_dir / item).resolve()
            if not layer.is_dir():
                raise fail("layers", f"must be directories, got {_show(item)}: {layer} is not one")
            layers.append(layer)

    retries = integer("maximum_retry_attempts", 0, 2)
    max_age = integer("maximum_event_age", 60, 21_600)
    on_failure = string("on_failure")
    if on_failure is not None and not on_failure.startswith("function:"):
        on_failure = str((base_dir / on_failure).resolve())  # a JSONL file

    environment: dict[str, str] = {}
    size = 0
    for key, item in raw.env.items():
        where = {"function": raw.name, "field": item.field}
        if not _ENV_KEY_RE.fullmatch(key):
            raise ManifestError(
                path, f"variable names must match {ENV_KEY_PATTERN}, got {_show(key)}", **where
            )
        if key in RESERVED_ENV_KEYS:
            raise ManifestError(
                path,
                f"variable names must not be reserved by Lambda, got {_show(key)}",
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
                f"variable '{key}' must be a string, number or boolean, got {_show(value)}",
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
        sandbox=choice("sandbox", _SANDBOXES),
        layers=tuple(layers),
        maximum_retry_attempts=2 if retries is None else retries,
        maximum_event_age_s=21_600 if max_age is None else max_age,
        on_failure=on_failure,
        source=path,
    )


def _show(value: object) -> str:
    """A value as an error message quotes it (one line, short)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    tag = _intrinsic_tag(value)
    if tag is not None:
        return tag
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _one_of(choices: Iterable[str]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _suggest(value: object, choices: Iterable[str]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_key(key: str, known: Iterable[str]) -> str:
    known = list(known)
    return f"unknown key; expected one of {', '.join(known)}, got '{key}'{_suggest(key, known)}"


# --- lambda-emu.toml ---------------------------------------------------------------------------


def _read_native(path: Path, text: str) -> list[_RawFunction]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, f"invalid TOML: {exc}") from None
    for key in doc:
        if key not in ("defaults", "functions"):
            raise ManifestError(path, _unknown_key(key, ("defaults", "functions")), field=key)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ManifestError(path, f"must be a table, got {_show(defaults)}", field="defaults")
    for key in defaults:
        if key not in _KEYS:
            raise ManifestError(path, _unknown_key(key, _KEYS), field=f"defaults.{key}")
    functions = doc.get("functions", {})
    if not isinstance(functions, dict):
        raise ManifestError(
            path,
            f"must be a table of [functions.<name>] tables, got {_show(functions)}",
            field="functions",
        )
    if not functions:
        raise ManifestError(
            path, "must declare at least one [functions.<name>] table, got none", field="functions"
        )

    raws: list[_RawFunction] = []
    for name, table in functions.items():
        if not isinstance(table, dict):
            raise ManifestError(
                path, f"must be a table, got {_show(table)}", function=name, field=name
            )
        for key in table:
            if key not in _KEYS:
                raise ManifestError(path, _unknown_key(key, _KEYS), function=name, field=key)
        values: dict[str, _Value] = {}
        for key in _KEYS:
            if key in table:
                values[key] = _Value(table[key], key)
            elif key in defaults:
                values[key] = _Value(defaults[key], f"defaults.{key}")
        env: dict[str, _Value] = {}
        env_field = "environment"
        for source, field_name in ((defaults, "defaults.environment"), (table, "environment")):
            variables = source.get("environment")
            if variables is None:
                continue
            if not isinstance(variables, dict):
                raise ManifestError(
                    path,
                    f"must be a table of variables, got {_show(variables)}",
                    function=name,
                    field=field_name,
                )
            env.update({str(k): _Value(v, field_name) for k, v in variables.items()})
            env_field = field_name
        values.pop("environment", None)
        raws.append(
            _RawFunction(
                name=name,
                name_field="name",
                origin=f"[functions.{name}]",
                labels=_NATIVE_LABELS,
                values=values,
                env=env,
                env_field=env_field,
            )
        )
    return raws


# --- SAM template.yaml -------------------------------------------------------------------------


def _intrinsic_tag(value: object) -> str | None:
    """`!Ref X` / `!Sub` for a CloudFormation intrinsic (long or short form), else None."""
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


@cache
def _cfn_loader() -> type[yaml.SafeLoader]:
    """A SafeLoader that reads CloudFormation's short-form tags as their long form."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, object]:
        if suffix not in _INTRINSIC_TAGS:
            raise yaml.constructor.ConstructorError(
                None, None, f"unknown tag '!{suffix}'", node.start_mark
            )
        key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
        argument: object
        if isinstance(node, yaml.ScalarNode):
            argument = loader.construct_scalar(node)
            if suffix == "GetAtt":  # `!GetAtt A.B` is `Fn::GetAtt: [A, B]`
                argument = str(argument).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            argument = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            argument = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            argument = None
        return {key: argument}

    CfnLoader.add_multi_constructor("!", intrinsic)
    return CfnLoader


def _read_sam(path: Path, text: str) -> list[_RawFunction]:
    import yaml

    try:
        doc = yaml.load(text, Loader=_cfn_loader())  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ManifestError(path, f"invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(path, "invalid YAML: " + " ".join(str(exc).split())) from None
    if not isinstance(doc, dict):
        raise ManifestError(path, f"must be a mapping with Resources, got {_show(doc)}")

    parameters = doc.get("Parameters") or {}
    if not isinstance(parameters, dict):
        raise ManifestError(path, f"must be a mapping, got {_show(parameters)}", field="Parameters")
    globals_section = doc.get("Globals") or {}
    if not isinstance(globals_section, dict):
        raise ManifestError(
            path, f"must be a mapping, got {_show(globals_section)}", field="Globals"
        )
    function_globals = globals_section.get("Function") or {}
    if not isinstance(function_globals, dict):
        raise ManifestError(
            path, f"must be a mapping, got {_show(function_globals)}", field="Globals.Function"
        )
    resources = doc.get("Resources")
    if not isinstance(resources, dict):
        raise ManifestError(
            path, f"must be a mapping of resources, got {_show(resources)}", field="Resources"
        )

    raws: list[_RawFunction] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            raise ManifestError(
                path,
                f"must be a mapping with Type, got {_show(resource)}",
                field=f"Resources.{logical_id}",
            )
        kind = resource.get("Type")
        if kind in (_SERVERLESS_FUNCTION, _LAMBDA_FUNCTION):
            raws.append(
                _SamFunction(
                    path=path,
                    logical_id=str(logical_id),
                    resource=resource,
                    serverless=kind == _SERVERLESS_FUNCTION,
                    function_globals=function_globals,
                    parameters=parameters,
                ).read()
            )
    if not raws:
        raise ManifestError(
            path,
            f"must declare at least one {_SERVERLESS_FUNCTION} or {_LAMBDA_FUNCTION}, got none",
            field="Resources",
        )
    return raws


class _SamFunction:
    """Reads one AWS::Serverless::Function (with Globals) or AWS::Lambda::Function."""

    def __init__(
        self,
        *,
        path: Path,
        logical_id: str,
        resource: Mapping[str, object],
        serverless: bool,
        function_globals: Mapping[str, object],
        parameters: Mapping[str, object],
    ) -> None:
        self.path = path
        self.logical_id = logical_id
        self.name = logical_id
        self.serverless = serverless
        self.globals = function_globals if serverless else {}
        self.parameters = parameters
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail("Properties", f"must be a mapping, got {_show(properties)}")
        self.properties: Mapping[str, object] = properties

    def fail(self, field_name: str, message: str) -> ManifestError:
        return ManifestError(self.path, message, function=self.name, field=field_name)

    def resolve(self, value: object) -> object:
        """`!Ref Param` becomes the parameter's Default when it has one; all else is kept."""
        if not isinstance(value, dict) or len(value) != 1 or "Ref" not in value:
            return value
        parameter = self.parameters.get(value["Ref"]) if isinstance(value["Ref"], str) else None
        if not isinstance(parameter, dict) or "Default" not in parameter:
            return value
        default: object = parameter["Default"]
        if parameter.get("Type") == "Number" and isinstance(default, str):
            for number in (int, float):
                try:
                    return number(default)
                except ValueError:
                    pass
        return default

    def literal(self, value: object, field_name: str) -> object:
        value = self.resolve(value)
        tag = _intrinsic_tag(value)
        if tag is not None:
            raise self.fail(
                field_name,
                "intrinsic functions are not resolved for this field (only !Ref to a parameter "
                f"with a Default is); expected a literal value, got {tag}",
            )
        return value

    def pick(self, prop: str) -> tuple[object, str] | None:
        """A property from the function, else (Serverless only) from Globals.Function."""
        if prop in self.properties:
            return self.properties[prop], prop
        if prop in self.globals:
            return self.globals[prop], f"Globals.Function.{prop}"
        return None

    def nested(self, prop: str, key: str) -> _Value | None:
        """`prop.key`, e.g. EphemeralStorage.Size."""
        picked = self.pick(prop)
        if picked is None:
            return None
        outer = self.literal(*picked)
        if not isinstance(outer, dict):
            raise self.fail(picked[1], f"must be a mapping with {key}, got {_show(outer)}")
        if key not in outer:
            return None
        field_name = f"{picked[1]}.{key}"
        return _Value(self.literal(outer[key], field_name), field_name)

    def read(self) -> _RawFunction:
        if "FunctionName" in self.properties:
            name = self.resolve(self.properties["FunctionName"])
            if isinstance(name, str):
                self.name = name
            elif _intrinsic_tag(name) is None:
                raise self.fail("FunctionName", f"must be a string, got {_show(name)}")
            # an unresolved intrinsic: SAM CLI names the function by its logical id

        values: dict[str, _Value] = {}
        simple = {
            "runtime": "Runtime",
            "handler": "Handler",
            "memory": "MemorySize",
            "timeout": "Timeout",
            "reserved_concurrency": "ReservedConcurrentExecutions",
            "package_type": "PackageType",
        }
        if self.serverless:
            simple["image_uri"] = "ImageUri"
        for key, prop in simple.items():
            picked = self.pick(prop)
            if picked is not None:
                values[key] = _Value(self.literal(*picked), picked[1])

        for key, prop, sub in (
            ("ephemeral_storage", "EphemeralStorage", "Size"),
            ("maximum_retry_attempts", "EventInvokeConfig", "MaximumRetryAttempts"),
            ("maximum_event_age", "EventInvokeConfig", "MaximumEventAgeInSeconds"),
            (
                "provisioned_concurrency",
                "ProvisionedConcurrencyConfig",
                "ProvisionedConcurrentExecutions",
            ),
        ):
            if key != "ephemeral_storage" and not self.serverless:
                # AWS::Lambda::Function has neither (they live on a Version, an Alias or an
                # AWS::Lambda::EventInvokeConfig resource)
                continue
            value = self.nested(prop, sub)
            if value is not None:
                values[key] = value

        architectures = self.pick("Architectures")
        if architectures is not None:
            items = self.literal(*architectures)
            if not isinstance(items, list) or len(items) != 1:
                raise self.fail(
                    architectures[1],
                    f"must be a list with one item ('x86_64' or 'arm64'), got {_show(items)}",
                )
            values["architecture"] = _Value(
                self.literal(items[0], architectures[1]), architectures[1]
            )

        if self.serverless:
            self.read_code_uri(values)
        else:
            self.read_code(values)

        env, env_field = self.read_environment()
        return _RawFunction(
            name=self.name,
            name_field="FunctionName",
            origin=f"Resources.{self.logical_id}",
            labels=_SAM_LABELS if self.serverless else _CFN_LABELS,
            values=values,
            env=env,
            env_field=env_field,
        )

    def read_code_uri(self, values: dict[str, _Value]) -> None:
        picked = self.pick("CodeUri")
        package_type = values.get("package_type")
        if package_type is not None and package_type.value == "Image":
            return  # CodeUri is not used by image functions
        if picked is None:
            values["code"] = _Value(".", "CodeUri")  # SAM CLI's default: the template's folder
            return
        code = self.literal(*picked)
        if isinstance(code, dict) or (isinstance(code, str) and code.startswith("s3://")):
            raise self.fail(
                picked[1],
                f"S3 code is not supported; expected a local directory, got {_show(code)}",
            )
        values["code"] = _Value(code, picked[1])

    def read_code(self, values: dict[str, _Value]) -> None:
        if "Code" not in self.properties:
            return
        code = self.literal(self.properties["Code"], "Code")
        if not isinstance(code, dict):
            values["code"] = _Value(code, "Code")  # a local path, as SAM CLI allows
            return
        if "ZipFile" in code:
            raise self.fail(
                "Code.ZipFile",
                "inline ZipFile code is not supported; expected Code to be a local directory, "
                "got inline source",
            )
        if "S3Bucket" in code or "S3Key" in code:
            raise self.fail(
                "Code", "S3 code is not supported; expected a local directory, got S3Bucket/S3Key"
            )
        if "ImageUri" in code:
            values["image_uri"] = _Value(
                self.literal(code["ImageUri"], "Code.ImageUri"), "Code.ImageUri"
            )
            return
        raise self.fail(
            "Code", "must be a local directory or a mapping with ImageUri, got a mapping"
        )

    def read_environment(self) -> tuple[dict[str, _Value], str]:
        """Globals' Variables, overridden per key by the function's (as SAM merges them)."""
        env: dict[str, _Value] = {}
        env_field = "Environment.Variables"
        sources = [(self.globals, "Globals.Function."), (self.properties, "")]
        for source, prefix in sources:
            if "Environment" not in source:
                continue
            environment = self.literal(source["Environment"], f"{prefix}Environment")
            if environment is None:
                continue
            if not isinstance(environment, dict):
                raise self.fail(
                    f"{prefix}Environment",
                    f"must be a mapping with Variables, got {_show(environment)}",
                )
            field_name = f"{prefix}Environment.Variables"
            variables = self.literal(environment.get("Variables"), field_name)
            if variables is None:
                continue
            if not isinstance(variables, dict):
                raise self.fail(
                    field_name, f"must be a mapping of names to values, got {_show(variables)}"
                )
            env_field = field_name
            for key, value in variables.items():
                resolved = self.resolve(value)
                if _intrinsic_tag(resolved) is not None:
                    env.pop(str(key), None)  # unresolvable here: the variable is left unset
                else:
                    env[str(key)] = _Value(resolved, field_name)
        return env, env_field
