"""Emulator faults: SIGTERM and SIGKILL with invocations in flight and events queued.

Nothing accepted is lost: the durable Event queue across stops, crashes (SIGKILL) and
restarts, on-failure destinations, and SIGTERM draining in-flight invocations."""

from __future__ import annotations

import json
import signal
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve_cli import FUNCTIONS, _alive, _serve
from waiting import eventually, while_progressing

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.engine.eventstore import EventStore
from emulator.manifests import load_manifest


def _functions(**overrides: Any) -> tuple[FunctionConfig, ...]:
    wanted = ("boom", "echo", "sleepy")
    return tuple(
        replace(fn, **overrides.get(fn.name, {}))
        for fn in load_manifest(FUNCTIONS / "lambda-emu.toml")
        if fn.name in wanted
    )


def _start(state: Path, functions: tuple[FunctionConfig, ...], scale: float) -> EmulatorThread:
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=state,
        log_to_terminal=False,
        event_retry_delay_scale=scale,
    )
    return EmulatorThread(cfg).start()


def _event(url: str, name: str, payload: dict[str, Any]) -> str:
    resp = httpx.post(
        f"{url}/2015-03-31/functions/{name}/invocations",
        json=payload,
        headers={"X-Amz-Invocation-Type": "Event"},
        timeout=30,
    )
    assert resp.status_code == 202
    return resp.headers["x-amzn-requestid"]


def _traced(state: Path, request_id: str) -> list[dict[str, Any]]:
    path = state / "traces" / "invocations.jsonl"
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in records if r["request_id"] == request_id]


def _flush(emu: EmulatorThread) -> None:
    assert emu.emulator is not None
    emu.emulator.trace.flush()
    emu.emulator.logs.flush()


def test_a_queued_event_survives_a_stop_and_fails_to_its_destination(tmp_path: Path) -> None:
    state = tmp_path / "state"
    destination = tmp_path / "failed.jsonl"
    functions = _functions(boom={"on_failure": str(destination)})
    # Lambda's real delays (1 min before the first retry): the stop catches the event waiting
    first = _start(state, functions, scale=1.0)
    try:
        request_id = _event(first.url, "boom", {"n": 1})

        def attempted() -> bool:
            _flush(first)
            return len(_traced(state, request_id)) == 1

        eventually(attempted, "the first attempt")
    finally:
        first.stop()
    store = EventStore(state / "events.sqlite3")
    (kept,) = store.pending()
    store.close()
    assert kept.invocation.request_id == request_id and kept.attempts == 1

    second = _start(state, functions, scale=0.001)  # retries after 60 ms and 120 ms
    try:
        eventually(destination.exists, "the failure destination")
        _flush(second)
    finally:
        second.stop()
    (record,) = [json.loads(line) for line in destination.read_text().splitlines()]
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # 1 + 2 retries
    assert record["requestContext"]["functionArn"].endswith(":function:boom:$LATEST")
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "boom"
    assert len(_traced(state, request_id)) == 3  # one attempt per outcome, never more
    store = EventStore(state / "events.sqlite3")
    assert store.count() == 0
    store.close()


def test_retry_attempts_and_a_function_destination(tmp_path: Path) -> None:
    state = tmp_path / "state"
    functions = _functions(boom={"on_failure": "function:echo", "maximum_retry_attempts": 0})
    emu = _start(state, functions, scale=0.001)
    try:
        request_id = _event(emu.url, "boom", {"n": 2})

        def echoed() -> bool:
            _flush(emu)
            log = state / "logs" / "echo.log"
            return log.exists() and request_id in log.read_text()

        eventually(echoed, "the invocation record delivered to echo")
        assert len(_traced(state, request_id)) == 1  # MaximumRetryAttempts 0: no retry
        assert "RetriesExhausted" in (state / "logs" / "echo.log").read_text()
    finally:
        emu.stop()


