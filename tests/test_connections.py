"""Connections (issue 19, item 4; docs/security.md "Connections"): every listener closes a
connection whose client keeps it waiting (idle, a head or a body that never completes, as a
slow-loris client does), but never one whose request is in progress (a Runtime API long poll,
a streamed response), and a client that half-closes after its request still gets its answer.

The timeouts are set short here (`SHORT`); the tests wait for the server's progress (the
close, the answer), never on a clock: a socket timeout only stops a test that would hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import pytest

from emulator.api.runtime import RuntimeApi
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpApi, HttpConfig, HttpRoute
from emulator.httpserver import ConnectionTimeouts

FUNCTIONS = Path(__file__).parent / "functions"
SHORT = 0.5  # every timeout, in seconds
HANG_S = 120.0  # only stops a test that would otherwise hang
INVOKE = "/2015-03-31/functions/echo/invocations"


@pytest.fixture(scope="module")
def probes() -> Iterator[Path]:
    # not under /tmp: each environment has a private /tmp
    path = Path(__file__).resolve().parent.parent / ".lambda-emu" / f"conn-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, probes: Path) -> Iterator[EmbeddedEmulator]:
    echo = FunctionConfig(
        name="echo", runtime="python3.11", handler="app.handler", code_dir=FUNCTIONS / "echo"
    )
    streamer = FunctionConfig(
        name="streamer",
        runtime="provided.al2023",
        handler="bootstrap",
        code_dir=FUNCTIONS / "streamer",
        timeout_s=120,
        environment=MappingProxyType({"PROBE_DIR": str(probes)}),
    )
    http = HttpConfig(
        apis=(HttpApi("Api", "http"),),
        routes=(HttpRoute("Api", "ANY", "/{proxy+}", "echo"),),
        urls=(FunctionUrl("echo"), FunctionUrl("streamer", invoke_mode="RESPONSE_STREAM")),
    )
    cfg = EmulatorConfig(
        functions=(echo, streamer),
        port=0,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("connections"),
        log_to_terminal=False,
        http=http,
        idle_timeout_s=SHORT,
        header_timeout_s=SHORT,
        body_timeout_s=SHORT,
    )
    with EmbeddedEmulator(cfg) as emu:
        yield emu
        assert emu.internal_errors == []


def _port(served: EmbeddedEmulator, listener: str) -> int:
    assert served.emulator is not None
    server = served.emulator.api_server if listener == "api" else served.emulator.server
    return server.port


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(HANG_S)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection."""
    out = b""
    for _ in range(100_000):
        data = sock.recv(65536)
        if not data:
            return out
        out += data
    raise AssertionError("the server never closed the connection")


