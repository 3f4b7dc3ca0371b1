"""The portable sandbox: what a Mac or Windows Python gets, tested here on Linux by forcing it
(`--sandbox portable`: every Linux-only capability off, emulator/sandbox/capabilities.py).

Real runtimes throughout: awslambdaric under the portable path talks to the Runtime API
through lambda-emu's pure-Python `runtime_client`, as it must where its C one is not built.
The absence of `os.pidfd_open` and `AF_NETLINK` is simulated in a child Python before the
emulator is imported; native Windows (no process groups, no pipe on the event loop) is
simulated by the capability record the sandbox is given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import psutil
import pytest

from emulator import wire
from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpApi, HttpConfig, HttpRoute
from emulator.sandbox import capabilities
from emulator.sandbox.base import SandboxSpec
from emulator.sandbox.portable import PortableSandbox, PortableSandboxFactory, with_python_client
from emulator.sandbox.runtimes import RuntimeCommand
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


def _wait_for(predicate: object, what: str, tries: int = 500) -> None:
    assert callable(predicate)
    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"never: {what}")


# --- the capability record -----------------------------------------------------------------------
def test_portable_turns_every_linux_only_capability_off() -> None:
    caps = capabilities.host().portable()
    linux_only = ("pidfd", "sock_diag", "procfs", "cgroups", "prlimit", "mount_namespaces")
    assert not any(getattr(caps, name) for name in linux_only)
    assert not caps.native_ric and not caps.linux_sandbox
    assert not capabilities.PORTABLE.linux_sandbox
    assert not capabilities.WINDOWS_LIKE.process_groups
    assert not capabilities.WINDOWS_LIKE.pipe_reader


def test_this_linux_host_has_the_linux_sandbox() -> None:
    caps = capabilities.probe()
    assert caps.platform.startswith("linux")
    assert caps.linux_sandbox and caps.procfs and caps.sock_diag and caps.process_groups


def test_the_python_client_goes_before_the_runtime_only_when_forced() -> None:
    command = RuntimeCommand(
        argv=("python3", "-B", "-m", "awslambdaric", "app.handler"),
        env={"PYTHONPATH": os.pathsep.join(["/code", "/runtime"])},
        runtime_dir="/runtime",
    )
    forced = with_python_client(command, native=False).env["PYTHONPATH"].split(os.pathsep)
    assert forced == ["/code", str(RIC_DIRECTORY), "/runtime"]
    fallback = with_python_client(command, native=True).env["PYTHONPATH"].split(os.pathsep)
    assert fallback == ["/code", "/runtime", str(RIC_DIRECTORY)]
    provided = RuntimeCommand(argv=("./bootstrap",))
    assert with_python_client(provided, native=False) is provided


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
    _wait_for(lambda: not _alive(child), f"the function's child {child} ended")
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
    _wait_for(marker.exists, "the Event invocation ran")
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
    _wait_for(lambda: not _alive(child), "the child killed through psutil")
    assert not (tmp_path / "tmp").exists()


def test_the_factory_says_it_enforces_nothing() -> None:
    made = PortableSandboxFactory(caps=capabilities.PORTABLE, forced=True)
    assert made.describe().startswith("⚠ PORTABLE SANDBOX (forced by --sandbox portable)")
    assert not made.stages("any")


# --- a Python without the Linux interfaces -------------------------------------------------------
_WITHOUT = """
import os, resource, socket, sys
import httpcore  # trio, under httpcore, copies socket's names at import: let it, first
for name in sys.argv[2].split(","):
    owner = next(m for m in (os, socket, resource) if hasattr(m, name))
    delattr(owner, name)
from pathlib import Path
from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpApi, HttpConfig, HttpRoute
from emulator.sandbox import capabilities
fn = FunctionConfig(name="portable", runtime="python3.11", handler="app.handler",
                    code_dir=Path(sys.argv[1]), memory_mb=128, timeout_s=5)
cfg = EmulatorConfig(functions=(fn,), port=0, state_dir=Path(sys.argv[3]), log_to_terminal=False)
with EmbeddedEmulator(cfg) as running, InvokeClient(running.url) as client:
    result = client.invoke("portable", {})
    print("CAPS", capabilities.host().pidfd, capabilities.host().sock_diag)
    print("KIND", type(running.emulator.sandboxes.factories["process"]).__name__)
    print("STATUS", result.status, result.report.cold, result.report.max_memory_mb > 0)
"""


@pytest.mark.parametrize(
    ("removed", "kind"),
    [
        ("pidfd_open", "ProcessSandboxFactory"),  # an old kernel: the Linux sandbox still runs
        ("pidfd_open,AF_NETLINK", "PortableSandboxFactory"),  # no owner check: portable
        ("pidfd_open,AF_NETLINK,prlimit", "PortableSandboxFactory"),  # what macOS lacks
    ],
)
def test_a_python_without_linux_interfaces_still_serves(
    tmp_path: Path, removed: str, kind: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _WITHOUT, str(FUNCTIONS / "portable"), removed, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "CAPS False" in proc.stdout
    assert f"KIND {kind}" in proc.stdout
    assert "STATUS 200 True True" in proc.stdout
    if kind == "PortableSandboxFactory":
        assert f"no pidfd, sock_diag{', prlimit' if 'prlimit' in removed else ''}" in proc.stderr
        assert "enforces nothing" in proc.stderr


# A Python that looks like native Windows to the emulator: the POSIX-only modules, attributes and
# signals gone, sys.platform "win32", no uvloop. The standard library and the third-party
# packages have picked their platform at import, before the patch, so they keep working.
_WINDOWS = """
import os, signal, socket, sys
import asyncio, subprocess, pathlib, shutil, httpcore, httptools, httpx, psutil, typer
for mod in ("pwd", "grp", "resource", "fcntl", "termios", "uvloop"):
    sys.modules[mod] = None
