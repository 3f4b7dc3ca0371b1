"""The SAM `template.yaml` reader: AWS::Serverless::Function and AWS::Lambda::Function.

The YAML is read by `cfn_yaml` (short-form tags as their long form); every property a function
uses is resolved by `intrinsics.Stack` as `sam local` resolves it (Parameters with
--parameter-overrides, pseudo parameters, Conditions, Mappings). What cannot be resolved
locally is refused in one line naming the function and the property, except in FunctionName
(the function keeps its logical id, as SAM CLI names it) and in an environment variable (left
unset). A resource whose `Condition` is false is skipped. A Serverless function takes what it
does not set from `Globals.Function` (SAM's keys only; mappings merged per key, lists
additive). `CodeUri` is a directory or a `.zip`; `InlineCode` and `Code.ZipFile` become
Lambda's one `index` file; S3 code is refused. `AutoPublishAlias` publishes version 1 and the
alias, with `ProvisionedConcurrencyConfig` on it.

A function's `Layers` entry that is `!Ref` to an AWS::Serverless::LayerVersion (`ContentUri`)
or AWS::Lambda::LayerVersion (`Content`) with a local directory becomes that directory, as
`sam local` mounts it at /opt; S3 content and remote layer ARNs are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from emulator.errors import ManifestError
from emulator.manifests.cfn_yaml import parse_template
from emulator.manifests.intrinsics import DROPPED, Stack, StackSettings, Unresolved
from emulator.manifests.validate import RawFunction, RawValue, inline_code, show

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
    "log_format": "LoggingConfig.LogFormat",
    "application_log_level": "LoggingConfig.ApplicationLogLevel",
}
_CFN_LABELS: dict[str, str] = {**_SAM_LABELS, "code": "Code", "image_uri": "Code.ImageUri"}

# The keys SAM accepts in Globals.Function: everything on AWS::Serverless::Function except
# Role, Policies, FunctionName and Events (serverless-application-model
# samtranslator/plugins/globals/globals.py `supported_properties`).
GLOBAL_FUNCTION_KEYS = (
    "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout",
    "VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn",
    "AutoPublishAlias", "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference",
    "RolePath", "PermissionsBoundary", "ReservedConcurrentExecutions",
    "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument", "EventInvokeConfig",
    "FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
    "EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig",
    "RecursiveLoop", "SourceKMSKeyArn", "TenancyConfig", "DurableConfig",
    "CapacityProviderConfig", "FunctionScalingConfig", "PublishToLatestPublished",
    "VersionDeletionPolicy",
)  # fmt: skip
_SERVERLESS_FUNCTION = "AWS::Serverless::Function"
_LAMBDA_FUNCTION = "AWS::Lambda::Function"
# Where each layer type keeps its content: SAM's `ContentUri: String | LayerContent`
# (docs: sam-resource-layerversion), CloudFormation's `Content`, which `sam build` and
# `aws cloudformation package` also take as a local path (docs: cli cloudformation package).
_LAYER_CONTENT = {
    "AWS::Serverless::LayerVersion": "ContentUri",
    "AWS::Lambda::LayerVersion": "Content",
}


def read_sam(path: Path, text: str, settings: StackSettings | None = None) -> list[RawFunction]:
    """Every function `text` (the contents of `path`) declares, before validation; a resource
    whose `Condition` is false is left out, as CloudFormation does."""
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
    for key in function_globals:
        if key not in GLOBAL_FUNCTION_KEYS:
            raise ManifestError(
                path,
                f"'{key}' is not a supported property of 'Function' in Globals"
                f"{_suggest_key(str(key), GLOBAL_FUNCTION_KEYS)}",
                field=f"Globals.Function.{key}",
            )
    resources = doc.get("Resources")
    if not isinstance(resources, dict):
        raise ManifestError(
            path, f"must be a mapping of resources, got {show(resources)}", field="Resources"
        )
    stack = Stack(doc, settings or StackSettings())
    for name in stack.settings.parameter_overrides:
        if name not in parameters:
            raise ManifestError(
                path,
                f"--parameter-overrides names a parameter the template does not declare: {name}",
                field="Parameters",
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
        if kind not in (_SERVERLESS_FUNCTION, _LAMBDA_FUNCTION):
            continue
        if "Condition" in resource:
            try:
                if not stack.condition(str(resource["Condition"])):
                    continue  # CloudFormation does not create it
            except Unresolved as exc:
                raise ManifestError(
                    path, str(exc), function=str(logical_id), field="Condition"
                ) from None
        raws.append(
            _SamFunction(
                path=path,
                logical_id=str(logical_id),
                resource=resource,
                serverless=kind == _SERVERLESS_FUNCTION,
                function_globals=function_globals,
                stack=stack,
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


def _suggest_key(key: str, known: tuple[str, ...]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
        stack: Stack,
        layers: Mapping[str, Mapping[str, object]],
    ) -> None:
        self.path = path
        self.logical_id = logical_id
        self.name = logical_id
        self.unresolved_env: list[str] = []
        self.serverless = serverless
        self.globals = function_globals if serverless else {}
        self.stack = stack
        self.layers = layers
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            raise self.fail("Properties", f"must be a mapping, got {show(properties)}")
        self.properties: Mapping[str, object] = properties

    def fail(self, field_name: str, message: str) -> ManifestError:
        return ManifestError(self.path, message, function=self.name, field=field_name)

    def resolve(self, value: object, field_name: str) -> object:
        """`value` with its intrinsics resolved (DROPPED for AWS::NoValue)."""
        try:
            return self.stack.evaluate(value)
        except Unresolved as exc:
            raise self.fail(field_name, f"cannot be resolved locally: {exc}") from None

    def literal(self, value: object, field_name: str) -> object:
        value = self.resolve(value, field_name)
        return None if value is DROPPED else value

    def pick(self, prop: str) -> tuple[object, str] | None:
        """A property from the function, else (Serverless only) from Globals.Function."""
        for source, prefix in ((self.properties, ""), (self.globals, "Globals.Function.")):
            if prop in source:
                value = self.resolve(source[prop], prefix + prop)
                if value is not DROPPED:
                    return value, prefix + prop
        return None

    def nested(self, prop: str, key: str) -> RawValue | None:
        """`prop.key`, e.g. EphemeralStorage.Size: the function's, else Globals' (SAM merges
        a mapping of Globals into the function's key by key)."""
        for source, prefix in ((self.properties, ""), (self.globals, "Globals.Function.")):
            if prop not in source:
                continue
            outer = self.literal(source[prop], prefix + prop)
            if outer is None:
                continue
            if not isinstance(outer, dict):
                raise self.fail(prefix + prop, f"must be a mapping with {key}, got {show(outer)}")
            if key in outer:
                return RawValue(outer[key], f"{prefix}{prop}.{key}")
        return None

    def read(self) -> RawFunction:
        if "FunctionName" in self.properties:
            try:
                name = self.stack.evaluate(self.properties["FunctionName"])
            except Unresolved:
                name = None  # not known locally: SAM CLI names the function by its logical id
            if isinstance(name, str):
                self.name = name
            elif name is not None and name is not DROPPED:
                raise self.fail("FunctionName", f"must be a string, got {show(name)}")

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
                values[key] = RawValue(*picked)

        for key, prop, sub in (
            ("ephemeral_storage", "EphemeralStorage", "Size"),
            ("maximum_retry_attempts", "EventInvokeConfig", "MaximumRetryAttempts"),
            ("maximum_event_age", "EventInvokeConfig", "MaximumEventAgeInSeconds"),
            ("log_format", "LoggingConfig", "LogFormat"),
            ("application_log_level", "LoggingConfig", "ApplicationLogLevel"),
        ):
            if key.startswith("maximum_") and not self.serverless:
                # AWS::Lambda::Function has no EventInvokeConfig (it is a resource of its own)
                continue
            value = self.nested(prop, sub)
            if value is not None:
                values[key] = value

        architectures = self.pick("Architectures")
        if architectures is not None:
            items = architectures[0]
            if not isinstance(items, list) or len(items) != 1:
                raise self.fail(
                    architectures[1],
                    f"must be a list with one item ('x86_64' or 'arm64'), got {show(items)}",
                )
            values["architecture"] = RawValue(items[0], architectures[1])

        if self.serverless:
            self.read_code_uri(values)
            self.read_auto_publish(values)
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

    def read_auto_publish(self, values: dict[str, RawValue]) -> None:
        """AutoPublishAlias: SAM publishes a version of the function and points the alias at
        it; ProvisionedConcurrencyConfig belongs to that alias (docs:
        sam-resource-function.html#sam-function-autopublishalias). Locally the version is `1`.
        AutoPublishCodeSha256, AutoPublishAliasAllProperties and DeploymentPreference only
        decide when a new version is published or how traffic shifts during a deployment:
        ignored (see docs/configuration.md)."""
        picked = self.pick("AutoPublishAlias")
        provisioned = self.nested("ProvisionedConcurrencyConfig", "ProvisionedConcurrentExecutions")
        if picked is None:
            if provisioned is not None:
                raise self.fail(
                    provisioned.field,
                    "needs AutoPublishAlias: SAM configures provisioned concurrency on the "
                    "alias it publishes, got no AutoPublishAlias",
                )
            return
        alias, field_name = picked
        if not isinstance(alias, str) or not alias:
            raise self.fail(field_name, f"must be an alias name, got {show(alias)}")
        settings: dict[str, object] = {"version": "1"}
        if provisioned is not None:
            settings["provisioned_concurrency"] = provisioned.value
        values["publish"] = RawValue(1, field_name)
        values["aliases"] = RawValue({alias: settings}, field_name)

    def read_code_uri(self, values: dict[str, RawValue]) -> None:
        picked = self.pick("CodeUri")
        inline = self.pick("InlineCode")
        package_type = values.get("package_type")
        if package_type is not None and package_type.value == "Image":
            return  # CodeUri is not used by image functions
        if inline is not None:
            if picked is not None:
                raise self.fail("InlineCode", "must not be set together with CodeUri")
            source, field_name = inline
            if not isinstance(source, str):
                raise self.fail(field_name, f"must be source code, got {show(source)}")
            runtime = values.get("runtime")
            directory = inline_code(
                source,
                None if runtime is None else runtime.value,
                lambda message: self.fail(field_name, message),
            )
            values["code"] = RawValue(str(directory), field_name)
            return
        if picked is None:
            values["code"] = RawValue(".", "CodeUri")  # SAM CLI's default: the template's folder
            return
        code, field_name = picked
        if isinstance(code, dict):
            where = ", ".join(f"{k} {show(v)}" for k, v in code.items() if k in ("Bucket", "Key"))
            raise self.fail(
                field_name,
                "S3 code is not supported; expected a local directory or .zip file, "
                f"got {where or 'a mapping'}",
            )
        if isinstance(code, str) and code.startswith("s3://"):
            raise self.fail(
                field_name,
                f"S3 code is not supported; expected a local directory or .zip file, got "
                f"{show(code)}",
            )
        values["code"] = RawValue(code, field_name)

    def read_code(self, values: dict[str, RawValue]) -> None:
        if "Code" not in self.properties:
            return
        code = self.literal(self.properties["Code"], "Code")
        if not isinstance(code, dict):
            values["code"] = RawValue(code, "Code")  # a local path, as SAM CLI allows
            return
        if "ZipFile" in code:
            source = code["ZipFile"]
            if not isinstance(source, str):
                raise self.fail("Code.ZipFile", f"must be source code, got {show(source)}")
            runtime = values.get("runtime")
            directory = inline_code(
                source,
                None if runtime is None else runtime.value,
                lambda message: self.fail("Code.ZipFile", message),
            )
            values["code"] = RawValue(str(directory), "Code.ZipFile")
            return
        if "S3Bucket" in code or "S3Key" in code:
            raise self.fail(
                "Code",
                "S3 code is not supported; expected a local directory, .zip file or ZipFile, "
                "got S3Bucket/S3Key",
            )
        if "ImageUri" in code:
            values["image_uri"] = RawValue(code["ImageUri"], "Code.ImageUri")
            return
        raise self.fail(
            "Code", "must be a local directory or a mapping with ZipFile or ImageUri, got a mapping"
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
            items = source["Layers"]
            if not isinstance(items, list):
                items = self.literal(items, field_name)
            if not isinstance(items, list):
                raise self.fail(field_name, f"must be a list of layers, got {show(items)}")
            directories += [self.layer_directory(item, field_name) for item in items]
        if directories:
            values["layers"] = RawValue(directories, field_name)

    def layer_directory(self, item: object, field_name: str) -> object:
        """The local directory of a `!Ref` to a layer resource of this template (also as the
        result of an intrinsic: `!If [C, !Ref A, !Ref B]`)."""
        resolved = self.literal(item, field_name)
        ref = resolved.get("Ref") if isinstance(resolved, dict) and len(resolved) == 1 else None
        if isinstance(ref, str) and ref in self.layers:
            return self.layer_content(ref)
        raise self.fail(
            field_name,
            "remote layers are not supported; expected !Ref to an AWS::Serverless::LayerVersion"
            f" or AWS::Lambda::LayerVersion of this template, got {show(item)}",
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
            got = show(content)
            if isinstance(content, dict):
                s3 = ("Bucket", "Key", "S3Bucket", "S3Key")
                got = ", ".join(f"{k} {show(v)}" for k, v in content.items() if k in s3) or got
            raise self.fail(
                field_name,
                f"S3 layer content is not supported; expected a local directory or .zip file, "
                f"got {got}",
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
            environment = self.literal(
                {k: v for k, v in source["Environment"].items() if k != "Variables"}
                if isinstance(source["Environment"], dict)
                else source["Environment"],
                f"{prefix}Environment",
            )
            if isinstance(source["Environment"], dict) and isinstance(environment, dict):
                environment["Variables"] = source["Environment"].get("Variables")
            if environment is None:
                continue
            if not isinstance(environment, dict):
                raise self.fail(
                    f"{prefix}Environment",
                    f"must be a mapping with Variables, got {show(environment)}",
                )
            field_name = f"{prefix}Environment.Variables"
            variables = environment.get("Variables")
            if not isinstance(variables, dict):
                variables = self.literal(variables, field_name)
            if variables is None:
                continue
            if not isinstance(variables, dict):
                raise self.fail(
                    field_name, f"must be a mapping of names to values, got {show(variables)}"
                )
            env_field = field_name
            for key, value in variables.items():
                try:
                    resolved = self.stack.evaluate(value)
                except Unresolved:
                    # not known locally: left unset, but declared, so `--env-vars` may set it
                    resolved = DROPPED
                    self.unresolved_env.append(str(key))
                if resolved is DROPPED:
                    env.pop(str(key), None)
                else:
                    env[str(key)] = RawValue(resolved, field_name)
        return env, env_field
