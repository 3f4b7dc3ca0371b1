"""The streaming samples and the load harness's streaming side (issue 16).

- functions/stream_node (awslambda.streamifyResponse) and functions/stream_rust (a std-only
  custom runtime) through boto3's invoke_with_response_stream: the chunks come in order, and
  the first arrives before the function wrote the last (each chunk carries the epoch ms of its
  write; the comparison is of two instants on this machine's clock, not a time limit);
- a headless `lambda-emu load --stream` run (real Locust, a child emulator) that prints the
  time-to-first-byte percentiles and writes them to summary.json;
- the pure parts: the event-stream decoder, the stats and the summary rows.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.config import EmulatorConfig
from emulator.embedded import EmbeddedEmulator
from emulator.manifests import load_http, load_manifest
from emulator.pytest_plugin import boto3_client
from loadtests.run import free_port
from loadtests.stats import LambdaStats
from loadtests.streaming import (
    EventStreamDecoder,
    EventStreamError,
    StreamConnection,
    encode_message,
    invoke_stream,
)
from loadtests.summary import build_summary, render_text, rows

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "functions" / "lambda-emu.toml"
HAVE_NODE = shutil.which("node") is not None
HAVE_RUST = (REPO / "functions" / "stream_rust" / "dist" / "bootstrap").exists()


def _samples(*names: str) -> list[Any]:
    out = []
    for name in names:
        if name.startswith("stream_node"):
            out.append(
                pytest.param(name, marks=pytest.mark.skipif(not HAVE_NODE, reason="no node"))
            )
        else:
            out.append(
                pytest.param(
                    name,
                    marks=pytest.mark.skipif(not HAVE_RUST, reason="scripts/build-functions"),
                )
            )
    return out


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    functions = load_manifest(SAMPLES)  # all of them: the sample API names others
    cfg = EmulatorConfig(
        functions=functions,
        http=load_http(SAMPLES, functions),
        port=0,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("stream-samples"),
        log_to_terminal=False,
    )
    with EmbeddedEmulator(cfg) as emulator:
        yield emulator
    assert emulator.internal_errors == []


@pytest.fixture(scope="module")
def client(samples: EmbeddedEmulator) -> Iterator[Any]:
    with boto3_client(samples) as c:
        yield c


def _headers(stream: bytes) -> list[dict[str, int]]:
    """The sample's chunk headers, in the order they are in the stream."""
    return [json.loads(line) for line in stream.split(b"\n") if line.startswith(b'{"seq"')]


# --- the samples through boto3 ---------------------------------------------------------------
@pytest.mark.parametrize("name", _samples("stream_node", "stream_rust"))
def test_a_sample_streams_its_chunks_in_order_the_first_before_the_last_is_written(
    client: Any, name: str
) -> None:
    chunks = 6
    event = {"chunks": chunks, "chunk_bytes": 2048, "delay_ms": 150}
    resp = client.invoke_with_response_stream(FunctionName=name, Payload=json.dumps(event))
    assert resp["StatusCode"] == 200
    arrivals: list[tuple[float, bytes]] = []  # (epoch s when it came, the payload)
    complete = None
    for ev in resp["EventStream"]:
        if "PayloadChunk" in ev:
            arrivals.append((time.time(), ev["PayloadChunk"]["Payload"]))
        else:
            complete = ev["InvokeComplete"]
    assert complete == {}
    stream = b"".join(p for _, p in arrivals)
    assert len(stream) == chunks * 2048
    headers = _headers(stream)
    assert [h["seq"] for h in headers] == list(range(chunks))
    assert {h["of"] for h in headers} == {chunks}
    # several PayloadChunks, the first received before the function wrote its last chunk: the
    # response was not held until the end
    assert len(arrivals) > 1
    first_arrival_ms = arrivals[0][0] * 1000
    assert first_arrival_ms < headers[-1]["t_ms"]
    # and the writes were made one after another, as the function waited between them
    written = [h["t_ms"] for h in headers]
    assert written == sorted(written)


@pytest.mark.parametrize("name", _samples("stream_node", "stream_rust"))
def test_a_sample_that_fails_mid_stream_ends_in_an_invoke_complete_error(
    client: Any, name: str
) -> None:
    event = {"chunks": 4, "chunk_bytes": 100, "delay_ms": 0, "fail_at": 2}
    resp = client.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps(event), LogType="Tail"
    )
    events = list(resp["EventStream"])
    stream = b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e)
    assert [h["seq"] for h in _headers(stream)] == [0, 1]
    complete = events[-1]["InvokeComplete"]
    # the runtime's trailers: the error type, and its JSON body
    assert complete["ErrorCode"] == "StreamFailed"
    details = json.loads(complete["ErrorDetails"])
    assert details["errorType"] == "StreamFailed"
    assert "failed after 2 chunks" in details["errorMessage"]
    assert complete["LogResult"]


