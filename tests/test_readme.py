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

TOUR_START, TOUR_END = "## A five-minute tour", "## What is where"
# Every command block of the tour, in order, by the start of its first command. A block added
# to the README fails here until this test runs it (or says why not) and checks its promise.
TOUR = (
    "source .venv/bin/activate",  # serve
    "source .venv/bin/activate",  # the other terminal: AWS CLI, boto3, curl
    "lambda-emu invoke cpu_python",  # memory buys CPU; the OOM kill
    "lambda-emu invoke hello_python",  # one-off invocation, doctor
    "lambda-emu serve -m functions/lambda-emu.toml --debug",  # not run: see SKIPPED
    "lambda-emu invoke analytics_inline",  # extensions
    "cd functions && lambda-emu serve --api-port",  # the front door, then curl
    "lambda-emu load --http",  # a route under load
    "lambda-emu load hello_python",  # headless, web UI, spike
    "lambda-emu tune cpu_python",  # power tuning, compare
    "lambda-emu model",  # the offline model
    "lambda-emu lessons",  # the lessons
    "scripts/setup-docker",  # not run: see SKIPPED
)
SKIPPED = {
    "lambda-emu serve -m functions/lambda-emu.toml --debug": (
        "waits for an IDE to attach and reads the reader's own .env / env.json; "
        "tests/test_debugging.py attaches a real debugpy and Node inspector client, "
        "tests/test_env_overrides.py reads both files"
    ),
    "scripts/setup-docker": (
        "installs Debian's docker.io and starts dockerd (root, minutes), and `docker compose up` "
        "runs until stopped; tests/test_docker.py covers the docker sandbox where an engine answers"
    ),
}


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


