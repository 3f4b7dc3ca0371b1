"""The fault suite on the docker sandbox: the rogue runtime's faults (tests/faults/
test_injection.py) in containers, each with one Lambda-shaped outcome and nothing left behind
(no process with this run's token, no container).

A chosen part, to stay within CI's time: the tests whose runtime reports through the probe
directory (a host path the containers do not see) run on the process sandbox only. The soak
on the docker sandbox is `bench/soak.py --sandbox docker` (test_soak.py runs it short).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import docker_leftovers

from emulator.config import EmulatorConfig
from emulator.embedded import EmulatorThread
from emulator.sandbox import docker

from .conftest import suite_processes, tagged_functions

# collected here again, with this module's `fault_emulator`: the same tests, in containers
from .test_injection import (  # noqa: F401
    still_serves_and_nothing_left,
    test_crash_mid_invocation,
    test_error_that_is_not_json,
    test_event_with_garbage_on_the_runtime_api_is_delivered_once,
    test_exit_during_init,
    test_garbage_init_error,
    test_hang_past_the_timeout,
    test_invoke_phase_init_output_is_in_the_log_tail,
    test_many_faults_in_a_row_leave_one_outcome_each,
    test_response_that_is_not_json,
)

pytestmark = pytest.mark.skipif(
    not docker.engine_answers(), reason="no Docker engine answers (scripts/setup-docker)"
)


@pytest.fixture(scope="module")
def fault_emulator(
    tmp_path_factory: pytest.TempPathFactory, fault_probe_dir: Path, fault_token: str
) -> Iterator[EmulatorThread]:
    from waiting import docker_images_ready

    if not docker_images_ready():
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    state_dir = tmp_path_factory.mktemp("lambda-emu-faults-docker")
    cfg = EmulatorConfig(
        functions=tagged_functions(fault_token, fault_probe_dir, state_dir / "failed.jsonl"),
        port=0,
        sandbox="docker",
        state_dir=state_dir,
        log_to_terminal=False,
        init_timeout_s=10.0,  # a container's start is slower than a process's
        event_retry_delay_scale=0.01,
    )
    with EmulatorThread(cfg) as running:
        yield running
    assert not suite_processes(fault_token), "function processes outlived the emulator"
    assert docker_leftovers() == [], "containers outlived the emulator"
