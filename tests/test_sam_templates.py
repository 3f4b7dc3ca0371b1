"""SAM templates as they are: AWS's `sam init` hello-world apps served unmodified, the
intrinsics and Parameters function properties use, Conditions, Globals, every CodeUri form,
InlineCode, local Layers and AutoPublishAlias, invoked through boto3."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.errors import ManifestError
from emulator.manifests import (
    StackSettings,
    load_http,
    load_manifest,
    parse_parameter_overrides,
)
from emulator.pytest_plugin import boto3_client

DATA = Path(__file__).parent / "data"


def _serve(functions: tuple[FunctionConfig, ...], state: Path) -> EmbeddedEmulator:
    cfg = EmulatorConfig(functions=functions, port=0, state_dir=state, log_to_terminal=False)
    return EmbeddedEmulator(cfg)


@pytest.mark.parametrize(
    ("app_dir", "body"),
    [
        ("sam-hello-python", '{"message": "hello world"}'),  # json.dumps
        ("sam-hello-node", '{"message":"hello world"}'),  # JSON.stringify
    ],
)
def test_sam_init_hello_world_served_unmodified(app_dir: str, body: str, tmp_path: Path) -> None:
    template = DATA / app_dir / "template.yaml"
    (fn,) = load_manifest(template)
    # Globals.Function.Timeout: 3; the function is named by its logical id, as `sam local` does
    assert (fn.name, fn.timeout_s, fn.architecture) == ("HelloWorldFunction", 3, "x86_64")
    event = json.loads((DATA / app_dir / "events" / "event.json").read_text())
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        api_port=0,
        http=load_http(template, (fn,)),  # Events.HelloWorld: Api GET /hello (ServerlessRestApi)
        state_dir=tmp_path,
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as emu, boto3_client(emu) as client:
        resp = client.invoke(FunctionName="HelloWorldFunction", Payload=json.dumps(event))
        assert (resp["StatusCode"], resp.get("FunctionError")) == (200, None)
        assert json.loads(resp["Payload"].read()) == {"statusCode": 200, "body": body}
        # through the front door's REST route, as `sam local start-api` serves it
        assert emu.api_url is not None
        answer = httpx.get(f"{emu.api_url}/hello", timeout=60)
        assert (answer.status_code, answer.text) == (200, body)
        assert emu.internal_errors == []


# --- Parameters, intrinsics, Conditions -----------------------------------------------------

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Memory:
    Type: Number
    Default: 256
  Names:
    Type: CommaDelimitedList
    Default: "a,b,c"
  Table:
    Type: String
Mappings:
  Sizes:
    dev: {Timeout: 5}
    prod: {Timeout: 30}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Or [!Equals [a, b], !Equals [!Ref Memory, 256]]]
Globals:
  Function:
    Runtime: python3.12
    Handler: index.handler
    MemorySize: !Ref Memory
    Timeout: !FindInMap [Sizes, !Ref Stage, Timeout]
    Tracing: Active
    Tags: {team: x}
    Environment:
      Variables:
        STAGE: !Ref Stage
Resources:
  Main:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-main-${Stage}"
      InlineCode: |
        import os
        def handler(event, context):
            return {k: v for k, v in os.environ.items() if k.startswith("X_")}
      Environment:
        Variables:
          X_REGION: !Sub "${AWS::Region}/${AWS::AccountId}/${AWS::Partition}/${AWS::URLSuffix}"
          X_SUB_LIST: !Sub ["${Greeting}, ${Stage}", {Greeting: !Join ["-", [hi, there]]}]
          X_LITERAL: !Sub "${!NotAVariable}"
          X_ARN: !GetAtt Other.Arn
          X_SUB_ARN: !Sub "${Other.Arn}"
          X_REF_RESOURCE: !Ref Bucket
          X_IF: !If [IsProd, big, small]
          X_BOTH: !If [Both, "yes", "no"]
          X_SELECT: !Select [1, !Ref Names]
          X_SPLIT: !Select [2, !Split [":", "x:y:z"]]
          X_TABLE: !Ref Table
          X_GONE: !If [IsProd, kept, !Ref AWS::NoValue]
      ReservedConcurrentExecutions: !If [IsProd, 10, !Ref AWS::NoValue]
  Other:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: other-fn
      InlineCode: "def handler(e, c): return 1"
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      InlineCode: "def handler(e, c): return 1"
  Bucket:
    Type: AWS::S3::Bucket
"""