@pytest.mark.parametrize("name", _samples("stream_node", "stream_rust"))
def test_a_sample_streams_through_its_function_url_with_the_preludes_status_and_headers(
    samples: EmbeddedEmulator, name: str
) -> None:
    # functions/lambda-emu.toml gives both a RESPONSE_STREAM URL; the JSON body names the keys
    event = json.dumps({"chunks": 5, "chunk_bytes": 1500, "delay_ms": 150})
    arrivals: list[tuple[float, bytes]] = []
    headers = {"Content-Type": "application/json"}  # a text body: the event holds it as is
    url = f"{samples.url}/lambda-url/{name}/"
    with httpx.stream("POST", url, content=event, headers=headers, timeout=60) as resp:
        for piece in resp.iter_raw():
            arrivals.append((time.time(), piece))
    assert resp.status_code == 200
    # the metadata prelude became the status and headers; its bytes are not in the body
    assert resp.headers["content-type"] == "text/plain"
    assert resp.headers["transfer-encoding"] == "chunked"
    if name == "stream_node":
        assert resp.headers["x-chunks"] == "5"
    body = b"".join(p for _, p in arrivals)
    assert body.startswith(b'{"seq":0,') and len(body) == 5 * 1500
    headers = _headers(body)
    assert [h["seq"] for h in headers] == list(range(5))
    assert len(arrivals) > 1 and arrivals[0][0] * 1000 < headers[-1]["t_ms"]


@pytest.mark.skipif(not HAVE_NODE, reason="no node")
def test_the_buffered_sample_sends_everything_after_the_last_write(client: Any) -> None:
    event = {"chunks": 4, "chunk_bytes": 256, "delay_ms": 50}
    resp = client.invoke_with_response_stream(
        FunctionName="stream_node_buffered", Payload=json.dumps(event)
    )
    arrivals = []
    for ev in resp["EventStream"]:
        if "PayloadChunk" in ev:
            arrivals.append((time.time(), ev["PayloadChunk"]["Payload"]))
    body = json.loads(b"".join(p for _, p in arrivals))  # the handler's string, as JSON
    headers = _headers(body.encode("latin-1"))
    assert [h["seq"] for h in headers] == [0, 1, 2, 3]
    # nothing came before the last write: the whole result at once
    assert arrivals[0][0] * 1000 >= headers[-1]["t_ms"]


@pytest.mark.parametrize("name", _samples("stream_node", "stream_rust"))
def test_the_load_clients_stream_reader_times_a_sample(
    samples: EmbeddedEmulator, name: str
) -> None:
    conn = StreamConnection(samples.url)
    try:
        event = json.dumps({"chunks": 5, "chunk_bytes": 1000, "delay_ms": 100}).encode()
        result = invoke_stream(conn, name, event, keep=True)
        again = invoke_stream(conn, name, event)  # the same kept-alive connection
    finally:
        conn.close()
    assert result.status == 200 and result.error_code is None
    assert result.complete is not None and set(result.complete) == {"LogResult"}
    assert result.payload_bytes == 5000 == again.payload_bytes
    assert result.ttfb_ms is not None and result.ttfb_ms < result.ttlb_ms
    # the first piece was read before the function wrote its last chunk
    headers = _headers(result.payload)
    first_piece_at, _ = result.pieces[0]
    assert len(result.pieces) > 1 and first_piece_at < result.ttlb_ms
    assert [h["seq"] for h in headers] == list(range(5))
    answer = result.answer()
    assert answer.report is not None and answer.outcome.value in ("cold", "warm")
    # (the second call may start a second environment: the first is busy until its runtime
    # asks for the next event, which it does after the response has gone)
    assert again.answer().outcome.value in ("cold", "warm")


