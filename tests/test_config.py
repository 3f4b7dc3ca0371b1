"""Manifest loading: lambda-emu.toml and SAM template.yaml into FunctionConfig (pure unit tests)."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest

from emulator.config import AliasConfig, EmulatorConfig, FunctionConfig, VersionConfig
from emulator.errors import ManifestError
from emulator.manifests import KNOWN_RUNTIMES, RESERVED_ENV_KEYS, find_manifest, load_manifest


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _native(tmp_path: Path, **overrides: object) -> Path:
    """A lambda-emu.toml with one function 'f' (code dir 'src'), keys overridden or removed."""
    (tmp_path / "src").mkdir(exist_ok=True)
    table: dict[str, object] = {"runtime": "python3.12", "handler": "app.handler", "code": "src"}
    table.update(overrides)
    lines = ["[functions.f]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None]
    path = tmp_path / "lambda-emu.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path) -> ManifestError:
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert "\n" not in str(info.value)
    return info.value


def _sam(tmp_path: Path, properties: str, extra: str = "") -> Path:
    """A template.yaml with one Serverless function 'hello' (code dir 'src')."""
    (tmp_path / "src").mkdir(exist_ok=True)
    body = "\n".join("      " + line for line in properties.strip().splitlines())
    return _write(
        tmp_path,
        "template.yaml",
        f"""{extra}
Resources:
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hello
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src
{body}
""",
    )


# --- lambda-emu.toml --------------------------------------------------------------------------


def test_native_manifest_with_defaults(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    path = _write(
        tmp_path,
        "lambda-emu.toml",
        """
[defaults]
runtime = "python3.12"
handler = "app.handler"
memory = 256
environment = { SHARED = "yes", LEVEL = "info" }

[functions.zeta]
code = "a"

[functions.alpha]
code = "b"
memory = 512
timeout = 30
environment = { LEVEL = "debug", COUNT = 3, RATIO = 0.5, ON = true, OFF = false }