def _template(tmp_path: Path, text: str = TEMPLATE) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    return path


def test_intrinsics_with_defaults(tmp_path: Path) -> None:
    path = _template(tmp_path)
    main, other = load_manifest(path)  # ProdOnly's Condition is false: not created
    assert (main.name, other.name) == ("local-main-dev", "other-fn")
    assert (main.memory_mb, main.timeout_s, main.reserved_concurrency) == (256, 5, None)
    assert dict(main.environment) == {
        "STAGE": "dev",
        # SAM CLI's local pseudo parameters, with the emulator's region and account
        "X_REGION": "us-east-1/123456789012/aws/localhost",
        "X_SUB_LIST": "hi-there, dev",
        "X_LITERAL": "${NotAVariable}",
        "X_ARN": "arn:aws:lambda:us-east-1:123456789012:function:other-fn",
        "X_SUB_ARN": "arn:aws:lambda:us-east-1:123456789012:function:other-fn",
        "X_REF_RESOURCE": "Bucket",  # a resource's Ref: its logical id, as in SAM CLI
        "X_IF": "small",
        "X_BOTH": "yes",
        "X_SELECT": "b",
        "X_SPLIT": "z",
        # X_TABLE: a parameter with no Default and no override stays unset; X_GONE: NoValue
    }
    # InlineCode is Lambda's ZipFile: one file named index
    assert (main.code_dir / "index.py").read_text().startswith("import os\n")


def test_parameter_overrides(tmp_path: Path) -> None:
    path = _template(tmp_path)
    overrides = parse_parameter_overrides(
        "ParameterKey=Stage,ParameterValue=prod ParameterKey=Table,ParameterValue='my table'"
    )
    assert overrides == {"Stage": "prod", "Table": "my table"}
    main, _other, prod_only = load_manifest(path, StackSettings(overrides, region="eu-west-1"))
    assert (main.name, prod_only.name) == ("local-main-prod", "ProdOnly")
    assert (main.timeout_s, main.reserved_concurrency) == (30, 10)
    env = main.environment
    assert (env["X_IF"], env["X_BOTH"], env["X_GONE"], env["X_TABLE"]) == (
        "big",
        "no",
        "kept",
        "my table",
    )
    assert env["X_REGION"].startswith("eu-west-1/")

    with pytest.raises(ManifestError) as exc:
        load_manifest(path, StackSettings({"Stage": "qa"}))
    assert "parameter Stage must be one of 'dev', 'prod', got 'qa'" in str(exc.value)
    with pytest.raises(ManifestError) as exc:
        load_manifest(path, StackSettings({"Nope": "1"}))
    assert "does not declare: Nope" in str(exc.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1 B=two", {"A": "1", "B": "two"}),
        ("A=\"x y\" B='z'", {"A": "x y", "B": "z"}),
        ("ParameterKey=A,ParameterValue=1", {"A": "1"}),
        (
            "ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue=c=d",
            {"A": "1", "B": "c=d"},
        ),
        ("", {}),
    ],
)
def test_parse_parameter_overrides(text: str, expected: dict[str, str]) -> None:
    # SAM CLI's two forms (samcli/cli/types.py CfnParameterOverridesType examples 1 and 2)
    assert parse_parameter_overrides(text) == expected


def test_parse_parameter_overrides_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="cannot read 'novalue'"):
        parse_parameter_overrides("A=1 novalue")


# --- one-line refusals ------------------------------------------------------------------------

