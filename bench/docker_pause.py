"""What freezing an idle container costs a warm invocation, in the docker sandbox.

Each warm invocation of functions/hello_python follows an idle gap longer than the freeze
delay, so the container is frozen in between (as on Lambda) and thawed on the warm path:
- freezer: the emulator writes the container's freezer cgroup (it sees the engine's
  cgroups; `docker ps` says Up);
- api: `POST /containers/{id}/pause` and `/unpause` through the engine's API
  (--docker-api-only, the compose emulator; `docker ps` says Paused);
- off: no freezing (--no-freeze), the baseline.
Prints the median and p90 of invoke → response (client side) per mode, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.server import Emulator

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "off": {"freeze": False},
    "freezer": {},
    "api": {"docker_api_only": True, "docker_cgroups": Path("/sys/fs/cgroup")},
}


async def warm_latencies(mode: str, n: int, gap_s: float) -> list[float]:
    fn = FunctionConfig(
        name="hello",
        runtime="python3.11",
        handler="app.handler",
        code_dir=ROOT / "functions" / "hello_python",
        memory_mb=1769,
    )
    cfg = EmulatorConfig(
        functions=(fn,), port=0, sandbox="docker", log_to_terminal=False,
        state_dir=ROOT / ".lambda-emu" / "bench-pause", **MODES[mode],  # type: ignore[arg-type]
    )  # fmt: skip
    emu = Emulator(cfg)
    await emu.start()
    out = []
    try:
        async with httpx.AsyncClient(base_url=emu.url, timeout=60) as client:
            url = "/2015-03-31/functions/hello/invocations"
            assert (await client.post(url, content=b"{}")).status_code == 200  # cold
            for _ in range(n):
                await asyncio.sleep(gap_s)  # idle: frozen (paused) meanwhile
                t = time.perf_counter()
                r = await client.post(url, content=b"{}")
                out.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text
    finally:
        await emu.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=40, help="warm invocations per mode")
    parser.add_argument("--gap", type=float, default=0.3, help="idle seconds before each")
    args = parser.parse_args()
    results = {}
    print(f"{'mode':>8} {'p50 ms':>8} {'p90 ms':>8}")
    for mode in MODES:
        lat = sorted(asyncio.run(warm_latencies(mode, args.n, args.gap)))
        p50, p90 = statistics.median(lat), lat[int(len(lat) * 0.9) - 1]
        results[mode] = {"p50_ms": round(p50, 2), "p90_ms": round(p90, 2), "n": len(lat)}
        print(f"{mode:>8} {p50:>8.2f} {p90:>8.2f}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "docker_pause.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
