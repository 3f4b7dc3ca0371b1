"""The fault suite serves tests/faults/functions/lambda-emu.toml from its own emulator.

Every function gets `FAULT_SUITE=<token>` in its environment, so the leak check finds any
process this run's functions left behind, even one that escaped to its own session.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest
from emulator.metrics.report import Report, parse_report
from emulator.server import Emulator

MANIFEST = Path(__file__).parent / "functions" / "lambda-emu.toml"
INVOKE_PATH = "/2015-03-31/functions/{}/invocations"


def tagged_functions(
    token: str, probe_dir: Path, failed_events: Path | None = None
) -> tuple[FunctionConfig, ...]:
    extra = {"FAULT_SUITE": token, "PROBE_DIR": str(probe_dir)}
    return tuple(
        replace(
            fn,
            environment=MappingProxyType({**fn.environment, **extra}),
            on_failure=str(failed_events) if fn.name == "fault_event" and failed_events else None,
        )
        for fn in load_manifest(MANIFEST)
    )


@pytest.fixture(scope="session")
def fault_token() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def fault_probe_dir() -> Iterator[Path]:
    """Where runtimes write what they saw. Not under /tmp (each environment has its own), and
    writable by whichever user functions run as."""
    path = Path(__file__).resolve().parents[2] / ".lambda-emu" / f"fault-probe-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def fault_emulator(
    tmp_path_factory: pytest.TempPathFactory, fault_probe_dir: Path, fault_token: str
) -> Iterator[EmulatorThread]:
    state_dir = tmp_path_factory.mktemp("lambda-emu-faults")
    cfg = EmulatorConfig(
        functions=tagged_functions(fault_token, fault_probe_dir, state_dir / "failed.jsonl"),
        port=0,
        state_dir=state_dir,
        log_to_terminal=False,
        init_timeout_s=3.0,
        # Lambda retries failed Event invocations after 60 s and 120 s; 1 % of that here.
        event_retry_delay_scale=0.01,
    )
    running = EmulatorThread(cfg).start()
    try:
        yield running
    finally:
        running.stop()
    assert not suite_processes(fault_token), "function processes outlived the emulator"


@dataclass
class Answer:
    status: int
    payload: bytes
    headers: httpx.Headers
    log: str

    @property
    def request_id(self) -> str:
        return str(self.headers.get("x-amzn-requestid", ""))

    @property
    def function_error(self) -> str | None:
        value = self.headers.get("x-amz-function-error")
        return None if value is None else str(value)

    @property
    def report(self) -> Report | None:
        return parse_report(self.log)

    def json(self) -> Any:
        return json.loads(self.payload)


@pytest.fixture
def call(fault_emulator: EmulatorThread) -> Iterator[Callable[..., Answer]]:
    client = httpx.Client(base_url=fault_emulator.url, timeout=120)

    def invoke(name: str, payload: Any = None, *, raw: bytes | None = None) -> Answer:
        body = raw if raw is not None else json.dumps({} if payload is None else payload).encode()
        resp = client.post(
            INVOKE_PATH.format(name), content=body, headers={"X-Amz-Log-Type": "Tail"}
        )
        log = base64.b64decode(resp.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
        return Answer(resp.status_code, resp.content, resp.headers, log)

    try:
        yield invoke
    finally:
        client.close()


# --- what must hold after every fault --------------------------------------------------------
def trace_records(emu: EmulatorThread, request_id: str, at_least: int = 1) -> list[dict[str, Any]]:
    """The trace records of one invocation, once the trace has `at_least` (or 30 s passed)."""

    async def flush(e: Emulator) -> None:
        e.trace.flush()

    assert emu.emulator is not None
    path = emu.emulator.trace.path
    assert path is not None
    deadline = time.monotonic() + 30
    while True:
        emu.call(flush)
        records = []
        if path.exists():
            for line in path.read_text().splitlines():
                record = json.loads(line)
                if record["request_id"] == request_id:
                    records.append(record)
        if len(records) >= at_least or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def suite_processes(token: str) -> list[int]:
    """Live processes whose environment carries this run's FAULT_SUITE token."""
    marker = f"FAULT_SUITE={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                environ = fh.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def describe_processes(pids: list[int]) -> list[str]:
    described = []
    for pid in pids:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            cgroup = Path(f"/proc/{pid}/cgroup").read_text().replace("\n", " ")
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        described.append(f"{pid} state={stat[0]} ppid={stat[1]} {cmdline[:120]!r} {cgroup}")
    return described


