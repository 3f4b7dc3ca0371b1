"""Response streaming end to end (issue 16): the Runtime API's streaming mode,
InvokeWithResponseStream read by boto3, and RESPONSE_STREAM function URLs read by httpx.

The streaming runtime is tests/functions/streamer/bootstrap, a custom runtime that writes one
HTTP chunk per part. Before writing part i it waits for the file `<go>.<i>` in the probe
directory, which the test creates only after it has received part i-1: a response that was
buffered anywhere would never arrive, so each test proves incremental delivery by its progress,
not by clocks. Expected AWS values cite /work/notes/streaming-spec.md (§ numbers).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from waiting import eventually

from emulator.api import eventstream
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor.model import FunctionUrl, HttpConfig
from emulator.metrics.report import parse_report
from emulator.metrics.trace import read_records
from emulator.pytest_plugin import boto3_client

FUNCTIONS = Path(__file__).parent / "functions"


NODE = shutil.which("node") is not None and shutil.which("npm") is not None


def _fn(name: str, code: str, **kw: Any) -> FunctionConfig:
    if code == "streamer":
        kw.setdefault("runtime", "provided.al2023")
        kw.setdefault("handler", "bootstrap")
    elif code == "node_stream":
        kw.setdefault("runtime", "nodejs20.x")
        kw.setdefault("handler", "index.handler")
    else:
        kw.setdefault("runtime", "python3.11")
        kw.setdefault("handler", "app.handler")
    return FunctionConfig(name=name, code_dir=FUNCTIONS / code, **kw)


@pytest.fixture(scope="module")
def probes() -> Iterator[Path]:
    # not under /tmp: each environment has a private /tmp
    path = Path(__file__).resolve().parent.parent / ".lambda-emu" / f"stream-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, probes: Path) -> Iterator[EmbeddedEmulator]:
    env = MappingProxyType({"PROBE_DIR": str(probes)})
    functions = (
        _fn("streamer", "streamer", timeout_s=20),
        _fn("streamer_timeout", "streamer", timeout_s=1),
        _fn("streamer_url", "streamer", timeout_s=20),
        _fn("streamer_url_timeout", "streamer", timeout_s=1),
        _fn("echo", "echo"),
        _fn("boom", "boom"),
        _fn("echo_url", "echo"),
    )
    if NODE:
        functions += (_fn("node_stream", "node_stream", timeout_s=20),)
    functions = tuple(
        replace(fn, environment=env) if "stream" in fn.name else fn for fn in functions
    )
    http = HttpConfig(
        urls=(
            FunctionUrl("streamer_url", invoke_mode="RESPONSE_STREAM"),
            FunctionUrl("streamer_url_timeout", invoke_mode="RESPONSE_STREAM"),
            FunctionUrl("echo_url", invoke_mode="RESPONSE_STREAM"),
            *((FunctionUrl("node_stream", invoke_mode="RESPONSE_STREAM"),) if NODE else ()),
        )
    )
    cfg = EmulatorConfig(
        functions=functions,
        port=0,
        state_dir=tmp_path_factory.mktemp("streaming"),
        log_to_terminal=False,
        http=http,
    )
    with EmbeddedEmulator(cfg) as emulator:
        yield emulator
    assert emulator.internal_errors == []


@pytest.fixture(scope="module")
def client(served: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(served) as c:
        yield c


class Go:
    """Tells the streamer when to write its next part."""

    def __init__(self, probes: Path) -> None:
        self.token = uuid.uuid4().hex
        self.probes = probes
        self.told = 0

    def next(self) -> None:
        self.told += 1
        (self.probes / f"{self.token}.{self.told}").touch()


def _stream(client: Any, name: str, event: Any, **kw: Any) -> tuple[dict[str, Any], Any]:
    resp = client.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event), **kw)
    return resp, iter(resp["EventStream"])


# --- the event-stream framing ----------------------------------------------------------------
def test_event_stream_messages_are_byte_for_byte_lambdas() -> None:
    # spec §2.4: test vectors checked with botocore's EventStreamBuffer; the InvokeComplete one
    # a captured Lambda message
    assert eventstream.payload_chunk(b"Hello,").hex() == (
        "000000700000005a174e874c0b3a6576656e742d7479706507000c5061796c6f61644368756e6b0d3a63"
        "6f6e74656e742d747970650700186170706c69636174696f6e2f6f637465742d73747265616d0d3a6d65"
        "73736167652d747970650700056576656e7448656c6c6f2c636b5219"
    )
    assert eventstream.invoke_complete().hex() == (
        "00000066000000541f56c8690b3a6576656e742d7479706507000e496e766f6b65436f6d706c657465"
        "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d657373616765"
        "2d747970650700056576656e747b7d7006d467"
    )


# --- InvokeWithResponseStream through boto3 ---------------------------------------------------
def test_boto3_receives_each_chunk_before_the_function_writes_the_next(
    client: Any, probes: Path
) -> None:
    go = Go(probes)
    parts = ["first ", "second ", "third"]
    resp, events = _stream(client, "streamer", {"parts": parts, "go": go.token})
    assert resp["StatusCode"] == 200
    assert resp["ExecutedVersion"] == "$LATEST"
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    assert headers["transfer-encoding"] == "chunked"
    assert headers["x-amzn-requestid"] == resp["ResponseMetadata"]["RequestId"]
    received = []
    for expected in parts:
        # the streamer writes part i only after go.next(): this chunk arrived before that
        event = next(events)
        assert event == {"PayloadChunk": {"Payload": expected.encode()}}
        received.append(expected)
        if len(received) < len(parts):
            go.next()
    assert next(events) == {"InvokeComplete": {}}
    assert list(events) == []


def test_a_stream_ending_in_error_trailers_ends_in_an_invoke_complete_error(
    client: Any, probes: Path
) -> None:
    # spec §1.3: NRIC's trailers after a partial body; §2.5 InvokeComplete ErrorCode/Details ⚠
    details = json.dumps({"errorType": "TypeError", "errorMessage": "boom", "trace": []})
    resp, events = _stream(
        client, "streamer", {"parts": ["partial"], "error": ["TypeError", details]}, LogType="Tail"
    )
    assert next(events) == {"PayloadChunk": {"Payload": b"partial"}}
    complete = next(events)["InvokeComplete"]
    assert complete["ErrorCode"] == "TypeError"
    assert json.loads(complete["ErrorDetails"]) == json.loads(details)
    log = base64.b64decode(complete["LogResult"]).decode()
    report = parse_report(log)
    assert report is not None and report.request_id == resp["ResponseMetadata"]["RequestId"]
    assert list(events) == []


def test_a_timeout_mid_stream_ends_it_with_sandbox_timedout(
    served: EmbeddedEmulator, client: Any, probes: Path
) -> None:
    resp, events = _stream(client, "streamer_timeout", {"parts": ["before "], "hang": True})
    assert next(events) == {"PayloadChunk": {"Payload": b"before "}}
    complete = next(events)["InvokeComplete"]
    assert complete["ErrorCode"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in complete["ErrorDetails"]
    assert list(events) == []
    (record,) = _records(served, resp["ResponseMetadata"]["RequestId"])
    assert record["outcome"] == "timeout"
    assert record["streamed_bytes"] == len("before ")
    # the environment was reset; the next invocation runs in a new one
    _, events = _stream(client, "streamer_timeout", {"parts": ["again"]})
    assert [e for e in events] == [
        {"PayloadChunk": {"Payload": b"again"}},
        {"InvokeComplete": {}},
    ]


def test_a_function_that_does_not_stream_sends_its_whole_answer_in_one_chunk(
    client: Any,
) -> None:
    # spec §2.6: a buffered runtime is streamed through
    resp, events = _stream(client, "echo", {"hello": "world"})
    assert resp["StatusCode"] == 200
    chunks = list(events)
    assert len(chunks) == 2
    assert json.loads(chunks[0]["PayloadChunk"]["Payload"]) == {"hello": "world"}
    assert chunks[1] == {"InvokeComplete": {}}


def test_a_function_error_without_streaming_is_an_invoke_complete_error(client: Any) -> None:
    _, events = _stream(client, "boom", {})
    chunks = list(events)
    assert len(chunks) == 1
    complete = chunks[0]["InvokeComplete"]
    details = json.loads(complete["ErrorDetails"])
    assert complete["ErrorCode"] == details["errorType"]
    assert details["errorMessage"]


def test_a_stream_larger_than_a_buffered_response_arrives_whole(client: Any) -> None:
    # over Invoke's 6 MB, past the bandwidth limit's burst (the rest at 2 MBps)
    size = 7 * 1024 * 1024
    _, events = _stream(client, "streamer", {"size": size})
    received = 0
    pieces = 0
    for event in events:
        if "PayloadChunk" in event:
            received += len(event["PayloadChunk"]["Payload"])
            pieces += 1
        else:
            assert event == {"InvokeComplete": {}}
    assert received == size
    assert pieces > 1


def test_a_streaming_runtime_answers_a_buffered_invoke_whole(client: Any) -> None:
    # spec §1.4 row 3: read whole; the trailers make it a function error
    resp = client.invoke(FunctionName="streamer", Payload=json.dumps({"parts": ["a", "b", "c"]}))
    assert resp["Payload"].read() == b"abc"
    assert "FunctionError" not in resp
    details = json.dumps({"errorType": "TypeError", "errorMessage": "late"})
    resp = client.invoke(
        FunctionName="streamer",
        Payload=json.dumps({"parts": ["a"], "error": ["TypeError", details]}),
    )
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read()) == json.loads(details)


def test_service_errors_come_before_any_stream(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke_with_response_stream(FunctionName="nope", Payload=b"{}")
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke_with_response_stream(FunctionName="echo", Payload=b"{not json")
    resp = client.invoke_with_response_stream(
        FunctionName="echo", Payload=b"{}", InvocationType="DryRun"
    )
    assert resp["StatusCode"] == 204
    assert list(resp["EventStream"]) == []


def test_the_aws_cli_has_no_invoke_with_response_stream() -> None:
    # spec §7: both CLI versions remove the command (awscli/customizations/removals.py)
    from awscli.customizations import removals

    source = Path(removals.__file__).read_text()
    assert "'invoke-with-response-stream'" in source


def test_the_trace_and_report_of_a_streamed_invocation(
    served: EmbeddedEmulator, client: Any, probes: Path
) -> None:
    go = Go(probes)
    resp, events = _stream(
        client, "streamer", {"parts": ["one", "two"], "go": go.token}, LogType="Tail"
    )
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert next(events) == {"PayloadChunk": {"Payload": b"one"}}
    go.next()
    assert next(events) == {"PayloadChunk": {"Payload": b"two"}}
    complete = next(events)["InvokeComplete"]
    assert list(events) == []
    report = parse_report(base64.b64decode(complete["LogResult"]).decode())
    assert report is not None and report.request_id == request_id
    (record,) = _records(served, request_id)
    assert record["streamed_bytes"] == len("onetwo")
    # the first byte went out before the function was told to write the second: before the end
    assert 0 <= record["first_byte_ms"] <= record["duration_ms"]
    assert record["duration_ms"] == pytest.approx(report.duration_ms, abs=0.01)


async def _flush_trace(emulator: Any) -> None:
    emulator.trace.flush()


def _records(served: EmbeddedEmulator, request_id: str) -> list[dict[str, Any]]:
    """The invocation's trace records (written after its answer: waited for)."""
    path = served.cfg.state_dir / "traces" / "invocations.jsonl"

    def found() -> list[dict[str, Any]]:
        served.call(_flush_trace)
        if not path.exists():
            return []
        return [r for r in read_records(path) if r["request_id"] == request_id]

    eventually(lambda: bool(found()), f"the trace record of {request_id}")
    return found()


