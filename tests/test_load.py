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


@pytest.mark.slow
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


@pytest.mark.slow
def test_web_ui_has_a_lambda_tab_with_the_stats(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "web"
    cmd = _load(out, "echo", "--web", "--web-port", str(port), "--autostart", "--autoquit", "1")
    cmd += ["--users", "2", "--spawn-rate", "2", "--run-time", "6s"]
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


@pytest.mark.slow
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


# --- the pure parts, without Locust -----------------------------------------------------------


def _report_header(init_ms: float | None = None) -> dict[str, str]:
    import base64

    from emulator.metrics.report import Report

    line = Report("r-1", 1.5, 2 if init_ms is None else 90, 128, 40, init_ms).line()
    return {"x-amz-log-result": base64.b64encode(f"START\n{line}\n".encode()).decode()}


def test_classify_tells_cold_warm_errors_and_throttles_apart() -> None:
    from loadtests.invoke import classify
    from loadtests.stats import Outcome

    cold = classify(200, _report_header(init_ms=87.5), b"{}")
    assert cold.outcome is Outcome.COLD and cold.report is not None
    assert cold.report.init_ms == 87.5
    assert classify(200, _report_header(), b"{}").outcome is Outcome.WARM
    assert classify(200, {}, b"{}").outcome is Outcome.INVOKED
    failed = classify(
        200,
        {**_report_header(), "x-amz-function-error": "Unhandled"},
        b'{"errorType": "ValueError", "errorMessage": "no"}',
    )
    assert (failed.outcome, failed.error_type) == (Outcome.FUNCTION_ERROR, "ValueError")
    throttle = classify(
        429,
        {"x-amzn-errortype": "TooManyRequestsException"},
        b'{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"}',
    )
    assert throttle.outcome is Outcome.THROTTLE
    assert throttle.error_type == (
        "TooManyRequestsException: ReservedFunctionConcurrentInvocationLimitExceeded"
    )
    missing = classify(404, {"x-amzn-errortype": "ResourceNotFoundException"}, b"{}")
    assert (missing.outcome, missing.error_type) == (Outcome.ERROR, "ResourceNotFoundException")


def test_sigv4_signs_the_invoke_request() -> None:
    from botocore.credentials import Credentials

    from loadtests.invoke import SigV4Signer, base_headers, invoke_path

    signer = SigV4Signer("eu-west-1", Credentials("AKIDEXAMPLE", "secret"))
    url = "https://lambda.eu-west-1.amazonaws.com" + invoke_path("hello")
    headers = signer.sign(url, b"{}", base_headers())
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/lambda/aws4_request" in headers["Authorization"]
    assert headers["x-amz-log-type"] == "Tail" and "X-Amz-Date" in headers


def test_lambda_stats_merge_like_one_process() -> None:
    from emulator.metrics.report import Report
    from loadtests.stats import LambdaStats, Outcome

    whole, worker_a, worker_b, master = LambdaStats(), LambdaStats(), LambdaStats(), LambdaStats()
    for i in range(200):
        init = 100.0 + i if i % 50 == 0 else None
        report = Report(f"r{i}", 1.0 + i / 100, 2, 128, 30 + i % 7, init)
        outcome = Outcome.COLD if init else Outcome.WARM
        whole.record(outcome, 2.0 + i / 10, report)
        (worker_a if i % 2 else worker_b).record(outcome, 2.0 + i / 10, report)
    whole.record(Outcome.THROTTLE, 0.4, None, "TooManyRequestsException")
    worker_a.record(Outcome.THROTTLE, 0.4, None, "TooManyRequestsException")
    master.merge(json.loads(json.dumps(worker_a.take())))  # through JSON, as messages go
    master.merge(json.loads(json.dumps(worker_b.take())))
    assert worker_a.invocations == 0
    assert master.serialize() == json.loads(json.dumps(whole.serialize()))
    assert master.cold_starts == 4 and master.invocations == 201
    assert master.init_ms.percentile(0.5) == 150.0
    assert master.max_memory_mb.summary()["max"] == 36


def test_summary_prices_the_run_with_the_cost_model() -> None:
    from emulator.cost import cost
    from emulator.metrics.report import Report
    from loadtests.stats import LambdaStats, Outcome
    from loadtests.summary import build_summary, render_text

    stats = LambdaStats()
    for i in range(10):
        stats.record(Outcome.WARM, 3.0, Report(f"r{i}", 9.2, 10, 1024, 60))
    summary = build_summary(stats, function="f", target="t", started_at=0.0, ended_at=5.0)
    assert summary["cost"]["run_usd"] == cost(10, 10.0, 1024).total_usd
    assert summary["cold_start_rate"] == 0.0
    assert "Cost per 1M invocations" in render_text(summary)


def test_shapes(tmp_path: Path) -> None:
    from loadtests.schedules import Arrivals, Replay, ShapeError, parse_shape

    assert parse_shape("steady", 5, 2).tick(100) == (5, 2)
    step = parse_shape("step:steps=4,every=10", 8, 1)
    assert [step.tick(t) for t in (0, 10, 25, 99)] == [(2, 1), (4, 1), (6, 1), (8, 1)]
    spike = parse_shape("spike:at=2,hold=3,base=1", 50, 1)
    assert spike.tick(1) == (1, 50) and spike.tick(2.5) == (50, 50) and spike.tick(6) == (1, 50)
    diurnal = parse_shape("diurnal:period=60,min=2", 10, 1)
    assert diurnal.tick(0) == (2, 1) and diurnal.tick(30) == (10, 1)
    trace = tmp_path / "trace.jsonl"
    records = [
        {"function": "f", "accepted_at": 100.0 + t, "end": 100.5 + t} for t in (0, 0.2, 1, 3)
    ]
    records.append({"function": "other", "accepted_at": 50.0, "end": 51.0})
    trace.write_text("".join(json.dumps(r) + "\n" for r in records))
    replay = parse_shape(f"replay:{trace},speed=2,function=f", 1, 1)
    assert replay.tick(0) is not None and replay.tick(100) is None
    assert isinstance(replay, Replay)
    assert replay.offsets == pytest.approx((0.0, 0.1, 0.5, 1.5))
    # Two workers replay every other arrival each: the whole trace between them.
    first, second = (
        Arrivals((0.0, 0.1, 0.5, 1.5), workers=2),
        Arrivals((0.0, 0.1, 0.5, 1.5), worker_index=1, workers=2),
    )
    assert [first.wait(10.0), first.wait(10.0), first.wait(10.0)] == [0.0, 0.5, None]
    assert [second.wait(10.0), second.wait(10.0)] == pytest.approx([0.1, 1.5])
    with pytest.raises(ShapeError, match="unknown shape 'ramp'"):
        parse_shape("ramp", 1, 1)
    with pytest.raises(ShapeError, match="unknown option"):
        parse_shape("spike:peak=3", 1, 1)


def test_payloads(tmp_path: Path) -> None:
    import random

    from loadtests.payloads import PayloadError, Payloads

    assert Payloads.parse('{"a": 1}').pick(random.Random(1)) == b'{"a": 1}'
    (tmp_path / "big.json").write_bytes(b'{"big": true}')
    assert Payloads.parse(f"@{tmp_path / 'big.json'}").choices == (b'{"big": true}',)
    mix = tmp_path / "mix.json"
    mix.write_text(json.dumps([{"weight": 3, "payload": {"a": 1}}, {"file": "big.json"}]))
    payloads = Payloads.parse(f"weighted:{mix}")
    picks = [payloads.pick(random.Random(seed)) for seed in range(400)]
    assert set(picks) == {b'{"a": 1}', b'{"big": true}'}
    assert 200 < picks.count(b'{"a": 1}') < 380  # about 3 in 4
    with pytest.raises(PayloadError, match="expected JSON"):
        Payloads.parse("not json")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no function named 'nope'"),
        (["echo", "--shape", "ramp"], "unknown shape 'ramp'"),
        (["echo", "--shape", "spike:peak=3"], "unknown option 'peak=3'"),
        (["echo", "--payload", "{oops"], "expected JSON, @FILE or weighted:FILE.json"),
        (["echo", "--client", "requests"], "--client: must be fasthttp or httpx"),
    ],
)
def test_load_command_rejects_bad_options_before_starting_anything(
    args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    manifest = ["--manifest", str(FUNCTIONS / "lambda-emu.toml")]
    result = CliRunner().invoke(app, ["load", *args, *manifest])
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.slow
def test_replay_of_a_trace_on_two_workers_sends_every_arrival_once(tmp_path: Path) -> None:
    trace = tmp_path / "recorded.jsonl"
    arrivals = [round(i * 0.07, 3) for i in range(30)]  # 30 invocations over 2 s
    trace.write_text(
        "".join(
            json.dumps({"function": "echo", "accepted_at": 1000.0 + t, "end": 1000.05 + t}) + "\n"
            for t in arrivals
        )
    )
    out = tmp_path / "replay"
    _run(_load(out, "echo", "--shape", f"replay:{trace}", "--workers", "2", "--run-time", "60s"))
    summary = _summary(out)
    # Each worker replayed every other arrival; the master merged their stats.
    assert summary["invocations"] == len(arrivals)
    assert summary["trace"]["invocations"] == len(arrivals)
    assert summary["cold_starts"] == summary["emulator"]["environments_created"] >= 1


def test_environment_watch_sees_the_environments_the_emulator_creates(
    lambda_reset: Any, invoke: Any
) -> None:
    from loadtests.watch import EnvironmentWatch

    watch = EnvironmentWatch(lambda_reset.url, "echo")
    assert watch.probe()
    assert not EnvironmentWatch(f"http://127.0.0.1:{free_port()}", "echo").probe()
    watch.start()
    assert invoke("echo", {}).report.cold
    assert watch.poll()
    assert watch.summary()["environments_created"] == 1
    assert watch.timeline[-1][1] == 1  # one environment (idle, or still finishing)
