"""Soak: a long mixed load with injected faults; nothing may be lost, nothing may leak.

`lambda-emu serve` runs as a subprocess with the fault suite's functions
(tests/faults/functions/): a Python echo, a Python function that crashes, times out, runs out
of memory or raises on request, and a custom runtime that misbehaves on request. N concurrent
users (asyncio + httpx) invoke them for the run's duration, mostly synchronously, some as
Event invocations. Then the emulator is stopped with SIGTERM and the run is checked:

- sent / answered / lost: every request must get an HTTP answer (200, 202, or 429 under
  throttling) and no 5xx; every 200 must have exactly one record in the trace, every accepted
  Event at least one (delivered; retries share the request id). lost must be 0.
- the emulator's RSS at start (after the first round of cold starts) and at the end;
- leaked processes (any process carrying this run's SOAK_RUN token) and cgroups (any
  `lambda-emu-<pid>-*` directory of the stopped emulator): both must be 0.

    .venv/bin/python bench/soak.py                 # 10 minutes, 50 users
    .venv/bin/python bench/soak.py --seconds 30    # the CI-sized run
    .venv/bin/python bench/soak.py --sandbox docker --seconds 30   # in containers

With `--sandbox docker` the leak check also counts the stopped emulator's containers.

Exits 1 when something was lost or leaked. `--json` adds one JSON summary line at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import psutil

from emulator.metrics.trace import read_records

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "tests" / "faults" / "functions"
CGROUP_ROOT = Path("/sys/fs/cgroup")

# (function, payload, invocation type, weight): mostly healthy traffic, with faults mixed in.
MIX: list[tuple[str, dict[str, object], str, int]] = [
    ("fault_echo", {"k": "v"}, "RequestResponse", 30),
    ("fault_echo", {"k": "event"}, "Event", 6),
    ("fault_chaos", {}, "RequestResponse", 20),
    ("fault_chaos", {"fault": "error"}, "RequestResponse", 5),
    ("fault_chaos", {"fault": "crash"}, "RequestResponse", 4),
    ("fault_chaos", {"fault": "timeout"}, "RequestResponse", 3),
    ("fault_chaos", {"fault": "oom", "mb": 400}, "RequestResponse", 2),
    ("fault_chaos", {"fault": "crash"}, "Event", 1),
    ("fault_rogue", {"mode": "echo"}, "RequestResponse", 15),
    ("fault_rogue", {"mode": "crash"}, "RequestResponse", 2),
    ("fault_rogue", {"mode": "hang"}, "RequestResponse", 1),
    ("fault_rogue", {"mode": "garbage_error"}, "RequestResponse", 2),
    ("fault_rogue", {"mode": "garbage_body"}, "RequestResponse", 2),
    ("fault_rogue", {"mode": "response_error"}, "RequestResponse", 2),
]
SOAK_FUNCTIONS = ("fault_echo", "fault_chaos", "fault_rogue")
ANSWERED = (200, 202, 429)  # 429: throttled, an answer Lambda gives too
REQUEST_TIMEOUT_S = 120.0  # far above every function's timeout: a request over it is lost


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    no_answer: int = 0  # connection error or timeout
    server_errors: int = 0  # 5xx
    statuses: Counter[int] = field(default_factory=Counter)
    error_types: Counter[str] = field(default_factory=Counter)
    sync_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)


@dataclass
class SoakResult:
    seconds: float
    users: int
    sent: int
    answered: int
    lost: int
    no_answer: int
    server_errors: int
    untraced_sync: int
    duplicated_sync: int
    undelivered_events: int
    throttled: int
    statuses: dict[str, int]
    error_types: dict[str, int]
    rss_start_mb: float
    rss_end_mb: float
    rss_peak_mb: float
    rss_timeline: list[tuple[float, float]]  # (seconds into the load, MB)
    leaked_processes: int
    leaked_cgroups: int
    emulator_exit: int | None
    sandbox: str = "process"
    leaked_containers: int = 0


def write_manifest(path: Path, token: str) -> None:
    """The fault suite's functions, each with this run's token in its environment."""
    lines = [
        "[defaults]",
        'runtime = "python3.11"',
        'handler = "app.handler"',
        "memory = 128",
        "timeout = 2",
        "",
        "[functions.fault_echo]",
        f'code = "{FUNCTIONS / "echo"}"',
        f'environment = {{ SOAK_RUN = "{token}" }}',
        "",
        "[functions.fault_chaos]",
        f'code = "{FUNCTIONS / "chaos"}"',
        "memory = 256",
        "timeout = 1",
        f'environment = {{ SOAK_RUN = "{token}" }}',
        "",
        "[functions.fault_rogue]",
        'runtime = "provided.al2023"',
        'handler = "bootstrap"',
        f'code = "{FUNCTIONS / "rogue"}"',
        "timeout = 1",
        f'environment = {{ SOAK_RUN = "{token}", PROBE_DIR = "{path.parent / "probe"}" }}',
    ]
    (path.parent / "probe").mkdir(exist_ok=True)
    (path.parent / "probe").chmod(0o1777)  # functions may run as another user
    path.write_text("\n".join(lines) + "\n")


def start_emulator(
    manifest: Path, state_dir: Path, sandbox: str = "process"
) -> tuple[subprocess.Popen[str], str]:
    exe = Path(sys.executable).with_name("lambda-emu")
    cmd = [str(exe) if exe.exists() else "lambda-emu", "serve", "--manifest", str(manifest)]
    cmd += ["--port", "0", "--state-dir", str(state_dir), "--quiet", "--no-reload"]
    cmd += ["--event-retry-scale", "0.01", "--sample-interval", "0", "--sandbox", sandbox]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=state_dir)
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"Invoke API on (http://\S+)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    proc.wait()
    raise RuntimeError("lambda-emu serve did not start:\n" + "".join(seen))


def drain_stderr(proc: subprocess.Popen[str], into: list[str]) -> None:
    """Keep reading the emulator's stderr so that it never blocks on a full pipe."""
    import threading

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            into.append(line)

    threading.Thread(target=pump, daemon=True).start()