def live_sandboxes(emu: EmulatorThread) -> list[Any]:
    """The sandboxes of live environments, and of each pool's staged spare (a launcher that
    waits for the next cold start, not counted as an environment)."""
    assert emu.emulator is not None
    envs = [env for pool in emu.emulator.functions.values() for env in pool.envs]
    envs += [pool._spare for pool in emu.emulator.functions.values() if pool._spare is not None]
    return [env.sandbox for env in envs if env.sandbox is not None]


def stray_processes(emu: EmulatorThread, token: str) -> list[int]:
    """Processes of this run's functions that belong to no live sandbox: neither a sandbox's
    own process nor (read from the process itself, so a child forked a moment ago counts)
    a member of a live sandbox's cgroup."""
    owned_pids: set[int] = set()
    owned_cgroups: set[str] = set()
    for sandbox in live_sandboxes(emu):
        if sandbox.pid:
            owned_pids.add(sandbox.pid)
        cgroup = getattr(sandbox, "cgroup", None)
        if cgroup is not None:
            owned_cgroups.add(cgroup.name)
    strays = []
    for pid in suite_processes(token):
        if pid in owned_pids:
            continue
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            continue  # gone since
        if not any(line.rpartition("/")[2] in owned_cgroups for line in lines):
            strays.append(pid)
    return strays


def stray_cgroups(emu: EmulatorThread) -> list[Path]:
    """Environment cgroup directories of this emulator that belong to no live sandbox."""
    assert emu.emulator is not None
    backend = emu.emulator.cgroups
    if backend is None:
        return []
    owned = {
        d
        for sandbox in live_sandboxes(emu)
        if getattr(sandbox, "cgroup", None) is not None
        for d in sandbox.cgroup.dirs.values()
    }
    return [
        child
        for base in backend.bases.values()
        if base.is_dir()
        for child in base.iterdir()
        if child.is_dir() and child.name.startswith("env-") and child not in owned
    ]


def shut_down_everything(emu: EmulatorThread) -> None:
    async def reset(e: Emulator) -> None:
        for pool in e.functions.values():
            await pool.reset()

    emu.call(reset)


def assert_clean(emu: EmulatorThread, token: str) -> None:
    """After every environment is shut down, nothing of them remains but the staged spares."""
    shut_down_everything(emu)
    assert emu.emulator is not None
    pools = emu.emulator.functions.values()
    deadline = time.monotonic() + 10
    # a spare being staged has a process but is not the pool's spare yet; an environment
    # being stopped (after a crash or timeout) is no longer the pool's but still has one
    while (
        any(pool._spare_task is not None or pool._stopping for pool in pools)
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    while (stray_processes(emu, token) or stray_cgroups(emu)) and time.monotonic() < deadline:
        time.sleep(0.05)  # a reset kills synchronously; this only absorbs /proc's lag
    strays = stray_processes(emu, token)
    assert strays == [], f"function processes left behind: {describe_processes(strays)}"
    assert stray_cgroups(emu) == [], "environment cgroups left behind"
    assert all(not pool.envs for pool in emu.emulator.functions.values())
    assert emu.emulator.internal_errors == []


def wait_probe(path: Path, timeout: float = 10.0) -> list[str]:
    """A probe file the runtime writes after the caller has its answer."""
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = path.read_text().splitlines()
    assert lines[-1] == "done", lines
    return lines[:-1]


@contextlib.contextmanager
def held_invocation(
    emu: EmulatorThread, call: Callable[..., Answer], probe_dir: Path, payload: dict[str, Any]
) -> Iterator[HeldInvocation]:
    """A `fault_hold` invocation in flight (the runtime holds it until released); yields its
    request id, its environment's Runtime API port, the port of a relay inside the environment
    (with `"relay": True` in the payload) and, once released, the caller's answer."""
    assert emu.emulator is not None
    with ThreadPoolExecutor(1) as runner:
        future = runner.submit(call, "fault_hold", {**payload, "mode": "hold"})
        deadline = time.monotonic() + 30
        while not _holding(probe_dir) and time.monotonic() < deadline:
            time.sleep(0.02)
        (holding,) = _holding(probe_dir)
        request_id = holding.name.removeprefix("holding-")
        (env,) = emu.emulator.functions["fault_hold"].envs
        relay = holding.read_text()
        held = HeldInvocation(
            request_id,
            int(env.runtime.address.rpartition(":")[2]),
            int(relay) if relay else None,
        )
        try:
            yield held
        finally:
            (probe_dir / f"release-{request_id}").touch()
            held.answer = future.result(60)
            holding.unlink()


def _holding(probe_dir: Path) -> list[Path]:
    return [p for p in probe_dir.glob("holding-*") if not p.name.endswith(".part")]


@dataclass
class HeldInvocation:
    request_id: str
    runtime_port: int
    relay_port: int | None  # reaches the Runtime API from inside the environment
    answer: Answer | None = None
