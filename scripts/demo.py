"""Serve functions/lambda-emu.toml with `lambda-emu serve`, invoke every function once (cold),
with the lessons' downstream service on 127.0.0.1:9001, then run a short, bounded Locust load
(`lambda-emu load`) and print its Lambda summary: cold starts, Init Duration, latency, cost."""

from __future__ import annotations

import argparse
import base64
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from emulator.lessons.downstream import DownstreamConfig, DownstreamThread

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--function", default="hello_python")
    args = parser.parse_args()

    downstream = DownstreamThread(DownstreamConfig(port=9001)).start()  # DOWNSTREAM_URL
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/lambda-emu"),
            "serve",
            "--manifest",
            str(ROOT / "functions/lambda-emu.toml"),
            "--port",
            "0",
            "--api-port",  # the sample API's routes: any free port, not 3000
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
                    (ln for ln in log.splitlines() if ln.startswith("REPORT")), "(no REPORT)"
                )
                err = r.headers.get("x-amz-function-error")
                status = f"{r.status_code}{' ' + err if err else ''}"
                print(f"{name:>20}: {status}  {report.replace(chr(9), '  ')}")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        downstream.stop()
        print(f"\nserve stopped (exit {proc.returncode}); logs and trace in .lambda-emu/demo/")
    # The short load run: Locust through `lambda-emu load` (its own emulator, same manifest).
    print(f"\n== load: {args.clients} Locust users on {args.function} for {args.seconds:.0f} s")
    load = subprocess.run(
        [
            str(ROOT / ".venv/bin/lambda-emu"),
            "load",
            args.function,
            "--manifest",
            str(ROOT / "functions/lambda-emu.toml"),
            "--users",
            str(args.clients),
            "--spawn-rate",
            str(args.clients),
            "--run-time",
            f"{args.seconds:.0f}s",
            "--sandbox",
            "process",
            "--out",
            str(ROOT / ".lambda-emu/demo/load"),
        ],
        check=False,
    )
    print("reports (Locust CSV/HTML, summary.json, trace) in .lambda-emu/demo/load/")
    return load.returncode


if __name__ == "__main__":
    sys.exit(main())
