"""Run the sample pairs on the emulator and compare them: the figures of `lambda-emu lessons`.

A `LessonBench` starts the downstream service and an emulator (process sandbox) serving the
sample manifest, with every function that names `DOWNSTREAM_URL` pointed at that service.
`Sample` holds one function's measured invocations: one cold start, then warm ones, each
with its parsed REPORT line and the caller's latency. A `Lesson` names two variants, the
figure that compares them and the ratio (B / A) Lambda's lesson predicts; `run_lessons`
measures every lesson and returns the table rows.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from emulator import wire
from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.cost import cost_per_million
from emulator.embedded import EmbeddedEmulator
from emulator.lessons.downstream import URL_ENV, DownstreamConfig, DownstreamThread
from emulator.manifests import load_manifest
from emulator.metrics.report import Report, parse_report
from emulator.metrics.trace import read_records

if TYPE_CHECKING:
    import httpx

SAMPLES_MANIFEST = Path(__file__).resolve().parents[2] / "functions" / "lambda-emu.toml"


def sized_name(function: str, memory_mb: int) -> str:
    """The name of `function`'s copy at another memory size."""
    return f"{function}_{memory_mb}"


@dataclass(frozen=True)
class Invocation:
    status: int
    payload: Any
    function_error: str | None
    report: Report
    latency_ms: float  # the caller's: request sent → response received
    # InvokeWithResponseStream only: request sent → the response's first byte
    first_byte_ms: float | None = None


@dataclass(frozen=True)
class Sample:
    """One function measured: a cold start, then warm invocations of the same environment."""

    function: str
    memory_mb: int
    cold: Invocation
    warm: tuple[Invocation, ...]

    @property
    def invocations(self) -> tuple[Invocation, ...]:
        return (self.cold, *self.warm)

    @property
    def cold_ms(self) -> float:
        return self.cold.report.duration_ms

    @property
    def warm_ms(self) -> float:
        return statistics.median(i.report.duration_ms for i in self.warm) if self.warm else 0.0

    @property
    def warm_latency_ms(self) -> float:
        return statistics.median(i.latency_ms for i in self.warm) if self.warm else 0.0

    @property
    def warm_first_byte_ms(self) -> float:
        """The caller's wait for the first byte of a streamed response, warm median."""
        waits = [i.first_byte_ms for i in self.warm if i.first_byte_ms is not None]
        return statistics.median(waits) if waits else 0.0

    @property
    def init_ms(self) -> float:
        return self.cold.report.init_ms or 0.0

    @property
    def max_memory_mb(self) -> int:
        return max(i.report.max_memory_mb for i in self.invocations)

    @property
    def usd_per_million(self) -> float:
        """Warm invocations at this memory size: requests plus billed GB-seconds."""
        billed = statistics.median(i.report.billed_ms for i in self.warm or (self.cold,))
        return cost_per_million(self.memory_mb, billed).total_usd


