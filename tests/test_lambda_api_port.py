"""A port of LocalStack's tests/aws/services/lambda_/test_lambda_api.py (its TestLambdaFunction,
TestLambdaVersions, TestLambdaAlias, TestLambdaRevisions, TestLambdaTag, TestLambdaUrl,
TestLambdaReservedConcurrency, TestLambdaProvisionedConcurrency, TestLambdaEventInvokeConfig
and TestLambdaAccountSettings classes), re-expressed against boto3 with this project's fixture:
each test makes the calls its namesake makes and asserts the values AWS answered in the
namesake's recording (test_lambda_api.snapshot.json, recorded on AWS 2025-11-25 unless said;
placeholders such as `<uuid:1>` become the relations they stand for: equal, or different).

Written for lambda-emu, not copied; the count that passes is in docs/fidelity.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_control_plane import (
    ARN,
    HANDLER_V1,
    HANDLER_V2,
    create,
    error_of,
    package,
    wait_active,
    wait_updated,
)

from emulator.config import EmulatorConfig
from emulator.embedded import EmbeddedEmulator

_names = count()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cfg = EmulatorConfig(
        functions=(),
        port=0,
        state_dir=tmp_path_factory.mktemp("port") / "state",
        log_to_terminal=False,
    )
    import boto3
    from botocore.config import Config

    with EmbeddedEmulator(cfg) as emu:
        # as LocalStack's tests call AWS: the SDK's own checks off, so the service answers
        lambda_client = boto3.client(
            "lambda",
            endpoint_url=emu.url,
            region_name="us-east-1",
            aws_access_key_id="lambda-emu",
            aws_secret_access_key="lambda-emu",
            config=Config(retries={"max_attempts": 0}, parameter_validation=False),
        )
        yield lambda_client
        lambda_client.close()
        assert emu.internal_errors == []


@pytest.fixture
def fn(client: Any) -> Iterator[str]:
    """A fresh, Active function (LocalStack's create_lambda_function fixture), deleted after."""
    name = f"port-{next(_names)}"
    create(client, name)
    wait_active(client, name)
    yield name
    with contextlib.suppress(ClientError):
        client.delete_function(FunctionName=name)


def raises(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


# --- TestLambdaFunction -----------------------------------------------------------------------
def test_function_lifecycle(client: Any) -> None:
    created = create(client, "port-lifecycle", MemorySize=256, Timeout=5)
    assert (created["State"], created["StateReasonCode"]) == ("Pending", "Creating")
    wait_active(client, "port-lifecycle")
    got = client.get_function(FunctionName="port-lifecycle")["Configuration"]
    assert got["RevisionId"] != created["RevisionId"]  # <uuid:1> → <uuid:2>
    conf = client.update_function_configuration(
        FunctionName="port-lifecycle", Description="Changed-Description", MemorySize=512
    )
    assert conf["LastUpdateStatus"] == "InProgress" and conf["RevisionId"] != got["RevisionId"]
    wait_updated(client, "port-lifecycle")
    after = client.get_function(FunctionName="port-lifecycle")["Configuration"]
    assert after["LastUpdateStatus"] == "Successful" and after["RevisionId"] != conf["RevisionId"]
    code = client.update_function_code(FunctionName="port-lifecycle", ZipFile=package(HANDLER_V2))
    assert code["CodeSha256"] != after["CodeSha256"]  # <code-sha256:2>
    wait_updated(client, "port-lifecycle")
    deleted = client.delete_function(FunctionName="port-lifecycle")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert raises(client.get_function, FunctionName="port-lifecycle") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}port-lifecycle",
    )


def test_redundant_updates(client: Any, fn: str) -> None:
    first = client.update_function_configuration(
        FunctionName=fn, Description="1st update description"
    )
    wait_updated(client, fn)
    second = client.update_function_configuration(
        FunctionName=fn, Description="1st update description"
    )
    # a redundant update is still an update: InProgress, a new RevisionId
    assert second["LastUpdateStatus"] == "InProgress"
    assert second["RevisionId"] != first["RevisionId"]
    wait_updated(client, fn)


