"""Hypothesis-generated requests against the Invoke API and a live Runtime API.

Requests go over raw sockets, so anything goes: wrong methods, invalid function names and
qualifiers, bad JSON, bytes that are not UTF-8, huge headers, oversized bodies, requests that
are not HTTP at all. Whatever arrives, the emulator answers within a bound with a 4xx (or the
2xx of a valid call), never a 5xx of its own, keeps no internal error, and goes on serving.
The number of cases tried is printed.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import string
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emulator.embedded import EmulatorThread

from .conftest import Answer, held_invocation, trace_records

Call = Callable[..., Answer]
ANSWER_WITHIN_S = 10.0  # a hang is a request without an answer in this time
RESET = -1  # the status recorded for a connection reset after an early refusal
FUZZ = settings(
    max_examples=600,
    deadline=None,
    database=None,  # nothing written to the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

METHOD_NAMES = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"]
# mostly POST, so that most requests reach the API's own checks past the method's
METHODS = st.one_of(st.just("POST"), st.just("POST"), st.sampled_from(METHOD_NAMES))
METHOD_PREFIXES = tuple(f"{m} ".encode() for m in METHOD_NAMES)
TEXT = st.text(alphabet=string.printable + "é€☃\x00", max_size=40)
NOT_UTF8 = st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80abc"])
# Bytes that keep a request line or a header line whole (no space, CR, LF) ...
RAW_SEGMENT = st.one_of(
    TEXT.map(lambda t: t.encode("utf-8")),
    st.binary(max_size=20),
    NOT_UTF8,
).map(lambda b: b.replace(b" ", b"").replace(b"\r", b"").replace(b"\n", b""))
# ... and what a client library would send: percent-encoded text.
QUOTED = TEXT.map(lambda t: quote(t, safe="").encode())
SEGMENT = st.one_of(QUOTED, QUOTED, RAW_SEGMENT)
NOT_HTTP = st.binary(min_size=1, max_size=300).map(lambda b: (b"", b + b"\r\n\r\n", [], b""))
SIZES = st.sampled_from([0, 1, 100, 262_145, 1_048_577, 6_291_457, 8 * 1024 * 1024 + 1])


# A case is (method, target, headers, body), or (b"", raw bytes, [], b"") for what is not
# HTTP. Big values are markers expanded here, so a failing case prints small.
Spec = tuple[bytes, bytes, list[tuple[bytes, bytes]], bytes]
_BIG = re.compile(rb"<<(\d+) (KiB|x)>>")


def _expand(value: bytes) -> bytes:
    def big(m: re.Match[bytes]) -> bytes:
        n = int(m.group(1))
        return b"h" * (n * 1024) if m.group(2) == b"KiB" else b'"' + b"x" * n + b'"'

    return _BIG.sub(big, value)


def wire(spec: Spec) -> bytes:
    method, target, headers, body = spec
    if not method:
        return target
    body = _expand(body)
    lines = [method + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    lines += [k + b": " + _expand(v) for k, v in headers]
    lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send(port: int, data: bytes) -> int:
    """Send one request; the status of the answer. What is not a whole request is followed by
    the end of the stream, and may be closed without an answer (0). A hang fails."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN_S) as sock:
        # answered (413, 400) and closed before the whole body was sent: read the answer
        with contextlib.suppress(OSError):  # BrokenPipe, ConnectionReset, NotConnected
            sock.sendall(data)
            if not data.startswith(METHOD_PREFIXES):
                sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                # refused early and closed with our unsent bytes unread: the kernel's RST may
                # overtake the answer; an answer all the same, not a hang
                return RESET if not chunks else _status(b"".join(chunks), data)
            if not chunk:
                break
            chunks.append(chunk)
    head = b"".join(chunks)
    return _status(head, data) if head else 0


def _status(head: bytes, data: bytes) -> int:
    assert head.startswith(b"HTTP/1.1 "), f"not HTTP: {head[:200]!r} for {data[:200]!r}"
    return int(head.split(b" ", 2)[1])


def answered(status: int, data: bytes) -> bool:
    """Every whole request gets an answer; bytes that are not one may get none."""
    return status != 0 or not data.startswith(METHOD_PREFIXES)


