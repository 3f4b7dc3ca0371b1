"""The lessons table (issue 21): it fits 100 columns, every line says in words what it shows,
and each lesson's two lines show the figure the lesson is about. Built from hand-made samples:
the figures here are made up, the texts and the layout are what is checked."""

from __future__ import annotations

from emulator.lessons.measure import LESSONS, Invocation, Lesson, Row, Sample
from emulator.lessons.table import WIDTH, render_markdown, render_text, variant_lines
from emulator.metrics.report import Report


def _invocation(
    ms: float, memory: int, used: int, *, cold: bool, error: str | None = None
) -> Invocation:
    report = Report("r", ms, int(ms) + 1, memory, used, 200.0 if cold else None, error_type=error)
    payload = {"errorType": error} if error else {"cache": "miss" if cold else "hit"}
    return Invocation(200, payload, "Unhandled" if error else None, report, ms + 2)


def _sample(function: str, memory: int, *, cold_ms: float, warm_ms: float, used: int,
            error: str | None = None, warm: int = 3) -> Sample:  # fmt: skip
    return Sample(
        function,
        memory,
        _invocation(cold_ms, memory, used, cold=True, error=error),
        tuple(_invocation(warm_ms, memory, used, cold=False) for _ in range(warm)),
    )


def _rows() -> list[Row]:
    rows = []
    for lesson in LESSONS:
        size = lesson.b.memory_mb or 128
        if lesson.title.startswith("memory_hog"):
            a = _sample("memory_hog", 128, cold_ms=500, warm_ms=0, used=81, warm=0)
            b = _sample("memory_hog", 128, cold_ms=800, warm_ms=0, used=128, warm=0,
                        error="Runtime.OutOfMemory")  # fmt: skip
        elif lesson.a.function == lesson.b.function and lesson.a.memory_mb == lesson.b.memory_mb:
            a = b = _sample(lesson.a.function, size, cold_ms=2547.5, warm_ms=38, used=32)
        else:
            a = _sample(lesson.a.function, lesson.a.memory_mb or 128, cold_ms=400, warm_ms=300,
                        used=17)  # fmt: skip
            b = _sample(lesson.b.function, size, cold_ms=40, warm_ms=30, used=2)
        rows.append(Row(lesson, a, b))
    return rows


def _lesson(rows: list[Row], start: str) -> Row:
    return next(r for r in rows if r.lesson.title.startswith(start))


def test_the_table_fits_a_100_column_terminal() -> None:
    text = render_text(_rows())
    assert WIDTH == 100
    assert max(len(line) for line in text.splitlines()) <= 100
    for lesson in LESSONS:
        assert lesson.title in text


def test_every_variant_line_says_what_it_measures_in_words() -> None:
    for row in _rows():
        for side, label, measure, value, frame in variant_lines(row):
            assert side in ("A", "B") and label and frame
            assert measure in (
                "Duration, cold start",
                "Duration, warm median",
                "caller wait, warm median",
                "first byte, warm median",
                "Init Duration",
                "Max Memory Used",
            )
            assert value.endswith((" ms", " MB"))


def test_the_tmp_lines_compare_a_cold_download_with_warm_hits() -> None:
    a, b = variant_lines(_lesson(_rows(), "/tmp"))
    assert a[1:4] == ("1st call: downloads", "Duration, cold start", "2547.5 ms")
    assert b[1:4] == ("warm calls: /tmp hit", "Duration, warm median", "38.0 ms")
    assert a != b


def test_the_rust_memory_lines_show_memory_not_the_cold_start() -> None:
    rows = _rows()
    memory = variant_lines(_lesson(rows, "Rust memory"))
    init = variant_lines(_lesson(rows, "Rust cold start"))
    assert [line[2:4] for line in memory] == [
        ("Max Memory Used", "17 MB"),
        ("Max Memory Used", "2 MB"),
    ]
    assert [line[2] for line in init] == ["Init Duration", "Init Duration"]
    assert memory != init


def test_the_oom_lesson_shows_the_kill() -> None:
    row = _lesson(_rows(), "memory_hog")
    a, b = variant_lines(row)
    assert a[2:] == ("Max Memory Used", "81 MB", "of 128 MB: ok")
    assert b[2:] == ("Max Memory Used", "128 MB", "killed at 128 MB: Runtime.OutOfMemory")
    text = render_text([row])
    assert "killed at 128 MB: Runtime.OutOfMemory" in text and "B/A 1.58: shown" in text


def test_a_lesson_that_did_not_show_says_why() -> None:
    lesson: Lesson = _lesson(_rows(), "concurrent I/O").lesson
    slow = _sample("io_concurrent", 1024, cold_ms=400, warm_ms=290, used=39)
    row = Row(lesson, _sample("io_sequential", 1024, cold_ms=400, warm_ms=300, used=39), slow)
    assert "NOT shown: B/A = 0.967, expected ≤ 0.5" in render_text([row])


def test_the_markdown_table_has_the_same_lines() -> None:
    text = render_markdown(_rows())
    assert text.startswith("| lesson | variant | what is measured | value | frame |")
    assert "| | B: warm calls: /tmp hit | Duration, warm median | 38.0 ms |" in text.replace(
        "|  |", "| |"
    )
    assert text.count("\n") == 1 + 2 * len(LESSONS)