for name in ("geteuid", "getuid", "killpg", "setsid", "sysconf", "pidfd_open", "getpgid"):
    delattr(os, name)
for name in ("SIGKILL", "SIGHUP", "SIGPIPE", "SIGBUS", "SIGSTOP", "SIGCONT", "SIGCHLD"):
    delattr(signal, name)
delattr(socket, "AF_NETLINK")
sys.platform = "win32"
from pathlib import Path
import emulator.cli
from emulator import doctor
from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.sandbox import capabilities
caps = capabilities.host()
print("CAPS", caps.process_groups, caps.pipe_reader, caps.linux_sandbox)
fn = FunctionConfig(name="portable", runtime="python3.11", handler="app.handler",
                    code_dir=Path(sys.argv[1]), memory_mb=128, timeout_s=1)
cfg = EmulatorConfig(functions=(fn,), port=0, state_dir=Path(sys.argv[2]), log_to_terminal=False)
with EmbeddedEmulator(cfg) as running, InvokeClient(running.url) as client:
    print("KIND", type(running.emulator.sandboxes.factories["process"]).__name__)
    cold = client.invoke("portable", {})
    warm = client.invoke("portable", {})
    timeout = client.invoke("portable", {"spawn": sys.argv[3], "sleep": 30})
    print("COLD", cold.status, cold.report.cold, cold.report.max_memory_mb > 0)
    print("WARM", warm.status, warm.report.cold, warm.json()["pid"] == cold.json()["pid"])
    print("TIMEOUT", timeout.json()["errorType"])
    print("HEALTH", running.emulator.health()["portable"])
    print("ERRORS", len(running.internal_errors))
print(doctor.report({}))
"""


def test_a_windows_like_python_imports_and_serves(tmp_path: Path, spawned: list[int]) -> None:
    marker = tmp_path / "child.pid"
    args = [str(FUNCTIONS / "portable"), str(tmp_path / "state"), str(marker)]
    proc = subprocess.run(
        [sys.executable, "-c", _WINDOWS, *args],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # no process groups, the output pipe read by a thread: the Windows paths of the sandbox
    assert "CAPS False False False" in out
    assert "KIND PortableSandboxFactory" in out
    assert "COLD 200 True True" in out and "WARM 200 False True" in out
    assert "TIMEOUT Sandbox.Timedout" in out
    assert "HEALTH True" in out and "ERRORS 0" in out
    assert "PORTABLE: NO LIMITS ENFORCED" in out
    child = int(marker.read_text())
    spawned.append(child)
    _wait_for(lambda: not _alive(child), "the timed-out function's child ended (psutil)")


# --- the CLI -------------------------------------------------------------------------------------
def test_serve_portable_says_so_on_its_start_line(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        "[functions.portable]\n"
        'runtime = "python3.11"\n'
        'handler = "app.handler"\n'
        f"code = {json.dumps(str(FUNCTIONS / 'portable'))}\n"
    )
    exe = Path(sys.executable).parent / "lambda-emu"
    cmd = [str(exe), "serve", "--manifest", str(manifest), "--port", "0", "--sandbox", "portable"]
    lines: list[str] = []
    with subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if "NO LIMITS ENFORCED" in line:
                    break
        finally:
            proc.terminate()
            proc.wait(30)
    text = "".join(lines)
    assert "⚠ PORTABLE SANDBOX (forced by --sandbox portable)" in text, text
    assert "the portable sandbox enforces no limits" in text


def test_doctor_on_a_host_without_the_linux_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import doctor

    mac = capabilities.host().portable()
    monkeypatch.setattr(capabilities, "host", lambda: mac)
    monkeypatch.setattr(doctor, "_docker_rows", lambda: [("docker engine", "not answering")])
    text = doctor.report({})
    assert "PORTABLE: NO LIMITS ENFORCED" in text
    assert "pure-Python" in text
    assert "sandbox auto picks  process (portable)" in text


def test_a_windows_runtime_gets_the_hosts_essentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.sandbox.portable import host_essentials

    monkeypatch.setenv("SYSTEMROOT", r"C:\Windows")
    lambda_env = {"PATH": "/var/lang/bin:/usr/bin", "TMPDIR": "/state/tmp/env-1", "X": "1"}
    env = host_essentials(lambda_env, windows=True)
    assert env["SYSTEMROOT"] == r"C:\Windows"
    assert env["PATH"] == os.environ["PATH"]
    assert env["TEMP"] == env["TMP"] == "/state/tmp/env-1"
    assert env["X"] == "1"
    assert host_essentials(lambda_env, windows=False) == lambda_env


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
        _wait_for(lambda: any(e["kind"] == "event" for e in entries()), "the extension's event")
        (registered,) = [e for e in entries() if e["kind"] == "registered"]
        assert isinstance(registered["answer"], dict)
        assert registered["answer"]["functionName"] == "ext"
        client.reset(wait=True)
        pid = registered["pid"]
        assert isinstance(pid, int)
        _wait_for(lambda: not _alive(pid), "the extension ended with its environment")


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


def test_a_node_runtime_without_its_native_client_is_told(tmp_path: Path) -> None:
    from emulator.sandbox.portable import node_client_built

    package = tmp_path / "node_modules" / "aws-lambda-ric"
    (package / "dist").mkdir(parents=True)
    assert not node_client_built(str(tmp_path))  # as npm leaves it on macOS
    (package / "rapid-client.node").touch()  # 4.x
    assert node_client_built(str(tmp_path))
    (package / "rapid-client.node").unlink()
    (package / "dist" / "rapid-client.node").touch()  # 3.x
    assert node_client_built(str(tmp_path))
