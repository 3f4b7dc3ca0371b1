"""Claims of docs/security.md that no other test checked: the warning for a listener off
loopback, the pids limit on this host's own hierarchy (the v2 lane checks it on v2), and the
portable sandbox saying per function that nothing is isolated."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.sandbox import cgroups
from emulator.sandbox.process import ProcessSandbox

FUNCTIONS = Path(__file__).parent / "functions"
BIN = Path(sys.executable).parent


def test_serve_off_loopback_prints_a_warning(tmp_path: Path) -> None:
    """`serve --host 0.0.0.0` warns that whoever reaches the address can run functions. The
    port is held on 127.0.0.1 first, so the emulator can never bind 0.0.0.0 here: it warns,
    then fails to bind and exits (nothing listens beyond loopback during this test)."""
    (tmp_path / "lambda-emu.toml").write_text(
        '[functions.echo]\nruntime = "python3.11"\nhandler = "app.handler"\n'
        f'code = "{FUNCTIONS / "echo"}"\n'
    )
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [str(BIN / "lambda-emu"), "serve", "--manifest", str(tmp_path / "lambda-emu.toml"),
             "--host", "0.0.0.0", "--port", str(port), "--state-dir", str(tmp_path / "s"),
             "--no-reload"],
            check=False, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert "Invoke API on" not in done.stderr, "bound beyond loopback"
    assert done.returncode != 0
    assert "warning: the Invoke API is bound to 0.0.0.0, not loopback" in done.stderr
    assert "anyone who reaches this address can run your functions" in done.stderr


@pytest.fixture(scope="module")
def forker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    fn = FunctionConfig(
        name="forker", runtime="python3.11", handler="app.handler", code_dir=FUNCTIONS / "forker"
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path_factory.mktemp("pids"), log_to_terminal=False
    )
    with EmbeddedEmulator(cfg) as emu:
        yield emu


def test_each_environment_has_a_pids_limit_of_1024(forker: EmbeddedEmulator) -> None:
    assert forker.emulator is not None
    backend = forker.emulator.cgroups
    if backend is None or not backend.caps.pids:
        pytest.skip("no writable pids controller here")
    url = f"{forker.url}/2015-03-31/functions/forker/invocations"
    assert httpx.post(url, json={"n": 3}, timeout=60).json() == {"forked": 3}
    (env,) = [e for e in forker.emulator.functions["forker"].envs if e.sandbox is not None]
    sandbox = env.sandbox
    assert isinstance(sandbox, ProcessSandbox) and sandbox.cgroup is not None
    cg = sandbox.cgroup
    d = cg.dirs["unified"] if cg.version == "v2" else cg.dirs["pids"]
    assert (d / "pids.max").read_text().strip() == str(cgroups.PIDS_LIMIT) == "1024"
    assert sandbox.pid is not None and sandbox.pid in cg.pids()


def test_the_portable_sandbox_says_no_function_is_isolated(tmp_path: Path) -> None:
    """docs/security.md: where isolation cannot hold, /_emu/health says so per function."""
    fn = FunctionConfig(
        name="echo", runtime="python3.11", handler="app.handler", code_dir=FUNCTIONS / "echo"
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=tmp_path, log_to_terminal=False, sandbox="portable"
    )
    with EmbeddedEmulator(cfg) as emu:
        health = httpx.get(f"{emu.url}/_emu/health", timeout=60).json()
    gaps = health["isolation"]["echo"]
    assert "sees the host's /tmp" in gaps and "can write its code directory" in gaps
