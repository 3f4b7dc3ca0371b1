"""Warm-invocation overhead of a no-op Python function through the Lambda Invoke API.

    python bench/invoke_overhead.py [--calls 2000] [--warmup 200] [--duration 10] [--only NAME]...

Peers (bench/peers.py), measured one after another in the same run:
  floor                trivial Node HTTP server answering {} (no Lambda work: the floor)
  serverless-offline   serverless 3 + serverless-offline 13, python3.11 function (its invoke.py)
  cargo-lambda         cargo lambda watch --only-lambda-apis + stock awslambdaric
  cargo-lambda-pyloop  the same server + bench/pyloop_runtime.py (not awslambdaric; info only)
  lambda-emu           lambda-emu serve --manifest bench/functions/lambda-emu.toml (ours)

Per peer: p50/p99 of --calls sequential POST {} on one kept-alive httpx client after --warmup calls;
req/s from wrk (8 connections, 2 threads, --duration s, bench/wrk_post.lua) and from 8 concurrent
asyncio httpx clients (2 x --calls calls in all, at most --duration s). Results also go to
bench/results/invoke_overhead.json. Install the peers with scripts/setup-bench.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import peers

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "invoke_overhead.json"
BODY = b"{}"
HEADERS = {"Content-Type": "application/json"}
CONCURRENCY = 8
WRK_THREADS = 2


def _httpx() -> Any:
    try:
        import httpx
    except ImportError:
        sys.exit(f"httpx is not installed for {sys.executable}: run scripts/setup-bench")
    return httpx


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def measure_latency(url: str, calls: int, warmup: int, deadline_s: float) -> dict[str, Any]:
    httpx = _httpx()
    samples: list[float] = []
    errors = 0
    stop_at = time.monotonic() + deadline_s
    with httpx.Client(timeout=10.0, http2=False) as client:
        for i in range(warmup + calls):
            if time.monotonic() > stop_at:
                break
            t0 = time.perf_counter_ns()
            resp = client.post(url, content=BODY, headers=HEADERS)
            elapsed = time.perf_counter_ns() - t0
            if resp.status_code != 200:
                errors += 1
            if i >= warmup:
                samples.append(elapsed / 1e6)
    samples.sort()
    return {
        "calls": len(samples),
        "errors": errors,
        "p50_ms": percentile(samples, 50),
        "p90_ms": percentile(samples, 90),
        "p99_ms": percentile(samples, 99),
        "mean_ms": statistics.fmean(samples) if samples else float("nan"),
        "min_ms": samples[0] if samples else float("nan"),
        "max_ms": samples[-1] if samples else float("nan"),
    }


def measure_wrk(url: str, duration_s: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if not wrk:
        return {"error": "wrk not installed (apt-get install wrk; scripts/setup-bench)"}
    cmd = [
        wrk, f"-t{WRK_THREADS}", f"-c{CONCURRENCY}", f"-d{duration_s}s", "--timeout", "5s",
        "--latency", "-s", str(BENCH / "wrk_post.lua"), url,
    ]  # fmt: skip
    try:
        out = subprocess.run(
            cmd, capture_output=True, text=True, timeout=duration_s + 30, check=False
        ).stdout
    except subprocess.TimeoutExpired:
        return {"error": "wrk did not finish in time"}
    result: dict[str, Any] = {"cmd": " ".join(cmd[1:])}
    if m := re.search(r"Requests/sec:\s*([\d.]+)", out):
        result["req_per_s"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+\w+)", out):
        result["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    if m := re.search(r"Socket errors:(.*)", out):
        result["socket_errors"] = m.group(1).strip()
    for q in ("50", "99"):
        if m := re.search(rf"^\s*{q}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
            value = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
            result[f"p{q}_ms"] = value
    if "req_per_s" not in result:
        result["error"] = "could not parse wrk output: " + out[-300:]
    return result


async def _async_load(url: str, total_calls: int, deadline_s: float) -> dict[str, Any]:
    httpx = _httpx()
    remaining = total_calls
    done = errors = 0
    stop_at = time.monotonic() + deadline_s

    async def user() -> None:
        nonlocal remaining, done, errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            while remaining > 0 and time.monotonic() < stop_at:
                remaining -= 1
                resp = await client.post(url, content=BODY, headers=HEADERS)
                done += 1
                errors += resp.status_code != 200

    t0 = time.perf_counter()
    await asyncio.wait_for(
        asyncio.gather(*(user() for _ in range(CONCURRENCY))), timeout=deadline_s + 15
    )
    elapsed = time.perf_counter() - t0
    return {"calls": done, "errors": errors, "seconds": elapsed, "req_per_s": done / elapsed}


def measure_httpx_concurrent(url: str, total_calls: int, deadline_s: float) -> dict[str, Any]:
    try:
        return asyncio.run(_async_load(url, total_calls, deadline_s))
    except TimeoutError:
        return {"error": "httpx load did not finish in time"}


class CpuWatch:
    """CPU time of the emulator process and of its runtime processes over a load run, per
    invocation: shows which side limits throughput on this machine."""

    def __init__(self, invoke_url: str) -> None:
        import psutil

        self.base = invoke_url.split("/2015-03-31/", maxsplit=1)[0]
        with httpx.Client(base_url=self.base, timeout=10) as client:
            self.emulator = psutil.Process(client.get("/_emu/health").json()["pid"])
            self.count0 = self._invocations(client)
        self.emu0 = self._cpu(self.emulator)
        times = self.emulator.cpu_times()
        self.user0, self.system0 = float(times.user), float(times.system)
        self.runtimes0 = self._runtime_cpu()

    @staticmethod
    def _cpu(proc: Any) -> float:
        t = proc.cpu_times()
        return float(t.user + t.system)

    def _invocations(self, client: httpx.Client) -> int:
        return sum(f["invocations"] for f in client.get("/_emu/functions").json()["functions"])

    def _runtime_cpu(self) -> dict[int, float]:
        import psutil

        with httpx.Client(base_url=self.base, timeout=10) as client:
            envs = client.get("/_emu/environments").json()["environments"]
        out = {}
        for env in envs:
            try:
                out[env["pid"]] = self._cpu(psutil.Process(env["pid"]))
            except (psutil.Error, TypeError):
                continue
        return out

    def stop(self) -> dict[str, float]:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            n = max(1, self._invocations(client) - self.count0)
        times = self.emulator.cpu_times()
        emu = self._cpu(self.emulator) - self.emu0
        runtimes = sum(v - self.runtimes0.get(pid, 0.0) for pid, v in self._runtime_cpu().items())
        return {
            "emulator": emu / n * 1e6,
            "emulator_user": (times.user - self.user0) / n * 1e6,
            "emulator_system": (times.system - self.system0) / n * 1e6,
            "runtimes": runtimes / n * 1e6,
            "invocations": n,
        }


_PROFILED_SERVE = """
import cProfile, pstats, signal, sys, time
sys.argv = ["lambda-emu", "serve", *sys.argv[2:]]
out = sys.argv.pop(sys.argv.index("--profile-out") + 1); sys.argv.remove("--profile-out")
profile = cProfile.Profile(time.thread_time)  # CPU time of the serving thread, not wall time
signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
from emulator.cli import main
profile.enable()
try:
    main()