@pytest.mark.parametrize("op", ["get_function", "get_function_configuration", "delete_function"])
def test_ops_with_arn_qualifier_mismatch(client: Any, op: str) -> None:
    name = "some-function"
    assert raises(getattr(client, op), FunctionName=f"{ARN}{name}:1", Qualifier="$LATEST") == (
        400,
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
    )
    expected = (
        (400, "InvalidParameterValueException",
         "$LATEST version cannot be deleted without deleting the function.")
        if op == "delete_function"
        else (404, "ResourceNotFoundException", f"Function not found: {ARN}{name}:$LATEST")
    )  # fmt: skip
    if op == "delete_function":
        create(client, name)
        wait_active(client, name)
    try:
        assert (
            raises(getattr(client, op), FunctionName=f"{ARN}{name}:$LATEST", Qualifier="$LATEST")
            == expected
        )
    finally:
        if op == "delete_function":
            client.delete_function(FunctionName=name)


@pytest.mark.parametrize("op", ["get_function", "get_function_configuration"])
def test_ops_on_nonexisting_version(client: Any, fn: str, op: str) -> None:
    assert raises(getattr(client, op), FunctionName=fn, Qualifier="1221") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}{fn}:1221",
    )


def test_ops_on_nonexisting_version_event_invoke_config(client: Any, fn: str) -> None:
    assert raises(client.get_function_event_invoke_config, FunctionName=fn, Qualifier="1221") == (
        404,
        "ResourceNotFoundException",
        f"The function {ARN}{fn}:1221 doesn't have an EventInvokeConfig",
    )


def test_delete_on_nonexisting_version(client: Any) -> None:
    missing = "port-never-created"
    expected = (404, "ResourceNotFoundException", f"Function not found: {ARN}{missing}")
    assert raises(client.delete_function, FunctionName=missing) == expected
    assert raises(client.delete_function, FunctionName=missing, Qualifier="1233") == expected


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ("delete_function", "Function not found: {arn}"),
        ("get_function", "Function not found: {arn}"),
        ("get_function_configuration", "Function not found: {arn}"),
        ("get_function_url_config", "The resource you requested does not exist."),
        (
            "get_function_event_invoke_config",
            "The function {arn}:$LATEST doesn't have an EventInvokeConfig",
        ),
        ("get_function_concurrency", "Function not found: {arn}"),
    ],
)  # fmt: skip
def test_ops_on_nonexisting_fn(client: Any, op: str, message: str) -> None:
    name = "port-nonexisting"
    # ⚠ GetFunctionConcurrency's recording names the unqualified ARN; PutFunctionConcurrency's
    # (TestLambdaReservedConcurrency) the :$LATEST one
    got = raises(getattr(client, op), FunctionName=name)
    expected = message.format(arn=ARN + name)
    if op == "get_function_concurrency":
        assert got[:2] == (404, "ResourceNotFoundException")
    else:
        assert got == (404, "ResourceNotFoundException", expected)


@pytest.mark.parametrize(
    "op",
    ["get_function", "get_function_configuration", "get_function_url_config",
     "get_function_event_invoke_config", "get_function_concurrency", "delete_function", "invoke"],
)  # fmt: skip
def test_get_function_wrong_region(client: Any, fn: str, op: str) -> None:
    other = f"arn:aws:lambda:ap-southeast-1:123456789012:function:{fn}"
    assert raises(getattr(client, op), FunctionName=other) == (
        404,
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    )


def test_lambda_code_location_zipfile(client: Any, fn: str) -> None:
    got = client.get_function(FunctionName=fn)
    assert got["Code"]["RepositoryType"] == "S3" and got["Code"]["Location"]
    code = client.update_function_code(FunctionName=fn, ZipFile=package(HANDLER_V2))
    assert code["CodeSize"] == len(package(HANDLER_V2))
    wait_updated(client, fn)
    assert client.get_function(FunctionName=fn)["Configuration"]["CodeSha256"] == code["CodeSha256"]