[functions.custom]
runtime = "provided.al2023"
handler = "bootstrap"
code = "c"
""",
    )
    zeta, alpha, custom = load_manifest(path)
    assert [zeta.name, alpha.name, custom.name] == ["zeta", "alpha", "custom"]  # declared order
    assert zeta == FunctionConfig(
        name="zeta",
        runtime="python3.12",
        handler="app.handler",
        code_dir=(tmp_path / "a").resolve(),
        memory_mb=256,
        environment=MappingProxyType({"SHARED": "yes", "LEVEL": "info"}),
        source=path,
    )
    assert isinstance(zeta.environment, MappingProxyType)
    assert (alpha.memory_mb, alpha.timeout_s) == (512, 30)
    assert dict(alpha.environment) == {
        "SHARED": "yes",
        "LEVEL": "debug",
        "COUNT": "3",
        "RATIO": "0.5",
        "ON": "true",
        "OFF": "false",
    }
    assert (custom.runtime, custom.handler, custom.memory_mb) == (
        "provided.al2023",
        "bootstrap",
        256,
    )


def test_native_every_key(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        memory=10240,
        timeout=900,
        architecture="arm64",
        ephemeral_storage=10240,
        reserved_concurrency=2,
        provisioned_concurrency=2,
        package_type="Zip",
        sandbox="process",
    )
    (fn,) = load_manifest(path)
    assert fn.code_dir.is_absolute() and fn.code_dir == (tmp_path / "src").resolve()
    assert (fn.memory_mb, fn.timeout_s, fn.ephemeral_storage_mb) == (10240, 900, 10240)
    assert (fn.architecture, fn.sandbox, fn.package_type) == ("arm64", "process", "Zip")
    assert (fn.reserved_concurrency, fn.provisioned_concurrency) == (2, 2)
    assert fn.source == path


def test_native_image_function_needs_no_runtime_handler_or_code(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        runtime=None,
        handler=None,
        code=None,
        package_type="Image",
        image_uri="my-fn:latest",
    )
    (fn,) = load_manifest(path)
    assert (fn.package_type, fn.image_uri, fn.runtime, fn.handler) == (
        "Image",
        "my-fn:latest",
        "",
        "",
    )
    assert fn.code_dir == tmp_path.resolve()


def test_native_memory_error_is_the_exact_one_line_message(tmp_path: Path) -> None:
    path = _native(tmp_path, memory=64)
    assert str(_error(path)) == (
        f"{path}: function 'f': field 'memory': must be an integer from 128 to 10240, got 64"
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"memory": 10241}, "memory", "must be an integer from 128 to 10240, got 10241"),
        ({"memory": True}, "memory", "must be an integer from 128 to 10240, got true"),
        ({"memory": 256.0}, "memory", "must be an integer from 128 to 10240, got 256.0"),
        ({"timeout": 0}, "timeout", "must be an integer from 1 to 900, got 0"),
        ({"timeout": "3"}, "timeout", "must be an integer from 1 to 900, got '3'"),
        ({"ephemeral_storage": 256}, "ephemeral_storage", "from 512 to 10240, got 256"),
        ({"reserved_concurrency": -1}, "reserved_concurrency", "must be an integer >= 0, got -1"),
        (
            {"reserved_concurrency": 1, "provisioned_concurrency": 2},
            "provisioned_concurrency",
            "must be at most reserved_concurrency (1), got 2",
        ),
        ({"runtime": "python2.7"}, "runtime", "must be one of python3.9, "),
        ({"runtime": "python312"}, "runtime", "(did you mean 'python3.12'?)"),
        ({"runtime": None}, "runtime", "is required when package_type is Zip, got nothing"),
        ({"handler": None}, "handler", "is required when package_type is Zip, got nothing"),
        ({"handler": ""}, "handler", "must be a non-empty string, got ''"),
        ({"code": None}, "code", "is required when package_type is Zip, got nothing"),
        ({"architecture": "amd64"}, "architecture", "must be 'x86_64' or 'arm64', got 'amd64'"),
        (
            {"sandbox": "vm"},
            "sandbox",
            "must be 'auto', 'process', 'docker' or 'portable', got 'vm'",
        ),
        ({"package_type": "zip"}, "package_type", "got 'zip' (did you mean 'Zip'?)"),
        ({"image_uri": "x:1"}, "image_uri", "is only used when package_type is Image"),
        (
            {"package_type": "Image", "runtime": None, "handler": None},
            "image_uri",
            "is required when package_type is Image, got nothing",
        ),
        (
            {"environment": {"AWS_REGION": "x"}},
            "environment",
            "variable names must not be reserved by Lambda, got 'AWS_REGION'",
        ),
        (
            {"environment": {"_X": "x"}},
            "environment",
            "variable names must match ^[a-zA-Z][a-zA-Z0-9_]+$, got '_X'",
        ),
        (
            {"environment": {"LIST": [1]}},
            "environment",
            "variable 'LIST' must be a string, number or boolean, got a list",
        ),
        ({"environment": "A=1"}, "environment", "must be a table of variables, got 'A=1'"),
    ],
)
def test_native_validation_errors(
    tmp_path: Path, overrides: dict[str, object], field: str, message: str
) -> None:
    path = _native(tmp_path, **overrides)
    error = _error(path)
    assert str(error).startswith(f"{path}: function 'f': field '{field}': ")
    assert message in str(error)
    assert (error.path, error.function, error.field) == (path, "f", field)


def test_code_dir_must_exist_and_be_a_directory(tmp_path: Path) -> None:
    error = _error(_native(tmp_path, code="missing"))
    assert error.field == "code"
    assert f"must be an existing directory (relative to {tmp_path.resolve()})" in str(error)
    assert "got 'missing'" in str(error)
    (tmp_path / "code.zip").write_bytes(b"PK")
    error = _error(_native(tmp_path, code="code.zip"))
    assert "cannot unpack" in str(error) and "code.zip: File is not a zip file" in str(error)


def test_environment_size_limit(tmp_path: Path) -> None:
    fits = {"A1": "x" * (4096 - 2)}
    assert load_manifest(_native(tmp_path, environment=fits))[0].environment == fits
    error = _error(_native(tmp_path, environment={"A1": "x" * 4095}))
    assert str(error).endswith(
        "field 'environment': variables must total at most 4096 bytes (names plus values), "
        "got 4097 bytes"
    )


def test_every_reserved_key_is_rejected(tmp_path: Path) -> None:
    assert "AWS_LAMBDA_RUNTIME_API" in RESERVED_ENV_KEYS and len(RESERVED_ENV_KEYS) == 18
    for key in RESERVED_ENV_KEYS:
        if key.startswith("_"):
            continue  # fails the name pattern first
        assert "reserved" in str(_error(_native(tmp_path, environment={key: "v"})))


def test_invalid_function_name(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = _write(
        tmp_path,
        "lambda-emu.toml",
        '[functions."my.fn"]\nruntime = "python3.12"\nhandler = "a.b"\ncode = "src"\n',
    )
    assert str(_error(path)) == (
        f"{path}: function 'my.fn': field 'name': must match ^[a-zA-Z0-9_-]{{1,64}}$ "
        "(1 to 64 letters, digits, '-' or '_'), got 'my.fn'"
    )


def test_bad_default_names_the_defaults_key(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = _write(
        tmp_path,
        "lambda-emu.toml",
        '[defaults]\ntimeout = 1000\n[functions.f]\nruntime = "python3.12"\n'
        'handler = "a.b"\ncode = "src"\n',
    )
    assert str(_error(path)) == (
        f"{path}: function 'f': field 'defaults.timeout': "
        "must be an integer from 1 to 900, got 1000"
    )


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    error = _error(_native(tmp_path, memroy=256))
    assert (error.function, error.field) == ("f", "memroy")
    assert str(error).startswith(f"{tmp_path / 'lambda-emu.toml'}: function 'f': field 'memroy': ")
    assert "unknown key; expected one of runtime, handler, " in str(error)
    assert str(error).endswith("got 'memroy' (did you mean 'memory'?)")


def test_unknown_defaults_and_top_level_keys(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    fn = '[functions.f]\nruntime = "python3.12"\nhandler = "a.b"\ncode = "src"\n'
    path = _write(tmp_path, "lambda-emu.toml", "[defaults]\ntimout = 3\n" + fn)
    error = _error(path)
    assert error.field == "defaults.timout" and "(did you mean 'timeout'?)" in str(error)
    path = _write(tmp_path, "lambda-emu.toml", "[function.f]\n" + fn)
    assert str(_error(path)).endswith("got 'function' (did you mean 'functions'?)")


def test_native_without_functions(tmp_path: Path) -> None:
    path = _write(tmp_path, "lambda-emu.toml", '[defaults]\nruntime = "python3.12"\n')
    assert str(_error(path)) == (
        f"{path}: field 'functions': must declare at least one [functions.<name>] table, got none"
    )


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "lambda-emu.toml", "[functions.f]\nruntime = python3.12\n")
    message = str(_error(path))
    assert message.startswith(f"{path}: invalid TOML: ") and "line 2" in message


# --- SAM template.yaml ------------------------------------------------------------------------

TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
  Memory:
    Type: Number
    Default: '512'
  NoDefault:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        STAGE: !Ref Stage
        SHARED: from-globals
        LEVEL: info
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-bucket"
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: hello
      Handler: app.handler
      CodeUri: hello/
      MemorySize: !Ref Memory
      Architectures: [arm64]
      EphemeralStorage:
        Size: 1024
      ReservedConcurrentExecutions: 3
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 1
      Role: !GetAtt HelloRole.Arn
      Environment:
        Variables:
          LEVEL: debug
          BUCKET: !Ref Bucket
          TABLE: !GetAtt Table.Arn
          URL: !Sub "https://${Bucket}.example.com"
          MISSING: !Ref NoDefault
          PORT: 8080
          DEBUG: true
      Events:
        Api:
          Type: Api
          Properties: {Path: /hello, Method: get}
  WorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-world"
      Handler: world.handler
      Tags: !If [IsProd, {a: b}, !Ref "AWS::NoValue"]
  Classic:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Code: classic
      Timeout: 5
      Role: !Join ["", [!ImportValue RoleArn, !Select [0, !Split [",", !Base64 x]]]]
      Environment:
        Variables:
          ONLY: classic
Outputs:
  Azs:
    Value: !GetAZs ''
  Cidrs:
    Value: !Cidr [10.0.0.0/16, 2, 8]
  Either:
    Value: !If [IsProd, !Not [!Condition IsProd], !And [!Or [a, b], c]]
  Mapped:
    Value: !FindInMap [Map, Key, Value]
"""