# --- the Runtime API's side -------------------------------------------------------------------
def test_the_runtime_is_answered_202_after_its_last_chunk(
    served: EmbeddedEmulator, client: Any
) -> None:
    resp, events = _stream(client, "streamer", {"parts": ["x"]})
    request_id = resp["ResponseMetadata"]["RequestId"]
    assert list(events)[-1] == {"InvokeComplete": {}}
    log = served.cfg.state_dir / "logs" / "streamer.log"
    eventually(lambda: f"streamer: {request_id} answered 202" in log.read_text(), "the 202")


# --- RESPONSE_STREAM function URLs through httpx ----------------------------------------------
def _url(served: EmbeddedEmulator, name: str) -> str:
    return f"{served.url}/lambda-url/{name}/"


def _read_until(parts: Iterator[bytes], got: bytearray, wanted: bytes) -> None:
    """Read the body until it ends with `wanted`: the part the function wrote last."""
    while not got.endswith(wanted):
        got += next(parts)


def test_a_streaming_url_sends_each_chunk_before_the_function_writes_the_next(
    served: EmbeddedEmulator, probes: Path
) -> None:
    go = Go(probes)
    parts = [b"alpha ", b"beta ", b"gamma"]
    instructions = {"parts": [p.decode() for p in parts], "go": go.token, "content_type": "text/x"}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", _url(served, "streamer_url"), json=instructions) as resp,
    ):
        # no prelude: 200 with the stream's own content type (spec §3)
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/x"
        assert resp.headers["transfer-encoding"] == "chunked"
        assert resp.headers["x-amzn-requestid"]
        body = resp.iter_raw()
        got = bytearray()
        for i, part in enumerate(parts):
            _read_until(body, got, part)  # arrived before the function may write part i + 1
            if i + 1 < len(parts):
                go.next()
        assert list(body) == []
        assert bytes(got) == b"".join(parts)


