"""`lambda-emu load`: one load run, end to end, without importing Locust.

    1. unless --target: `lambda-emu serve` of the manifest in a child process, on a free port,
       its state (and trace) under OUT/emulator
    2. Locust (child processes: one, or a master and N workers) on loadtests/locustfile.py
    3. the emulator stops (its trace is flushed), OUT/trace.jsonl is the run's trace, and
       OUT/summary.json gains the trace's own count of the run

Locust and the emulator run as separate processes: Locust monkey-patches the stdlib with
gevent, and the emulator wants a core of its own. Every child is ended by its PID
(SIGTERM, a deadline, SIGKILL), whatever happens.

OUT holds: summary.json (Lambda summary), locust_stats.csv, locust_stats_history.csv,
locust_failures.csv, locust_exceptions.csv, report.html (Locust's), trace.jsonl,
emulator/ (the emulator's logs and samples), locust.log.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from emulator.arns import split_function_name

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOCUSTFILE_HTTP = Path(__file__).with_name("locustfile_http.py")  # --http: ApiUser
LOCUSTFILE_STREAM = Path(__file__).with_name("locustfile_stream.py")  # --stream
_URL_LINE = re.compile(r"Invoke API on (http://\S+)")


class LoadRunError(RuntimeError):
    """A load run that could not start. `str()` is the one-line CLI message."""


@dataclass(frozen=True)
class LoadRun:
    function: str
    out: Path
    manifest: Path | None = None  # served by a child emulator unless `target`
    target: str | None = None
    users: int = 10
    spawn_rate: float = 10.0
    run_time: str | None = "30s"
    shape: str = "steady"
    payload: str = "{}"
    client: str = "fasthttp"
    web: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 8089
    autostart: bool = False
    autoquit: int | None = None
    workers: int = 0
    sigv4: bool = False
    region: str = "us-east-1"
    architecture: str = "x86_64"
    stop_timeout_s: float = 30.0
    keep_alive_s: float = 600.0
    extra_locust_args: tuple[str, ...] = ()
    emulator_args: tuple[str, ...] = field(default_factory=tuple)
    # --http: a route key served by the emulator's API port (or below `target`), or a URL
    http: str | None = None
    path_params: tuple[str, ...] = ()
    path_params_file: Path | None = None
    headers: tuple[str, ...] = ()
    api_port: int | None = None  # the child emulator's; a free one by default

    # --stream: InvokeWithResponseStream ("invoke"), the function URL ("url") or "both"
    stream: str | None = None
    stream_url: str | None = None

    @property
    def locustfile(self) -> Path:
        if self.http:
            return LOCUSTFILE_HTTP
        return LOCUSTFILE_STREAM if self.stream else LOCUSTFILE

    @property
    def http_url(self) -> bool:
        return bool(self.http) and "://" in str(self.http)

    @property
    def function_url(self) -> bool:
        """--http names a function URL (`GET /lambda-url/<Fn>/...`): served on the Invoke
        API's port, not the API port."""
        from loadtests.http import FUNCTION_URL_PREFIX, HttpTarget

        return bool(self.http) and HttpTarget.parse(str(self.http)).path.startswith(
            FUNCTION_URL_PREFIX
        )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def lambda_args(
    run: LoadRun, host: str, trace: Path | None = None, emulator_url: str | None = None
) -> list[str]:
    args = [
        "--host",
        host,
        "--lambda-function",
        run.function,
        "--lambda-payload",
        run.payload,
        "--lambda-shape",
        run.shape,
        "--lambda-client",
        run.client,
        "--lambda-region",
        run.region,
        "--lambda-architecture",
        run.architecture,
        "--lambda-workers",
        str(max(1, run.workers)),
    ]
    if run.sigv4:
        args.append("--lambda-sigv4")
    if run.stream:
        args += ["--lambda-stream", run.stream]
        if run.stream_url:
            args += ["--lambda-stream-url", run.stream_url]
        if trace is not None:  # a URL answers no REPORT: the trace says cold or warm
            args += ["--lambda-trace", str(trace)]
    if run.http:
        args += ["--lambda-http", run.http]
        for pair in run.path_params:
            args += ["--lambda-path-param", pair]
        if run.path_params_file is not None:
            args += ["--lambda-path-params-file", str(run.path_params_file)]
        for header in run.headers:
            args += ["--lambda-header", header]
        if trace is not None:
            args += ["--lambda-trace", str(trace)]
        if emulator_url:
            args += ["--lambda-emulator", emulator_url]
    return args


