"""What Lambda answers, asserted alike by every sandbox's tests."""

from __future__ import annotations

from emulator.client import InvokeResult
from emulator.metrics.report import Report


def assert_oom_killed(result: InvokeResult) -> Report:
    """Over its memory size the runtime is killed: Runtime.OutOfMemory "signal: killed" in the
    Invoke answer, and a REPORT with Status: error, Error Type: Runtime.OutOfMemory (REPORT
    lines of 2025-26 quoted in public log parsers; AWS's RAPID, rapid/shutdown.go; before
    that Lambda said Runtime.ExitError, gh:DataBiosphere/azul#3485, 2021). The REPORT, for
    further checks."""
    assert result.function_error == "Unhandled"
    body = result.json()
    assert body["errorType"] == "Runtime.OutOfMemory"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    report = result.report
    assert report is not None and report.status == "error"
    assert report.error_type == "Runtime.OutOfMemory"
    return report
