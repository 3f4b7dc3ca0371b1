"""The README's commands: what they write stays out of git's way (issue 21)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from emulator.cli_load import default_out

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