FUNCTION = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
"""


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        (
            "      CodeUri: {Bucket: my-bucket, Key: code.zip}\n",
            "CodeUri",
            "S3 code is not supported; expected a local directory or .zip file, got Bucket "
            "'my-bucket', Key 'code.zip'",
        ),
        (
            "      CodeUri: s3://b/k.zip\n",
            "CodeUri",
            "S3 code is not supported; expected a local directory or .zip file, got 's3://b/k.zip'",
        ),
        (
            "      InlineCode: x\n      CodeUri: .\n",
            "InlineCode",
            "must not be set together with CodeUri",
        ),
        (
            "      Timeout: !ImportValue shared-timeout\n",
            "Timeout",
            "cannot be resolved locally: !ImportValue: not resolved locally",
        ),
        (
            "      MemorySize: !GetAtt Table.Arn\n",
            "MemorySize",
            "cannot be resolved locally: !GetAtt Table.Arn: not known before deployment",
        ),
        (
            "      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}\n",
            "ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions",
            "needs AutoPublishAlias: SAM configures provisioned concurrency on the alias it "
            "publishes, got no AutoPublishAlias",
        ),
    ],
)
def test_unsupported_is_one_line(tmp_path: Path, extra: str, field: str, message: str) -> None:
    path = _template(tmp_path, FUNCTION + extra)
    with pytest.raises(ManifestError) as exc:
        load_manifest(path)
    assert (exc.value.function, exc.value.field) == ("Fn", field)
    assert str(exc.value) == f"{path}: function 'Fn': field '{field}': {message}"


def test_unknown_globals_key_is_refused(tmp_path: Path) -> None:
    path = _template(tmp_path, "Globals:\n  Function:\n    Timout: 3\n" + FUNCTION)
    with pytest.raises(ManifestError) as exc:
        load_manifest(path)
    assert exc.value.field == "Globals.Function.Timout"
    # SAM's own words for it (samtranslator globals.py: "is not a supported property")
    assert "'Timout' is not a supported property of 'Function' in Globals" in str(exc.value)
    assert "(did you mean 'Timeout'?)" in str(exc.value)


def test_globals_merge_mappings_and_lists(tmp_path: Path) -> None:
    (tmp_path / "layer").mkdir()
    (tmp_path / "layer2").mkdir()
    path = _template(
        tmp_path,
        """
Globals:
  Function:
    EventInvokeConfig: {MaximumRetryAttempts: 0}
    Layers: [!Ref L1]
Resources:
  L1: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer}}
  L2: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: layer2}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: x
      EventInvokeConfig: {MaximumEventAgeInSeconds: 120}
      Layers: [!Ref L2]
""",
    )
    (fn,) = load_manifest(path)
    # mappings merge key by key, lists are additive (docs: sam-specification-template-anatomy-
    # globals.html, "Overridable" examples)
    assert (fn.maximum_retry_attempts, fn.maximum_event_age_s) == (0, 120)
    assert fn.layers == ((tmp_path / "layer").resolve(), (tmp_path / "layer2").resolve())


# --- served: .zip CodeUri, a local layer, AutoPublishAlias ----------------------------------

SERVED = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {Type: String, Default: hello}
Globals:
  Function:
    Runtime: python3.12
    AutoPublishAlias: live
    DeploymentPreference: {Type: Canary10Percent5Minutes}
Resources:
  Shared:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: shared/
  Zipped:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/zipped.zip
      Handler: app.handler
      AutoPublishCodeSha256: ignored-locally
      Layers: [!Ref Shared]
      ProvisionedConcurrencyConfig:
        ProvisionedConcurrentExecutions: 1
      Environment:
        Variables:
          GREETING: !Ref Greeting
      Events:
        Get:
          Type: HttpApi
          Properties: {Path: /zipped, Method: GET}
      FunctionUrlConfig: {AuthType: NONE}
"""

ZIPPED_APP = """\
import os
import shared


def handler(event, context):
    return {
        "message": shared.greet(os.environ["GREETING"]),
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
        "arn": context.invoked_function_arn,
    }
"""


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "shared" / "python").mkdir(parents=True)
    (tmp_path / "shared" / "python" / "shared.py").write_text(
        "def greet(word):\n    return word + ' from a layer'\n"
    )
    (tmp_path / "build").mkdir()
    with zipfile.ZipFile(tmp_path / "build" / "zipped.zip", "w") as package:
        # mode 644, as `zip` keeps a file's mode: a bare writestr entry is 600, which the
        # function's user cannot read (on Lambda too: docs gettingstarted-package "permissions")
        entry = zipfile.ZipInfo("app.py")
        entry.external_attr = 0o100644 << 16
        package.writestr(entry, ZIPPED_APP)
    yield _template(tmp_path, SERVED)