def report(surface: str, statuses: dict[int, int], capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        cases = sum(statuses.values())
        print(f"\nfuzz: {surface}: {cases} cases tried, answers {sorted(statuses.items())}")


# --- Invoke API --------------------------------------------------------------------------------
FUNCTION_NAMES = st.one_of(
    st.just(b"fault_echo"),
    st.sampled_from([b"fault_echo:$LATEST", b"fault_echo:1", b"fault_echo:alias", b"nope", b""]),
    st.builds(
        lambda q: b"arn:aws:lambda:us-east-1:123456789012:function:fault_echo" + q,
        st.sampled_from([b"", b":$LATEST", b":7", b":x:y"]),
    ),
    st.sampled_from([b"123456789012:function:fault_echo", b"arn:aws:s3:::bucket", b"a" * 300]),
    SEGMENT,
)
INVOKE_PATHS = st.one_of(
    st.builds(lambda n: b"/2015-03-31/functions/" + n + b"/invocations", FUNCTION_NAMES),
    st.builds(lambda n: b"/2014-11-13/functions/" + n + b"/invoke-async", FUNCTION_NAMES),
    st.builds(lambda s: b"/2015-03-31/" + s, SEGMENT),
    st.sampled_from([b"/", b"/_emu/health", b"/_emu/functions", b"/metrics", b"*"]),
)
QUERIES = st.one_of(
    st.just(b""),
    st.builds(lambda q: b"?Qualifier=" + q, SEGMENT),
    st.builds(lambda q: b"?" + q, SEGMENT),
)
INVOKE_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                b"X-Amz-Invocation-Type",
                b"X-Amz-Log-Type",
                b"X-Amz-Client-Context",
                b"X-Amz-Tenant-Id",
                b"Content-Type",
                b"X-Fuzz",
            ]
        ),
        st.one_of(
            st.sampled_from([b"RequestResponse", b"Event", b"DryRun", b"Tail", b"None"]),
            st.sampled_from([b"eyJjdXN0b20iOnt9fQ==", b"bm90IGpzb24=", b"!!!", b"e30"]),
            RAW_SEGMENT,
            st.integers(1, 256).map(lambda k: b"<<%d KiB>>" % k),  # up to 256 KiB
        ),
    ),
    max_size=4,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)
BODIES = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    NOT_UTF8.map(lambda b: b'{"k": "' + b + b'"}'),
    st.sampled_from([b"", b"{", b"[1,", b'{"a":}', b"nul", b"\x00" * 10]),
    SIZES.map(lambda n: b"<<%d x>>" % n),
)
INVOKE_REQUESTS = st.one_of(
    *[
        st.builds(
            lambda m, p, q, h, b: (m.encode(), p + q, h, b),
            METHODS,
            INVOKE_PATHS,
            QUERIES,
            INVOKE_HEADERS,
            BODIES,
        )
    ]
    * 4,
    NOT_HTTP,
)


def test_fuzz_invoke_api(
    fault_emulator: EmulatorThread, call: Call, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fault_emulator.emulator is not None
    statuses: dict[int, int] = {}

    @FUZZ
    @given(INVOKE_REQUESTS)
    def case(spec: Spec) -> None:
        data = wire(spec)
        status = send(fault_emulator.port, data)
        statuses[status] = statuses.get(status, 0) + 1
        assert answered(status, data) and status < 500, f"{status} for {data[:300]!r}"

    case()
    assert fault_emulator.emulator.internal_errors == []
    ok = call("fault_echo", {"after": "fuzz"})
    assert ok.status == 200 and ok.json() == {"after": "fuzz"}
    report("Invoke API", statuses, capsys)


# --- Runtime API of a live environment -----------------------------------------------------------
RUNTIME_PATHS = st.one_of(
    st.sampled_from(
        [
            b"/2018-06-01/runtime/invocation/next",
            b"/2018-06-01/runtime/init/error",
            b"/2018-06-01/runtime/restore/next",
            b"/2020-01-01/extension/register",
            b"/2020-01-01/extension/event/next",
            b"/2020-01-01/extension/init/error",
            b"/2020-01-01/extension/exit/error",
            b"/2022-07-01/telemetry",
            b"/2020-08-15/logs",
        ]
    ),
    st.builds(
        lambda rid, action: b"/2018-06-01/runtime/invocation/" + rid + b"/" + action,
        st.one_of(st.uuids().map(lambda u: str(u).encode()), SEGMENT),
        st.one_of(st.sampled_from([b"response", b"error", b""]), SEGMENT),
    ),
    st.builds(lambda s: b"/2018-06-01/" + s, SEGMENT),
    st.builds(lambda s: b"/" + s, SEGMENT),
)
RUNTIME_HEADERS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                b"Lambda-Runtime-Function-Error-Type",
                b"Lambda-Runtime-Function-Response-Mode",
                b"Lambda-Extension-Name",
                b"Lambda-Extension-Identifier",
                b"Lambda-Extension-Function-Error-Type",
                b"Content-Type",
            ]
        ),
        st.one_of(
            st.sampled_from([b"streaming", b"buffered", b"Runtime.Fuzz", b"application/json"]),
            st.uuids().map(lambda u: str(u).encode()),
            RAW_SEGMENT,
            st.integers(1, 64).map(lambda k: b"<<%d KiB>>" % k),
        ),
    ),
    max_size=4,
)
RUNTIME_REQUESTS = st.one_of(
    *[
        st.builds(
            lambda m, p, h, b: (m.encode(), p, h, b),
            METHODS,
            RUNTIME_PATHS,
            RUNTIME_HEADERS,
            BODIES,
        )
    ]
    * 4,
    NOT_HTTP,
)