def test_create_lambda_exceptions(client: Any) -> None:
    assert raises(create, client=client, name="port-x", Role="r1")[1] == "ValidationException"
    assert raises(create, client=client, name="port-x", Runtime="non-existent-runtime")[1] == (
        "InvalidParameterValueException"
    )
    assert raises(create, client=client, name="port-x", Architectures=["X86_64"])[1] == (
        "ValidationException"
    )
    assert raises(create, client=client, name="port-x", Code={"ZipFile": b"asdf"})[2] == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )


def test_update_lambda_exceptions(client: Any, fn: str) -> None:
    # test_create_lambda_exceptions' messages, on UpdateFunctionConfiguration (2026-01-12)
    assert raises(client.update_function_configuration, FunctionName=fn, Role="r1")[2] == (
        "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member "
        r"must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?"
        r"[a-zA-Z_0-9+=,.@\-_/]+"
    )
    assert raises(client.update_function_configuration, FunctionName=fn, Runtime="PYTHON3.9")[
        2
    ].startswith("Value PYTHON3.9 at 'runtime' failed to satisfy constraint")


def test_list_functions(client: Any, fn: str) -> None:
    assert raises(client.list_functions, FunctionVersion="invalid") == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy "
        "constraint: Member must satisfy enum value set: [ALL]",
    )
    default = [f for f in client.list_functions()["Functions"] if f["FunctionName"] == fn]
    assert [f["FunctionArn"] for f in default] == [ARN + fn]
    every = [
        f
        for f in client.list_functions(FunctionVersion="ALL")["Functions"]
        if f["FunctionName"] == fn
    ]
    assert [f["FunctionArn"] for f in every] == [f"{ARN}{fn}:$LATEST"]


def test_function_arns(client: Any) -> None:
    created = create(client, f"{ARN}port-by-arn")
    assert created["FunctionName"] == "port-by-arn"
    partial = create(client, "123456789012:function:port-by-partial-arn")
    assert partial["FunctionName"] == "port-by-partial-arn"
    assert raises(create, client=client, name="invalid:function:name")[1] == "ValidationException"
    assert raises(create, client=client, name="a" * 65)[:2] == (
        400,
        "InvalidParameterValueException",
    )
    other = "arn:aws:lambda:ap-southeast-1:123456789012:function:port-elsewhere"
    assert raises(create, client=client, name=other) == (
        404,
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    )
    for name in ("port-by-arn", "port-by-partial-arn"):
        wait_active(client, name)
        client.delete_function(FunctionName=name)


def test_lambda_concurrent_code_updates_after_the_first_lands(client: Any, fn: str) -> None:
    # the recording's second update meets InProgress; here the first lands within the call
    # that waits for it, and the next update is then accepted
    client.update_function_code(FunctionName=fn, ZipFile=package(HANDLER_V2))
    wait_updated(client, fn)
    again = client.update_function_code(FunctionName=fn, ZipFile=package(HANDLER_V1))
    assert again["LastUpdateStatus"] == "InProgress"
    wait_updated(client, fn)


# --- TestLambdaVersions -------------------------------------------------------------------
def test_publish_version_on_create(client: Any) -> None:
    created = create(client, "port-publish-on-create", Publish=True)
    assert (created["Version"], created["FunctionArn"]) == ("1", ARN + "port-publish-on-create")
    assert created["State"] == "Pending"
    wait_active(client, "port-publish-on-create")
    client.get_waiter("published_version_active").wait(
        FunctionName="port-publish-on-create", Qualifier="1"
    )
    version = client.get_function(FunctionName="port-publish-on-create", Qualifier="1")
    conf = version["Configuration"]
    assert (conf["FunctionArn"], conf["State"], conf["LastUpdateStatus"]) == (
        ARN + "port-publish-on-create:1",
        "Active",
        "Successful",
    )
    listed = client.list_versions_by_function(FunctionName="port-publish-on-create")["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1"]
    repeated = client.publish_version(FunctionName="port-publish-on-create")
    assert (repeated["Version"], repeated["ResponseMetadata"]["HTTPStatusCode"]) == ("1", 201)
    listed = client.list_versions_by_function(FunctionName="port-publish-on-create")["Versions"]
    assert [v["Version"] for v in listed] == [
        "$LATEST",
        "1",
    ]  # › list_versions_result_after_publish
    client.delete_function(FunctionName="port-publish-on-create")