def test_sam_template(tmp_path: Path) -> None:
    for name in ("hello", "classic"):
        (tmp_path / name).mkdir()
    path = _write(tmp_path, "template.yaml", TEMPLATE)
    hello, world, classic = load_manifest(path)

    assert hello == FunctionConfig(
        name="hello",
        runtime="python3.12",
        handler="app.handler",
        code_dir=(tmp_path / "hello").resolve(),
        memory_mb=512,  # !Ref Memory -> the Number parameter's Default
        timeout_s=10,  # from Globals
        environment=MappingProxyType(
            {
                "STAGE": "dev",  # !Ref Stage -> the parameter's Default
                "SHARED": "from-globals",
                "LEVEL": "debug",  # the function's value wins over Globals'
                "BUCKET": "Bucket",  # a resource's Ref: its logical id, as in SAM CLI
                "URL": "https://Bucket.example.com",
                "PORT": "8080",
                "DEBUG": "true",
            }
        ),
        architecture="arm64",
        ephemeral_storage_mb=1024,
        reserved_concurrency=3,
        # AutoPublishAlias publishes version 1; ProvisionedConcurrencyConfig is the alias's
        versions=(VersionConfig("1"),),
        aliases=(AliasConfig("live", "1", provisioned_concurrency=1),),
        source=path,
        # declared with intrinsics it cannot resolve: unset, but --env-vars may set them
        unresolved_env=("TABLE", "MISSING"),
    )
    # FunctionName is resolved (AWS::StackName is SAM CLI's `local`); CodeUri defaults to the
    # template's folder, as in SAM CLI.
    assert (world.name, world.handler, world.code_dir) == (
        "local-world",
        "world.handler",
        tmp_path.resolve(),
    )
    assert (world.memory_mb, world.timeout_s) == (256, 10)
    # Globals apply to AWS::Serverless::Function only.
    assert classic == FunctionConfig(
        name="Classic",
        runtime="nodejs20.x",
        handler="index.handler",
        code_dir=(tmp_path / "classic").resolve(),
        timeout_s=5,
        environment=MappingProxyType({"ONLY": "classic"}),
        source=path,
    )


