"""The suite serves tests/functions/lambda-emu.toml through the project's own pytest plugin."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from waiting import SLOWDOWN

from emulator.config import EmulatorConfig
from emulator.manifests import load_manifest

# the shared checks of Lambda's answers report their values when they fail
pytest.register_assert_rewrite("answers")

FUNCTIONS = Path(__file__).parent / "functions"
# Only these of the manifest's functions are served, when set: the cgroup v2 lane serves the
# few its resource tests use (each one's start costs seconds in its emulated VM).
ONLY = {name for name in os.environ.get("LAMBDA_EMU_TEST_FUNCTIONS", "").split(",") if name}


@pytest.fixture(scope="session")
def lambda_emu_manifest() -> Path:
    return FUNCTIONS / "lambda-emu.toml"


@pytest.fixture(scope="session")
def probe_dir() -> Iterator[Path]:
    # Not under /tmp: each environment gets a private /tmp, which would hide it.
    path = Path(__file__).resolve().parent.parent / ".lambda-emu" / f"probe-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)  # as root, functions run as nobody
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def lambda_emu_config(
    lambda_emu_manifest: Path, tmp_path_factory: pytest.TempPathFactory, probe_dir: Path
) -> EmulatorConfig:
    functions = tuple(
        replace(fn, environment=MappingProxyType({**fn.environment, "PROBE_DIR": str(probe_dir)}))
        if fn.runtime.startswith("provided")
        else fn
        for fn in load_manifest(lambda_emu_manifest)
        if not ONLY or fn.name in ONLY
    )
    if SLOWDOWN != 1:
        functions = tuple(replace(fn, timeout_s=round(fn.timeout_s * SLOWDOWN)) for fn in functions)
    return EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=tmp_path_factory.mktemp("lambda-emu"),
        log_to_terminal=False,
        # A 1 s init limit keeps the init-timeout test short; Lambda's is 10 s.
        init_timeout_s=1.0 * SLOWDOWN,
        # Lambda retries failed Event invocations after 60 s and 120 s; 1 % of that here.
        event_retry_delay_scale=0.01,
    )
