"""`lambda-emu serve` as a real subprocess, and the AWS CLI as a real client."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

FUNCTIONS = Path(__file__).parent / "functions"
BIN = Path(sys.executable).parent


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url


def _serve(tmp_path: Path, *extra: str) -> Served:
    proc = subprocess.Popen(
        [
            str(BIN / "lambda-emu"),
            "serve",
            "--manifest",
            str(FUNCTIONS / "lambda-emu.toml"),
            "--port",
            "0",
            "--quiet",
            "--state-dir",
            str(tmp_path / "state"),
            *extra,
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 300
    lines = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"Invoke API on (http://\S+)", line)
        if match:
            return Served(proc, match.group(1))
    proc.kill()
    raise AssertionError("serve did not start:\n" + "".join(lines))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = _serve(tmp_path)
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        if s.proc.stderr is not None:
            s.proc.stderr.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_no_runtime_survives_serve_stopping(served: Served, sig: signal.Signals) -> None:
    with httpx.Client(base_url=served.url, timeout=60) as client:
        for name in ("echo", "ctx", "custom"):
            assert (
                client.post(f"/2015-03-31/functions/{name}/invocations", content=b"{}").status_code
                == 200
            )
        envs = client.get("/_emu/environments").json()["environments"]
    pids = [e["pid"] for e in envs if e["pid"]]
    assert len(pids) >= 4  # three on-demand environments and one provisioned
    assert all(_alive(pid) for pid in pids)
    served.proc.send_signal(sig)
    assert served.proc.wait(30) == 0
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _alive(pid)] == []


def test_aws_cli_invoke(served: Served, tmp_path: Path) -> None:
    aws = shutil.which("aws", path=str(BIN)) or shutil.which("aws")
    assert aws is not None, "the AWS CLI is a dev dependency"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [
            aws,
            "lambda",
            "invoke",
            "--endpoint-url",
            served.url,
            "--function-name",
            "echo",
            "--payload",
            '{"from": "cli"}',
            "--log-type",
            "Tail",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    meta = json.loads(proc.stdout)
    assert meta["StatusCode"] == 200
    assert meta["ExecutedVersion"] == "$LATEST"
    import base64

    assert "REPORT RequestId" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out.read_text()) == {"from": "cli"}

    err = subprocess.run(
        [
            aws,
            "lambda",
            "invoke",
            "--endpoint-url",
            served.url,
            "--function-name",
            "nope",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert err.returncode != 0
    assert "ResourceNotFoundException" in err.stderr

    boom = subprocess.run(
        [
            aws,
            "lambda",
            "invoke",
            "--endpoint-url",
            served.url,
            "--function-name",
            "boom",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert json.loads(boom.stdout)["FunctionError"] == "Unhandled"


def test_rie_path_reaches_the_default_function(served: Served) -> None:
    resp = httpx.post(
        f"{served.url}/2015-03-31/functions/function/invocations", content=b'{"rie": 1}', timeout=60
    )
    assert resp.status_code == 200
    assert resp.json() == {"rie": 1}  # echo is the first function of the manifest


def test_broken_manifest_is_one_line(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        '[functions.f]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "."\nmemory = 64\n'
    )
    proc = subprocess.run(
        [str(BIN / "lambda-emu"), "serve", "--manifest", str(manifest), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "lambda-emu.toml" in lines[0] and "'f'" in lines[0] and "memory" in lines[0]


def test_invoke_command_prints_result_and_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            str(BIN / "lambda-emu"),
            "invoke",
            "echo",
            "--payload",
            '{"x": 1}',
            "--memory",
            "512",
            "--manifest",
            str(FUNCTIONS / "lambda-emu.toml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"x": 1}
    assert "Memory Size: 512 MB" in proc.stderr
    assert "Init Duration" in proc.stderr


def test_doctor_runs() -> None:
    proc = subprocess.run(
        [str(BIN / "lambda-emu"), "doctor"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    assert "sandbox auto picks" in proc.stdout
    # what of Lambda's environment this machine can present (issue 17)
    assert "\nulimits " in proc.stdout and "/var/task, /var/runtime" in proc.stdout
