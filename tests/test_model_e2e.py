"""End to end: Poisson traffic against the emulator for ~10 s writes a trace; `lambda-emu model`
on that trace predicts the cold starts the run saw.

The emulator runs `sleepy` (0.2 s per invocation) with a 1 s keep-alive, so cold starts come
both from concurrency peaks and from environments reclaimed between bursts. Its reaper runs
once a second (emulator/server.py REAP_INTERVAL_S) and reclaims what has been idle over 1 s, so
an idle environment lives 1 to 2 s, all of them on the same ticks: the model is given
`reaper:1s,1s` (the tick's phase drawn per run).

The observed count is one draw of a random process — the run's service and init times, the
reaper's phase and, for Poisson, the arrivals — which the model replicates over seeds (`--runs`).
Both checks ask the observed count to lie within the model's mean ± (3 sd + 1): 3 sd covers
99.7 % of a normal spread, +1 the count being an integer.
- Replay of the run's own arrival times (50 seeds): only the per-invocation times (resampled
  from the trace) and the reaper's phase vary, so the spread is narrow (sd ≈ 1 cold start).
- The same Poisson traffic, 5/s for 10 s (300 seeds): the arrivals vary too (sd ≈ 2.5).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from emulator.cli import app
from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest

FUNCTIONS = Path(__file__).parent / "functions"
RATE_PER_S = 5.0
RUN_S = 10.0
SLEEP_S = 0.2
KEEP_ALIVE_S = 1.0
KEEP_ALIVE = f"reaper:{KEEP_ALIVE_S}s,1s"  # the emulator reaps once a second


@pytest.fixture(scope="module")
def observed_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("model-e2e")
    sleepy = next(fn for fn in load_manifest(FUNCTIONS / "lambda-emu.toml") if fn.name == "sleepy")
    cfg = EmulatorConfig(
        functions=(replace(sleepy, timeout_s=10),),
        port=0,
        sandbox="process",  # the model is under test, not the sandbox: the lightest one
        state_dir=state,
        log_to_terminal=False,
        keep_alive_s=KEEP_ALIVE_S,
        sample_interval_s=0.0,
    )
    emu = EmulatorThread(cfg).start()
    try:
        rng = np.random.default_rng(2026)
        gaps = rng.exponential(1 / RATE_PER_S, int(RATE_PER_S * RUN_S * 3))
        offsets = np.cumsum(gaps)
        offsets = offsets[offsets < RUN_S]
        statuses: list[int] = []
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        with httpx.Client(base_url=emu.url, timeout=30, limits=limits) as client:

            def one() -> None:
                resp = client.post(
                    "/2015-03-31/functions/sleepy/invocations",
                    content=json.dumps({"sleep": SLEEP_S}).encode(),
                )
                statuses.append(resp.status_code)

            threads = []
            start = time.monotonic()
            for offset in offsets:  # open loop: each arrival on its own thread, on time
                delay = start + float(offset) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                thread = threading.Thread(target=one)
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join(60)
        assert statuses == [200] * len(offsets)
    finally:
        emu.stop()
    trace = state / "traces" / "invocations.jsonl"
    assert trace.exists()
    return trace


def model_json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["model", *args, "--no-recommend", "--json", "-"])
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


def observed_cold_starts(trace: Path) -> tuple[int, int]:
    records = [json.loads(line) for line in trace.read_text().splitlines() if line.strip()]
    return sum(1 for r in records if r["cold"]), len(records)


def test_replay_of_the_run_predicts_its_cold_starts(observed_trace: Path) -> None:
    observed, invocations = observed_cold_starts(observed_trace)
    assert observed >= 2  # the scenario makes cold starts beyond the first
    doc = model_json(
        str(observed_trace),
        "--traffic",
        "replay",
        "--keep-alive",
        KEEP_ALIVE,
        "--runs",
        "50",
    )
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert summary["invocations"] == invocations
    spread = doc["replications"]["cold_starts"]  # type: ignore[index]
    mean, sd = spread["mean"], spread["sd"]
    print(
        f"observed {observed} cold starts in {invocations}; replay predicts {mean:.2f} ({sd:.2f})"
    )
    assert abs(observed - mean) <= 3 * sd + 1, (observed, mean, sd)


def test_same_poisson_traffic_predicts_the_cold_start_count(observed_trace: Path) -> None:
    observed, _ = observed_cold_starts(observed_trace)
    doc = model_json(
        str(observed_trace),
        "--traffic",
        f"poisson:{RATE_PER_S}/s",
        "--duration",
        f"{RUN_S}s",
        "--keep-alive",
        KEEP_ALIVE,
        "--runs",
        "300",
    )
    spread = doc["replications"]["cold_starts"]  # type: ignore[index]
    mean, sd = spread["mean"], spread["sd"]
    print(f"observed {observed} cold starts; Poisson predicts {mean:.2f} (sd {sd:.2f})")
    assert abs(observed - mean) <= 3 * sd + 1, (observed, mean, sd)
