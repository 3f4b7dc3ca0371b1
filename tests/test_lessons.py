"""Each sample pair of functions/ shows its lesson on this machine: the expected direction
and rough size of the effect (issue 8). Figures come from the REPORT lines of real
invocations on the emulator (process sandbox) against the local downstream service."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from emulator.lessons.downstream import file_bytes
from emulator.lessons.measure import LessonBench, lesson_bench


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LessonBench]:
    with lesson_bench(tmp_path_factory.mktemp("lessons")) as running:
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
