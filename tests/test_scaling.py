"""Lambda's scaling: one environment per concurrent request; reserved concurrency throttles."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError
from waiting import eventually

from emulator.client import InvokeResult
from emulator.embedded import EmulatorThread
from emulator.engine.states import EnvState
from emulator.metrics.report import parse_report
from emulator.server import Emulator


def _concurrently(invoke: Any, name: str, n: int, payload: dict[str, Any]) -> list[InvokeResult]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _i: invoke(name, payload), range(n)))


def _trace(emu: EmulatorThread, request_ids: set[str]) -> list[dict[str, Any]]:
    assert emu.emulator is not None
    emu.emulator.trace.flush()
    path = emu.emulator.trace.path
    assert path is not None
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if r["request_id"] in request_ids]


def test_eight_concurrent_invocations_run_in_eight_environments(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    results = _concurrently(invoke, "sleepy", 8, {"sleep": 1})
    assert all(r.status == 200 and r.function_error is None for r in results)
    pids = {r.json()["pid"] for r in results}
    assert len(pids) == 8
    reports = [r.report for r in results]
    assert all(rep is not None and rep.cold for rep in reports)
    records = _trace(lambda_reset, {rep.request_id for rep in reports if rep})
    assert len({r["environment_id"] for r in records}) == 8
    # all eight ran at the same time: every one started before any one ended
    assert max(r["start"] for r in records) < min(r["end"] for r in records)
    # and then they are all warm: eight more reuse the eight environments
    again = _concurrently(invoke, "sleepy", 8, {"sleep": 0.2})
    assert {r.json()["pid"] for r in again} <= pids
    assert all(r.report is not None and not r.report.cold for r in again)


def test_reserved_concurrency_throttles_the_rest(
    invoke: Any, lambda_client: Any, lambda_emulator: EmulatorThread
) -> None:
    results = _concurrently(invoke, "sleepy_reserved", 6, {"sleep": 1})
    ok = [r for r in results if r.status == 200]
    throttled = [r for r in results if r.status == 429]
    assert len(ok) == 2
    assert len(throttled) == 4
    for r in throttled:
        assert r.headers["x-amzn-errortype"] == "TooManyRequestsException"
        assert r.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # botocore sees the same error code while both slots are busy
    with ThreadPoolExecutor(2) as pool:
        busy = [pool.submit(invoke, "sleepy_reserved", {"sleep": 1}) for _ in range(2)]
        emu = lambda_emulator.emulator
        assert emu is not None
        while emu.functions["sleepy_reserved"].busy_count < 2:
            time.sleep(0.01)
        with pytest.raises(ClientError) as exc:
            lambda_client.invoke(FunctionName="sleepy_reserved", Payload=b'{"sleep": 1}')
        assert exc.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert all(f.result().status == 200 for f in busy)


def test_sequential_calls_stay_on_one_warm_environment(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    results = [invoke("echo", {"i": i}) for i in range(30)]
    reports = [parse_report(r.log) for r in results]
    assert reports[0] is not None and reports[0].cold
    assert all(rep is not None and not rep.cold for rep in reports[1:])


async def _sleepy_invoking(emu: Emulator) -> bool:
    return any(env.state is EnvState.INVOKING for env in emu.functions["sleepy"].envs)


def test_reset_retires_busy_environments_after_their_invocation(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    assert invoke("sleepy", {"sleep": 0}).report is not None  # one warm environment
    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(invoke, "sleepy", {"sleep": 0.5})
        eventually(lambda: lambda_reset.call(_sleepy_invoking), "the invocation running")
        lambda_reset.call(lambda emu: emu.functions["sleepy"].reset())
        first = busy.result()
    assert first.function_error is None and first.report is not None and not first.report.cold
    after = invoke("sleepy", {"sleep": 0})
    assert after.report is not None and after.report.cold
    assert after.json()["pid"] != first.json()["pid"]
