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
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from botocore.exceptions import ClientError

from emulator import errors
from emulator.config import EmulatorConfig
from emulator.controlplane.store import FunctionRecord, Snapshot
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
        # a fixed timestamp: the same source, the same bytes (and CodeSha256); mode 644, as
        # Lambda needs its files readable (docs: gettingstarted-package.html; writestr's
        # default for a bare ZipInfo is 600, which the function's user cannot read, as on AWS)
        info = zipfile.ZipInfo("app.py", (2026, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, source)
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


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[int, str, str]:
    response = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


RUNTIMES = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # F6 / LS TestLambdaFunction::test_create_lambda_exceptions › invalid_runtime_exc,
        # uppercase_runtime_exc (2026-01-12)
        (
            {"Runtime": "non-existent-runtime"},
            (
                400,
                "InvalidParameterValueException",
                "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member "
                f"must satisfy enum value set: [{RUNTIMES}] or be a valid ARN",
            ),
        ),
        (
            {"Runtime": "PYTHON3.9"},
            (
                400,
                "InvalidParameterValueException",
                "Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{RUNTIMES}] or be a valid ARN",
            ),
        ),
        # F6 / LS TestRuntimeValidation::test_create_deprecated_function_runtime_with_
        # validation_enabled[python3.7] (2026-01-12)
        (
            {"Runtime": "python3.7"},
            (
                400,
                "InvalidParameterValueException",
                "The runtime parameter of python3.7 is no longer supported for creating or "
                "updating AWS Lambda functions. We recommend you use a supported runtime while "
                "creating or updating functions.",
            ),
        ),
        # F7 / › invalid_role_arn_exc
        (
            {"Role": "r1"},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: "
                r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
            ),
        ),
        # F7 / › multiple_architectures, uppercase_architecture
        (
            {"Architectures": ["x86_64", "arm64"]},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed "
                "to satisfy constraint: Member must have length less than or equal to 1",
            ),
        ),
        (
            {"Architectures": ["X86_64"]},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '[X86_64]' at 'architectures' failed to "
                "satisfy constraint: Member must satisfy constraint: [Member must satisfy enum "
                "value set: [x86_64, arm64], Member must not be null]",
            ),
        ),
        # F7: gh:covidatlas/li#575 (2020-08)
        (
            {"Timeout": 3000},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '3000' at 'timeout' failed to satisfy "
                "constraint: Member must have value less than or equal to 900",
            ),
        ),
        # ⚠ unrecorded: the timeout's shape, for MemorySize
        (
            {"MemorySize": 10241},
            (
                400,
                "ValidationException",
                "1 validation error detected: Value '10241' at 'memorySize' failed to satisfy "
                "constraint: Member must have value less than or equal to 10240",
            ),
        ),
        # F7 / › invalid_zip_exc
        (
            {"Code": {"ZipFile": b"not a zip"}},
            (
                400,
                "InvalidParameterValueException",
                "Could not unzip uploaded file. Please check your file, then try to upload again.",
            ),
        ),
        # F7 / TestLambdaSizeLimits::test_large_environment_variables_fails
        (
            {"Environment": {"Variables": {"LARGE_VAR": "x" * 4096}}},
            (
                400,
                "InvalidParameterValueException",
                "Lambda was unable to configure your environment variables because the "
                "environment variables you have provided exceeded the 4KB limit. String "
                'measured: {"LARGE_VAR":"' + "x" * 4096 + '"}',
            ),
        ),
        # F7 / › long_fn_name (InvalidParameterValue, not Validation)
        (
            {"FunctionName": "a" * 65},
            (
                400,
                "InvalidParameterValueException",
                f"1 validation error detected: Value '{'a' * 65}' at 'functionName' failed to "
                "satisfy constraint: Member must have length less than or equal to 64",
            ),
        ),
    ],
)
def test_create_errors_as_aws_words_them(
    client: Any, extra: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, extra.pop("FunctionName", "cp-invalid"), **extra)
    assert error_of(caught) == expected


