"""`lambda-emu doctor`'s claims about the execution environment, each checked against a real
function on this machine: if a row said what the function does not see, a test here fails.

Lambda's values: LocalStack's AWS-recorded test_lambda :: TestLambdaBehavior::
test_runtime_introspection_x86 (/tmp drwxrwxrwt root, cwd /var/task, user sbx_user1051) and
::test_runtime_ulimits (NOFILE 1024, NPROC 742), rec 24-11-2025.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator import doctor
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.pytest_plugin import invoker

PROBE = """import getpass, os, resource, stat
def handler(event, context):
    tmp = os.stat("/tmp")
    return {"tmp": [stat.filemode(tmp.st_mode), tmp.st_uid], "uid": os.getuid(),
            "user": getpass.getuser(), "cwd": os.getcwd(),
            "task": os.environ["LAMBDA_TASK_ROOT"], "tmpdir": os.environ.get("TMPDIR"),
            "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
            "nproc": list(resource.getrlimit(resource.RLIMIT_NPROC))}
"""


@pytest.fixture(scope="module")
def features() -> doctor.EnvironmentFeatures:
    return doctor.environment_features()


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """What a python function sees, served as the doctor describes (lambda_paths on)."""
    # outside /tmp: a function whose code lives under /tmp keeps the host's /tmp
    root = Path(tempfile.mkdtemp(prefix="doctor-probe-", dir=Path.home()))
    try:
        code = root / "probe"  # mode 0755, as a user's code directory is
        code.mkdir()
        (code / "app.py").write_text(PROBE)
        fn = FunctionConfig(
            name="probe", runtime="python3.11", handler="app.handler", code_dir=code
        )
        cfg = EmulatorConfig(
            functions=(fn,),
            port=0,
            state_dir=tmp_path_factory.mktemp("state"),
            log_to_terminal=False,
            lambda_paths=True,
        )
        emu = EmulatorThread(cfg).start()
        try:
            with invoker(emu) as call:
                yield call("probe", {}).json()
        finally:
            emu.stop()
    finally:
        shutil.rmtree(root)


def _row(features: doctor.EnvironmentFeatures, key: str) -> str:
    return dict(features.rows())[key]


def test_tmp_row(features: doctor.EnvironmentFeatures, seen: dict[str, Any]) -> None:
    row = _row(features, "/tmp")
    if "drwxrwxrwt root" in row:
        assert seen["tmp"] == ["drwxrwxrwt", 0]
        assert seen["tmpdir"] is None  # its /tmp is its own: no TMPDIR, as on Lambda
    else:
        assert "TMPDIR per environment" in row
        assert seen["tmpdir"] and seen["tmpdir"] != "/tmp"


def test_user_row(features: doctor.EnvironmentFeatures, seen: dict[str, Any]) -> None:
    row = _row(features, "functions run as")
    if features.user is not None:
        assert row.startswith(f"{features.user.name} (uid {features.user.uid}")
        assert seen["uid"] == features.user.uid
        if "named sbx_user1051" in row:
            assert seen["user"] == "sbx_user1051"
    else:
        assert f"uid {os.geteuid()}" in row
        assert seen["uid"] == os.geteuid()


def test_ulimits_row(features: doctor.EnvironmentFeatures, seen: dict[str, Any]) -> None:
    row = _row(features, "ulimits")
    assert "NOFILE 1024" in row and seen["nofile"] == [1024, 1024]
    if "NPROC 742" in row:
        assert seen["nproc"] == [742, 742]
    else:
        assert seen["nproc"] != [742, 742]


def test_paths_row(features: doctor.EnvironmentFeatures, seen: dict[str, Any]) -> None:
    row = _row(features, "/var/task, /var/runtime")
    if row.startswith("presented"):
        assert seen["cwd"] == seen["task"] == "/var/task"
    else:
        assert row.startswith("not presented")
        assert seen["cwd"] == seen["task"] != "/var/task"