class Tour:
    """A reader's two terminals: servers started in the background (their own process
    groups), and one shell session per step, run from the repository's root. The tour's
    ports (9000, 3000, 8089) may be taken on a shared machine: the same commands on free ones."""

    def __init__(self) -> None:
        self.port, self.api_port, self.web_port = free_port(), free_port(), free_port()
        self.servers: list[subprocess.Popen[str]] = []

    def ports(self, text: str) -> str:
        return text.replace("127.0.0.1:9000", f"127.0.0.1:{self.port}").replace(
            "127.0.0.1:3000", f"127.0.0.1:{self.api_port}"
        )

    def run(self, script: str, *, exit_codes: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "source .venv/bin/activate\n" + self.ports(script)],
            cwd=ROOT,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows it
            text=True,
            timeout=900,
            check=False,
        )
        output = done.stdout
        assert done.returncode in exit_codes, f"{script}\n---\n{output}"
        return output

    def background(self, script: str) -> subprocess.Popen[str]:
        server = subprocess.Popen(
            ["bash", "-c", script],
            cwd=ROOT,
            env=_clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.servers.append(server)
        return server

    def serve(self, block: str) -> subprocess.Popen[str]:
        """A block that starts `lambda-emu serve` (and waits until it answers)."""
        script = block.replace(
            "lambda-emu serve",
            f"lambda-emu serve --port {self.port}"
            + ("" if "--api-port" in block else f" --api-port {self.api_port}"),
        ).replace("--api-port 3000", f"--api-port {self.api_port}")
        server = self.background("source .venv/bin/activate\n" + script)
        eventually(lambda: _answers(self.port), "lambda-emu serve answers", within_s=120)
        return server

    @staticmethod
    def stop(server: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
        if server.poll() is None:
            os.killpg(server.pid, sig)
        try:
            out, _ = server.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            out, _ = server.communicate(timeout=30)
        return out

    def close(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                self.stop(server)


def _commands_of(block: str) -> list[str]:
    """A block's commands, one per line (continuations joined), comments kept."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_tour_lists_every_block_it_runs() -> None:
    blocks = _tour_blocks()
    assert len(blocks) == len(TOUR), "a block of the tour is new or gone: give it its check"
    for block, start in zip(blocks, TOUR, strict=True):
        assert block.lstrip().startswith(start), f"a block moved: {start!r} expected"
    assert {start for start in TOUR if start in SKIPPED} == set(SKIPPED)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # every block, `lessons` and `tune` included: several minutes
def test_the_tour_runs_verbatim_and_leaves_the_checkout_clean() -> None:
    before = _porcelain()
    blocks = _tour_blocks()
    assert len(blocks) == len(TOUR)
    (serve, clients, memory, one_off, debug, extensions, front_door, http_load, load, tune,
     predict, lessons, docker) = blocks  # fmt: skip
    assert debug.startswith(TOUR[4]) and docker.startswith(TOUR[12])  # SKIPPED, with reasons
    tour = Tour()
    try:
        first = tour.serve(serve)
        # the other terminal: one shell session, as a reader types the blocks one after another
        marker = "=== next block of the tour ==="
        session = f"\necho '{marker}'\n".join((clients, memory, one_off, extensions))
        out_clients, out_memory, out_one_off, out_extensions = tour.run(session).split(marker)
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
        assert "cgroup" in out_one_off  # doctor says what this machine enforces
        # both analytics functions answer, each with its REPORT (the bill includes the
        # extension's work in both: tests/test_analytics_extension.py measures it)
        assert out_extensions.count("REPORT RequestId:") == 2
        assert "Runtime." not in out_extensions
        _check_front_door(tour, first, front_door)
        _check_http_load(tour.run(http_load))
        _check_load(tour, load)
        _check_tune(tour.run(tune))
        _check_model(tour.run(predict))
        # `lessons` exits 1 when a lesson's ratio missed its bound (a loaded machine can do
        # that); the block promises the figures of every lesson, which it prints either way
        _check_lessons(tour.run(lessons, exit_codes=(0, 1)))
    finally:
        tour.close()
    assert _porcelain() == before


def _check_front_door(tour: Tour, first: subprocess.Popen[str], block: str) -> None:
    """The block starts a second serve (the reader stops the first), then curls its routes."""
    serve_line, *curls = _commands_of(block)
    Tour.stop(first)
    second = tour.serve(serve_line.split("  #", 1)[0])
    eventually(lambda: _answers_http(tour.api_port), "the API port answers", within_s=60)
    out = tour.run("\n".join(curls))
    assert '"id": "42"' in out and '"user": "alice"' in out
    assert "HTTP/1.1 403" in out and '{"message":"Forbidden"}' in out
    printed = Tour.stop(second)
    assert "/items/{id} → items" in printed  # it printed the routes it serves


def _check_http_load(out: str) -> None:
    # cold and warm per route, with the authorizer's share of the latency
    assert "GET /items/{id}" in out and "cold /" in out and "warm" in out
    assert "authorizer http_authorizer" in out and "of the latency" in out


def _check_load(tour: Tour, block: str) -> None:
    for command in _commands_of(block):
        if " --web" in command:
            _check_web(tour, command)
            continue
        out = tour.run(command)
        assert "Lambda summary (hello_python" in out and "Cold starts" in out
        assert "Cost per 1M invocations" in out
        if "spike" in command:
            assert "Environments peak" in out


def _check_web(tour: Tour, command: str) -> None:
    """`--web` serves Locust's UI until stopped: its Lambda tab and page answer, Ctrl-C ends
    it."""
    web = tour.background(
        "source .venv/bin/activate\n"
        + command.split("  #", 1)[0].replace("--web", f"--web --web-port {tour.web_port}")
    )
    base = f"http://127.0.0.1:{tour.web_port}"
    eventually(lambda: _get(base + "/") is not None, "Locust's UI answers", within_s=120)
    page = _get(base + "/lambda")
    assert page is not None and "Cold starts over time" in page
    stats = _get(base + "/stats/requests")
    assert stats is not None and '"key": "lambda"' in stats
    Tour.stop(web, signal.SIGINT)
    assert web.returncode is not None


def _check_tune(out: str) -> None:
    assert "recommend" in out.lower() and "per 1M" in out
    assert "cpu_rust" in out and "cpu_python" in out  # compare's two functions


def _check_model(out: str) -> None:
    assert "cold start" in out.lower() and "environments" in out
    assert (ROOT / ".lambda-emu" / "model.png").is_file()


def _check_lessons(out: str) -> None:
    for lesson in ("concurrent I/O", "initialise clients", "memory buys CPU", "Rust cold start",
                   "/tmp survives", "extensions work after", "stream a large response",
                   "killed at its limit"):  # fmt: skip
        assert lesson in out, lesson
    assert "Runtime.OutOfMemory" in out and re.search(r"\d+ of \d+ lessons shown", out)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/_emu/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _answers_http(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    except httpx.HTTPError:
        return False
    return True


def _get(url: str) -> str | None:
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def _porcelain() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
