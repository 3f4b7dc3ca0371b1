"""The resource model on a real cgroup v2 hierarchy, with the process sandbox (the v2 lane).

This machine binds memory and cpu to cgroup v1, so `scripts/test-cgroup-v2` runs this module
as root in a nested VM whose kernel has cgroup2 at /sys/fs/cgroup with +cpu +memory +pids
(docs/fidelity.md). Elsewhere it is skipped, unless the machine itself is such a host. The VM
is slow (Python ~11x, a cold start ~3 s): one emulator serves every test but the delegated one,
and every wait is on an event, bounded only so a hang fails.
"""

from __future__ import annotations

import functools
import json
import math
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from answers import assert_oom_killed
from waiting import eventually

from emulator.client import InvokeClient, InvokeResult
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.sandbox.cgroups import CGROUP_ROOT, PIDS_LIMIT
from emulator.sandbox.process import ProcessSandbox

ROOT = Path(__file__).resolve().parent.parent.parent
FUNCTIONS = ROOT / "tests" / "functions"
MIB = 1024 * 1024


def _real_v2() -> bool:
    controllers = CGROUP_ROOT / "cgroup.controllers"
    try:
        available = set(controllers.read_text().split())
    except OSError:
        return False
    return {"memory", "cpu", "pids"} <= available and os.geteuid() == 0


pytestmark = pytest.mark.skipif(
    not _real_v2(), reason="needs root on a cgroup v2 host with memory, cpu and pids (the v2 lane)"
)


def _fn(name: str, code: Path, **kw: Any) -> FunctionConfig:
    return FunctionConfig(
        name=name, runtime="python3.11", handler="app.handler", code_dir=code, memory_mb=128, **kw
    )


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    functions = (
        # At 1/14 of a vCPU, in an emulated VM, a cold start takes seconds, and the reclaim
        # before an OOM kill (re-reading the runtime's evicted pages over 9p) 20-60 s on a
        # loaded host: the OOM test is about the kill, not the timeout.
        _fn("hog", ROOT / "functions" / "memory_hog", timeout_s=240),
        _fn("cpu", ROOT / "functions" / "cpu_python", timeout_s=60),
        _fn("sleepy", FUNCTIONS / "sleepy", timeout_s=60),
        _fn("forker", FUNCTIONS / "forker", timeout_s=60),
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=tmp_path_factory.mktemp("lambda-emu"),
        log_to_terminal=False,
        cgroups="v2",
    )
    running = EmbeddedEmulator(cfg).start()
    try:
        yield running
    finally:
        if running not in _STOPPED:
            running.stop()


_STOPPED: list[EmbeddedEmulator] = []


def _invoke(emu: EmbeddedEmulator, name: str, payload: Any = None) -> InvokeResult:
    with InvokeClient(emu.url, timeout=120) as client:
        return client.invoke(name, payload)


def _sandbox(emu: EmbeddedEmulator, name: str) -> ProcessSandbox:
    assert emu.emulator is not None
    envs = [e for e in emu.emulator.functions[name].envs if e.sandbox is not None]
    assert len(envs) == 1, f"{len(envs)} environments of {name}"
    sandbox = envs[0].sandbox
    assert isinstance(sandbox, ProcessSandbox)
    return sandbox


def _cgroup_dir(emu: EmbeddedEmulator, name: str) -> Path:
    cgroup = _sandbox(emu, name).cgroup
    assert cgroup is not None and cgroup.version == "v2"
    return cgroup.dirs["unified"]


def _stat(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in path.read_text().splitlines())}


def test_v2_is_detected_with_every_controller(emu: EmbeddedEmulator) -> None:
    assert emu.emulator is not None and emu.emulator.cgroups is not None
    caps = emu.emulator.cgroups.caps
    assert caps.version == "v2"
    assert caps.memory and caps.memory_peak and caps.cpu and caps.pids
    assert caps.freezer and caps.kill and not caps.notes


