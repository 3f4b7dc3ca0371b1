"""pytest fixtures for testing your own functions against the emulator (entry point `pytest11`).

    def test_hello(invoke):
        result = invoke("hello", {"name": "x"})
        assert result.json() == {...}
        assert result.report.cold

Fixtures:
- `lambda_emu_manifest` (session): the manifest to serve. Default: `--lambda-emu-manifest`,
  else the ini option `lambda_emu_manifest`, else `lambda-emu.toml` / `template.yaml` in the
  rootdir. Override the fixture to choose another.
- `lambda_emu_config` (session): the `EmulatorConfig` built from it, with the environment
  files of `--lambda-emu-env-file` / `--lambda-emu-env-vars` (or the ini options
  `lambda_emu_env_file` / `lambda_emu_env_vars`) applied as `serve --env-file / --env-vars`
  apply them; override to change settings (keep-alive, init timeout, Event retry scale, ...).
- `lambda_emulator` (session): a running emulator on a free 127.0.0.1 port (`.url`, `.port`);
  the manifest's API Gateway routes on another free port (`.api_url`), function URLs under
  `.url + "/lambda-url/<FunctionName>/"`.
- `lambda_reset` (function): shuts every environment down first, so the test starts cold.
- `lambda_client` (function): a boto3 Lambda client pointed at the emulator.
- `invoke` (function): `invoke(name, payload=None, *, log_tail=True, invocation_type=...)`
  returning an `InvokeResult` (status, payload, function_error, log, parsed REPORT).

A test during which any emulator of this process hit an internal error (an error of the
emulator's own, never a function's) fails, naming the error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.client import InvokeClient, InvokeResult
from emulator.config import EmulatorConfig
from emulator.embedded import RUNNING, EmbeddedEmulator, EmulatorThread
from emulator.manifests import find_manifest, load_http, load_manifest

__all__ = [
    "EmbeddedEmulator",
    "EmulatorThread",
    "InvokeResult",
    "boto3_client",
    "invoker",
]


_SETTINGS = {
    "manifest": "manifest for lambda-emu fixtures",
    "env_file": "a .env file for every function of the lambda-emu fixtures",
    "env_vars": "SAM CLI's env.json for the lambda-emu fixtures",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, help_text in _SETTINGS.items():
        parser.addoption(f"--lambda-emu-{name.replace('_', '-')}", default=None, help=help_text)
        parser.addini(f"lambda_emu_{name}", help_text, default="")


def _setting(pytestconfig: pytest.Config, name: str) -> Path | None:
    """A path from the command line, else the ini file (relative to the rootdir)."""
    option = pytestconfig.getoption(f"--lambda-emu-{name.replace('_', '-')}")
    if option:
        return Path(option).resolve()
    ini = pytestconfig.getini(f"lambda_emu_{name}")
    return (pytestconfig.rootpath / str(ini)).resolve() if ini else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Fail a test during which an emulator hit an internal error."""
    before = {id(emu): len(emu.internal_errors) for emu in list(RUNNING)}
    yield
    new: list[Exception] = []
    for emu in list(RUNNING):
        new += emu.internal_errors[before.get(id(emu), 0) :]
    if new:
        pytest.fail(
            f"lambda-emu hit {len(new)} internal error(s) during the test: "
            + "; ".join(repr(exc) for exc in new),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def lambda_emu_manifest(pytestconfig: pytest.Config) -> Path:
    return _setting(pytestconfig, "manifest") or find_manifest(pytestconfig.rootpath)


@pytest.fixture(scope="session")
def lambda_emu_config(
    lambda_emu_manifest: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> EmulatorConfig:
    from emulator.overrides import EnvOverrides, FunctionOverrides

    functions = load_manifest(lambda_emu_manifest)
    http = load_http(lambda_emu_manifest, functions)
    env_file, env_vars = _setting(pytestconfig, "env_file"), _setting(pytestconfig, "env_vars")
    overrides = None
    if env_file is not None or env_vars is not None:
        overrides = FunctionOverrides(env=EnvOverrides.read(env_file, env_vars))
        functions = overrides.apply(functions)
    return EmulatorConfig(
        functions=functions,
        http=http,
        port=0,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("lambda-emu"),
        log_to_terminal=False,
        overrides=overrides,
    )


@pytest.fixture(scope="session")
def lambda_emulator(lambda_emu_config: EmulatorConfig) -> Iterator[EmbeddedEmulator]:
    running = EmbeddedEmulator(lambda_emu_config).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def lambda_reset(lambda_emulator: EmbeddedEmulator) -> EmbeddedEmulator:
    with InvokeClient(lambda_emulator.url) as client:
        client.reset(wait=False)
    return lambda_emulator


@contextlib.contextmanager
def boto3_client(emulator: EmbeddedEmulator) -> Iterator[Any]:
    """A boto3 Lambda client of this emulator (no retries: every 429 shows)."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url=emulator.url,
        region_name=emulator.cfg.region,
        aws_access_key_id="lambda-emu",
        aws_secret_access_key="lambda-emu",
        config=Config(retries={"max_attempts": 0}, read_timeout=960),
    )
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def lambda_client(lambda_emulator: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(lambda_emulator) as client:
        yield client


@pytest.fixture
def invoke(lambda_emulator: EmbeddedEmulator) -> Iterator[Callable[..., InvokeResult]]:
    with invoker(lambda_emulator) as call:
        yield call


@contextlib.contextmanager
def invoker(emulator: EmbeddedEmulator) -> Iterator[Callable[..., InvokeResult]]:
    """`call(name, payload)` → InvokeResult through this emulator's Invoke API (the `invoke`
    fixture, for an emulator of your own). Options are those of `emulator.client.invoke_request`
    (`raw`, `log_tail`, `invocation_type`, `qualifier`, `client_context`)."""
    with InvokeClient(emulator.url) as client:
        yield client.invoke