class LessonBench:
    """The downstream service and an emulator serving the samples; `invoke` and `measure`."""

    def __init__(
        self,
        state_dir: Path,
        *,
        manifest: Path = SAMPLES_MANIFEST,
        names: Sequence[str] | None = None,
        sizes: Sequence[tuple[str, int]] = (),
        delay_ms: float | None = None,
    ) -> None:
        self.manifest = manifest
        self.state_dir = state_dir
        self.names = names
        # (function, memory MB): served as a copy named `sized_name(function, mb)` as well
        self.sizes = tuple(dict.fromkeys(sizes))
        self.downstream = DownstreamThread(
            DownstreamConfig() if delay_ms is None else DownstreamConfig(delay_ms=delay_ms)
        )
        self.emulator: EmbeddedEmulator | None = None
        self._client: InvokeClient | None = None
        self._http: httpx.Client | None = None  # InvokeWithResponseStream, read as it comes

    def _functions(self) -> tuple[FunctionConfig, ...]:
        out: list[FunctionConfig] = []
        for declared in load_manifest(self.manifest):
            fn = declared
            if URL_ENV in fn.environment:
                env = MappingProxyType({**fn.environment, URL_ENV: self.downstream.url})
                fn = replace(fn, environment=env)
            out += [
                replace(fn, name=sized_name(fn.name, mb), memory_mb=mb)
                for name, mb in self.sizes
                if name == fn.name
            ]
            if self.names is None or fn.name in self.names:
                out.append(fn)
        return tuple(out)

    def start(self) -> LessonBench:
        self.downstream.start()
        try:
            cfg = EmulatorConfig(
                functions=self._functions(),
                port=0,
                sandbox="process",
                state_dir=self.state_dir,
                log_to_terminal=False,
            )
            self.emulator = EmbeddedEmulator(cfg).start()
            self._client = InvokeClient(self.emulator.url, timeout=120)
            import httpx

            self._http = httpx.Client(base_url=self.emulator.url, timeout=120)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._http is not None:
            self._http.close()
        try:
            if self.emulator is not None:
                self.emulator.stop()
        finally:
            self.downstream.stop()

    def function(self, name: str) -> FunctionConfig:
        assert self.emulator is not None
        fn = self.emulator.cfg.function(name)
        if fn is None:
            raise KeyError(f"no function {name!r} in {self.manifest}")
        return fn

    def reset(self) -> None:
        """Shut every environment down: the next invocation of each function is cold."""
        assert self._client is not None
        self._client.reset(wait=True)

    def invoke(self, name: str, payload: Any = None, *, stream: bool = False) -> Invocation:
        if stream:
            return self.invoke_stream(name, payload)
        assert self._client is not None
        started = time.perf_counter()
        result = self._client.invoke(name, payload)
        latency = (time.perf_counter() - started) * 1000
        report = result.report
        if report is None and result.request_id:
            # With extensions the response leaves before the invoke phase ends, so the tail
            # has no REPORT yet: the trace record written when it ends carries the figures.
            report = self._traced_report(result.request_id)
        if report is None:
            text = result.payload[:300].decode(errors="replace")
            raise RuntimeError(f"{name}: no REPORT (HTTP {result.status}): {text}")
        try:
            body: Any = result.json()
        except ValueError:
            body = result.payload.decode(errors="replace")
        return Invocation(result.status, body, result.function_error, report, latency)

    def invoke_stream(self, name: str, payload: Any = None) -> Invocation:
        """InvokeWithResponseStream with the log tail: the first byte's wait as well; the
        REPORT comes back in InvokeComplete's LogResult."""
        from botocore.eventstream import EventStreamBuffer

        assert self._http is not None
        path = wire.INVOKE_STREAM_PATH.format(FunctionName=quote(name, safe=""))
        headers = {"Content-Type": "application/json", wire.H_LOG_TYPE: wire.LOG_TYPE_TAIL}
        body = json.dumps({} if payload is None else payload).encode()
        first_byte: float | None = None
        pieces: list[bytes] = []
        started = time.perf_counter()
        with self._http.stream("POST", path, content=body, headers=headers) as resp:
            for piece in resp.iter_raw():
                if piece and first_byte is None:
                    first_byte = (time.perf_counter() - started) * 1000
                pieces.append(piece)
        latency = (time.perf_counter() - started) * 1000
        if resp.status_code != 200:
            text = b"".join(pieces)[:300].decode(errors="replace")
            raise RuntimeError(f"{name}: HTTP {resp.status_code}: {text}")
        messages = EventStreamBuffer()
        messages.add_data(b"".join(pieces))
        streamed, complete = bytearray(), {}
        for message in messages:
            kind = message.headers.get(":event-type")
            if kind == wire.EVENT_PAYLOAD_CHUNK:
                streamed += message.payload
            elif kind == wire.EVENT_INVOKE_COMPLETE:
                complete = json.loads(message.payload or b"{}")
        report = parse_report(base64.b64decode(complete.get("LogResult", "")).decode())
        if report is None:
            raise RuntimeError(f"{name}: no REPORT in InvokeComplete: {complete}")
        text = bytes(streamed[:1000]).decode(errors="replace")  # what a failed check shows
        return Invocation(
            resp.status_code, text, complete.get("ErrorCode"), report, latency, first_byte
        )

    def _traced_report(self, request_id: str, timeout_s: float = 10.0) -> Report | None:
        assert self.emulator is not None and self.emulator.emulator is not None
        trace = self.emulator.emulator.trace

        async def flush(emu: Any) -> None:
            emu.trace.flush()

        deadline = time.monotonic() + timeout_s
        while trace.path is not None and time.monotonic() < deadline:
            self.emulator.call(flush)
            for rec in read_records(trace.path):
                if rec.get("request_id") == request_id:
                    return Report(
                        request_id=request_id,
                        duration_ms=float(rec["duration_ms"]),
                        billed_ms=int(rec["billed_ms"]),
                        memory_mb=int(rec["memory_mb"]),
                        max_memory_mb=int(rec["max_memory_mb"]),
                        init_ms=rec["init_ms"],
                        error_type=rec["error_type"],
                    )
            time.sleep(0.05)
        return None

    def measure(
        self,
        name: str,
        payload: Any = None,
        *,
        warm: int = 3,
        pause_s: float = 0.0,
        stream: bool = False,
    ) -> Sample:
        """A cold start of `name`, then `warm` invocations one after another (the same
        environment); `pause_s` between them lets post-response work (extensions) finish;
        `stream` calls InvokeWithResponseStream."""
        self.reset()
        cold = self.invoke(name, payload, stream=stream)
        if not cold.report.cold:
            raise RuntimeError(f"{name}: the first invocation after a reset was not cold")
        warm_runs: list[Invocation] = []
        for _ in range(warm):
            time.sleep(pause_s)
            warm_runs.append(self.invoke(name, payload, stream=stream))
        return Sample(name, self.function(name).memory_mb, cold, tuple(warm_runs))