def locust_command(
    run: LoadRun,
    host: str,
    master_port: int | None = None,
    trace: Path | None = None,
    emulator_url: str | None = None,
) -> list[str]:
    """The command of the local runner, or of the master when `master_port`."""
    out = run.out
    cmd = [sys.executable, "-m", "locust", "-f", str(run.locustfile)]
    cmd += lambda_args(run, host, trace, emulator_url)
    cmd += ["--users", str(run.users), "--spawn-rate", str(run.spawn_rate)]
    if run.run_time:
        cmd += ["--run-time", run.run_time]
    cmd += [
        "--lambda-summary",
        str(out / "summary.json"),
        "--csv",
        str(out / "locust"),
        "--csv-full-history",
        "--html",
        str(out / "report.html"),
        "--stop-timeout",
        f"{run.stop_timeout_s:g}",
        # Throttles and function errors are results of the run, reported in the summary.
        "--exit-code-on-error",
        "0",
        "--logfile",
        str(out / "locust.log"),
    ]
    if run.web:
        cmd += ["--web-host", run.web_host, "--web-port", str(run.web_port)]
        if run.autostart:
            cmd.append("--autostart")
        if run.autoquit is not None:
            cmd += ["--autoquit", str(run.autoquit)]
    else:
        cmd.append("--headless")
    if master_port is not None:
        cmd += [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(run.workers),
        ]
    return cmd + list(run.extra_locust_args)


def worker_command(run: LoadRun, host: str, master_port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(run.locustfile),
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(master_port),
        *lambda_args(run, host),
    ]


