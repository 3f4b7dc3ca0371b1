"""An in-process fuzzing campaign against the emulator's HTTP surfaces (docs/security.md).

Each generated case is fed, in random splits, into a fresh connection of the real listener
(`HttpServer`, its real router and handlers, a real emulator with a real function behind
it), then the client half-closes; only the socket is replaced by an in-memory transport, so
~10^5 cases per surface fit in minutes. A case is raw random bytes, a mutated valid request
(flipped, cut, inserted bytes), a valid request with headers drawn from every header the
surfaces read (and hostile values), a pipeline of several, or a pathological but valid body.

Checked for every case: the listener never raises, records no internal error and never
answers 5xx of its own; every connection is closed at the end (none is left in the server's
set); every complete request gets at most one answer; and a well-formed request (`Case.ok`)
gets exactly one answer, the right one (an echo of its own nonce, in order when pipelined).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

from emulator.httpserver import HttpServer

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

# Every header some surface reads, and the generic HTTP ones that change framing.
HEADERS = [
    "Content-Length", "Transfer-Encoding", "Expect", "Connection", "Host", "Content-Type",
    "X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context", "X-Amz-Date",
    "Authorization", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "Cookie", "Origin",
    "Access-Control-Request-Method", "Access-Control-Request-Headers", "Upgrade",
    "Lambda-Runtime-Function-Error-Type", "Lambda-Runtime-Function-Response-Mode",
    "Lambda-Extension-Name", "Lambda-Extension-Accept-Feature", "Lambda-Extension-Identifier",
    "Lambda-Runtime-Function-Error-Body", "X-Forwarded-For", "User-Agent", "Accept-Encoding",
    "Trailer", "X-Amzn-Trace-Id", "Qualifier",
]  # fmt: skip
VALUES = [
    "", "0", "-1", "1", "99999999999999999999", "chunked", "gzip, chunked", "100-continue",
    "close", "keep-alive", "upgrade", "Event", "RequestResponse", "DryRun", "Tail", "None",
    "streaming", "buffered", "e30=", "!!notbase64", "application/json", "text/plain; charset=x",
    "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host, Signature=00", "é€☃", "\x00", "a" * 5000, "*", "h2c", "Function.X",
]  # fmt: skip
BODIES = [
    b"", b"null", b"{}", b"[]", b'"x"', b"1e999", b"-0", b"123456789012345678901234567890",
    b'{"a":' * 50 + b"1" + b"}" * 50, b"[" * 2000 + b"]" * 2000, b'"\\ud800"', b'"\\u0000"',
    b"\xef\xbb\xbf{}", b'{"a":1,"a":2}', b"{" + b'"k":1,' * 2000 + b'"k":2}', b"not json",
    b"\xff\xfe", b" " * 10000 + b"{}", b'"' + b"\\n" * 5000 + b'"',
]  # fmt: skip


@dataclass
class Case:
    data: bytes
    ok: list[bytes] = field(default_factory=list)  # nonces of well-formed requests, in order


@dataclass
class Figures:
    cases: int = 0
    well_formed: int = 0
    answers: int = 0
    seconds: float = 0.0
    findings: list[str] = field(default_factory=list)


class MemoryTransport(asyncio.Transport):
    """The client's socket, in memory: what the server writes, and whether it closed."""

    def __init__(self, on_lost: Callable[[], None]) -> None:
        super().__init__()
        self.out = bytearray()
        self.closed = asyncio.get_running_loop().create_future()
        self._on_lost = on_lost

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.closed.done():
            self.out += data

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
            asyncio.get_running_loop().call_soon(self._on_lost)

    def is_closing(self) -> bool:
        return self.closed.done()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


def parse_answers(raw: bytes) -> tuple[list[tuple[int, bytes]], bool]:
    """The (status, body) of each complete response, and whether the bytes parsed cleanly."""
    raw = raw.replace(CONTINUE, b"")
    answers: list[tuple[int, bytes]] = []
    body: list[bytes] = []

    class Sink:
        def on_body(self, b: bytes) -> None:
            body.append(b)

        def on_message_complete(self) -> None:
            answers.append((parser.get_status_code(), b"".join(body)))
            body.clear()

    parser = httptools.HttpResponseParser(Sink())
    try:
        parser.feed_data(raw)
    except httptools.HttpParserError:
        return answers, False
    return answers, True


def request(method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers)
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + body


Valid = Callable[[random.Random, bytes], bytes]  # a well-formed request carrying a nonce