async def user(
    client: httpx.AsyncClient, deadline: float, rng: random.Random, tally: Tally
) -> None:
    choices = [(fn, payload, kind) for fn, payload, kind, _ in MIX]
    weights = [w for *_, w in MIX]
    while time.monotonic() < deadline:
        fn, payload, kind = rng.choices(choices, weights)[0]
        tally.sent += 1
        try:
            resp = await client.post(
                f"/2015-03-31/functions/{fn}/invocations",
                content=json.dumps(payload).encode(),
                headers={"X-Amz-Invocation-Type": kind},
            )
        except httpx.HTTPError:
            tally.no_answer += 1
            continue
        tally.statuses[resp.status_code] += 1
        if resp.status_code >= 500:
            tally.server_errors += 1
            continue
        if resp.status_code not in ANSWERED:
            continue  # a 4xx is an answer, but not one this mix should get: counted in statuses
        tally.answered += 1
        request_id = resp.headers.get("x-amzn-requestid", "")
        if resp.status_code == 200:
            tally.sync_ids.append(request_id)
            if resp.headers.get("x-amz-function-error"):
                try:
                    tally.error_types[str(resp.json().get("errorType"))] += 1
                except ValueError:
                    tally.error_types["(not JSON)"] += 1
        elif resp.status_code == 202:
            tally.event_ids.append(request_id)


async def load(url: str, seconds: float, users: int, seed: int) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as c:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(user(c, deadline, random.Random(seed + i), tally) for i in range(users))
        )
    return tally


