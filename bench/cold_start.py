"""Cold start of the hello function: what the emulator adds to the runtime's own start.

`--runtime python` (default: functions/hello_python) or `--runtime nodejs`
(functions/hello_node, `node` plus AWS's aws-lambda-ric), at `--memory` MB (default 1,769).

Two figures, measured alternately in one run (median of --rounds):
- runtime alone: spawn the runtime's own command (`python -m awslambdaric app.handler`, or
  `node … index.mjs` as Lambda's Node bootstrap starts the client: same executable, same
  environment) against a bare socket that only waits for the first `GET /next`;
  the time from spawn to that request is the runtime's own start-up.
- emulator: invoke → response of the same function on a new environment, through the Invoke
  API (so it includes the runtime's start-up, the first /next, the invocation and HTTP).

The difference is what the emulator adds to a cold start (target: at most 10 ms). In the process
sandbox each round pairs one cold invoke with one start of the runtime alone, and the added
figure is the median of the rounds' differences (a shared host's load swings between separate
passes were larger than what is measured).

With `--sandbox docker` (or `both`, the default when a Docker engine answers) the same is
measured for the docker sandbox, against the bare `docker run` of the same local runtime image
(host network, code mounted on /var/task) until its first `GET /next` as the baseline
(target: the emulator adds less than 20 %). Warm latency (invoke → response on a warm
environment, median of --warm) is printed for both sandboxes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.server import Emulator

ROOT = Path(__file__).resolve().parent.parent
HELLO = ROOT / "functions" / "hello_python"
# runtime → (code, Lambda runtime, handler, what its answer says)
HELLOS = {
    "python": (HELLO, "python3.11", "app.handler", b"hello from python"),
    "nodejs": (
        ROOT / "functions" / "hello_node",
        "nodejs20.x",
        "index.handler",
        b"hello from node",
    ),
}
# For orientation only, not measured here: lambda-perf (maxday/lambda-perf), AWS's own
# nodejs22.x Init Duration at 128 MB.
LAMBDA_PERF_INIT_MS = {"nodejs": 137.0}


def _first_next(listener: socket.socket, started: float) -> float:
    conn, _ = listener.accept()
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = (time.perf_counter() - started) * 1000
        assert data.startswith(b"GET /2018-06-01/runtime/invocation/next"), data[:80]
    return elapsed


def docker_run_alone(image: str) -> float:
    """`docker run` the runtime image with the hello code; ms until its first GET /next."""
    name = f"lambda-emu-bench-{time.monotonic_ns()}"
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        argv = ["docker", "run", "--rm", "--name", name, "--network", "host"]
        argv += ["-e", f"AWS_LAMBDA_RUNTIME_API=127.0.0.1:{port}", "-v", f"{HELLO}:/var/task:ro"]
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*argv, image, "app.handler"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            return _first_next(listener, started)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
            proc.wait()


def runtime_alone(env: dict[str, str], argv: list[str], code: Path = HELLO) -> float:
    """Spawn the runtime and return ms until its first GET /next arrives."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        run_env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}"}
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=run_env,
            cwd=code,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            elapsed = _first_next(listener, started)
        finally:
            proc.kill()
            proc.wait()
    return elapsed


async def emulator_cold(
    rounds: int,
    state: Path,
    sandbox: str = "process",
    warm: int = 0,
    runtime: str = "python",
    memory_mb: int = 1769,
    paired: bool = False,
) -> tuple[list[float], list[float], list[float], dict[str, str], list[str], list[float]]:
    """With `paired`, each round's cold invoke is followed by one start of the runtime alone
    (the same command and environment), so both see the same moment of a shared machine."""
    code, lambda_runtime, handler, greeting = HELLOS[runtime]
    fn = FunctionConfig(
        name="hello", runtime=lambda_runtime, handler=handler, code_dir=code, memory_mb=memory_mb
    )
    # the full resource model: cgroups (where writable), freezing, private /tmp
    cfg = EmulatorConfig(
        functions=(fn,), port=0, state_dir=state, log_to_terminal=False, sandbox=sandbox
    )
    emu = Emulator(cfg)
    await emu.start()
    pool = emu.functions["hello"]
    latencies: list[float] = []
    inits: list[float] = []
    warms: list[float] = []
    alone: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=emu.url) as client:
            await client.post(
                "/2015-03-31/functions/hello/invocations", content=b"{}"
            )  # warm caches
            first = next(iter(pool.envs))
            assert first.sandbox is not None
            spec = first.sandbox.spec
            for _ in range(rounds):
                await asyncio.sleep(0.05)  # the last environment calls /next and goes idle
                await pool.reset()
                while pool.envs:
                    await asyncio.sleep(0.01)
                # a cold start after a quiet moment: the pool has staged its spare by then
                await asyncio.sleep(0.3)
                t = time.perf_counter()
                r = await client.post(
                    "/2015-03-31/functions/hello/invocations",
                    content=b"{}",
                    headers={"X-Amz-Log-Type": "Tail"},
                )
                latencies.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200 and greeting in r.content
                log = base64.b64decode(r.headers["x-amz-log-result"]).decode()
                assert "Init Duration" in log, "not a cold start"
                inits.append((pool.envs and next(iter(pool.envs)).init_ms) or 0.0)
                if paired:
                    await asyncio.sleep(0.05)
                    alone.append(
                        await asyncio.get_running_loop().run_in_executor(
                            None, runtime_alone, dict(spec.env), list(spec.argv), code
                        )
                    )
            for _ in range(warm):
                t = time.perf_counter()
                r = await client.post("/2015-03-31/functions/hello/invocations", content=b"{}")
                warms.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
        # the exact environment and command the emulator used, for the runtime-alone runs
        env_obj = next(iter(pool.envs))
        assert env_obj.sandbox is not None
        spec_env = dict(env_obj.sandbox.spec.env)
        argv = list(env_obj.sandbox.spec.argv)
    finally:
        await emu.stop()
    return latencies, inits, warms, spec_env, argv, alone


