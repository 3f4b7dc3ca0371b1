"""The hand-off holds on a loaded host (issue 19, item 6): a request waits for an environment
that has answered and is on its way back to /next for as long as the host, not the function,
keeps it away; an environment busy with work of its own after its answer is left to it, and
the request starts a new one, as Lambda does (emulator/engine/handoff.py).

Each test runs beside a CPU hog: one busy loop per core, started and killed by PID."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hog import cpu_hog

from emulator.embedded import EmulatorThread
from emulator.pytest_plugin import invoker
from emulator.server import Emulator


def _environments(emu: EmulatorThread, name: str) -> set[str]:
    async def ids(emulator: Emulator) -> set[str]:
        pool = emulator.functions[name]
        # the environments made since this test's reset (an earlier test's may still finish)
        return {env.id for env in pool.envs if env.generation == pool.generation}

    return emu.call(ids)


def test_sequential_calls_stay_on_one_environment_beside_a_hog(
    invoke: Any, lambda_reset: EmulatorThread
) -> None:
    with cpu_hog():
        results = [invoke("echo", {"i": i}) for i in range(40)]
    assert all(r.function_error is None for r in results)
    reports = [r.report for r in results]
    assert reports[0] is not None and reports[0].cold
    assert [rep is not None and rep.cold for rep in reports[1:]] == [False] * 39
    assert len(_environments(lambda_reset, "echo")) == 1


@pytest.mark.parametrize("users", [8])
def test_closed_loop_users_make_one_environment_each_beside_a_hog(
    lambda_reset: EmulatorThread, users: int
) -> None:
    colds: list[bool] = []
    failures: list[BaseException] = []
    go = threading.Barrier(users)

    def user() -> None:
        try:
            with invoker(lambda_reset) as call:
                go.wait()
                for i in range(15):
                    result = call("echo", {"i": i})
                    assert result.function_error is None and result.report is not None
                    colds.append(result.report.cold)
        except BaseException as exc:  # re-raised below, in the test's thread
            failures.append(exc)

    with cpu_hog():
        threads = [threading.Thread(target=user) for _ in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not failures, failures
    assert len(colds) == users * 15
    assert colds.count(True) == users
    assert len(_environments(lambda_reset, "echo")) == users


@pytest.mark.parametrize("mode", ["spin_after", "sleep_after"])
def test_an_environment_working_after_its_answer_is_not_waited_for(
    invoke: Any, lambda_reset: EmulatorThread, mode: str
) -> None:
    # Lambda: the environment is busy until its runtime calls /next again; a request meanwhile
    # gets another environment
    first = invoke("custom", {"mode": "echo"})
    assert first.report is not None and first.report.cold
    with cpu_hog():
        busy = invoke("custom", {"mode": mode, "seconds": 3})
        assert busy.report is not None and not busy.report.cold
        after = invoke("custom", {"mode": "echo"})
    assert after.function_error is None
    assert after.report is not None and after.report.cold
    assert len(_environments(lambda_reset, "custom")) == 2