def test_duplicate_and_unknown_functions(client: Any) -> None:
    create(client, "cp-dup")
    with pytest.raises(ClientError) as caught:
        create(client, "cp-dup")
    # F5: gh:hashicorp/terraform#15929 (2017-08)
    assert error_of(caught) == (409, "ResourceConflictException", "Function already exist: cp-dup")
    wait_active(client, "cp-dup")
    client.update_function_configuration(FunctionName="cp-dup", Timeout=10)
    wait_updated(client, "cp-dup")
    with pytest.raises(ClientError) as caught:
        client.update_function_configuration(FunctionName="cp-dup", RevisionId="nope")
    # F9 / LS TestLambdaRevisions::test_function_revisions_basic
    assert error_of(caught) == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    with pytest.raises(ClientError) as caught:
        client.get_function_configuration(FunctionName="cp-nothing")
    assert error_of(caught) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}cp-nothing",
    )
    with pytest.raises(ClientError) as caught:
        client.delete_function(FunctionName="cp-dup", Qualifier="$LATEST")
    # F4 / LS test_ops_with_arn_qualifier_mismatch[delete_function]
    assert error_of(caught) == (
        400,
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
    )
    client.delete_function(FunctionName="cp-dup")


def test_a_change_during_an_update_conflicts(emulator: EmbeddedEmulator) -> None:
    """How long an update stays InProgress is the emulator's (a pool's reload: milliseconds),
    so the conflict is shown on a record in that state."""
    assert emulator.emulator is not None
    plane = emulator.emulator.controlplane
    record = FunctionRecord("cp-busy", Snapshot("$LATEST", {}, "", 0, ""), state="Active")
    record.last_update = "InProgress"
    with pytest.raises(errors.ResourceConflict) as caught:
        plane.check_idle(record)
    # F3 / LS TestLambdaFunction::test_lambda_concurrent_config_updates (2025-11)
    assert caught.value.message == (
        "The operation cannot be performed at this time. An update is in progress for resource: "
        f"{ARN}cp-busy"
    )


def test_code_storage_limit(client: Any, emulator: EmbeddedEmulator) -> None:
    assert emulator.emulator is not None
    plane = emulator.emulator.controlplane
    limit, plane.code_storage_limit = plane.code_storage_limit, plane.code_usage() + 10
    try:
        with pytest.raises(ClientError) as caught:
            create(client, "cp-storage")
        # ⚠ the message is unrecorded; the type is botocore's model's
        assert error_of(caught)[:2] == (400, "CodeStorageExceededException")
    finally:
        plane.code_storage_limit = limit


