"""The portable sandbox: what a Mac or Windows Python gets, tested here on Linux by forcing it
(`--sandbox portable`: every Linux-only capability off, emulator/sandbox/capabilities.py).

Real runtimes throughout: awslambdaric under the portable path talks to the Runtime API
through lambda-emu's pure-Python `runtime_client`, as it must where its C one is not built.
Native Windows' own paths (no process groups, no pipe on the event loop) run here through the
capability record the sandbox is given. Hosts this machine is not: tests/test_portable_hosts.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import pytest
from waiting import eventually

from emulator import wire
from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpApi, HttpConfig, HttpRoute
from emulator.sandbox import capabilities
from emulator.sandbox.base import SandboxSpec
from emulator.sandbox.portable import PortableSandbox
from emulator.sandbox.runtimes.ric import DIRECTORY as RIC_DIRECTORY

FUNCTIONS = Path(__file__).parent / "functions"
REPO = Path(__file__).resolve().parent.parent


def _function(**overrides: object) -> FunctionConfig:
    options: dict[str, object] = {
        "name": "portable",
        "runtime": "python3.11",
        "handler": "app.handler",
        "code_dir": FUNCTIONS / "portable",
        "memory_mb": 128,
        "timeout_s": 2,
    }
    options.update(overrides)
    return FunctionConfig(**options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def spawned() -> list[int]:
    """PIDs of every process the functions reported starting: none may outlive the module."""
    return []


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, spawned: list[int]
) -> Iterator[EmbeddedEmulator]:
    cfg = EmulatorConfig(
        functions=(_function(),),
        port=0,
        api_port=0,
        sandbox="portable",
        state_dir=tmp_path_factory.mktemp("portable"),
        log_to_terminal=False,
        event_retry_delay_scale=0.01,
        http=HttpConfig(
            apis=(HttpApi(name="Http", kind="http"),),
            routes=(HttpRoute(api="Http", method="GET", path="/hello", function="portable"),),
            urls=(FunctionUrl("portable"),),
        ),
    )
    running = EmbeddedEmulator(cfg).start()
    try:
        yield running
    finally:
        emulator = running.emulator
        assert emulator is not None
        pools = list(emulator.functions.values())
        sandboxes = [env.sandbox for pool in pools for env in pool.envs if env.sandbox]
        runtime_pids = [s.pid for s in sandboxes if s.pid is not None]
        running.stop()
        assert all(sandbox.exited.done() for sandbox in sandboxes)
        assert not any(pool.envs for pool in pools)
        # nothing leaks: no runtime and no process a function started is still alive
        assert not [pid for pid in runtime_pids + spawned if _alive(pid)]
        tmp = cfg.state_dir / "tmp"  # each environment's TMPDIR goes with it
        assert not (tmp.exists() and any(tmp.iterdir()))
        assert running.internal_errors == []


@pytest.fixture
def client(served: EmbeddedEmulator) -> Iterator[InvokeClient]:
    with InvokeClient(served.url) as c:
        c.reset(wait=True)
        yield c


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


# --- served, as on a Mac -------------------------------------------------------------------------
def test_the_limits_line_and_health_say_nothing_is_enforced(served: EmbeddedEmulator) -> None:
    assert served.emulator is not None
    assert "NO LIMITS ENFORCED" in served.emulator.limits
    health = httpx.get(f"{served.url}{wire.CONTROL_HEALTH}", timeout=10).json()
    assert health["portable"] is True
    assert health["cgroups"] is None
    assert "NO LIMITS ENFORCED" in health["limits"]


def test_cold_then_warm_with_a_report(served: EmbeddedEmulator, client: InvokeClient) -> None:
    first = client.invoke("portable", {})
    second = client.invoke("portable", {})
    assert first.status == second.status == 200
    assert first.json()["pid"] == second.json()["pid"]
    assert first.report is not None and first.report.cold and first.report.init_ms
    assert second.report is not None and not second.report.cold
    # ⚠ sampled RSS of the tree (psutil), approximate, but never nothing
    assert second.report.max_memory_mb > 0
    assert second.report.billed_ms >= 1


def test_the_front_door_reaches_the_portable_sandbox(served: EmbeddedEmulator) -> None:
    assert served.api_url is not None
    route = httpx.get(f"{served.api_url}/hello", timeout=60)
    url = httpx.get(f"{served.url}/lambda-url/portable/", timeout=60)
    assert route.status_code == url.status_code == 200
    assert route.json()["pid"] > 0 and url.json()["pid"] > 0


def test_awslambdaric_runs_on_the_pure_python_client(client: InvokeClient) -> None:
    path = Path(client.invoke("portable", {"client": True}).json()["runtime_client"])
    assert path.parent == RIC_DIRECTORY


def test_concurrent_requests_scale_out(served: EmbeddedEmulator, client: InvokeClient) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _i: client.invoke("portable", {"sleep": 0.5}), range(3)))
    assert all(r.status == 200 and r.report is not None and r.report.cold for r in results)
    assert len({r.json()["pid"] for r in results}) == 3
    assert served.emulator is not None
    assert len(served.emulator.functions["portable"].envs) == 3


@pytest.mark.parametrize("detach", [False, True], ids=["in-group", "own-session"])
def test_a_timeout_kills_the_whole_tree(
    client: InvokeClient, tmp_path: Path, spawned: list[int], detach: bool
) -> None:
    marker = tmp_path / "child.pid"
    result = client.invoke("portable", {"spawn": str(marker), "detach": detach, "sleep": 30})
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert result.report is not None and result.report.status == "timeout"
    child = int(marker.read_text())
    spawned.append(child)
    eventually(lambda: not _alive(child), f"the function's child {child} ended")
    after = client.invoke("portable", {})
    assert after.report is not None and after.report.cold


def test_a_crash_resets_the_environment(client: InvokeClient) -> None:
    client.invoke("portable", {})
    result = client.invoke("portable", {"exit": 3})
    assert result.json()["errorType"] == "Runtime.ExitError"
    assert result.json()["errorMessage"].endswith("Runtime exited with error: exit status 3")
    after = client.invoke("portable", {})
    assert after.report is not None and after.report.cold


def test_memory_is_not_limited_but_measured(client: InvokeClient) -> None:
    # 128 MB configured; 192 MB allocated: Lambda would end the runtime (Runtime.OutOfMemory),
    # the portable sandbox enforces nothing: the function runs on, and its REPORT shows the
    # configured size, the most Lambda ever reports
    result = client.invoke("portable", {"allocate_mb": 192})
    assert result.status == 200 and result.function_error is None
    assert result.report is not None and result.report.max_memory_mb == 128


def test_event_invocations_are_delivered(client: InvokeClient, tmp_path: Path) -> None:
    marker = tmp_path / "event"
    accepted = client.invoke(
        "portable", {"touch": str(marker)}, invocation_type=wire.INVOCATION_EVENT
    )
    assert accepted.status == 202
    eventually(marker.exists, "the Event invocation ran")
    assert marker.read_text()


# --- native Windows: no process groups, no pipe on the event loop --------------------------------
def test_the_windows_path_reads_output_in_a_thread_and_kills_the_tree_with_psutil(
    tmp_path: Path, spawned: list[int]
) -> None:
    import asyncio

    marker = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "print('hello from the runtime', flush=True)\n"
        "time.sleep(120)\n"
    )
    spec = SandboxSpec(
        environment_id="win",
        function_name="portable",
        argv=(sys.executable, "-c", script),
        env=dict(os.environ),
        cwd=tmp_path,
        memory_mb=128,
        tmp_dir=tmp_path / "tmp",
    )
    output: list[bytes] = []

    async def run() -> tuple[int, list[int]]:
        sandbox = PortableSandbox(spec, output.append, caps=capabilities.WINDOWS_LIKE)
        await sandbox.start()
        for _ in range(500):
            sandbox.drain_output()
            if marker.exists() and marker.read_text() and b"hello" in b"".join(output):
                break
            await asyncio.sleep(0.02)
        child = int(marker.read_text())
        spawned.append(child)
        tree = [p.pid for p in sandbox._members(refresh=True)]
        assert sandbox.peak_memory_bytes() > 0
        await sandbox.stop()
        assert sandbox.exited.done()
        return child, tree

    child, tree = asyncio.run(run())
    assert b"hello from the runtime" in b"".join(output)
    assert child in tree
    eventually(lambda: not _alive(child), "the child killed through psutil")
    assert not (tmp_path / "tmp").exists()


@pytest.mark.slow
def test_locust_loads_the_portable_sandbox(tmp_path: Path) -> None:
    out = tmp_path / "run"
    exe = Path(sys.executable).parent / "lambda-emu"
    cmd = [str(exe), "load", "echo", "--manifest", str(FUNCTIONS / "lambda-emu.toml")]
    cmd += ["--out", str(out), "--users", "2", "--spawn-rate", "2", "--run-time", "4s"]
    cmd += ["--sandbox", "portable"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["invocations"] > 0 and summary["warm"] > 0
    assert summary["errors"] == summary["function_errors"] == summary["throttles"] == 0
    assert summary["cold_starts"] == summary["emulator"]["environments_created"]
    assert summary["max_memory_used_mb"]["max"] > 0


def test_an_external_extension_runs_beside_the_runtime(tmp_path: Path) -> None:
    log = tmp_path / "ext.jsonl"
    log.touch()
    fn = FunctionConfig(
        name="ext",
        runtime="python3.11",
        handler="app.handler",
        code_dir=FUNCTIONS / "ext_fn",
        memory_mb=256,
        timeout_s=10,
        environment={"EXT_LOG": str(log)},
        layers=(FUNCTIONS / "ext_layer",),
    )
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        sandbox="portable",
        state_dir=tmp_path / "state",
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as running, InvokeClient(running.url) as client:
        result = client.invoke("ext", {})
        assert result.status == 200 and result.function_error is None

        def entries() -> list[dict[str, object]]:
            lines = log.read_text().splitlines()
            return [json.loads(line) for line in lines if line.strip()]

        # the extension gets the INVOKE event beside the runtime, and may log it after the answer
        eventually(lambda: any(e["kind"] == "event" for e in entries()), "the extension's event")
        (registered,) = [e for e in entries() if e["kind"] == "registered"]
        assert isinstance(registered["answer"], dict)
        assert registered["answer"]["functionName"] == "ext"
        client.reset(wait=True)
        pid = registered["pid"]
        assert isinstance(pid, int)
        eventually(lambda: not _alive(pid), "the extension ended with its environment")


@pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None, reason="no node and npm"
)
def test_node_runs_on_the_portable_path_where_its_client_is_built(tmp_path: Path) -> None:
    # On Linux aws-lambda-ric's native client is built, so Node.js runs here; on macOS and
    # Windows it is not (docs/docker.md), which no test on this machine can show.
    fn = FunctionConfig(
        name="node",
        runtime="nodejs20.x",
        handler="index.handler",
        code_dir=FUNCTIONS / "nodejs" / "cjs",
        memory_mb=256,
        timeout_s=5,
    )
    # a package.json dependency: no task overlay can be mounted here, so its stand-in (the
    # dependencies first on NODE_PATH) is used: `require` finds them (an ES module's `import`
    # would not, as in the process sandbox without a mount namespace)
    deps = replace(fn, name="node_deps", code_dir=FUNCTIONS / "nodejs" / "deps_ci")
    cfg = EmulatorConfig(
        functions=(fn, deps),
        port=0,
        sandbox="portable",
        state_dir=tmp_path / "state",
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as running, InvokeClient(running.url) as client:
        cold = client.invoke("node", {"n": 1})
        warm = client.invoke("node", {"n": 2})
        with_deps = client.invoke("node_deps", {})
    assert with_deps.status == 200 and with_deps.function_error is None, with_deps.payload
    assert with_deps.json()["ms"] == 7_200_000
    assert cold.status == warm.status == 200
    assert cold.function_error is None
    assert cold.report is not None and cold.report.cold and cold.report.max_memory_mb > 0
    assert warm.report is not None and not warm.report.cold


def test_any_local_process_reaches_the_runtime_api(
    served: EmbeddedEmulator, client: InvokeClient, tmp_path: Path
) -> None:
    # The process sandbox answers a foreign process 403 AccessDenied (emulator/sandbox/peers.py);
    # with no sock_diag or /proc there is no telling who connects, so this test process, which
    # is no environment's, is answered like the runtime (here: no such invocation).
    client.invoke("portable", {})
    assert served.emulator is not None
    (env,) = served.emulator.functions["portable"].envs
    url = f"http://{env.runtime.address}/2018-06-01/runtime/invocation/nope/response"
    foreign = httpx.post(url, content=b"{}", timeout=10)
    assert foreign.status_code != 403 and "AccessDenied" not in foreign.text

    fn = _function()
    cfg = EmulatorConfig(
        functions=(fn,), port=0, sandbox="process", state_dir=tmp_path, log_to_terminal=False
    )
    with EmbeddedEmulator(cfg) as linux, InvokeClient(linux.url) as linux_client:
        linux_client.invoke("portable", {})
        assert linux.emulator is not None
        (env,) = linux.emulator.functions["portable"].envs
        url = f"http://{env.runtime.address}/2018-06-01/runtime/invocation/nope/response"
        assert httpx.post(url, content=b"{}", timeout=10).status_code == 403
