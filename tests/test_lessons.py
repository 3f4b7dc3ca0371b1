"""Each sample pair of functions/ shows its lesson on this machine: the expected direction
and rough size of the effect (issue 8). Figures come from the REPORT lines of real
invocations on the emulator (process sandbox) against the local downstream service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.lessons.downstream import file_bytes
from emulator.lessons.measure import LessonBench, lesson_bench, sized_name


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LessonBench]:
    sizes = [("cpu_rust", 1769)]  # the CPU pair at one size: cpu_python's
    with lesson_bench(tmp_path_factory.mktemp("lessons"), sizes=sizes) as running:
        yield running


def test_concurrent_io_takes_at_most_half_the_sequential_time(bench: LessonBench) -> None:
    sequential = bench.measure("io_sequential", warm=2)
    concurrent = bench.measure("io_concurrent", warm=2)
    for sample in (sequential, concurrent):
        for run in sample.invocations:
            assert run.function_error is None, run.payload
            assert run.payload["posts"] == 3 and run.payload["comments"] == 3
    # three 100 ms calls: one after another ≈ 300 ms, gathered ≈ 100 ms
    assert sequential.warm_ms >= 300
    assert concurrent.warm_ms <= sequential.warm_ms / 2


def test_a_bounded_fan_out_overlaps_its_calls(bench: LessonBench) -> None:
    payload = {"ids": list(range(1, 11)), "concurrency": 5}
    sequential = bench.invoke("io_sequential", payload)
    concurrent = bench.invoke("io_concurrent", payload)
    assert sequential.payload["fanout"] == concurrent.payload["fanout"] == 10
    # 3 + 10 calls in turn ≥ 1.3 s; gathered, five at a time: ≈ 2 rounds of 100 ms
    assert sequential.report.duration_ms >= 1300
    assert concurrent.report.duration_ms <= sequential.report.duration_ms / 2


def test_a_client_created_at_init_makes_warm_calls_faster(bench: LessonBench) -> None:
    per_call = bench.measure("init_in_handler", warm=3)
    once = bench.measure("init_global", warm=3)
    for run in (*per_call.invocations, *once.invocations):
        assert run.function_error is None, run.payload
    # the set-up (an SDK client and a 100 ms secret fetch) moves from every call into Init
    assert once.init_ms > per_call.init_ms
    assert once.warm_ms + 100 <= per_call.warm_ms
    # a warm init_global call is its one 100 ms request
    assert once.warm_ms < 2 * 100


def test_tmp_cache_downloads_once_per_environment(bench: LessonBench) -> None:
    before = bench.downstream.stats().get("files", 0)
    sample = bench.measure("tmp_cache", {"size": 1 << 20}, warm=2)
    assert [run.payload["cache"] for run in sample.invocations] == ["miss", "hit", "hit"]
    expected = hashlib.sha256(file_bytes("model.bin", 1 << 20)).hexdigest()
    assert {run.payload["sha256"] for run in sample.invocations} == {expected}
    assert bench.downstream.stats()["files"] == before + 1
    # a new environment starts with an empty /tmp
    bench.reset()
    assert bench.invoke("tmp_cache", {"size": 1 << 20}).payload["cache"] == "miss"


def test_cpu_rust_does_cpu_pythons_work_faster(bench: LessonBench) -> None:
    payload = {"n": 1_000_000}
    python = bench.measure("cpu_python", payload, warm=2)
    rust = bench.measure(sized_name("cpu_rust", 1769), payload, warm=2)
    assert python.memory_mb == rust.memory_mb == 1769
    # the same loop: the same hash, which only the full loop produces
    assert {run.payload["hash"] for run in (*python.invocations, *rust.invocations)} == {
        cpu_python_hash(1_000_000)
    }
    assert rust.warm_ms < python.warm_ms / 5


def cpu_python_hash(n: int) -> int:
    h = 0xCBF29CE484222325
    for i in range(n):
        h = ((h ^ (i & 0xFF)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_rust_starts_faster_and_uses_less_memory_than_python(bench: LessonBench) -> None:
    python = bench.measure("hello_python", warm=1)
    rust = bench.measure("hello_rust", warm=1)
    assert python.cold.payload["message"] == "hello from python"
    assert rust.cold.payload == {"message": "hello from rust"}
    assert rust.init_ms < python.init_ms / 2
    assert rust.max_memory_mb < python.max_memory_mb / 2


def test_memory_hog_is_killed_at_its_limit(bench: LessonBench) -> None:
    assert bench.emulator is not None and bench.emulator.emulator is not None
    backend = bench.emulator.emulator.cgroups
    if backend is None or not backend.caps.memory:
        pytest.skip("no writable memory cgroup on this machine")
    fits = bench.measure("memory_hog", {"mb": 64}, warm=0)
    over = bench.measure("memory_hog", {"mb": 300}, warm=0)
    assert fits.cold.function_error is None and fits.cold.payload == {"allocated_mb": 64}
    assert over.cold.function_error == "Unhandled"
    assert over.cold.payload["errorType"] == "Runtime.ExitError"
    assert over.cold.report.error_type == "Runtime.ExitError"
    assert 120 <= over.max_memory_mb <= 128  # killed at the limit, never above it


def test_the_lessons_command_prints_and_writes_the_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    out = tmp_path / "lessons.md"
    args = ["lessons", "--only", "rust memory", "--markdown", str(out)]
    result = CliRunner().invoke(app, [*args, "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    assert "1 of 1 lessons shown" in result.output
    assert "B: rust" in result.output
    table = out.read_text()
    assert table.startswith("| lesson | variant | memory |")
    assert "| Rust memory: Max Memory Used | A: python | 128 MB |" in table
    assert table.count("\n") == 4  # header, alignment, A and B


def test_the_downstream_service_overlaps_its_delays() -> None:
    import time
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from emulator.lessons.downstream import DownstreamConfig, DownstreamThread

    service = DownstreamThread(DownstreamConfig(delay_ms=200)).start()
    try:
        with httpx.Client(base_url=service.url, timeout=10) as client:
            assert client.get("/users/7").json() == {"id": 7, "name": "user 7"}
            posts = client.get("/posts", params={"userId": 3}).json()
            assert [p["userId"] for p in posts] == [3, 3, 3]
            got = client.get("/files/a.bin", params={"size": 1000, "delay_ms": 0}).content
            assert got == file_bytes("a.bin", 1000)
            assert client.get("/nowhere").status_code == 404
            assert client.post("/users/1").status_code == 405
        assert service.peak_in_flight == 1

        def get(uid: int) -> float:
            started = time.perf_counter()
            assert httpx.get(f"{service.url}/users/{uid}", timeout=10).status_code == 200
            return (time.perf_counter() - started) * 1000

        with ThreadPoolExecutor(8) as pool:
            waited = list(pool.map(get, range(8)))
        assert min(waited) >= 190  # every answer waits its delay (200 ms) ...
        assert service.peak_in_flight > 1  # ... and the delays overlap
        assert service.stats() == {"users": 9, "posts": 1, "files": 1}
    finally:
        service.stop()


def test_the_downstream_command_serves_until_terminated() -> None:
    import re
    import signal
    import subprocess
    import sys

    import httpx

    argv = [sys.executable, "-m", "emulator.cli", "downstream", "--port", "0", "--delay-ms", "0"]
    with subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            match = re.search(r"serving on (http://\S+)", line)
            assert match, line
            assert httpx.get(f"{match.group(1)}/users/3", timeout=10).json()["id"] == 3
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