except (SystemExit, KeyboardInterrupt):
    pass
finally:
    profile.disable()
    profile.dump_stats(out)
"""


def profile_emulator(seconds: int) -> list[tuple[str, float]]:
    """A second emulator, its serving thread under cProfile with a CPU-time clock, under the
    same wrk load: the top entries by own CPU time, as shares of the thread's CPU (cProfile
    slows every call, so shares, not microseconds)."""
    import pstats

    out = BENCH / "results" / "invoke_overhead.cprofile"
    out.parent.mkdir(parents=True, exist_ok=True)
    state = peers.PEERS / "lambda-emu-profile-state"
    cmd = [sys.executable, "-c", _PROFILED_SERVE, "serve",
           "--manifest", str(peers.FUNCTIONS / "lambda-emu.toml"), "--port", "0", "--quiet",
           "--state-dir", str(state), "--profile-out", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=peers.REPO, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        port = None
        for line in proc.stderr:
            if m := re.search(r"Invoke API on http://127\.0\.0\.1:(\d+)", line):
                port = m.group(1)
                break
        if port is None:
            return []
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/noop/invocations"
        httpx.post(url, content=BODY, timeout=60)  # the cold start, outside the profile
        measure_wrk(url, seconds)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    stats = pstats.Stats(str(out))
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in entries.values()) or 1.0
    rows = sorted(entries.items(), key=lambda kv: -kv[1][2])[:14]
    return [(f"{func} ({Path(file).name}:{line})", 100.0 * tt / total)
            for (file, line, func), (_cc, _nc, tt, _ct, _callers) in rows]  # fmt: skip


def measure_http_core(duration_s: int) -> dict[str, Any]:
    """The emulator's HTTP core alone (emulator/httpserver.py answering {}), under the same
    wrk: its CPU per request is the least one HTTP exchange costs the emulator."""
    code = (
        "import asyncio, sys\n"
        "from emulator import loops\n"
        "from emulator.httpserver import HttpServer, Response\n"
        "async def main():\n"
        "    server = HttpServer(lambda r: Response(200, b'{}', content_type='application/json'))\n"
        "    await server.start()\n"
        "    print(server.port, flush=True)\n"
        "    await asyncio.sleep(3600)\n"
        "loops.run(main())\n"
    )
    import psutil

    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}/2015-03-31/functions/noop/invocations"
        ps = psutil.Process(proc.pid)
        t0 = ps.cpu_times()
        wrk = measure_wrk(url, duration_s)
        t1 = ps.cpu_times()
        n = max(1, int(wrk.get("requests", 0)))
        return {
            "req_per_s": wrk.get("req_per_s"),
            "cpu_us_per_request": ((t1.user - t0.user) + (t1.system - t0.system)) / n * 1e6,
            "user_us": (t1.user - t0.user) / n * 1e6,
            "system_us": (t1.system - t0.system) / n * 1e6,
        }
    finally:
        proc.kill()
        proc.wait(10)


def run_peer(name: str, args: argparse.Namespace) -> dict[str, Any]:
    factory = peers.PEER_FACTORIES[name]
    print(f"\n== {name}: starting", flush=True)
    t0 = time.monotonic()
    try:
        with factory() as url:
            started = time.monotonic() - t0
            print(f"   up in {started:.1f} s at {url}", flush=True)
            lat = measure_latency(url, args.calls, args.warmup, deadline_s=args.latency_deadline)
            print(
                f"   latency: p50 {lat['p50_ms']:.3f} ms  p99 {lat['p99_ms']:.3f} ms  "
                f"({lat['calls']} calls, {lat['errors']} errors)",
                flush=True,
            )
            cpu = CpuWatch(url) if name == "lambda-emu" else None
            wrk = measure_wrk(url, args.duration)
            print(f"   wrk: {_fmt(wrk.get('req_per_s'), '.0f')} req/s {wrk.get('error', '')}")
            if cpu is not None:
                wrk["cpu_us_per_invocation"] = cpu.stop()
                split = wrk["cpu_us_per_invocation"]
                print(
                    f"   CPU per invocation under wrk: emulator {split['emulator']:.0f} µs "
                    f"(user {split['emulator_user']:.0f}, system {split['emulator_system']:.0f}), "
                    f"runtimes (stock awslambdaric) {split['runtimes']:.0f} µs",
                    flush=True,
                )
                if args.profile:
                    top = profile_emulator(args.profile)
                    wrk["profile_top"] = top
                    print("   where the emulator's CPU goes (cProfile on CPU time, own time):")
                    for frame, share in top:
                        print(f"     {share:5.1f} %  {frame}")
            conc = measure_httpx_concurrent(url, args.calls * 2, deadline_s=args.duration)
            rps = _fmt(conc.get("req_per_s"), ".0f")
            print(f"   httpx x{CONCURRENCY}: {rps} req/s {conc.get('error', '')}", flush=True)
            return {"status": "ok", "url": url, "startup_s": started,
                    "latency": lat, "wrk": wrk, "httpx_concurrent": conc}  # fmt: skip
    except peers.PeerUnavailable as e:
        print(f"   SKIPPED: {e}", flush=True)
        return {"status": "unavailable", "reason": str(e)}


def _fmt(v: Any, spec: str = ".3f") -> str:
    return format(v, spec) if isinstance(v, (int, float)) and not math.isnan(v) else "-"


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    def get(name: str, *path: str) -> float | None:
        node: Any = results.get(name, {})
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, (int, float)) else None

    emu_p50, sls_p50 = (
        get("lambda-emu", "latency", "p50_ms"),
        get("serverless-offline", "latency", "p50_ms"),
    )
    floor_p50 = get("floor", "latency", "p50_ms")
    emu_wrk, sls_wrk = (
        get("lambda-emu", "wrk", "req_per_s"),
        get("serverless-offline", "wrk", "req_per_s"),
    )
    emu_hx = get("lambda-emu", "httpx_concurrent", "req_per_s")
    sls_hx = get("serverless-offline", "httpx_concurrent", "req_per_s")
    return {
        "p50_lambda_emu_over_serverless_offline": emu_p50 / sls_p50
        if emu_p50 and sls_p50
        else None,
        "p50_lambda_emu_minus_floor_ms": emu_p50 - floor_p50 if emu_p50 and floor_p50 else None,
        "wrk_rps_lambda_emu_over_serverless_offline": emu_wrk / sls_wrk
        if emu_wrk and sls_wrk
        else None,
        "httpx_rps_lambda_emu_over_serverless_offline": emu_hx / sls_hx
        if emu_hx and sls_hx
        else None,
    }


def print_table(results: dict[str, dict[str, Any]], rat: dict[str, Any]) -> None:
    print(f"\n{'server':<22} {'p50 ms':>8} {'p99 ms':>8} {'wrk req/s':>10} {'httpx×8 req/s':>14}")
    print("-" * 66)
    for name, r in results.items():
        if r["status"] != "ok":
            print(f"{name:<22} n/a ({r['reason'].splitlines()[0][:100]}...)")
            continue
        print(
            f"{name:<22} {_fmt(r['latency']['p50_ms']):>8} {_fmt(r['latency']['p99_ms']):>8} "
            f"{_fmt(r['wrk'].get('req_per_s'), '.0f'):>10} "
            f"{_fmt(r['httpx_concurrent'].get('req_per_s'), '.0f'):>14}"
        )
    lines = [
        (
            "p50   lambda-emu / serverless-offline",
            _fmt(rat["p50_lambda_emu_over_serverless_offline"], ".2f"),
        ),
        ("p50   lambda-emu - floor (ms)", _fmt(rat["p50_lambda_emu_minus_floor_ms"])),
        (
            "req/s lambda-emu / serverless-offline",
            f"wrk {_fmt(rat['wrk_rps_lambda_emu_over_serverless_offline'], '.2f')}, "
            f"httpx {_fmt(rat['httpx_rps_lambda_emu_over_serverless_offline'], '.2f')}",
        ),
    ]
    print()
    for label, value in lines:
        print(f"{label:<38}: {value}")


def print_arithmetic(wrk: dict[str, Any], core: dict[str, Any]) -> None:
    """Where the emulator's microseconds go, and what the CPU of each party bounds."""
    cpu = wrk.get("cpu_us_per_invocation") or {}
    emu, runtimes = cpu.get("emulator"), cpu.get("runtimes")
    per_exchange = core.get("cpu_us_per_request")
    if not (emu and runtimes and per_exchange):
        return
    exchanges = 3  # the caller's request, the runtime's /next answer, its /response (202)
    print("\nCPU per warm invocation under wrk (8 connections), by party:")
    print(f"  HTTP core alone, one exchange          {per_exchange:7.1f} µs "
          f"(user {core['user_us']:.1f}, system {core['system_us']:.1f}; "
          f"{_fmt(core.get('req_per_s'), '.0f')} req/s)")  # fmt: skip
    print(f"  x {exchanges} exchanges an invocation needs     {exchanges * per_exchange:7.1f} µs")
    beyond = emu - exchanges * per_exchange
    print(f"  emulator, measured                     {emu:7.1f} µs "
          f"(Lambda's work beyond the exchanges: {beyond:.1f} µs)")  # fmt: skip
    print(f"  stock awslambdaric runtimes            {runtimes:7.1f} µs")
    cores = os.cpu_count() or 1
    bound = cores * 1e6 / (emu + runtimes)
    print(f"  {cores} cores / (emulator + runtimes)      {bound:7.0f} invocations/s at most "
          "(before wrk's own share)")  # fmt: skip


