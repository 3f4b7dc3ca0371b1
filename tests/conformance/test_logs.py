"""Logs and LogResult tails (cases C2–C5 of the notes)."""

from __future__ import annotations

import re
from typing import Any

from conformance.calls import invoke
from conformance.conftest import FUNCTIONS


def test_tail_is_start_output_end_report(aws: Any, lambda_fresh: None) -> None:
    # [A20] LS test_lambda :: TestLambdaFeatures::test_invocation_with_logs[python3.10] › logs
    #       (rec 24-11-2025): no INIT_START in the tail; Init Duration last, a trailing tab
    result = invoke(aws, "probe", {"mode": "echo", "x": 1})
    lines = result.log.splitlines(keepends=True)
    request_id = result.response["ResponseMetadata"]["RequestId"]
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST\n"
    assert lines[-2] == f"END RequestId: {request_id}\n"
    assert re.fullmatch(
        rf"REPORT RequestId: {request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        r"Memory Size: 128 MB\tMax Memory Used: [1-9]\d* MB\tInit Duration: \d+\.\d\d ms\t\n",
        lines[-1],
    )
    assert not any(line.startswith("INIT_START") for line in lines)


def test_logging_module_line_format(aws: Any) -> None:
    # [C4] LS test_lambda :: TestRequestIdHandling::test_request_id_invoke › log_entries
    #      (rec 24-11-2025): [INFO]\t<ISO ms Z>\t<request id>\t<message>
    result = invoke(aws, "probe", {"mode": "log_and_raise"})
    request_id = result.response["ResponseMetadata"]["RequestId"]
    assert re.search(
        rf"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\t"
        r"Lambda log message - logging module$",
        result.log,
        re.M,
    )


def test_traceback_is_an_error_record_with_nbsp_indentation(aws: Any) -> None:
    # [C2] LS test_lambda_destinations :: TestDLQ::test_dead_letter_queue › log_result
    #      (rec 24-11-2025), as split by splitlines(): an [ERROR] record, its traceback lines
    #      indented with U+00A0; RIC tests/test_bootstrap.py::test_log_error_framed_log_sink
    #      (the framed sink AWS uses joins the record's lines with \n)
    result = invoke(aws, "probe", {"mode": "log_and_raise"})
    lines = result.log.splitlines()
    start = lines.index("[ERROR] Exception: Test exception (this is intentional)")
    assert lines[start + 1] == "Traceback (most recent call last):"
    assert lines[start + 2].startswith('\u00a0\u00a0File "')
    source = (FUNCTIONS / "probe" / "app.py").read_text().splitlines()
    line_no = source.index('        raise Exception("Test exception (this is intentional)")') + 1
    assert lines[start + 2].endswith(f'", line {line_no}, in handler')
    assert (
        lines[start + 3]
        == '\u00a0\u00a0\u00a0\u00a0raise Exception("Test exception (this is intentional)")'
    )
    assert lines[start + 4].startswith("END RequestId: ")
    assert "\r" not in result.log


def test_init_failure_reports_memory_used(aws: Any) -> None:
    # [C5] DOC-env "Failures during the invoke phase" (new style): REPORT carries Max Memory
    #      Used as on every invoke; LS test_lambda :: TestLambdaErrors::test_lambda_runtime_error
    #      records the REPORT with <memory> (a value, never 0)
    result = invoke(aws, "init_raise", {})
    report = next(line for line in result.log.splitlines() if line.startswith("REPORT"))
    used = int(re.search(r"Max Memory Used: (\d+) MB", report).group(1))  # type: ignore[union-attr]
    assert used > 0


def test_report_status_on_timeout(aws: Any) -> None:
    # [C6] DOC-env "Failures during the invoke phase", new style: `Status: timeout` on REPORT
    result = invoke(aws, "probe_timeout", {"mode": "sleep", "seconds": 2})
    report = next(line for line in result.log.splitlines() if line.startswith("REPORT"))
    assert "\tStatus: timeout" in report
