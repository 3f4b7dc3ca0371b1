"""Response streaming through the emulator beside a direct socket: MB/s and time to first byte.

    python bench/streaming.py [--rounds 5] [--mib 5] [--chunk-kib 64] [--ttfb-calls 50]
                              [--function stream_rust] [--only NAME]...

Four targets, measured round by round, interleaved (a shared machine's noise falls on all):

  direct-events   a local server (its own process) writing the response as Lambda's
                  InvokeWithResponseStream does: PayloadChunk messages, then InvokeComplete,
                  HTTP/1.1 chunked; one message per chunk
  direct-raw      the same server writing the bare chunks, as a streaming function URL does
  invoke-stream   `lambda-emu serve`: InvokeWithResponseStream of --function
                  (functions/stream_rust by default: a custom runtime, one HTTP chunk a write)
  function-url    `lambda-emu serve`: POST /lambda-url/<function>/ (InvokeMode RESPONSE_STREAM)

The direct server and the function make the same bytes (functions/stream_node/README.md): each
chunk its header line {"seq":..,"of":..,"t_ms":..} then "x"s, --chunk-kib long, no waits.
Every target is read by the same client (loadtests.streaming: http.client's read1, event-stream
messages decoded and CRC-checked), so the ratios compare the servers, not the clients.

Per target: MB/s (MB = 10^6 bytes) of a --mib MiB response, best and median of --rounds; and
the time to the first payload byte of a small stream (4 chunks of 1 KiB), median and p90 of
--ttfb-calls warm calls a round. The ratios are emulator / direct: invoke-stream against
direct-events (and against direct-raw), function-url against direct-raw. Results also go to
bench/results/streaming.json.

Lambda caps a stream at 2 MB/s after its first 6 MB (docs, configuration-response-streaming);
keep --mib at 5 or less to measure the emulator, not the cap.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

import peers  # noqa: E402

from loadtests.streaming import (  # noqa: E402
    StreamConnection,
    StreamResult,
    encode_message,
    function_url_path,
    invoke_stream,
    url_stream,
)

RESULTS = BENCH / "results" / "streaming.json"
MANIFEST = BENCH / "functions" / "lambda-emu-streaming.toml"
TARGETS = ("direct-events", "direct-raw", "invoke-stream", "function-url")
TTFB_SHAPE = {"chunks": 4, "chunk_bytes": 1024, "delay_ms": 0}
PAYLOAD_CHUNK = {
    ":event-type": "PayloadChunk",
    ":content-type": "application/octet-stream",
    ":message-type": "event",
}
INVOKE_COMPLETE = {
    ":event-type": "InvokeComplete",
    ":content-type": "application/json",
    ":message-type": "event",
}


# --- the direct server ------------------------------------------------------------------------


def chunk(seq: int, of: int, size: int) -> bytes:
    """What functions/stream_rust and stream_node write (their chunks.mjs / fill_chunk)."""
    header = json.dumps(
        {"seq": seq, "of": of, "t_ms": int(time.time() * 1000)}, separators=(",", ":")
    )
    head = (header + "\n").encode()
    if len(head) >= size:
        return head
    return head + b"x" * (size - len(head) - 1) + b"\n"


def serve_direct(port_file: Path) -> None:
    """The direct server: POST /events or /raw with the function's event as the body; one
    thread per connection, keep-alive, each write one HTTP chunk sent at once (TCP_NODELAY)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port_file.write_text(str(listener.getsockname()[1]))
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_direct_connection, args=(conn,), daemon=True).start()