def rss_mb(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / (1024 * 1024)


def wait_events_delivered(url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/_emu/health", timeout=10).json().get("events_pending", 0) == 0:
            return
        time.sleep(0.2)


def token_processes(token: str) -> list[int]:
    marker = f"SOAK_RUN={token}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def emulator_cgroups(pid: int) -> list[Path]:
    pattern = f"lambda-emu-{pid}-*"
    return [*CGROUP_ROOT.glob(pattern), *CGROUP_ROOT.glob(f"*/{pattern}")]


def read_trace(state_dir: Path) -> Counter[str]:
    path = state_dir / "traces" / "invocations.jsonl"
    if not path.exists():
        return Counter()
    return Counter(record["request_id"] for record in read_records(path))


def emulator_containers(owner: str) -> list[str]:
    """The containers a (stopped) emulator made that still exist, by its owner label."""
    done = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=dev.lambda-emu.owner={owner}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.split()


def soak(
    seconds: float, users: int, seed: int, state_root: Path, sandbox: str = "process"
) -> SoakResult:
    token = secrets.token_hex(6)
    state_dir = state_root / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    manifest = state_root / "lambda-emu.toml"
    write_manifest(manifest, token)
    proc, url = start_emulator(manifest, state_dir, sandbox)
    from emulator.sandbox.docker.engine import owner_token

    owner = owner_token(proc.pid)  # its containers' label (while its pid is alive)
    stderr: list[str] = []
    drain_stderr(proc, stderr)
    exit_code: int | None = None
    try:
        # one cold start per function first: "RSS at start" is the serving emulator's
        for fn in SOAK_FUNCTIONS:
            httpx.post(f"{url}/2015-03-31/functions/{fn}/invocations", content=b"{}", timeout=60)
        rss_start = rss_mb(proc.pid)
        peak = rss_start
        every = max(1.0, seconds / 10)  # ten points of the RSS curve: does it level off?
        timeline: list[tuple[float, float]] = []

        async def run() -> Tally:
            nonlocal peak
            started = time.monotonic()
            next_point = started + every
            task = asyncio.ensure_future(load(url, seconds, users, seed))
            while not task.done():
                now_rss = rss_mb(proc.pid)
                peak = max(peak, now_rss)
                if time.monotonic() >= next_point:
                    timeline.append((time.monotonic() - started, now_rss))
                    next_point += every
                await asyncio.wait([task], timeout=1.0)
            return task.result()

        tally = asyncio.run(run())
        wait_events_delivered(url)
        rss_end = rss_mb(proc.pid)
        peak = max(peak, rss_end)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            exit_code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    time.sleep(0.5)  # /proc and cgroupfs settle after the last kill
    leaked_processes = token_processes(token)
    for pid in leaked_processes:  # report them, then do not leave them running
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    leaked_cgroups = emulator_cgroups(proc.pid)
    leaked_containers = emulator_containers(owner) if sandbox == "docker" else []
    traced = read_trace(state_dir)
    untraced = sum(1 for rid in tally.sync_ids if traced[rid] == 0)
    duplicated = sum(1 for rid in tally.sync_ids if traced[rid] > 1)
    undelivered = sum(1 for rid in tally.event_ids if traced[rid] == 0)
    lost = tally.no_answer + tally.server_errors + untraced + duplicated + undelivered
    if exit_code not in (0, None):
        sys.stderr.write("".join(stderr[-20:]))
    return SoakResult(
        seconds=seconds,
        users=users,
        sent=tally.sent,
        answered=tally.answered,
        lost=lost,
        no_answer=tally.no_answer,
        server_errors=tally.server_errors,
        untraced_sync=untraced,
        duplicated_sync=duplicated,
        undelivered_events=undelivered,
        throttled=tally.statuses[429],
        statuses={str(k): v for k, v in sorted(tally.statuses.items())},
        error_types=dict(tally.error_types.most_common()),
        rss_start_mb=round(rss_start, 1),
        rss_end_mb=round(rss_end, 1),
        rss_peak_mb=round(peak, 1),
        rss_timeline=[(round(t), round(mb, 1)) for t, mb in timeline],
        leaked_processes=len(leaked_processes),
        leaked_cgroups=len(leaked_cgroups),
        emulator_exit=exit_code,
        sandbox=sandbox,
        leaked_containers=len(leaked_containers),
    )


def print_result(r: SoakResult) -> None:
    print(
        f"soak ({r.sandbox} sandbox): {r.seconds:.0f} s, {r.users} users, "
        f"functions {', '.join(SOAK_FUNCTIONS)}"
    )
    print(f"invocations sent {r.sent}, answered {r.answered}, lost {r.lost}")
    print(
        f"  lost = no answer {r.no_answer} + 5xx {r.server_errors} + 200 without a trace record "
        f"{r.untraced_sync} + 200 with two {r.duplicated_sync} + Event never run "
        f"{r.undelivered_events}"
    )
    print(f"  statuses {r.statuses} (429 throttled: {r.throttled})")
    print(f"  function errors {r.error_types}")
    print(
        f"emulator RSS: start {r.rss_start_mb} MB, end {r.rss_end_mb} MB, peak {r.rss_peak_mb} MB"
    )
    print("  during the load: " + ", ".join(f"{t:.0f} s {mb} MB" for t, mb in r.rss_timeline))
    print(
        f"leaked: processes {r.leaked_processes}, cgroups {r.leaked_cgroups}, "
        f"containers {r.leaked_containers} "
        f"(emulator exit status {r.emulator_exit})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=None, help="duration (overrides)")
    parser.add_argument("--minutes", type=float, default=10.0, help="duration (default 10)")
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="end with a JSON summary line")
    parser.add_argument("--sandbox", choices=("process", "docker"), default="process")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    # not under /tmp: environments get a private /tmp, which would hide the probe directory
    (ROOT / ".lambda-emu").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lambda-emu-soak-", dir=ROOT / ".lambda-emu") as d:
        result = soak(seconds, args.users, args.seed, Path(d), args.sandbox)
    print_result(result)
    if args.json:
        print(json.dumps(asdict(result)))
    ok = result.lost == 0 and result.leaked_processes == 0 and result.leaked_cgroups == 0
    ok = ok and result.leaked_containers == 0
    return 0 if ok and result.emulator_exit == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