@contextmanager
def lesson_bench(state_dir: Path, **kwargs: Any) -> Iterator[LessonBench]:
    bench = LessonBench(state_dir, **kwargs).start()
    try:
        yield bench
    finally:
        bench.stop()


# --- the lessons ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    label: str
    function: str
    payload: Any = None
    memory_mb: int | None = None  # None: the manifest's size
    stream: bool = False  # called through InvokeWithResponseStream

    @property
    def served_as(self) -> str:
        return (
            self.function if self.memory_mb is None else sized_name(self.function, self.memory_mb)
        )


def _no_check(a: Sample, b: Sample) -> str | None:
    return None


@dataclass(frozen=True)
class Lesson:
    title: str
    a: Variant
    b: Variant
    figure: str  # the Sample property compared (B / A): "warm_ms", "init_ms", ...
    expect: str  # what Lambda's lesson predicts of B / A, as a reader reads it
    holds: Callable[[float], bool]  # B / A meets the expectation
    figure_a: str | None = None  # A's figure when it differs from B's (cold vs warm)
    warm: int = 3
    pause_s: float = 0.0
    check: Callable[[Sample, Sample], str | None] = _no_check  # a further condition


@dataclass(frozen=True)
class Row:
    lesson: Lesson
    a: Sample
    b: Sample

    @property
    def figure_a(self) -> float:
        return float(getattr(self.a, self.lesson.figure_a or self.lesson.figure))

    @property
    def figure_b(self) -> float:
        return float(getattr(self.b, self.lesson.figure))

    @property
    def ratio(self) -> float:
        return self.figure_b / self.figure_a if self.figure_a else float("inf")

    @property
    def problem(self) -> str | None:
        """Why the lesson did not show, or None when it did."""
        if not self.lesson.holds(self.ratio):
            return f"B/A = {self.ratio:.3g}, expected {self.lesson.expect}"
        return self.lesson.check(self.a, self.b)


def _payload_key(inv: Invocation, key: str) -> Any:
    return inv.payload.get(key) if isinstance(inv.payload, dict) else None