def test_sam_image_functions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "template.yml",
        """
Resources:
  Img:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: img:latest
    Metadata:
      DockerContext: ./img
  Raw:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Code:
        ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/raw:1
""",
    )
    img, raw = load_manifest(path)
    assert (img.name, img.package_type, img.image_uri, img.runtime) == (
        "Img",
        "Image",
        "img:latest",
        "",
    )
    assert raw.image_uri == "123456789012.dkr.ecr.us-east-1.amazonaws.com/raw:1"


def test_sam_memory_error_is_the_exact_one_line_message(tmp_path: Path) -> None:
    path = _sam(tmp_path, "MemorySize: 64")
    assert str(_error(path)) == (
        f"{path}: function 'hello': field 'MemorySize': must be an integer from 128 to 10240, "
        "got 64"
    )


@pytest.mark.parametrize(
    ("properties", "field", "message"),
    [
        ("Timeout: 901", "Timeout", "must be an integer from 1 to 900, got 901"),
        ("EphemeralStorage: {Size: 100}", "EphemeralStorage.Size", "from 512 to 10240, got 100"),
        ("Architectures: [x86_64, arm64]", "Architectures", "must be a list with one item"),
        ("Architectures: [arm]", "Architectures", "got 'arm' (did you mean 'arm64'?)"),
        (
            "ReservedConcurrentExecutions: 1\nAutoPublishAlias: live\n"
            "ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 5}",
            "ReservedConcurrentExecutions",
            "must cover the provisioned concurrency of every version and alias (5), got 1",
        ),
        (
            "Environment: {Variables: {AWS_LAMBDA_FUNCTION_NAME: x}}",
            "Environment.Variables",
            "must not be reserved by Lambda, got 'AWS_LAMBDA_FUNCTION_NAME'",
        ),
        (
            "ImageUri: img:1",
            "ImageUri",
            "is only used when PackageType is Image, got 'img:1' for a Zip function",
        ),
        (
            "Timeout: !GetAtt Config.Timeout",
            "Timeout",
            "cannot be resolved locally: !GetAtt Config.Timeout: not known before deployment",
        ),
        (
            "MemorySize: !Ref NoSuchParam",
            "MemorySize",
            "cannot be resolved locally: !Ref NoSuchParam: no such parameter or resource",
        ),
        (
            "Environment: !If [C, a, b]",
            "Environment",
            "cannot be resolved locally: Condition C: no such condition in Conditions",
        ),
        ("FunctionName: [a]", "FunctionName", "must be a string, got a list"),
    ],
)
def test_sam_validation_errors(tmp_path: Path, properties: str, field: str, message: str) -> None:
    # FunctionName: hello comes first in the template, a later one overrides it
    path = _sam(tmp_path, properties)
    error = _error(path)
    function = "HelloFunction" if field == "FunctionName" else "hello"
    assert str(error).startswith(f"{path}: function '{function}': field '{field}': ")
    assert message in str(error)
    assert (error.path, error.function, error.field) == (path, function, field)