def test_a_streaming_url_takes_status_headers_and_cookies_from_the_prelude(
    served: EmbeddedEmulator, probes: Path
) -> None:
    go = Go(probes)
    prelude = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "X-A": "b"},
        "cookies": ["a=1", "b=2"],
    }
    instructions = {"prelude": prelude, "parts": ["Hello,", " world"], "go": go.token}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", _url(served, "streamer_url"), json=instructions) as resp,
    ):
        assert resp.status_code == 201
        assert resp.headers["content-type"] == "text/plain"
        assert resp.headers["x-a"] == "b"
        assert resp.headers.get_list("set-cookie") == ["a=1", "b=2"]
        body = resp.iter_raw()
        got = bytearray()
        _read_until(body, got, b"Hello,")  # the prelude and the NULs are not in the body
        assert bytes(got) == b"Hello,"
        go.next()
        _read_until(body, got, b" world")
        assert list(body) == []
    assert bytes(got) == b"Hello, world"


def test_a_prelude_with_no_body_sets_the_status(served: EmbeddedEmulator) -> None:
    # NRIC sends a prelude without its delimiter when the handler never writes (spec §1.2) ⚠
    instructions = {"parts": ['{"statusCode":403}'], "content_type": _HTTP_INTEGRATION}
    resp = httpx.post(_url(served, "streamer_url"), json=instructions, timeout=60)
    assert resp.status_code == 403
    assert resp.content == b""


_HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"


def test_a_url_stream_failing_before_its_first_byte_is_a_502(served: EmbeddedEmulator) -> None:
    instructions = {"parts": [], "error": ["TypeError", '{"errorType":"TypeError"}']}
    resp = httpx.post(_url(served, "streamer_url"), json=instructions, timeout=60)
    assert resp.status_code == 502
    assert resp.text == "Internal Server Error"


def test_a_url_stream_failing_after_bytes_went_out_is_cut_short(
    served: EmbeddedEmulator,
) -> None:
    # ⚠ status and headers are out: the connection closes without the last chunk
    instructions = {"parts": ["partial"], "error": ["TypeError", '{"errorType":"TypeError"}']}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", _url(served, "streamer_url"), json=instructions) as resp,
    ):
        assert resp.status_code == 200
        got = bytearray()
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in resp.iter_raw():
                got += piece
    assert bytes(got) == b"partial"


def test_a_url_stream_timing_out_mid_stream_is_cut_short(served: EmbeddedEmulator) -> None:
    instructions = {"parts": ["before"], "hang": True}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", _url(served, "streamer_url_timeout"), json=instructions) as resp,
    ):
        assert resp.status_code == 200
        got = bytearray()
        with pytest.raises(httpx.RemoteProtocolError):
            for piece in resp.iter_raw():
                got += piece
    assert bytes(got) == b"before"


