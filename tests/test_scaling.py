"""Lambda's scaling: one environment per concurrent request; reserved concurrency throttles."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from emulator.metrics.report import parse_report
from emulator.pytest_plugin import EmulatorThread, InvokeResult


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


def test_reserved_concurrency_throttles_the_rest(invoke: Any, lambda_client: Any) -> None:
    results = _concurrently(invoke, "sleepy_reserved", 6, {"sleep": 1})
    ok = [r for r in results if r.status == 200]
    throttled = [r for r in results if r.status == 429]
    assert len(ok) == 2
    assert len(throttled) == 4
    for r in throttled:
        assert r.headers["x-amzn-errortype"] == "TooManyRequestsException"
        assert r.json()["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # botocore sees the same error code
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(
                lambda_client.invoke, FunctionName="sleepy_reserved", Payload=b'{"sleep": 1}'
            )
            for _ in range(3)
        ]
        errors = []
        for f in futures:
            try:
                f.result()
            except ClientError as exc:
                errors.append(exc.response["Error"]["Code"])
    assert errors == ["TooManyRequestsException"]


def test_sequential_calls_stay_on_one_warm_environment(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    results = [invoke("echo", {"i": i}) for i in range(30)]
    reports = [parse_report(r.log) for r in results]
    assert reports[0] is not None and reports[0].cold
    assert all(rep is not None and not rep.cold for rep in reports[1:])