def _same_hash(a: Sample, b: Sample) -> str | None:
    ha, hb = (_payload_key(s.cold, "hash") for s in (a, b))
    return None if ha is not None and ha == hb else f"different results: {ha} vs {hb}"


def _no_errors(a: Sample, b: Sample) -> str | None:
    for sample in (a, b):
        for inv in sample.invocations:
            if inv.function_error is not None:
                return f"{sample.function}: {inv.function_error} {str(inv.payload)[:200]}"
    return None


def _cache_hits(a: Sample, b: Sample) -> str | None:
    seen = [_payload_key(inv, "cache") for inv in b.invocations]
    return None if seen[:1] == ["miss"] and set(seen[1:]) == {"hit"} else f"cache: {seen}"


def _both_billed(a: Sample, b: Sample) -> str | None:
    # the analytics round trip (100 ms) is billed either way: after the response, in the
    # extension's post-response work
    if min(a.warm_ms, b.warm_ms) < 100:
        return f"Duration {a.warm_ms:.0f} / {b.warm_ms:.0f} ms: the analytics work was not billed"
    return _no_errors(a, b)


def _killed_at_limit(a: Sample, b: Sample) -> str | None:
    report = b.cold.report
    if report.error_type != wire.RUNTIME_OUT_OF_MEMORY:
        return f"not killed: {report.error_type or 'succeeded'} (no memory cgroup here?)"
    if report.max_memory_mb > b.memory_mb:
        return f"Max Memory Used {report.max_memory_mb} MB above the {b.memory_mb} MB size"
    return None


def _same_stream(a: Sample, b: Sample) -> str | None:
    """Both variants answered with the sample's chunks (the buffered one inside a JSON string)."""
    problem = _no_errors(a, b)
    if problem is not None:
        return problem
    for sample in (a, b):
        for inv in sample.invocations:
            if '{\\"seq\\":0' not in str(inv.payload) and '{"seq":0' not in str(inv.payload):
                return f"{sample.function}: no chunks in {str(inv.payload)[:200]}"
    return None


CPU_N = 2_000_000
# 1 MiB in 16 writes 20 ms apart: ~300 ms of writing (functions/stream_node/README.md)
STREAM_EVENT = {"chunks": 16, "chunk_bytes": 65536, "delay_ms": 20}
FAN_OUT = {"ids": list(range(1, 21)), "concurrency": 10}


def _io_and_init_lessons(
    language: str, suffix: str, gather: str, bounded: str, at_init: str
) -> tuple[Lesson, ...]:
    """The seed's I/O lesson and init outside the handler, for one language's sample pairs
    (`io_sequential{suffix}`, `io_concurrent{suffix}`, `init_in_handler{suffix}`,
    `init_global{suffix}`)."""
    sequential, concurrent = f"io_sequential{suffix}", f"io_concurrent{suffix}"
    return (
        Lesson(
            f"{language}concurrent I/O beats sequential (3 calls of 100 ms)",
            Variant("await one by one", sequential),
            Variant(gather, concurrent),
            "warm_ms",
            "≤ 0.5",
            lambda r: r <= 0.5,
            check=_no_errors,
        ),
        Lesson(
            f"{language}bounded fan-out (20 users, 10 at a time)",
            Variant("await one by one", sequential, FAN_OUT),
            Variant(bounded, concurrent, FAN_OUT),
            "warm_ms",
            "≤ 0.25",
            lambda r: r <= 0.25,
            warm=2,
            check=_no_errors,
        ),
        Lesson(
            f"{language}initialise clients outside the handler",
            Variant("client per call", f"init_in_handler{suffix}"),
            Variant(at_init, f"init_global{suffix}"),
            "warm_ms",
            "< 0.7",
            lambda r: r < 0.7,
            check=_no_errors,
        ),
    )