def test_a_function_that_does_not_stream_behind_a_streaming_url_answers_its_raw_result(
    served: EmbeddedEmulator,
) -> None:
    # LocalStack's AWS-validated test_lambda_url_echo_invoke[RESPONSE_STREAM] (spec §3): the
    # result is the body, not read as an HTTP response
    resp = httpx.post(
        _url(served, "echo_url"), content=b"hi", headers={"Content-Type": "text/plain"}, timeout=60
    )
    assert resp.status_code == 200
    assert resp.headers["transfer-encoding"] == "chunked"
    event = resp.json()
    assert event["body"] == "hi"
    assert event["requestContext"]["http"]["method"] == "POST"


# --- Node.js: awslambda.streamifyResponse under AWS's runtime interface client ----------------
needs_node = pytest.mark.skipif(not NODE, reason="node and npm are needed for Node.js")


@needs_node
def test_a_node_stream_reaches_boto3_write_by_write(client: Any, probes: Path) -> None:
    go = Go(probes)
    parts = ["Hello", "serverless", "world"]  # SAM's AWS-run integration test (spec §2.4)
    _, events = _stream(client, "node_stream", {"parts": parts, "go": go.token})
    for i, part in enumerate(parts):
        assert next(events) == {"PayloadChunk": {"Payload": part.encode()}}
        if i + 1 < len(parts):
            go.next()
    assert next(events) == {"InvokeComplete": {}}
    assert list(events) == []


@needs_node
def test_a_node_stream_that_throws_ends_with_its_error(client: Any) -> None:
    # NRIC never posts /error for a stream: the error goes in trailers (spec §1.3)
    _, events = _stream(client, "node_stream", {"parts": ["partial"], "fail": "boom"})
    assert next(events) == {"PayloadChunk": {"Payload": b"partial"}}
    complete = next(events)["InvokeComplete"]
    assert complete["ErrorCode"] == "TypeError"
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "TypeError"
    assert details["errorMessage"] == "boom"
    assert details["trace"][0] == "TypeError: boom"  # NRIC's key is `trace`
    assert list(events) == []


@needs_node
def test_a_node_http_response_stream_behind_a_url(served: EmbeddedEmulator) -> None:
    instructions = {
        "prelude": {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain"},
            "cookies": ["a=1"],
        },
        "parts": ["Hello,", " world"],
    }
    resp = httpx.post(_url(served, "node_stream"), json=instructions, timeout=60)
    assert resp.status_code == 201
    assert resp.headers["content-type"] == "text/plain"
    assert resp.headers["set-cookie"] == "a=1"
    assert resp.content == b"Hello, world"


# --- the relay's limits (a pure unit: a stand-in for the runtime's body) ----------------------
class _Body:
    """What the relay needs of httpserver.RequestBody."""

    def __init__(self) -> None:
        self.trailers: dict[str, str] = {}
        self.paused = False
        self.detached = False

    def attach(self, on_data: Any, on_end: Any, on_abort: Any) -> None:
        self.feed, self.end, self.abort = on_data, on_end, on_abort

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def detach(self) -> None:
        self.detached = True


class _Sink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def begin(self, content_type: str, flow: Any) -> None:
        self.content_type = content_type

    def data(self, chunk: bytes) -> None:
        self.chunks.append(chunk)