def test_fuzz_runtime_api_from_another_process(
    fault_emulator: EmulatorThread, call: Call, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = fault_emulator.emulator
    assert emu is not None
    first = call("fault_rogue", {"mode": "echo"})
    assert first.function_error is None
    (env,) = emu.functions["fault_rogue"].envs
    port = int(env.runtime.address.rpartition(":")[2])
    statuses: dict[int, int] = {}

    # This process is not the environment's: whatever it sends, it is turned away, and the
    # runtime waiting in /next gets its next invocation as if nothing happened.
    @FUZZ
    @given(RUNTIME_REQUESTS)
    def case(spec: Spec) -> None:
        data = wire(spec)
        status = send(port, data)
        statuses[status] = statuses.get(status, 0) + 1
        assert status in (403, RESET), f"{status} for {data[:300]!r}"

    case()
    assert emu.internal_errors == []
    after = call("fault_rogue", {"mode": "echo", "after": "fuzz"})
    assert after.status == 200 and after.function_error is None
    assert after.json() == {"event": {"mode": "echo", "after": "fuzz"}, "pid": first.json()["pid"]}
    assert after.report is not None and not after.report.cold  # the same environment served
    report("Runtime API, from another process", statuses, capsys)


def test_fuzz_runtime_api_from_inside_the_environment(
    fault_emulator: EmulatorThread,
    call: Call,
    fault_probe_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu = fault_emulator.emulator
    assert emu is not None
    statuses: dict[int, int] = {}
    payload = {"k": 1, "relay": True}
    with held_invocation(fault_emulator, call, fault_probe_dir, payload) as held:
        request_id, relay = held.request_id, held.relay_port
        assert relay is not None

        # Through a relay in the runtime's own process, while its invocation is in flight:
        # /next gives the same invocation again (200); anything else is refused with a 4xx.
        @FUZZ
        @given(RUNTIME_REQUESTS)
        def case(spec: Spec) -> None:
            data = wire(spec)
            assume(request_id.encode() not in data)  # only the runtime answers its invocation
            status = send(relay, data)
            statuses[status] = statuses.get(status, 0) + 1
            assert answered(status, data) and status < 500, f"{status} for {data[:300]!r}"

        case()
    answer = held.answer
    assert answer is not None and answer.status == 200 and answer.function_error is None
    assert answer.request_id == request_id
    assert answer.json()["event"] == {**payload, "mode": "hold"}
    assert len(trace_records(fault_emulator, request_id)) == 1
    assert emu.internal_errors == []
    assert 403 not in statuses or statuses[403] < sum(statuses.values())  # not turned away
    report("Runtime API, from inside the environment", statuses, capsys)


# --- bounds ----------------------------------------------------------------------------------
def test_huge_headers_are_refused_before_they_are_buffered(fault_emulator: EmulatorThread) -> None:
    mb = 1024 * 1024
    status = -1
    with socket.create_connection(("127.0.0.1", fault_emulator.port), timeout=10) as sock:
        sock.sendall(b"POST /2015-03-31/functions/fault_echo/invocations HTTP/1.1\r\nX-Big: ")
        try:
            for _ in range(32):  # 32 MB of one header, never finished
                sock.sendall(b"h" * mb)
        except OSError:
            pass  # refused and closed: what should happen
        sock.settimeout(5)
        try:
            head = sock.recv(65536)
            status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
        except TimeoutError:
            status = -1  # still reading: the header is being buffered
        except OSError:
            status = 0  # reset: closed with our unread megabytes in its buffer
    assert status in (0, 400, 431)  # closed or refused before the header ended
