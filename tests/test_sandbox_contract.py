"""The sandbox contract: one test, run unchanged on every kind in the sandbox table.

Each kind serves the same function (tests/functions/contract; the fake sandbox's in-memory
runtime does the same things, emulator/sandbox/fake.py) through a whole emulator, and must give
Lambda's answers: cold then warm in one environment, output in the log tail, function errors,
exits and timeouts that reset the environment, one environment per concurrent request,
Max Memory Used, freeze between invocations, and nothing left after a stop. A new kind of
sandbox is proven by adding it to KINDS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from waiting import docker_images_ready

from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.engine.states import EnvState
from emulator.server import Emulator

FUNCTIONS = Path(__file__).parent / "functions"
KINDS = ("fake", "process", "portable", "docker")


@pytest.fixture(scope="module", params=KINDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedEmulator]:
    kind = request.param
    if kind == "docker" and not docker_images_ready():
        pytest.skip("no Docker engine with the local runtime images (scripts/setup-docker)")
    fn = FunctionConfig(
        name="contract",
        runtime="python3.11",
        handler="app.handler",
        code_dir=FUNCTIONS / "contract",
        memory_mb=256,
        timeout_s=2,
    )
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        sandbox=kind,
        state_dir=tmp_path_factory.mktemp(f"contract-{kind}"),
        log_to_terminal=False,
    )
    running = EmbeddedEmulator(cfg).start()
    try:
        yield running
    finally:
        emulator = running.emulator
        assert emulator is not None
        pools = list(emulator.functions.values())
        sandboxes = [env.sandbox for pool in pools for env in pool.envs if env.sandbox]
        running.stop()
        # nothing survives the emulator: every sandbox it made has exited
        assert all(sandbox.exited.done() for sandbox in sandboxes)
        assert not any(pool.envs for pool in pools)


@pytest.fixture
def client(served: EmbeddedEmulator) -> Iterator[InvokeClient]:
    with InvokeClient(served.url) as c:
        c.reset(wait=True)
        yield c


def _environments(served: EmbeddedEmulator) -> int:
    assert served.emulator is not None
    return len(served.emulator.functions["contract"].envs)


def test_cold_then_warm_in_one_environment(served: EmbeddedEmulator, client: InvokeClient) -> None:
    first = client.invoke("contract", {"n": 1})
    second = client.invoke("contract", {"n": 2})
    assert (first.status, first.json()) == (200, {"echo": {"n": 1}})
    assert second.json() == {"echo": {"n": 2}}
    assert first.report is not None and first.report.cold
    assert second.report is not None and not second.report.cold
    assert _environments(served) == 1


def test_output_lands_in_the_invocations_log(client: InvokeClient) -> None:
    result = client.invoke("contract", {"print": "hello from the sandbox"})
    lines = result.log.splitlines()
    assert lines[0].startswith("START RequestId: ")
    assert "hello from the sandbox" in lines
    assert lines.index("hello from the sandbox") < next(
        i for i, line in enumerate(lines) if line.startswith("END RequestId")
    )


def test_a_function_error_keeps_the_environment(
    served: EmbeddedEmulator, client: InvokeClient
) -> None:
    client.invoke("contract", {})
    result = client.invoke("contract", {"fail": "no"})
    assert result.function_error == "Unhandled"
    assert result.json()["errorType"] == "FakeError"
    assert result.json()["errorMessage"] == "no"
    after = client.invoke("contract", {})
    assert after.report is not None and not after.report.cold


def test_an_exit_resets_the_environment(client: InvokeClient) -> None:
    client.invoke("contract", {})
    result = client.invoke("contract", {"exit": 3})
    body = result.json()
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert result.report is not None and result.report.status == "error"
    after = client.invoke("contract", {})
    assert after.report is not None and after.report.cold


def test_a_timeout_resets_the_environment(client: InvokeClient) -> None:
    result = client.invoke("contract", {"sleep": 5})
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert result.report is not None and result.report.status == "timeout"
    after = client.invoke("contract", {})
    assert after.report is not None and after.report.cold


def test_one_environment_per_concurrent_request(
    served: EmbeddedEmulator, client: InvokeClient
) -> None:
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _i: client.invoke("contract", {"sleep": 0.5}), range(3)))
    assert [r.json() for r in results] == [{"slept": 0.5}] * 3
    assert all(r.report is not None and r.report.cold for r in results)
    assert _environments(served) == 3


def test_max_memory_used_is_measured(client: InvokeClient) -> None:
    report = client.invoke("contract", {}).report
    assert report is not None and 0 < report.max_memory_mb <= 256


def test_an_idle_environment_is_frozen_and_runs_again(
    served: EmbeddedEmulator, client: InvokeClient
) -> None:
    client.invoke("contract", {})
    assert served.emulator is not None

    async def frozen(emu: Emulator) -> bool:
        (env,) = emu.functions["contract"].envs
        for _ in range(3000):
            # back in /next (idle), and the freeze applied where the sandbox freezes
            if env.state is EnvState.READY and not env.freezer.pending:
                return True
            await asyncio.sleep(0.01)
        return False

    assert served.call(frozen)
    again = client.invoke("contract", {"n": 3})
    assert again.json() == {"echo": {"n": 3}}
    assert again.report is not None and not again.report.cold
