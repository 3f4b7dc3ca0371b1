"""Node.js functions under AWS's own runtime interface client (npm aws-lambda-ric), through boto3.

Expected values come from recordings of real AWS, cited beside each test:
LS = localstack/localstack tests/aws/services/lambda_/*.snapshot.json (AWS-validated), as
collected in /work/notes/conformance-cases.md (section letters in brackets).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from waiting import eventually

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator, EmulatorThread
from emulator.manifests import load_manifest
from emulator.metrics.report import Report, parse_report
from emulator.pytest_plugin import boto3_client
from emulator.sandbox.runtimes import RuntimeResolver, runtime_family
from emulator.sandbox.runtimes.nodejs import ca_bundle, layer_paths, memory_args, merged_overlay

if shutil.which("node") is None or shutil.which("npm") is None:
    pytest.skip("node and npm are needed for the Node.js runtime", allow_module_level=True)

FUNCTIONS = Path(__file__).parent / "functions"
NODE_FUNCTIONS = FUNCTIONS / "nodejs"
CACHE = Path.home() / ".cache" / "lambda-emu"


@pytest.fixture(scope="module")
def node_emulator() -> Iterator[EmbeddedEmulator]:
    cfg = EmulatorConfig(
        functions=load_manifest(NODE_FUNCTIONS / "lambda-emu.toml"),
        port=0,
        state_dir=Path(tempfile.mkdtemp(prefix="lambda-emu-node-")),
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as emulator:
        yield emulator
    assert emulator.internal_errors == []


@pytest.fixture(scope="module")
def client(node_emulator: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(node_emulator) as c:
        yield c


def call(client: Any, name: str, event: Any = None) -> tuple[dict[str, Any], Any, str]:
    """(response, parsed payload, decoded log tail)"""
    resp = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), LogType="Tail")
    body = json.loads(resp["Payload"].read())
    return resp, body, base64.b64decode(resp["LogResult"]).decode()


# --- the row -----------------------------------------------------------------------------------
def test_the_runtime_table_runs_every_nodejs_runtime() -> None:
    for runtime in ("nodejs18.x", "nodejs20.x", "nodejs22.x"):
        assert runtime_family(runtime) == "nodejs"


def test_v8_heap_limits_follow_memory_as_lambdas_bootstrap_sets_them() -> None:
    # /var/runtime/bootstrap of public.ecr.aws/lambda/nodejs:18: new = M/10, semi = new/2,
    # old = M - new (integer MB).
    assert memory_args(128) == ("--max-semi-space-size=6", "--max-old-space-size=116")
    assert memory_args(1769) == ("--max-semi-space-size=88", "--max-old-space-size=1593")


def test_layer_paths_put_the_major_specific_directory_first(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert layer_paths((a, b), 22) == [
        f"{b}/nodejs/node22/node_modules",
        f"{a}/nodejs/node22/node_modules",
        f"{b}/nodejs/node_modules",
        f"{a}/nodejs/node_modules",
    ]


def test_a_missing_major_runs_on_the_nearest_node_with_one_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    row = RuntimeResolver(tmp_path, warnings.append).nodejs
    have = row.nodes()
    missing = next(m for m in (18, 20, 22) if m not in have)
    major, exe = row.node_for(f"nodejs{missing}.x", "f")
    assert major in have and Path(exe).exists()
    assert warnings == [
        f"nodejs{missing}.x is not on this machine; function 'f' runs on node {major}"
    ]


def test_the_command_is_lambdas_bootstrap_without_the_clients_cli(tmp_path: Path) -> None:
    fn = FunctionConfig(
        name="f", runtime="nodejs20.x", handler="index.handler", code_dir=tmp_path, memory_mb=1769
    )
    command = RuntimeResolver(CACHE, print).prepare(fn)
    assert command.argv[1:6] == (
        "--expose-gc",
        "--max-http-header-size",
        "81920",
        "--max-semi-space-size=88",
        "--max-old-space-size=1593",
    )
    # Lambda's /var/runtime/index.mjs, not the client's bin/index.mjs (which prints a line)
    assert command.argv[-1] == f"{command.runtime_dir}/index.mjs"
    assert command.execution_env == "AWS_Lambda_nodejs20.x"


# --- handler styles ----------------------------------------------------------------------------
def test_commonjs_async_handler_context_and_environment(
    client: Any, node_emulator: EmbeddedEmulator
) -> None:
    resp, body, _ = call(client, "node_cjs", {"hello": "λ"})
    assert resp["StatusCode"] == 200 and "FunctionError" not in resp
    assert body["event"] == {"hello": "λ"}
    ctx = body["context"]
    # [E5] LS test_lambda::TestLambdaFeatures::test_lambda_with_context (nodejs16.x)
    assert ctx["functionName"] == "node_cjs"
    assert ctx["functionVersion"] == "$LATEST"
    assert ctx["memoryLimitInMB"] == "256"  # a string, as recorded
    assert ctx["invokedFunctionArn"].endswith(":function:node_cjs")  # unqualified
    assert ctx["logGroupName"] == "/aws/lambda/node_cjs"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["logStreamName"])
    assert ctx["awsRequestId"] == resp["ResponseMetadata"]["RequestId"]  # [A25]
    assert ctx["callbackWaitsForEmptyEventLoop"] is True
    assert 0 < ctx["remaining"] <= 5000
    env = body["env"]
    # [D3] LS test_lambda_common::test_introspection_invoke[nodejs22.x]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    major = int(body["node"][1:].split(".")[0])
    row = RuntimeResolver(CACHE, print).nodejs
    rdir = row.runtime_dir(major, row.nodes()[major])  # the client and the SDK, cached
    code = NODE_FUNCTIONS / "cjs"
    # /var/runtime/node_modules:/var/runtime:/var/task (no layers, no dependencies)
    assert env["NODE_PATH"] == f"{rdir}/node_modules:{rdir}:{code}"
    assert env["LAMBDA_TASK_ROOT"] == str(code) and env["_HANDLER"] == "index.handler"
    # Lambda's bootstrap points NODE_EXTRA_CA_CERTS at a CA bundle (/var/runtime/ca-cert.pem)
    # unless the function sets it; here, this machine's bundle
    assert env["NODE_EXTRA_CA_CERTS"] == ca_bundle() and Path(env["NODE_EXTRA_CA_CERTS"]).is_file()
    assert env["WRAPPED_BY"] is None
    # NODE_OPTIONS passes through to node
    assert env["NODE_OPTIONS"] == "--no-deprecation" and body["noDeprecation"] is True
    assert body["execArgv"] == [
        "--expose-gc",
        "--max-http-header-size",
        "81920",
        "--max-semi-space-size=12",
        "--max-old-space-size=231",
        "--no-experimental-require-module",  # Lambda turns require(esm) off on nodejs20.x
    ]
    assert body["requireModule"] in (False, None)  # None: a node without the feature


def test_nodejs22_asks_for_its_own_execution_env(client: Any) -> None:
    _, body, _ = call(client, "node22_cjs")
    assert body["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs22.x"
    # docs lambda-nodejs.html: nodejs22.x turns off require(esm) and module-type detection
    assert body["execArgv"][-2:] == [
        "--no-experimental-require-module",
        "--no-experimental-detect-module",
    ]


def test_node_options_keeps_an_experimental_feature_lambda_turns_off(tmp_path: Path) -> None:
    # docs lambda-nodejs.html: "set the re-enable flag in the NODE_OPTIONS environment
    # variable ... Lambda detects this override and removes the corresponding disable flag"
    fn = FunctionConfig(
        name="f",
        runtime="nodejs22.x",
        handler="index.handler",
        code_dir=tmp_path,
        environment={"NODE_OPTIONS": "--experimental-require-module"},
    )
    argv = RuntimeResolver(CACHE, print).prepare(fn).argv
    assert "--no-experimental-require-module" not in argv
    assert "--no-experimental-detect-module" in argv
    plain = RuntimeResolver(CACHE, print).prepare(
        FunctionConfig(name="g", runtime="nodejs18.x", handler="i.h", code_dir=tmp_path)
    )
    assert not any(a.startswith("--no-experimental") for a in plain.argv)


@pytest.mark.parametrize(
    ("name", "style"),
    [("node_esm", "esm-mjs"), ("node_esm_type", "esm-type"), ("node_subdir", "subdir")],
)
def test_es_modules_and_subdirectories(client: Any, name: str, style: str) -> None:
    resp, body, _ = call(client, name)
    assert "FunctionError" not in resp
    assert body["style"] == style


def test_callback_handler_waits_for_the_empty_event_loop_by_default(client: Any) -> None:
    _, body, log = call(client, "node_callback", {"timerMs": 1500})
    assert body == {"style": "callback", "wait": True}
    assert "\tINFO\ttimer fired\n" in log  # the pending timer ran before the answer
    report = parse_report(log)
    assert report is not None and report.duration_ms >= 1400


def test_callback_handler_answers_at_once_without_waiting(client: Any) -> None:
    _, body, log = call(client, "node_callback", {"timerMs": 1500, "wait": False})
    assert body == {"style": "callback", "wait": False}
    assert "timer fired" not in log
    report = parse_report(log)
    assert report is not None and report.duration_ms < 1000


# --- errors ------------------------------------------------------------------------------------
def test_a_thrown_error_has_nodes_payload_shape(client: Any) -> None:
    # [B2] LS test_lambda_common::TestLambdaRuntimesCommon::test_uncaught_exception_invoke
    # [nodejs16.x–24.x] › error_result: keys errorType, errorMessage, trace, in that order.
    resp = client.invoke(FunctionName="node_error", Payload=b'{"error_msg":"some_error_msg"}')
    assert resp["FunctionError"] == "Unhandled"
    raw = resp["Payload"].read()
    body = json.loads(raw)
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Error"
    assert body["errorMessage"] == "Error: some_error_msg"
    assert body["trace"][0] == "Error: Error: some_error_msg"
    assert "errors/index.js:3" in body["trace"][1]


def test_handler_not_exported_is_handler_not_found(client: Any) -> None:
    # [B4] real AWS: {"errorType":"Runtime.HandlerNotFound","errorMessage":"index.handler is
    # undefined or not exported","trace":["Runtime.HandlerNotFound: index.handler is …", …]}
    # (gh:aws-samples/amazon-cloudfront-functions#9)
    resp, body, _ = call(client, "node_not_exported")
    assert resp["FunctionError"] == "Unhandled"
    assert list(body) == ["errorType", "errorMessage", "trace"]
    assert body["errorType"] == "Runtime.HandlerNotFound"
    assert body["errorMessage"] == "index.missing is undefined or not exported"
    assert body["trace"][0] == "Runtime.HandlerNotFound: index.missing is undefined or not exported"
    report = parse_report(call(client, "node_not_exported")[2])
    assert report is not None and report.error_type == "Runtime.HandlerNotFound"


def test_a_missing_module_is_import_module_error(client: Any) -> None:
    # errorType from the client's own Errors (aws-lambda-ric UserFunction: ImportModuleError
    # wraps node's "Cannot find module"); AWS's console shows
    # "Runtime.ImportModuleError: Error: Cannot find module '<module>'".
    resp, body, _ = call(client, "node_no_module")
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"].startswith("Error: Cannot find module 'nowhere'")
    assert body["trace"][0] == "Runtime.ImportModuleError: Error: Cannot find module 'nowhere'"


def test_out_of_memory_past_the_cgroup_limit(client: Any, node_emulator: EmbeddedEmulator) -> None:
    assert node_emulator.emulator is not None
    if node_emulator.emulator.cgroups is None:
        pytest.skip("no writable memory cgroup on this machine")
    # Buffers live outside V8's heap: the cgroup's limit is hit first and the kernel kills
    # the runtime. Lambda: "Runtime exited with error: signal: killed" (gh:DataBiosphere/
    # azul#3485), typed Runtime.OutOfMemory in REPORT lines of 2025-26 and in AWS's RAPID
    # (rapid/shutdown.go › processTermination: OomKilled → ErrorRuntimeOutOfMemory).
    resp, body, log = call(client, "node_hog128", {"mb": 300})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert "\nRuntime.OutOfMemory\n" in log
    report = parse_report(log)
    assert report is not None and report.status == "error"
    assert report.error_type == "Runtime.OutOfMemory"
    assert 100 <= report.max_memory_mb <= 128
    _, again, _ = call(client, "node_hog512", {"mb": 300})
    assert again == {"allocated_mb": 300}


def test_out_of_memory_in_v8s_heap_first(client: Any, node_emulator: EmbeddedEmulator) -> None:
    # JavaScript objects live on V8's heap, which Lambda's bootstrap caps below the memory size
    # (--max-old-space-size = M − M/10): V8's limit comes first (measured here at 128, 512,
    # 1,024 and 2,048 MB: Max Memory Used stayed under the size), node prints its own
    # "FATAL ERROR: … JavaScript heap out of memory" and aborts. Lambda reports a runtime that
    # exited on a signal as Runtime.ExitError "Runtime exited with error: signal: <Go's name>";
    # SIGABRT is "aborted" (⚠ whether Lambda adds Go's " (core dumped)" is unrecorded).
    resp, body, log = call(client, "node_hog512", {"heapMb": 1000})
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: aborted")
    assert "JavaScript heap out of memory" in log
    report = parse_report(log)
    assert report is not None and report.error_type == "Runtime.ExitError"
    assert report.max_memory_mb < 512
    # the next invocation gets a fresh environment
    _, again, _ = call(client, "node_hog512", {"heapMb": 10})
    assert again == {"heap_mb": 10}


# --- logs, scale-out -----------------------------------------------------------------------------
def test_a_cold_log_tail_is_start_the_functions_lines_end_report(client: Any) -> None:
    # [A20] LS test_lambda::TestLambdaFeatures::test_invocation_with_logs[nodejs16.x]:
    # START, "<ISO date>\t<id>\tINFO\t<message>", END, REPORT (with Init Duration); no line
    # from the client's command-line entry.
    resp, _, log = call(client, "node_log", {"n": 1})
    rid = resp["ResponseMetadata"]["RequestId"]
    lines = log.splitlines()
    assert len(lines) == 4, log
    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\tINFO\tcjs got {{\"n\":1}}", lines[1]
    )
    assert lines[2] == f"END RequestId: {rid}"
    report = parse_report(lines[3])
    assert report is not None and report.init_ms is not None


def test_json_log_format_turns_console_lines_into_lambdas_json_records(tmp_path: Path) -> None:
    # LoggingConfig {LogFormat: JSON, ApplicationLogLevel: INFO}: AWS's client (aws-lambda-ric
    # LogPatch.js) then writes {"timestamp","level","requestId","message"} per line, an Error
    # argument adding errorType, errorMessage and stackTrace, and drops levels below INFO
    # (docs nodejs-logging.html, "Using Lambda advanced logging controls with Node.js").
    fn = FunctionConfig(
        name="node_json_logs",
        runtime="nodejs20.x",
        handler="logs.handler",
        code_dir=NODE_FUNCTIONS / "cjs",
        log_format="JSON",
        application_log_level="info",
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        with boto3_client(emulator) as json_client:
            resp, body, log = call(json_client, "node_json_logs")
    finally:
        emulator.stop()
    assert emulator.internal_errors == []
    assert body == {"logged": 4}
    rid = resp["ResponseMetadata"]["RequestId"]
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [(r["level"], r["requestId"]) for r in records] == [
        ("INFO", rid),
        ("WARN", rid),
        ("ERROR", rid),
    ]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["timestamp"]) for r in records
    )
    assert list(records[0]) == ["timestamp", "level", "requestId", "message"]
    assert records[0]["message"] == "log line 1"
    assert records[1]["message"] == {"warned": True}  # one object argument stays an object
    assert records[2]["errorType"] == "Error" and records[2]["errorMessage"] == "boom"
    assert records[2]["message"].startswith("failed: Error: boom")
    assert "debug line" not in log


def _wrapped(tmp_path: Path, wrapper: str) -> tuple[dict[str, Any], Any, str]:
    fn = FunctionConfig(
        name="node_wrapped",
        runtime="nodejs20.x",
        handler="index.handler",
        code_dir=NODE_FUNCTIONS / "cjs",
        environment={"AWS_LAMBDA_EXEC_WRAPPER": str(NODE_FUNCTIONS / "wrapper" / wrapper)},
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        with boto3_client(emulator) as wrapped_client:
            return call(wrapped_client, "node_wrapped")
    finally:
        emulator.stop()


def test_an_exec_wrapper_starts_the_node_runtime(tmp_path: Path) -> None:
    # docs runtimes-modify.html#runtime-wrapper: the script gets the runtime's command line
    resp, body, _ = _wrapped(tmp_path, "wrap.sh")
    assert "FunctionError" not in resp
    assert body["env"]["WRAPPED_BY"] == "wrap.sh"
    assert body["execArgv"][:3] == ["--expose-gc", "--max-http-header-size", "81920"]


@pytest.mark.parametrize(
    ("wrapper", "status", "line"),
    [("missing.sh", 127, "does not exist"), ("not-executable.sh", 126, "is not an executable")],
)
def test_an_exec_wrapper_that_cannot_run_ends_init_as_lambdas_bootstrap_does(
    tmp_path: Path, wrapper: str, status: int, line: str
) -> None:
    # Lambda's /var/runtime/bootstrap (nodejs18.x): `echo "$wrapper: does not exist"; exit 127`,
    # `echo "$wrapper: is not an executable"; exit 126`
    resp, body, log = _wrapped(tmp_path, wrapper)
    assert resp["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith(f"Runtime exited with error: exit status {status}")
    assert f"{NODE_FUNCTIONS / 'wrapper' / wrapper}: {line}" in log


def test_scale_out_to_8_concurrent_environments(client: Any) -> None:
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: call(client, "node_sleep", {"ms": 1500})[1], range(8)))
    assert len({b["pid"] for b in bodies}) == 8


# --- modules: layers and dependencies -----------------------------------------------------------
def test_a_layers_node_modules_resolve(client: Any) -> None:
    _, body, _ = call(client, "node_layer")
    assert body == {
        "greet": "hello node from the layer",
        "greet20": "node20-only module from the layer",
    }


def test_an_es_module_imports_a_layers_packages(
    client: Any, node_emulator: EmbeddedEmulator
) -> None:
    # AWS Compute blog, "Node.js 18.x runtime now available in AWS Lambda" (quoted in
    # gh:aws/aws-sdk-js#4431): "The Node.js 18.x runtime for Lambda searches the folders listed
    # in NODE_PATH when loading ES modules", so a layer's packages import from an .mjs handler.
    assert node_emulator.emulator is not None
    process = node_emulator.emulator.sandboxes.factories["process"]
    if not getattr(process, "private_tmp", False):
        pytest.skip("needs the environment's own mount namespace (root and unshare)")
    resp, body, _ = call(client, "node_esm_layer")
    assert "FunctionError" not in resp, body
    assert body == {
        "greet": "hello esm from the layer",
        "greet20": "node20-only module from the layer",
    }


def test_the_merged_node_modules_takes_each_package_from_its_first_source(tmp_path: Path) -> None:
    deps, layer = tmp_path / "deps", tmp_path / "layer"
    for d, names in ((deps, ["x", "@s/y", ".bin"]), (layer, ["x", "z", "@s/w"])):
        for name in names:
            (d / name).mkdir(parents=True)
    overlay = merged_overlay(tmp_path / "cache", "f", [deps, layer])
    modules = overlay / "node_modules"
    links = {
        str(p.relative_to(modules)): os.readlink(p) for p in modules.rglob("*") if p.is_symlink()
    }
    assert links == {
        "x": str(deps / "x"),  # the function's own dependency wins, as /var/task comes first
        "@s/y": str(deps / "@s" / "y"),
        "@s/w": str(layer / "@s" / "w"),
        "z": str(layer / "z"),
    }
    assert merged_overlay(tmp_path / "cache", "f", [deps, layer]) == overlay  # reused


def test_relative_file_dependencies_still_resolve(client: Any) -> None:
    _, body, _ = call(client, "node_deps_file")
    assert body["shout"] == "HI!"
    assert body["from"] == str(NODE_FUNCTIONS / "deps_file" / "vendor" / "shout" / "index.js")


def test_locked_dependencies_are_installed_once_with_npm_ci(client: Any) -> None:
    _, body, _ = call(client, "node_deps_ci")
    assert body["ms"] == 7_200_000
    installed = Path(body["from"]).parents[2]
    assert installed.parent == CACHE / "deps"
    assert " ci " in (installed / ".ready").read_text()


def test_an_es_module_imports_its_package_json_dependency(
    client: Any, node_emulator: EmbeddedEmulator
) -> None:
    # ES modules ignore NODE_PATH (nodejs.org/api/esm.html#no-node_path); on Lambda the
    # function's dependencies are in /var/task/node_modules, beside the handler, where
    # `import` finds them. AWS's knowledge center (lambda-import-module-error-nodejs): a
    # missing one is "Error [ERR_MODULE_NOT_FOUND]: Cannot find package".
    resp, body, _ = call(client, "node_esm_deps")
    assert "FunctionError" not in resp, body
    assert body["ms"] == 7_200_000
    installed = Path(body["from"].removeprefix("file://")).parents[2]
    assert installed.parent == CACHE / "deps"
    code = NODE_FUNCTIONS / "esm_deps"
    assert node_emulator.emulator is not None
    process = node_emulator.emulator.sandboxes.factories["process"]
    if getattr(process, "private_tmp", False):  # root with unshare: a mount namespace
        # the dependencies stand in the code directory, as in /var/task; NODE_PATH is Lambda's
        assert body["task"] == ["index.js", "node_modules", "package-lock.json", "package.json"]
        assert body["nodePath"].split(":")[-1] == str(code)
        assert str(installed) not in body["nodePath"]
    assert not (code / "node_modules").exists()  # the host's code directory is untouched


def test_without_a_mount_namespace_the_dependencies_go_first_on_node_path() -> None:
    functions = load_manifest(NODE_FUNCTIONS / "lambda-emu.toml")
    (fn,) = [f for f in functions if f.name == "node_deps_ci"]
    command = RuntimeResolver(CACHE, print).prepare(fn)
    assert command.task_overlay is not None
    modules = command.task_overlay / "node_modules"
    assert (modules / "ms" / "package.json").is_file()
    deps = (modules / "ms").resolve().parent
    assert command.env_unmounted["NODE_PATH"] == f"{deps}:{command.env['NODE_PATH']}"


def test_a_sam_layer_versions_node_modules_resolve() -> None:
    # AWS::Serverless::LayerVersion with a local ContentUri, referenced by !Ref from Layers
    template = NODE_FUNCTIONS / "sam_layer" / "template.yaml"
    (fn,) = load_manifest(template)
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        state_dir=Path(tempfile.mkdtemp(prefix="lambda-emu-node-sam-")),
        log_to_terminal=False,
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        with boto3_client(emulator) as sam_client:
            _, body, _ = call(sam_client, "node_sam_layer", {"text": "hi"})
    finally:
        emulator.stop()
    assert emulator.internal_errors == []
    layer = NODE_FUNCTIONS / "sam_layer" / "deps" / "nodejs" / "node_modules"
    assert body == {"padded": "......hi", "from": str(layer / "padder" / "index.js")}


# --- what Python functions have: freeze, Max Memory Used, hot reload, extensions ---------------
def _proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def test_an_idle_node_environment_is_frozen_and_runs_warm_again(client: Any) -> None:
    _, first, _ = call(client, "node_freeze", {"n": 1})
    pid = first["pid"]
    # stopped while it waits on /next (freeze_after_s ⚠, as for Python functions)
    eventually(lambda: _proc_state(pid) == "T", "the idle node process stopped")
    _, again, log = call(client, "node_freeze", {"n": 2})
    report = parse_report(log)
    assert again["event"] == {"n": 2} and again["pid"] == pid
    assert report is not None and not report.cold


def test_max_memory_used_is_measured_and_grows_when_the_handler_allocates(client: Any) -> None:
    _, _, log = call(client, "node_memory", {"mb": 1})
    small = parse_report(log)
    assert small is not None and small.memory_mb == 512
    assert 0 < small.max_memory_mb <= 512
    _, body, log = call(client, "node_memory", {"mb": 200})
    big = parse_report(log)
    assert body == {"allocated_mb": 200}
    assert big is not None and not big.cold  # the same environment: its peak
    assert small.max_memory_mb + 150 <= big.max_memory_mb <= 512


NODE_APP = "exports.handler = async () => ({{ version: {version}, pid: process.pid }});\n"
NODE_MANIFEST = """[functions.node_reload]
runtime = "nodejs20.x"
handler = "index.handler"
code = "fn"
"""


def _tail_invoke(emu: EmulatorThread, name: str) -> tuple[dict[str, Any], Report | None]:
    resp = httpx.post(
        f"{emu.url}/2015-03-31/functions/{name}/invocations",
        json={},
        headers={"X-Amz-Log-Type": "Tail"},
        timeout=30,
    )
    assert resp.status_code == 200 and "x-amz-function-error" not in resp.headers, resp.text
    log = base64.b64decode(resp.headers.get("x-amz-log-result", "")).decode()
    return resp.json(), parse_report(log)


def test_an_edited_node_handler_is_served_cold_with_the_new_code(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    handler = tmp_path / "fn" / "index.js"
    handler.write_text(NODE_APP.format(version=1))
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(NODE_MANIFEST)
    cfg = EmulatorConfig(
        functions=load_manifest(manifest),
        port=0,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
        manifest_path=manifest,
        hot_reload=True,
    )
    running = EmulatorThread(cfg).start()
    try:
        old, _ = _tail_invoke(running, "node_reload")
        handler.write_text(NODE_APP.format(version=2))
        emulator = running.emulator
        assert emulator is not None and emulator.reloader is not None
        reloader = emulator.reloader
        eventually(lambda: reloader.reloads >= 1, "a reload")
        new, report = _tail_invoke(running, "node_reload")
    finally:
        running.stop()
    assert old["version"] == 1 and new["version"] == 2
    assert report is not None and report.cold and new["pid"] != old["pid"]


def test_an_extension_and_telemetry_beside_a_node_function(tmp_path: Path) -> None:
    # the probe extension of tests/test_extensions.py; its log is not under /tmp, which the
    # environment sees as its own
    log = Path(__file__).resolve().parent.parent / ".lambda-emu" / f"probe-{uuid.uuid4().hex}.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    log.chmod(0o666)  # as root, functions and extensions run as nobody
    fn = FunctionConfig(
        name="node_ext",
        runtime="nodejs20.x",
        handler="index.handler",
        code_dir=NODE_FUNCTIONS / "ext",
        memory_mb=256,
        timeout_s=10,
        environment={"EXT_LOG": str(log), "EXT_TELEMETRY": "1"},
        layers=(FUNCTIONS / "ext_layer",),
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    running = EmulatorThread(cfg).start()

    def entries(kind: str) -> list[dict[str, Any]]:
        lines = log.read_text().splitlines()
        return [e for e in map(json.loads, filter(None, lines)) if e["kind"] == kind]

    try:
        ids = []
        for _ in range(2):
            resp = httpx.post(
                f"{running.url}/2015-03-31/functions/node_ext/invocations", json={}, timeout=30
            )
            assert resp.status_code == 200 and "pid" in resp.json()
            ids.append(resp.headers["x-amzn-requestid"])
        assert running.emulator is not None
        pool = running.emulator.functions["node_ext"]
        eventually(lambda: pool.describe()["idle"] == 1, "the environment idle")
        running.call(lambda e: e.functions["node_ext"].reset())
        wanted = {"platform.start", "platform.runtimeDone", "platform.report", "function"}
        eventually(lambda: wanted <= {e["type"] for e in entries("telemetry")}, str(wanted))
    finally:
        running.stop()
        events = [e["event"] for e in entries("event")]
        telemetry = entries("telemetry")
        log.unlink(missing_ok=True)
    assert [e["eventType"] for e in events] == ["INVOKE", "INVOKE", "SHUTDOWN"]
    assert [e["requestId"] for e in events[:2]] == ids
    reports = [r["record"] for r in telemetry if r["type"] == "platform.report"]
    assert [r["requestId"] for r in reports] == ids
    assert all(r["metrics"]["memorySizeMB"] == 256 for r in reports)
    # the function's console.log line reaches the subscriber as a "function" record
    lines = [r["record"] for r in telemetry if r["type"] == "function"]
    assert any(f"\t{ids[0]}\tINFO\tnode ext handling {ids[0]}" in line for line in lines)


# --- the docker sandbox -------------------------------------------------------------------------
def test_node_functions_in_the_docker_sandbox(tmp_path: Path) -> None:
    from emulator.images import node_image
    from emulator.sandbox.docker.engine import engine_answers

    if not engine_answers():
        pytest.skip("no Docker engine (scripts/setup-docker)")
    import docker

    client = docker.from_env()
    try:
        if not client.images.list(name=node_image(20).split(":")[0]):
            pytest.skip("no local nodejs image (lambda-emu images build)")
    finally:
        client.close()
    functions = tuple(
        FunctionConfig(
            name=name,
            runtime=runtime,
            handler=handler,
            code_dir=NODE_FUNCTIONS / code,
            memory_mb=256,
            sandbox="docker",
        )
        for name, runtime, code, handler in [
            ("dk_cjs", "nodejs20.x", "cjs", "index.handler"),
            ("dk_esm_deps", "nodejs20.x", "esm_deps", "index.handler"),
            ("dk_error", "nodejs22.x", "errors", "index.handler"),
        ]
    )
    cfg = EmulatorConfig(
        functions=functions, port=0, state_dir=tmp_path / "state", log_to_terminal=False
    )
    emulator = EmbeddedEmulator(cfg).start()
    try:
        with boto3_client(emulator) as dk:
            _, cjs, log = call(dk, "dk_cjs", {"hello": "container"})
            _, esm, _ = call(dk, "dk_esm_deps")
            err_resp, err, _ = call(dk, "dk_error", {"error_msg": "in a container"})
    finally:
        emulator.stop()
    assert emulator.internal_errors == []
    # Lambda's paths, as in AWS's own images: /var/runtime, /var/task, /var/lang/bin/node
    assert cjs["event"] == {"hello": "container"}
    assert cjs["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert cjs["env"]["NODE_PATH"] == (
        "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:"
        "/var/runtime:/var/task"
    )
    assert cjs["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
    assert cjs["execArgv"] == [
        "--expose-gc",
        "--max-http-header-size",
        "81920",
        "--max-semi-space-size=12",
        "--max-old-space-size=231",
        "--no-experimental-require-module",
    ]
    assert re.search(r"\tINFO\tcjs got \{\"hello\":\"container\"\}", log)
    # package.json dependencies in /var/task/node_modules, imported by an ES module
    assert esm["ms"] == 7_200_000
    assert esm["from"] == "file:///var/task/node_modules/ms/index.js"
    # the error shape, from the same unmodified client
    assert err_resp["FunctionError"] == "Unhandled"
    assert list(err) == ["errorType", "errorMessage", "trace"]
    assert err["errorMessage"] == "Error: in a container"
