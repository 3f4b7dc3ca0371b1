"""Layers and external extensions in containers: each layer merged into /opt in the
function's order, as Lambda merges them, and the executables in /opt/extensions started beside
the runtime (the analytics extension sample, through boto3, in the docker sandbox)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from serving import trace_record
from waiting import docker_images_ready, docker_leftovers, eventually

from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest
from emulator.pytest_plugin import boto3_client
from emulator.sandbox import docker

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "functions" / "lambda-emu.toml"
FLUSH_MS = 500  # the analytics service's round trip (a sleep in the extension)

pytestmark = pytest.mark.skipif(
    not docker.engine_answers(), reason="no Docker engine answers (scripts/setup-docker)"
)

OPT_APP = """import os
def handler(event, context):
    import layered  # /opt/python, from the layers
    with open("/opt/which.txt") as fh:
        which = fh.read().strip()
    return {"layered": layered.WHO, "which": which, "opt": sorted(os.listdir("/opt")),
            "writable": os.access("/opt/which.txt", os.W_OK)}
"""


def _layer(root: Path, name: str) -> Path:
    layer = root / name
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "layered.py").write_text(f"WHO = {name!r}\n")
    (layer / "which.txt").write_text(name + "\n")
    (layer / name).write_text("only here\n")
    return layer


@pytest.fixture(scope="module", params=["host", "api-only"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorThread]:
    """Both ways the docker sandbox runs: seeing the engine's pids and cgroups, and only
    through its API (the compose emulator: pause, signals at shutdown through the engine)."""
    api_only = request.param == "api-only"
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    (analytics,) = (fn for fn in load_manifest(SAMPLES) if fn.name == "analytics_extension")
    analytics = replace(
        analytics,
        environment=MappingProxyType(
            {**analytics.environment, "ANALYTICS_FLUSH_MS": str(FLUSH_MS)}
        ),
    )
    root = tmp_path_factory.mktemp("layers")
    code = root / "code"
    code.mkdir()
    (code / "app.py").write_text(OPT_APP)
    opt = FunctionConfig(
        name="opt_merge",
        runtime="python3.11",
        handler="app.handler",
        code_dir=code,
        layers=(_layer(root, "first"), _layer(root, "second")),
    )
    cfg = EmulatorConfig(
        functions=(analytics, opt),
        port=0,
        sandbox="docker",
        docker_api_only=api_only,
        docker_cgroups=Path("/sys/fs/cgroup") if api_only else None,
        state_dir=tmp_path_factory.mktemp("emu"),
        log_to_terminal=False,
    )
    with EmulatorThread(cfg) as running:
        yield running
    assert docker_leftovers() == []


def test_layers_merge_into_opt_in_order(served: EmulatorThread) -> None:
    with boto3_client(served) as client:
        resp = client.invoke(FunctionName="opt_merge", Payload=b"{}")
        body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, body
    # a later layer's file overwrites an earlier one's; each layer's own files are all there
    assert body["layered"] == "second" and body["which"] == "second"
    assert {"first", "second", "python", "which.txt"} <= set(body["opt"])
    assert body["writable"] is False  # owned by root, the function runs as nobody


def test_the_extension_sample_runs_in_a_container(served: EmulatorThread) -> None:
    """functions/analytics_extension: the extension writes /tmp/analytics.port, the handler
    posts to it, and the extension sends the batch after the response, inside the bill."""
    assert served.emulator is not None
    pool = served.emulator.functions["analytics_extension"]
    with boto3_client(served) as client:
        for i in range(2):
            resp = client.invoke(
                FunctionName="analytics_extension", Payload=b'{"name": "x"}', LogType="Tail"
            )
            body = json.loads(resp["Payload"].read())
            assert "FunctionError" not in resp, body
            assert body == {"greeting": "hello x"}
            request_id = resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
            eventually(lambda: trace_record(served, request_id) is not None, "the REPORT")  # noqa: B023
            record = trace_record(served, request_id)
            assert record is not None and record["cold"] is (i == 0)
            # the extension's flush (a sleep of FLUSH_MS) happened inside the invoke phase
            assert record["duration_ms"] >= FLUSH_MS and record["billed_ms"] >= FLUSH_MS
            assert record["max_memory_mb"] > 0
            eventually(lambda: pool.describe()["idle"] == 1, "the environment idle")
    (env,) = pool.envs
    assert isinstance(env.sandbox, docker.DockerSandbox)
    names = [e.name for e in env.extensions.extensions.values()]
    assert names == ["analytics"]  # registered through the Extensions API
    container_id = env.sandbox.container_id
    # shut down: SIGTERM to the runtime alone, SHUTDOWN to the extension, then the container goes
    with InvokeClient(served.url) as control:
        control.reset(wait=True)
    gone = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"id={container_id}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert gone.stdout.split() == []
    assert served.emulator.internal_errors == []
