"""CPU in proportion to memory, measured: Lambda gives 1 vCPU at 1,769 MB (LAMBDA_SPEC §6).

A single-threaded CPU-bound function (functions/cpu_python) runs at 128 … 1,769 MB; its
REPORT Duration divided by the 1,769 MB Duration should track 1769/MB. Two workloads:
- long: ~1 s of CPU at full speed (the quota's period does not matter at this length);
- short: ~20 ms of CPU, measured with each CFS period in --periods, which shows how the
  period decides the throttling of short invocations (see docs/fidelity.md).
Then Init Duration of functions/hello_python at 128 MB against 1,769 MB: Lambda runs init
unthrottled, so the two should be close (Lambda's python3.12: 85 ms at 128 MB, 81 ms at 1 GB).
`--sandbox docker` measures the same in containers (`--docker-api-only`: as the compose
emulator runs them, the quota set through the engine's API).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
from pathlib import Path

import httpx

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.metrics.report import parse_report
from emulator.server import Emulator

ROOT = Path(__file__).resolve().parent.parent
SIZES = (128, 256, 512, 1024, 1769)
LONG_N = 12_000_000
SHORT_N = 240_000


def _fn(name: str, code: str, memory: int) -> FunctionConfig:
    return FunctionConfig(
        name=name,
        runtime="python3.11",
        handler="app.handler",
        code_dir=ROOT / "functions" / code,
        memory_mb=memory,
        timeout_s=60,
    )


# Per size, what the host's load cost the long workload: the trace's host_wait_ms (time
# runnable within the quota yet off a CPU) and the CPU share obtained, summed over its runs.
HOST: dict[int, dict[str, float]] = {}


def _host_costs(emu: Emulator, name: str, request_ids: list[str]) -> dict[str, float]:
    emu.trace.flush()
    path = emu.trace.path
    wanted = set(request_ids)
    records = []
    if path is not None and path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["request_id"] in wanted:
                records.append(record)
    duration = sum(r["duration_ms"] for r in records) or 1.0
    return {
        "host_wait_pct": 100 * sum(r.get("host_wait_ms", 0.0) for r in records) / duration,
        "cpu_share": sum(r["cpu_user_ms"] + r["cpu_system_ms"] for r in records) / duration,
    }


async def _durations(
    emu: Emulator, name: str, n: int, reps: int, ids: list[str] | None = None
) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=emu.url, timeout=120) as client:
        for _ in range(reps):
            r = await client.post(
                f"/2015-03-31/functions/{name}/invocations",
                content=json.dumps({"n": n}).encode(),
                headers={"X-Amz-Log-Type": "Tail"},
            )
            report = parse_report(base64.b64decode(r.headers["x-amz-log-result"]).decode())
            assert report is not None and r.status_code == 200, r.content
            out.append(report.duration_ms)
            if ids is not None:
                ids.append(r.headers["x-amzn-requestid"])
    return out


SANDBOX: dict[str, object] = {}  # --sandbox, --docker-api-only: set once by main()


async def scaling(
    period_us: int, workloads: list[tuple[str, int, int]]
) -> dict[str, dict[int, float]]:
    fns = tuple(_fn(f"cpu_{mb}", "cpu_python", mb) for mb in SIZES)
    cfg = EmulatorConfig(
        functions=fns, port=0, state_dir=ROOT / ".lambda-emu" / "bench-cpu",
        log_to_terminal=False, cpu_period_us=period_us, **SANDBOX,  # type: ignore[arg-type]
    )  # fmt: skip
    emu = Emulator(cfg)
    await emu.start()
    result: dict[str, dict[int, float]] = {}
    try:
        for mb in SIZES:
            await _durations(emu, f"cpu_{mb}", 1000, 1)  # cold start out of the way
        for label, n, reps in workloads:
            result[label] = {}
            for mb in SIZES:
                ids: list[str] = []
                durations = await _durations(emu, f"cpu_{mb}", n, reps, ids)
                result[label][mb] = statistics.median(durations)
                if label == "long":
                    HOST[mb] = _host_costs(emu, f"cpu_{mb}", ids)
    finally:
        await emu.stop()
    return result


async def init_durations(rounds: int) -> dict[int, float]:
    fns = tuple(_fn(f"hello_{mb}", "hello_python", mb) for mb in (128, 1769))
    cfg = EmulatorConfig(
        functions=fns, port=0, state_dir=ROOT / ".lambda-emu" / "bench-cpu",
        log_to_terminal=False, **SANDBOX,  # type: ignore[arg-type]
    )  # fmt: skip
    emu = Emulator(cfg)
    await emu.start()
    out: dict[int, list[float]] = {128: [], 1769: []}
    try:
        async with httpx.AsyncClient(base_url=emu.url, timeout=60) as client:
            for _ in range(rounds):
                for mb in (128, 1769):
                    pool = emu.functions[f"hello_{mb}"]
                    await pool.reset()
                    while pool.envs:
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(0.3)  # the pool stages its spare, as after any idle time
                    r = await client.post(
                        f"/2015-03-31/functions/hello_{mb}/invocations",
                        content=b"{}",
                        headers={"X-Amz-Log-Type": "Tail"},
                    )
                    report = parse_report(base64.b64decode(r.headers["x-amz-log-result"]).decode())
                    assert report is not None and report.init_ms is not None
                    out[mb].append(report.init_ms)
    finally:
        await emu.stop()
    return {mb: statistics.median(v) for mb, v in out.items()}


def _table(label: str, durations: dict[int, float]) -> list[dict[str, float]]:
    base = durations[1769]
    rows = []
    print(f"\n{label}")
    print(f"{'MB':>6} {'duration ms':>12} {'measured':>9} {'expected':>9} {'error':>7}")
    for mb in SIZES:
        measured = durations[mb] / base
        expected = 1769 / mb
        error = (measured - expected) / expected * 100
        rows.append({"memory_mb": mb, "duration_ms": round(durations[mb], 2),
                     "ratio": round(measured, 3), "expected": round(expected, 3),
                     "error_pct": round(error, 1)})  # fmt: skip
        host = ""
        if label.startswith("long") and mb in HOST:
            cost = HOST[mb]
            host = f"   host wait {cost['host_wait_pct']:5.1f}%  CPU share {cost['cpu_share']:.3f}"
            rows[-1].update({k: round(v, 3) for k, v in cost.items()})
        print(
            f"{mb:>6} {durations[mb]:>12.1f} {measured:>9.2f} {expected:>9.2f} {error:>+6.1f}%"
            + host
        )
    return rows


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {}
    periods = [int(p) for p in args.periods.split(",")]
    first = await scaling(
        periods[0], [("long", LONG_N, args.long_reps), ("short", SHORT_N, args.reps)]
    )
    results[f"long (~1 s CPU), period {periods[0]} µs"] = _table(
        f"long workload (~1 s of CPU), CFS period {periods[0] // 1000} ms", first["long"]
    )
    results[f"short (~20 ms CPU), period {periods[0]} µs"] = _table(
        f"short workload (~20 ms of CPU), CFS period {periods[0] // 1000} ms", first["short"]
    )
    for period in periods[1:]:
        other = await scaling(period, [("short", SHORT_N, args.reps)])
        results[f"short (~20 ms CPU), period {period} µs"] = _table(
            f"short workload (~20 ms of CPU), CFS period {period // 1000} ms", other["short"]
        )
    inits = await init_durations(args.init_rounds)
    ratio = inits[128] / inits[1769]
    print(f"\nInit Duration (hello_python, median of {args.init_rounds} cold starts):")
    print(f"  128 MB {inits[128]:.2f} ms   1769 MB {inits[1769]:.2f} ms", end="   ")
    print(f"ratio {ratio:.2f} (target ≤ 1.3)")
    results["init_duration_ms"] = {"128": round(inits[128], 2), "1769": round(inits[1769], 2),
                                   "ratio": round(ratio, 3)}  # fmt: skip
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--periods", default="20000,100000", help="CFS periods (µs) to compare")
    parser.add_argument("--reps", type=int, default=5, help="short-workload repetitions")
    parser.add_argument("--long-reps", type=int, default=3, help="long-workload repetitions")
    parser.add_argument("--init-rounds", type=int, default=7)
    parser.add_argument("--sandbox", choices=("process", "docker"), default="process")
    parser.add_argument("--docker-api-only", action="store_true")
    args = parser.parse_args()
    SANDBOX.update(sandbox=args.sandbox)
    name = "cpu_scaling"
    if args.sandbox == "docker":
        SANDBOX.update(docker_api_only=args.docker_api_only, docker_cgroups=Path("/sys/fs/cgroup"))
        name += "_docker_api" if args.docker_api_only else "_docker"
    print(f"sandbox: {args.sandbox}{' (API only)' if args.docker_api_only else ''}")
    results = asyncio.run(main_async(args))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