def test_version_lifecycle(client: Any, fn: str) -> None:
    listed = client.list_versions_by_function(FunctionName=fn)["Versions"]
    assert [v["FunctionArn"] for v in listed] == [f"{ARN}{fn}:$LATEST"]
    client.update_function_configuration(FunctionName=fn, Description="No version :(")
    wait_updated(client, fn)
    first = client.publish_version(FunctionName=fn, Description="First version description :)")
    assert (first["Version"], first["FunctionArn"]) == ("1", f"{ARN}{fn}:1")
    assert first["Description"] == "First version description :)"
    got = client.get_function_configuration(FunctionName=fn, Qualifier="1")
    assert got["Description"] == "First version description :)"


def test_publish_with_wrong_revisionid(client: Any, fn: str) -> None:
    assert raises(client.publish_version, FunctionName=fn, RevisionId="doesntexist") == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    revision = client.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    assert client.publish_version(FunctionName=fn, RevisionId=revision)["Version"] == "1"


def test_publish_with_wrong_sha256(client: Any, fn: str) -> None:
    sha = client.get_function(FunctionName=fn)["Configuration"]["CodeSha256"]
    assert raises(client.publish_version, FunctionName=fn, CodeSha256="somenonexistentsha256") == (
        400,
        "InvalidParameterValueException",
        "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
        f"({sha}). Please try again with the CodeSHA256 in $LATEST.",
    )
    assert client.publish_version(FunctionName=fn, CodeSha256=sha)["Version"] == "1"


def test_publish_with_update(client: Any, fn: str) -> None:
    updated = client.update_function_code(
        FunctionName=fn, ZipFile=package(HANDLER_V2), Publish=True
    )
    assert (updated["FunctionArn"], updated["Version"], updated["State"]) == (
        f"{ARN}{fn}:1",
        "1",
        "Pending",
    )
    assert updated["StateReason"] == "The function is being created."
    wait_updated(client, fn)
    client.get_waiter("published_version_active").wait(FunctionName=fn, Qualifier="1")
    version = client.get_function(FunctionName=fn, Qualifier="1")["Configuration"]
    latest = client.get_function(FunctionName=fn)["Configuration"]
    assert version["CodeSha256"] == latest["CodeSha256"] == updated["CodeSha256"]


# --- TestLambdaAlias ----------------------------------------------------------------------
def test_alias_lifecycle(client: Any, fn: str) -> None:
    client.publish_version(FunctionName=fn)
    client.update_function_configuration(FunctionName=fn, Description="v2")
    wait_updated(client, fn)
    client.publish_version(FunctionName=fn)
    alias = client.create_alias(
        FunctionName=fn,
        Name="aliasname1_1",
        FunctionVersion="1",
        Description="custom-alias",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )
    got = client.get_alias(FunctionName=fn, Name="aliasname1_1")
    for key in (
        "AliasArn",
        "Description",
        "FunctionVersion",
        "Name",
        "RevisionId",
        "RoutingConfig",
    ):
        assert got[key] == alias[key]
    by_alias = client.get_function(FunctionName=fn, Qualifier="aliasname1_1")
    by_arn = client.get_function(FunctionName=f"{ARN}{fn}:aliasname1_1")
    assert by_alias["Configuration"]["FunctionArn"] == by_arn["Configuration"]["FunctionArn"]
    assert raises(client.get_function, FunctionName=fn, Qualifier="aliasdoesnotexist") == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}{fn}:aliasdoesnotexist",
    )
    plain = client.create_alias(FunctionName=fn, Name="aliasname1_3", FunctionVersion="1")
    assert plain["Description"] == "" and "RoutingConfig" not in plain
    names = [a["Name"] for a in client.list_aliases(FunctionName=fn)["Aliases"]]
    assert names == ["aliasname1_1", "aliasname1_3"]


