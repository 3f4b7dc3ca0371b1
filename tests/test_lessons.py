"""Each sample pair of functions/ does what its lesson says it does (issue 8): real invocations
on the emulator (process sandbox) against the local downstream service. The tests assert
behaviour (payloads, cold and warm starts, the downstream's request counts and overlap); how
much faster, smaller or cheaper one variant is, is measured by bench/lessons.py."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.lessons.downstream import file_bytes
from emulator.lessons.measure import LessonBench, Sample, lesson_bench, sized_name


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LessonBench]:
    sizes = [("cpu_rust", 1769)]  # the CPU pair at one size: cpu_python's
    with lesson_bench(tmp_path_factory.mktemp("lessons"), sizes=sizes) as running:
        yield running


def _measure_peak(bench: LessonBench, name: str, payload: object = None) -> tuple[Sample, int]:
    """`name` measured (a cold start, two warm calls) and the most downstream calls it had in
    flight at once."""
    bench.downstream.reset_peak_in_flight()  # between invocations: nothing is in flight
    sample = bench.measure(name, payload, warm=2)
    return sample, bench.downstream.peak_in_flight


def test_concurrent_io_overlaps_the_calls_sequential_io_makes_in_turn(bench: LessonBench) -> None:
    before = bench.downstream.stats()
    sequential, sequential_peak = _measure_peak(bench, "io_sequential")
    concurrent, concurrent_peak = _measure_peak(bench, "io_concurrent")
    for sample in (sequential, concurrent):
        for run in sample.invocations:
            assert run.function_error is None, run.payload
            assert run.payload["user"] == "user 1"
            assert run.payload["posts"] == 3 and run.payload["comments"] == 3
    # the same three calls per invocation, six invocations in all ...
    after = bench.downstream.stats()
    for route in ("users", "posts", "comments"):
        assert after.get(route, 0) - before.get(route, 0) == 6, route
    # ... awaited one by one, or gathered (at most the three at once)
    assert sequential_peak == 1
    assert 1 < concurrent_peak <= 3


def test_a_bounded_fan_out_overlaps_its_calls(bench: LessonBench) -> None:
    payload = {"ids": list(range(1, 11)), "concurrency": 5}
    before = bench.downstream.stats().get("users", 0)
    sequential, sequential_peak = _measure_peak(bench, "io_sequential", payload)
    concurrent, concurrent_peak = _measure_peak(bench, "io_concurrent", payload)
    for run in (*sequential.invocations, *concurrent.invocations):
        assert run.function_error is None, run.payload
        assert run.payload["fanout"] == 10
    assert bench.downstream.stats()["users"] - before == 6 * (1 + 10)
    assert sequential_peak == 1
    # the three profile calls beside the fan-out, which the semaphore holds to five at once
    assert 1 < concurrent_peak <= 3 + 5


@pytest.mark.parametrize("suffix", ["", "_node"], ids=["python", "node"])
def test_a_client_created_at_init_is_set_up_once_per_environment(
    bench: LessonBench, suffix: str
) -> None:
    # Node's init_global.mjs sets its client up with a top-level await, which Init waits for
    before = bench.downstream.stats()
    per_call = bench.measure(f"init_in_handler{suffix}", warm=3)
    between = bench.downstream.stats()
    once = bench.measure(f"init_global{suffix}", warm=3)
    after = bench.downstream.stats()
    for run in (*per_call.invocations, *once.invocations):
        assert run.function_error is None, run.payload
        assert run.payload["user"] == "user 1"
    # the set-up fetches a secret: on every call when the client is made in the handler,
    # once, during Init, when it is made at module level; each call then makes its request
    assert between.get("secrets", 0) - before.get("secrets", 0) == 4
    assert after["secrets"] - between["secrets"] == 1
    assert between["users"] - before.get("users", 0) == after["users"] - between["users"] == 4
    # the set-up figure a warm init_global call reports is its environment's one client's
    assert len({run.payload["client_setup_ms"] for run in once.invocations}) == 1
    assert once.cold.report.init_ms is not None and once.cold.report.cold


@pytest.mark.parametrize(
    ("payload", "fan_out", "concurrent_most"),
    [({}, 0, 3), ({"ids": list(range(1, 11)), "concurrency": 5}, 10, 3 + 5)],
)
def test_node_promise_all_overlaps_the_calls_sequential_awaits_make_in_turn(
    bench: LessonBench, payload: dict[str, object], fan_out: int, concurrent_most: int
) -> None:
    before = bench.downstream.stats()
    sequential, sequential_peak = _measure_peak(bench, "io_sequential_node", payload)
    concurrent, concurrent_peak = _measure_peak(bench, "io_concurrent_node", payload)
    for run in (*sequential.invocations, *concurrent.invocations):
        assert run.function_error is None, run.payload
        assert run.payload["user"] == "user 1"
        assert (run.payload["posts"], run.payload["comments"]) == (3, 3)
        assert run.payload["fanout"] == fan_out
    after = bench.downstream.stats()
    # the same calls per invocation, six invocations in all ...
    assert after["users"] - before.get("users", 0) == 6 * (1 + fan_out)
    for route in ("posts", "comments"):
        assert after[route] - before.get(route, 0) == 6, route
    # ... awaited one by one, or started together (the fan-out held to its workers)
    assert sequential_peak == 1
    assert 1 < concurrent_peak <= concurrent_most


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


def test_cpu_rust_does_cpu_pythons_work(bench: LessonBench) -> None:
    payload = {"n": 1_000_000}
    python = bench.measure("cpu_python", payload, warm=2)
    rust = bench.measure(sized_name("cpu_rust", 1769), payload, warm=2)
    assert python.memory_mb == rust.memory_mb == 1769
    # the same loop: the same hash, which only the full loop produces
    assert {run.payload["hash"] for run in (*python.invocations, *rust.invocations)} == {
        cpu_python_hash(1_000_000)
    }
    assert all(run.payload["n"] == 1_000_000 for run in rust.invocations)


def cpu_python_hash(n: int) -> int:
    h = 0xCBF29CE484222325
    for i in range(n):
        h = ((h ^ (i & 0xFF)) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_hello_python_and_hello_rust_answer_within_their_memory(bench: LessonBench) -> None:
    python = bench.measure("hello_python", warm=1)
    rust = bench.measure("hello_rust", warm=1)
    assert python.cold.payload["message"] == "hello from python"
    assert rust.cold.payload == {"message": "hello from rust"}
    for sample in (python, rust):
        assert sample.cold.report.cold and sample.cold.report.init_ms is not None
        assert [run.payload["message"] for run in sample.warm] == [sample.cold.payload["message"]]
        assert 0 < sample.max_memory_mb <= sample.memory_mb


def test_memory_hog_is_killed_at_its_limit(bench: LessonBench) -> None:
    assert bench.emulator is not None and bench.emulator.emulator is not None
    backend = bench.emulator.emulator.cgroups
    if backend is None or not backend.caps.memory:
        pytest.skip("no writable memory cgroup on this machine")
    fits = bench.measure("memory_hog", {"mb": 64}, warm=0)
    over = bench.measure("memory_hog", {"mb": 300}, warm=0)
    assert fits.cold.function_error is None and fits.cold.payload == {"allocated_mb": 64}
    assert over.cold.function_error == "Unhandled"
    assert over.cold.payload["errorType"] == "Runtime.OutOfMemory"
    assert over.cold.report.error_type == "Runtime.OutOfMemory"
    assert 120 <= over.max_memory_mb <= 128  # killed at the limit, never above it


def test_the_lessons_command_prints_and_writes_the_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    out = tmp_path / "lessons.md"
    args = ["lessons", "--only", "rust memory", "--markdown", str(out)]
    result = CliRunner().invoke(app, [*args, "--state-dir", str(tmp_path / "state")])
    assert result.exit_code == 0, result.output
    assert "1 of 1 lessons shown" in result.output
    assert " B  rust " in result.output and "Max Memory Used" in result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    table = out.read_text()
    assert table.startswith("| lesson | variant | what is measured | value |")
    assert "| Rust memory: Max Memory Used | A: python | Max Memory Used |" in table
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


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_the_downstream_command_serves_until_terminated(stop: str) -> None:
    """Stopped cleanly by either signal, even when started as a shell starts a background job:
    with SIGINT ignored (Python then never raises KeyboardInterrupt)."""
    import re
    import signal
    import subprocess
    import sys

    import httpx

    command = [sys.executable, "-m", "emulator.cli", "downstream", "--port", "0", "--delay-ms", "0"]
    # SIGINT ignored, then exec: an ignored signal stays ignored across exec, as in a shell's
    # background job
    ignoring = (
        "import os, signal; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"os.execv({command[0]!r}, {command!r})"
    )
    argv = [sys.executable, "-c", ignoring]
    with subprocess.Popen(argv, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            match = re.search(r"serving on (http://\S+)", line)
            assert match, line
            assert httpx.get(f"{match.group(1)}/users/3", timeout=10).json()["id"] == 3
            proc.send_signal(getattr(signal, stop))
            assert proc.wait(60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