def _p50(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def bench(
    kind: str, rounds: int, warm: int, runtime: str = "python", memory_mb: int = 1769
) -> dict[str, float]:
    state = ROOT / ".lambda-emu" / f"bench-cold-start-{kind}"
    opts = {"runtime": runtime, "memory_mb": memory_mb}
    # Process sandbox: each cold invoke is paired with a start of the runtime alone in the
    # same round (on a shared 2-core host, separate passes measured the load's swings more
    # than the emulator); the added figure is the median of the rounds' differences.
    paired = kind == "process"
    emu_ms, init_ms, warm_ms, _, _, alone = asyncio.run(
        emulator_cold(rounds, state, kind, warm, paired=paired, **opts)  # type: ignore[arg-type]
    )
    if kind == "docker":
        from emulator.images import PYTHON_IMAGE

        alone = [docker_run_alone(PYTHON_IMAGE) for _ in range(rounds)]
    # second emulator pass so both sides saw the same machine conditions
    emu_ms2, init_ms2, warm_ms2, _, _, alone2 = asyncio.run(
        emulator_cold(rounds, state, kind, warm, paired=paired, **opts)  # type: ignore[arg-type]
    )
    emu_all, alone_all = emu_ms + emu_ms2, alone + alone2
    alone_med = statistics.median(alone_all)
    if paired:
        added = statistics.median(e - a for e, a in zip(emu_all, alone_all, strict=True))
    else:
        added = statistics.median(emu_all) - alone_med
    return {
        "runtime_alone_ms_p50": round(alone_med, 2),
        "emulator_cold_invoke_ms_p50": _p50(emu_all),
        "emulator_init_duration_ms_p50": _p50(init_ms + init_ms2),
        "added_ms_p50": round(added, 2),
        "added_pct_p50": round(100 * added / alone_med, 1),
        "warm_invoke_ms_p50": _p50(warm_ms + warm_ms2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warm", type=int, default=200, help="warm invocations per pass")
    parser.add_argument("--sandbox", choices=["process", "docker", "both", "auto"], default="auto")
    parser.add_argument("--runtime", choices=sorted(HELLOS), default="python")
    parser.add_argument("--memory", type=int, default=1769, help="memory size in MB")
    args = parser.parse_args()
    if args.runtime != "python":
        args.sandbox = "process"  # the local runtime images are Python's and provided's
    kinds = [args.sandbox] if args.sandbox in ("process", "docker") else ["process"]
    if args.sandbox == "both":
        kinds = ["process", "docker"]
    elif args.sandbox == "auto":
        from emulator.sandbox.docker import engine_answers

        kinds = ["process", "docker"] if engine_answers() else ["process"]
    result: dict[str, object] = {
        "runtime": args.runtime,
        "memory_mb": args.memory,
        "rounds": args.rounds,
        "warm": args.warm,
    }
    print(f"{args.runtime} at {args.memory} MB")
    for kind in kinds:
        figures = bench(kind, args.rounds, args.warm, args.runtime, args.memory)
        result[kind] = figures
        baseline = "bare docker run (→ first /next)" if kind == "docker" else "runtime alone"
        target = "   (target < 20 %)" if kind == "docker" else "   (target ≤ 10 ms)"
        rows = [
            (f"{baseline}", f"{figures['runtime_alone_ms_p50']:8.2f} ms", ""),
            (
                "emulator cold invoke (invoke → response)",
                f"{figures['emulator_cold_invoke_ms_p50']:8.2f} ms",
                "",
            ),
            (
                "  of which Init Duration (REPORT)",
                f"{figures['emulator_init_duration_ms_p50']:8.2f} ms",
                "",
            ),
            (
                "added by the emulator",
                f"{figures['added_ms_p50']:8.2f} ms ({figures['added_pct_p50']:+.1f} %)",
                target,
            ),
            ("warm invoke (invoke → response)", f"{figures['warm_invoke_ms_p50']:8.2f} ms", ""),
        ]
        if args.runtime in LAMBDA_PERF_INIT_MS:
            aws = LAMBDA_PERF_INIT_MS[args.runtime]
            rows.append(("AWS, for orientation (lambda-perf, 128 MB)", f"{aws:8.2f} ms", ""))
        print(f"[{kind} sandbox]")
        for label, value, note in rows:
            print(f"  {label:<44} p50 {value}{note}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "cold_start.json" if args.runtime == "python" else f"cold_start_{args.runtime}.json"
    (out / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