def _relay(limits: Any) -> tuple[_Body, _Sink, list[Any], Any]:
    from emulator.engine.invocation import Invocation
    from emulator.engine.streaming import ResponseRelay

    body, sink, ended = _Body(), _Sink(), []
    inv = Invocation(function_name="f", payload=b"{}", invoked_arn="arn")
    inv.stream = sink
    relay = ResponseRelay(body, inv, "text/plain", limits, ended.append)  # type: ignore[arg-type]
    return body, sink, ended, relay


def test_past_its_burst_a_stream_is_held_to_the_bandwidth_limit() -> None:
    import asyncio

    from emulator.engine.streaming import StreamLimits

    async def run() -> None:
        body, sink, ended, _ = _relay(StreamLimits(rate_bps=10_000, burst_bytes=100))
        body.feed(b"a" * 100)  # within the burst: passed on at once
        assert sink.chunks == [b"a" * 100]
        body.feed(b"b" * 100)  # over it: held, and the runtime's connection paused
        body.feed(b"c" * 50)
        body.end()
        assert sink.chunks == [b"a" * 100] and body.paused and ended == []
        while not ended:
            await asyncio.sleep(0.005)
        assert sink.chunks == [b"a" * 100, b"b" * 100, b"c" * 50]  # in order, then the end
        assert not body.paused
        assert ended[0].size == 250 and ended[0].ended == "complete"

    asyncio.run(run())


def test_a_stream_over_the_size_limit_is_cut() -> None:
    import asyncio

    from emulator.engine.streaming import StreamLimits

    async def run() -> None:
        body, sink, ended, _ = _relay(StreamLimits(max_bytes=150, rate_bps=0))
        body.feed(b"a" * 100)
        body.feed(b"b" * 100)
        assert sink.chunks == [b"a" * 100]
        assert body.detached
        (end,) = ended
        assert (end.ended, end.error_type, end.size) == (
            "oversized",
            "Function.ResponseSizeTooLarge",
            100,
        )

    asyncio.run(run())


def test_a_client_leaving_mid_stream_does_not_stop_the_invocation(
    served: EmbeddedEmulator, client: Any, probes: Path
) -> None:
    go = Go(probes)
    instructions = {"parts": ["one", "two"], "go": go.token}
    with (
        httpx.Client(timeout=60) as http,
        http.stream("POST", _url(served, "streamer_url"), json=instructions) as resp,
    ):
        request_id = resp.headers["x-amzn-requestid"]
        body = resp.iter_raw()
        _read_until(body, bytearray(), b"one")
    # the client is gone; the function goes on to its end, as on Lambda
    go.next()
    log = served.cfg.state_dir / "logs" / "streamer_url.log"
    eventually(lambda: f"streamer: {request_id} answered 202" in log.read_text(), "the end")
    _, events = _stream(client, "streamer_url", {"parts": ["next"]})
    assert list(events) == [{"PayloadChunk": {"Payload": b"next"}}, {"InvokeComplete": {}}]


