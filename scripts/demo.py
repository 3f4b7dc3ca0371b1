"""Serve functions/lambda-emu.toml with `lambda-emu serve`, invoke every function once (cold),
then run a short, bounded concurrent load and print latency, cold starts and REPORT lines."""

from __future__ import annotations

import argparse
import base64
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--function", default="hello_python")
    args = parser.parse_args()

    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/lambda-emu"),
            "serve",
            "--manifest",
            str(ROOT / "functions/lambda-emu.toml"),
            "--port",
            "0",
            "--quiet",
            "--state-dir",
            str(ROOT / ".lambda-emu/demo"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    url = None
    for line in proc.stderr:
        sys.stderr.write(line)
        m = re.search(r"Invoke API on (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        return proc.wait() or 1
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            names = [f["name"] for f in client.get("/_emu/functions").json()["functions"]]
            print(f"\n== one cold invocation of each function ({len(names)})")
            for name in names:
                r = client.post(
                    f"/2015-03-31/functions/{name}/invocations",
                    content=b"{}",
                    headers={"X-Amz-Log-Type": "Tail"},
                )
                log = base64.b64decode(r.headers.get("x-amz-log-result", "")).decode()
                report = next(
                    (l for l in log.splitlines() if l.startswith("REPORT")), "(no REPORT)"
                )
                err = r.headers.get("x-amz-function-error")
                print(
                    f"{name:>16}: {r.status_code}{' ' + err if err else ''}  {report.replace(chr(9), '  ')}"
                )
        print(f"\n== load: {args.clients} clients on {args.function} for {args.seconds:.0f} s")
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def worker() -> None:
            nonlocal errors
            with httpx.Client(base_url=url, timeout=60) as c:
                while time.monotonic() < stop_at:
                    t = time.perf_counter()
                    r = c.post(
                        f"/2015-03-31/functions/{args.function}/invocations",
                        content=b'{"demo": true}',
                    )
                    dt = (time.perf_counter() - t) * 1000
                    with lock:
                        latencies.append(dt)
                        if r.status_code != 200 or "x-amz-function-error" in r.headers:
                            errors += 1

        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with httpx.Client(base_url=url, timeout=60) as client:
            stats = {f["name"]: f for f in client.get("/_emu/functions").json()["functions"]}
        fn = stats[args.function]
        q = statistics.quantiles(latencies, n=100)
        print(
            f"invocations {len(latencies)}  ({len(latencies) / args.seconds:.0f}/s), errors {errors}"
        )
        print(
            f"latency p50 {q[49]:.2f} ms  p95 {q[94]:.2f} ms  p99 {q[98]:.2f} ms  (client side, Python threads)"
        )
        print(
            f"environments {fn['environments']}, cold starts {fn['cold_starts']}, throttles {fn['throttles']}"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        print(f"\nserve stopped (exit {proc.returncode}); logs and trace in .lambda-emu/demo/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