def test_oversized_zip(client: Any) -> None:
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("blob.bin", hashlib.sha256(b"x").digest() * (52_428_800 // 32 + 1))
    with pytest.raises(ClientError) as caught:
        create(client, "cp-big", Code={"ZipFile": big.getvalue()})
    # F7 / TestLambdaSizeLimits::test_oversized_zipped_create_lambda
    assert error_of(caught) == (
        413,
        "RequestEntityTooLargeException",
        "Zipped size must be smaller than 52428800 bytes",
    )


def test_s3_code_from_the_local_store(client: Any, emulator: EmbeddedEmulator) -> None:
    store = emulator.cfg.state_dir / "s3" / "bucket"
    store.mkdir(parents=True, exist_ok=True)
    (store / "code.zip").write_bytes(package(HANDLER_V1))
    created = create(client, "cp-s3", Code={"S3Bucket": "bucket", "S3Key": "code.zip"})
    assert created["CodeSha256"] == sha256_b64(package(HANDLER_V1))
    wait_active(client, "cp-s3")
    assert invoke(client, "cp-s3")[1]["code"] == "v1"
    with pytest.raises(ClientError) as caught:
        client.update_function_code(FunctionName="cp-s3", S3Bucket="bucket", S3Key="missing.zip")
    # LS test_lambda_api.snapshot.json: GetObject's NoSuchKey, answered as AWS words it
    assert error_of(caught) == (
        400,
        "InvalidParameterValueException",
        "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The "
        "specified key does not exist.",
    )
    client.delete_function(FunctionName="cp-s3")


def test_list_functions_pages(client: Any) -> None:
    for n in range(3):
        create(client, f"cp-list-{n}")
    for n in range(3):
        wait_active(client, f"cp-list-{n}")
    client.publish_version(FunctionName="cp-list-0")
    pages = client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1})
    names = [f["FunctionName"] for page in pages for f in page["Functions"]]
    assert [n for n in names if n.startswith("cp-list-")] == ["cp-list-0", "cp-list-1", "cp-list-2"]
    listed = client.list_functions()["Functions"]
    item = next(f for f in listed if f["FunctionName"] == "cp-list-0")
    # F8 / LS TestLambdaFunction::test_list_functions: no State, LastUpdateStatus,
    # RuntimeVersionConfig; the unqualified ARN
    assert not {"State", "LastUpdateStatus", "RuntimeVersionConfig"} & item.keys()
    assert item["FunctionArn"] == ARN + "cp-list-0"
    every = client.list_functions(FunctionVersion="ALL")["Functions"]
    arns = [f["FunctionArn"] for f in every if f["FunctionName"] == "cp-list-0"]
    assert arns == [ARN + "cp-list-0:$LATEST", ARN + "cp-list-0:1"]
    for n in range(3):
        client.delete_function(FunctionName=f"cp-list-{n}")


def test_url_tags_policy_event_invoke_account(client: Any, emulator: EmbeddedEmulator) -> None:
    create(client, "cp-misc", Tags={"team": "a"})
    wait_active(client, "cp-misc")
    url = client.create_function_url_config(FunctionName="cp-misc", AuthType="NONE")
    # F13 / LS TestLambdaUrl::test_url_config_lifecycle › url_creation: no InvokeMode unless sent
    assert url["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(
        r"https://[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws/", url["FunctionUrl"]
    )
    assert "InvokeMode" not in url
    got = client.get_function_url_config(FunctionName="cp-misc")
    assert got["InvokeMode"] == "BUFFERED" and "LastModifiedTime" in got  # › get_url_config
    with pytest.raises(ClientError) as caught:
        client.create_function_url_config(FunctionName="cp-misc", AuthType="NONE")
    assert error_of(caught) == (  # › failed_duplication (two spaces)
        409,
        "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {ARN}cp-misc]. Error "
        "message:  FunctionUrlConfig exists for this Lambda function",
    )
    # the front door serves it (cargo-lambda's /lambda-url/<name>/ on the Invoke API's port)
    served = json.loads(urlopen(emulator.url + "/lambda-url/cp-misc/").read())
    assert served["code"] == "v1"
    client.delete_function_url_config(FunctionName="cp-misc")
    with pytest.raises(ClientError) as caught:
        client.get_function_url_config(FunctionName="cp-misc")
    assert error_of(caught) == (  # › failed_getter
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )

    # LS TestLambdaTag::test_tag_lifecycle
    arn = ARN + "cp-misc"
    assert client.list_tags(Resource=arn)["Tags"] == {"team": "a"}
    client.tag_resource(Resource=arn, Tags={"B": "b", "team": "c"})
    client.untag_resource(Resource=arn, TagKeys=["B", "nonexisting"])
    assert client.list_tags(Resource=arn)["Tags"] == {"team": "c"}
    assert client.get_function(FunctionName="cp-misc")["Tags"] == {"team": "c"}

    # LS TestLambdaPermissions::test_add_lambda_permission_aws: stored, answered, not enforced
    added = client.add_permission(
        FunctionName="cp-misc",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::bucket",
    )
    assert json.loads(added["Statement"]) == {
        "Sid": "s3",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": arn,
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
    }
    policy = json.loads(client.get_policy(FunctionName="cp-misc")["Policy"])
    assert policy["Version"] == "2012-10-17" and policy["Id"] == "default"
    client.remove_permission(FunctionName="cp-misc", StatementId="s3")

    # F15 / LS TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle
    put = client.put_function_event_invoke_config(FunctionName="cp-misc", MaximumRetryAttempts=0)
    assert put["FunctionArn"] == arn + ":$LATEST"
    assert put["DestinationConfig"] == {"OnFailure": {}, "OnSuccess": {}}
    assert put["MaximumRetryAttempts"] == 0 and "MaximumEventAgeInSeconds" not in put
    updated = client.update_function_event_invoke_config(
        FunctionName="cp-misc", MaximumEventAgeInSeconds=60
    )
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (0, 60)
    assert (
        client.get_function_event_invoke_config(FunctionName="cp-misc")["MaximumEventAgeInSeconds"]
        == 60
    )
    with pytest.raises(ClientError) as caught:
        client.put_function_event_invoke_config(FunctionName="cp-misc")
    assert error_of(caught)[2] == (
        "You must specify at least one of error handling or destination setting."
    )
    client.delete_function_event_invoke_config(FunctionName="cp-misc")
    with pytest.raises(ClientError) as caught:
        client.get_function_event_invoke_config(FunctionName="cp-misc")
    assert error_of(caught)[2] == (f"The function {arn}:$LATEST doesn't have an EventInvokeConfig")

    # F14 / LS TestLambdaAccountSettings::test_account_settings: the keys
    settings = client.get_account_settings()
    assert settings["AccountLimit"].keys() == {
        "CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions", "TotalCodeSize",
        "UnreservedConcurrentExecutions",
    }  # fmt: skip
    assert settings["AccountUsage"].keys() == {"FunctionCount", "TotalCodeSize"}
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52_428_800
    client.delete_function(FunctionName="cp-misc")


