"""One Invoke API call as the harness sends and reads it, independent of the HTTP client.

    POST /2015-03-31/functions/{name}/invocations
    X-Amz-Log-Type: Tail            → X-Amz-Log-Result: base64 of the last 4 KB of the log,
                                      ending with the REPORT line
    [Authorization: AWS4-HMAC-SHA256 …]  with SigV4, so the same run targets real Lambda

`classify` turns the answer into an `Outcome` (cold, warm, function error, throttle, error)
and the parsed REPORT. Pure and import-light: botocore is imported only when signing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from emulator.metrics.report import Report, parse_report
from emulator.wire import (
    H_ERROR_TYPE,
    H_EXECUTED_VERSION,
    H_FUNCTION_ERROR,
    H_LOG_RESULT,
    H_LOG_TYPE,
    INVOKE_PREFIX,
    INVOKE_SUFFIX,
    LOG_TYPE_TAIL,
    TOO_MANY_REQUESTS,
)
from loadtests.stats import Outcome

HTTP_TOO_MANY_REQUESTS = 429


def invoke_path(function: str, qualifier: str | None = None) -> str:
    path = f"{INVOKE_PREFIX}{quote(function, safe='')}{INVOKE_SUFFIX}"
    return f"{path}?Qualifier={quote(qualifier, safe='')}" if qualifier else path


def base_headers(*, log_tail: bool = True) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if log_tail:
        headers[H_LOG_TYPE] = LOG_TYPE_TAIL
    return headers


class SigV4Signer:
    """Signs Invoke requests with botocore's SigV4 (credentials from the usual AWS chain:
    environment, profile, instance role). Only needed against real Lambda."""

    def __init__(self, region: str, credentials: Any | None = None) -> None:
        import botocore.session

        if credentials is None:
            credentials = botocore.session.get_session().get_credentials()
            if credentials is None:
                raise RuntimeError("SigV4: no AWS credentials found (environment or profile)")
        self.region = region
        self._credentials = credentials

    def sign(self, url: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
        """`headers` plus Authorization, X-Amz-Date (and the session token, if any)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
        # Frozen credentials: a refresh mid-signature cannot mix two key pairs.
        SigV4Auth(self._credentials.get_frozen_credentials(), "lambda", self.region).add_auth(
            request
        )
        return dict(request.headers.items())


@dataclass(frozen=True, slots=True)
class InvokeAnswer:
    """What the harness makes of one answer."""

    outcome: Outcome
    report: Report | None
    error_type: str | None  # X-Amz-Function-Error's errorType, or x-amzn-ErrorType
    # X-Amz-Executed-Version: the version that ran ("$LATEST", "1", ...), which for an alias
    # with weighted routing differs between invocations; None when the answer has none
    executed_version: str | None = None

    def describe(self, status: int) -> str:
        """The message Locust shows for a failed invocation."""
        detail = f": {self.error_type}" if self.error_type else ""
        return f"HTTP {status} {self.outcome.value}{detail}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def decode_log(value: str | None) -> str:
    if not value:
        return ""
    try:
        return base64.b64decode(value).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


def _error_type(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        value = data.get("errorType") or data.get("Type") or data.get("__type")
        return str(value) if value else None
    return None


def classify(status: int, headers: Mapping[str, str], body: bytes) -> InvokeAnswer:
    """The outcome of one Invoke answer: 429 is a throttle, not a crash; 200 with
    X-Amz-Function-Error is the function's error; a REPORT with Init Duration is a cold start."""
    answer = _classify(status, headers, body)
    version = _header(headers, H_EXECUTED_VERSION)
    if version is None:
        return answer
    return InvokeAnswer(answer.outcome, answer.report, answer.error_type, version)


def _classify(status: int, headers: Mapping[str, str], body: bytes) -> InvokeAnswer:
    report = parse_report(decode_log(_header(headers, H_LOG_RESULT)))
    if status == HTTP_TOO_MANY_REQUESTS:
        reason = _reason(body)
        throttle = _header(headers, H_ERROR_TYPE) or TOO_MANY_REQUESTS
        return InvokeAnswer(Outcome.THROTTLE, None, f"{throttle}: {reason}" if reason else throttle)
    if status >= 300:
        return InvokeAnswer(
            Outcome.ERROR, report, _header(headers, H_ERROR_TYPE) or _error_type(body)
        )
    if _header(headers, H_FUNCTION_ERROR):
        return InvokeAnswer(Outcome.FUNCTION_ERROR, report, _error_type(body) or "Unhandled")
    if report is None:
        return InvokeAnswer(Outcome.INVOKED, None, None)
    if report.status is not None:
        return InvokeAnswer(Outcome.ERROR, report, report.error_type or report.status)
    return InvokeAnswer(Outcome.COLD if report.cold else Outcome.WARM, report, None)


def _reason(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and data.get("Reason"):
        return str(data["Reason"])
    return None
