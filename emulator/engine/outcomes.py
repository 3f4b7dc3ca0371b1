"""What the caller is told when an init or an invoke phase ends, in Lambda's own words.

Pure functions from a phase event (what the runtime posted, the sandbox's exit, the timer, an
extension's failure) to Lambda's error bodies, REPORT status and log lines (LAMBDA_SPEC §2, §5).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from emulator import wire
from emulator.api.extensions import ExtensionFailure
from emulator.api.runtime import FunctionError, FunctionResponse, InitFailed, ResponseTooLarge
from emulator.engine.finish import Outcome
from emulator.engine.states import RuntimeReady, SandboxExited, TimedOut
from emulator.sandbox.base import ExitStatus


@dataclass(frozen=True, slots=True)
class ExtensionFailed:
    failure: ExtensionFailure


@dataclass(frozen=True, slots=True)
class InitDone:
    init_ms: float


@dataclass(frozen=True, slots=True)
class InitFailure:
    """Init did not finish: the runtime reported an error, exited, or ran out of time."""

    init_ms: float
    status: str  # "error" | "timeout"
    error_type: str
    body: bytes  # what the caller receives if this failure is final
    peak_bytes: int = 0  # the environment's peak memory: REPORT's Max Memory Used
    platform_message: str = ""  # the platform's own error (exit, timeout): named per invoke

    def payload(self, request_id: str) -> bytes:
        """What the invoke that ran this init receives: the platform's errors carry its
        request id (LocalStack's AWS-recorded TestLambdaErrors::test_lambda_runtime_exit and
        ::test_lambda_runtime_exit_segfault, 2025-11: `RequestId: <id> Error: …`)."""
        if not self.platform_message:
            return self.body
        return error_body(self.error_type, f"RequestId: {request_id} {self.platform_message}")


InitResult = InitDone | InitFailure


@dataclass(frozen=True, slots=True)
class InvokeEnd:
    """How an invoke phase ended: the caller's outcome, the log lines the platform writes,
    and whether the environment lives on (else: why it is shut down)."""

    outcome: Outcome
    ended: float  # perf_counter at the end of the function's work
    lines: tuple[str, ...] = ()
    shutdown_reason: str | None = None  # None: alive; "timeout" | "failure"


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def exit_reason(status: ExitStatus) -> str:
    """Lambda's words for a runtime that exited: status 0 gives no reason (LocalStack's
    AWS-recorded TestLambdaErrors::test_lambda_runtime_exit / test_lambda_handler_exit,
    2025-11), anything else names the status or signal."""
    if status.returncode == 0:
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: {status.describe()}"


def exit_error_type(status: ExitStatus) -> str:
    """Runtime.OutOfMemory when the memory limit killed the runtime, else Runtime.ExitError.
    AWS's RAPID (aws-lambda-runtime-interface-emulator,
    internal/lambda-managed-instances/rapid/shutdown.go › processTermination) keeps the
    message, "runtime exited with error: signal: killed", and changes only the type; Lambda's
    REPORT for an OOM reads "Status: error\tError Type: Runtime.OutOfMemory" (REPORT lines
    quoted in public log parsers, 2025-26). ⚠ That the caller's payload carries the same
    errorType is RAPID's design (its first fatal error answers the invoke), not a recording."""
    return wire.RUNTIME_OUT_OF_MEMORY if status.oom_killed else wire.RUNTIME_EXIT_ERROR


