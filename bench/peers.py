"""The servers bench/invoke_overhead.py compares, each started as a context manager.

Every context manager starts its server in a process group of its own, waits until the invoke URL
answers a POST ``{}`` with 200, yields that URL, and on exit sends SIGTERM to the group, waits up to
5 s, then SIGKILLs the group and any descendant that left it. A peer that cannot run here raises
``PeerUnavailable`` with the reason (install the peers with ``scripts/setup-bench``).

- ``floor()``: bench/floor_server.js, a Node HTTP server answering ``{}``: no Lambda work at all.
- ``serverless_offline()``: serverless 3 + serverless-offline 13 on bench/functions/serverless.yml.
  It runs Python handlers with its own ``invoke.py`` (not awslambdaric): one long-lived
  ``python3 -u invoke.py`` per busy function instance, fed JSON lines on stdin, reused while
  warm (``--reloadHandler`` off, idle instances reaped after 60 s).
- ``cargo_lambda()``: ``cargo lambda watch --only-lambda-apis`` + stock awslambdaric. As of
  cargo-lambda 1.9.2 + awslambdaric 4.x this raises ``PeerUnavailable``: the runtime dies with
  SIGSEGV on the first invocation (cargo-lambda's ``/next`` has no Content-Type). It checks live,
  so a fixed version is measured.
- ``cargo_lambda_pyloop()``: the same server with bench/pyloop_runtime.py as the runtime client.
- ``lambda_emu()``: ``lambda-emu serve --manifest bench/functions/lambda-emu.toml --port 0``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
FUNCTIONS = BENCH / "functions"
NOOP = FUNCTIONS / "noop"
PEERS = BENCH / ".peers"
LOGS = PEERS / "logs"
NODE_MODULES = PEERS / "node" / "node_modules"

STOP_GRACE_S = 5.0


class PeerUnavailable(RuntimeError):
    """This peer cannot be measured here; the message says why."""


# ---------------------------------------------------------------------------------------------
# process handling


class _Proc:
    """A process started in its own process group, output to a log file."""

    def __init__(self, name: str, cmd: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOGS / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own session => own process group, pgid == pid
        )
        self.pgid = self.popen.pid

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, n: int = 15) -> str:
        lines = self.output().strip().splitlines()[-n:]
        return "\n".join("    " + line for line in lines)

    def exited(self) -> int | None:
        return self.popen.poll()

    def stop(self) -> None:
        """SIGTERM the group, wait up to 5 s, SIGKILL what is left and descendants that left it."""
        strays = _descendants(self.popen.pid)
        _signal_group(self.pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline:
            self.popen.poll()
            if not _group_alive(self.pgid) and not any(_alive(p) for p in strays):
                break
            time.sleep(0.05)
        else:
            _signal_group(self.pgid, signal.SIGKILL)
        for pid in strays | _descendants(self.popen.pid):
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_GRACE_S)
        self._log.close()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies still count for killpg(0): look at /proc for a live member
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[2] == pgid and stat[0] != "Z":
                return True
    return False


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of pid, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                children.setdefault(stat[1], []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@contextlib.contextmanager
def _running(procs: list[_Proc]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in reversed(procs):
            proc.stop()


# ---------------------------------------------------------------------------------------------
# helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post_ok(url: str, timeout: float) -> tuple[bool, str]:
    req = urllib.request.Request(
        url, data=b"{}", method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status == 200, f"HTTP {resp.status}"
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code}: {e.read()[:200]!r}"
    except (OSError, urllib.error.URLError) as e:
        return False, str(e)


def _wait_for_output(proc: _Proc, pattern: str, deadline_s: float) -> re.Match[str]:
    deadline = time.monotonic() + deadline_s
    rx = re.compile(pattern)
    while time.monotonic() < deadline:
        match = rx.search(proc.output())
        if match:
            return match
        if proc.exited() is not None:
            raise PeerUnavailable(
                f"{proc.name} exited with {proc.exited()} before listening:\n{proc.tail()}"
            )
        time.sleep(0.05)
    raise PeerUnavailable(
        f"{proc.name} printed no {pattern!r} in {deadline_s:.0f} s:\n{proc.tail()}"
    )


def _wait_answers(url: str, procs: list[_Proc], deadline_s: float, per_call_s: float = 5.0) -> None:
    """POST {} until a 200 comes back (the first call may be a cold start)."""
    deadline = time.monotonic() + deadline_s
    last = "no attempt"
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.exited() is not None:
                raise PeerUnavailable(
                    f"{proc.name} exited with {_rc(proc.exited())} while waiting for {url} "
                    f"(last answer: {last}):\n{proc.tail()}"
                )
        ok, last = _post_ok(url, timeout=min(per_call_s, max(0.1, deadline - time.monotonic())))
        if ok:
            return
        time.sleep(0.1)
    raise PeerUnavailable(
        f"{url} did not answer 200 within {deadline_s:.0f} s (last: {last})\n"
        + "\n".join(f"  {p.name}:\n{p.tail()}" for p in procs)
    )


def _rc(rc: int | None) -> str:
    if rc is not None and rc < 0:
        return f"signal {signal.Signals(-rc).name}"
    return str(rc)


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    # never let a peer reach for AWS or a vendor endpoint; everything here is loopback
    env.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        NO_PROXY="*",
        no_proxy="*",
    )
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(var, None)
    return env


def _python_env() -> dict[str, str]:
    """Environment in which `python3` is this interpreter (the function runs under it)."""
    env = _base_env()
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def _which_near_python(name: str) -> str | None:
    """A console script of the active interpreter's environment, else one on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    venv = REPO / ".venv" / "bin" / name
    if venv.exists():
        return str(venv)
    return shutil.which(name)


