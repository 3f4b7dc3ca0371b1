"""Lambda's paths in the process sandbox (`lambda_paths`, emulator/sandbox/process/lambda_paths.py).

Expected values: LocalStack's AWS-recorded snapshots test_lambda_common ::
TestLambdaRuntimesCommon::test_introspection_invoke[python3.13] and [nodejs22.x]
(LAMBDA_TASK_ROOT=/var/task, LAMBDA_RUNTIME_DIR=/var/runtime, PWD=/var/task, NODE_PATH ending
in /var/runtime:/var/task; rec 12-01-2026) and test_lambda :: TestLambdaBehavior::
test_runtime_introspection_x86 (cwd /var/task, user sbx_user1051; rec 24-11-2025).
The mounts live in each environment's own namespace: the host's mount table and /var are the
same after the emulator stopped as before it started.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.pytest_plugin import invoker
from emulator.sandbox.process import lambda_paths

pytestmark = pytest.mark.skipif(
    lambda_paths.can_present() is not None,
    reason=f"this machine cannot present Lambda's paths: {lambda_paths.can_present()}",
)

PY_APP = """import getpass, os, traceback
def handler(event, context):
    def writable(d):
        try:
            open(os.path.join(d, "probe"), "w").close()
            return True
        except OSError:
            return False
    try:
        raise ValueError("where")
    except ValueError as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1].filename
    return {"cwd": os.getcwd(), "task": os.environ["LAMBDA_TASK_ROOT"],
            "runtime": os.environ["LAMBDA_RUNTIME_DIR"], "user": getpass.getuser(),
            "files": sorted(os.listdir("/var/task")) if os.path.isdir("/var/task") else None,
            "frame": frame,
            "task_writable": writable("/var/task"), "uid": os.getuid()}
"""

NODE_APP = """exports.handler = async () => ({
  cwd: process.cwd(), task: process.env.LAMBDA_TASK_ROOT,
  runtime: process.env.LAMBDA_RUNTIME_DIR, nodePath: process.env.NODE_PATH,
});
"""


# Mounts a Docker engine makes and removes on its own (containers' layers, network
# namespaces) while other work on this machine builds or runs images: not this test's concern
_ENGINE_MOUNTS = ("/var/lib/docker/", "/run/docker/", "/run/netns/", "/var/run/docker/")


def _mounts() -> list[str]:
    """The host's mount points (this process's namespace), without the per-mount ids, and
    without a Docker engine's own."""
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    points = (line.split()[3:5] for line in lines)
    return sorted(" ".join(p) for p in points if not p[1].startswith(_ENGINE_MOUNTS))


@pytest.fixture
def code_dirs() -> Iterator[tuple[Path, Path]]:
    # outside /tmp (a function whose code lives under /tmp keeps the host's /tmp), below a
    # directory `nobody` may not enter, as a user's own code often is
    root = Path(tempfile.mkdtemp(prefix="lambda-paths-", dir=Path.home()))
    try:
        py, node = root / "py", root / "node"
        py.mkdir()
        node.mkdir()
        (py / "app.py").write_text(PY_APP)
        (node / "index.js").write_text(NODE_APP)
        yield py, node
    finally:
        shutil.rmtree(root)


def _serve(code: tuple[Path, Path], state: Path, *, on: bool) -> EmulatorThread:
    py, node = code
    functions = (
        FunctionConfig(name="py", runtime="python3.11", handler="app.handler", code_dir=py),
        FunctionConfig(name="node", runtime="nodejs20.x", handler="index.handler", code_dir=node),
    )
    cfg = EmulatorConfig(
        functions=functions, port=0, state_dir=state, log_to_terminal=False, lambda_paths=on
    )
    return EmulatorThread(cfg).start()


def test_code_on_var_task_runtime_on_var_runtime_and_nothing_left(
    code_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    before, var_task = _mounts(), Path("/var/task").exists()
    emu = _serve(code_dirs, tmp_path / "state", on=True)
    try:
        with invoker(emu) as call:
            py: dict[str, Any] = call("py", {}).json()
            node: dict[str, Any] = call("node", {}).json()
    finally:
        emu.stop()
    assert (py["cwd"], py["task"], py["runtime"]) == ("/var/task", "/var/task", "/var/runtime")
    assert py["files"] == ["app.py"]
    assert py["frame"] == "/var/task/app.py"  # AWS's stack traces name /var/task/<file>
    assert py["task_writable"] is False
    if py["uid"] != 0:  # a user of the function's own
        assert py["user"] == "sbx_user1051"
    assert (node["cwd"], node["task"], node["runtime"]) == (
        "/var/task",
        "/var/task",
        "/var/runtime",
    )
    assert node["nodePath"].split(":")[-1] == "/var/task"
    # nothing of it outlives the environments
    assert _mounts() == before
    assert Path("/var/task").exists() == var_task


def test_off_the_code_keeps_its_local_path(code_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    assert EmulatorConfig(functions=()).lambda_paths is False  # the safe default
    emu = _serve(code_dirs, tmp_path / "state", on=False)
    try:
        with invoker(emu) as call:
            py: dict[str, Any] = call("py", {}).json()
    finally:
        emu.stop()
    assert py["cwd"] == py["task"] == str(code_dirs[0])
    assert py["frame"] == str(code_dirs[0] / "app.py")
    assert Path("/var/task").exists() or py["files"] is None


def test_an_external_extension_runs_beside_lambdas_paths(tmp_path: Path) -> None:
    # the extension (a layer's extensions/probe) starts before the runtime, in the same
    # namespace, from its own path; it registers and the invocation succeeds
    tests = Path(__file__).resolve().parent
    log = tests.parent / ".lambda-emu" / f"probe-{uuid.uuid4().hex}.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    log.chmod(0o666)  # as root, functions and extensions run as nobody
    fn = FunctionConfig(
        name="ext",
        runtime="python3.11",
        handler="app.handler",
        code_dir=tests / "functions" / "ext_fn",
        memory_mb=256,
        timeout_s=10,
        environment={"EXT_LOG": str(log)},
        layers=(tests / "functions" / "ext_layer",),
    )
    cfg = EmulatorConfig(
        functions=(fn,),
        port=0,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
        lambda_paths=True,
    )
    before = _mounts()
    emu = EmulatorThread(cfg).start()
    try:
        with invoker(emu) as call:
            result = call("ext", {})
        assert result.status == 200 and "pid" in result.json()
        kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines() if line]
        assert "registered" in kinds
    finally:
        emu.stop()
        log.unlink(missing_ok=True)
    assert _mounts() == before
