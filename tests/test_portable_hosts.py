"""The portable sandbox on hosts this machine is not: the capability record, a Python without
the Linux interfaces (simulated in a child Python before the emulator is imported), a Python
that looks like native Windows, and what the CLI and `doctor` say there. The portable sandbox
itself, served: tests/test_portable.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest
from waiting import eventually

from emulator.sandbox import capabilities
from emulator.sandbox.portable import (
    PortableSandboxFactory,
    host_essentials,
    node_client_built,
    with_python_client,
)
from emulator.sandbox.runtimes import RuntimeCommand
from emulator.sandbox.runtimes.ric import DIRECTORY as RIC_DIRECTORY

FUNCTIONS = Path(__file__).parent / "functions"
REPO = Path(__file__).resolve().parent.parent


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
    printed = client.invoke("portable", {"print": "hello from windows"})
    # read by a thread: the line is in this invocation's log, or (the race, longer on a
    # loaded host) a later one's
    logs = printed.log
    for _ in range(50):
        if "hello from windows" in logs:
            break
        logs += client.invoke("portable", {}).log
    print("LOGGED", "hello from windows" in logs)
    timeout = client.invoke("portable", {"spawn": sys.argv[3], "sleep": 30})
    print("COLD", cold.status, cold.report.cold, cold.report.max_memory_mb > 0)
    print("WARM", warm.status, warm.report.cold, warm.json()["pid"] == cold.json()["pid"])
    print("TIMEOUT", timeout.json()["errorType"])
    print("HEALTH", running.emulator.health()["portable"])
    print("ERRORS", len(running.internal_errors))
print(doctor.report({}))
"""


def test_a_windows_like_python_imports_and_serves(tmp_path: Path) -> None:
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
    assert "LOGGED True" in out
    assert "TIMEOUT Sandbox.Timedout" in out
    assert "HEALTH True" in out and "ERRORS 0" in out
    assert "PORTABLE: NO LIMITS ENFORCED" in out
    child = int(marker.read_text())
    eventually(lambda: not _alive(child), "the timed-out function's child ended (psutil)")


# --- the CLI -------------------------------------------------------------------------------------
def _serve_portable(tmp_path: Path) -> list[str]:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        "[functions.portable]\n"
        'runtime = "python3.11"\n'
        'handler = "app.handler"\n'
        f"code = {json.dumps(str(FUNCTIONS / 'portable'))}\n"
    )
    exe = Path(sys.executable).parent / "lambda-emu"
    return [str(exe), "serve", "--manifest", str(manifest), "--port", "0", "--sandbox", "portable"]


def test_serve_portable_says_so_on_its_start_line(tmp_path: Path) -> None:
    cmd = _serve_portable(tmp_path)
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


def test_a_killed_emulator_leaves_no_runtime_behind(tmp_path: Path) -> None:
    # No cgroup, no PR_SET_PDEATHSIG here: a runtime ends because its Runtime API goes with the
    # emulator (its /next fails, and the pure-Python client, like the C one, gives up).
    with subprocess.Popen(
        _serve_portable(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            url = next(
                line.split("Invoke API on ")[1].split()[0]
                for line in proc.stdout
                if "Invoke API on " in line
            )
            invoked = httpx.post(f"{url}/2015-03-31/functions/portable/invocations", timeout=60)
            runtime = invoked.json()["pid"]
            assert _alive(runtime)
        finally:
            proc.kill()  # SIGKILL, by its PID: no stop, no cleanup
            proc.wait(30)
            assert proc.stdout is not None
            proc.stdout.close()
    eventually(lambda: not _alive(runtime), "the orphaned runtime exited")


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
    monkeypatch.setenv("SYSTEMROOT", r"C:\Windows")
    lambda_env = {"PATH": "/var/lang/bin:/usr/bin", "TMPDIR": "/state/tmp/env-1", "X": "1"}
    env = host_essentials(lambda_env, windows=True)
    assert env["SYSTEMROOT"] == r"C:\Windows"
    assert env["PATH"] == os.environ["PATH"]
    assert env["TEMP"] == env["TMP"] == "/state/tmp/env-1"
    assert env["X"] == "1"
    assert host_essentials(lambda_env, windows=False) == lambda_env


def test_a_node_runtime_without_its_native_client_is_told(tmp_path: Path) -> None:
    package = tmp_path / "node_modules" / "aws-lambda-ric"
    (package / "dist").mkdir(parents=True)
    assert not node_client_built(str(tmp_path))  # as npm leaves it on macOS
    (package / "rapid-client.node").touch()  # 4.x
    assert node_client_built(str(tmp_path))
    (package / "rapid-client.node").unlink()
    (package / "dist" / "rapid-client.node").touch()  # 3.x
    assert node_client_built(str(tmp_path))
