"""The lessons table: one row per variant, the ratio and the verdict on each lesson's B row.

    lesson | variant | memory | cold ms | warm ms | caller ms | init ms | max MB | $/1M | B/A | …

Durations are REPORT Durations (cold: the first invocation of a new environment; warm: the
median of the warm ones); "caller ms" is the caller's median warm latency; "$ / 1M" prices a
million warm invocations at that memory size (requests + GB-seconds, x86_64, no free tier).
"""

from __future__ import annotations

from collections.abc import Sequence

from emulator.lessons.measure import Row, Sample

HEADER = (
    "lesson",
    "variant",
    "memory",
    "cold ms",
    "warm ms",
    "caller ms",
    "init ms",
    "max MB",
    "$ / 1M",
    "B/A",
    "expected",
    "met",
)
_LEFT = {0, 1, 10}  # text columns; the others are numbers, right-aligned
_FIGURES = {
    "cold_ms": "cold",
    "warm_ms": "warm",
    "warm_latency_ms": "caller",
    "init_ms": "init",
    "max_memory_mb": "max MB",
}


def _cells(label: str, s: Sample) -> list[str]:
    return [
        label,
        f"{s.memory_mb} MB",
        f"{s.cold_ms:.1f}",
        f"{s.warm_ms:.1f}" if s.warm else "-",
        f"{s.warm_latency_ms:.1f}" if s.warm else "-",
        f"{s.init_ms:.1f}",
        f"{s.max_memory_mb}",
        f"{s.usd_per_million:.2f}",
    ]


def table_rows(rows: Sequence[Row]) -> list[list[str]]:
    out: list[list[str]] = []
    for row in rows:
        lesson = row.lesson
        problem = row.problem
        verdict = "yes" if problem is None else f"NO: {problem}"
        figure = _FIGURES[lesson.figure]
        if lesson.figure_a is not None:
            figure = f"{figure} / {_FIGURES[lesson.figure_a]}"
        out.append([lesson.title, *_cells(f"A: {lesson.a.label}", row.a), "", "", ""])
        out.append(["", *_cells(f"B: {lesson.b.label}", row.b), f"{row.ratio:.3g}",
                    f"{figure} {lesson.expect}", verdict])  # fmt: skip
    return out


def render_text(rows: Sequence[Row]) -> str:
    cells = [list(HEADER), *table_rows(rows)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(HEADER))]

    def line(r: list[str]) -> str:
        parts = [
            c.ljust(widths[i]) if i in _LEFT or i == len(HEADER) - 1 else c.rjust(widths[i])
            for i, c in enumerate(r)
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths), *map(line, cells[1:])])


def render_markdown(rows: Sequence[Row]) -> str:
    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"

    align = ["---" if i in _LEFT or i == len(HEADER) - 1 else "---:" for i in range(len(HEADER))]
    return "\n".join([line(HEADER), line(align), *map(line, table_rows(rows))])