def test_an_event_in_flight_survives_sigkill_and_orphans_are_cleaned(tmp_path: Path) -> None:
    served = _serve(tmp_path, "--event-retry-scale", "1")
    try:
        request_id = _event(served.url, "sleepy", {"sleep": 30})

        def running() -> list[dict[str, Any]]:
            envs = httpx.get(f"{served.url}/_emu/environments").json()["environments"]
            return [e for e in envs if e["function"] == "sleepy" and e["pid"]]

        eventually(lambda: bool(running()), "the event running")
        (env,) = running()
        served.proc.send_signal(signal.SIGKILL)
        served.proc.wait()
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
        assert served.proc.stderr is not None
        served.proc.stderr.close()
    # the runtime outlived the emulator: the next start on this state directory removes it
    # (where cgroups hold it) and delivers the event again (at least once, as Lambda allows)
    again = _serve(tmp_path, "--event-retry-scale", "1")
    try:
        health = httpx.get(f"{again.url}/_emu/health").json()
        if health.get("cgroups"):
            eventually(lambda: not _alive(env["pid"]), "the orphaned runtime gone")
        eventually(
            lambda: any(
                e["function"] == "sleepy" and e["state"] != "Ready"
                for e in httpx.get(f"{again.url}/_emu/environments").json()["environments"]
            ),
            "the event delivered again",
        )
        store = EventStore(tmp_path / "state" / "events.sqlite3")
        assert [e.invocation.request_id for e in store.pending()] == [request_id]
        store.close()
    finally:
        again.proc.send_signal(signal.SIGTERM)
        again.proc.wait(60)
        assert again.proc.stderr is not None
        again.proc.stderr.close()


def test_sigterm_answers_in_flight_invocations_then_exits(tmp_path: Path) -> None:
    served = _serve(tmp_path)
    answers: list[httpx.Response] = []
    caller = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{served.url}/2015-03-31/functions/sleepy/invocations",
                json={"sleep": 1},
                timeout=60,
            )
        )
    )
    try:
        caller.start()
        eventually(
            lambda: any(
                e["function"] == "sleepy" and e["state"] == "Invoking"
                for e in httpx.get(f"{served.url}/_emu/environments").json()["environments"]
            ),
            "the invocation running",
        )
        pids = [
            e["pid"]
            for e in httpx.get(f"{served.url}/_emu/environments").json()["environments"]
            if e["pid"]
        ]
        served.proc.send_signal(signal.SIGTERM)
        caller.join(60)
        assert served.proc.wait(60) == 0
    finally:
        if served.proc.poll() is None:
            served.proc.kill()
        assert served.proc.stderr is not None
        served.proc.stderr.close()
    (answer,) = answers
    assert answer.status_code == 200 and "pid" in answer.json()
    assert not any(_alive(pid) for pid in pids)


@pytest.mark.parametrize("n", [200])
def test_many_events_are_each_delivered_once(tmp_path: Path, n: int) -> None:
    state = tmp_path / "state"
    emu = _start(state, _functions(), scale=0.001)
    try:
        with httpx.Client(base_url=emu.url, timeout=30) as client:
            ids = {
                client.post(
                    "/2015-03-31/functions/echo/invocations",
                    json={"i": i},
                    headers={"X-Amz-Invocation-Type": "Event"},
                ).headers["x-amzn-requestid"]
                for i in range(n)
            }
        assert emu.emulator is not None
        events = emu.emulator.events
        while_progressing(
            lambda: events.delivered == n, lambda: events.delivered, f"{n} events delivered"
        )
        _flush(emu)
    finally:
        emu.stop()
    path = state / "traces" / "invocations.jsonl"
    seen = [json.loads(line)["request_id"] for line in path.read_text().splitlines()]
    assert sorted(seen) == sorted(ids)  # each exactly once


def test_a_full_event_queue_answers_429_not_memory(tmp_path: Path) -> None:
    emu = _start(tmp_path / "state", _functions(), scale=0.001)
    try:
        assert emu.emulator is not None
        emu.emulator.events.max_pending = 1
        _event(emu.url, "sleepy", {"sleep": 1})
        resp = httpx.post(
            f"{emu.url}/2015-03-31/functions/sleepy/invocations",
            json={"sleep": 0},
            headers={"X-Amz-Invocation-Type": "Event"},
        )
        assert resp.status_code == 429
        assert resp.json()["Reason"] == "CallerRateLimitExceeded"
        assert resp.headers["x-amzn-errortype"] == "TooManyRequestsException"
    finally:
        emu.stop()