def _have_awslambdaric() -> None:
    try:
        import awslambdaric  # noqa: F401
    except ImportError as e:
        raise PeerUnavailable(
            f"awslambdaric is not installed for {sys.executable} (run scripts/setup-bench)"
        ) from e


# ---------------------------------------------------------------------------------------------
# the peers


@contextlib.contextmanager
def floor() -> Iterator[str]:
    node = shutil.which("node")
    if not node:
        raise PeerUnavailable("node is not on PATH")
    proc = _Proc("floor", [node, str(BENCH / "floor_server.js"), "0"], cwd=BENCH, env=_base_env())
    with _running([proc]):
        port = int(_wait_for_output(proc, r"listening on http://127\.0\.0\.1:(\d+)", 15).group(1))
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/noop/invocations"
        _wait_answers(url, [proc], 10)
        yield url


SLS_SERVICE, SLS_STAGE, SLS_FUNCTION = "bench", "dev", "noop"


@contextlib.contextmanager
def serverless_offline(port: int | None = None, *, http_api: bool = False) -> Iterator[str]:
    """Yields the Invoke API URL of the no-op, or with `http_api` its `httpApi` route's URL
    (POST /noop, payload 2.0: bench/api_overhead.py)."""
    node = shutil.which("node")
    sls = NODE_MODULES / "serverless" / "bin" / "serverless.js"
    if not node:
        raise PeerUnavailable("node is not on PATH")
    if not sls.exists() or not (NODE_MODULES / "serverless-offline").exists():
        raise PeerUnavailable(
            f"serverless / serverless-offline missing in {NODE_MODULES} (run scripts/setup-bench)"
        )
    port = port or free_port()
    env = _python_env()
    env.update(
        SLS_TELEMETRY_DISABLED="1",
        SLS_TRACKING_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_DEPRECATION_DISABLE="*",
        SLS_INTERACTIVE_SETUP_DISABLE="1",
        SLS_OFFLINE="1",
    )
    env.pop("VIRTUAL_ENV", None)  # PATH already leads to this interpreter
    cmd = [
        node, str(sls), "offline", "start",
        "--host", "127.0.0.1",
        "--lambdaPort", str(port),
        # its API Gateway emulation (the httpApi event) on a free port, never a fixed 3000
        "--httpPort", str(http_port := free_port()),
        "--noPrependStageInUrl",
    ]  # fmt: skip
    proc = _Proc("serverless-offline", cmd, cwd=FUNCTIONS, env=env)
    with _running([proc]):
        _wait_for_output(proc, r"Offline \[http for lambda\] listening", 90)
        url = (
            f"http://127.0.0.1:{port}/2015-03-31/functions/"
            f"{SLS_SERVICE}-{SLS_STAGE}-{SLS_FUNCTION}/invocations"
        )
        if http_api:
            _wait_for_output(proc, r"Server ready: http://127\.0\.0\.1:\d+", 30)
            url = f"http://127.0.0.1:{http_port}/{SLS_FUNCTION}"
        _wait_answers(url, [proc], 30)
        yield url


CARGO_LAMBDA_FN = "noop"


def _cargo_lambda_server(port: int) -> _Proc:
    exe = _which_near_python("cargo-lambda")
    if not exe:
        raise PeerUnavailable(
            "cargo-lambda is not installed (pip install cargo-lambda; scripts/setup-bench)"
        )
    if not shutil.which("cargo"):
        raise PeerUnavailable("cargo is not on PATH (cargo lambda watch runs `cargo metadata`)")
    # `cargo lambda watch` runs `cargo metadata` even with --only-lambda-apis: an empty crate
    project = PEERS / "cargo-lambda"
    (project / "src").mkdir(parents=True, exist_ok=True)
    manifest = (
        '[package]\nname = "noop"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n'
        "\n[workspace]\n"
    )
    if not (project / "Cargo.toml").exists() or (project / "Cargo.toml").read_text() != manifest:
        (project / "Cargo.toml").write_text(manifest)
    if not (project / "src" / "main.rs").exists():
        (project / "src" / "main.rs").write_text("fn main() {}\n")
    env = _base_env()
    env["CARGO_NET_OFFLINE"] = "true"
    cmd = [
        exe, "lambda", "watch", "--only-lambda-apis",
        "--invoke-address", "127.0.0.1", "--invoke-port", str(port),
    ]  # fmt: skip
    return _Proc("cargo-lambda", cmd, cwd=project, env=env)


