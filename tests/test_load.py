"""`lambda-emu load`: Locust against the emulator, as real subprocesses on 127.0.0.1.

Locust monkey-patches the stdlib with gevent, so it never runs in this process: each test runs
the command, which serves tests/functions/lambda-emu.toml from a child emulator and drives it
from Locust children; everything is ended by PID before the test returns.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtests.run import free_port

FUNCTIONS = Path(__file__).parent / "functions"
LAMBDA_EMU = Path(sys.executable).parent / "lambda-emu"

pytestmark = pytest.mark.slow


def _load(out: Path, function: str, *args: str) -> list[str]:
    return [
        str(LAMBDA_EMU),
        "load",
        function,
        "--manifest",
        str(FUNCTIONS / "lambda-emu.toml"),
        "--out",
        str(out),
        *args,
    ]


def _run(cmd: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
        raise AssertionError(f"lambda-emu load did not finish:\n{output}") from None
    assert proc.returncode == 0, output
    return subprocess.CompletedProcess(cmd, proc.returncode, output, "")


def _summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


def test_headless_load_tells_cold_from_warm_and_matches_the_trace(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run(_load(out, "echo", "--users", "4", "--spawn-rate", "4", "--run-time", "8s"))
    summary = _summary(out)

    assert summary["function"] == "echo"
    assert summary["cold_starts"] > 0
    assert summary["warm"] > 0
    assert summary["cold_starts"] + summary["warm"] == summary["invocations"]
    assert summary["throttles"] == summary["errors"] == summary["function_errors"] == 0
    # One cold start per environment the emulator created, by its control API and its trace.
    assert summary["cold_starts"] == summary["emulator"]["environments_created"]
    assert summary["cold_starts"] == summary["trace"]["environments"]
    assert summary["trace"]["cold_starts"] == summary["cold_starts"]
    # No invocation is missing from the trace (and none is there that Locust did not send).
    assert summary["trace"]["invocations"] == summary["invocations"]
    lines = (out / "trace.jsonl").read_text().splitlines()
    assert (
        len([ln for ln in lines if json.loads(ln)["function"] == "echo"]) == summary["invocations"]
    )

    assert summary["init_ms"]["p50"] > 0
    assert summary["latency_ms"]["cold"]["p50"] > 0
    assert summary["latency_ms"]["warm"]["p99"] > 0
    assert summary["max_memory_used_mb"]["max"] > 0
    assert summary["memory_mb"] == 256
    assert summary["cost"]["per_million_usd"] > 0.2  # the request fee alone is $0.20
    assert summary["cost"]["run_usd"] > 0
    assert summary["emulator"]["timeline"]
    # Locust's own reports, with cold and warm invocations named apart.
    stats_csv = (out / "locust_stats.csv").read_text()
    assert "echo [cold]" in stats_csv and "echo [warm]" in stats_csv
    assert (out / "report.html").stat().st_size > 0
    assert "Lambda summary (echo" in result.stdout
    assert "Cold-start rate" in result.stdout


def _get_json(url: str) -> Any:
    resp = httpx.get(url, timeout=10)
    resp.raise_for_status()
    return resp.json()


def test_web_ui_has_a_lambda_tab_with_the_stats(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "web"
    cmd = _load(out, "echo", "--web", "--web-port", str(port), "--autostart", "--autoquit", "2")
    cmd += ["--users", "2", "--spawn-rate", "2", "--run-time", "8s"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        stats: dict[str, Any] = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                stats = _get_json(f"{base}/lambda/stats")
            except httpx.HTTPError:
                stats = {}
            # The emulator's environments are sampled once a second.
            created = (stats.get("emulator") or {}).get("environments_created", 0)
            if stats.get("warm", 0) > 0 and created > 0:
                break
            time.sleep(0.5)
        assert stats.get("warm", 0) > 0, f"no stats from {base}/lambda/stats: {stats}"
        assert stats["function"] == "echo"
        assert stats["cold_starts"] >= 1
        assert stats["init_ms"]["p50"] > 0
        assert stats["emulator"]["environments_created"] >= 1

        page = httpx.get(f"{base}/lambda", timeout=10).text
        for text in ("Lambda: echo", "Cold-start rate", "Init Duration p99", "Cost per 1M"):
            assert text in page
        # The tab in Locust's own UI: declared in the page's template args, fed by the stats
        # endpoint the UI polls.
        index = httpx.get(f"{base}/", timeout=10).text
        assert "extendedTabs" in index and '"lambda"' in index
        polled = _get_json(f"{base}/stats/requests")
        (tab,) = polled["extended_stats"]
        assert tab["key"] == "lambda"
        metrics = {row["metric"]: row["value"] for row in tab["data"]}
        assert int(metrics["Cold starts"]) >= 1
        assert "Throttles (429)" in metrics and "Max Memory Used (max / p50)" in metrics

        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)
    assert _summary(out)["invocations"] >= stats["invocations"]


def test_spike_on_reserved_concurrency_counts_429s_as_throttles(tmp_path: Path) -> None:
    out = tmp_path / "spike"
    cmd = _load(out, "sleepy_reserved", "--shape", "spike:at=1,hold=3,base=1")
    cmd += ["--users", "6", "--run-time", "5s", "--payload", '{"sleep": 0.3}']
    _run(cmd)
    summary = _summary(out)

    assert summary["throttles"] > 0
    assert summary["errors"] == summary["function_errors"] == 0
    assert summary["error_types"] == {
        "TooManyRequestsException: ReservedFunctionConcurrentInvocationLimitExceeded": summary[
            "throttles"
        ]
    }
    # reserved_concurrency = 2: never more than two environments, each cold once.
    assert 1 <= summary["emulator"]["environments_created"] <= 2
    assert summary["cold_starts"] == summary["emulator"]["environments_created"]
    # Throttled invocations never reach the function, so the trace has only the others.
    assert summary["trace"]["invocations"] == summary["cold_starts"] + summary["warm"]
    failures = (out / "locust_failures.csv").read_text()
    assert "sleepy_reserved [throttle]" in failures
    # Throttles are results, not crashes: no exception escaped a Locust user.
    exceptions = (out / "locust_exceptions.csv").read_text().strip().splitlines()
    assert len(exceptions) == 1, exceptions  # the header only