def test_limits_are_written(emu: EmbeddedEmulator) -> None:
    result = _invoke(emu, "hog", {"mb": 10})
    assert result.function_error is None and result.json() == {"allocated_mb": 10}
    d = _cgroup_dir(emu, "hog")
    assert int((d / "memory.max").read_text()) == 128 * MIB
    if (d / "memory.swap.max").exists():
        assert (d / "memory.swap.max").read_text().strip() == "0"
    assert (d / "pids.max").read_text().strip() == str(PIDS_LIMIT)
    # init runs unthrottled; from its end, 128/1769 of a vCPU per 20 ms period
    assert (d / "cpu.max").read_text().split() == ["1447", "20000"]
    assert _sandbox(emu, "hog").pid in [int(p) for p in (d / "cgroup.procs").read_text().split()]


def test_max_memory_used_is_the_cgroup_peak(emu: EmbeddedEmulator) -> None:
    result = _invoke(emu, "hog", {"mb": 60})
    assert result.function_error is None and result.report is not None
    peak = int((_cgroup_dir(emu, "hog") / "memory.peak").read_text())
    assert 60 * MIB < peak < 128 * MIB
    # the larger of the cgroup peak and the tree's peak RSS (the latter counts shared
    # libraries the host's page cache already held): never below the cgroup's
    assert math.ceil(peak / MIB) <= result.report.max_memory_mb <= math.ceil(peak / MIB) + 16


def test_over_the_limit_is_killed_like_lambda(emu: EmbeddedEmulator) -> None:
    events = _cgroup_dir(emu, "hog") / "memory.events"
    report = assert_oom_killed(_invoke(emu, "hog", {"mb": 200}))
    # memory.peak of an OOM-killed cgroup is its limit: Max Memory Used is the memory size
    assert report.max_memory_mb == 128
    # the environment is reset, and its cgroup goes with it (after the answer)
    eventually(lambda: not events.exists(), "the OOM-killed environment's cgroup removed")
    again = _invoke(emu, "hog", {"mb": 10})
    assert again.function_error is None and again.report is not None and again.report.cold


def test_cpu_share_of_128_mb(emu: EmbeddedEmulator) -> None:
    assert _invoke(emu, "cpu", {"n": 1}).function_error is None  # the cold start
    stat = _cgroup_dir(emu, "cpu") / "cpu.stat"
    before = _stat(stat)
    result = _invoke(emu, "cpu", {"n": 100_000})
    after = _stat(stat)
    assert result.function_error is None and result.report is not None
    share = (after["usage_usec"] - before["usage_usec"]) / 1000 / result.report.duration_ms
    throttled = after["nr_throttled"] - before["nr_throttled"]
    periods = after["nr_periods"] - before["nr_periods"]
    print(
        f"128 MB: CPU share {share:.4f} (Lambda: {128 / 1769:.4f}), throttled {throttled}/{periods}"
    )
    assert throttled > 0
    # Lambda's 0.072 vCPU; far below a full core, with room for the emulated VM's noise
    assert 0.03 < share < 0.2


def test_idle_environment_is_frozen_and_thawed(emu: EmbeddedEmulator) -> None:
    pid = _invoke(emu, "sleepy", {"sleep": 0}).json()["pid"]
    sandbox = _sandbox(emu, "sleepy")
    events = _cgroup_dir(emu, "sleepy") / "cgroup.events"
    eventually(lambda: sandbox.frozen == "cgroup", "the cgroup freezer after 1 s idle")
    eventually(lambda: "frozen 1" in events.read_text(), "cgroup.events: frozen 1")
    assert (events.parent / "cgroup.freeze").read_text().strip() == "1"
    after = _invoke(emu, "sleepy", {"sleep": 0})
    assert after.function_error is None and after.json()["pid"] == pid
    assert after.report is not None and not after.report.cold
    assert "frozen 0" in events.read_text()