def _direct_connection(conn: socket.socket) -> None:
    reader = conn.makefile("rb")
    with conn, reader:
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            length = 0
            while True:
                line = reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            event = json.loads(reader.read(length) or b"{}")
            events = b" /events" in request_line
            head = (
                "HTTP/1.1 200 OK\r\n"
                f"Content-Type: {'application/vnd.amazon.eventstream' if events else 'text/plain'}"
                "\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            conn.sendall(head.encode())
            chunks, size = int(event["chunks"]), int(event["chunk_bytes"])
            delay = int(event.get("delay_ms", 0)) / 1000
            for seq in range(chunks):
                if seq and delay:
                    time.sleep(delay)
                data = chunk(seq, chunks, size)
                if events:
                    data = encode_message(PAYLOAD_CHUNK, data)
                conn.sendall(b"%x\r\n%b\r\n" % (len(data), data))
            tail = encode_message(INVOKE_COMPLETE, b"{}") if events else b""
            last = b"%x\r\n%b\r\n" % (len(tail), tail) if tail else b""
            conn.sendall(last + b"0\r\n\r\n")


class DirectServer:
    """serve_direct in a child process (as the emulator is one), ended by its PID."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="bench-streaming-")
        port_file = Path(self._dir.name) / "port"
        code = f"import sys; sys.path[:0] = {[str(BENCH), str(REPO)]!r}; import streaming; "
        code += f"streaming.serve_direct(__import__('pathlib').Path({str(port_file)!r}))"
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the direct server did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._dir.cleanup()


class Emulator:
    """`lambda-emu serve` of functions/lambda-emu.toml (bench/peers.py's process handling)."""

    def __init__(self) -> None:
        exe = peers.lambda_emu_executable()
        if not exe:
            raise RuntimeError("lambda-emu is not installed (run scripts/setup)")
        self._state = tempfile.TemporaryDirectory(prefix="bench-streaming-emu-")
        cmd = [
            exe, "serve",
            "--manifest", str(MANIFEST),
            "--port", "0",
            "--api-port", "0",
            "--quiet",
            "--no-reload",
            "--state-dir", self._state.name,
        ]  # fmt: skip
        self.proc = peers._Proc("lambda-emu-streaming", cmd, cwd=REPO, env=peers._python_env())
        try:
            match = peers._wait_for_output(
                self.proc, r"Invoke API on (http://127\.0\.0\.1:\d+)", 120
            )
        except BaseException:
            self.stop()
            raise
        self.url = match.group(1)

    def stop(self) -> None:
        self.proc.stop()
        self._state.cleanup()


# --- measuring --------------------------------------------------------------------------------


def call(target: str, conn: StreamConnection, function: str, event: dict[str, Any]) -> StreamResult:
    body = json.dumps(event).encode()
    if target == "direct-events":
        return invoke_stream(conn, function, body, log_tail=False, path="/events")
    if target == "direct-raw":
        return url_stream(conn, "/raw", body)
    if target == "invoke-stream":
        return invoke_stream(conn, function, body, log_tail=False)
    return url_stream(conn, function_url_path(function), body)


def checked(result: StreamResult, expect_bytes: int, what: str) -> StreamResult:
    if result.status != 200 or result.payload_bytes != expect_bytes or result.error_code:
        raise RuntimeError(
            f"{what}: HTTP {result.status}, {result.payload_bytes} of {expect_bytes} bytes "
            f"{result.error_code or ''} {result.body[:300]!r}"
        )
    return result


def expected_bytes(event: dict[str, Any]) -> int:
    n, size = event["chunks"], event["chunk_bytes"]
    return sum(len(chunk(i, n, size)) for i in range(n))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))]