def test_zip_code_layer_and_auto_publish_alias(served_app: Path, tmp_path: Path) -> None:
    (fn,) = load_manifest(served_app, StackSettings({"Greeting": "howdy"}))
    assert fn.code_dir.name.startswith("zip-") and (fn.code_dir / "app.py").is_file()
    assert [v.version for v in fn.versions] == ["1"]
    assert [(a.name, a.version, a.provisioned_concurrency) for a in fn.aliases] == [
        ("live", "1", 1)
    ]
    with _serve((fn,), tmp_path / "state") as emu, boto3_client(emu) as client:
        answers: dict[str, Any] = {}
        for qualifier in ("live", "1", "$LATEST"):
            resp = client.invoke(FunctionName="Zipped", Qualifier=qualifier, Payload=b"{}")
            answers[qualifier] = (resp["ExecutedVersion"], json.loads(resp["Payload"].read()))
        arn = "arn:aws:lambda:us-east-1:123456789012:function:Zipped"
        assert answers["live"] == (
            "1",
            {
                "message": "howdy from a layer",
                "version": "1",
                "init": "provisioned-concurrency",  # the alias's ProvisionedConcurrencyConfig
                "arn": f"{arn}:live",
            },
        )
        assert answers["1"][0] == "1" and answers["1"][1]["arn"] == f"{arn}:1"
        assert answers["$LATEST"][1]["version"] == "$LATEST"
        assert answers["$LATEST"][1]["init"] == "on-demand"
        assert emu.internal_errors == []


def test_auto_publish_alias_routes_and_url_invoke_the_alias(
    served_app: Path, tmp_path: Path
) -> None:
    """SAM points the function's API events and its URL at the alias it publishes
    (samtranslator/model/sam_resources.py: `_construct_function_url` targets the alias's ARN;
    the events get the alias as their function)."""
    (fn,) = load_manifest(served_app)
    http = load_http(served_app, (fn,))
    assert [(r.route_key, r.qualifier) for r in http.routes] == [("GET /zipped", "live")]
    assert [(u.function, u.qualifier) for u in http.urls] == [("Zipped", "live")]
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        api_port=0,
        http=http,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
    )
    arn = "arn:aws:lambda:us-east-1:123456789012:function:Zipped:live"
    with EmbeddedEmulator(cfg) as emu:
        assert emu.api_url is not None
        # the URL is the alias's: /lambda-url/Zipped:live/, and, the function's only one, also
        # /lambda-url/Zipped/
        urls = ("/lambda-url/Zipped/", "/lambda-url/Zipped:live/")
        for url in (f"{emu.api_url}/zipped", *(emu.url + path for path in urls)):
            answer = httpx.get(url, timeout=60)
            assert answer.status_code == 200, answer.text
            # version 1 through the alias, in the alias's provisioned environment
            assert answer.json() == {
                "message": "hello from a layer",
                "version": "1",
                "init": "provisioned-concurrency",
                "arn": arn,
            }
        assert emu.internal_errors == []


def test_cli_invoke_with_parameter_overrides(served_app: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "invoke",
            "Zipped",
            "--manifest",
            str(served_app),
            "--parameter-overrides",
            "Greeting=hey",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"message": "hey from a layer"' in result.output or "hey from a layer" in result.output

    result = CliRunner().invoke(
        app, ["invoke", "Zipped", "--manifest", str(served_app), "--parameter-overrides", "x"]
    )
    assert result.exit_code == 2
    assert "--parameter-overrides: cannot read 'x'" in result.output


def test_front_door_follows_conditions_and_overrides(tmp_path: Path) -> None:
    path = _template(
        tmp_path,
        """
Parameters:
  Stage: {Type: String, Default: dev}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      FunctionName: !Sub "fn-${Stage}"
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(e, c): return 1"
      Events:
        Get: {Type: Api, Properties: {Path: /fn, Method: get}}
  Always:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: "def handler(e, c): return 1"
""",
    )
    functions = load_manifest(path)
    assert load_http(path, functions).routes == ()  # no function, no event
    prod = StackSettings({"Stage": "prod"})
    functions = load_manifest(path, prod)
    (route,) = load_http(path, functions, prod).routes
    assert (route.function, route.path) == ("fn-prod", "/fn")


def test_layers_chosen_by_a_condition(tmp_path: Path) -> None:
    for name in ("small", "big"):
        (tmp_path / name).mkdir()
    path = _template(
        tmp_path,
        """
Parameters:
  Big: {Type: String, Default: "no"}
Conditions:
  UseBig: !Equals [!Ref Big, "yes"]
Resources:
  Small: {Type: AWS::Serverless::LayerVersion, Properties: {ContentUri: small}}
  Large: {Type: AWS::Lambda::LayerVersion, Properties: {Content: big}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      InlineCode: x
      Layers: [!If [UseBig, !Ref Large, !Ref Small]]
""",
    )
    assert load_manifest(path)[0].layers == ((tmp_path / "small").resolve(),)
    (fn,) = load_manifest(path, StackSettings({"Big": "yes"}))
    assert fn.layers == ((tmp_path / "big").resolve(),)
