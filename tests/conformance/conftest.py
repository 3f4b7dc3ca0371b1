"""The conformance suite: recorded real-AWS behaviour, replayed against lambda-emu.

Every expected value cites the recording it comes from (LS = localstack/localstack
@8b9a79f `tests/aws/services/lambda_/<file>.snapshot.json`, key › field (recorded date);
RIC = aws/aws-lambda-python-runtime-interface-client@46e4c6a; DOC = docs.aws.amazon.com page),
as collected in /work/notes/conformance-cases.md (case ids in brackets, e.g. [A1]).
A case that does not hold yet is `xfail(strict=True)` with the difference in words.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.manifests import load_manifest
from emulator.pytest_plugin import boto3_client

FUNCTIONS = Path(__file__).parent / "functions"
WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"


def _absolute_wrapper(fn: FunctionConfig) -> FunctionConfig:
    """AWS's wrapper path is absolute (/var/task/…); ours is the code directory's."""
    wrapper = fn.environment.get(WRAPPER)
    if wrapper is None or wrapper.startswith("/"):
        return fn
    env = {**fn.environment, WRAPPER: str(fn.code_dir / wrapper)}
    return replace(fn, environment=MappingProxyType(env))


def _functions() -> list[FunctionConfig]:
    """The manifest's functions; the Node ones only where node is installed."""
    has_node = shutil.which("node") is not None
    functions = load_manifest(FUNCTIONS / "lambda-emu.toml")
    return [fn for fn in functions if has_node or not fn.runtime.startswith("nodejs")]


@pytest.fixture(scope="session")
def conformance_emulator() -> Iterator[EmbeddedEmulator]:
    cfg = EmulatorConfig(
        functions=tuple(map(_absolute_wrapper, _functions())),
        port=0,
        state_dir=Path(tempfile.mkdtemp(prefix="lambda-emu-conformance-")),
        log_to_terminal=False,
        # Lambda's /var/task and /var/runtime where this machine can present them (root, a
        # mount namespace); elsewhere the local paths, and test_lambda_paths is skipped
        lambda_paths=True,
    )
    with EmbeddedEmulator(cfg) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def aws(conformance_emulator: EmbeddedEmulator) -> Iterator[Any]:
    """boto3's Lambda client on the emulator's endpoint."""
    with boto3_client(conformance_emulator) as client:
        yield client


@pytest.fixture(scope="session")
def raw(conformance_emulator: EmbeddedEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=conformance_emulator.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def arn_prefix(conformance_emulator: EmbeddedEmulator) -> str:
    cfg = conformance_emulator.cfg
    return f"arn:aws:lambda:{cfg.region}:{cfg.account_id}:function:"


@pytest.fixture
def lambda_fresh(conformance_emulator: EmbeddedEmulator) -> None:
    """Every environment gone: the next invoke is a cold start."""
    from emulator.client import InvokeClient

    with InvokeClient(conformance_emulator.url) as client:
        client.reset(wait=True)


# `LAMBDA_EMU_COUNT_CASES=<file>`: collection writes the suite's count per module there, as
# {module: [cases, xfailed]} (tests/conformance/test_fidelity_table.py checks docs/fidelity.md
# against it).
COUNT_CASES = "LAMBDA_EMU_COUNT_CASES"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    out = os.environ.get(COUNT_CASES)
    if not out:
        return
    counts: dict[str, list[int]] = {}
    for item in items:
        path = Path(str(item.path))
        if path.parent != Path(__file__).parent or path.name == "test_fidelity_table.py":
            continue  # the table counts cases of AWS behaviour, not this check
        entry = counts.setdefault(path.name, [0, 0])
        entry[0] += 1
        marker = item.get_closest_marker("xfail")
        if marker is not None and marker.kwargs.get("strict"):
            entry[1] += 1
    Path(out).write_text(json.dumps(counts, sort_keys=True))