@contextlib.contextmanager
def _cargo_lambda_with(runtime_cmd: list[str], label: str, runtimes: int) -> Iterator[str]:
    port = free_port()
    server = _cargo_lambda_server(port)
    procs = [server]
    with _running(procs):
        _wait_for_output(server, r"starting Runtime server", 30)
        # cargo-lambda hands out http://<addr>/.rt/<fn> (with scheme and path); awslambdaric's
        # native client builds "<value>/2018-06-01/..." and hands it to libcurl, so both work.
        env = _python_env()
        env.update(
            AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt/{CARGO_LAMBDA_FN}",
            AWS_LAMBDA_FUNCTION_NAME=CARGO_LAMBDA_FN,
            AWS_LAMBDA_FUNCTION_VERSION="1",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1769",
            AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{CARGO_LAMBDA_FN}",
            AWS_LAMBDA_LOG_STREAM_NAME="bench",
            LAMBDA_TASK_ROOT=str(NOOP),
        )
        env.pop("AWS_LAMBDA_MAX_CONCURRENCY", None)
        for i in range(runtimes):
            procs.append(_Proc(f"{label}-runtime-{i}", runtime_cmd, cwd=NOOP, env=env))
        time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/{CARGO_LAMBDA_FN}/invocations"
        try:
            _wait_answers(url, procs, 20, per_call_s=3)
        except PeerUnavailable as e:
            dead = [p for p in procs[1:] if p.exited() is not None]
            if dead and dead[0].exited() == -signal.SIGSEGV:
                raise PeerUnavailable(
                    "not measurable: stock awslambdaric dies with SIGSEGV on the first invocation. "
                    "cargo-lambda's /next response has no Content-Type header and awslambdaric's "
                    "native client (aws-lambda-cpp 0.2.6, content-type patch) builds a "
                    "std::string from the NULL that libcurl returns for it. "
                    "(AWS_LAMBDA_RUNTIME_API with scheme and /.rt/<fn> path is accepted; "
                    "that is not the problem.)"
                ) from e
            raise
        yield url


@contextlib.contextmanager
def cargo_lambda() -> Iterator[str]:
    _have_awslambdaric()
    cmd = [sys.executable, "-m", "awslambdaric", "app.handler"]
    with _cargo_lambda_with(cmd, "cargo-lambda-awslambdaric", runtimes=1) as url:
        yield url


@contextlib.contextmanager
def cargo_lambda_pyloop(runtimes: int = 1) -> Iterator[str]:
    """cargo-lambda's server with bench/pyloop_runtime.py: `runtimes` pollers on one function.

    One poller, like cargo-lambda's own default (``--concurrency 1``). Several external pollers
    on one function are pathological there (one mpsc receiver behind a mutex): with 8 the
    sequential p50 went from ~1 ms to ~44 ms on the reference machine.
    """
    cmd = [sys.executable, str(BENCH / "pyloop_runtime.py"), "app.handler"]
    with _cargo_lambda_with(cmd, "cargo-lambda-pyloop", runtimes=runtimes) as url:
        yield url


def lambda_emu_executable() -> str | None:
    return _which_near_python("lambda-emu")


@contextlib.contextmanager
def lambda_emu() -> Iterator[str]:
    exe = lambda_emu_executable()
    if not exe:
        raise PeerUnavailable(
            "lambda-emu is not installed yet (no lambda-emu on PATH or in .venv/bin)"
        )
    state_dir = PEERS / "lambda-emu-state"
    cmd = [
        exe, "serve",
        "--manifest", str(FUNCTIONS / "lambda-emu.toml"),
        "--port", "0",
        "--quiet",
        "--state-dir", str(state_dir),
    ]  # fmt: skip
    env = _python_env()
    proc = _Proc("lambda-emu", cmd, cwd=REPO, env=env)
    with _running([proc]):
        match = _wait_for_output(proc, r"Invoke API on http://127\.0\.0\.1:(\d+)", 120)
        url = f"http://127.0.0.1:{match.group(1)}/2015-03-31/functions/noop/invocations"
        _wait_answers(url, [proc], 120, per_call_s=30)  # the first call is a cold start
        yield url


PEER_FACTORIES = {
    "floor": floor,
    "serverless-offline": serverless_offline,
    "cargo-lambda": cargo_lambda,
    "cargo-lambda-pyloop": cargo_lambda_pyloop,
    "lambda-emu": lambda_emu,
}
