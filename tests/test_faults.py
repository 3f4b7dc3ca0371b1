"""A runtime that fails: each failure gets Lambda's error shape, and nothing is lost."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from emulator.embedded import EmulatorThread


def test_timeout(invoke: Any) -> None:
    result = invoke("timeout", {"sleep": 5})
    assert result.status == 200
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Sandbox.Timedout"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert body["errorMessage"].startswith(f"RequestId: {result.report.request_id} Error: ")
    assert result.report.status == "timeout"
    assert "Task timed out after 1.00 seconds" in result.log
    # the environment was reset: the next invocation initialises again
    after = invoke("timeout", {"sleep": 0})
    assert after.function_error is None
    assert after.report is not None and after.report.cold


def test_crash_exit_status(invoke: Any) -> None:
    result = invoke("crash", {"code": 3})
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"] == (
        f"RequestId: {result.report.request_id} Error: Runtime exited with error: exit status 3"
    )
    assert "about to crash" in result.log
    assert result.report.status == "error"
    assert result.report.error_type == "Runtime.ExitError"


def test_crash_by_signal(invoke: Any) -> None:
    result = invoke("crash", {"signal": True})
    body = result.json()
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: signal: killed")


def test_init_error_import(invoke: Any) -> None:
    result = invoke("import_error")
    assert result.status == 200
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in body["errorMessage"]
    assert "INIT_REPORT" in result.log
    assert result.report is not None and result.report.status == "error"


def test_init_past_the_limit(invoke: Any) -> None:
    # Init limit is 1 s in this suite; the retry inside the invoke phase gets the 2 s timeout.
    result = invoke("init_slow")
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    assert result.report is not None and result.report.status == "timeout"


def test_oversized_response(invoke: Any) -> None:
    result = invoke("big", {"size": 7_000_000})
    assert result.status == 200
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in body["errorMessage"]
    # awslambdaric exits when its /response is refused (as it would on Lambda); the emulator
    # answers the next invocation from a new environment
    ok = invoke("big", {"size": 10})
    assert ok.function_error is None and ok.json() == "x" * 10


def test_custom_runtime_round_trip(invoke: Any) -> None:
    result = invoke("custom", {"mode": "echo", "k": 1})
    assert result.function_error is None
    body = result.json()
    assert body["event"] == {"mode": "echo", "k": 1}
    headers = body["headers"]
    assert headers["Lambda-Runtime-Aws-Request-Id"] == result.report.request_id
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert 0 < deadline - time.time() * 1000 <= 3000  # a real epoch deadline
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:custom")
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")


def test_response_posted_twice(invoke: Any, probe_dir: Path) -> None:
    result = invoke("custom", {"mode": "twice"})
    assert result.function_error is None
    assert result.json()["event"] == {"mode": "twice"}
    probe = _wait_probe(probe_dir / result.report.request_id)
    assert probe.startswith("400 ")
    assert '"errorType": "InvalidRequestID"' in probe
    # the caller got exactly one answer, and the environment still serves
    again = invoke("custom", {"mode": "echo"})
    assert again.function_error is None and not again.report.cold


def test_wrong_request_id(invoke: Any, probe_dir: Path) -> None:
    result = invoke("custom", {"mode": "wrong_id"})
    assert result.function_error is None
    probe = _wait_probe(probe_dir / result.report.request_id)
    assert probe.startswith("400 ") and "InvalidRequestID" in probe


def test_custom_runtime_error(invoke: Any) -> None:
    result = invoke("custom", {"mode": "error"})
    assert result.function_error == "Unhandled"
    assert result.json() == {"errorMessage": "custom failure", "errorType": "CustomError"}


def test_custom_runtime_init_error(invoke: Any) -> None:
    result = invoke("custom_init_error")
    assert result.function_error == "Unhandled"
    assert result.json() == {"errorMessage": "init failed", "errorType": "Custom.InitFailed"}
    assert "Error Type: Runtime.CustomInitFailed" in result.log


def test_event_invocation_is_retried_twice_on_error(
    lambda_emulator: EmulatorThread, invoke: Any
) -> None:
    emu = lambda_emulator.emulator
    assert emu is not None
    before = emu.functions["boom"].counters.invocations
    result = invoke("boom", invocation_type="Event", log_tail=False)
    assert result.status == 202 and result.payload == b""
    deadline = time.monotonic() + 30
    while emu.functions["boom"].counters.invocations < before + 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.functions["boom"].counters.invocations == before + 3  # first attempt + 2 retries


def _wait_probe(path: Path) -> str:
    # the runtime writes the probe after the caller has its answer: wait for a whole line
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            break
        time.sleep(0.02)
    return path.read_text()
