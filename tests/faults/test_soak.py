"""A short soak (bench/soak.py, ~20 s at 50 users with crashes, timeouts and OOMs injected):
nothing lost, nothing leaked. The benchmark itself prints the figures of longer runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def _engine() -> bool:
    from emulator.sandbox.docker import engine_answers

    return engine_answers()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("sandbox", "seconds", "users"),
    [
        ("process", 20, 50),
        # shorter and fewer users in containers: a container start costs ~10x a process's,
        # and CI's 20 minutes are shared
        pytest.param(
            "docker",
            15,
            20,
            marks=pytest.mark.skipif(not _engine(), reason="no Docker engine answers"),
        ),
    ],
)
def test_short_soak_loses_and_leaks_nothing(
    capsys: pytest.CaptureFixture[str], sandbox: str, seconds: int, users: int
) -> None:
    cmd = [sys.executable, str(SOAK), "--seconds", str(seconds), "--users", str(users), "--json"]
    done = subprocess.run(
        [*cmd, "--sandbox", sandbox],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert lines, done.stderr
    with capsys.disabled():
        print("\n" + "\n".join(lines[:-1]))
    result = json.loads(lines[-1])
    assert result["sent"] > 0
    assert result["lost"] == 0, result
    assert result["answered"] == result["sent"]
    assert result["leaked_processes"] == 0 and result["leaked_cgroups"] == 0
    assert result["leaked_containers"] == 0
    assert result["emulator_exit"] == 0
    # the faults were really injected, and each was answered in Lambda's shape
    assert {"Runtime.ExitError", "Sandbox.Timedout", "RuntimeError"} <= set(result["error_types"])
    assert done.returncode == 0