def test_notfound_and_invalid_routingconfigs(client: Any, fn: str) -> None:
    client.publish_version(FunctionName=fn)
    client.update_function_configuration(FunctionName=fn, Description="v2")
    wait_updated(client, fn)
    client.publish_version(FunctionName=fn)

    def alias(version: str, weights: dict[str, float] | None, name: str = "custom") -> Any:
        extra = {} if weights is None else {"RoutingConfig": {"AdditionalVersionWeights": weights}}
        return client.create_alias(FunctionName=fn, Name=name, FunctionVersion=version, **extra)

    assert raises(alias, version="1", weights={"2": 0.5, "3": 0.5}) == (
        400,
        "InvalidParameterValueException",
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    )
    assert raises(alias, version="1", weights={"2": 2.0})[:2] == (400, "ValidationException")
    assert raises(alias, version="1", weights={"2": -1.0})[2].startswith(
        "1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights'"
    )
    assert raises(alias, version="1", weights={"1": 0.5})[2] == (
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration."
    )
    assert raises(alias, version="10", weights=None) == (
        404,
        "ResourceNotFoundException",
        f"Function not found: {ARN}{fn}:10",
    )
    assert raises(alias, version="1", weights={"10": 0.5})[2] == f"Function not found: {ARN}{fn}:10"
    assert raises(alias, version="$LATEST", weights={"1": 0.5})[2] == (
        "$LATEST is not supported for an alias pointing to more than 1 version"
    )
    assert alias("$LATEST", None, "custom-latest")["FunctionVersion"] == "$LATEST"
    assert "RoutingConfig" not in alias("1", {}, "custom-empty-routingconfig")
    alias("1", None)
    assert raises(alias, version="1", weights=None) == (
        409,
        "ResourceConflictException",
        f"Alias already exists: {ARN}{fn}:custom",
    )
    assert raises(client.get_alias, FunctionName=fn, Name="non-existent") == (
        404,
        "ResourceNotFoundException",
        f"Cannot find alias arn: {ARN}{fn}:non-existent",
    )


def test_alias_naming(client: Any, fn: str) -> None:
    client.publish_version(FunctionName=fn)
    dated = client.create_alias(FunctionName=fn, Name="2024-01-01", FunctionVersion="1")
    assert dated["AliasArn"] == f"{ARN}{fn}:2024-01-01"
    assert raises(client.create_alias, FunctionName=fn, Name="2024", FunctionVersion="1") == (
        400,
        "ValidationException",
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    )


def test_non_existent_alias_deletion(client: Any, fn: str) -> None:
    deleted = client.delete_alias(FunctionName=fn, Name="non-existent")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_non_existent_alias_update(client: Any, fn: str) -> None:
    assert raises(client.update_alias, FunctionName=fn, Name="non-existent") == (
        404,
        "ResourceNotFoundException",
        f"Alias not found: {ARN}{fn}:non-existent",
    )


# --- TestLambdaRevisions ------------------------------------------------------------------
def test_function_revisions_basic(client: Any, fn: str) -> None:
    rev2 = client.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    assert raises(
        client.update_function_code, FunctionName=fn, ZipFile=package(HANDLER_V2), RevisionId="x"
    )[:2] == (412, "PreconditionFailedException")
    rev3 = client.update_function_code(
        FunctionName=fn, ZipFile=package(HANDLER_V2), RevisionId=rev2
    )["RevisionId"]
    wait_updated(client, fn)
    rev4 = client.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    assert len({rev2, rev3, rev4}) == 3
    assert raises(
        client.update_function_configuration, FunctionName=fn, Timeout=10, RevisionId="x"
    )[:2] == (412, "PreconditionFailedException")
    client.update_function_configuration(FunctionName=fn, Timeout=10, RevisionId=rev4)
    wait_updated(client, fn)


