"""The README's commands: what they write stays out of git's way (issue 21)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from waiting import eventually

from emulator.cli_load import default_out
from loadtests.run import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Options of lambda-emu commands (and the AWS CLI's outfile) that name a file or directory
# the command writes.
OUTPUT_OPTIONS = ("--chart", "--json", "--out", "--markdown")


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def _commands(block: str) -> list[list[str]]:
    joined = block.replace("\\\n", " ")
    commands = []
    for raw in joined.splitlines():
        line = raw.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            try:
                commands.append(shlex.split(line, comments=True))
            except ValueError:  # a heredoc's body or a multi-line quote
                continue
    return commands


def _written_paths(command: list[str]) -> list[str]:
    paths = [
        command[i + 1]
        for i, word in enumerate(command[:-1])
        if word in OUTPUT_OPTIONS and command[i + 1] != "-"
    ]
    if command[:3] == ["aws", "lambda", "invoke"]:
        paths.append(command[-1])
    return paths


def _ignored_or_outside(path: str, cwd: Path = ROOT) -> bool:
    resolved = (cwd / path).resolve()
    if not resolved.is_relative_to(ROOT):
        return True
    check = subprocess.run(
        ["git", "check-ignore", "-q", "--no-index", str(resolved.relative_to(ROOT))],
        cwd=ROOT,
        check=False,
    )
    return check.returncode == 0


def test_documented_commands_write_only_to_ignored_paths_or_outside_the_repo() -> None:
    written = []
    for doc in DOCS:
        for block in _shell_blocks(doc.read_text()):
            for command in _commands(block):
                written += [(doc.name, path) for path in _written_paths(command)]
    assert ("README.md", ".lambda-emu/model.png") in written
    assert ("README.md", "/tmp/out.json") in written
    tracked = [(doc, path) for doc, path in written if not _ignored_or_outside(path)]
    assert tracked == []


def test_default_outputs_of_load_and_tune_are_ignored() -> None:
    assert default_out("hello_python") == Path(".lambda-emu/load/hello_python")
    assert _ignored_or_outside(str(default_out("hello_python") / "summary.json"))
    assert _ignored_or_outside(".lambda-emu/tune/cpu_python/tune.png")
    assert _ignored_or_outside("functions/.lambda-emu/traces/invocations.jsonl")
    assert _ignored_or_outside("docker/wheels/x.whl")


# --- the tour, verbatim ----------------------------------------------------------------------

TOUR_START, TOUR_END = "## A five-minute tour", "### Edit, invoke, repeat"


def _tour_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(TOUR_START) : text.index(TOUR_END)]
    return _shell_blocks(section)


def _clean_env() -> dict[str, str]:
    """This machine's environment without any AWS configuration, as on a fresh machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws"
    env.pop("VIRTUAL_ENV", None)
    return env


def _bash(script: str, port: int) -> str:
    script = script.replace("127.0.0.1:9000", f"127.0.0.1:{port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows it
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, f"{script}\n---\n{output}"
    return output


@pytest.mark.slow
def test_the_tour_runs_verbatim_and_leaves_the_checkout_clean() -> None:
    before = _porcelain()
    serve, clients, memory, one_off = _tour_blocks()
    port = free_port()
    # the tour's port 9000 may be taken on a shared machine: the same commands on a free one
    server = subprocess.Popen(
        [
            "bash",
            "-c",
            serve.replace("lambda-emu serve", f"lambda-emu serve --port {port} --api-port 0"),
        ],
        cwd=ROOT,
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        eventually(lambda: _answers(port), "lambda-emu serve answers", within_s=120)
        # the other terminal: one shell session, as a reader types the blocks one after another
        marker = "=== next block of the tour ==="
        session = f"\necho '{marker}'\n".join((clients, memory, one_off))
        out_clients, out_memory, out_one_off = _bash(session, port).split(marker)
        # the AWS CLI's invoke, then its output file: the payload's name is used
        assert '"message": "hello you, from python"' in out_clients
        # boto3 with the log tail: the result and the REPORT line
        assert 'b\'{"message": "hello from python"' in out_clients
        assert "REPORT RequestId:" in out_clients
        # RIE's path reaches the default function
        assert out_clients.rstrip().endswith("}")
        assert out_memory.count("REPORT RequestId:") == 3
        assert "Memory Size: 128 MB" in out_memory and "Memory Size: 1769 MB" in out_memory
        assert "Runtime.OutOfMemory" in out_memory and "Max Memory Used: 128 MB" in out_memory
        assert "Memory Size: 512 MB" in out_one_off and "hello from python" in out_one_off
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=60)
    assert _porcelain() == before


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/_emu/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _porcelain() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
