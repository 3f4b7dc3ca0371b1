"""The AWS SDK for JavaScript v3 in the Node.js runtime directory, through boto3.

Lambda's nodejs18.x and later include the SDK v3 in the runtime ("The Node.js 18 and later
runtimes include AWS SDK for JavaScript v3", docs lambda-nodejs.html; in
/var/runtime/node_modules, the end of NODE_PATH), so a function `require`s or `import`s
`@aws-sdk/*` without bundling it ("The Node.js 18.x runtime for Lambda searches the folders
listed in NODE_PATH when loading ES modules", AWS Compute blog, *Node.js 18.x runtime now
available in AWS Lambda*), and a function's own copy of a package wins, as /var/task comes
first. The calls here are real: to the emulator's own Invoke API and to a local server that
answers as S3 and DynamoDB.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.pytest_plugin import boto3_client
from emulator.sandbox.runtimes import RuntimeResolver
from emulator.sandbox.runtimes.nodejs import (
    RUNTIME_PACKAGES_VARIABLE,
    SDK_LOCK,
    SDK_PACKAGES,
    SDK_VERSION,
    extra_runtime_packages,
    sdk_manifest,
)

if shutil.which("node") is None or shutil.which("npm") is None:
    pytest.skip("node and npm are needed for the Node.js runtime", allow_module_level=True)

SDK = Path(__file__).parent / "functions" / "nodejs" / "sdk"
CACHE = Path.home() / ".cache" / "lambda-emu"


class AwsStandIn(BaseHTTPRequestHandler):
    """Answers S3's PutObject and DynamoDB's PutItem as AWS does, and keeps each request."""

    protocol_version = "HTTP/1.1"  # the SDK keeps connections alive; 100-continue answered
    seen: list[dict[str, Any]]

    def do_PUT(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        self.seen.append(
            {"method": self.command, "path": self.path, "target": target, "body": body}
        )
        reply = b"{}" if target else b""
        self.send_response(200)
        if target:  # DynamoDB's JSON 1.0 protocol
            self.send_header("Content-Type", "application/x-amz-json-1.0")
        else:  # S3 PutObject: an empty body and the object's ETag
            self.send_header("ETag", '"5d41402abc4b2a76b9719d911017c592"')
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (AwsStandIn,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def own_packages(root: Path) -> None:
    """Two functions that bring their own `@aws-sdk/client-s3` (version 0.0.0-own): one in the
    node_modules it ships, one through a package.json dependency."""

    def fake(where: Path, name: str) -> None:
        where.mkdir(parents=True)
        manifest = {"name": name, "version": "0.0.0-own", "main": "index.js"}
        (where / "package.json").write_text(json.dumps(manifest))
        (where / "index.js").write_text("exports.own = true;\n")

    handler = (
        "exports.handler = async () => ({\n"
        '  s3: require("@aws-sdk/client-s3/package.json").version,\n'
        '  own: require("@aws-sdk/client-s3").own === true,\n'
        '  sqs: require("@aws-sdk/client-sqs/package.json").version,\n'
        "});\n"
    )
    esm = (
        'import s3 from "@aws-sdk/client-s3";\n'
        'import { SQSClient } from "@aws-sdk/client-sqs";\n'
        "export const handler = async () => ({\n"
        "  own: s3.own === true,\n"
        '  s3: import.meta.resolve("@aws-sdk/client-s3"),\n'
        '  sqs: typeof SQSClient === "function",\n'
        "});\n"
    )
    shipped = root / "shipped"
    fake(shipped / "node_modules" / "@aws-sdk" / "client-s3", "@aws-sdk/client-s3")
    (shipped / "index.js").write_text(handler)
    (shipped / "esm.mjs").write_text(esm)
    declared = root / "declared"
    fake(declared / "vendor" / "client-s3", "@aws-sdk/client-s3")
    deps = {"dependencies": {"@aws-sdk/client-s3": "file:./vendor/client-s3"}}
    (declared / "package.json").write_text(json.dumps(deps))
    (declared / "index.js").write_text(handler)


@pytest.fixture(scope="module")
def sdk_emulator() -> Iterator[EmbeddedEmulator]:
    # not under /tmp: code there keeps the host's /tmp, so no mount namespace of its own
    state = Path(__file__).parents[1] / ".lambda-emu"
    state.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="test-sdk-", dir=state))
    own_packages(root / "code")
    functions = tuple(
        FunctionConfig(
            name=name,
            runtime="nodejs20.x",
            handler=handler,
            code_dir=code,
            memory_mb=256,
            timeout_s=10,
        )
        for name, code, handler in [
            ("sdk_cjs", SDK, "index.handler"),
            ("sdk_esm", SDK, "esm.handler"),
            ("sdk_target", SDK, "target.handler"),
            ("sdk_own_shipped", root / "code" / "shipped", "index.handler"),
            ("sdk_own_shipped_esm", root / "code" / "shipped", "esm.handler"),
            ("sdk_own_declared", root / "code" / "declared", "index.handler"),
        ]
    )
    cfg = EmulatorConfig(
        functions=functions, port=0, state_dir=root / "state", log_to_terminal=False
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        yield emulator
    finally:
        emulator.stop()
        shutil.rmtree(root, ignore_errors=True)
        assert emulator.internal_errors == []


@pytest.fixture(scope="module")
def client(sdk_emulator: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(sdk_emulator) as c:
        yield c


def call(client: Any, name: str, event: Any = None) -> Any:
    resp = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), LogType="Tail")
    body = json.loads(resp["Payload"].read())
    log = base64.b64decode(resp["LogResult"]).decode()
    assert "FunctionError" not in resp, (body, log)
    return body


def mounts(emulator: EmbeddedEmulator) -> bool:
    """Whether environments get a mount namespace of their own (root and unshare): only then
    does an ES module's `import` find packages outside its code's node_modules."""
    assert emulator.emulator is not None
    return bool(getattr(emulator.emulator.sandboxes.factories["process"], "private_tmp", False))


def runtime_modules() -> Path:
    row = RuntimeResolver(CACHE, print).nodejs
    major = min(row.nodes(), key=lambda m: abs(m - 20))
    return row.runtime_dir(major, row.nodes()[major]) / "node_modules"


# --- the set -------------------------------------------------------------------------------------
def test_the_locked_set_is_the_documented_one() -> None:
    lock = json.loads(SDK_LOCK.read_text())
    root = lock["packages"][""]
    assert root["dependencies"] == sdk_manifest({})["dependencies"]
    for name in SDK_PACKAGES:  # every package at the one SDK version
        assert lock["packages"][f"node_modules/{name}"]["version"] == SDK_VERSION
    # what the docs list (docs/fidelity.md, docs/configuration.md)
    docs = (Path(__file__).parents[1] / "docs" / "fidelity.md").read_text()
    assert all(f"`{name.removeprefix('@aws-sdk/')}`" in docs for name in SDK_PACKAGES)


def test_extra_runtime_packages_are_npm_specs() -> None:
    assert extra_runtime_packages("") == {}
    assert extra_runtime_packages(" @aws-sdk/client-kinesis, @aws-sdk/client-ec2@3.900.0 uuid") == {
        "@aws-sdk/client-kinesis": SDK_VERSION,  # the SDK's own version unless one is given
        "@aws-sdk/client-ec2": "3.900.0",
        "uuid": "latest",
    }
    manifest = sdk_manifest({"uuid": "9.0.1"})
    assert isinstance(manifest["dependencies"], dict)
    assert manifest["dependencies"]["uuid"] == "9.0.1"
    assert manifest["dependencies"]["@aws-sdk/client-s3"] == SDK_VERSION


def test_packages_added_by_the_variable_join_the_locked_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RUNTIME_PACKAGES_VARIABLE, "@aws-sdk/util-arn-parser@3.957.0")
    row = RuntimeResolver(tmp_path, print).nodejs
    assert row.extra_packages == {"@aws-sdk/util-arn-parser": "3.957.0"}
    sdk = row.sdk_dir(next(iter(row.nodes().values())))  # npm install, the lock kept
    assert " install " in (sdk / ".ready").read_text()

    def version(name: str) -> str:
        return str(
            json.loads((sdk / "node_modules" / name / "package.json").read_text())["version"]
        )

    assert version("@aws-sdk/util-arn-parser") == "3.957.0"
    assert all(version(name) == SDK_VERSION for name in SDK_PACKAGES)
    monkeypatch.delenv(RUNTIME_PACKAGES_VARIABLE)
    assert RuntimeResolver(tmp_path, print).nodejs.extra_packages == {}  # read when made


def test_the_runtime_directory_holds_the_client_and_the_sdk() -> None:
    modules = runtime_modules()
    assert (modules.parent / "index.mjs").is_file()
    assert (modules / "aws-lambda-ric" / "package.json").is_file()
    for name in SDK_PACKAGES:
        manifest = json.loads((modules / name / "package.json").read_text())
        assert manifest["version"] == SDK_VERSION
    # one self-contained tree (bound as is on /var/runtime): no links out of it
    assert not any(p.is_symlink() for p in modules.glob("@aws-sdk/*"))


# --- functions -----------------------------------------------------------------------------------
def test_a_commonjs_function_requires_the_runtimes_sdk_unbundled(
    client: Any, sdk_emulator: EmbeddedEmulator, aws: tuple[str, list[dict[str, Any]]]
) -> None:
    endpoint, seen = aws
    body = call(client, "sdk_cjs", {"lambda": sdk_emulator.url, "aws": endpoint})
    # @aws-sdk/client-lambda's InvokeCommand through the emulator's Invoke API
    assert body["status"] == 200 and body["answer"] == {"doubled": 42}
    assert body["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert body["version"] == SDK_VERSION
    assert body["s3"].startswith(str(runtime_modules() / "@aws-sdk" / "client-s3") + "/")
    s3 = next(r for r in seen if r["path"].split("?")[0] == "/b/cjs.txt")
    assert s3["method"] == "PUT" and b"hi" in s3["body"]
    # lib-dynamodb marshalled the plain object into DynamoDB's attribute values
    ddb = next(r for r in seen if b'"cjs"' in r["body"] and r["target"])
    assert ddb["target"] == "DynamoDB_20120810.PutItem"
    assert json.loads(ddb["body"]) == {
        "TableName": "t",
        "Item": {"id": {"S": "cjs"}, "n": {"N": "1"}},
    }


def test_an_es_module_imports_the_runtimes_sdk_unbundled(
    client: Any, sdk_emulator: EmbeddedEmulator, aws: tuple[str, list[dict[str, Any]]]
) -> None:
    if not mounts(sdk_emulator):
        pytest.skip("needs the environment's own mount namespace (root and unshare)")
    endpoint, seen = aws
    body = call(client, "sdk_esm", {"lambda": sdk_emulator.url, "aws": endpoint})
    assert body["status"] == 200 and body["answer"] == {"doubled": 100}
    assert body["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    assert body["s3"].startswith(f"file://{runtime_modules()}/@aws-sdk/client-s3/")
    ddb = next(r for r in seen if b'"esm"' in r["body"] and r["target"])
    assert json.loads(ddb["body"])["Item"] == {"id": {"S": "esm"}, "n": {"N": "2"}}
    assert any(r["path"].split("?")[0] == "/b/esm.txt" for r in seen)


def test_a_functions_own_node_modules_wins_over_the_runtimes(client: Any) -> None:
    body = call(client, "sdk_own_shipped")
    assert body == {"s3": "0.0.0-own", "own": True, "sqs": SDK_VERSION}


def test_a_functions_own_dependency_wins_over_the_runtimes(client: Any) -> None:
    body = call(client, "sdk_own_declared")
    assert body == {"s3": "0.0.0-own", "own": True, "sqs": SDK_VERSION}


def test_an_es_modules_own_package_wins_and_the_rest_come_from_the_runtime(
    client: Any, sdk_emulator: EmbeddedEmulator
) -> None:
    if not mounts(sdk_emulator):
        pytest.skip("needs the environment's own mount namespace (root and unshare)")
    body = call(client, "sdk_own_shipped_esm")
    assert body["own"] is True and body["sqs"] is True
    assert "/shipped/node_modules/@aws-sdk/client-s3/" in body["s3"]


def test_the_docker_images_runtime_has_the_sdk_for_require_and_import(
    tmp_path: Path, aws: tuple[str, list[dict[str, Any]]]
) -> None:
    from emulator.images import node_image
    from emulator.sandbox.docker.engine import engine_answers

    if not engine_answers():
        pytest.skip("no Docker engine (scripts/setup-docker)")
    import docker

    engine = docker.from_env()
    try:
        if not engine.images.list(name=node_image(20).split(":")[0]):
            pytest.skip("no local nodejs image (lambda-emu images build)")
    finally:
        engine.close()
    functions = (
        FunctionConfig(
            name="sdk_target",
            runtime="nodejs20.x",
            handler="target.handler",
            code_dir=SDK,
            memory_mb=256,
        ),
        *(
            FunctionConfig(
                name=name,
                runtime="nodejs20.x",
                handler=handler,
                code_dir=SDK,
                memory_mb=256,
                timeout_s=10,
                sandbox="docker",
            )
            for name, handler in [("dk_sdk_cjs", "index.handler"), ("dk_sdk_esm", "esm.handler")]
        ),
    )
    cfg = EmulatorConfig(
        functions=functions, port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    endpoint, _ = aws
    emulator = EmbeddedEmulator(cfg).start()
    try:
        with boto3_client(emulator) as dk:  # containers share the host's network
            event = {"lambda": emulator.url, "aws": endpoint}
            cjs = call(dk, "dk_sdk_cjs", event)
            esm = call(dk, "dk_sdk_esm", event)
    finally:
        emulator.stop()
    assert emulator.internal_errors == []
    assert cjs["answer"] == {"doubled": 42} and esm["answer"] == {"doubled": 100}
    assert cjs["version"] == SDK_VERSION
    # in Lambda's place, /var/runtime/node_modules
    assert cjs["s3"].startswith("/var/runtime/node_modules/@aws-sdk/client-s3/")
    assert esm["s3"].startswith("file:///var/runtime/node_modules/@aws-sdk/client-s3/")
