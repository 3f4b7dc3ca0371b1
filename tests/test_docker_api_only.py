"""The docker sandbox as the compose emulator runs it (`--docker-api-only`): every change to a
container through the engine's API, as on Docker Desktop, counters from the engine host's
cgroup tree mounted read-only (`--docker-cgroups`), else the stats API.

Run here on the engine's own host with the host's pids ignored, so each behaviour is checked
without building the compose image (tests/test_docker.py runs `docker compose up` itself).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from answers import assert_oom_killed
from waiting import docker_images_ready, docker_leftovers, eventually

from emulator.client import InvokeResult
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest
from emulator.pytest_plugin import invoker
from emulator.sandbox import docker

FUNCTIONS = Path(__file__).parent / "functions"
CGROUPS = Path("/sys/fs/cgroup")  # the engine's host is this machine: its tree, read only

pytestmark = pytest.mark.skipif(
    not docker.engine_answers(), reason="no Docker engine answers (scripts/setup-docker)"
)

CPU_APP = """import time
def handler(event, context):
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < event["seconds"]:
        sum(range(1000))
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorThread]:
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    cpu = tmp_path_factory.mktemp("cpu")
    (cpu / "app.py").write_text(CPU_APP)
    functions = tuple(
        fn for fn in load_manifest(FUNCTIONS / "lambda-emu.toml") if fn.name in ("echo", "hog128")
    )
    functions += (
        FunctionConfig(
            name="cpu128",
            runtime="python3.11",
            handler="app.handler",
            code_dir=cpu,
            memory_mb=128,
            timeout_s=30,
        ),
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        sandbox="docker",
        docker_api_only=True,
        docker_cgroups=CGROUPS,
        state_dir=tmp_path_factory.mktemp("emu"),
        log_to_terminal=False,
    )
    with EmulatorThread(cfg) as running:
        yield running
    assert docker_leftovers() == []


@pytest.fixture
def invoke(served: EmulatorThread) -> Iterator[Callable[..., InvokeResult]]:
    with invoker(served) as call:
        yield call


def _sandbox(served: EmulatorThread, name: str) -> docker.DockerSandbox:
    assert served.emulator is not None
    env = next(e for e in served.emulator.functions[name].envs if e.sandbox is not None)
    assert isinstance(env.sandbox, docker.DockerSandbox)
    return env.sandbox


def _status(container_id: str) -> str:
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.Status}}", container_id],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def test_max_memory_used_is_right_on_a_cold_start(invoke: Callable[..., InvokeResult]) -> None:
    result = invoke("echo", {"x": 1})
    assert result.status == 200 and result.report is not None and result.report.cold
    # the container's own peak (its cgroup), not 0 as the stats API gave before it answered
    assert 5 <= result.report.max_memory_mb <= 256


def test_the_host_pids_are_not_used(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    assert invoke("echo", {}).status == 200
    sandbox = _sandbox(served, "echo")
    assert sandbox.pid is None and sandbox._api  # only the API (and read-only counters)


def test_idle_containers_are_paused_and_docker_ps_says_so(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    assert invoke("echo", {}).status == 200
    sandbox = _sandbox(served, "echo")
    assert sandbox.container_id is not None
    eventually(lambda: _status(sandbox.container_id or "") == "paused", "the container paused")
    paused = subprocess.run(
        ["docker", "ps", "--filter", "status=paused", "--format", "{{.ID}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert sandbox.container_id[:12] in paused
    again = invoke("echo", {"warm": True})  # unpaused before the runtime gets it
    assert again.status == 200 and again.report is not None and not again.report.cold
    assert again.json() == {"warm": True}


def test_the_memory_limit_holds(invoke: Callable[..., InvokeResult]) -> None:
    report = assert_oom_killed(invoke("hog128", {"mb": 300}))
    assert 120 <= report.max_memory_mb <= 128


def test_the_cpu_quota_holds_at_128_mb(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    """Set through the API (`POST /containers/{id}/update`) once init ends."""
    assert invoke("cpu128", {"seconds": 0.01}).status == 200
    sandbox = _sandbox(served, "cpu128")
    eventually(
        lambda: (
            sandbox.container.client.api.inspect_container(sandbox.container_id)["HostConfig"][
                "CpuQuota"
            ]
            > 0
        ),
        "the CPU quota set",
    )
    small = invoke("cpu128", {"seconds": 2.0}).json()
    assert small["cpu"] / small["wall"] <= 128 / 1769 * 1.15


def test_the_runtime_api_admits_only_its_own_container(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    """Where the emulator shares the engine host's pids (the compose emulator: `pid: host`),
    a process outside the container (this test) gets 403 from the environment's Runtime API,
    while the container's runtime goes on being served."""
    assert invoke("echo", {}).status == 200
    assert served.emulator is not None
    env = next(e for e in served.emulator.functions["echo"].envs if e.sandbox is not None)
    url = f"http://{env.runtime.address}/2018-06-01/runtime/invocation/nope/response"
    foreign = httpx.post(url, content=b"{}", timeout=10)
    assert foreign.status_code == 403 and "AccessDenied" in foreign.text
    assert invoke("echo", {"after": 1}).json() == {"after": 1}