def test_sam_runtime_intrinsic_is_reported(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = _write(
        tmp_path,
        "template.yaml",
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Runtime: !Sub 'python${V}'\n      Handler: a.b\n      CodeUri: src\n",
    )
    assert str(_error(path)).startswith(
        f"{path}: function 'Fn': field 'Runtime': cannot be resolved locally: !Ref V: no such "
    )


def test_sam_globals_error_names_the_globals_field(tmp_path: Path) -> None:
    path = _sam(tmp_path, "", extra="Globals:\n  Function:\n    Timeout: 0\n")
    assert str(_error(path)) == (
        f"{path}: function 'hello': field 'Globals.Function.Timeout': "
        "must be an integer from 1 to 900, got 0"
    )


def test_sam_unsupported_code_locations(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "template.yaml",
        "Resources:\n  Inline:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Runtime: python3.12\n      Handler: index.handler\n"
        "      Code:\n        ZipFile: |\n          def handler(e, c): return 1\n",
    )
    (inline,) = load_manifest(path)  # Lambda names ZipFile code `index` (docs: ZipFile)
    assert (inline.code_dir / "index.py").read_text() == "def handler(e, c): return 1\n"

    path = _sam(tmp_path, "CodeUri: s3://bucket/code.zip")
    assert "field 'CodeUri': S3 code is not supported" in str(_error(path))
    path = _sam(tmp_path, "CodeUri: {Bucket: b, Key: k}")
    assert "field 'CodeUri': S3 code is not supported" in str(_error(path))


LAYERED_TEMPLATE = """
Globals:
  Function:
    Runtime: nodejs20.x
    Layers: [!Ref Common]
Resources:
  Common:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/common/
      CompatibleRuntimes: [nodejs20.x]
  Vendor:
    Type: AWS::Lambda::LayerVersion
    Properties:
      Content: layers/vendor
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      CodeUri: src
      Layers: [!Ref Vendor]
  Classic:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: nodejs20.x
      Handler: index.handler
      Code: src
      Layers: [!Ref Vendor, !Ref Common]
"""


def test_sam_layers_from_local_layer_versions(tmp_path: Path) -> None:
    for name in ("src", "layers/common", "layers/vendor"):
        (tmp_path / name).mkdir(parents=True)
    path = _write(tmp_path, "template.yaml", LAYERED_TEMPLATE)
    api, classic = load_manifest(path)
    common, vendor = (tmp_path / "layers/common").resolve(), (tmp_path / "layers/vendor").resolve()
    # Globals' list comes first: SAM prepends a global list to the resource's; an
    # AWS::Lambda::Function takes no Globals.
    assert api.layers == (common, vendor)
    assert classic.layers == (vendor, common)


@pytest.mark.parametrize(
    ("layer", "ref", "field", "message"),
    [
        (
            "Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: s3://b/layer.zip}",
            "!Ref Deps",
            "Resources.Deps.ContentUri",
            "S3 layer content is not supported; expected a local directory or .zip file, "
            "got 's3://b/layer.zip'",
        ),
        (
            "Type: AWS::Serverless::LayerVersion\n"
            "    Properties:\n      ContentUri: {Bucket: b, Key: k}",
            "!Ref Deps",
            "Resources.Deps.ContentUri",
            "S3 layer content is not supported; expected a local directory or .zip file, "
            "got Bucket 'b', Key 'k'",
        ),
        (
            "Type: AWS::Lambda::LayerVersion\n    Properties: {Content: {S3Bucket: b, S3Key: k}}",
            "!Ref Deps",
            "Resources.Deps.Content",
            "S3 layer content is not supported; expected a local directory or .zip file, "
            "got S3Bucket 'b', S3Key 'k'",
        ),
        (
            "Type: AWS::Lambda::LayerVersion\n    Properties: {}",
            "!Ref Deps",
            "Resources.Deps.Content",
            "must be a local directory, got nothing",
        ),
        (
            "Type: AWS::S3::Bucket",
            "arn:aws:lambda:us-east-1:123456789012:layer:shared:3",
            "Layers",
            "remote layers are not supported; expected !Ref to an AWS::Serverless::LayerVersion "
            "or AWS::Lambda::LayerVersion of this template, got "
            "'arn:aws:lambda:us-east-1:123456789012:layer:shared:3'",
        ),
        (
            "Type: AWS::S3::Bucket",
            "!Ref Deps",
            "Layers",
            "remote layers are not supported; expected !Ref to an AWS::Serverless::LayerVersion "
            "or AWS::Lambda::LayerVersion of this template, got !Ref Deps",
        ),
    ],
)
def test_sam_unsupported_layers(
    tmp_path: Path, layer: str, ref: str, field: str, message: str
) -> None:
    path = _sam(tmp_path, f"Layers: [{ref}]")
    path.write_text(path.read_text() + f"  Deps:\n    {layer}\n")
    assert str(_error(path)) == f"{path}: function 'hello': field '{field}': {message}"


def test_sam_layer_directory_must_exist(tmp_path: Path) -> None:
    path = _sam(tmp_path, "Layers: [!Ref Deps]")
    layer = "  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties: {ContentUri: gone}\n"
    path.write_text(path.read_text() + layer)
    assert str(_error(path)) == (
        f"{path}: function 'hello': field 'Layers': must be directories, got 'gone': "
        f"{(tmp_path / 'gone').resolve()} is not one"
    )


def test_sam_duplicate_function_names(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    fn = "    Type: AWS::Serverless::Function\n    Properties:\n      FunctionName: same\n"
    globals_ = "Globals:\n  Function: {Runtime: python3.12, Handler: a.b, CodeUri: src}\n"
    path = _write(tmp_path, "template.yaml", f"{globals_}Resources:\n  A:\n{fn}  B:\n{fn}")
    assert str(_error(path)) == (
        f"{path}: function 'same': field 'FunctionName': function names must be unique, "
        "got 'same' again in Resources.B (first declared in Resources.A)"
    )


def test_sam_without_functions(tmp_path: Path) -> None:
    path = _write(tmp_path, "template.yaml", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    assert str(_error(path)) == (
        f"{path}: field 'Resources': must declare at least one AWS::Serverless::Function "
        "or AWS::Lambda::Function, got none"
    )
    path = _write(tmp_path, "template.yaml", "")
    assert str(_error(path)) == f"{path}: must be a mapping with Resources, got nothing"


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "template.yaml", "Resources:\n  A: [1, 2\n  B: 3\n")
    message = str(_error(path))
    assert message.startswith(f"{path}: invalid YAML at line 3, column ")
    path = _write(tmp_path, "template.yaml", "Resources:\n  A: !Bogus x\n")
    assert str(_error(path)) == f"{path}: invalid YAML at line 2, column 6: unknown tag '!Bogus'"


# --- files ------------------------------------------------------------------------------------


def test_find_manifest_precedence(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        find_manifest(tmp_path)
    assert str(info.value) == f"{tmp_path}: no lambda-emu.toml or template.yaml here"
    (tmp_path / "template.yml").write_text("")
    assert find_manifest(tmp_path) == tmp_path / "template.yml"
    (tmp_path / "template.yaml").write_text("")
    assert find_manifest(tmp_path) == tmp_path / "template.yaml"
    (tmp_path / "lambda-emu.toml").write_text("")
    assert find_manifest(tmp_path) == tmp_path / "lambda-emu.toml"


def test_missing_unreadable_and_unknown_files(tmp_path: Path) -> None:
    missing = tmp_path / "lambda-emu.toml"
    assert str(_error(missing)) == f"{missing}: no such file"
    folder = tmp_path / "template.yaml"
    folder.mkdir()
    assert str(_error(folder)) == f"{folder}: is a directory, expected a manifest file"
    binary = _write(tmp_path, "x.toml", "")
    binary.write_bytes(b"\xff\xfe")
    assert "must be UTF-8 text" in str(_error(binary))
    other = _write(tmp_path, "serverless.json", "{}")
    assert "expected a .toml (lambda-emu) or .yaml/.yml (SAM) file" in str(_error(other))


def test_known_runtimes_constant() -> None:
    assert KNOWN_RUNTIMES[0] == "python3.9" and "python3.14" in KNOWN_RUNTIMES
    assert {"provided", "provided.al2", "provided.al2023", "dotnet8", "java21"} <= set(
        KNOWN_RUNTIMES
    )


def test_state_dir_is_made_absolute() -> None:
    # runtimes run in their code directory, so a relative state dir would point elsewhere
    cfg = EmulatorConfig(functions=(), state_dir=Path(".lambda-emu"))
    assert cfg.state_dir.is_absolute() and cfg.state_dir == Path(".lambda-emu").resolve()
