"""The lessons table: per lesson, a title line, one line per variant saying in words what it
shows, and the verdict. Each variant's line carries the figure its lesson is about (A's own
figure where it differs, as in the /tmp lesson: A's cold start against B's warm hits), then
what frames it: the memory size and the price of a million warm invocations, or, when the
invocation failed, its error — the OOM lesson's kill.

    concurrent I/O beats sequential (3 calls of 100 ms)                     B/A ≤ 0.5 expected
     A  await one by one    Duration, warm median      312.3 ms  1024 MB, $5.42 per 1M warm
     B  asyncio.gather      Duration, warm median      107.0 ms  1024 MB, $1.98 per 1M warm
        B/A 0.343: shown

Durations are REPORT Durations; "$ per 1M warm" prices a million warm invocations at that
size (requests + GB-seconds, x86_64, no free tier). It fits a 100-column terminal (`WIDTH`).
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator import wire
from emulator.lessons.measure import Row, Sample

WIDTH = 100

# What a figure of a Sample is, in words, and its unit.
FIGURES = {
    "cold_ms": ("Duration, cold start", "ms"),
    "warm_ms": ("Duration, warm median", "ms"),
    "warm_latency_ms": ("caller wait, warm median", "ms"),
    "warm_first_byte_ms": ("first byte, warm median", "ms"),
    "init_ms": ("Init Duration", "ms"),
    "max_memory_mb": ("Max Memory Used", "MB"),
}


def _error(s: Sample) -> str | None:
    for inv in s.invocations:
        if inv.report.error_type is not None or inv.function_error is not None:
            return inv.report.error_type or inv.function_error
    return None


def _value(s: Sample, figure: str) -> str:
    unit = FIGURES[figure][1]
    value = float(getattr(s, figure))
    return f"{value:.0f} {unit}" if unit == "MB" else f"{value:.1f} {unit}"


def _context(s: Sample, figure: str) -> str:
    error = _error(s)
    if error is not None:
        if error == wire.RUNTIME_OUT_OF_MEMORY:  # the memory limit's kill
            return f"killed at {s.memory_mb} MB: {error}"
        return f"of {s.memory_mb} MB: {error}"
    if figure == "max_memory_mb":
        return f"of {s.memory_mb} MB: ok"
    return f"{s.memory_mb} MB, ${s.usd_per_million:.2f} per 1M warm"


def variant_lines(row: Row) -> list[tuple[str, str, str, str, str]]:
    """(A or B, the variant, what is measured, the value, its frame) for each variant."""
    lesson = row.lesson
    out = []
    for side, variant, sample, figure in (
        ("A", lesson.a, row.a, lesson.figure_a or lesson.figure),
        ("B", lesson.b, row.b, lesson.figure),
    ):
        out.append(
            (
                side,
                variant.label,
                FIGURES[figure][0],
                _value(sample, figure),
                _context(sample, figure),
            )
        )
    return out


def verdict(row: Row) -> str:
    problem = row.problem
    shown = "shown" if problem is None else f"NOT shown: {problem}"
    return f"B/A {row.ratio:.3g}: {shown}"


def render_text(rows: Sequence[Row]) -> str:
    lines_of = [variant_lines(row) for row in rows]
    every = [line for lines in lines_of for line in lines]
    widths = [max((len(line[i]) for line in every), default=0) for i in range(4)]
    out: list[str] = []
    for row, lines in zip(rows, lines_of, strict=True):
        if out:
            out.append("")
        expected = f"B/A {row.lesson.expect} expected"
        title = row.lesson.title
        gap = max(2, WIDTH - len(title) - len(expected))
        out.append(f"{title}{' ' * gap}{expected}".rstrip())
        for side, label, measure, value, context in lines:
            head = f" {side}  {label.ljust(widths[1])}  {measure.ljust(widths[2])}  "
            head += value.rjust(widths[3])
            if len(head) + 2 + len(context) <= WIDTH:
                out.append(f"{head}  {context}".rstrip())
            else:  # a long frame goes on a line of its own, under the figure
                out.append(head.rstrip())
                indent = max(4, min(len(head) - len(value), WIDTH - len(context)))
                out.append(f"{' ' * indent}{context}".rstrip())
        out.append(f"    {verdict(row)}")
    return "\n".join(out)


HEADER = ("lesson", "variant", "what is measured", "value", "frame", "B/A", "expected", "shown")


def render_markdown(rows: Sequence[Row]) -> str:
    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"

    body = []
    for row in rows:
        (_, a_label, a_measure, a_value, a_ctx), (_, b_label, b_measure, b_value, b_ctx) = (
            variant_lines(row)
        )
        shown = "yes" if row.problem is None else f"NO: {row.problem}"
        body.append(
            line([row.lesson.title, f"A: {a_label}", a_measure, a_value, a_ctx, "", "", ""])
        )
        b_cells = [b_label, b_measure, b_value, b_ctx, f"{row.ratio:.3g}", row.lesson.expect]
        body.append(line(["", "B: " + b_cells[0], *b_cells[1:], shown]))
    align = ["---", "---", "---", "---:", "---", "---:", "---", "---"]
    return "\n".join([line(HEADER), line(align), *body])
