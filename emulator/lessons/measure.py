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
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from emulator.config import EmulatorConfig, FunctionConfig, load_manifest
from emulator.cost import cost_per_million
from emulator.lessons.downstream import URL_ENV, DownstreamConfig, DownstreamThread
from emulator.metrics.report import Report, parse_report
from emulator.pytest_plugin import EmulatorThread

SAMPLES_MANIFEST = Path(__file__).resolve().parents[2] / "functions" / "lambda-emu.toml"


@dataclass(frozen=True)
class Invocation:
    status: int
    payload: Any
    function_error: str | None
    report: Report
    latency_ms: float  # the caller's: request sent → response received


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
    def warm_ms(self) -> float:
        return statistics.median(i.report.duration_ms for i in self.warm) if self.warm else 0.0

    @property
    def warm_latency_ms(self) -> float:
        return statistics.median(i.latency_ms for i in self.warm) if self.warm else 0.0

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
        memory: dict[str, int] | None = None,
        delay_ms: float | None = None,
    ) -> None:
        self.manifest = manifest
        self.state_dir = state_dir
        self.names = names
        self.memory = memory or {}
        self.downstream = DownstreamThread(
            DownstreamConfig() if delay_ms is None else DownstreamConfig(delay_ms=delay_ms)
        )
        self.emulator: EmulatorThread | None = None
        self._client: httpx.Client | None = None

    def _function(self, fn: FunctionConfig) -> FunctionConfig:
        if URL_ENV in fn.environment:
            env = MappingProxyType({**fn.environment, URL_ENV: self.downstream.url})
            fn = replace(fn, environment=env)
        return fn.with_overrides(memory_mb=self.memory.get(fn.name))

    def start(self) -> LessonBench:
        self.downstream.start()
        try:
            functions = tuple(
                self._function(fn)
                for fn in load_manifest(self.manifest)
                if self.names is None or fn.name in self.names
            )
            cfg = EmulatorConfig(
                functions=functions,
                port=0,
                sandbox="process",
                state_dir=self.state_dir,
                log_to_terminal=False,
            )
            self.emulator = EmulatorThread(cfg).start()
            self._client = httpx.Client(base_url=self.emulator.url, timeout=120)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
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
        assert self.emulator is not None

        async def reset(emu: Any) -> None:
            for pool in emu.pools.values():
                await pool.reset()

        self.emulator.call(reset)

    def invoke(self, name: str, payload: Any = None) -> Invocation:
        assert self._client is not None
        started = time.perf_counter()
        resp = self._client.post(
            f"/2015-03-31/functions/{name}/invocations",
            content=json.dumps({} if payload is None else payload).encode(),
            headers={"X-Amz-Log-Type": "Tail"},
        )
        latency = (time.perf_counter() - started) * 1000
        log = base64.b64decode(resp.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
        report = parse_report(log)
        if report is None:
            raise RuntimeError(
                f"{name}: no REPORT line (HTTP {resp.status_code}): {resp.text[:300]}"
            )
        try:
            body: Any = resp.json()
        except ValueError:
            body = resp.text
        return Invocation(
            resp.status_code, body, resp.headers.get("x-amz-function-error"), report, latency
        )

    def measure(
        self, name: str, payload: Any = None, *, warm: int = 3, pause_s: float = 0.0
    ) -> Sample:
        """A cold start of `name`, then `warm` invocations one after another (the same
        environment); `pause_s` between them lets post-response work (extensions) finish."""
        self.reset()
        cold = self.invoke(name, payload)
        if not cold.report.cold:
            raise RuntimeError(f"{name}: the first invocation after a reset was not cold")
        warm_runs: list[Invocation] = []
        for _ in range(warm):
            time.sleep(pause_s)
            warm_runs.append(self.invoke(name, payload))
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
    memory_mb: int | None = None  # None: the manifest's


@dataclass(frozen=True)
class Lesson:
    title: str
    a: Variant
    b: Variant
    figure: str  # the Sample property compared: "warm_ms", "init_ms", ...
    expect: str  # what Lambda's lesson predicts of B / A, as a human reads it
    holds: Callable[[float], bool]  # B / A meets the expectation
    warm: int = 3
    pause_s: float = 0.0
    check: Callable[[Sample, Sample], str | None] = field(default=lambda a, b: None)


@dataclass(frozen=True)
class Row:
    lesson: Lesson
    a: Sample
    b: Sample

    @property
    def ratio(self) -> float:
        fa = float(getattr(self.a, self.lesson.figure))
        fb = float(getattr(self.b, self.lesson.figure))
        return fb / fa if fa else float("inf")

    @property
    def problem(self) -> str | None:
        """Why the lesson did not show, or None when it did."""
        if not self.lesson.holds(self.ratio):
            return f"{self.lesson.figure} ratio {self.ratio:.2f}, expected {self.lesson.expect}"
        return self.lesson.check(self.a, self.b)
