"""Versions and aliases through boto3: qualifiers, X-Amz-Executed-Version, the version the
runtime sees, a pool per version, provisioned concurrency per alias, weighted routing."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.config import AliasConfig, EmulatorConfig
from emulator.embedded import EmbeddedEmulator
from emulator.errors import ManifestError
from emulator.manifests import load_manifest
from emulator.pytest_plugin import boto3_client

CTX = (Path(__file__).parent / "functions" / "ctx").resolve()
ARN = "arn:aws:lambda:us-east-1:123456789012:function:"

MANIFEST = f"""
[functions.ctx]
runtime = "python3.12"
handler = "app.handler"
code = "{CTX}"
publish = 2

[functions.ctx.versions.2]
provisioned_concurrency = 1

[functions.ctx.aliases.live]
version = "1"
provisioned_concurrency = 1

[functions.ctx.aliases.canary]
version = "1"
routing = {{ "2" = 0.3 }}

[functions.ctx.aliases.edge]
version = "$LATEST"
"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    directory = tmp_path_factory.mktemp("versions")
    manifest = directory / "lambda-emu.toml"
    manifest.write_text(MANIFEST)
    cfg = EmulatorConfig(
        functions=load_manifest(manifest),
        port=0,
        state_dir=directory / "state",
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as emu:
        yield emu
        assert emu.internal_errors == []


@pytest.fixture(scope="module")
def client(emulator: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(emulator) as lambda_client:
        yield lambda_client


def _invoke(client: Any, name: str, qualifier: str | None = None) -> tuple[str, dict[str, Any]]:
    extra = {} if qualifier is None else {"Qualifier": qualifier}
    resp = client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail", **extra)
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    body = json.loads(resp["Payload"].read())
    log = base64.b64decode(resp["LogResult"]).decode()
    # the START line names the executed version, as Lambda's does
    assert f"Version: {resp['ExecutedVersion']}" in log.splitlines()[0]
    return resp["ExecutedVersion"], body


@pytest.mark.parametrize(
    ("name", "qualifier", "executed", "invoked"),
    [
        ("ctx", None, "$LATEST", "ctx"),
        ("ctx", "$LATEST", "$LATEST", "ctx:$LATEST"),
        ("ctx:1", None, "1", "ctx:1"),
        ("ctx", "2", "2", "ctx:2"),
        ("ctx:live", None, "1", "ctx:live"),
        (f"{ARN}ctx:live", None, "1", "ctx:live"),
        (f"{ARN}ctx", "live", "1", "ctx:live"),
        ("123456789012:function:ctx:2", None, "2", "ctx:2"),
        ("ctx:edge", None, "$LATEST", "ctx:edge"),
    ],
)
def test_qualifiers_resolve(
    client: Any, name: str, qualifier: str | None, executed: str, invoked: str
) -> None:
    version, body = _invoke(client, name, qualifier)
    # An alias executes a numbered version: X-Amz-Executed-Version and the runtime's
    # AWS_LAMBDA_FUNCTION_VERSION name it; the context's ARN is the one invoked (LocalStack's
    # AWS-recorded TestLambdaAliases::test_lambda_alias_moving: ExecutedVersion "1",
    # invoked_arn "…:function:<fn>:alias1", rec 2025-11; docs python-context.html).
    assert version == executed
    assert body["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == executed
    assert f"/[{executed}]" in body["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert body["invoked_function_arn"] == ARN + invoked
    assert body["function_name"] == "ctx"


@pytest.mark.parametrize(("name", "qualifier"), [("ctx", "3"), ("ctx", "nope"), ("ctx:nope", None)])
def test_unknown_qualifier_is_resource_not_found(
    client: Any, name: str, qualifier: str | None
) -> None:
    extra = {} if qualifier is None else {"Qualifier": qualifier}
    with pytest.raises(ClientError) as exc:
        client.invoke(FunctionName=name, Payload=b"{}", **extra)
    err = exc.value.response
    unknown = qualifier or name.split(":")[1]
    # LocalStack's AWS-recorded TestLambdaAliases::test_lambda_alias_moving
    # › invocation_exc_not_existent (2025-11)
    assert (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]) == (
        404,
        "ResourceNotFoundException",
    )
    assert err["Error"]["Message"] == f"Function not found: {ARN}ctx:{unknown}"


def test_versions_do_not_share_environments(client: Any) -> None:
    pids = {qualifier: _invoke(client, "ctx", qualifier)[1]["pid"] for qualifier in ("1", "2")}
    latest = _invoke(client, "ctx")[1]["pid"]
    assert len({pids["1"], pids["2"], latest}) == 3
    # live is version 1: never one of version 2's or $LATEST's environments
    assert _invoke(client, "ctx", "live")[1]["pid"] not in (pids["2"], latest)


def test_provisioned_concurrency_per_alias_and_version(
    client: Any, emulator: EmbeddedEmulator
) -> None:
    async def provisioned(emu: Any) -> dict[str, int]:
        return {
            version: sum(
                1
                for env in emu.functions.pool_for("ctx", version).environments()
                if env["init_type"] == "provisioned-concurrency"
            )
            for version in ("$LATEST", "1", "2")
        }

    # live (→ 1) has 1 provisioned environment, version 2 has 1, $LATEST none
    assert emulator.call(provisioned) == {"$LATEST": 0, "1": 1, "2": 1}

    def init_types(qualifier: str) -> set[str]:
        # A few calls: one that arrives while the provisioned environment is still finishing
        # its previous invocation may be served by a new on-demand one (pool.HANDOFF_GRACE_S).
        return {
            _invoke(client, "ctx", qualifier)[1]["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"]
            for _ in range(3)
        }

    assert "provisioned-concurrency" in init_types("live")
    assert "provisioned-concurrency" in init_types("2")
    assert init_types("$LATEST") == {"on-demand"}


def test_weighted_alias_splits_traffic(client: Any) -> None:
    # LocalStack's TestLambdaAliases::test_alias_routingconfig: with weight 0.5 both versions
    # are hit; here 0.3, and the count checked against the binomial distribution
    executed = Counter(_invoke(client, "ctx", "canary")[0] for _ in range(120))
    assert set(executed) == {"1", "2"}
    # 30 % to version 2: 36 expected; a binomial(120, 0.3) lies in [14, 60] but once in ~10^7
    assert 14 <= executed["2"] <= 60


def test_event_invocation_runs_the_qualified_version(
    client: Any, emulator: EmbeddedEmulator
) -> None:
    async def count(emu: Any) -> int:
        return int(emu.functions.pool_for("ctx", "2").counters.invocations)

    async def grown(emu: Any) -> int:
        for _ in range(1000):  # up to ~20 s: a wait, not a bound on anything
            if await count(emu) > before:
                break
            await asyncio.sleep(0.02)
        return await count(emu)

    before = emulator.call(count)
    resp = client.invoke(FunctionName="ctx", Qualifier="2", InvocationType="Event", Payload=b"{}")
    assert resp["StatusCode"] == 202
    assert emulator.call(grown) == before + 1


# --- the manifest -------------------------------------------------------------------------------


def _load(tmp_path: Path, extra: str) -> Any:
    path = tmp_path / "lambda-emu.toml"
    path.write_text(
        f'[functions.f]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "{CTX}"\n' + extra
    )
    return load_manifest(path)


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ("publish = -1\n", "publish", "must be an integer from 0 to 100, got -1"),
        ("publish = 1\n[functions.f.versions.2]\n", "versions.2", "(1 to 1, see publish)"),
        (
            "publish = 1\n[functions.f.versions.1]\nprovisioned = 1\n",
            "versions.1.provisioned",
            "unknown key; expected one of provisioned_concurrency",
        ),
        ('[functions.f.aliases.live]\nversion = "1"\n', "aliases.live.version", "set publish"),
        ('publish = 1\n[functions.f.aliases.12]\nversion = "1"\n', "aliases.12", "not only"),
        (
            'publish = 2\n[functions.f.aliases.a]\nversion = "1"\nrouting = { "2" = 1.5 }\n',
            "aliases.a.routing.2",
            "must be a weight from 0.0 to 1.0, got 1.5",
        ),
        (
            'publish = 3\n[functions.f.aliases.a]\nversion = "1"\n'
            'routing = { "2" = 0.1, "3" = 0.1 }\n',
            "aliases.a.routing",
            "must route to at most one additional version, got 2",
        ),
        (
            'publish = 2\n[functions.f.aliases.a]\nversion = "1"\nrouting = { "2" = 0.1 }\n'
            "provisioned_concurrency = 1\n",
            "aliases.a.provisioned_concurrency",
            # Lambda's InvalidParameterValueException for PutProvisionedConcurrencyConfig
            "Alias with weights can not be used with Provisioned Concurrency",
        ),
        (
            '[functions.f.aliases.a]\nversion = "$LATEST"\nprovisioned_concurrency = 1\n',
            "aliases.a.provisioned_concurrency",
            # LocalStack's AWS-recorded test_provisioned_concurrency_exceptions ($LATEST)
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        ),
        (
            'publish = 1\nreserved_concurrency = 1\n[functions.f.aliases.a]\nversion = "1"\n'
            "provisioned_concurrency = 2\n",
            "reserved_concurrency",
            "must cover the provisioned concurrency of every version and alias (2), got 1",
        ),
    ],
)
def test_manifest_errors(tmp_path: Path, extra: str, field: str, message: str) -> None:
    with pytest.raises(ManifestError) as exc:
        _load(tmp_path, extra)
    assert (exc.value.function, exc.value.field) == ("f", field)
    assert message in str(exc.value)


def test_manifest_versions_and_aliases(tmp_path: Path) -> None:
    (fn,) = _load(
        tmp_path,
        'publish = 2\n[functions.f.aliases.live]\nversion = 2\nrouting = { "1" = 0.25 }\n',
    )
    assert [v.version for v in fn.versions] == ["1", "2"]
    (alias,) = fn.aliases
    assert (alias.name, alias.version, dict(alias.routing)) == ("live", "2", {"1": 0.25})
    version = fn.published(fn.versions[1])
    assert (version.version, version.versions, version.aliases) == ("2", (), ())


def test_publish_put_alias_and_reload(tmp_path: Path) -> None:
    """The registry's hooks for PublishVersion / UpdateAlias, and a manifest reload that
    republishes versions and moves an alias."""
    manifest = tmp_path / "lambda-emu.toml"
    base = f'[functions.f]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "{CTX}"\n'
    manifest.write_text(base + 'publish = 1\n[functions.f.aliases.live]\nversion = "1"\n')
    cfg = EmulatorConfig(
        functions=load_manifest(manifest), port=0, state_dir=tmp_path / "s", log_to_terminal=False
    )

    async def publish(emu: Any) -> str:
        return str(await emu.functions.publish("f"))

    async def move_live(emu: Any) -> None:
        emu.functions.put_alias("f", AliasConfig("live", "2"))

    async def reload(emu: Any) -> tuple[str, ...]:
        (fn,) = load_manifest(manifest)
        await emu.functions.reload(fn)
        return tuple(emu.functions.versions("f"))

    with EmbeddedEmulator(cfg) as emu, boto3_client(emu) as client:
        assert _invoke(client, "f", "live")[0] == "1"
        assert emu.call(publish) == "2"
        assert _invoke(client, "f", "2")[0] == "2"
        emu.call(move_live)
        assert _invoke(client, "f", "live")[0] == "2"

        manifest.write_text(base + 'publish = 3\n[functions.f.aliases.live]\nversion = "3"\n')
        assert emu.call(reload) == ("1", "2", "3")
        assert _invoke(client, "f", "live")[0] == "3"

        manifest.write_text(base + "publish = 1\n")
        assert emu.call(reload) == ("1",)
        for qualifier in ("2", "live"):
            with pytest.raises(ClientError) as exc:
                client.invoke(FunctionName="f", Qualifier=qualifier, Payload=b"{}")
            assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
        assert emu.internal_errors == []


def test_reserved_concurrency_is_shared_by_every_version(tmp_path: Path) -> None:
    """ReservedConcurrentExecutions is the function's: a busy version 1 leaves $LATEST none."""
    sleepy = (Path(__file__).parent / "functions" / "sleepy").resolve()
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        f'[functions.s]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "{sleepy}"\n'
        "timeout = 30\nreserved_concurrency = 1\npublish = 1\n"
    )
    cfg = EmulatorConfig(
        functions=load_manifest(manifest), port=0, state_dir=tmp_path / "s", log_to_terminal=False
    )

    async def busy(emu: Any) -> int:
        return int(emu.functions.busy_count)

    async def wait_busy(emu: Any) -> int:
        for _ in range(1500):  # a wait for the first invocation to start, not a bound
            if emu.functions.busy_count:
                break
            await asyncio.sleep(0.02)
        return int(emu.functions.busy_count)

    with EmbeddedEmulator(cfg) as emu, boto3_client(emu) as client:
        first = client.invoke(
            FunctionName="s", Qualifier="1", InvocationType="Event", Payload=b'{"sleep": 3}'
        )
        assert first["StatusCode"] == 202
        assert emu.call(wait_busy) == 1
        with pytest.raises(ClientError) as exc:
            client.invoke(FunctionName="s", Payload=b'{"sleep": 0}')
        err = exc.value.response
        assert err["Error"]["Code"] == "TooManyRequestsException"
        assert err.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert emu.call(busy) == 1


def test_the_invoke_command_takes_a_qualifier(tmp_path: Path) -> None:
    # `lambda-emu invoke NAME:ALIAS` runs the alias's version, with its number in the
    # function's AWS_LAMBDA_FUNCTION_VERSION and the alias's ARN as the invoked ARN
    import subprocess
    import sys

    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(MANIFEST)
    lambda_emu = Path(sys.executable).parent / "lambda-emu"

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(lambda_emu), "invoke", name, "--manifest", str(manifest)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )

    live = run("ctx:live")
    assert live.returncode == 0, live.stderr
    body = json.loads(live.stdout)
    assert body["env"]["AWS_LAMBDA_FUNCTION_VERSION"] == "1"
    assert body["invoked_function_arn"] == ARN + "ctx:live"
    assert "REPORT RequestId" in live.stderr

    unknown = run("ctx:nope")
    assert unknown.returncode != 0
    lines = unknown.stderr.strip().splitlines()
    assert len(lines) == 1 and "no version or alias 'nope'" in lines[0]