def invoke_end(event: object, request_id: str, timeout_s: float, now: float) -> InvokeEnd:
    if isinstance(event, FunctionResponse):
        return InvokeEnd(Outcome(event.body, event.content_type), event.at)
    if isinstance(event, FunctionError):
        payload = event.body or error_body(event.error_type, "")
        return InvokeEnd(Outcome(payload, function_error=True), event.at)
    if isinstance(event, ResponseTooLarge):
        error_type = wire.RESPONSE_SIZE_TOO_LARGE
        # The newest recording names no size (LocalStack's AWS-recorded
        # TestLambdaBaseFeatures::test_lambda_too_large_response, 2025-11); RIE still does.
        message = (
            "Response payload size exceeded maximum allowed payload "
            f"size ({wire.MAX_RUNTIME_RESPONSE_BYTES} bytes)."
        )
        outcome = Outcome(error_body(error_type, message), function_error=True, status="error")
        outcome = _typed(outcome, error_type)
        return InvokeEnd(
            outcome, event.at, (f"RequestId: {request_id} Error: {message}\n{error_type}",)
        )
    if isinstance(event, SandboxExited):
        error_type = exit_error_type(event.status)
        message = f"RequestId: {request_id} Error: {exit_reason(event.status)}"
        outcome = _typed(Outcome(error_body(error_type, message), function_error=True), error_type)
        return InvokeEnd(outcome, now, (f"{message}\n{error_type}",), "failure")
    if isinstance(event, ExtensionFailed):
        # ⚠ our guess at the caller's error for an extension's exit/error mid-invoke
        error_type = "Extension.ExitError"
        f = event.failure
        message = f"RequestId: {request_id} Error: extension {f.name}: {f.error_type}"
        outcome = _typed(Outcome(error_body(error_type, message), function_error=True), error_type)
        return InvokeEnd(outcome, now, (f"{message}\n{error_type}",), "failure")
    # timed out (or an event no phase expects): either way the environment is reset
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    error_type = wire.SANDBOX_TIMEDOUT
    message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
    outcome = Outcome(error_body(error_type, message), function_error=True, status="timeout")
    line = f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"
    return InvokeEnd(_typed(outcome, error_type, "timeout"), now, (line,), "timeout")


def extensions_end(event: object, outcome: Outcome, request_id: str, timeout_s: float) -> InvokeEnd:
    """The runtime answered, but the invoke phase did not end with every extension in next:
    it timed out, the runtime exited, or an extension failed. The environment is reset."""
    if isinstance(event, TimedOut):
        line = (
            f"RequestId: {request_id} Error: the runtime or an extension did not call next "
            f"within the timeout ({timeout_s:.2f} seconds)"
        )
        ended = Outcome(
            outcome.payload, outcome.content_type, outcome.function_error, "timeout",
            wire.SANDBOX_TIMEDOUT,
        )  # fmt: skip
        return InvokeEnd(ended, 0.0, (line,), "timeout")
    if isinstance(event, ExtensionFailed):
        error_type = "Extension.ExitError"
    elif isinstance(event, SandboxExited):
        error_type = exit_error_type(event.status)
    else:
        error_type = wire.RUNTIME_EXIT_ERROR
    ended = Outcome(
        outcome.payload, outcome.content_type, outcome.function_error, "error", error_type
    )
    return InvokeEnd(ended, 0.0, (), "failure")


def _typed(outcome: Outcome, error_type: str, status: str = "error") -> Outcome:
    return Outcome(
        outcome.payload,
        outcome.content_type,
        function_error=True,
        status=status,
        error_type=error_type,
    )


def init_failure(event: object, started: float, now: float, timeout_s: float) -> InitFailure:
    """An init phase that ended in anything but the runtime's first /next."""
    elapsed = (now - started) * 1000
    if isinstance(event, ExtensionFailed):
        f = event.failure
        body = f.body or error_body("Extension.InitError", f"{f.name}: {f.error_type}")
        return InitFailure(elapsed, "error", "Extension.InitError", body)
    if isinstance(event, InitFailed):
        body = event.body or error_body(event.error_type, "init error")
        return InitFailure((event.at - started) * 1000, "error", event.error_type, body)
    if isinstance(event, SandboxExited):
        message = f"Error: {exit_reason(event.status)}"
        error_type = exit_error_type(event.status)
        body = error_body(error_type, message)
        return InitFailure(elapsed, "error", error_type, body, platform_message=message)
    message = f"Error: Task timed out after {timeout_s:.2f} seconds"
    body = error_body(wire.SANDBOX_TIMEDOUT, message)
    return InitFailure(elapsed, "timeout", wire.SANDBOX_TIMEDOUT, body, platform_message=message)


def init_failure_lines(event: object) -> tuple[str, ...]:
    """What the platform logs when init fails this way (the runtime logs its own errors)."""
    if isinstance(event, ExtensionFailed):
        f = event.failure
        return (f"Extension {f.name} reported {f.kind} error: {f.error_type}",)
    if isinstance(event, SandboxExited):
        message = f"Error: {exit_reason(event.status)}"
        return (f"{message}\n{exit_error_type(event.status)}",)
    return ()


PhaseEvent = (
    FunctionResponse
    | FunctionError
    | ResponseTooLarge
    | InitFailed
    | RuntimeReady
    | SandboxExited
    | TimedOut
    | ExtensionFailed
)
