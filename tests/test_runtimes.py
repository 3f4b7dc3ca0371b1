"""Runtimes: the interpreter a python3.x function asks for, requirements.txt, bootstraps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox.runtimes import RuntimeResolver

FUNCTIONS = Path(__file__).parent / "functions"


def test_python_version_is_the_one_asked_for(invoke: Any) -> None:
    assert invoke("py312").json() == {"python": "3.12"}


def test_missing_python_version_runs_on_the_nearest(invoke: Any) -> None:
    assert invoke("py_missing").json() == {"python": "3.13"}


def test_nearest_version_warns_once(tmp_path: Path) -> None:
    warnings: list[str] = []
    resolver = RuntimeResolver(tmp_path, warnings.append)
    version, exe = resolver.python.python_for("python3.14", "f")
    assert version == "3.13"
    assert Path(exe).exists()
    assert warnings == ["python3.14 is not on this machine; function 'f' runs on python3.13"]


def test_requirements_are_installed_once(invoke: Any, lambda_emulator: Any) -> None:
    body = invoke("with_deps").json()
    assert body["six"] == "1.16.0"
    cache = lambda_emulator.cfg.cache_dir
    assert body["file"].startswith(str(cache / "deps"))


def test_missing_bootstrap_is_invalid_entrypoint(tmp_path: Path) -> None:
    fn = FunctionConfig(
        name="nobootstrap", runtime="provided.al2023", handler="bootstrap", code_dir=tmp_path
    )
    command = RuntimeResolver(tmp_path, print).prepare(fn)
    assert command.init_error is not None
    assert command.init_error[0] == "Runtime.InvalidEntrypoint"


def test_image_functions_need_docker(tmp_path: Path) -> None:
    fn = FunctionConfig(
        name="img", runtime="", handler="", code_dir=tmp_path, package_type="Image", image_uri="x"
    )
    with pytest.raises(SandboxError, match="docker"):
        RuntimeResolver(tmp_path, print).prepare(fn)


def test_invalid_entrypoint_reaches_the_caller(tmp_path: Path) -> None:
    from emulator.config import EmulatorConfig
    from emulator.embedded import EmulatorThread

    fn = FunctionConfig(
        name="nobootstrap", runtime="provided.al2023", handler="bootstrap", code_dir=tmp_path
    )
    cfg = EmulatorConfig(functions=(fn,), port=0, state_dir=tmp_path / "s", log_to_terminal=False)
    running = EmulatorThread(cfg).start()
    try:
        from emulator.client import InvokeClient

        with InvokeClient(running.url) as client:
            r = client.invoke("nobootstrap", {})
        assert r.status == 200
        assert r.headers["x-amz-function-error"] == "Unhandled"
        assert r.json()["errorType"] == "Runtime.InvalidEntrypoint"
    finally:
        running.stop()