# --- the Runtime API's streaming mode, driven by the test as the runtime (real sockets) -------
def _runtime_api(body: Any) -> None:
    """Run `body(api, address, dispatch)`: a RuntimeApi whose runtime is the test."""
    import asyncio

    from emulator.api.runtime import RuntimeApi
    from emulator.engine.invocation import Invocation
    from emulator.engine.streaming import StreamLimits

    async def main() -> None:
        api = RuntimeApi(
            on_init_done=lambda _at: None,
            on_init_error=lambda _failed: None,
            on_ready=lambda: None,
            stream_limits=StreamLimits(rate_bps=0),
        )
        await api.start()

        async def dispatch() -> tuple[Any, Any, _Sink]:
            reader, writer = await asyncio.open_connection(*api.address.split(":"))
            writer.write(f"GET {_RT}/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            await writer.drain()
            while api.state != "Ready":
                await asyncio.sleep(0.005)
            inv = Invocation(function_name="f", payload=b"{}", invoked_arn="arn")
            sink = _Sink()
            inv.stream = sink
            outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            api.dispatch(inv, outcome.set_result)
            await reader.readuntil(b"\r\n\r\n")
            writer.close()
            return inv, outcome, sink

        try:
            await body(api, api.address, dispatch)
        finally:
            await api.close()

    asyncio.run(main())


_RT = "/2018-06-01/runtime"


async def _post(address: str, path: str, head: str, body: bytes = b"") -> tuple[Any, Any]:
    import asyncio

    reader, writer = await asyncio.open_connection(*address.split(":"))
    writer.write(f"POST {_RT}{path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body)
    await writer.drain()
    return reader, writer


_STREAMING = "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n"


async def _answer(reader: Any) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return bytes(head.split(b" ")[1]) + b" " + await reader.readexactly(length)


def test_while_a_stream_is_open_the_runtime_may_not_answer_again() -> None:
    async def body(api: Any, address: str, dispatch: Any) -> None:
        inv, outcome, sink = await dispatch()
        path = f"/invocation/{inv.request_id}"
        reader, writer = await _post(address, f"{path}/response", _STREAMING, b"5\r\nhello\r\n")
        while sink.chunks != [b"hello"]:  # passed on before the body ended
            await _tick()
        assert api.state == "RuntimeInvocationResponseState"
        # RIE core/states.go: nothing but the end of the response from this state
        r2, w2 = await _post(address, f"{path}/error", "Content-Length: 2\r\n", b"{}")
        assert (await _answer(r2)).startswith(b"403 ")
        w2.close()
        writer.write(b"0\r\n\r\n")
        assert await _answer(reader) == b'202 {"status":"OK"}'
        end = await outcome
        assert (end.size, end.ended, end.error_type) == (5, "complete", None)
        writer.close()

    _runtime_api(body)


def test_trailers_split_across_packets_end_the_stream_in_error() -> None:
    async def body(api: Any, address: str, dispatch: Any) -> None:
        inv, outcome, sink = await dispatch()
        path = f"/invocation/{inv.request_id}/response"
        reader, writer = await _post(address, path, _STREAMING, b"2\r\nok\r\n0\r\nLambda-Runtime")
        await _tick()
        encoded = base64.b64encode(b'{"errorType":"E"}')
        writer.write(
            b"-Function-Error-Type: E\r\nLambda-Runtime-Function-Error-Body: "
            + encoded
            + b"\r\n\r\n"
        )
        assert await _answer(reader) == b'202 {"status":"OK"}'
        end = await outcome
        assert (end.error_type, end.error_body, sink.chunks) == ("E", b'{"errorType":"E"}', [b"ok"])
        writer.close()

    _runtime_api(body)


def test_a_runtime_connection_lost_mid_stream_is_a_truncated_response() -> None:
    async def body(api: Any, address: str, dispatch: Any) -> None:
        inv, outcome, sink = await dispatch()
        path = f"/invocation/{inv.request_id}/response"
        _, writer = await _post(address, path, _STREAMING, b"3\r\nabc\r\n")
        while sink.chunks != [b"abc"]:
            await _tick()
        writer.close()
        end = await outcome
        assert (end.ended, end.error_type, end.size) == (
            "truncated",
            "Runtime.TruncatedResponse",
            3,
        )

    _runtime_api(body)


def test_a_response_mode_other_than_streaming_is_refused() -> None:
    async def body(api: Any, address: str, dispatch: Any) -> None:
        inv, _, _ = await dispatch()
        head = "Lambda-Runtime-Function-Response-Mode: Streaming\r\nContent-Length: 2\r\n"
        reader, writer = await _post(address, f"/invocation/{inv.request_id}/response", head, b"{}")
        answer = await _answer(reader)
        assert answer.startswith(b"400 ") and b"InvalidFunctionResponseMode" in answer
        writer.close()

    _runtime_api(body)


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.005)
