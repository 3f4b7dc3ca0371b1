"""The CPU the front door adds per request, in process: no sockets, no runtime, no other load.

    python bench/api_cpu.py [--calls 2000] [--batches 30]

`FrontDoor.api` (POST /noop, payload 2.0, no authorizer) and `InvokeApi.invoke` on the same
stub pool, which answers each invocation `{}` at once: the handler (request → event →
`pool.submit`) and the answer (result → response → trace record) of each, timed on the
thread's CPU clock (`time.thread_time`), so the figure holds on a shared, loaded machine where
bench/api_overhead.py's latencies do not. Per side: the best batch of --calls requests, in
--batches alternating batches. What it leaves out: the raw-header parsing of the api listener
and the runtime's share of the larger event (both small: docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator.api.invoke import InvokeApi
from emulator.arns import ArnScheme
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.frontdoor.model import HttpApi, HttpConfig, HttpRoute
from emulator.frontdoor.server import FrontDoor
from emulator.httpserver import Request, Response
from emulator.metrics.trace import TraceWriter

# what httpx sends with bench/api_overhead.py's POST {}
HEADERS = [
    ("Host", "127.0.0.1:3000"),
    ("Accept", "*/*"),
    ("Accept-Encoding", "gzip, deflate"),
    ("Connection", "keep-alive"),
    ("User-Agent", "python-httpx/0.27.0"),
    ("Content-Length", "2"),
    ("Content-Type", "application/json"),
]


class _Pool:
    fn = SimpleNamespace(name="noop", timeout_s=3.0)

    def __init__(self) -> None:
        self.submitted: list[Invocation] = []

    def submit(self, inv: Invocation) -> None:
        self.submitted.append(inv)


class _Registry:
    def __init__(self) -> None:
        self.pool = _Pool()

    def get(self, name: str) -> _Pool | None:
        return self.pool if name == "noop" else None

    def __contains__(self, name: object) -> bool:
        return name == "noop"


class _Connection:
    def _write(self, response: Response, keep_alive: bool) -> bool:
        response.encode(keep_alive)
        return True

    def _next_request(self) -> None:
        pass


def _request(path: str, raw: bool) -> Request:
    headers = {k.lower(): v for k, v in HEADERS}
    request = Request(
        "POST", path, "", headers, b"{}", 2, False, ("127.0.0.1", 50000), True,
        HEADERS if raw else None,
    )  # fmt: skip
    request.connection = _Connection()  # type: ignore[assignment]
    if not raw:
        request.params = {"FunctionName": "noop"}
    return request


async def measure(calls: int, batches: int, trace: Path) -> dict[str, dict[str, float]]:
    registry: Any = _Registry()
    arns = ArnScheme("us-east-1", "123456789012")
    config = HttpConfig(
        apis=(HttpApi("bench", "http"),), routes=(HttpRoute("bench", "POST", "/noop", "noop"),)
    )
    front_door = FrontDoor(
        config, registry, arns, TraceWriter(trace), region="us-east-1",
        account_id="123456789012", credentials={}, on_internal_error=print,
    )  # fmt: skip
    invoke = InvokeApi(registry, None, arns, on_internal_error=print)  # type: ignore[arg-type]
    sides = {
        "front door": (front_door.api, "/noop", True),
        "Invoke API": (invoke.invoke, "/2015-03-31/functions/noop/invocations", False),
    }
    result = InvocationResult(b"{}")
    best = {name: {"handler_us": 1e9, "answer_us": 1e9} for name in sides}
    for _ in range(batches):
        for name, (handler, path, raw) in sides.items():
            requests = [_request(path, raw) for _ in range(calls)]
            registry.pool.submitted.clear()
            t0 = time.thread_time()
            for request in requests:
                handler(request)._registered = True  # type: ignore[union-attr]
            t1 = time.thread_time()
            for inv in registry.pool.submitted:
                inv.reply.set_result(result)
            await asyncio.sleep(0)  # the replies' done callbacks
            t2 = time.thread_time()
            row = best[name]
            row["handler_us"] = min(row["handler_us"], (t1 - t0) / calls * 1e6)
            row["answer_us"] = min(row["answer_us"], (t2 - t1) / calls * 1e6)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="requests per batch")
    parser.add_argument("--batches", type=int, default=30, help="alternating batches per side")
    args = parser.parse_args(argv)
    trace = Path(__file__).resolve().parent / "results" / "api_cpu.trace.jsonl"
    trace.parent.mkdir(parents=True, exist_ok=True)
    best = asyncio.run(measure(args.calls, args.batches, trace))
    trace.unlink(missing_ok=True)
    print(f"{'CPU µs per request':<20} {'handler':>8} {'answer':>8} {'total':>8}")
    totals = {}
    for name, row in best.items():
        totals[name] = row["handler_us"] + row["answer_us"]
        print(f"{name:<20} {row['handler_us']:8.2f} {row['answer_us']:8.2f} {totals[name]:8.2f}")
    print(f"\nfront door adds {totals['front door'] - totals['Invoke API']:.2f} µs of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