def test_forking_past_the_pids_limit_fails(emu: EmbeddedEmulator) -> None:
    assert _invoke(emu, "forker", {"n": 3}).json() == {"forked": 3}
    d = _cgroup_dir(emu, "forker")
    assert (d / "pids.max").read_text().strip() == str(PIDS_LIMIT)
    # 1,024 forks would take ~40 s in the emulated VM: lower this environment's limit so
    # that 5 more processes fit, and fork 10
    current = int((d / "pids.current").read_text())
    (d / "pids.max").write_text(str(current + 5))
    over = _invoke(emu, "forker", {"n": 10})
    assert over.function_error == "Unhandled"
    assert over.json()["errorType"] == "BlockingIOError"
    assert _stat(d / "pids.events")["max"] > 0
    assert _invoke(emu, "forker", {"n": 3}).json() == {"forked": 3}  # the environment lives on


def _lambda_emu_cgroups(root: Path) -> list[Path]:
    return [
        Path(dirpath) / name
        for dirpath, dirnames, _ in os.walk(root)
        for name in dirnames
        if name.startswith("lambda-emu-")
    ]


def test_nothing_is_left_after_stop(emu: EmbeddedEmulator) -> None:
    assert emu.emulator is not None
    pids = [e.sandbox.pid for f in emu.emulator.functions.values() for e in f.envs if e.sandbox]
    assert pids and _lambda_emu_cgroups(CGROUP_ROOT)
    _STOPPED.append(emu)
    emu.stop()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids if pid)
    assert _lambda_emu_cgroups(CGROUP_ROOT) == []
    # the emulator moved itself back where it started
    assert Path("/proc/self/cgroup").read_text().strip() == "0::/"


# --- a delegated subtree, as systemd gives a user (user@UID.service, Delegate=yes) -------------


@pytest.fixture
def delegated() -> Iterator[tuple[pwd.struct_passwd, Path]]:
    user = pwd.getpwnam("nobody")
    user_slice = CGROUP_ROOT / "user.slice"
    service = user_slice / f"user-{user.pw_uid}.slice" / f"user@{user.pw_uid}.service"
    scope = service / "init.scope"
    scope.mkdir(parents=True)
    try:
        for parent in (CGROUP_ROOT, user_slice, service.parent, service):
            (parent / "cgroup.subtree_control").write_text("+cpu +memory +pids")
        # systemd hands the user its service's cgroup: the directory and the files that move
        # processes and delegate controllers further
        for d in (service, scope):
            for f in (d, d / "cgroup.procs", d / "cgroup.subtree_control", d / "cgroup.threads"):
                os.chown(f, user.pw_uid, user.pw_gid)
        yield user, scope
    finally:
        _remove_cgroups(user_slice)


def _empty(cgroup: Path) -> bool:
    return not (cgroup / "cgroup.procs").read_text().split()


