"""The extension lesson: analytics sent by an extension after the response cost the caller
nothing and are still billed (functions/extensions/analytics)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest

SAMPLES = Path(__file__).resolve().parent.parent / "functions" / "lambda-emu.toml"
NAMES = ("analytics_inline", "analytics_extension")


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorThread]:
    functions = tuple(fn for fn in load_manifest(SAMPLES) if fn.name in NAMES)
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=tmp_path_factory.mktemp("analytics"),
        log_to_terminal=False,
    )
    running = EmulatorThread(cfg).start()
    try:
        yield running
    finally:
        running.stop()


def _warm_figures(emu: EmulatorThread, name: str, n: int = 5) -> tuple[float, float]:
    """Median caller latency and median REPORT Duration (ms) of n warm invocations."""
    latencies: list[float] = []
    request_ids: list[str] = []
    with httpx.Client(base_url=emu.url, timeout=30) as client:
        for i in range(n + 1):
            started = time.perf_counter()
            resp = client.post(f"/2015-03-31/functions/{name}/invocations", json={"name": "x"})
            elapsed = (time.perf_counter() - started) * 1000
            assert resp.status_code == 200 and "x-amz-function-error" not in resp.headers
            if i:  # the first one is the cold start
                latencies.append(elapsed)
                request_ids.append(resp.headers["x-amzn-requestid"])
            # Let the extension finish: a request arriving while it still sends would find
            # the environment busy and start a new one (a cold start), as on Lambda.
            time.sleep(0.3)
    durations = [_duration(emu, rid) for rid in request_ids]
    return statistics.median(latencies), statistics.median(durations)


def _duration(emu: EmulatorThread, request_id: str) -> float:
    assert emu.emulator is not None and emu.emulator.trace.path is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        emu.emulator.trace.flush()
        for line in emu.emulator.trace.path.read_text().splitlines():
            if request_id in line:
                return float(httpx.Response(200, content=line).json()["duration_ms"])
        time.sleep(0.05)
    raise AssertionError(f"no trace record for {request_id}")


def test_the_extension_takes_the_analytics_off_the_callers_path(samples: EmulatorThread) -> None:
    inline_latency, inline_duration = _warm_figures(samples, "analytics_inline")
    ext_latency, ext_duration = _warm_figures(samples, "analytics_extension")
    # both pay for the 100 ms analytics round trip in Duration (and so in the bill)
    assert inline_duration >= 100 and ext_duration >= 100
    # only the inline one makes the caller wait for it
    assert inline_latency >= 100
    assert ext_latency < inline_latency / 2