LESSONS: tuple[Lesson, ...] = (
    *_io_and_init_lessons("", "", "asyncio.gather", "gather + semaphore", "client at init"),
    *_io_and_init_lessons(
        "Node: ",
        "_node",
        "Promise.all",
        "Promise.all + 10 workers",
        "client at init (top-level await)",
    ),
    Lesson(
        "memory buys CPU (Python loop, n=500k)",
        Variant("128 MB", "cpu_python", {"n": 500_000}, 128),
        Variant("1769 MB", "cpu_python", {"n": 500_000}, 1769),
        "warm_ms",
        "< 0.3",
        lambda r: r < 0.3,
        warm=2,
        check=_same_hash,
    ),
    Lesson(
        f"Rust beats Python on CPU (n={CPU_N:,}, 1769 MB)",
        Variant("python", "cpu_python", {"n": CPU_N}, 1769),
        Variant("rust", "cpu_rust", {"n": CPU_N}, 1769),
        "warm_ms",
        "< 0.2",
        lambda r: r < 0.2,
        check=_same_hash,
    ),
    Lesson(
        "Rust cold start: Init Duration",
        Variant("python", "hello_python"),
        Variant("rust", "hello_rust"),
        "init_ms",
        "< 0.5",
        lambda r: r < 0.5,
        check=_no_errors,
    ),
    Lesson(
        "Rust memory: Max Memory Used",
        Variant("python", "hello_python"),
        Variant("rust", "hello_rust"),
        "max_memory_mb",
        "< 0.5",
        lambda r: r < 0.5,
        check=_no_errors,
    ),
    Lesson(
        "/tmp survives warm invocations (8 MiB download)",
        Variant("1st call: downloads", "tmp_cache"),
        Variant("warm calls: /tmp hit", "tmp_cache"),
        "warm_ms",
        "< 0.5",
        lambda r: r < 0.5,
        figure_a="cold_ms",
        check=_cache_hits,
    ),
    Lesson(
        "extensions work after the response: caller latency",
        Variant("analytics inline", "analytics_inline", {"name": "x"}),
        Variant("analytics extension", "analytics_extension", {"name": "x"}),
        "warm_latency_ms",
        "≤ 0.5",
        lambda r: r <= 0.5,
        pause_s=0.3,
        check=_both_billed,
    ),
    Lesson(
        "stream a large response: first byte (Node, 16 x 64 KiB, 20 ms apart)",
        Variant("buffered result", "stream_node_buffered", STREAM_EVENT, stream=True),
        Variant("streamifyResponse", "stream_node", STREAM_EVENT, stream=True),
        "warm_first_byte_ms",
        "≤ 0.25",
        lambda r: r <= 0.25,
        check=_same_stream,
    ),
    Lesson(
        "memory_hog killed at its limit (128 MB)",
        Variant("allocate 64 MB", "memory_hog", {"mb": 64}),
        Variant("allocate 300 MB", "memory_hog", {"mb": 300}),
        "max_memory_mb",
        "≥ 1 (at the limit)",
        lambda r: r >= 1,
        warm=0,
        check=_killed_at_limit,
    ),
)


def sizes_of(lessons: Sequence[Lesson]) -> list[tuple[str, int]]:
    """The (function, memory) copies `lessons` need a `LessonBench` to serve."""
    return [
        (v.function, v.memory_mb)
        for lesson in lessons
        for v in (lesson.a, lesson.b)
        if v.memory_mb is not None
    ]


def run_lessons(
    bench: LessonBench,
    lessons: Sequence[Lesson] = LESSONS,
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Measure every lesson's two variants (the same variant is measured once)."""
    measured: dict[tuple[str, str, int, float, bool], Sample] = {}

    def sample(v: Variant, lesson: Lesson) -> Sample:
        key = (v.served_as, json.dumps(v.payload), lesson.warm, lesson.pause_s, v.stream)
        if key not in measured:
            if progress is not None:
                progress(f"{lesson.title}: {v.label} ({v.served_as})")
            measured[key] = bench.measure(
                v.served_as, v.payload, warm=lesson.warm, pause_s=lesson.pause_s, stream=v.stream
            )
        return measured[key]

    return [Row(lesson, sample(lesson.a, lesson), sample(lesson.b, lesson)) for lesson in lessons]
