"""The resource model: memory limits and OOM, Max Memory Used, freezing, /tmp, cleanup.

These run on whatever the machine offers (cgroup v1 here, v2 on most desktops); tests that
need a capability the machine lacks are skipped with the reason.
"""

from __future__ import annotations

import errno
import os
import pwd
from pathlib import Path
from typing import Any

import httpx
import pytest
from answers import assert_oom_killed
from waiting import SLOWDOWN, eventually

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.sandbox import cgroups
from emulator.sandbox.process import ProcessSandbox

FUNCTIONS = Path(__file__).parent / "functions"


def _sandbox(emu: EmulatorThread, name: str) -> ProcessSandbox:
    assert emu.emulator is not None
    envs = [e for e in emu.emulator.functions[name].envs if e.sandbox is not None]
    assert envs, f"no environment of {name}"
    sandbox = envs[0].sandbox
    assert isinstance(sandbox, ProcessSandbox)
    return sandbox


def _cgroups_enforce_memory(emu: EmulatorThread) -> bool:
    assert emu.emulator is not None
    backend = emu.emulator.cgroups
    return backend is not None and backend.caps.memory


def test_over_the_limit_is_killed_like_lambda(invoke: Any, lambda_emulator: EmulatorThread) -> None:
    if not _cgroups_enforce_memory(lambda_emulator):
        pytest.skip("no writable memory cgroup on this machine")
    report = assert_oom_killed(invoke("hog128", {"mb": 300}))
    assert 120 <= report.max_memory_mb <= 128  # at the limit, never above the configured size
    # the environment was reset and the emulator serves on
    again = invoke("hog128", {"mb": 10})
    assert again.function_error is None and again.report is not None and again.report.cold


def test_under_the_limit_succeeds(invoke: Any) -> None:
    result = invoke("hog512", {"mb": 300})
    assert result.function_error is None
    assert result.json() == {"allocated_mb": 300}


