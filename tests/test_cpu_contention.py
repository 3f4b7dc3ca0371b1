"""CPU under contention (issue 19, item 5): a throttled environment runs at a high CPU weight,
so a loaded host does not eat its quota, and each invocation's record says what the host's
load cost it (host_wait_ms). The figures are in docs/fidelity.md ("CPU under contention")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hog import cpu_hog

from emulator.embedded import EmulatorThread
from emulator.sandbox.cgroups import CPU_WEIGHT_FACTOR
from emulator.sandbox.process import ProcessSandbox


def _sandbox(emu: EmulatorThread, name: str) -> ProcessSandbox:
    assert emu.emulator is not None
    (env,) = [e for e in emu.emulator.functions[name].envs if e.sandbox is not None]
    assert isinstance(env.sandbox, ProcessSandbox)
    return env.sandbox


def test_a_throttled_environment_weighs_more_than_a_process(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    invoke("echo", {})
    assert lambda_reset.emulator is not None
    backend = lambda_reset.emulator.cgroups
    if backend is None or not backend.caps.cpu:
        pytest.skip("no CPU controller here")
    cgroup = _sandbox(lambda_reset, "echo").cgroup
    assert cgroup is not None
    if cgroup.version == "v2":
        weight = (cgroup.dirs["unified"] / "cpu.weight").read_text()
        assert int(weight) == 100 * CPU_WEIGHT_FACTOR
    else:
        shares = (cgroup.dirs["cpu"] / "cpu.shares").read_text()
        assert int(shares) == 1024 * CPU_WEIGHT_FACTOR
        # the emulator's base, where its weight counts against the host's processes
        base = (cgroup.dirs["cpu"].parent / "cpu.shares").read_text()
        assert int(base) == 1024 * CPU_WEIGHT_FACTOR


def test_each_invocation_says_what_the_hosts_load_cost_it(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    with cpu_hog():
        ids = [invoke("echo", {"i": i}).headers["x-amzn-requestid"] for i in range(5)]
    assert lambda_reset.emulator is not None
    lambda_reset.emulator.trace.flush()
    path = lambda_reset.emulator.trace.path
    assert path is not None
    records = [json.loads(line) for line in path.read_text().splitlines()]
    waits = [r["host_wait_ms"] for r in records if r["request_id"] in ids]
    assert len(waits) == 5 and all(w >= 0 for w in waits)
