"""START / END / REPORT lines in Lambda's exact format, and their parser (LAMBDA_SPEC §5).

    START RequestId: <id> Version: $LATEST
    END RequestId: <id>
    REPORT RequestId: <id>\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t
        Max Memory Used: 56 MB\tInit Duration: 130.49 ms\t[Status: error\tError Type: X\t]

The parser is pure and import-light: the load harness uses it on real Lambda's logs too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Report:
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_mb: int
    init_ms: float | None = None  # cold starts only
    status: str | None = None  # "error" | "timeout" on platform failures
    error_type: str | None = None

    @property
    def cold(self) -> bool:
        return self.init_ms is not None

    def line(self) -> str:
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_mb} MB",
        ]
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status is not None:
            parts.append(f"Status: {self.status}")
            if self.error_type is not None:
                parts.append(f"Error Type: {self.error_type}")
        # Lambda separates the fields with tabs and ends the line with one.
        return "\t".join(parts) + "\t"


def billed_duration_ms(duration_ms: float, init_ms: float | None = None, *, bill_init: bool) -> int:
    """Lambda rounds billed duration up to 1 ms (since Dec 2020). Since 2025-08-01 the INIT
    phase of on-demand functions is billed too, so a cold start bills ceil(init + duration)."""
    total = duration_ms + (init_ms if (bill_init and init_ms is not None) else 0.0)
    return max(1, math.ceil(round(total, 6)))


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def init_report_line(init_ms: float, phase: str, status: str, error_type: str | None) -> str:
    """Lambda's line for a failed or timed-out init (LAMBDA_SPEC §5, partly observed ⚠)."""
    line = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: {phase}\tStatus: {status}"
    if error_type:
        line += f"\tError Type: {error_type}"
    return line


_FIELD = re.compile(r"([A-Za-z][A-Za-z ]*?): ([^\t]+)")


def parse_report(text: str) -> Report | None:
    """The last REPORT line in `text` (a log tail), or None."""
    line = None
    for candidate in text.splitlines():
        if candidate.startswith("REPORT RequestId:"):
            line = candidate
    if line is None:
        return None
    fields = dict(_FIELD.findall(line[len("REPORT ") :]))

    def ms(name: str) -> float | None:
        value = fields.get(name)
        return float(value.split()[0]) if value else None

    def mb(name: str) -> int:
        value = fields.get(name)
        return int(value.split()[0]) if value else 0

    init = ms("Init Duration")
    return Report(
        request_id=fields.get("RequestId", "").strip(),
        duration_ms=ms("Duration") or 0.0,
        billed_ms=int(ms("Billed Duration") or 0),
        memory_mb=mb("Memory Size"),
        max_memory_mb=mb("Max Memory Used"),
        init_ms=init,
        status=fields.get("Status"),
        error_type=fields.get("Error Type"),
    )