def test_max_memory_used_is_measured_not_configured(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    # a fresh environment: the peak is the environment's, so it never decreases while warm
    result = invoke("hog512", {"mb": 100})
    assert result.report is not None
    assert 100 <= result.report.max_memory_mb <= 160
    assert result.report.memory_mb == 512


def test_tmp_survives_warm_calls_and_is_fresh_per_environment(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    first, second = invoke("tmp_counter"), invoke("tmp_counter")
    assert first.json()["count"] == 1 and second.json()["count"] == 2
    assert first.json()["pid"] == second.json()["pid"]
    sandbox = _sandbox(lambda_reset, "tmp_counter")
    # the function's /tmp is its own directory, not the host's /tmp
    assert (sandbox.spec.tmp_dir / "counter").read_text() == "2"
    assert first.json()["tmp"] == ("/tmp" if sandbox.private_tmp else str(sandbox.spec.tmp_dir))
    assert lambda_reset.emulator is not None
    lambda_reset.call(lambda emu: emu.functions["tmp_counter"].reset())
    assert invoke("tmp_counter").json()["count"] == 1  # a new environment, a fresh /tmp


def _proc_state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]


def test_idle_environment_is_frozen_and_thawed(
    invoke: Any, lambda_emulator: EmulatorThread
) -> None:
    pid = invoke("sleepy", {"sleep": 0}).json()["pid"]
    sandbox = _sandbox(lambda_emulator, "sleepy")
    # stopped while it waits on /next
    eventually(lambda: _proc_state(pid) == "T", f"runtime {pid} stopped")
    assert sandbox.frozen in ("stopped", "cgroup")
    if sandbox.cgroup is not None and sandbox.cgroup.backend.caps.freezer:
        eventually(lambda: sandbox.frozen == "cgroup", "the environment's cgroup frozen")
        events = (sandbox.cgroup.dirs["unified"] / "cgroup.events").read_text()
        assert "frozen 1" in events
    after = invoke("sleepy", {"sleep": 0})
    assert after.function_error is None and after.json()["pid"] == pid
    assert after.report is not None and not after.report.cold


def _run(functions: tuple[FunctionConfig, ...], tmp_path: Path, **kw: Any) -> EmulatorThread:
    cfg = EmulatorConfig(
        functions=functions, port=0, state_dir=tmp_path / "state", log_to_terminal=False, **kw
    )
    return EmulatorThread(cfg).start()


@pytest.fixture
def hog_fn() -> FunctionConfig:
    return FunctionConfig(
        name="hog",
        runtime="python3.11",
        handler="app.handler",
        code_dir=FUNCTIONS.parent.parent / "functions" / "memory_hog",
        timeout_s=round(3 * SLOWDOWN),
    )


def _invoke(url: str, name: str, payload: bytes) -> httpx.Response:
    return httpx.post(
        f"{url}/2015-03-31/functions/{name}/invocations", content=payload, timeout=60 * SLOWDOWN
    )


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_cgroup_version_code_paths(version: str, tmp_path: Path, hog_fn: FunctionConfig) -> None:
    backend = cgroups.detect(version)
    if backend is None:
        pytest.skip(f"no writable cgroup {version} hierarchy here")
    caps = backend.caps
    bases = list(backend.bases.values())
    backend.remove_all()
    assert not any(b.exists() for b in bases)
    running = _run((hog_fn,), tmp_path, cgroups=version)
    try:
        assert running.emulator is not None and running.emulator.cgroups is not None
        assert running.emulator.cgroups.version == version
        r = _invoke(running.url, "hog", b'{"mb": 20}')
        assert r.status_code == 200 and r.json() == {"allocated_mb": 20}
        sandbox = _sandbox(running, "hog")
        cg = sandbox.cgroup
        assert cg is not None
        assert sandbox.pid in cg.pids()  # the runtime lives in the environment's cgroup
        if caps.cpu:
            assert cg.cpu_seconds() is not None
        if caps.memory:
            # (the OOM resets the environment, and its cgroup goes with it)
            over = _invoke(running.url, "hog", b'{"mb": 300}')
            assert over.json()["errorType"] == "Runtime.OutOfMemory"
        used = running.emulator.cgroups.bases.values()
    finally:
        running.stop()
    assert not any(Path(b).exists() for b in used), "cgroup directories left behind"


def test_fallback_without_cgroups(tmp_path: Path, hog_fn: FunctionConfig) -> None:
    running = _run((hog_fn,), tmp_path, cgroups="off")
    try:
        assert running.emulator is not None
        assert "NOT enforced" in running.emulator.limits
        ok = _invoke(running.url, "hog", b'{"mb": 20}')
        assert ok.json() == {"allocated_mb": 20}
        # RLIMIT_DATA: the function sees MemoryError (a function error), not an OOM kill
        over = _invoke(running.url, "hog", b'{"mb": 300}')
        assert over.headers["x-amz-function-error"] == "Unhandled"
        assert over.json()["errorType"] == "MemoryError"
    finally:
        running.stop()


def test_no_cgroup_or_process_left_after_stop(tmp_path: Path, hog_fn: FunctionConfig) -> None:
    running = _run((hog_fn,), tmp_path)
    try:
        assert running.emulator is not None
        _invoke(running.url, "hog", b'{"mb": 5}')
        pids = [e.sandbox.pid for e in running.emulator.functions["hog"].envs if e.sandbox]
        backend = running.emulator.cgroups
        bases = list(backend.bases.values()) if backend else []
    finally:
        running.stop()
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids if pid)
    assert not any(b.exists() for b in bases)
    assert not list(tmp_path.glob("state/tmp/*")), "per-environment /tmp directories left"


def test_stale_cgroups_of_a_dead_emulator_are_removed() -> None:
    backend = cgroups.detect("auto")
    if backend is None:
        pytest.skip("no writable cgroup hierarchy here")
    base = next(iter(backend.bases.values()))
    dead = base.with_name("lambda-emu-999999999-dead00")  # no such pid
    (dead / "env-x").mkdir(parents=True)
    try:
        removed = cgroups.remove_stale()
        assert dead in removed and not dead.exists()
    finally:
        backend.remove_all()
        if (dead / "env-x").exists():
            (dead / "env-x").rmdir()
        if dead.exists():
            dead.rmdir()


