"""Lambda's performance lessons, measured side by side: the timing claims the tests do not make.

The tests check what the sample functions do (tests/test_lessons.py, test_analytics_extension.py,
test_tuning.py); how much faster, smaller or cheaper one variant is than the other is measured
here, on this machine, in one run:

- lessons: every pair of `emulator/lessons/measure.LESSONS` (the table `lambda-emu lessons`
  prints: concurrent vs sequential I/O, a client at init, memory buys CPU, Rust vs Python on
  CPU, cold start and memory, /tmp, analytics in an extension, the memory limit) and two more
  figures of the same runs: the Init Duration a client at init adds, and the Duration the
  analytics extension is billed. Each pair runs through `LessonBench` (the real emulator,
  process sandbox, and the local downstream service with its 100 ms delays); one line per
  lesson gives both figures, B / A and whether Lambda's predicted relation held.
- tuning: a small power-tuning sweep of functions/cpu_python (`--sizes`, `--invocations` each):
  the fastest Duration per size and whether it has Lambda's shape (falls with memory up to one
  vCPU at 1,769 MB, flat beyond; the cheapest size below 1,769 MB, the fastest at or above it).

Everything listens on and talks to 127.0.0.1 only; the run stops by itself after --deadline-s.
Figures go to stdout and bench/results/lessons.json. Nothing fails the run: a relation that did
not hold is printed as such (a shared, busy host bends the CPU figures first).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from emulator import tuning
from emulator.lessons.measure import (
    LESSONS,
    Lesson,
    LessonBench,
    Row,
    Variant,
    run_lessons,
    sizes_of,
)
from emulator.manifests import load_manifest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "functions" / "lambda-emu.toml"
TUNING_SIZES = (128, 512, 1024, 1769, 3008)
TUNING_WORK = '{"n": 1500000}'  # ~0.1 s of one vCPU, 1.4 s at 128 MB: long against the CFS period

_INIT = next(ls for ls in LESSONS if ls.a.function == "init_in_handler")
_INIT_NODE = next(ls for ls in LESSONS if ls.a.function == "init_in_handler_node")
_ANALYTICS = next(ls for ls in LESSONS if ls.a.function == "analytics_inline")
# The same runs as the lessons above (measured once), compared on another figure.
EXTRA: tuple[Lesson, ...] = (
    Lesson(
        "client at init: its set-up moves into Init",
        _INIT.a,
        _INIT.b,
        "init_ms",
        "> 1",
        lambda r: r > 1,
        check=_INIT.check,
    ),
    Lesson(
        "Node: client at init: its set-up moves into Init",
        _INIT_NODE.a,
        _INIT_NODE.b,
        "init_ms",
        "> 1",
        lambda r: r > 1,
        check=_INIT_NODE.check,
    ),
    Lesson(
        "extensions work after the response: billed Duration",
        _ANALYTICS.a,
        _ANALYTICS.b,
        "warm_ms",
        "≥ 0.5 (both pay the 100 ms)",
        lambda r: r >= 0.5,
        pause_s=_ANALYTICS.pause_s,
        check=_ANALYTICS.check,
    ),
)
_UNITS = {"max_memory_mb": "MB"}
_FIGURES = {
    "cold_ms": "cold Duration",
    "warm_ms": "warm Duration",
    "warm_latency_ms": "caller latency",
    "init_ms": "Init Duration",
    "max_memory_mb": "Max Memory Used",
}


class Overrun(Exception):
    pass


def _overrun(signum: int, frame: FrameType | None) -> None:
    raise Overrun("the deadline passed")


def _figure(value: float, figure: str) -> str:
    unit = _UNITS.get(figure, "ms")
    return f"{value:.0f} {unit}" if unit == "MB" else f"{value:.1f} {unit}"


def _label(v: Variant) -> str:
    return f"{v.label} ({v.served_as})"


def lesson_line(row: Row) -> str:
    lesson = row.lesson
    figure_a = lesson.figure_a or lesson.figure
    verdict = "holds" if row.problem is None else f"does NOT hold ({row.problem})"
    return (
        f"{lesson.title}\n"
        f"    {_FIGURES[lesson.figure]}: {_label(lesson.a)} {_figure(row.figure_a, figure_a)}"
        f" vs {_label(lesson.b)} {_figure(row.figure_b, lesson.figure)},"
        f" ratio {row.ratio:.2f}, lesson predicts {lesson.expect}: {verdict}"
    )


def lesson_record(row: Row) -> dict[str, Any]:
    lesson = row.lesson
    return {
        "lesson": lesson.title,
        "figure": lesson.figure,
        "figure_a": lesson.figure_a or lesson.figure,
        "a": {"variant": lesson.a.label, "function": lesson.a.served_as, "value": row.figure_a},
        "b": {"variant": lesson.b.label, "function": lesson.b.served_as, "value": row.figure_b},
        "ratio": round(row.ratio, 4),
        "expected": lesson.expect,
        "holds": row.problem is None,
        "problem": row.problem,
    }


def measure_lessons(lessons: Sequence[Lesson]) -> list[Row]:
    names = sorted({v.function for ls in lessons for v in (ls.a, ls.b)})
    with tempfile.TemporaryDirectory(prefix="bench-lessons-") as state:
        bench = LessonBench(Path(state), names=names, sizes=sizes_of(lessons)).start()
        try:
            print(f"downstream service on {bench.downstream.url}", file=sys.stderr)
            return run_lessons(
                bench, lessons, progress=lambda m: print(f"  {m}", file=sys.stderr, flush=True)
            )
        finally:
            bench.stop()


def tuning_checks(result: tuning.TuningResult) -> list[tuple[str, str, bool]]:
    """(what Lambda predicts, what was measured, whether it held) for the sweep."""
    fastest = {m.memory_mb: min(m.durations_ms) for m in result.measurements}
    sizes = sorted(fastest)
    below = [s for s in sizes if s <= 1769]
    out: list[tuple[str, str, bool]] = []
    if len(below) >= 2:
        falls = all(fastest[a] > fastest[b] for a, b in itertools.pairwise(below))
        shown = " > ".join(f"{fastest[s]:.0f}" for s in below)
        out.append((f"Duration falls with memory up to 1769 MB ({below})", shown, falls))
    if 128 in fastest and 1769 in fastest:
        ratio = fastest[128] / fastest[1769]
        out.append(("128 MB / 1769 MB Duration 4–30 (CPU share 13.8)", f"{ratio:.1f}",
                    4.0 < ratio < 30.0))  # fmt: skip
    if 1769 in fastest and 3008 in fastest:
        ratio = fastest[3008] / fastest[1769]
        out.append(("3008 MB / 1769 MB Duration > 0.7 (one thread, one vCPU)", f"{ratio:.2f}",
                    ratio > 0.7))  # fmt: skip
    if any(s < 1769 for s in sizes) and any(s >= 1769 for s in sizes):
        cheapest = tuning.recommend(result.measurements, "cost").memory_mb
        speediest = tuning.recommend(result.measurements, "speed").memory_mb
        out.append(("the cheapest size is below 1769 MB", f"{cheapest} MB", cheapest < 1769))
        out.append(("the fastest size is 1769 MB or more", f"{speediest} MB", speediest >= 1769))
    return out


def measure_tuning(sizes: Sequence[int], invocations: int) -> tuning.TuningResult:
    fn = next(f for f in load_manifest(SAMPLES) if f.name == "cpu_python")
    workload = tuning.Workload(
        invocations=invocations, payloads=tuning.payload_choices(TUNING_WORK)
    )
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as state:
        return tuning.tune(fn, sizes, workload, strategy="cost", state_dir=Path(state))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--part", choices=["lessons", "tuning", "all"], default="all")
    parser.add_argument("--only", help="only the lessons whose title contains this")
    parser.add_argument(
        "--sizes", default=",".join(map(str, TUNING_SIZES)), help="tuning sweep sizes (MB)"
    )
    parser.add_argument("--invocations", type=int, default=3, help="per size in the sweep")
    parser.add_argument("--deadline-s", type=int, default=900, help="stop the run after this")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _overrun)
    signal.alarm(args.deadline_s)
    started = time.monotonic()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": round(os.getloadavg()[0], 2),
    }
    if args.part in ("lessons", "all"):
        lessons = [
            ls
            for ls in (*LESSONS, *EXTRA)
            if args.only is None or args.only.lower() in ls.title.lower()
        ]
        rows = measure_lessons(lessons)
        print("[lessons] REPORT figures (warm: median of the warm invocations)")
        for row in rows:
            print(lesson_line(row))
        held = sum(row.problem is None for row in rows)
        print(f"{held} of {len(rows)} lessons held\n")
        result["lessons"] = [lesson_record(row) for row in rows]
    if args.part in ("tuning", "all"):
        sizes = [int(s) for s in args.sizes.split(",")]
        sweep = measure_tuning(sizes, args.invocations)
        print(f"[tuning] cpu_python {TUNING_WORK}, {args.invocations} invocations per size")
        print(f"  {'memory':>7}  {'fastest ms':>10}  {'avg ms':>9}  {'$ / 1M':>8}")
        for m in sweep.measurements:
            print(
                f"  {m.memory_mb:>4} MB  {min(m.durations_ms):>10.1f}  {m.avg_ms:>9.1f}"
                f"  {m.cost_per_million_usd:>8.2f}"
            )
        checks = tuning_checks(sweep)
        for what, measured, holds in checks:
            print(f"  {what}: {measured}: {'holds' if holds else 'does NOT hold'}")
        result["tuning"] = {
            "work": json.loads(TUNING_WORK),
            "invocations": args.invocations,
            "sizes": [
                {
                    "memory_mb": m.memory_mb,
                    "fastest_ms": round(min(m.durations_ms), 2),
                    "avg_ms": round(m.avg_ms, 2),
                    "usd_per_million": round(m.cost_per_million_usd, 4),
                    "errors": m.errors,
                }
                for m in sweep.measurements
            ],
            "checks": [{"expected": w, "measured": m, "holds": h} for w, m, h in checks],
        }
    signal.alarm(0)
    result["load_after"] = round(os.getloadavg()[0], 2)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(
        f"\n{result['seconds']:.0f} s; load average {result['load_before']} → "
        f"{result['load_after']} on {result['cpus']} cores (a shared host)"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "lessons.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
