"""The docker sandbox behaves like the process sandbox from the client's side.

The core's boto3 scenarios (round trip, errors, scale-out, 429, timeout, crash) and the
resource model (OOM at the limit, CPU share 128 vs 1,769 MB) run over both sandboxes; then
hot reload in containers, `docker compose config`, and that nothing is left behind.
Skipped, with the reason, where no Docker engine answers (scripts/setup-docker starts one).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import test_faults as faults  # the core's scenarios, called with this module's fixtures
import test_invoke_boto3 as core
from answers import assert_oom_killed
from waiting import docker_images_ready, docker_leftovers, eventually

from emulator.client import InvokeResult
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.images import PYTHON_IMAGE
from emulator.manifests import load_manifest
from emulator.pytest_plugin import boto3_client, invoker
from emulator.sandbox import docker

FUNCTIONS = Path(__file__).parent / "functions"
ROOT = Path(__file__).resolve().parent.parent
ENGINE = docker.engine_answers()
needs_engine = pytest.mark.skipif(
    not ENGINE, reason="no Docker engine answers (scripts/setup-docker starts one)"
)
SANDBOXES = ["process", pytest.param("docker", marks=needs_engine)]
CORE = (
    "echo",
    "ctx",
    "boom",
    "crash",
    "sleepy",
    "sleepy_reserved",
    "timeout",
    "throttled",
    "hog128",
    "hog512",
)

PROBE_APP = """import os, resource, stat
def handler(event, context):
    if event.get("limits"):
        tmp = os.stat("/tmp")
        names = ("CORE", "MEMLOCK", "NOFILE", "NPROC", "STACK")
        return {"tmp": [stat.filemode(tmp.st_mode), tmp.st_uid],
                "ulimits": {n: list(resource.getrlimit(getattr(resource, "RLIMIT_" + n)))
                            for n in names}}
    def writable(d):
        try:
            with open(os.path.join(d, "probe"), "w") as fh:
                fh.write("x")
            return True
        except OSError:
            return False
    return {"uid": os.getuid(), "task_writable": writable("/var/task"),
            "tmp_writable": writable("/tmp")}