def _remove_cgroups(top: Path) -> None:
    """Kill whatever a failed test left in `top`'s cgroups, then remove them, deepest first."""
    for d in sorted(
        (p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True
    ):
        (d / "cgroup.kill").write_text("1")
        eventually(functools.partial(_empty, d), f"{d} empty")
        d.rmdir()
    top.rmdir()


def test_delegated_subtree_of_a_non_root_user(delegated: tuple[pwd.struct_passwd, Path]) -> None:
    user, scope = delegated
    # pytest's own temporary directories are root's alone
    tmp_path = Path(tempfile.mkdtemp(prefix="lambda-emu-v2-"))
    tmp_path.chmod(0o777)
    # the manifest in a directory of its own: hot reload watches the manifest's directory,
    # and tmp_path (the user's HOME here) holds a link to root's whole runtime cache
    (tmp_path / "app").mkdir(mode=0o777)
    manifest = tmp_path / "app" / "lambda-emu.toml"
    hog = ROOT / "functions" / "memory_hog"
    manifest.write_text(
        f'[functions.hog]\nruntime = "python3.11"\nhandler = "app.handler"\n'
        f'code = "{hog}"\nmemory = 128\ntimeout = 60\n'
    )
    serve = [str(ROOT / ".venv" / "bin" / "lambda-emu"), "serve", "--manifest", str(manifest)]
    serve += ["--port", "0", "--quiet", "--state-dir", str(tmp_path / "state")]
    argv = _as_user_in(scope, user, *serve)
    # the runtimes root's runs installed, reused read-only (the VM has no network for pip)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "lambda-emu").symlink_to(Path.home() / ".cache" / "lambda-emu")
    env = {**os.environ, "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    assert proc.stderr is not None
    try:
        lines: list[str] = []
        url = None
        while url is None:
            line = proc.stderr.readline()
            assert line, "serve exited:\n" + "".join(lines)
            lines.append(line)
            match = re.search(r"Invoke API on (http://\S+)", line)
            url = match.group(1) if match else None
        health = httpx.get(f"{url}/_emu/health", timeout=30).json()
        assert health["cgroups"] == "v2", health
        # the kill itself is the kernel's, tested as root above (an OOM costs ~30 s here):
        # here, where the cgroups go, what they limit, whose they are, and that they go away
        with InvokeClient(url, timeout=120) as client:
            ok = client.invoke("hog", {"mb": 20})
            assert ok.function_error is None and ok.json() == {"allocated_mb": 20}
            (base,) = _lambda_emu_cgroups(scope)
            envs = list(base.glob("env-*"))  # the environment, and a staged spare
            assert envs and all(d.stat().st_uid == user.pw_uid for d in envs)
            assert all(int((d / "memory.max").read_text()) == 128 * MIB for d in envs)
            cpu_max = sorted((d / "cpu.max").read_text().split()[0] for d in envs)
            assert cpu_max[0] == "1447"  # the one that ran; a spare's init is unthrottled
            emulator_pid = int((base / "emulator" / "cgroup.procs").read_text().split()[0])
            assert emulator_pid == proc.pid  # out of the scope, so it may delegate further
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        assert _lambda_emu_cgroups(scope) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        shutil.rmtree(tmp_path, ignore_errors=True)
        eventually(functools.partial(_empty, scope), "an empty scope")


def _as_user_in(scope: Path, user: pwd.struct_passwd, *argv: str) -> list[str]:
    """argv run as `user` in cgroup `scope`, where root put it (a login session's start)."""
    enter = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
    setpriv = shutil.which("setpriv") or "setpriv"
    ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", "--"]
    return ["sh", "-c", enter, str(scope), setpriv, *ids, *argv]


def test_a_scope_shared_with_a_shell_is_said_not_limited(
    delegated: tuple[pwd.struct_passwd, Path],
) -> None:
    """A terminal's scope holds the shell too: v2 lets no controller be delegated below a
    cgroup with processes, so the emulator cannot limit there, and says why and what to do."""
    user, scope = delegated
    shell = subprocess.Popen(_as_user_in(scope, user, "sleep", "600"))
    try:
        eventually(lambda: not _empty(scope), "the shell in the scope")
        probe = (
            "import json; from emulator.sandbox import cgroups; b = cgroups.detect('auto'); "
            "print(json.dumps([b.version, b.caps.memory, b.caps.cpu, b.caps.freezer, "
            "b.caps.notes])); b.remove_all()"
        )
        python = str(ROOT / ".venv" / "bin" / "python")
        out = subprocess.run(
            _as_user_in(scope, user, python, "-c", probe),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            cwd=ROOT,
        )
        version, memory, cpu, freezer, notes = json.loads(out.stdout)
        assert (version, memory, cpu, freezer) == ("v2", False, False, True)
        assert f"other processes share {scope}" in notes[0]
        assert "systemd-run --user --scope -p Delegate=yes" in notes[0]
        assert _lambda_emu_cgroups(scope) == []
    finally:
        shell.kill()
        shell.wait()
