"""The Lambda control plane through boto3, the AWS CLI and the AWS SDK for JavaScript v3:
create from a zip, wait (boto3's waiters), invoke, update code (the next invocation is cold,
on the new code), publish, aliases with weights, concurrency, provisioned concurrency, URLs,
tags, delete, and a restart of `serve` (API functions persist; `--fresh` starts empty).

Expected values cite their recording: "LS <Class>::<test> › <key>" is LocalStack's
AWS-recorded tests/aws/services/lambda_/test_lambda_api.snapshot.json (recorded on AWS,
2025-11 unless said); F<n> is /work/notes/conformance-cases.md section F.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.request import urlopen

import pytest
from botocore.exceptions import ClientError

from emulator.config import EmulatorConfig
from emulator.embedded import EmbeddedEmulator
from emulator.pytest_plugin import boto3_client

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

HANDLER_V1 = """
import os
STARTED = os.getpid()
def handler(event, context):
    return {"code": "v1", "pid": os.getpid(), "version": context.function_version,
            "greeting": os.environ.get("GREETING"), "memory": context.memory_limit_in_mb}
"""
HANDLER_V2 = HANDLER_V1.replace('"v1"', '"v2"')


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    directory = tmp_path_factory.mktemp("controlplane")
    cfg = EmulatorConfig(functions=(), port=0, state_dir=directory / "state", log_to_terminal=False)
    with EmbeddedEmulator(cfg) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture(scope="module")
def client(emulator: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(emulator) as lambda_client:
        yield lambda_client


def create(client: Any, name: str, source: str = HANDLER_V1, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": package(source)},
        **extra,
    }
    response: dict[str, Any] = client.create_function(**args)
    return response


def wait_active(client: Any, name: str) -> None:
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
    )


def wait_updated(client: Any, name: str) -> None:
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 600}
    )


def invoke(client: Any, name: str, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    response = client.invoke(FunctionName=name, Payload=b"{}", **extra)
    assert "FunctionError" not in response
    return response, json.loads(response["Payload"].read())


def test_create_wait_invoke_update_delete(client: Any) -> None:
    zipped = package(HANDLER_V1)
    created = create(client, "cp-life", MemorySize=256, Timeout=5)
    # F1 / LS TestLambdaFunction::test_function_lifecycle › create_response
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"
    assert created["StateReason"] == "The function is being created."
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["FunctionArn"] == ARN + "cp-life"
    assert created["Version"] == "$LATEST"
    assert created["CodeSha256"] == sha256_b64(zipped)
    assert created["CodeSize"] == len(zipped)
    assert LAST_MODIFIED.match(created["LastModified"])
    assert UUID.match(created["RevisionId"])
    assert created["Architectures"] == ["x86_64"]
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": "/aws/lambda/cp-life"}
    assert created["TracingConfig"] == {"Mode": "PassThrough"}
    assert created["RuntimeVersionConfig"]["RuntimeVersionArn"].startswith(
        "arn:aws:lambda:us-east-1::runtime:"
    )
    assert created["PackageType"] == "Zip" and created["Description"] == ""
    assert (created["MemorySize"], created["Timeout"]) == (256, 5)
    assert "Environment" not in created  # LS TestLambdaVersions::test_version_lifecycle

    wait_active(client, "cp-life")
    got = client.get_function(FunctionName="cp-life")
    # LS test_function_lifecycle › get_function_response: Active, Successful, no StateReason,
    # a RevisionId other than the create response's
    conf = got["Configuration"]
    assert conf["State"] == "Active" and conf["LastUpdateStatus"] == "Successful"
    assert "StateReason" not in conf
    assert conf["RevisionId"] != created["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3"

    _, body = invoke(client, "cp-life")
    assert body["code"] == "v1" and body["memory"] == "256"
    _, again = invoke(client, "cp-life")
    assert again["pid"] == body["pid"]  # warm: the same environment

    updated = client.update_function_code(FunctionName="cp-life", ZipFile=package(HANDLER_V2))
    # LS test_function_lifecycle › update_code_response
    assert updated["State"] == "Active"
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["CodeSha256"] == sha256_b64(package(HANDLER_V2))
    assert updated["RevisionId"] != conf["RevisionId"]
    wait_updated(client, "cp-life")
    after, body2 = invoke(client, "cp-life", LogType="Tail")
    assert body2["code"] == "v2"
    assert body2["pid"] != body["pid"]  # a cold start, on the new code
    assert "Init Duration" in base64.b64decode(after["LogResult"]).decode()

    conf2 = client.update_function_configuration(
        FunctionName="cp-life",
        Description="Changed-Description",
        MemorySize=512,
        Environment={"Variables": {"GREETING": "hello"}},
    )
    # LS test_function_lifecycle › update_func_conf_response
    assert conf2["LastUpdateStatus"] == "InProgress"
    assert conf2["Description"] == "Changed-Description" and conf2["MemorySize"] == 512
    wait_updated(client, "cp-life")
    _, body3 = invoke(client, "cp-life")
    assert body3["greeting"] == "hello" and body3["memory"] == "512"

    deleted = client.delete_function(FunctionName="cp-life")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204  # › delete_response
    with pytest.raises(ClientError) as caught:
        client.get_function(FunctionName="cp-life")
    # › delete_postdelete
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["Error"]["Message"] == f"Function not found: {ARN}cp-life"
    with pytest.raises(ClientError) as invoked:
        client.invoke(FunctionName="cp-life", Payload=b"{}")
    assert invoked.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_versions_and_weighted_alias(client: Any) -> None:
    create(client, "cp-ver")
    wait_active(client, "cp-ver")
    v1 = client.publish_version(FunctionName="cp-ver", Description="first")
    # F9 / LS TestLambdaVersions::test_version_lifecycle › first_publish_response
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v1["Version"] == "1" and v1["FunctionArn"] == ARN + "cp-ver:1"
    assert v1["State"] == "Active" and v1["LastUpdateStatus"] == "Successful"
    assert v1["Description"] == "first"
    client.update_function_code(FunctionName="cp-ver", ZipFile=package(HANDLER_V2))
    wait_updated(client, "cp-ver")
    v2 = client.publish_version(FunctionName="cp-ver")
    assert v2["Version"] == "2"
    listed = client.list_versions_by_function(FunctionName="cp-ver")["Versions"]
    # › list_versions_result: $LATEST's ARN qualified, no State
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert listed[0]["FunctionArn"] == ARN + "cp-ver:$LATEST"
    assert "State" not in listed[0]

    # a version runs the code it was published with
    _, one = invoke(client, "cp-ver", Qualifier="1")
    _, two = invoke(client, "cp-ver", Qualifier="2")
    assert (one["code"], one["version"]) == ("v1", "1")
    assert (two["code"], two["version"]) == ("v2", "2")

    alias = client.create_alias(
        FunctionName="cp-ver",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    # F10 / LS TestLambdaAlias
    assert alias["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert alias["AliasArn"] == ARN + "cp-ver:live"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    assert alias["Description"] == "" and UUID.match(alias["RevisionId"])
    seen = Counter(
        client.invoke(FunctionName="cp-ver", Qualifier="live", Payload=b"{}")["ExecutedVersion"]
        for _ in range(40)
    )
    assert set(seen) == {"1", "2"}  # both versions serve: 40 draws at 50 %

    with pytest.raises(ClientError) as caught:
        client.create_alias(FunctionName="cp-ver", Name="live", FunctionVersion="1")
    assert caught.value.response["Error"]["Code"] == "ResourceConflictException"
    assert caught.value.response["Error"]["Message"] == f"Alias already exists: {ARN}cp-ver:live"
    with pytest.raises(ClientError) as caught:
        client.create_alias(
            FunctionName="cp-ver",
            Name="both",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
        )
    assert caught.value.response["Error"]["Message"] == (
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration."
    )
    moved = client.update_alias(
        FunctionName="cp-ver",
        Name="live",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    assert "RoutingConfig" not in moved
    _, body = invoke(client, "cp-ver", Qualifier="live")
    assert body["version"] == "2"
    assert [a["Name"] for a in client.list_aliases(FunctionName="cp-ver")["Aliases"]] == ["live"]
    client.delete_alias(FunctionName="cp-ver", Name="live")
    with pytest.raises(ClientError) as caught:
        client.get_alias(FunctionName="cp-ver", Name="live")
    assert caught.value.response["Error"]["Message"] == (f"Cannot find alias arn: {ARN}cp-ver:live")
    client.delete_function(FunctionName="cp-ver")


def test_reserved_and_provisioned_concurrency(client: Any, emulator: EmbeddedEmulator) -> None:
    create(client, "cp-conc")
    wait_active(client, "cp-conc")
    # F11 / LS TestLambdaReservedConcurrency::test_function_concurrency
    assert client.get_function_concurrency(FunctionName="cp-conc").keys() == {"ResponseMetadata"}
    put = client.put_function_concurrency(FunctionName="cp-conc", ReservedConcurrentExecutions=0)
    assert put["ReservedConcurrentExecutions"] == 0
    wait_updated(client, "cp-conc")
    with pytest.raises(ClientError) as throttled:
        client.invoke(FunctionName="cp-conc", Payload=b"{}")
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    client.put_function_concurrency(FunctionName="cp-conc", ReservedConcurrentExecutions=3)
    got = client.get_function_concurrency(FunctionName="cp-conc")
    assert got["ReservedConcurrentExecutions"] == 3
    with pytest.raises(ClientError) as caught:
        client.put_function_concurrency(FunctionName="cp-conc:1", ReservedConcurrentExecutions=1)
    assert caught.value.response["Error"]["Message"].startswith(
        "This operation is permitted on Lambda functions only."
    )

    version = client.publish_version(FunctionName="cp-conc")["Version"]
    with pytest.raises(ClientError) as caught:
        client.put_provisioned_concurrency_config(
            FunctionName="cp-conc", Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    # F12 / LS TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions
    assert caught.value.response["Error"]["Message"] == (
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    with pytest.raises(ClientError) as caught:
        client.get_provisioned_concurrency_config(FunctionName="cp-conc", Qualifier=version)
    assert caught.value.response["Error"]["Code"] == (
        "ProvisionedConcurrencyConfigNotFoundException"
    )
    put_pc = client.put_provisioned_concurrency_config(
        FunctionName="cp-conc", Qualifier=version, ProvisionedConcurrentExecutions=2
    )
    # F12: 202, IN_PROGRESS, nothing allocated yet (test_lambda::TestLambdaConcurrency, 2025-11)
    assert put_pc["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put_pc["Status"] == "IN_PROGRESS"
    assert put_pc["AllocatedProvisionedConcurrentExecutions"] == 0
    assert put_pc["RequestedProvisionedConcurrentExecutions"] == 2
    client.get_waiter("published_version_active").wait(FunctionName="cp-conc", Qualifier=version)
    status = put_pc["Status"]
    while status != "READY":
        got_pc = client.get_provisioned_concurrency_config(
            FunctionName="cp-conc", Qualifier=version
        )
        status = got_pc["Status"]
        assert status in ("IN_PROGRESS", "READY")
    assert got_pc["AvailableProvisionedConcurrentExecutions"] == 2
    environments = json.loads(urlopen(emulator.url + "/_emu/environments").read())["environments"]
    kinds = [e["init_type"] for e in environments if e["function"] == "cp-conc"]
    assert kinds.count("provisioned-concurrency") == 2  # real environments, initialised
    response, _ = invoke(client, "cp-conc", Qualifier=version, LogType="Tail")
    assert "Init Duration" not in base64.b64decode(response["LogResult"]).decode()
    client.delete_provisioned_concurrency_config(FunctionName="cp-conc", Qualifier=version)
    client.delete_function_concurrency(FunctionName="cp-conc")
    client.delete_function(FunctionName="cp-conc")