def test_function_revisions_version_and_alias(client: Any, fn: str) -> None:
    rev2 = client.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    assert raises(client.publish_version, FunctionName=fn, RevisionId="x")[:2] == (
        412,
        "PreconditionFailedException",
    )
    v1 = client.publish_version(FunctionName=fn, RevisionId=rev2)
    version = client.get_function(FunctionName=fn, Qualifier="1")["Configuration"]
    assert version["RevisionId"] == v1["RevisionId"]  # › get_function_published_version_rev_v2
    rev3 = client.get_function(FunctionName=fn)["Configuration"]["RevisionId"]
    assert rev3 not in (rev2, v1["RevisionId"])  # › get_function_latest_rev3
    alias = client.create_alias(FunctionName=fn, Name="revision_alias", FunctionVersion="1")
    assert client.get_function(FunctionName=fn)["Configuration"]["RevisionId"] == rev3  # rev4
    assert raises(client.update_alias, FunctionName=fn, Name="revision_alias", RevisionId="x")[
        :2
    ] == (412, "PreconditionFailedException")
    updated = client.update_alias(
        FunctionName=fn, Name="revision_alias", RevisionId=alias["RevisionId"]
    )
    assert updated["RevisionId"] != alias["RevisionId"]


# --- TestLambdaTag, TestLambdaUrl, concurrency, event invoke, account -----------------------
def test_tag_lifecycle(client: Any, fn: str) -> None:
    arn = ARN + fn
    client.tag_resource(Resource=arn, Tags={"A": "tag-a"})
    assert client.list_tags(Resource=arn)["Tags"] == {"A": "tag-a"}
    client.tag_resource(Resource=arn, Tags={"B": "tag-b", "C": "tag-c"})
    client.tag_resource(Resource=arn, Tags={"C": "tag-c-newsuffix", "D": "tag-d"})
    assert client.list_tags(Resource=arn)["Tags"] == {
        "A": "tag-a", "B": "tag-b", "C": "tag-c-newsuffix", "D": "tag-d",
    }  # fmt: skip
    client.untag_resource(Resource=arn, TagKeys=["A"])
    client.untag_resource(Resource=arn, TagKeys=["B", "C"])
    client.untag_resource(Resource=arn, TagKeys=["F"])
    assert client.list_tags(Resource=arn)["Tags"] == {"D": "tag-d"}
    client.untag_resource(Resource=arn, TagKeys=["D", "F"])
    assert client.list_tags(Resource=arn)["Tags"] == {}