"""

CPU_APP = """import time
def handler(event, context):
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < event["seconds"]:
        sum(range(1000))
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
"""


@pytest.fixture(scope="module", params=SANDBOXES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmulatorThread]:
    kind = request.param
    if kind == "docker" and not docker_images_ready():
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    cpu = tmp_path_factory.mktemp("cpu")
    cpu.chmod(0o755)  # readable by the function's user, as Lambda needs its code to be
    (cpu / "app.py").write_text(CPU_APP)
    base = FunctionConfig(name="cpu128", runtime="python3.11", handler="app.handler", code_dir=cpu)
    functions = tuple(fn for fn in load_manifest(FUNCTIONS / "lambda-emu.toml") if fn.name in CORE)
    probe = tmp_path_factory.mktemp("probe")  # mode 0700, as pytest makes it
    (probe / "app.py").write_text(PROBE_APP)
    functions += (
        replace(base, name="probe", code_dir=probe),
        replace(base, memory_mb=128, timeout_s=30),
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        sandbox=kind,
        state_dir=tmp_path_factory.mktemp(f"emu-{kind}"),
        log_to_terminal=False,
        init_timeout_s=5.0,
    )
    running = EmulatorThread(cfg).start()
    try:
        yield running
    finally:
        running.stop()
    if kind == "docker":
        assert docker_leftovers() == []


@pytest.fixture
def client(served: EmulatorThread) -> Iterator[Any]:
    with boto3_client(served) as c:
        yield c


@pytest.fixture
def invoke(served: EmulatorThread) -> Iterator[Callable[..., InvokeResult]]:
    with invoker(served) as call:
        yield call


def _reset(emu: EmulatorThread) -> EmulatorThread:
    async def reset(e: Any) -> None:
        for pool in e.functions.values():
            await pool.reset()

    emu.call(reset)
    return emu


def _kind(emu: EmulatorThread) -> str:
    return emu.cfg.sandbox


# --- the core's boto3 scenarios ---------------------------------------------------------------
def test_round_trip(client: Any) -> None:
    core.test_payload_round_trip(client)


def test_log_tail_and_report(client: Any, served: EmulatorThread) -> None:
    core.test_log_tail_has_init_duration_on_first_call_only(client, _reset(served))


def test_errors(client: Any) -> None:
    core.test_function_error(client)
    core.test_unknown_function_is_404(client)
    core.test_unknown_qualifier_is_404(client)
    core.test_payload_not_json_is_400(client)
    core.test_oversized_requests_are_413(client)
    core.test_event_and_dry_run_status_codes(client)


def test_context_and_environment(client: Any, served: EmulatorThread) -> None:
    core.test_context_and_environment(client)
    body = json.loads(client.invoke(FunctionName="ctx", Payload=b"{}")["Payload"].read())
    if _kind(served) == "docker":
        assert body["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
        assert body["env"]["LAMBDA_RUNTIME_DIR"] == "/var/runtime"


def test_code_is_read_only_and_tmp_writable(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    if _kind(served) != "docker":
        pytest.skip("docker sandbox only (the process sandbox has its own test)")
    body = invoke("probe", {}).json()
    assert body["uid"] != 0
    assert body["task_writable"] is False and body["tmp_writable"] is True


def test_lambdas_ulimits_and_tmp(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    # LocalStack's AWS-recorded snapshot test_lambda :: TestLambdaBehavior::test_runtime_ulimits
    # and ::test_runtime_introspection_x86 (python3.12, rec 24-11-2025): Lambda's ulimits
    # (NPROC where the function has a user of its own), /tmp drwxrwxrwt owned by root
    if _kind(served) != "docker":
        pytest.skip("docker sandbox only (tests/conformance/test_environment.py: the process's)")
    body = invoke("probe", {"limits": True}).json()
    assert body["tmp"] == ["drwxrwxrwt", 0]
    assert body["ulimits"] == {
        "CORE": [10737418240, 10737418240], "MEMLOCK": [65536, 65536],
        "NOFILE": [1024, 1024], "NPROC": [742, 742], "STACK": [8388608, -1],
    }  # fmt: skip


def test_reserved_concurrency_zero_is_429(client: Any) -> None:
    core.test_reserved_concurrency_zero_is_429(client)


def test_scale_out_one_environment_per_concurrent_request(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    _reset(served)
    n = 4
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _i: invoke("sleepy", {"sleep": 1.5}), range(n)))
    assert all(r.status == 200 and r.function_error is None for r in results)
    reports = [r.report for r in results]
    assert all(rep is not None and rep.cold for rep in reports)
    assert served.emulator is not None
    served.emulator.trace.flush()
    path = served.emulator.trace.path
    assert path is not None
    ids = {rep.request_id for rep in reports if rep}
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records = [r for r in records if r["request_id"] in ids]
    # one environment each: concurrent requests are never queued behind one another (whether
    # they also overlapped in time depends on how fast a loaded host starts containers)
    assert len({r["environment_id"] for r in records}) == n
    with ThreadPoolExecutor(n) as pool:
        again = list(pool.map(lambda _i: invoke("sleepy", {"sleep": 0.3}), range(n)))
    assert all(r.report is not None and not r.report.cold for r in again)


def test_reserved_concurrency_throttles_the_rest(invoke: Callable[..., InvokeResult]) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _i: invoke("sleepy_reserved", {"sleep": 2}), range(4)))
    assert sorted(r.status for r in results) == [200, 200, 429, 429]
    throttled = [r for r in results if r.status == 429]
    assert all(
        r.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded" for r in throttled
    )


def test_timeout(invoke: Callable[..., InvokeResult]) -> None:
    faults.test_timeout(invoke)


def test_crash(invoke: Callable[..., InvokeResult]) -> None:
    faults.test_crash_exit_status(invoke)
    faults.test_crash_by_signal(invoke)
    assert invoke("echo", {"after": "crash"}).json() == {"after": "crash"}


# --- the resource model -----------------------------------------------------------------------
def test_oom_at_the_limit(invoke: Callable[..., InvokeResult], served: EmulatorThread) -> None:
    assert served.emulator is not None
    if _kind(served) == "process" and served.emulator.cgroups is None:
        pytest.skip("no writable memory cgroup on this machine")
    report = assert_oom_killed(invoke("hog128", {"mb": 300}))
    assert 120 <= report.max_memory_mb <= 128
    again = invoke("hog128", {"mb": 10})
    assert again.function_error is None and again.report is not None and again.report.cold
    under = invoke("hog512", {"mb": 300})
    assert under.function_error is None and under.json() == {"allocated_mb": 300}


def test_the_cpu_quota_holds_at_128_mb(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    """128 MB gets at most 128/1769 of a vCPU, however idle the host: other work only lowers
    the share. How close each size comes to MB/1769 is measured by bench/cpu_scaling.py."""
    assert served.emulator is not None
    if _kind(served) == "process" and served.emulator.cgroups is None:
        pytest.skip("no writable cpu cgroup on this machine")
    assert invoke("cpu128", {"seconds": 0.01}).status == 200  # init: unthrottled
    small = invoke("cpu128", {"seconds": 2.0}).json()
    assert small["cpu"] / small["wall"] <= 128 / 1769 * 1.15


# --- docker only ------------------------------------------------------------------------------
@needs_engine
def test_containers_are_labelled_and_limited(
    invoke: Callable[..., InvokeResult], served: EmulatorThread
) -> None:
    if _kind(served) != "docker":
        pytest.skip("docker sandbox only")
    assert invoke("echo", {}).status == 200
    assert served.emulator is not None
    env = next(e for e in served.emulator.functions["echo"].envs if e.sandbox is not None)
    assert isinstance(env.sandbox, docker.DockerSandbox)
    attrs = env.sandbox.container.attrs
    host = attrs["HostConfig"]
    assert host["Memory"] == host["MemorySwap"] == 256 * 1024 * 1024
    assert host["NetworkMode"] == "host" and host["PidsLimit"] == 1024
    assert "/tmp" in host["Tmpfs"]
    labels = attrs["Config"]["Labels"]
    assert labels[docker.LABEL_FUNCTION] == "echo"
    assert labels[docker.LABEL_ENVIRONMENT] == env.id
    assert attrs["Config"]["User"] == "65534:65534"  # never root, as on Lambda
    assert not any(m["Destination"] == "/var/task" for m in attrs["Mounts"])  # copied in


@needs_engine
def test_stale_containers_of_a_dead_emulator_are_removed(tmp_path: Path) -> None:
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing")
    import docker as sdk

    client = sdk.from_env()
    try:
        stale = client.containers.create(
            PYTHON_IMAGE,
            labels={
                docker.LABEL: "1",
                docker.LABEL_OWNER: docker.owner_token().rsplit("/", 1)[0] + "/0",
            },
        )
        removed = docker.DockerSandboxFactory(client=client).remove_stale()
        assert stale.name in removed
        assert not client.containers.list(all=True, filters={"id": stale.id})
    finally:
        client.close()


@needs_engine
def test_hot_reload_retires_containers(tmp_path: Path) -> None:
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing")
    (tmp_path / "fn").mkdir()
    app = tmp_path / "fn" / "app.py"
    app.write_text("def handler(event, context):\n    return {'version': 1}\n")
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        '[functions.reloaded]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "fn"\n'
        'sandbox = "docker"\n'
    )
    cfg = EmulatorConfig(
        functions=load_manifest(manifest),
        port=0,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
        manifest_path=manifest,
        hot_reload=True,
    )
    emu = EmulatorThread(cfg).start()
    try:
        with httpx.Client(base_url=emu.url, timeout=60) as http:
            url = "/2015-03-31/functions/reloaded/invocations"
            assert http.post(url, content=b"{}").json() == {"version": 1}
            first = docker_leftovers("reloaded")
            assert len(first) >= 1
            app.write_text("def handler(event, context):\n    return {'version': 2}\n")
            deadline = time.monotonic() + 30
            body: Any = None
            while time.monotonic() < deadline:
                body = http.post(url, content=b"{}").json()
                if body == {"version": 2}:
                    break
                time.sleep(0.2)
            assert body == {"version": 2}
            while set(first) & set(docker_leftovers("reloaded")) and time.monotonic() < deadline:
                time.sleep(0.1)  # the old generation's container is drained and removed
            assert not set(first) & set(docker_leftovers("reloaded"))
    finally:
        emu.stop()
    assert docker_leftovers("reloaded") == []


def test_compose_file_validates() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("no docker compose plugin (scripts/setup-docker installs it)")
    out = subprocess.run(
        ["docker", "compose", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    services = subprocess.run(
        ["docker", "compose", "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"emulator", "locust-master", "locust-worker"} <= set(services)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@needs_engine
@pytest.mark.slow
def test_compose_up_serves_an_extension_and_locust(tmp_path: Path) -> None:
    """`docker compose up`: the repo's image and compose file, the emulator reaching the
    engine through its API. The emulator and Locust's UI answer; a function with an extension
    (the analytics sample) is invoked and its REPORT read; its idle container is Paused; then
    `compose down` leaves no container behind."""
    if (
        subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip("no docker compose plugin (scripts/setup-docker installs it)")
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    import shutil

    from emulator.images.build import build_wheels

    build_wheels(ROOT, ROOT / "docker" / "wheels", say=lambda _m: None)  # the Dockerfile's
    port, locust_port = _free_port(), _free_port()

    # the compose file's emulator, serving a functions folder of two functions
    shutil.copytree(ROOT / "functions" / "hello_python", tmp_path / "hello_python")
    shutil.copytree(ROOT / "functions" / "analytics_extension", tmp_path / "analytics")
    shutil.copytree(ROOT / "functions" / "extensions", tmp_path / "extensions")
    name = f"compose_hello_{os.getpid()}"  # its containers are told apart by this label
    ext = f"compose_ext_{os.getpid()}"
    (tmp_path / "lambda-emu.toml").write_text(
        f'[functions.{name}]\nruntime = "python3.11"\nhandler = "app.handler"\n'
        'code = "hello_python"\n'
        f'[functions.{ext}]\nruntime = "python3.11"\nhandler = "app.handler"\n'
        'code = "analytics"\nmemory = 256\nlayers = ["extensions/analytics"]\n'
    )
    env = {
        **os.environ,
        "PWD": str(ROOT),
        "LAMBDA_EMU_PORT": str(port),
        "LAMBDA_EMU_LOCUST_PORT": str(locust_port),
        "LAMBDA_EMU_FUNCTIONS": str(tmp_path),
        "LAMBDA_FUNCTION": name,
    }
    project = ["docker", "compose", "-p", f"lambda-emu-test-{os.getpid()}"]

    def compose(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*project, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    build = compose("build", "emulator")
    assert build.returncode == 0, build.stderr[-3000:]
    try:
        up = compose("up", "-d", "--wait", "emulator", "locust-master", "locust-worker")
        assert up.returncode == 0, up.stderr[-3000:]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            resp = http.post(
                f"/2015-03-31/functions/{name}/invocations",
                content=b'{"name": "compose"}',
                headers={"X-Amz-Log-Type": "Tail"},
            )
            assert resp.status_code == 200, resp.text
            assert "x-amz-function-error" not in resp.headers
            log = base64.b64decode(resp.headers["x-amz-log-result"]).decode()
            assert "REPORT RequestId" in log and "Max Memory Used: 0 MB" not in log
            resp = http.post(f"/2015-03-31/functions/{ext}/invocations", content=b'{"name": "x"}')
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"greeting": "hello x"}
            request_id = resp.headers["x-amzn-requestid"]
            # the response leaves before the extension is done: its REPORT follows in the log
            eventually(
                lambda: f"REPORT RequestId: {request_id}" in compose("logs", "emulator").stdout,
                "the extension function's REPORT",
                within_s=60,
            )
            # the idle environments are paused through the engine's API: docker ps shows it
            # (the extension function's: Locust may be loading the other one)
            eventually(lambda: bool(_containers_of(ext, "paused")), "the idle container Paused", 60)
        eventually(lambda: _answers(f"http://127.0.0.1:{locust_port}/"), "Locust's UI", 60)
    finally:
        logs = compose("logs").stdout
        down = compose("down", "--timeout", "10", "--remove-orphans")
        assert down.returncode == 0, logs[-3000:]
    # the emulator removed its function containers when it stopped; compose its own
    assert _containers_of(name) == [] and _containers_of(ext) == [], logs[-3000:]
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={project[-1]}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.split() == []


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def _containers_of(function: str, status: str | None = None) -> list[str]:
    query = ["--filter", f"label={docker.LABEL_FUNCTION}={function}"]
    query += ["--filter", f"status={status}"] if status else []
    out = subprocess.run(
        ["docker", "ps", "-aq", *query],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@needs_engine
def test_nothing_left_after_stop(tmp_path: Path) -> None:
    """Container, its processes and its cgroup are gone once the emulator stops."""
    if not docker_images_ready():
        pytest.skip("the local runtime images are missing")
    fn = next(f for f in load_manifest(FUNCTIONS / "lambda-emu.toml") if f.name == "echo")
    cfg = EmulatorConfig(
        functions=(replace(fn, name="left_echo"),),
        port=0,
        sandbox="docker",
        state_dir=tmp_path / "state",
        log_to_terminal=False,
    )
    emu = EmulatorThread(cfg).start()
    try:
        with httpx.Client(base_url=emu.url, timeout=60) as http:
            assert http.post(
                "/2015-03-31/functions/left_echo/invocations", content=b"{}"
            ).is_success
        assert emu.emulator is not None
        sandboxes = [e.sandbox for e in emu.emulator.functions["left_echo"].envs]
        started = [s for s in sandboxes if isinstance(s, docker.DockerSandbox) and s.pid]
        assert started, "the invocation ran in a container whose processes the host sees"
        ids = [s.container_id for s in started]
        pids = [s.pid for s in started]
        cgroup_dirs = [d for s in started if s._cgroup for d in s._cgroup.dirs.values()]
    finally:
        emu.stop()
    assert docker_leftovers("left_echo") == []
    assert not [p for p in pids if p and Path(f"/proc/{p}").exists()]
    assert cgroup_dirs and not [d for d in cgroup_dirs if d.exists()]
    assert ids and not [i for i in ids if i and _containers_of("left_echo")]
    assert not (tmp_path / "state" / "tmp").exists() or not any(
        (tmp_path / "state" / "tmp").iterdir()
    )