def _responses(raw: bytes) -> list[tuple[int, bytes]]:
    """(status, body) of each Content-Length response in `raw`."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        out.append((status, rest[:length]))
        raw = rest[length:]
    return out


def _request(path: str, body: bytes = b"{}", method: str = "POST") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


LISTENERS = ["invoke", "api"]


@pytest.mark.parametrize("listener", LISTENERS)
def test_a_slow_loris_head_is_cut_with_408(served: EmbeddedEmulator, listener: str) -> None:
    """A head that keeps coming, a header at a time, but never ends."""
    with _connect(_port(served, listener)) as sock:
        sock.sendall(b"POST /items/x HTTP/1.1\r\nHost: localhost\r\n")
        sock.settimeout(SHORT / 5)
        answer = b""
        for i in range(100_000):  # bounded: the server closes long before
            try:
                sock.sendall(f"X-Slow-{i}: a\r\n".encode())
            except OSError:  # reset after the server closed
                break
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            answer += data
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]


@pytest.mark.parametrize("listener", LISTENERS)
def test_a_body_that_never_completes_is_cut_with_408(
    served: EmbeddedEmulator, listener: str
) -> None:
    with _connect(_port(served, listener)) as sock:
        sock.sendall(b"POST /items/x HTTP/1.1\r\nHost: l\r\nContent-Length: 100\r\n\r\n0123456789")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("listener", LISTENERS)
@pytest.mark.parametrize("after_a_request", [False, True])
def test_an_idle_connection_is_closed(
    served: EmbeddedEmulator, listener: str, after_a_request: bool
) -> None:
    path = INVOKE if listener == "invoke" else "/items/x"
    with _connect(_port(served, listener)) as sock:
        if after_a_request:
            sock.sendall(_request(path))
            head = sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200 ")
        rest = _read_all(sock)  # then nothing more: the server closes it
    assert rest == b"" or not after_a_request


@pytest.mark.parametrize("surface", ["invoke", "function url", "api route", "pipelined", "control"])
def test_a_half_closed_client_still_gets_its_answer(served: EmbeddedEmulator, surface: str) -> None:
    event = {"half": "closed"}
    body = json.dumps(event).encode()
    listener, requests = {
        "invoke": ("invoke", [_request(INVOKE, body)]),
        "function url": ("invoke", [_request("/lambda-url/echo/x", body)]),
        "api route": ("api", [_request("/items/x", body)]),
        "pipelined": ("invoke", [_request(INVOKE, body)] * 3),
        "control": ("invoke", [_request("/_emu/health", b"", "GET")]),
    }[surface]
    with _connect(_port(served, listener)) as sock:
        sock.sendall(b"".join(requests))
        sock.shutdown(socket.SHUT_WR)
        answers = _responses(_read_all(sock))
    assert [status for status, _ in answers] == [200] * len(requests)
    if surface in ("invoke", "pipelined"):
        assert all(json.loads(b) == event for _, b in answers)


def _cold_starts(served: EmbeddedEmulator) -> int:
    import httpx

    functions = httpx.get(f"{served.url}/_emu/functions").json()["functions"]
    return int(next(f for f in functions if f["name"] == "echo")["cold_starts"])


def test_runtime_long_polls_outlive_the_timeouts(served: EmbeddedEmulator) -> None:
    """The runtime waits in /next between invocations, for longer than every timeout: its
    environment is still there (no new cold start), and so is a held keep-alive client."""
    import httpx

    with httpx.Client(base_url=served.url, timeout=HANG_S) as client:
        assert client.post(INVOKE, json={"n": 1}).status_code == 200
        cold = _cold_starts(served)
        time.sleep(SHORT * 6)  # not a bound: lets every timeout pass several times
        assert client.post(INVOKE, json={"n": 2}).json() == {"n": 2}
    assert _cold_starts(served) == cold


def test_a_streamed_response_outlives_the_timeouts(served: EmbeddedEmulator, probes: Path) -> None:
    """A streaming function pauses between its parts for longer than every timeout: neither
    the caller's connection nor the runtime's streamed /response is cut."""
    import httpx

    token = uuid.uuid4().hex
    url = f"{served.url}/lambda-url/streamer/"
    with httpx.stream("POST", url, json={"parts": ["a", "b"], "go": token}, timeout=HANG_S) as r:
        assert r.status_code == 200
        chunks = r.iter_raw()
        assert next(chunks) == b"a"  # part two is written only once told
        time.sleep(SHORT * 6)  # not a bound: lets every timeout pass several times
        (probes / f"{token}.1").touch()
        assert b"".join(chunks) == b"b"


def test_the_runtime_api_cuts_a_slow_head_but_not_a_long_poll() -> None:
    """The Runtime API listener itself (in-process, without its owner check): a head that
    never ends is cut with 408, while a /next long poll stays open across the timeouts."""

    async def exchange() -> tuple[bytes, bool]:
        api = RuntimeApi(
            on_init_done=lambda _e: None,
            on_init_error=lambda _e: None,
            on_ready=lambda: None,
            timeouts=ConnectionTimeouts(SHORT, SHORT, SHORT),
        )
        await api.start()
        try:
            port = api.server.port
            r1, w1 = await asyncio.open_connection("127.0.0.1", port)
            w1.write(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            w2.write(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n")
            cut = await asyncio.wait_for(r2.read(), HANG_S)
            # the long poll waited as long as the slow head took to be cut, and longer
            await asyncio.sleep(SHORT * 4)
            held = not r1.at_eof() and not r1._buffer  # type: ignore[attr-defined]
            w1.close()
            w2.close()
            return cut, held
        finally:
            await api.close()

    cut, held = asyncio.run(exchange())
    assert cut.startswith(b"HTTP/1.1 408 ")
    assert held


def test_timeouts_are_configurable_and_default_to_documented_values() -> None:
    cfg = EmulatorConfig(functions=())
    assert (cfg.idle_timeout_s, cfg.header_timeout_s, cfg.body_timeout_s) == (60.0, 10.0, 60.0)
    assert ConnectionTimeouts(None, None, None).sweep_every() is None