# --- a headless load run ---------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(not HAVE_RUST, reason="scripts/build-functions")
def test_a_headless_streaming_load_run_prints_ttfb_percentiles(tmp_path: Path) -> None:
    out = tmp_path / "load"
    payload = json.dumps({"chunks": 4, "chunk_bytes": 4096, "delay_ms": 30})
    cmd = [
        sys.executable, "-m", "emulator.cli", "load", "stream_rust",
        "--manifest", str(SAMPLES),
        "--stream", "--stream-via", "both",
        "--users", "2", "--spawn-rate", "2", "--run-time", "4s",
        "--payload", payload,
        "--sandbox", "process",
        "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(proc.stdout[-2500:])  # the run's tables and summary, for whoever runs this test
    text = proc.stdout
    for label in ("InvokeWithResponseStream", "function URL"):
        for p in ("p50", "p95", "p99"):
            assert f"{label}: TTFB {p}" in text
            assert f"{label}: TTLB {p}" in text
    summary = json.loads((out / "summary.json").read_text())
    streams = summary["streaming"]
    assert set(streams) == {"invoke_stream", "function_url"}
    # the users take the two in turn; every call streamed its whole response
    assert sum(s["responses"] for s in streams.values()) == summary["invocations"]
    for stream in streams.values():
        assert stream["responses"] > 0
        assert stream["payload_bytes"]["mean"] == 4 * 4096
        ttfb, ttlb = stream["ttfb_ms"], stream["ttlb_ms"]
        assert ttfb["count"] == ttlb["count"] == stream["responses"]
        # the first byte came before the last, at every percentile
        for p in ("p50", "p95", "p99"):
            assert 0 < ttfb[p] < ttlb[p]
    # the REPORT came back in InvokeComplete: the run knows the Invoke API calls' cold starts;
    # a URL returns none, so each URL call was joined with the emulator's trace record of it
    assert summary["cold_starts"] >= 1 and summary["errors"] == 0
    invoke = streams["invoke_stream"]
    split = invoke["ttfb_cold_ms"]["count"] + invoke["ttfb_warm_ms"]["count"]
    assert split == invoke["responses"]  # every InvokeWithResponseStream call said cold or warm
    url = summary["routes"]["POST /lambda-url/stream_rust/"]
    assert url["requests"] == url["correlated"] == streams["function_url"]["responses"]
    assert summary["outcomes"]["invoked"] == 0
    # Locust's own table: the calls (time to last byte) and a TTFB row per target
    stats = (out / "locust_stats.csv").read_text()
    assert "IWRS,stream_rust [warm]" in stats
    assert "URL,stream_rust [invoked]" in stats
    assert "TTFB,stream_rust [IWRS]" in stats
    assert "TTFB,stream_rust [URL]" in stats
    assert "Lambda,POST /lambda-url/stream_rust/ [" in stats  # the URL calls, cold or warm


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_RUST, reason="scripts/build-functions")
def test_the_lambda_tab_shows_ttfb_and_ttlb_live(tmp_path: Path) -> None:
    port = free_port()
    payload = json.dumps({"chunks": 3, "chunk_bytes": 1024, "delay_ms": 20})
    cmd = [
        sys.executable, "-m", "emulator.cli", "load", "stream_rust",
        "--manifest", str(SAMPLES), "--stream", "--payload", payload,
        "--users", "2", "--spawn-rate", "2", "--run-time", "20s", "--sandbox", "process",
        "--web", "--web-port", str(port), "--autostart", "--autoquit", "1",
        "--out", str(tmp_path / "web"),
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    metrics: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                # what Locust's UI polls; its `extended_stats` feed the Lambda tab
                polled = httpx.get(f"{base}/stats/requests", timeout=10).json()
                (tab,) = polled["extended_stats"]
                metrics = {row["metric"]: row["value"] for row in tab["data"]}
            except (httpx.HTTPError, ValueError, KeyError):
                metrics = {}
            if all(
                metrics.get(f"{label}: streamed responses", "0") != "0"
                for label in ("InvokeWithResponseStream", "function URL")
            ):
                break
            time.sleep(0.5)
        for label in ("InvokeWithResponseStream", "function URL"):
            assert metrics.get(f"{label}: streamed responses", "0") != "0", metrics
            for p in ("p50", "p95", "p99"):
                assert metrics[f"{label}: TTFB {p}"].endswith(" ms")
                assert metrics[f"{label}: TTLB {p}"].endswith(" ms")
        live = httpx.get(f"{base}/lambda/stats", timeout=10).json()
        assert set(live["streaming"]) == {"invoke_stream", "function_url"}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hello_python", "--stream"], "hello_python has no function URL in lambda-emu.toml"),
        (["stream_node", "--stream", "--stream-via", "all"], "--stream-via: must be invoke"),
        (["stream_node", "--stream-url", "/x"], "--stream-url needs --stream"),
        (["--stream", "--http", "GET /hello"], "one or the other"),
    ],
)
def test_load_stream_rejects_what_cannot_stream_before_starting_anything(
    args: list[str], message: str
) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    result = CliRunner().invoke(app, ["load", *args, "--manifest", str(SAMPLES)])
    assert result.exit_code == 2
    assert message in result.output


# --- pure units ------------------------------------------------------------------------------
PAYLOAD_CHUNK = {
    ":event-type": "PayloadChunk",
    ":content-type": "application/octet-stream",
    ":message-type": "event",
}


