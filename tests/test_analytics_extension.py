"""The extension lesson: analytics sent by an extension after the response do not hold the
caller's response back and are still billed (functions/extensions/analytics). How much caller
latency that saves is measured by bench/lessons.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from serving import trace_record
from waiting import eventually

from emulator.client import InvokeClient, InvokeResult
from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread
from emulator.manifests import load_manifest

SAMPLES = Path(__file__).resolve().parent.parent / "functions" / "lambda-emu.toml"
NAMES = ("analytics_inline", "analytics_extension")
# The analytics service's round trip. Long, so that the extension is surely still sending when
# the runtime posts the response (the runtime would have to stall this long for it not to be).
FLUSH_MS = 1000


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorThread]:
    functions = tuple(
        replace(
            fn,
            environment=MappingProxyType({**fn.environment, "ANALYTICS_FLUSH_MS": str(FLUSH_MS)}),
        )
        for fn in load_manifest(SAMPLES)
        if fn.name in NAMES
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=tmp_path_factory.mktemp("analytics"),
        log_to_terminal=False,
    )
    with EmulatorThread(cfg) as running:
        yield running


def _invoke(emu: EmulatorThread, name: str) -> InvokeResult:
    with InvokeClient(emu.url, timeout=30) as client:
        result = client.invoke(name, {"name": "x"})  # with the log tail
    assert result.status == 200 and result.function_error is None, result.payload
    assert result.json() == {"greeting": "hello x"}
    return result


def test_inline_analytics_are_sent_before_the_response(samples: EmulatorThread) -> None:
    result = _invoke(samples, "analytics_inline")
    # the caller's response waited for the whole invoke phase: its log tail has the REPORT
    report = result.report
    assert report is not None and report.cold
    assert report.duration_ms >= FLUSH_MS  # the analytics round trip (a sleep), billed


def test_the_extension_sends_the_analytics_after_the_response(samples: EmulatorThread) -> None:
    assert samples.emulator is not None
    pool = samples.emulator.functions["analytics_extension"]
    for i in range(2):
        result = _invoke(samples, "analytics_extension")
        # the response left while the extension was still sending: the invoke phase had not
        # ended, so the log tail that came with it has no REPORT yet
        assert result.report is None
        request_id = result.request_id
        eventually(lambda: trace_record(samples, request_id) is not None, "the REPORT")  # noqa: B023
        record = trace_record(samples, request_id)
        assert record is not None
        assert record["cold"] is (i == 0)  # the second reuses the environment
        # the extension sent the analytics (its round trip is a sleep of FLUSH_MS, the one
        # wait in the invocation) before the invoke phase ended: in Duration, so in the bill
        assert record["duration_ms"] >= FLUSH_MS and record["billed_ms"] >= FLUSH_MS
        # the extension has called next: the environment is free for the next invocation
        eventually(lambda: pool.describe()["idle"] == 1, "the environment idle")