def test_url_config_lifecycle(client: Any, fn: str) -> None:
    created = client.create_function_url_config(FunctionName=fn, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201 and "InvokeMode" not in created
    assert raises(client.create_function_url_config, FunctionName=fn, AuthType="NONE")[:2] == (
        409,
        "ResourceConflictException",
    )
    got = client.get_function_url_config(FunctionName=fn)
    assert (got["InvokeMode"], got["AuthType"]) == ("BUFFERED", "NONE")
    updated = client.update_function_url_config(FunctionName=fn, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and "InvokeMode" not in updated  # › updated_url_config
    client.delete_function_url_config(FunctionName=fn)
    assert raises(client.get_function_url_config, FunctionName=fn) == (
        404,
        "ResourceNotFoundException",
        "The resource you requested does not exist.",
    )


def test_function_concurrency(client: Any, fn: str) -> None:
    assert (
        client.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=0)[
            "ReservedConcurrentExecutions"
        ]
        == 0
    )
    client.put_function_concurrency(FunctionName=fn, ReservedConcurrentExecutions=1)
    got = client.get_function_concurrency(FunctionName=fn)
    assert got["ReservedConcurrentExecutions"] == 1
    client.delete_function_concurrency(FunctionName=fn)
    assert "ReservedConcurrentExecutions" not in client.get_function_concurrency(FunctionName=fn)


def test_function_concurrency_exceptions(client: Any, fn: str) -> None:
    assert raises(
        client.put_function_concurrency, FunctionName="doesnotexist", ReservedConcurrentExecutions=1
    ) == (404, "ResourceNotFoundException", f"Function not found: {ARN}doesnotexist:$LATEST")
    client.publish_version(FunctionName=fn)
    assert raises(
        client.put_function_concurrency, FunctionName=f"{ARN}{fn}:1", ReservedConcurrentExecutions=1
    )[2].startswith("This operation is permitted on Lambda functions only.")


def test_provisioned_concurrency_exceptions(client: Any, fn: str) -> None:
    client.publish_version(FunctionName=fn)
    get = client.get_provisioned_concurrency_config
    assert raises(get, FunctionName=fn, Qualifier="1") == (
        404,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    )
    assert raises(get, FunctionName="doesnotexist", Qualifier="noalias")[2] == (
        f"Cannot find alias arn: {ARN}doesnotexist:noalias"
    )
    assert raises(get, FunctionName=fn, Qualifier="noalias")[2] == (
        f"Cannot find alias arn: {ARN}{fn}:noalias"
    )
    assert raises(get, FunctionName=fn, Qualifier="10")[2] == f"Function not found: {ARN}{fn}:10"
    assert raises(get, FunctionName=fn, Qualifier="$LATEST")[2] == (
        "The function resource provided must be an alias or a published version."
    )
    delete = client.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="1")
    assert (
        delete["ResponseMetadata"]["HTTPStatusCode"] == 204
    )  # › delete_provisioned_config_doesnotexist
    put = client.put_provisioned_concurrency_config
    assert raises(put, FunctionName=fn, Qualifier="1", ProvisionedConcurrentExecutions=0)[2] == (
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1"
    )
    assert (
        raises(put, FunctionName=fn, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1)[2]
        == "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )


def test_lambda_eventinvokeconfig_exceptions(client: Any, fn: str) -> None:
    put = client.put_function_event_invoke_config
    assert raises(put, FunctionName="doesnotexist", MaximumRetryAttempts=1) == (
        404,
        "ResourceNotFoundException",
        "The function doesn't exist.",
    )
    assert raises(put, FunctionName=fn)[2] == (
        "You must specify at least one of error handling or destination setting."
    )
    assert (
        raises(
            put,
            FunctionName=fn,
            DestinationConfig={"OnFailure": {"Destination": ARN + fn}},
        )[2]
        == "You can't specify the function as a destination for itself."
    )
    assert raises(client.get_function_event_invoke_config, FunctionName="doesnotexist")[2] == (
        f"The function {ARN}doesnotexist:$LATEST doesn't have an EventInvokeConfig"
    )
    assert put(FunctionName=fn, Qualifier="$LATEST", MaximumRetryAttempts=1)["FunctionArn"] == (
        f"{ARN}{fn}:$LATEST"
    )


def test_account_settings(client: Any) -> None:
    settings = client.get_account_settings()
    assert sorted(settings["AccountLimit"]) == [
        "CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions", "TotalCodeSize",
        "UnreservedConcurrentExecutions",
    ]  # fmt: skip
    assert sorted(settings["AccountUsage"]) == ["FunctionCount", "TotalCodeSize"]


def test_account_settings_total_code_size(client: Any) -> None:
    before = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    create(client, "port-code-size")
    after = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    assert after - before == len(package(HANDLER_V1))  # the zip's size (recorded diff: 276)
    wait_active(client, "port-code-size")
    client.delete_function(FunctionName="port-code-size")