def _client_of(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="lambda-emu",
        aws_secret_access_key="lambda-emu",
        config=Config(retries={"max_attempts": 0}),
    )


def test_api_functions_outlive_serve_and_fresh_starts_empty(tmp_path: Path) -> None:
    """As functions outlive a session on AWS: a second `serve` on the same state directory
    serves them again; `--fresh` starts without them. A manifest function changed through
    the API: serve says the manifest wins, and at the next start it does."""
    from serving import Serve

    ctx = (Path(__file__).parent / "functions" / "ctx").resolve()
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        f'[functions.ctx]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "{ctx}"\n'
    )
    state = tmp_path / "state"
    serve = Serve(manifest, state)
    try:
        client = _client_of(serve.url)
        create(client, "cp-kept")
        wait_active(client, "cp-kept")
        assert invoke(client, "cp-kept")[1]["code"] == "v1"
        client.update_function_configuration(
            FunctionName="ctx", Environment={"Variables": {"GREETING": "from the API"}}
        )
        serve.wait_for(r"function ctx: changed through the Lambda API; the manifest wins")
        wait_updated(client, "ctx")
        assert invoke(client, "ctx")[1]["env"]["GREETING"] == "from the API"
        names = {f["FunctionName"] for f in client.list_functions()["Functions"]}
        assert names == {"ctx", "cp-kept"}  # manifest and API functions side by side
    finally:
        serve.stop()

    again = Serve(manifest, state)
    try:
        client = _client_of(again.url)
        wait_active(client, "cp-kept")
        assert invoke(client, "cp-kept")[1]["code"] == "v1"
        assert invoke(client, "ctx")[1]["env"]["GREETING"] is None  # the manifest's, again
    finally:
        again.stop()

    fresh = Serve(manifest, state, "--fresh")
    try:
        client = _client_of(fresh.url)
        with pytest.raises(ClientError) as caught:
            client.get_function(FunctionName="cp-kept")
        assert error_of(caught)[1] == "ResourceNotFoundException"
        assert [f["FunctionName"] for f in client.list_functions()["Functions"]] == ["ctx"]
    finally:
        fresh.stop()