def run(args: argparse.Namespace, targets: list[str]) -> dict[str, Any]:
    size = args.chunk_kib * 1024
    big = {"chunks": max(1, round(args.mib * 1024 * 1024 / size)), "chunk_bytes": size,
           "delay_ms": 0}  # fmt: skip
    big_bytes, small_bytes = expected_bytes(big), expected_bytes(TTFB_SHAPE)
    mb_s: dict[str, list[float]] = {t: [] for t in targets}
    ttfb: dict[str, list[float]] = {t: [] for t in targets}
    direct = DirectServer() if any(t.startswith("direct") for t in targets) else None
    emulator = None
    try:
        if any(not t.startswith("direct") for t in targets):
            emulator = Emulator()
        conns = {
            t: StreamConnection(direct.url if t.startswith("direct") and direct else
                                emulator.url if emulator else "")
            for t in targets
        }  # fmt: skip
        for t in targets:  # warm: the cold start and the connections are not measured
            for _ in range(3):
                checked(call(t, conns[t], args.function, TTFB_SHAPE), small_bytes, t)
        for r in range(args.rounds):
            for t in targets:
                result = checked(call(t, conns[t], args.function, big), big_bytes, t)
                mb_s[t].append(big_bytes / result.ttlb_ms / 1000)
                for _ in range(args.ttfb_calls):
                    result = checked(call(t, conns[t], args.function, TTFB_SHAPE), small_bytes, t)
                    assert result.ttfb_ms is not None
                    ttfb[t].append(result.ttfb_ms)
            done = ", ".join(f"{t} {mb_s[t][-1]:.0f} MB/s" for t in targets)
            print(f"round {r + 1}/{args.rounds}: {done}", file=sys.stderr, flush=True)
        for c in conns.values():
            c.close()
    finally:
        if emulator is not None:
            emulator.stop()
        if direct is not None:
            direct.stop()
    results = {
        t: {
            "mb_per_s_best": round(max(mb_s[t]), 1),
            "mb_per_s_median": round(statistics.median(mb_s[t]), 1),
            "mb_per_s_rounds": [round(v, 1) for v in mb_s[t]],
            "ttfb_ms_median": round(statistics.median(ttfb[t]), 3),
            "ttfb_ms_p90": round(percentile(ttfb[t], 90), 3),
        }
        for t in targets
    }
    return {"response_bytes": big_bytes, "chunk_bytes": size, "results": results}


# each emulator target against the direct server answering the same way, and
# InvokeWithResponseStream against the bare socket too (the framing's cost on both sides)
PAIRS = (
    ("invoke-stream", "direct-events"),
    ("function-url", "direct-raw"),
    ("invoke-stream", "direct-raw"),
)


def ratios(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ours, direct in PAIRS:
        if ours in results and direct in results:
            a, b = results[ours], results[direct]
            out[f"{ours}/{direct}"] = {
                "mb_per_s_median": round(a["mb_per_s_median"] / b["mb_per_s_median"], 3),
                "ttfb_ms_median": round(a["ttfb_ms_median"] / b["ttfb_ms_median"], 2),
                "ttfb_ms_added": round(a["ttfb_ms_median"] - b["ttfb_ms_median"], 3),
            }
    return out


def print_table(measured: dict[str, Any], rat: dict[str, Any]) -> None:
    results = measured["results"]
    mib = measured["response_bytes"] / 2**20
    print(f"\n{mib:.2f} MiB responses in {measured['chunk_bytes'] // 1024} KiB chunks; "
          f"TTFB of 4 x 1 KiB chunks (warm)")  # fmt: skip
    print(f"{'target':<15} {'MB/s median':>12} {'MB/s best':>10} {'TTFB p50 ms':>12} "
          f"{'TTFB p90 ms':>12}")  # fmt: skip
    for t, r in results.items():
        print(f"{t:<15} {r['mb_per_s_median']:>12.1f} {r['mb_per_s_best']:>10.1f} "
              f"{r['ttfb_ms_median']:>12.3f} {r['ttfb_ms_p90']:>12.3f}")  # fmt: skip
    for pair, r in rat.items():
        print(f"{pair:<30} MB/s x{r['mb_per_s_median']:.3f}   TTFB x{r['ttfb_ms_median']:.2f} "
              f"(+{r['ttfb_ms_added']:.3f} ms)")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--mib", type=float, default=5.0, help="MiB per response (default 5)")
    parser.add_argument("--chunk-kib", type=int, default=64, help="KiB per chunk (default 64)")
    parser.add_argument("--ttfb-calls", type=int, default=50, help="TTFB calls a round (50)")
    parser.add_argument("--function", default="stream_rust", help="the streaming function")
    parser.add_argument("--only", action="append", choices=TARGETS, metavar="NAME")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    targets = args.only or list(TARGETS)
    measured = run(args, targets)
    rat = ratios(measured["results"])
    print_table(measured, rat)
    payload = {
        "benchmark": "streaming",
        "config": {k: v for k, v in vars(args).items() if k != "output"} | {"output": None},
        "environment": {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "platform": platform.platform(),
            "python": sys.version.split()[0],
        },
        **measured,
        "ratios": rat,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nresults written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