def test_the_decoder_reads_lambdas_messages_split_anywhere() -> None:
    # streaming-spec §2.4's test vectors (checked with botocore's EventStreamBuffer)
    chunk = bytes.fromhex(
        "000000700000005a174e874c0b3a6576656e742d7479706507000c5061796c6f61644368756e6b0d3a63"
        "6f6e74656e742d747970650700186170706c69636174696f6e2f6f637465742d73747265616d0d3a6d65"
        "73736167652d747970650700056576656e7448656c6c6f2c636b5219"
    )
    complete = bytes.fromhex(
        "00000066000000541f56c8690b3a6576656e742d7479706507000e496e766f6b65436f6d706c657465"
        "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d657373616765"
        "2d747970650700056576656e747b7d7006d467"
    )
    assert encode_message(PAYLOAD_CHUNK, b"Hello,") == chunk
    data = chunk + complete
    for step in (1, 7, 113, len(data)):
        decoder = EventStreamDecoder()
        messages = [m for i in range(0, len(data), step) for m in decoder.feed(data[i : i + step])]
        assert [(m.event_type, m.payload) for m in messages] == [
            ("PayloadChunk", b"Hello,"),
            ("InvokeComplete", b"{}"),
        ]
        assert decoder.pending == 0
    broken = bytearray(chunk)
    broken[-5] ^= 1
    with pytest.raises(EventStreamError):
        list(EventStreamDecoder().feed(bytes(broken)))


def test_the_stream_connection_replaces_a_kept_alive_connection_the_server_dropped() -> None:
    # a server that answers one request per connection, then closes it without saying so
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[int] = []

    def serve() -> None:
        for _ in range(2):
            sock, _ = listener.accept()
            connections.append(1)
            with sock, sock.makefile("rb") as reader:
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                reader.read(length)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conn = StreamConnection(f"http://127.0.0.1:{listener.getsockname()[1]}")
    try:
        got: list[bytes] = []
        assert conn.post("/a", b"{}", {}, got.append)[0] == 200
        time.sleep(0.2)  # the server has closed the connection by now (ordering, not a bound)
        assert conn.post("/b", b"{}", {}, got.append)[0] == 200
        assert got == [b"ok", b"ok"]
    finally:
        conn.close()
        thread.join(10)
        listener.close()
    assert len(connections) == 2


def test_stream_stats_merge_and_summarise_per_target() -> None:
    worker_a, worker_b, master = LambdaStats(), LambdaStats(), LambdaStats()
    for i in range(1, 11):
        worker_a.record_stream(
            "invoke_stream", ttfb_ms=i, ttlb_ms=10 * i, payload_bytes=1000, cold=i == 10
        )
    worker_b.record_stream("function_url", ttfb_ms=5, ttlb_ms=50, payload_bytes=2000)
    master.merge(worker_a.take())
    master.merge(json.loads(json.dumps(worker_b.take())))  # as Locust sends it
    assert worker_a.streams == {}
    summary = build_summary(master, function="f", target="t", started_at=0.0, ended_at=1.0)
    invoke = summary["streaming"]["invoke_stream"]
    assert invoke["label"] == "InvokeWithResponseStream"
    assert invoke["responses"] == 10
    assert (invoke["ttfb_ms"]["p50"], invoke["ttfb_ms"]["max"]) == (5.0, 10.0)
    assert (invoke["ttlb_ms"]["p50"], invoke["ttlb_ms"]["p99"]) == (50.0, 100.0)
    assert invoke["payload_bytes"] == {"total": 10_000, "mean": 1000.0}
    assert invoke["mb_per_s"] == round(10_000 / 0.55 / 1e6, 3)
    # the first bytes split by the REPORT's cold start; a URL's (no REPORT) are in neither
    assert (invoke["ttfb_cold_ms"]["count"], invoke["ttfb_cold_ms"]["p50"]) == (1, 10.0)
    assert (invoke["ttfb_warm_ms"]["count"], invoke["ttfb_warm_ms"]["max"]) == (9, 9.0)
    url = summary["streaming"]["function_url"]
    assert url["label"] == "function URL" and url["responses"] == 1
    assert url["ttfb_cold_ms"]["count"] == url["ttfb_warm_ms"]["count"] == 0
    metrics = {r["metric"]: r["value"] for r in rows(summary)}
    assert metrics["InvokeWithResponseStream: TTFB cold p50"] == "10 ms"
    assert metrics["InvokeWithResponseStream: TTFB warm p50"] == "5 ms"
    assert "function URL: TTFB cold p50" not in metrics
    assert metrics["InvokeWithResponseStream: TTFB p95"] == "10 ms"
    assert metrics["function URL: TTLB p50"] == "50 ms"
    assert "function URL: TTFB p99" in render_text(summary)
    empty = build_summary(LambdaStats(), function="f", target="t", started_at=0.0)
    assert empty["streaming"] is None