def _version(cmd: list[str]) -> str | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return None


def environment() -> dict[str, Any]:
    def pkg(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    def npm_pkg(name: str) -> str | None:
        try:
            return str(
                json.loads((peers.NODE_MODULES / name / "package.json").read_text())["version"]
            )
        except (OSError, ValueError, KeyError):
            return None

    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "node": _version(["node", "--version"]),
        "wrk": _version(["wrk", "--version"]),
        "awslambdaric": pkg("awslambdaric"),
        "httpx": pkg("httpx"),
        "cargo-lambda": pkg("cargo-lambda"),
        "lambda-emu": pkg("lambda-emu"),
        "serverless": npm_pkg("serverless"),
        "serverless-offline": npm_pkg("serverless-offline"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=2000, help="timed sequential calls (default 2000)"
    )
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls first (default 200)")
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of wrk / max seconds of httpx load"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(peers.PEER_FACTORIES),
        metavar="NAME",
        help=f"run only this peer (repeatable): {', '.join(peers.PEER_FACTORIES)}",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument(
        "--profile",
        type=int,
        default=5,
        metavar="S",
        help="seconds of wrk against a profiled emulator (0: none; default 5)",
    )
    args = parser.parse_args(argv)
    args.latency_deadline = 120.0 + args.calls * 0.05  # bound even a pathologically slow peer

    names = args.only or list(peers.PEER_FACTORIES)
    results = {name: run_peer(name, args) for name in names}
    rat = ratios(results)
    print_table(results, rat)
    core = None
    if "lambda-emu" in names and results["lambda-emu"]["status"] == "ok":
        core = measure_http_core(args.duration)
        print_arithmetic(results["lambda-emu"]["wrk"], core)

    payload = {
        "benchmark": "invoke_overhead",
        "config": {
            "calls": args.calls,
            "warmup": args.warmup,
            "duration_s": args.duration,
            "concurrency": CONCURRENCY,
            "wrk_threads": WRK_THREADS,
            "payload": "{}",
        },
        "environment": environment(),
        "results": results,
        "ratios": rat,
        "http_core": core,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
