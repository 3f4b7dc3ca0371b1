"""What the HTTP front door costs: a no-op function behind an HTTP API route.

    python bench/api_overhead.py [--calls 2000] [--warmup 200] [--duration 10] [--rounds 10]

Targets, side by side in one run:
  floor                 bench/floor_server.js answering {} (no API Gateway, no Lambda: the floor)
  serverless-offline    its httpApi emulation (POST /noop, payload 2.0) of the python3.11 no-op
  lambda-emu front door POST /noop on --api-port (bench/functions/lambda-emu-api.toml)
  lambda-emu Invoke API the same emulator, the same function, through POST .../invocations

Per target: p50/p99 of --calls sequential POST {} on one kept-alive httpx client after --warmup
calls, and wrk's req/s (8 connections, 2 threads, --duration s, bench/wrk_post.lua). The front
door and the Invoke API path of the same emulator are measured in --rounds interleaved rounds
(p50/p99: the median of the rounds'; "front door adds": the median of the per-round p50
differences), so it compares like with like on a shared machine. Targets (issue 14): p50 ≤
serverless-offline's; the front door adds ≤ 0.1 ms p50 over the Invoke API path. Results also
go to bench/results/api_overhead.json. Peers: scripts/setup-bench.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import invoke_overhead as io
import peers

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "api_overhead.json"
MANIFEST = peers.FUNCTIONS / "lambda-emu-api.toml"
TARGET_ADDED_P50_MS = 0.1


@contextlib.contextmanager
def lambda_emu_pair() -> Iterator[tuple[str, str]]:
    """One emulator: (front door URL, Invoke API URL) of the same no-op function."""
    exe = peers.lambda_emu_executable()
    if not exe:
        raise peers.PeerUnavailable("lambda-emu is not installed (no lambda-emu in .venv/bin)")
    api_port = peers.free_port()
    cmd = [
        exe, "serve",
        "--manifest", str(MANIFEST),
        "--port", "0",
        "--api-port", str(api_port),
        "--quiet",
        "--state-dir", str(peers.PEERS / "lambda-emu-api-state"),
    ]  # fmt: skip
    proc = peers._Proc("lambda-emu-api", cmd, cwd=peers.REPO, env=peers._python_env())
    with peers._running([proc]):
        match = peers._wait_for_output(proc, r"Invoke API on http://127\.0\.0\.1:(\d+)", 120)
        invoke = f"http://127.0.0.1:{match.group(1)}/2015-03-31/functions/noop/invocations"
        api = f"http://127.0.0.1:{api_port}/noop"
        peers._wait_answers(invoke, [proc], 120, per_call_s=30)  # the cold start
        peers._wait_answers(api, [proc], 30)
        yield api, invoke


def latency(urls: dict[str, str], calls: int, warmup: int, rounds: int) -> dict[str, Any]:
    """Sequential calls to each URL in `rounds` interleaved rounds: per URL, the median over
    rounds of each round's p50 and p99 (a burst of other load on the shared machine then
    moves one round, not the comparison)."""
    p50: dict[str, list[float]] = {name: [] for name in urls}
    p99: dict[str, list[float]] = {name: [] for name in urls}
    errors = dict.fromkeys(urls, 0)
    per_round = max(1, calls // rounds)
    for i in range(rounds):
        for name, url in urls.items():
            first = warmup if i == 0 else min(warmup, 20)  # the connection's own warm-up
            lat = io.measure_latency(url, per_round, first, deadline_s=120.0 + per_round * 0.05)
            errors[name] += lat["errors"]
            p50[name].append(lat["p50_ms"])
            p99[name].append(lat["p99_ms"])
    return {
        name: {
            "calls": per_round * rounds,
            "errors": errors[name],
            "p50_ms": statistics.median(p50[name]),
            "p99_ms": statistics.median(p99[name]),
            "rounds_p50_ms": p50[name],
        }
        for name in urls
    }


def measure(name: str, factory: Any, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    print(f"\n== {name}: starting", flush=True)
    try:
        with factory() as urls:
            targets = urls if isinstance(urls, dict) else {name: urls}
            lat = latency(targets, args.calls, args.warmup, args.rounds if len(targets) > 1 else 1)
            out: dict[str, dict[str, Any]] = {}
            for target, url in targets.items():
                wrk = io.measure_wrk(url, args.duration)
                row = {"status": "ok", "url": url, "latency": lat[target], "wrk": wrk}
                print(
                    f"   {target}: p50 {lat[target]['p50_ms']:.3f} ms  p99 "
                    f"{lat[target]['p99_ms']:.3f} ms  wrk {io._fmt(wrk.get('req_per_s'), '.0f')} "
                    f"req/s {wrk.get('error', '')}",
                    flush=True,
                )
                out[target] = row
            return out
    except peers.PeerUnavailable as e:
        print(f"   SKIPPED: {e}", flush=True)
        return {name: {"status": "unavailable", "reason": str(e)}}


@contextlib.contextmanager
def _floor() -> Iterator[str]:
    with peers.floor() as url:
        yield url


@contextlib.contextmanager
def _serverless_offline() -> Iterator[str]:
    with peers.serverless_offline(http_api=True) as url:
        yield url


@contextlib.contextmanager
def _lambda_emu() -> Iterator[dict[str, str]]:
    with lambda_emu_pair() as (api, invoke):
        yield {"lambda-emu front door": api, "lambda-emu Invoke API": invoke}


FACTORIES = {"floor": _floor, "serverless-offline": _serverless_offline, "lambda-emu": _lambda_emu}


def _get(results: dict[str, dict[str, Any]], name: str, *path: str) -> float | None:
    node: Any = results.get(name, {})
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return float(node) if isinstance(node, int | float) and not math.isnan(node) else None


def verdict(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ours = _get(results, "lambda-emu front door", "latency", "p50_ms")
    sls = _get(results, "serverless-offline", "latency", "p50_ms")
    floor = _get(results, "floor", "latency", "p50_ms")
    ours_rps = _get(results, "lambda-emu front door", "wrk", "req_per_s")
    sls_rps = _get(results, "serverless-offline", "wrk", "req_per_s")
    # paired by round (the two were measured back to back): the median of the differences
    fd_rounds = (results.get("lambda-emu front door", {}).get("latency") or {}).get("rounds_p50_ms")
    inv_rounds = (results.get("lambda-emu Invoke API", {}).get("latency") or {}).get(
        "rounds_p50_ms"
    )
    added = (
        statistics.median(a - b for a, b in zip(fd_rounds, inv_rounds, strict=True))
        if fd_rounds and inv_rounds
        else None
    )
    return {
        "p50_front_door_over_serverless_offline": ours / sls if ours and sls else None,
        "p50_target_met": ours <= sls if ours is not None and sls is not None else None,
        "wrk_front_door_over_serverless_offline": ours_rps / sls_rps
        if ours_rps and sls_rps
        else None,
        "p50_front_door_minus_floor_ms": ours - floor if ours and floor else None,
        "front_door_added_p50_ms": added,
        "added_target_met": added <= TARGET_ADDED_P50_MS if added is not None else None,
    }


def print_table(results: dict[str, dict[str, Any]], v: dict[str, Any]) -> None:
    print(f"\n{'target':<24} {'p50 ms':>8} {'p99 ms':>8} {'wrk req/s':>10}")
    print("-" * 54)
    for name, r in results.items():
        if r["status"] != "ok":
            print(f"{name:<24} n/a ({r['reason'].splitlines()[0][:100]})")
            continue
        print(
            f"{name:<24} {io._fmt(r['latency']['p50_ms']):>8} {io._fmt(r['latency']['p99_ms']):>8}"
            f" {io._fmt(r['wrk'].get('req_per_s'), '.0f'):>10}"
        )

    def met(flag: bool | None) -> str:
        return "" if flag is None else ("  (target met)" if flag else "  (TARGET NOT MET)")

    print()
    ratio = io._fmt(v["p50_front_door_over_serverless_offline"], ".2f")
    print(f"p50 front door / serverless-offline    : {ratio}{met(v['p50_target_met'])}")
    wrk = io._fmt(v["wrk_front_door_over_serverless_offline"], ".2f")
    print(f"wrk req/s front door / serverless-offline: {wrk}")
    print(f"p50 front door - floor (ms)            : {io._fmt(v['p50_front_door_minus_floor_ms'])}")
    added = io._fmt(v["front_door_added_p50_ms"])
    print(
        f"front door adds over Invoke API (p50)  : {added} ms "
        f"(target <= {TARGET_ADDED_P50_MS} ms){met(v['added_target_met'])}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed sequential calls")
    parser.add_argument("--warmup", type=int, default=200, help="untimed calls first")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per target")
    parser.add_argument(
        "--rounds", type=int, default=10, help="interleaved rounds (front door / Invoke API)"
    )
    parser.add_argument(
        "--only", action="append", choices=list(FACTORIES), metavar="NAME", help="repeatable"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    started = time.time()
    results: dict[str, dict[str, Any]] = {}
    for name in args.only or list(FACTORIES):
        results.update(measure(name, FACTORIES[name], args))
    v = verdict(results)
    print_table(results, v)
    payload = {
        "benchmark": "api_overhead",
        "config": {
            "calls": args.calls,
            "warmup": args.warmup,
            "duration_s": args.duration,
            "rounds": args.rounds,
            "concurrency": io.CONCURRENCY,
            "wrk_threads": io.WRK_THREADS,
            "payload": "{}",
        },
        "environment": {**io.environment(), "seconds": round(time.time() - started, 1)},
        "results": results,
        "verdict": v,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
