"""Runtimes that misbehave: each fault gets one Lambda-shaped outcome, and nothing is left.

tests/test_faults.py covers a Python crash, a timeout, init errors, an oversized response and
a response posted twice; these are the faults of a runtime that speaks the Runtime API badly
(tests/faults/functions/rogue/bootstrap). After every test the module's fixture checks that
the emulator still serves and that, once its environments are shut down, no process and no
cgroup of theirs remains.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.embedded import EmulatorThread

from .conftest import Answer, assert_clean, trace_records, wait_probe

Call = Callable[..., Answer]


@pytest.fixture(autouse=True)
def still_serves_and_nothing_left(
    fault_emulator: EmulatorThread, fault_token: str, call: Call
) -> Iterator[None]:
    yield
    ok = call("fault_echo", {"after": "fault"})
    assert ok.status == 200 and ok.json() == {"after": "fault"}
    assert_clean(fault_emulator, fault_token)


def one_outcome(emu: EmulatorThread, answer: Answer, outcome: str) -> dict[str, Any]:
    """The caller had one answer, and the trace one record for it, with this outcome."""
    assert answer.request_id
    records = trace_records(emu, answer.request_id)
    assert len(records) == 1, records
    assert records[0]["outcome"] == outcome, records[0]
    return records[0]


def platform_error(answer: Answer, error_type: str) -> str:
    assert answer.status == 200
    assert answer.function_error == "Unhandled"
    body = answer.json()
    assert body["errorType"] == error_type, body
    message: str = body["errorMessage"]
    return message


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


# --- crashes and hangs ---------------------------------------------------------------------
def test_crash_mid_invocation(fault_emulator: EmulatorThread, call: Call) -> None:
    answer = call("fault_rogue", {"mode": "crash"})
    message = platform_error(answer, "Runtime.ExitError")
    assert message.endswith("Runtime exited with error: exit status 7")
    record = one_outcome(fault_emulator, answer, "error")
    assert record["error_type"] == "Runtime.ExitError"


def test_crash_leaving_a_daemon_behind(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    assert fault_emulator.emulator is not None
    if fault_emulator.emulator.cgroups is None:
        pytest.skip("without cgroups a process that leaves its session escapes the sandbox")
    answer = call("fault_rogue", {"mode": "crash_child"})
    platform_error(answer, "Runtime.ExitError")
    one_outcome(fault_emulator, answer, "error")
    (child,) = (int(line) for line in wait_probe(fault_probe_dir / answer.request_id))
    # the crash reset the environment: its cgroup, and the setsid() grandchild that ignores
    # SIGTERM in it, are gone without waiting for a reset
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


@pytest.mark.parametrize("mode", ["hang", "hang_stubborn"])
def test_hang_past_the_timeout(fault_emulator: EmulatorThread, call: Call, mode: str) -> None:
    answer = call("fault_rogue", {"mode": mode})
    message = platform_error(answer, "Sandbox.Timedout")
    assert message.endswith("Task timed out after 1.00 seconds")
    one_outcome(fault_emulator, answer, "timeout")
    again = call("fault_rogue", {"mode": "echo"})
    assert again.status == 200 and again.function_error is None
    assert again.report is not None and again.report.cold  # a fresh environment


# --- init ------------------------------------------------------------------------------------
def test_exit_during_init(fault_emulator: EmulatorThread, call: Call) -> None:
    answer = call("fault_init_exit")
    message = platform_error(answer, "Runtime.ExitError")
    assert message.endswith("Runtime exited with error: exit status 2")
    one_outcome(fault_emulator, answer, "error")


def test_invoke_phase_init_output_is_in_the_log_tail(call: Call) -> None:
    answer = call("fault_init_exit")
    log = answer.log
    assert "rogue: exiting during init" in log
    assert log.index("START") < log.index("rogue: exiting during init")


def test_garbage_init_error(fault_emulator: EmulatorThread, call: Call) -> None:
    # /init/error with a body that is not JSON (nor UTF-8) and a type that is no Lambda type
    answer = call("fault_init_bad_error")
    assert answer.status == 200 and answer.function_error == "Unhandled"
    one_outcome(fault_emulator, answer, "error")


def test_garbage_before_the_first_next(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    answer = call("fault_init_garbage", {"mode": "echo", "k": 1})
    assert answer.status == 200 and answer.function_error is None
    assert answer.json()["event"] == {"mode": "echo", "k": 1}
    one_outcome(fault_emulator, answer, "success")
    (probe,) = fault_probe_dir.glob(f"init-{answer.json()['pid']}")
    statuses = dict(line.split() for line in wait_probe(probe))
    assert all(400 <= int(s) < 500 for s in statuses.values()), statuses
    assert statuses["response_before_next"] == "403"  # InvalidStateTransition
    assert statuses["put_next"] == "405"


# --- garbage during an invocation ------------------------------------------------------------
def test_garbage_requests_do_not_disturb_the_invocation(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    answer = call("fault_rogue", {"mode": "garbage_api"})
    assert answer.status == 200 and answer.function_error is None
    assert answer.json()["event"] == {"mode": "garbage_api"}
    one_outcome(fault_emulator, answer, "success")
    statuses = dict(line.split() for line in wait_probe(fault_probe_dir / answer.request_id))
    assert all(400 <= int(s) < 500 for s in statuses.values()), statuses
    assert statuses["wrong_id"] == "400"  # InvalidRequestID
    assert statuses["bogus_action"] == "404"
    again = call("fault_rogue", {"mode": "echo"})
    assert again.function_error is None and again.report is not None and not again.report.cold


def test_response_that_is_not_json(fault_emulator: EmulatorThread, call: Call) -> None:
    # Lambda hands the runtime's bytes to the caller as they are
    answer = call("fault_rogue", {"mode": "garbage_body"})
    assert answer.status == 200 and answer.function_error is None
    assert answer.payload == b"\xff\xfe\x00 not json"
    one_outcome(fault_emulator, answer, "success")


def test_error_that_is_not_json(fault_emulator: EmulatorThread, call: Call) -> None:
    answer = call("fault_rogue", {"mode": "garbage_error"})
    assert answer.status == 200 and answer.function_error == "Unhandled"
    one_outcome(fault_emulator, answer, "function_error")


def test_error_after_the_response(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    answer = call("fault_rogue", {"mode": "response_error"})
    assert answer.function_error is None and answer.json()["event"] == {"mode": "response_error"}
    one_outcome(fault_emulator, answer, "success")
    assert wait_probe(fault_probe_dir / answer.request_id) == ["error_after_response 400"]


def test_response_after_the_error(
    fault_emulator: EmulatorThread, call: Call, fault_probe_dir: Path
) -> None:
    answer = call("fault_rogue", {"mode": "error_response"})
    assert answer.function_error == "Unhandled"
    assert answer.json() == {"errorMessage": "first", "errorType": "E"}
    one_outcome(fault_emulator, answer, "function_error")
    assert wait_probe(fault_probe_dir / answer.request_id) == ["response_after_error 400"]


# --- the long poll ---------------------------------------------------------------------------
def test_long_poll_closed_early(fault_emulator: EmulatorThread, call: Call) -> None:
    first = call("fault_rogue", {"mode": "close_poll"})
    assert first.function_error is None
    # sent while the runtime's dropped poll is gone and its next one not yet made: the
    # invocation waits for (or is re-sent on) the next /next
    second = call("fault_rogue", {"mode": "echo", "n": 2})
    assert second.status == 200 and second.function_error is None
    assert second.json()["event"] == {"mode": "echo", "n": 2}
    one_outcome(fault_emulator, first, "success")
    one_outcome(fault_emulator, second, "success")
    if second.json()["pid"] == first.json()["pid"]:
        assert second.report is not None and not second.report.cold


def test_many_faults_in_a_row_leave_one_outcome_each(
    fault_emulator: EmulatorThread, call: Call
) -> None:
    modes = ["crash", "echo", "garbage_error", "echo", "hang", "response_error", "crash", "echo"]
    answers = [call("fault_rogue", {"mode": m}) for m in modes]
    assert all(a.status == 200 for a in answers)
    expected = {
        "crash": "error",
        "echo": "success",
        "garbage_error": "function_error",
        "hang": "timeout",
        "response_error": "success",
    }
    for mode, answer in zip(modes, answers, strict=True):
        one_outcome(fault_emulator, answer, expected[mode])
    assert len({a.request_id for a in answers}) == len(answers)


# --- Event invocations -----------------------------------------------------------------------
def _event(emu: EmulatorThread, payload: dict[str, Any]) -> str:
    from emulator.client import InvokeClient

    with InvokeClient(emu.url, timeout=30) as client:
        resp = client.invoke("fault_event", payload, invocation_type="Event", log_tail=False)
    assert resp.status == 202
    return resp.request_id


def _failed_records(emu: EmulatorThread, request_id: str, wait: bool) -> list[dict[str, Any]]:
    assert emu.emulator is not None
    destination = emu.emulator.functions["fault_event"].fn.on_failure
    assert destination is not None
    deadline = time.monotonic() + (30 if wait else 0)
    while True:
        records = []
        if os.path.exists(destination):
            with open(destination) as fh:
                records = [json.loads(line) for line in fh if request_id in line]
        if records or time.monotonic() >= deadline:
            return records
        time.sleep(0.05)


@pytest.mark.parametrize(("mode", "outcome"), [("crash", "error"), ("hang", "timeout")])
def test_failing_event_is_retried_then_goes_to_the_destination(
    fault_emulator: EmulatorThread, mode: str, outcome: str
) -> None:
    request_id = _event(fault_emulator, {"mode": mode})
    (failed,) = _failed_records(fault_emulator, request_id, wait=True)
    assert failed["requestContext"]["condition"] == "RetriesExhausted"
    assert failed["requestContext"]["approximateInvokeCount"] == 3
    assert failed["requestPayload"] == {"mode": mode}
    # three attempts (Lambda's two retries), one trace record each, all failed
    records = trace_records(fault_emulator, request_id, at_least=3)
    assert [r["outcome"] for r in records] == [outcome] * 3
    assert all(r["invocation_type"] == "Event" for r in records)


def test_event_with_garbage_on_the_runtime_api_is_delivered_once(
    fault_emulator: EmulatorThread,
) -> None:
    request_id = _event(fault_emulator, {"mode": "response_error"})
    records = trace_records(fault_emulator, request_id)
    time.sleep(0.5)  # a retry, if one came, would be due by now (delays are scaled to 1 %)
    records = trace_records(fault_emulator, request_id)
    assert [r["outcome"] for r in records] == ["success"]
    assert _failed_records(fault_emulator, request_id, wait=False) == []
