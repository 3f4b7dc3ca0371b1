"""pytest fixtures for testing your own functions against the emulator (entry point `pytest11`).

    def test_hello(invoke):
        result = invoke("hello", {"name": "x"})
        assert result.json() == {...}
        assert result.report.cold

Fixtures:
- `lambda_emu_manifest` (session): the manifest to serve. Default: `--lambda-emu-manifest`,
  else the ini option `lambda_emu_manifest`, else `lambda-emu.toml` / `template.yaml` in the
  rootdir. Override the fixture to choose another.
- `lambda_emu_config` (session): the `EmulatorConfig` built from it; override to change
  settings (keep-alive, init timeout, Event retry scale, ...).
- `lambda_emulator` (session): a running emulator on a free 127.0.0.1 port (`.url`, `.port`).
- `lambda_reset` (function): shuts every environment down first, so the test starts cold.
- `lambda_client` (function): a boto3 Lambda client pointed at the emulator.
- `invoke` (function): `invoke(name, payload=None, *, log_tail=True, invocation_type=...)`
  returning an `InvokeResult` (status, payload, function_error, log, parsed REPORT).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.config import EmulatorConfig
from emulator.manifests import find_manifest, load_manifest
from emulator.metrics.report import Report, parse_report
from emulator.server import Emulator


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when it is installed, as `lambda-emu serve` uses."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class EmulatorThread:
    """An emulator serving from its own event loop in a background thread."""

    def __init__(self, cfg: EmulatorConfig) -> None:
        self.cfg = cfg
        self.emulator: Emulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    @property
    def url(self) -> str:
        assert self.emulator is not None
        return self.emulator.url

    @property
    def port(self) -> int:
        assert self.emulator is not None
        return self.emulator.port

    def start(self, timeout: float = 600.0) -> EmulatorThread:
        self._thread = threading.Thread(target=self._run, name="lambda-emu", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError("lambda-emu did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the thread that called start()
            self._error = exc
            self._started.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        self.emulator = Emulator(self.cfg)
        try:
            await self.emulator.start()
            self._started.set()
            await self._stop.wait()
        finally:
            await self.emulator.stop()

    def call(self, fn: Callable[[Emulator], Any]) -> Any:
        """Run a coroutine function on the emulator's loop and return its result."""
        assert self._loop is not None and self.emulator is not None
        return asyncio.run_coroutine_threadsafe(fn(self.emulator), self._loop).result(120)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(60)
        if self._error is not None:
            raise self._error


@dataclass
class InvokeResult:
    status: int
    payload: bytes
    function_error: str | None
    log: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.payload)

    @property
    def report(self) -> Report | None:
        return parse_report(self.log)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--lambda-emu-manifest", default=None, help="manifest for lambda-emu fixtures")
    parser.addini("lambda_emu_manifest", "manifest for lambda-emu fixtures", default="")


@pytest.fixture(scope="session")
def lambda_emu_manifest(pytestconfig: pytest.Config) -> Path:
    option = pytestconfig.getoption("--lambda-emu-manifest")
    ini = pytestconfig.getini("lambda_emu_manifest")
    if option:
        return Path(option).resolve()
    if ini:
        return (pytestconfig.rootpath / str(ini)).resolve()
    return find_manifest(pytestconfig.rootpath)


@pytest.fixture(scope="session")
def lambda_emu_config(
    lambda_emu_manifest: Path, tmp_path_factory: pytest.TempPathFactory
) -> EmulatorConfig:
    return EmulatorConfig(
        functions=load_manifest(lambda_emu_manifest),
        port=0,
        state_dir=tmp_path_factory.mktemp("lambda-emu"),
        log_to_terminal=False,
    )


@pytest.fixture(scope="session")
def lambda_emulator(lambda_emu_config: EmulatorConfig) -> Iterator[EmulatorThread]:
    running = EmulatorThread(lambda_emu_config).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def lambda_reset(lambda_emulator: EmulatorThread) -> EmulatorThread:
    async def reset(emu: Emulator) -> None:
        for pool in emu.pools.values():
            await pool.reset()

    lambda_emulator.call(reset)
    return lambda_emulator


@contextlib.contextmanager
def boto3_client(emulator: EmulatorThread) -> Iterator[Any]:
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
def lambda_client(lambda_emulator: EmulatorThread) -> Iterator[Any]:
    with boto3_client(lambda_emulator) as client:
        yield client


@pytest.fixture
def invoke(lambda_emulator: EmulatorThread) -> Iterator[Callable[..., InvokeResult]]:
    with invoker(lambda_emulator) as call:
        yield call


@contextlib.contextmanager
def invoker(emulator: EmulatorThread) -> Iterator[Callable[..., InvokeResult]]:
    """`call(name, payload)` → InvokeResult through this emulator's Invoke API (the `invoke`
    fixture, for an emulator of your own)."""
    import httpx

    client = httpx.Client(base_url=emulator.url, timeout=960)

    def call(
        name: str,
        payload: Any = None,
        *,
        log_tail: bool = True,
        invocation_type: str = "RequestResponse",
        raw: bytes | None = None,
    ) -> InvokeResult:
        body = raw if raw is not None else json.dumps({} if payload is None else payload).encode()
        headers = {"X-Amz-Invocation-Type": invocation_type}
        if log_tail:
            headers["X-Amz-Log-Type"] = "Tail"
        resp = client.post(
            f"/2015-03-31/functions/{name}/invocations", content=body, headers=headers
        )
        log = base64.b64decode(resp.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
        return InvokeResult(
            status=resp.status_code,
            payload=resp.content,
            function_error=resp.headers.get("x-amz-function-error"),
            log=log,
            headers=dict(resp.headers),
        )

    try:
        yield call
    finally:
        client.close()