def test_cpu_share_is_proportional_and_capped() -> None:
    assert cgroups.cpu_share(1769, host_cores=2).vcpus == pytest.approx(1.0)
    assert cgroups.cpu_share(128, host_cores=2).applied == pytest.approx(128 / 1769)
    six = cgroups.cpu_share(10240, host_cores=2)
    assert six.vcpus == pytest.approx(10240 / 1769) and six.applied == 2.0 and six.capped


def test_v2_limit_files(tmp_path: Path) -> None:
    """What the v2 writer writes, on a directory laid out like a v2 cgroup (this machine's
    kernel binds memory and cpu to v1, so the real v2 files cannot be written here)."""
    caps = cgroups.Capabilities("v2", memory=True, swap=True, cpu=True, pids=True)
    backend = cgroups.CgroupBackend("v2", caps, {"unified": tmp_path})
    cg = backend.create("env-x")
    cg.set_memory(128 * 1024 * 1024)
    cg.set_pids()
    cg.set_cpu(None)
    d = tmp_path / "env-x"
    assert (d / "memory.max").read_text() == str(128 * 1024 * 1024)
    assert (d / "memory.swap.max").read_text() == "0"
    assert (d / "pids.max").read_text() == "1024"
    assert (d / "cpu.max").read_text() == "max 20000"  # init runs unthrottled
    cg.set_cpu(cgroups.cpu_share(128, host_cores=2).applied)
    assert (d / "cpu.max").read_text() == "1447 20000"  # 128/1769 of 20 ms
    cg.set_cpu(cgroups.cpu_share(10240, host_cores=2).applied)
    assert (d / "cpu.max").read_text() == "40000 20000"  # capped at two cores


def test_v1_limit_files(tmp_path: Path) -> None:
    caps = cgroups.Capabilities("v1", memory=True, swap=True, cpu=True, pids=True)
    bases = {c: tmp_path / c for c in ("memory", "cpu", "pids")}
    for b in bases.values():
        b.mkdir()
    cg = cgroups.CgroupBackend("v1", caps, bases).create("env-x")
    cg.set_memory(256 * 1024 * 1024)
    cg.set_cpu(cgroups.cpu_share(1769, host_cores=2).applied)
    mem = tmp_path / "memory" / "env-x"
    assert (mem / "memory.limit_in_bytes").read_text() == str(256 * 1024 * 1024)
    assert (mem / "memory.memsw.limit_in_bytes").read_text() == str(256 * 1024 * 1024)
    assert (tmp_path / "cpu" / "env-x" / "cpu.cfs_quota_us").read_text() == "20000"
    assert (tmp_path / "cpu" / "env-x" / "cpu.cfs_period_us").read_text() == "20000"


def test_the_code_directory_is_read_only_to_the_function(
    invoke: Any, lambda_emulator: EmulatorThread
) -> None:
    result = invoke("ro_code").json()
    if not _sandbox(lambda_emulator, "ro_code").private_tmp:
        pytest.skip("no mount namespace here (not root, or the code lives under /tmp)")
    assert result == {"writable": False, "errno": 30}  # EROFS, as /var/task on Lambda
    assert not (FUNCTIONS / "ro_code" / "written-by-the-function").exists()


def test_as_root_functions_run_as_an_unprivileged_user(
    invoke: Any, lambda_emulator: EmulatorThread
) -> None:
    """LAMBDA_SPEC §5: Lambda runs functions as an unprivileged sandbox user, not root."""
    result = invoke("whoami", {"emulator_pid": os.getpid()}).json()
    sandbox = _sandbox(lambda_emulator, "whoami")
    if sandbox.user is None:
        pytest.skip("functions run as the emulator's user here (not root, or no mount namespace)")
    nobody = pwd.getpwnam("nobody")
    assert result["uid"] == nobody.pw_uid and result["gid"] == nobody.pw_gid
    assert result["groups"] == []
    assert result["tmp_owner"] == nobody.pw_uid  # its /tmp is its own
    assert result["signal_emulator"] == errno.EPERM
    assert result["read_emulator_environ"] == errno.EACCES
    assert result["read_shadow"] == errno.EACCES
    health = httpx.get(f"{lambda_emulator.url}/_emu/health").json()
    assert health["function_uid"] == nobody.pw_uid