def aws_cli(emulator: EmbeddedEmulator, tmp_path: Path, *args: str) -> Any:
    """The AWS CLI (installed in the virtualenv) against the emulator; its JSON output."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "lambda-emu",
        "AWS_SECRET_ACCESS_KEY": "lambda-emu",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_MAX_ATTEMPTS": "1",
    }
    aws = Path(sys.executable).parent / "aws"
    done = subprocess.run(
        [str(aws), "lambda", *args, "--endpoint-url", emulator.url, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_the_aws_cli(emulator: EmbeddedEmulator, tmp_path: Path) -> None:
    archive = tmp_path / "code.zip"
    archive.write_bytes(package(HANDLER_V1))
    created = aws_cli(
        emulator, tmp_path, "create-function", "--function-name", "cp-cli",
        "--runtime", "python3.12", "--handler", "app.handler", "--role", ROLE,
        "--zip-file", f"fileb://{archive}",
    )  # fmt: skip
    assert created["State"] == "Pending"  # F1
    aws_cli(emulator, tmp_path, "wait", "function-active-v2", "--function-name", "cp-cli")
    out = tmp_path / "out.json"
    invoked = aws_cli(emulator, tmp_path, "invoke", "--function-name", "cp-cli", str(out))
    assert invoked["StatusCode"] == 200 and json.loads(out.read_text())["code"] == "v1"
    archive.write_bytes(package(HANDLER_V2))
    updated = aws_cli(
        emulator, tmp_path, "update-function-code", "--function-name", "cp-cli",
        "--zip-file", f"fileb://{archive}",
    )  # fmt: skip
    assert updated["LastUpdateStatus"] == "InProgress"  # F3
    aws_cli(emulator, tmp_path, "wait", "function-updated-v2", "--function-name", "cp-cli")
    aws_cli(emulator, tmp_path, "invoke", "--function-name", "cp-cli", str(out))
    assert json.loads(out.read_text())["code"] == "v2"
    published = aws_cli(emulator, tmp_path, "publish-version", "--function-name", "cp-cli")
    assert published["Version"] == "1"  # F9
    alias = aws_cli(
        emulator, tmp_path, "create-alias", "--function-name", "cp-cli", "--name", "live",
        "--function-version", "1",
    )  # fmt: skip
    assert alias["AliasArn"] == ARN + "cp-cli:live"  # F10
    concurrency = aws_cli(
        emulator, tmp_path, "put-function-concurrency", "--function-name", "cp-cli",
        "--reserved-concurrent-executions", "5",
    )  # fmt: skip
    assert concurrency == {"ReservedConcurrentExecutions": 5}  # F11
    listed = aws_cli(emulator, tmp_path, "list-functions")
    assert "cp-cli" in [f["FunctionName"] for f in listed["Functions"]]
    deleted = aws_cli(emulator, tmp_path, "delete-function", "--function-name", "cp-cli")
    assert deleted == {"StatusCode": 204}  # F4 (this botocore's model reads the status)


SDK_JS = Path.home() / ".cache" / "lambda-emu" / "sdk-js" / "node_modules"


@pytest.mark.skipif(
    not (SDK_JS / "@aws-sdk" / "client-lambda").is_dir(),
    reason="no @aws-sdk/client-lambda (scripts/setup installs it where npm is)",
)
def test_the_aws_sdk_for_javascript_v3(emulator: EmbeddedEmulator, tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess

    script = tmp_path / "sdk_v3.mjs"  # beside its node_modules, as ES modules resolve them
    shutil.copy(Path(__file__).parent / "controlplane" / "sdk_v3.mjs", script)
    (tmp_path / "node_modules").symlink_to(SDK_JS)
    v1, v2 = tmp_path / "v1.zip", tmp_path / "v2.zip"
    v1.write_bytes(package(HANDLER_V1))
    v2.write_bytes(package(HANDLER_V2))
    done = subprocess.run(
        ["node", str(script), emulator.url, str(v1), str(v2), ROLE],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_CONFIG_FILE": str(tmp_path / "none")},
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # F1, F3, F9–F12 as in the boto3 tests
    assert seen["created"] == {"State": "Pending", "StateReasonCode": "Creating", "status": 201}
    assert seen["first"]["code"] == "v1"
    assert seen["updated"] == {"LastUpdateStatus": "InProgress"}
    assert seen["second"]["code"] == "v2" and seen["second"]["pid"] != seen["first"]["pid"]
    assert seen["v1"] == "1" and seen["alias"] == ARN + "cp-js:live"
    assert (seen["viaAlias"]["code"], seen["viaAlias"]["executed"]) == ("v2", "1")
    assert seen["reserved"] == 4
    assert seen["provisioned"][0] == "IN_PROGRESS" and seen["provisioned"][-1] == "READY"
    assert seen["afterDelete"] == {
        "name": "ResourceNotFoundException",
        "message": f"Function not found: {ARN}cp-js",
    }


def test_provisioned_concurrency_whose_init_fails(client: Any) -> None:
    create(client, "cp-init-fails", source="raise RuntimeError('init fails')\n")
    wait_active(client, "cp-init-fails")
    version = client.publish_version(FunctionName="cp-init-fails")["Version"]
    put = client.put_provisioned_concurrency_config(
        FunctionName="cp-init-fails", Qualifier=version, ProvisionedConcurrentExecutions=1
    )
    status = put["Status"]
    while status == "IN_PROGRESS":
        got = client.get_provisioned_concurrency_config(
            FunctionName="cp-init-fails", Qualifier=version
        )
        status = got["Status"]
    # F12 / test_lambda::TestLambdaConcurrency::test_provisioned_concurrency_init_failure
    # (rec 2026-02-17)
    assert status == "FAILED" and got["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert got["AllocatedProvisionedConcurrentExecutions"] == 0
    client.delete_function(FunctionName="cp-init-fails")


def test_a_hot_reload_keeps_api_functions_and_the_manifest_wins(tmp_path: Path) -> None:
    from serving import Serve

    ctx = (Path(__file__).parent / "functions" / "ctx").resolve()
    manifest = tmp_path / "lambda-emu.toml"
    declared = f'[functions.ctx]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "{ctx}"\n'
    manifest.write_text(declared)
    serve = Serve(manifest, tmp_path / "state", "--reload")
    try:
        client = _client_of(serve.url)
        create(client, "cp-hot")
        wait_active(client, "cp-hot")
        client.create_function_url_config(FunctionName="cp-hot", AuthType="NONE")
        client.update_function_configuration(FunctionName="ctx", MemorySize=256)
        wait_updated(client, "ctx")
        assert client.get_function_configuration(FunctionName="ctx")["MemorySize"] == 256
        mark = len(serve.lines)
        manifest.write_text(declared + "timeout = 7\n")
        serve.wait_for(r"hot reload: function 'ctx' reloaded", mark)
        # the manifest wins: its memory (the default) and its new timeout
        conf = client.get_function_configuration(FunctionName="ctx")
        assert (conf["MemorySize"], conf["Timeout"]) == (128, 7)
        serve.wait_for(r"function ctx: the manifest's reload replaced the API's changes", mark)
        # the API's function, and its URL, are still served
        assert invoke(client, "cp-hot")[1]["code"] == "v1"
        assert json.loads(urlopen(serve.url + "/lambda-url/cp-hot/").read())["code"] == "v1"
    finally:
        serve.stop()


# An in-tree PEP 517 backend (no download) whose wheel is built only once the test says so:
# the function's requirements.txt keeps it Pending for as long as the test needs.
SLOW_BACKEND = """
import os, time, zipfile
from pathlib import Path

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    go = Path(__file__).parent / "go"
    deadline = time.monotonic() + 300
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    name = "slowdep-1.0-py3-none-any.whl"
    info = "slowdep-1.0.dist-info/"
    files = {
        "slowdep.py": "X = 1\\n",
        info + "METADATA": "Metadata-Version: 2.1\\nName: slowdep\\nVersion: 1.0\\n",
        info + "WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\n"
        "Tag: py3-none-any\\n",
    }
    files[info + "RECORD"] = "".join(f"{f},,\\n" for f in [*files, info + "RECORD"])
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)
    return name
