"""A short soak (bench/soak.py, ~20 s at 50 users with crashes, timeouts and OOMs injected):
nothing lost, nothing leaked. The benchmark itself prints the figures of longer runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_short_soak_loses_and_leaks_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(SOAK), "--seconds", "20", "--users", "50", "--json"],
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
    assert result["emulator_exit"] == 0
    # the faults were really injected, and each was answered in Lambda's shape
    assert {"Runtime.ExitError", "Sandbox.Timedout", "RuntimeError"} <= set(result["error_types"])
    assert done.returncode == 0