def end_process(proc: subprocess.Popen[Any], grace_s: float = 20.0) -> None:
    """SIGTERM, wait, SIGKILL: the child and nothing else, by its PID."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class ChildEmulator:
    """`lambda-emu serve` in a child process, its Invoke API on a free port."""

    def __init__(self, run: LoadRun) -> None:
        assert run.manifest is not None
        self.state_dir = run.out / "emulator"
        trace = self.state_dir / "traces" / "invocations.jsonl"
        trace.unlink(missing_ok=True)
        self.trace_path = trace
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state_dir / "serve.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        cmd = [
            sys.executable,
            "-m",
            "emulator.cli",
            "serve",
            "--manifest",
            str(run.manifest),
            "--port",
            "0",
            "--quiet",
            "--no-reload",
            "--state-dir",
            str(self.state_dir),
            "--keep-alive",
            f"{run.keep_alive_s:g}",
            *run.emulator_args,
        ]
        self.api_port: int | None = None
        if run.http and not run.function_url:
            self.api_port = run.api_port or free_port()
        # never the default 3000: a manifest with APIs must not collide with another emulator
        cmd += ["--api-port", str(self.api_port or 0)]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT)
        self.url = ""

    def wait_ready(self, timeout_s: float = 300.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = _URL_LINE.search(self.log_path.read_text(errors="replace"))
            if match and (self.api_port is None or _listening(self.api_port)):
                self.url = match.group(1)
                return self.url
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        log = self.log_path.read_text(errors="replace").strip()
        self.stop()
        raise LoadRunError(f"the emulator did not start: {log[-2000:] or 'no output'}")

    def stop(self) -> None:
        end_process(self.proc, grace_s=30.0)
        self._log.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def trace_facts(path: Path, function: str) -> dict[str, Any]:
    """The run as the emulator recorded it: one record per invocation of `function`."""
    invocations = cold = 0
    environments: set[str] = set()
    outcomes: dict[str, int] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            if (
                record.get("function") != function
                or record.get("kind", "invocation") != "invocation"
            ):
                continue  # another function's, or an HTTP request's record (loadtests.routes)
            invocations += 1
            cold += bool(record.get("cold"))
            if record.get("environment_id"):
                environments.add(record["environment_id"])
            outcome = str(record.get("outcome"))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "path": path.name,
        "invocations": invocations,
        "cold_starts": cold,
        "environments": len(environments),
        "outcomes": outcomes,
    }


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url.split(" ", 1)[-1])
    return f"{parts.scheme}://{parts.netloc}"


def _start(cmd: Sequence[str]) -> subprocess.Popen[Any]:
    # Locust's tables and the Lambda summary go to our stdout; its log to OUT/locust.log.
    return subprocess.Popen(list(cmd), env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def execute(run: LoadRun, *, echo: bool = True) -> dict[str, Any]:
    """Run it; return the summary (also in OUT/summary.json). SIGTERM ends the run as Ctrl-C
    does: Locust writes its reports, every child is ended (handler restored on return)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _execute(run, echo=echo)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _execute(run: LoadRun, *, echo: bool) -> dict[str, Any]:
    run.out.mkdir(parents=True, exist_ok=True)
    summary_path = run.out / "summary.json"
    summary_path.unlink(missing_ok=True)
    emulator: ChildEmulator | None = None
    children: list[subprocess.Popen[Any]] = []
    try:
        trace: Path | None = None
        if run.target is None and not run.http_url:
            emulator = ChildEmulator(run)
            host = emulator.wait_ready()
            if emulator.api_port is not None:
                host = f"http://127.0.0.1:{emulator.api_port}"
            # function URLs are on the Invoke API's port (`host` as it is); the trace tells
            # cold from warm for requests that get no REPORT (routes, streamed URL calls)
            url_calls = run.stream in ("url", "both") and not run.stream_url
            if run.http or url_calls:
                trace = emulator.trace_path
        elif run.http_url:
            host = run.target.rstrip("/") if run.target else _origin(str(run.http))
        else:
            host = str(run.target).rstrip("/")
        if echo:
            what = run.http or run.function
            print(f"lambda-emu load: {what} at {host}", file=sys.stderr, flush=True)
        master_port = free_port() if run.workers > 0 else None
        emulator_url = emulator.url if emulator is not None else None
        main = _start(locust_command(run, host, master_port, trace, emulator_url))
        children.append(main)
        if master_port is not None:
            for _ in range(run.workers):
                children.append(_start(worker_command(run, host, master_port)))
        try:
            main.wait()
        except KeyboardInterrupt:
            # Ctrl-C is how a --web run ends. From a terminal Locust (in our process group)
            # got it too and is writing its reports; otherwise SIGTERM, which Locust also
            # answers by writing them.
            with contextlib.suppress(subprocess.TimeoutExpired):
                main.wait(5)
            if main.poll() is None:
                main.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                main.wait(run.stop_timeout_s + 30)
        for worker in children[1:]:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                end_process(worker)
    finally:
        for child in reversed(children):
            end_process(child)
        if emulator is not None:
            emulator.stop()
    if not summary_path.exists():
        raise LoadRunError(f"Locust wrote no summary; see {run.out / 'locust.log'}")
    summary: dict[str, Any] = json.loads(summary_path.read_text(encoding="utf-8"))
    if emulator is not None:
        trace = run.out / "trace.jsonl"
        if emulator.trace_path.exists():
            shutil.copyfile(emulator.trace_path, trace)
        summary["trace"] = trace_facts(trace, split_function_name(run.function)[0])
        if run.http:
            from loadtests.routes import trace_routes

            summary["trace"]["routes"] = trace_routes(trace)
        summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