"""


def test_invoking_a_function_still_being_created_is_a_conflict(client: Any, tmp_path: Path) -> None:
    """AWS answers 409 ResourceConflictException while a new function is Pending (recorded:
    remotion-dev/remotion#1186, 2022-08), not 404."""
    dep = tmp_path / "slowdep"
    dep.mkdir()
    (dep / "backend.py").write_text(SLOW_BACKEND)
    (dep / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("app.py", HANDLER_V1), ("requirements.txt", f"{dep}\n")):
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, text)
    client.create_function(
        FunctionName="pending-fn",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    try:
        assert client.get_function(FunctionName="pending-fn")["Configuration"]["State"] == (
            "Pending"
        )
        with pytest.raises(ClientError) as caught:
            client.invoke(FunctionName="pending-fn", Payload=b"{}")
        error = caught.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert error["Error"]["Code"] == "ResourceConflictException"
        assert error["Error"]["Message"] == (
            "The operation cannot be performed at this time. The function is currently in the "
            "following state: Pending"
        )
    finally:
        (dep / "go").touch()
    wait_active(client, "pending-fn")
    assert invoke(client, "pending-fn")[1]["code"] == "v1"
    client.delete_function(FunctionName="pending-fn")


def test_an_aliass_function_url_is_served(client: Any, emulator: EmbeddedEmulator) -> None:
    """CreateFunctionUrlConfig with a Qualifier (an alias): served at /lambda-url/<name>:<alias>/,
    invoking the alias's version, beside the function's own URL ($LATEST)."""
    create(client, "cp-alias-url")
    wait_active(client, "cp-alias-url")
    client.publish_version(FunctionName="cp-alias-url")
    client.create_alias(FunctionName="cp-alias-url", Name="live", FunctionVersion="1")
    client.update_function_code(FunctionName="cp-alias-url", ZipFile=package(HANDLER_V2))
    wait_updated(client, "cp-alias-url")
    own = client.create_function_url_config(FunctionName="cp-alias-url", AuthType="NONE")
    live = client.create_function_url_config(
        FunctionName="cp-alias-url", Qualifier="live", AuthType="NONE"
    )
    assert live["FunctionArn"] == ARN + "cp-alias-url:live"
    assert live["FunctionUrl"] != own["FunctionUrl"]
    base = emulator.url + "/lambda-url/cp-alias-url"
    latest = json.loads(urlopen(base + "/").read())
    aliased = json.loads(urlopen(base + ":live/").read())
    assert (latest["code"], latest["version"]) == ("v2", "$LATEST")
    assert (aliased["code"], aliased["version"]) == ("v1", "1")
    client.delete_function_url_config(FunctionName="cp-alias-url", Qualifier="live")
    with pytest.raises(HTTPError) as gone:
        urlopen(base + ":live/")
    gone.value.close()  # its unread body holds the connection
    assert gone.value.code == 403  # a URL that does not exist: Lambda's Forbidden
    assert json.loads(urlopen(base + "/").read())["code"] == "v2"  # the function's own stays
    client.delete_function(FunctionName="cp-alias-url")