class Generator:
    def __init__(self, rng: random.Random, valid: Valid, paths: list[str]) -> None:
        self.rng = rng
        self.valid = valid
        self.paths = paths
        self.n = 0

    def nonce(self) -> bytes:
        self.n += 1
        return b"n%d" % self.n

    def _mutate(self, data: bytes) -> bytes:
        rng = self.rng
        b = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(5)
            i = rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
            elif op == 1:
                b[i:i] = rng.choice([b"\r\n", b"\n", b"\x00", b" ", b":", b"\r\n\r\n", b"%", b"?"])
            elif op == 2:
                del b[i : i + rng.randint(1, 8)]
            elif op == 3:
                b = b[:i]
            else:
                b[i:i] = rng.randbytes(rng.randint(1, 16))
        return bytes(b)

    def _headers(self) -> list[tuple[str, str]]:
        rng = self.rng
        out = []
        for _ in range(rng.randint(1, 6)):
            name = rng.choice(HEADERS)
            if rng.random() < 0.2:
                name = name.lower() if rng.random() < 0.5 else name.upper()
            out.append((name, rng.choice(VALUES)))
        return out

    def case(self) -> Case:
        rng = self.rng
        kind = rng.random()
        # well-formed requests reach a real function: ~1 case in 10 carries them
        if kind < 0.15:
            return Case(rng.randbytes(rng.randint(1, 300)))
        if kind < 0.55:
            return Case(self._mutate(self.valid(rng, self.nonce())))
        if kind < 0.92:
            method = rng.choice(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
            path = rng.choice(self.paths)
            if rng.random() < 0.3:
                path += rng.choice(["?", "?a=1&a=2", "/../x", "%00", "%zz", "#f", "//", "?\u00e9"])
            return Case(request(method, path, self._headers(), rng.choice(BODIES)))
        if kind < 0.95:
            nonces = [self.nonce() for _ in range(rng.randint(2, 4))]
            return Case(b"".join(self.valid(rng, n) for n in nonces), nonces)
        nonce = self.nonce()
        return Case(self.valid(rng, nonce), [nonce])


async def run_case(
    server: HttpServer,
    case: Case,
    rng: random.Random,
    check_ok: Callable[[bytes, tuple[int, bytes]], str | None],
    figures: Figures,
    hang_s: float = 60.0,
) -> None:
    conn = server._connection()
    transport = MemoryTransport(lambda: conn.connection_lost(None))
    conn.connection_made(transport)
    data = case.data
    at = 0
    while at < len(data) and not transport.closed.done():
        step = rng.choice([1, 7, 64, 1500, len(data)])
        conn.data_received(data[at : at + step])
        at += step
        if rng.random() < 0.1:
            await asyncio.sleep(0)
    if not transport.closed.done() and not conn.eof_received():
        transport.close()
    for _ in range(100):  # answered at once, or a long poll (answered when work comes)
        if transport.closed.done() or (server.cancel_on_disconnect and conn._inflight):
            break
        await asyncio.sleep(0)
    if server.cancel_on_disconnect and conn._inflight and not transport.closed.done():
        transport.close()  # a long poll: its client goes away
    try:
        await asyncio.wait_for(asyncio.shield(transport.closed), hang_s)
    except TimeoutError:
        if conn._inflight is None or not server.cancel_on_disconnect:
            figures.findings.append(f"no answer and no close within {hang_s} s: {data[:200]!r}")
        transport.close()  # a long poll: its client goes away
    await asyncio.sleep(0)
    if conn in server._connections:
        figures.findings.append(f"connection left open: {data[:200]!r}")
        server._connections.discard(conn)
    answers, clean = parse_answers(bytes(transport.out))
    figures.cases += 1
    figures.answers += len(answers)
    if not clean and not transport.out.startswith(b"HTTP/1.1 "):
        figures.findings.append(f"not HTTP: {bytes(transport.out[:200])!r} for {data[:200]!r}")
    for status, body in answers:
        if status >= 500 and b"errorType" not in body:
            figures.findings.append(f"{status} {body[:200]!r} for {data[:300]!r}")
    if case.ok:
        figures.well_formed += len(case.ok)
        if len(answers) != len(case.ok):
            figures.findings.append(
                f"{len(case.ok)} well-formed requests, {len(answers)} answers: {data[:300]!r}"
            )
        for nonce, answer in zip(case.ok, answers, strict=False):
            wrong = check_ok(nonce, answer)
            if wrong:
                figures.findings.append(f"wrong answer ({wrong}) to {data[:300]!r}")


async def campaign(
    server: HttpServer,
    valid: Valid,
    paths: list[str],
    check_ok: Callable[[bytes, tuple[int, bytes]], str | None],
    cases: int,
    seed: int,
    errors: Callable[[], list[Exception]],
) -> Figures:
    rng = random.Random(seed)
    gen = Generator(rng, valid, paths)
    figures = Figures()
    started = time.perf_counter()
    for _ in range(cases):
        await run_case(server, gen.case(), rng, check_ok, figures)
        if errors():
            figures.findings += [repr(e) for e in errors()]
            errors().clear()
        if len(figures.findings) > 20:
            break
    figures.seconds = time.perf_counter() - started
    return figures


def echoed(nonce: bytes, answer: tuple[int, bytes]) -> str | None:
    """The echo function's answer to a JSON body {"nonce": ...}."""
    status, body = answer
    if status != 200:
        return f"status {status}: {body[:200]!r}"
    try:
        value = json.loads(body)
    except ValueError:
        return f"not JSON: {body[:200]!r}"
    if nonce.decode() not in json.dumps(value):
        return f"another request's answer: {body[:200]!r}"
    return None
