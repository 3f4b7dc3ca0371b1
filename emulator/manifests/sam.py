"""The SAM `template.yaml` reader: AWS::Serverless::Function and AWS::Lambda::Function.

The YAML is read with CloudFormation's short-form tags (`!Ref`, `!Sub`, ...) as their long
form. A Serverless function takes what it does not set from `Globals.Function`. `!Ref` to a
parameter with a Default is resolved; any other intrinsic is refused where a literal is
needed, except in FunctionName (the function keeps its logical id, as SAM CLI names it) and
in an environment variable (left unset).

A function's `Layers` entry that is `!Ref` to an AWS::Serverless::LayerVersion (`ContentUri`)
or AWS::Lambda::LayerVersion (`Content`) with a local directory becomes that directory, as
`sam local` mounts it at /opt; S3 content and remote layer ARNs are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.errors import ManifestError
from emulator.manifests.validate import RawFunction, RawValue, intrinsic_tag, show

if TYPE_CHECKING:
    import yaml

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
# Where each layer type keeps its content: SAM's `ContentUri: String | LayerContent`
# (docs: sam-resource-layerversion), CloudFormation's `Content`, which `sam build` and
# `aws cloudformation package` also take as a local path (docs: cli cloudformation package).
_LAYER_CONTENT = {
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::LayerVersion": "Content",
}
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


def parse_template(path: Path, text: str) -> dict[object, object]:
    """The template as a mapping, intrinsics in their long form; YAML errors in one line."""
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
        raise ManifestError(path, f"must be a mapping with Resources, got {show(doc)}")
    return doc


def read_sam(path: Path, text: str) -> list[RawFunction]:
    """Every function `text` (the contents of `path`) declares, before validation."""
    doc = parse_template(path, text)
    parameters = doc.get("Parameters") or {}
    if not isinstance(parameters, dict):
        raise ManifestError(path, f"must be a mapping, got {show(parameters)}", field="Parameters")
    globals_section = doc.get("Globals") or {}
    if not isinstance(globals_section, dict):
        raise ManifestError(
            path, f"must be a mapping, got {show(globals_section)}", field="Globals"
        )
    function_globals = globals_section.get("Function") or {}
    if not isinstance(function_globals, dict):
        raise ManifestError(
            path, f"must be a mapping, got {show(function_globals)}", field="Globals.Function"
        )
    resources = doc.get("Resources")
    if not isinstance(resources, dict):
        raise ManifestError(
            path, f"must be a mapping of resources, got {show(resources)}", field="Resources"
        )

    layers = {
        str(logical_id): resource
        for logical_id, resource in resources.items()
        if isinstance(resource, dict) and resource.get("Type") in _LAYER_CONTENT
    }
    raws: list[RawFunction] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            raise ManifestError(
                path,
                f"must be a mapping with Type, got {show(resource)}",
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
                    layers=layers,
                ).read()
            )
    if not raws:
        raise ManifestError(
            path,
            f"must declare at least one {_SERVERLESS_FUNCTION} or {_LAMBDA_FUNCTION}, got none",
            field="Resources",
        )
    return raws


def resolve_parameter(parameters: Mapping[str, object], value: object) -> object:
    """`!Ref Param` becomes the parameter's Default when it has one; all else is kept."""
    if not isinstance(value, dict) or len(value) != 1 or "Ref" not in value:
        return value
    parameter = parameters.get(value["Ref"]) if isinstance(value["Ref"], str) else None
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
        layers: Mapping[str, Mapping[str, object]],
    ) -> None:
        self.path = path
        self.logical_id = logical_id
        self.name = logical_id
        self.unresolved_env: list[str] = []
        self.serverless = serverless
        self.globals = function_globals if serverless else {}
        self.parameters = parameters
        self.layers = layers
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail("Properties", f"must be a mapping, got {show(properties)}")
        self.properties: Mapping[str, object] = properties

    def fail(self, field_name: str, message: str) -> ManifestError:
        return ManifestError(self.path, message, function=self.name, field=field_name)

    def resolve(self, value: object) -> object:
        return resolve_parameter(self.parameters, value)

    def literal(self, value: object, field_name: str) -> object:
        value = self.resolve(value)
        tag = intrinsic_tag(value)
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

    def nested(self, prop: str, key: str) -> RawValue | None:
        """`prop.key`, e.g. EphemeralStorage.Size."""
        picked = self.pick(prop)
        if picked is None:
            return None
        outer = self.literal(*picked)
        if not isinstance(outer, dict):
            raise self.fail(picked[1], f"must be a mapping with {key}, got {show(outer)}")
        if key not in outer:
            return None
        field_name = f"{picked[1]}.{key}"
        return RawValue(self.literal(outer[key], field_name), field_name)

    def read(self) -> RawFunction:
        if "FunctionName" in self.properties:
            name = self.resolve(self.properties["FunctionName"])
            if isinstance(name, str):
                self.name = name
            elif intrinsic_tag(name) is None:
                raise self.fail("FunctionName", f"must be a string, got {show(name)}")
            # an unresolved intrinsic: SAM CLI names the function by its logical id

        values: dict[str, RawValue] = {}
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
                values[key] = RawValue(self.literal(*picked), picked[1])

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
                    f"must be a list with one item ('x86_64' or 'arm64'), got {show(items)}",
                )
            values["architecture"] = RawValue(
                self.literal(items[0], architectures[1]), architectures[1]
            )

        if self.serverless:
            self.read_code_uri(values)
        else:
            self.read_code(values)

        self.read_layers(values)
        env, env_field = self.read_environment()
        return RawFunction(
            name=self.name,
            name_field="FunctionName",
            origin=f"Resources.{self.logical_id}",
            labels=_SAM_LABELS if self.serverless else _CFN_LABELS,
            values=values,
            env=env,
            env_field=env_field,
            unresolved_env=tuple(dict.fromkeys(self.unresolved_env)),
        )

    def read_code_uri(self, values: dict[str, RawValue]) -> None:
        picked = self.pick("CodeUri")
        package_type = values.get("package_type")
        if package_type is not None and package_type.value == "Image":
            return  # CodeUri is not used by image functions
        if picked is None:
            values["code"] = RawValue(".", "CodeUri")  # SAM CLI's default: the template's folder
            return
        code = self.literal(*picked)
        if isinstance(code, dict) or (isinstance(code, str) and code.startswith("s3://")):
            raise self.fail(
                picked[1],
                f"S3 code is not supported; expected a local directory, got {show(code)}",
            )
        values["code"] = RawValue(code, picked[1])

    def read_code(self, values: dict[str, RawValue]) -> None:
        if "Code" not in self.properties:
            return
        code = self.literal(self.properties["Code"], "Code")
        if not isinstance(code, dict):
            values["code"] = RawValue(code, "Code")  # a local path, as SAM CLI allows
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
            values["image_uri"] = RawValue(
                self.literal(code["ImageUri"], "Code.ImageUri"), "Code.ImageUri"
            )
            return
        raise self.fail(
            "Code", "must be a local directory or a mapping with ImageUri, got a mapping"
        )

    def read_layers(self, values: dict[str, RawValue]) -> None:
        """Globals' Layers, then the function's: SAM prepends a global list to the resource's
        (docs: sam-specification-template-anatomy-globals, "Lists are additive")."""
        directories: list[object] = []
        field_name = "Layers"
        for source, prefix in ((self.globals, "Globals.Function."), (self.properties, "")):
            if "Layers" not in source:
                continue
            field_name = f"{prefix}Layers"
            items = self.literal(source["Layers"], field_name)
            if not isinstance(items, list):
                raise self.fail(field_name, f"must be a list of layers, got {show(items)}")
            directories += [self.layer_directory(item, field_name) for item in items]
        if directories:
            values["layers"] = RawValue(directories, field_name)

    def layer_directory(self, item: object, field_name: str) -> object:
        """The local directory of a `!Ref` to a layer resource of this template."""
        ref = item.get("Ref") if isinstance(item, dict) and len(item) == 1 else None
        if isinstance(ref, str) and ref in self.layers:
            return self.layer_content(ref)
        raise self.fail(
            field_name,
            "remote layers are not supported; expected !Ref to an AWS::Serverless::LayerVersion"
            f" or AWS::Lambda::LayerVersion of this template, got {show(self.resolve(item))}",
        )

    def layer_content(self, logical_id: str) -> object:
        resource = self.layers[logical_id]
        key = _LAYER_CONTENT[str(resource.get("Type"))]
        field_name = f"Resources.{logical_id}.{key}"
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail(
                f"Resources.{logical_id}.Properties", f"must be a mapping, got {show(properties)}"
            )
        content = self.literal(properties.get(key), field_name)
        if isinstance(content, dict) or (isinstance(content, str) and content.startswith("s3://")):
            raise self.fail(
                field_name,
                "S3 layer content is not supported; expected a local directory, "
                f"got {show(content)}",
            )
        if not isinstance(content, str) or not content.strip():
            raise self.fail(field_name, f"must be a local directory, got {show(content)}")
        return content

    def read_environment(self) -> tuple[dict[str, RawValue], str]:
        """Globals' Variables, overridden per key by the function's (as SAM merges them).
        Names left unset for an intrinsic go to `self.unresolved_env`: `--env-vars` may set
        them, as SAM CLI lets it (emulator/overrides.py)."""
        env: dict[str, RawValue] = {}
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
                    f"must be a mapping with Variables, got {show(environment)}",
                )
            field_name = f"{prefix}Environment.Variables"
            variables = self.literal(environment.get("Variables"), field_name)
            if variables is None:
                continue
            if not isinstance(variables, dict):
                raise self.fail(
                    field_name, f"must be a mapping of names to values, got {show(variables)}"
                )
            env_field = field_name
            for key, value in variables.items():
                resolved = self.resolve(value)
                if intrinsic_tag(resolved) is not None:
                    env.pop(str(key), None)  # unresolvable here: the variable is left unset
                    self.unresolved_env.append(str(key))
                else:
                    env[str(key)] = RawValue(resolved, field_name)
        return env, env_field
