"""Cold start of the hello Python function: what the emulator adds to the runtime's own start.

Two figures, measured alternately in one run (median of --rounds):
- runtime alone: spawn `python -m awslambdaric app.handler` (stock client, same interpreter,
  same environment) against a bare socket that only waits for the first `GET /next`;
  the time from spawn to that request is the runtime's own start-up.
- emulator: invoke → response of the same function on a new environment, through the Invoke
  API (so it includes the runtime's start-up, the first /next, the invocation and HTTP).

The difference is what the emulator adds to a cold start (target: at most 10 ms).
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


def runtime_alone(env: dict[str, str], argv: list[str]) -> float:
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
            cwd=HELLO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
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
        finally:
            proc.kill()
            proc.wait()
    return elapsed


async def emulator_cold(
    rounds: int, state: Path
) -> tuple[list[float], list[float], dict[str, str], list[str]]:
    fn = FunctionConfig(
        name="hello", runtime="python3.11", handler="app.handler", code_dir=HELLO, memory_mb=1769
    )
    # the full resource model: cgroups (where writable), freezing, private /tmp
    cfg = EmulatorConfig(functions=(fn,), port=0, state_dir=state, log_to_terminal=False)
    emu = Emulator(cfg)
    await emu.start()
    pool = emu.pools["hello"]
    latencies: list[float] = []
    inits: list[float] = []
    try:
        async with httpx.AsyncClient(base_url=emu.url) as client:
            await client.post(
                "/2015-03-31/functions/hello/invocations", content=b"{}"
            )  # warm caches
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
                assert r.status_code == 200 and b"hello from python" in r.content
                log = base64.b64decode(r.headers["x-amz-log-result"]).decode()
                assert "Init Duration" in log, "not a cold start"
                inits.append((pool.envs and next(iter(pool.envs)).init_ms) or 0.0)
        # the exact environment and command the emulator used, for the runtime-alone runs
        env_obj = next(iter(pool.envs))
        assert env_obj.sandbox is not None
        spec_env = dict(env_obj.sandbox.spec.env)
        argv = list(env_obj.sandbox.spec.argv)
    finally:
        await emu.stop()
    return latencies, inits, spec_env, argv


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    state = ROOT / ".lambda-emu" / "bench-cold-start"
    emu_ms, init_ms, env, argv = asyncio.run(emulator_cold(args.rounds, state))
    alone = [runtime_alone(env, argv) for _ in range(args.rounds)]
    # second emulator pass so both sides saw the same machine conditions
    emu_ms2, init_ms2, _, _ = asyncio.run(emulator_cold(args.rounds, state))
    emu_all, alone_med = emu_ms + emu_ms2, statistics.median(alone)
    result = {
        "rounds": args.rounds,
        "runtime_alone_ms_p50": round(alone_med, 2),
        "emulator_cold_invoke_ms_p50": round(statistics.median(emu_all), 2),
        "emulator_init_duration_ms_p50": round(statistics.median(init_ms + init_ms2), 2),
        "added_ms_p50": round(statistics.median(emu_all) - alone_med, 2),
    }
    rows = [
        ("runtime alone (spawn → first /next)", "runtime_alone_ms_p50", ""),
        ("emulator cold invoke (invoke → response)", "emulator_cold_invoke_ms_p50", ""),
        ("  of which Init Duration (REPORT)", "emulator_init_duration_ms_p50", ""),
        ("added by the emulator", "added_ms_p50", "   (target ≤ 10 ms)"),
    ]
    for label, key, note in rows:
        print(f"{label:<44} p50 {result[key]:8.2f} ms{note}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cold_start.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
