"""`lambda-emu load NAME:ALIAS`: a weighted alias's split, per executed version, in the summary."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.metrics.report import Report
from loadtests.invoke import classify
from loadtests.stats import LambdaStats, Outcome
from loadtests.summary import build_summary, render_text

LAMBDA_EMU = Path(sys.executable).parent / "lambda-emu"
CTX = (Path(__file__).parent / "functions" / "ctx").resolve()
MANIFEST = f"""
[functions.ctx]
runtime = "python3.12"
handler = "app.handler"
code = "{CTX}"
publish = 2

[functions.ctx.aliases.canary]
version = "1"
routing = {{ "2" = 0.5 }}
"""


def test_classify_reads_the_executed_version() -> None:
    answer = classify(200, {"X-Amz-Executed-Version": "2"}, b"{}")
    assert (answer.outcome, answer.executed_version) == (Outcome.INVOKED, "2")
    assert classify(200, {}, b"{}").executed_version is None


def test_stats_and_summary_split_by_version() -> None:
    cold = Report("r", 1.0, 1, 128, 40, init_ms=100.0)
    worker, master = LambdaStats(), LambdaStats()
    for version in ("1", "1", "1", "2"):
        worker.record(Outcome.WARM, 1.0, executed_version=version)
    worker.record(Outcome.COLD, 1.0, cold, executed_version="2")
    master.merge(worker.take())
    summary = build_summary(master, function="ctx:canary", target="t", started_at=0, ended_at=1)
    assert summary["executed_versions"] == {
        "1": {"invocations": 3, "share": 0.6, "cold_starts": 0},
        "2": {"invocations": 2, "share": 0.4, "cold_starts": 1},
    }
    text = render_text(summary)
    assert re.search(r"Executed version 1 +3 \(60\.0%\), 0 cold\n", text)
    assert re.search(r"Executed version 2 +2 \(40\.0%\), 1 cold\n", text)


def test_load_refuses_an_unknown_qualifier(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(MANIFEST)
    result = CliRunner().invoke(app, ["load", "ctx:nope", "--manifest", str(manifest)])
    assert result.exit_code == 2
    assert "function 'ctx' has no version or alias 'nope' (have: $LATEST, 1, 2, canary)" in (
        result.output
    )


@pytest.mark.slow
def test_load_of_a_weighted_alias_shows_the_split(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(MANIFEST)
    out = tmp_path / "run"
    cmd = [
        str(LAMBDA_EMU),
        "load",
        "ctx:canary",
        "--manifest",
        str(manifest),
        "--out",
        str(out),
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--run-time",
        "5s",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
        raise AssertionError(f"lambda-emu load did not finish:\n{output}") from None
    assert proc.returncode == 0, output
    summary = json.loads((out / "summary.json").read_text())
    versions = summary["executed_versions"]
    assert set(versions) == {"1", "2"}, versions
    assert sum(v["invocations"] for v in versions.values()) == summary["invocations"]
    # each version cold-starts its own environments (versions do not share them)
    assert versions["1"]["cold_starts"] >= 1 and versions["2"]["cold_starts"] >= 1
    assert "Executed version 1" in output and "Executed version 2" in output
    # the emulator's trace and its environments are the function's, whichever version ran
    assert summary["trace"]["invocations"] == summary["invocations"]
