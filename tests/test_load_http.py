"""Load runs through the HTTP front door: `ApiUser`, `lambda-emu load --http`, and the per-route
summary that splits cold and warm through the emulator's trace (issue 14, Build 8 and 9).

Locust runs as a real subprocess on 127.0.0.1 (it monkey-patches the stdlib with gevent), against
the emulator's API port, or against a small stdlib HTTP server standing in for a deployed API
(what AWS answers: a status and an `apigw-requestid` header; no trace).
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from loadtests.http import (
    HttpOptionError,
    HttpTarget,
    PathParams,
    api_request_id,
    parse_header,
    path_parameters,
)
from loadtests.report import CHART_TITLES, render_report
from loadtests.routes import RouteSample, RouteStats, TraceTail, report_of, trace_routes
from loadtests.stats import LambdaStats
from loadtests.summary import build_summary, render_text, route_summaries

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "functions" / "lambda-emu.toml"
LAMBDA_EMU = Path(sys.executable).parent / "lambda-emu"
LOCUSTFILE = REPO / "loadtests" / "locustfile_http.py"


# --- the request: route keys, path parameters, headers ----------------------------------------


def test_http_target_takes_a_route_key_or_a_url() -> None:
    t = HttpTarget.parse("GET /items/{id}")
    assert (t.method, t.path, t.base_url, t.route_key) == ("GET", "/items/{id}", None, t.route_key)
    assert t.route_key == "GET /items/{id}"
    u = HttpTarget.parse("POST https://abc.execute-api.eu-west-1.amazonaws.com/prod/items?x=1")
    assert u.base_url == "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert u.path == "/prod/items?x=1" and u.method == "POST"
    assert HttpTarget.parse("https://h/x").method == "GET"
    assert HttpTarget.parse("ANY /{proxy+}").send_method == "GET"
    with pytest.raises(HttpOptionError, match="expected a route key"):
        HttpTarget.parse("items")


def test_path_params_fixed_and_drawn_from_a_file(tmp_path: Path) -> None:
    rng = random.Random(1)
    assert path_parameters("/a/{id}/{proxy+}") == ("id", "proxy")
    fixed = PathParams.parse(["id=4 2", "proxy=a/b c"])
    assert fixed.fill("/items/{id}/{proxy+}", rng) == "/items/4%202/a/b%20c"

    csv_file = tmp_path / "ids.csv"
    csv_file.write_text("id,owner\n1,ann\n2,bob\n\n")
    drawn = PathParams.parse([], csv_file)
    seen = {drawn.fill("/o/{owner}/items/{id}", rng) for _ in range(50)}
    assert seen == {"/o/ann/items/1", "/o/bob/items/2"}  # rows stay together

    json_file = tmp_path / "ids.json"
    json_file.write_text('[{"id": 7}, {"id": "8"}]')
    mixed = PathParams.parse(["owner=zed"], json_file)
    assert {mixed.fill("/o/{owner}/{id}", rng) for _ in range(50)} == {"/o/zed/7", "/o/zed/8"}

    with pytest.raises(HttpOptionError, match=r"no value for \{id\}"):
        PathParams.parse(["other=1"]).check("/items/{id}")
    with pytest.raises(HttpOptionError, match="expected NAME=VALUE"):
        PathParams.parse(["id"])
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(HttpOptionError, match="not valid JSON"):
        PathParams.parse([], bad)


def test_headers_in_curl_form_and_the_api_request_id() -> None:
    assert parse_header("Authorization: allow") == ("Authorization", "allow")
    assert parse_header("X-A:b: c") == ("X-A", "b: c")
    with pytest.raises(HttpOptionError, match="expected 'Name: value'"):
        parse_header("Authorization allow")
    assert api_request_id({"apigw-requestid": "a"}) == "a"  # HTTP APIs
    assert api_request_id({"x-amzn-requestid": "b"}) == "b"  # REST APIs, function URLs
    assert api_request_id({}) is None


# --- the trace's side: a fixture of what the emulator writes ----------------------------------


def _http(api_id: str, ids: list[str], auth: dict[str, Any] | None, **kw: Any) -> dict[str, Any]:
    return {
        "v": 1, "kind": "http", "api": "sample", "api_id": "abc", "service": "http",
        "route": "GET /items/{id}", "method": "GET", "path": "/items/1", "status": 200,
        "api_request_id": api_id, "request_ids": ids, "function": "items", "authorizer": auth,
        "accepted_at": 1.0, "end": 1.1, "latency_ms": 5.0, "authorizer_ms": kw.get("auth_ms"),
    }  # fmt: skip


def _inv(request_id: str, function: str, cold: bool) -> dict[str, Any]:
    return {
        "v": 1, "request_id": request_id, "function": function, "environment_id": "e",
        "memory_mb": 128, "cold": cold, "init_ms": 100.0 if cold else None, "duration_ms": 1.5,
        "billed_ms": 102 if cold else 2, "max_memory_mb": 30, "accepted_at": 1.0, "end": 1.1,
        "outcome": "success", "error_type": None,
    }  # fmt: skip


TRACE = [
    # 1: cold integration, the authorizer invoked (cold too)
    _inv("auth-1", "http_authorizer", True),
    _inv("fn-1", "items", True),
    _http("api-1", ["auth-1", "fn-1"],
          {"function": "http_authorizer", "request_id": "auth-1", "cached": False}, auth_ms=40.0),
    # 2: warm integration, the authorizer's answer from its cache
    _inv("fn-2", "items", False),
    _http("api-2", ["fn-2"], {"function": "http_authorizer", "request_id": None, "cached": True},
          auth_ms=0.0),
    # 3: denied by the authorizer (warm): no integration
    _inv("auth-3", "http_authorizer", False),
    {**_http("api-3", ["auth-3"],
             {"function": "http_authorizer", "request_id": "auth-3", "cached": False},
             auth_ms=2.0), "status": 403},
    # an Invoke API call nobody asked the front door for
    _inv("other", "hello_python", False),
]  # fmt: skip


def test_route_stats_split_cold_and_warm_with_the_authorizers_share() -> None:
    stats = RouteStats()
    route = "GET /items/{id}"
    stats.record(RouteSample(route, "api-1", 200.0, 200))  # before its trace records
    joined = stats.ingest(TRACE[:4])
    assert [j.sample.api_request_id for j in joined] == ["api-1"]
    joined = stats.ingest(TRACE[4:])
    assert joined == []  # the trace before the client's samples: they wait for each other
    stats.record(RouteSample(route, "api-2", 10.0, 200))
    stats.record(RouteSample(route, "api-3", 4.0, 403))
    stats.record(RouteSample(route, None, 1.0, 0))  # no answer: counted, never correlated
    assert len(stats.join()) == 2 and stats.pending == 0

    row = stats.summary()[route]
    assert row["requests"] == 4 and row["correlated"] == 3
    assert (row["cold_starts"], row["warm"]) == (1, 1)  # the denied request reached no function
    assert row["statuses"] == {"0": 1, "200": 2, "403": 1}
    assert row["function"] == "items"
    assert row["authorizer"] == {
        "function": "http_authorizer", "invoked": 2, "cached": 1, "cold_starts": 1
    }  # fmt: skip
    assert row["authorizer_ms_p50"] == 2.0 and row["authorizer_ms_p99"] == 40.0
    assert row["cold_ms"]["p50"] == 200.0 and row["warm_ms"]["p50"] == 10.0
    assert row["authorizer_share"] == round(42.0 / 210.0, 4)
    assert row["p50_ms"] is not None and row["p90_ms"] is not None

    # the summary carries it, and the text block shows it per route
    summary = build_summary(
        LambdaStats(), function="", target="t", started_at=0, routes=stats.summary()
    )
    text = render_text(summary)
    assert "GET /items/{id}" in text and "1 cold / 1 warm" in text and "1 cached" in text


def test_each_route_has_its_own_lambda_stats_and_seven_charts() -> None:
    stats = RouteStats()
    route = "GET /items/{id}"
    for api_id, ms, status in (("api-1", 200.0, 200), ("api-2", 10.0, 200), ("api-3", 4.0, 403)):
        stats.record(RouteSample(route, api_id, ms, status))
    stats.record(RouteSample(route, None, 2.0, 429))  # throttled: no invocation, no trace
    stats.ingest(TRACE)
    own = stats.routes[route].lambda_stats
    # the integration's invocations only (not the authorizer's, nor hello_python's)
    assert (own.cold_starts, own.latency_warm_ms.count, own.memory_mb) == (1, 1, 128)
    assert own.init_ms.percentile(0.5) == 100.0 and own.latency_cold_ms.percentile(0.5) == 200.0
    assert own.outcomes["throttle"] == 1 and own.billed_ms.count == 2

    routes = route_summaries(stats, started_at=0.0, ended_at=2.0)
    summary = build_summary(LambdaStats(), function="items", target="t", started_at=0.0,
                            ended_at=2.0, routes=routes)  # fmt: skip
    lam = summary["routes"][route]["lambda"]
    assert (lam["cold_starts"], lam["warm"], lam["throttles"]) == (1, 1, 1)
    assert lam["function"] == "items"
    assert lam["cost"]["memory_mb"] == 128 and lam["series"]["init_ms"] == [[100.0, 1]]
    page = render_report([summary])
    section = page[page.index('id="route-GET-items-id"') :]
    assert "Route GET /items/{id} → items" in section
    assert section.count('<svg class="chart"') == 7
    for title in CHART_TITLES:
        assert title in section
    assert "1 cold / 1 warm" in section  # the route's own rows


def test_route_stats_without_a_trace_count_requests_only() -> None:
    stats = RouteStats(correlate=False)  # a deployed API: no trace to read
    stats.record(RouteSample("GET /hello", "x", 3.0, 200))
    row = stats.summary()["GET /hello"]
    assert (row["requests"], row["correlated"], row["cold_starts"], row["warm"]) == (1, 0, 0, 0)
    assert row["authorizer"] is None and stats.pending == 0


def test_trace_tail_reads_complete_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "invocations.jsonl"
    tail = TraceTail(path)
    assert list(tail.read()) == []  # not there yet
    line = json.dumps(TRACE[0])
    path.write_text(line + "\n" + line[:10])
    assert len(list(tail.read())) == 1
    with path.open("a") as fh:
        fh.write(line[10:] + "\n")
    assert [r["request_id"] for r in tail.read()] == ["auth-1"]
    assert report_of(TRACE[1]) is not None and report_of(TRACE[1]).init_ms == 100.0  # type: ignore[union-attr]
    assert list(TraceTail(path, from_end=True).read()) == []  # what was there before the run
    path.write_text("".join(json.dumps(r) + "\n" for r in TRACE))
    assert trace_routes(path)["GET /items/{id}"] == {
        "requests": 3, "cold_starts": 1, "warm": 1, "authorizer_invoked": 2,
        "authorizer_cached": 1,
    }  # fmt: skip


# --- the CLI's options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--http", "items"], "expected a route key ('GET /items/{id}') or a URL"),
        (["--http", "GET /items/{id}"], "no value for {id} (--path-param id=VALUE"),
        (["--http", "GET /x", "--header", "nocolon"], "expected 'Name: value'"),
        (["--http", "GET /x/{id}", "--path-param", "id"], "expected NAME=VALUE"),
        (["--http", "GET /x/{id}", "--path-params-file", "/nonexistent.csv"], "cannot read"),
        (["hello_python", "--header", "A: b"], "need --http"),
        ([], "name a function to load, or an HTTP route with --http"),
    ],
)
def test_load_http_options_fail_in_one_line(args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    result = CliRunner().invoke(app, ["load", *args, "--manifest", str(SAMPLES)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


# --- ApiUser against a stand-in for a deployed API ---------------------------------------------


class _DeployedApi(BaseHTTPRequestHandler):
    """What a client of API Gateway sees: a status, a body and `apigw-requestid`."""

    seen: list[tuple[str, str, str | None]] = []
    counter = 0

    def do_GET(self) -> None:
        type(self).seen.append((self.command, self.path, self.headers.get("Authorization")))
        type(self).counter += 1
        status = 200 if self.headers.get("Authorization") == "allow" else 403
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("apigw-requestid", f"req-{type(self).counter}")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def deployed_api() -> Iterator[str]:
    _DeployedApi.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DeployedApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_api_user_runs_unchanged_against_a_deployed_stage_url(
    deployed_api: str, tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", deployed_api + "/prod",
        "--lambda-http", "GET /items/{id}", "--lambda-path-param", "id=4 2",
        "--lambda-header", "Authorization: allow",
        "--lambda-summary", str(summary_path),
        "--users", "2", "--spawn-rate", "2", "--run-time", "2s",
        "--csv", str(tmp_path / "locust"), "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _DeployedApi.seen
    assert set(_DeployedApi.seen) == {("GET", "/prod/items/4%202", "allow")}
    # Locust's own table: one row per route key
    stats_csv = (tmp_path / "locust_stats.csv").read_text()
    assert "GET,GET /items/{id}," in stats_csv
    routes = json.loads(summary_path.read_text())["routes"]
    row = routes["GET /items/{id}"]
    # Locust may stop a user between the server's answer and the client's read of it.
    assert len(_DeployedApi.seen) - 2 <= row["requests"] <= len(_DeployedApi.seen)
    assert row["statuses"] == {"200": row["requests"]}
    assert row["correlated"] == 0  # no trace: cold/warm unknown, nothing else required


# --- a headless run through the sample API's route, against the emulator ----------------------


@pytest.mark.slow
def test_headless_load_through_a_route_has_cold_and_warm_per_route(tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("id\n1\n2\n3\n")
    out = tmp_path / "run"
    cmd = [
        str(LAMBDA_EMU), "load", "--http", "GET /items/{id}", "--manifest", str(SAMPLES),
        "--path-params-file", str(ids), "--header", "Authorization: allow",
        "--users", "3", "--spawn-rate", "3", "--run-time", "5s", "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())

    route = summary["routes"]["GET /items/{id}"]
    assert route["function"] == "items"
    assert route["statuses"] == {"200": route["requests"]}
    assert route["cold_starts"] >= 1 and route["warm"] >= 1
    # Every request found in the trace, each one cold or warm.
    assert route["correlated"] == route["requests"] == route["cold_starts"] + route["warm"]
    assert route["cold_ms"]["p50"] > route["warm_ms"]["p50"] > 0
    # The authorizer ran cold at first, then its cache answered.
    auth = route["authorizer"]
    assert auth["function"] == "http_authorizer"
    assert auth["cold_starts"] >= 1 and auth["cached"] >= 1
    assert auth["invoked"] + auth["cached"] == route["requests"]
    assert route["authorizer_ms_p99"] is not None and 0 < route["authorizer_share"] < 1
    # The Lambda summary of the integration comes from the trace, and agrees with it.
    assert summary["function"] == "items"
    assert summary["cold_starts"] == route["cold_starts"] == summary["trace"]["cold_starts"]
    assert summary["trace"]["invocations"] == route["requests"]
    assert summary["trace"]["routes"]["GET /items/{id}"]["requests"] == route["requests"]
    assert summary["emulator"]["environments_created"] == route["cold_starts"]
    # Locust's own table: the route, and its cold and warm rows (type Lambda, from the trace)
    with (out / "locust_stats.csv").open() as fh:
        counts = {(r["Type"], r["Name"]): int(r["Request Count"]) for r in csv.DictReader(fh)}
    assert counts[("GET", "GET /items/{id}")] == route["requests"]
    assert counts[("Lambda", "GET /items/{id} [cold]")] == route["cold_starts"]
    assert counts[("Lambda", "GET /items/{id} [warm]")] == route["warm"]
    assert counts[("", "Aggregated")] == route["requests"]  # the split is not counted twice
    assert "GET /items/{id} authorizer http_authorizer" in proc.stdout
    # the route's own Lambda stats, and its charts in the report
    own = route["lambda"]
    assert (own["cold_starts"], own["warm"]) == (route["cold_starts"], route["warm"])
    assert own["init_ms"]["count"] == route["cold_starts"] and own["memory_mb"]
    page = (out / "lambda-report.html").read_text()
    assert page.count('<svg class="chart"') == 14  # the function's 7, the route's 7
    assert 'id="route-GET-items-id"' in page


OWN_LOCUSTFILE = """
from locust import task

from loadtests.api_user import ApiUser
from loadtests.http import PathParams
from loadtests.plugin import install

install()


class Shopper(ApiUser):
    headers = {"Authorization": "allow"}
    path_params = PathParams.parse(["id=7"])

    # both routes on every pass (random weights could miss one in a short run on a loaded host)
    @task
    def browse(self):
        self.client.request("GET /items/{id}")
        self.client.request("GET /hello", headers={"Authorization": "deny"})
"""


def test_api_user_with_tasks_of_its_own_names_each_route(deployed_api: str, tmp_path: Path) -> None:
    locustfile = tmp_path / "shop.py"
    locustfile.write_text(OWN_LOCUSTFILE)
    summary_path = tmp_path / "summary.json"
    cmd = [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", deployed_api,
        "--lambda-summary", str(summary_path), "--users", "2", "--spawn-rate", "2",
        "--run-time", "2s", "--stop-timeout", "5", "--exit-code-on-error", "0",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {path for _, path, _ in _DeployedApi.seen} == {"/items/7", "/hello"}
    routes = json.loads(summary_path.read_text())["routes"]
    assert set(routes) == {"GET /items/{id}", "GET /hello"}
    assert set(routes["GET /hello"]["statuses"]) == {"403"}  # a failure in Locust, counted here
    assert set(routes["GET /items/{id}"]["statuses"]) == {"200"}


@pytest.mark.slow
def test_the_lambda_tab_splits_each_route_cold_and_warm_live(tmp_path: Path) -> None:
    import signal
    import time

    import httpx

    from loadtests.run import free_port

    port = free_port()
    cmd = [
        str(LAMBDA_EMU), "load", "--http", "GET /items/{id}", "--manifest", str(SAMPLES),
        "--path-param", "id=1", "-H", "Authorization: allow", "--out", str(tmp_path / "web"),
        "--web", "--web-port", str(port), "--autostart", "--autoquit", "1",
        "--users", "2", "--spawn-rate", "2", "--run-time", "8s",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    metrics: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                polled = httpx.get(f"http://127.0.0.1:{port}/stats/requests", timeout=5).json()
                (tab,) = polled["extended_stats"]
                metrics = {row["metric"]: row["value"] for row in tab["data"]}
            except (httpx.HTTPError, ValueError, KeyError):
                metrics = {}
            # the trace is read once a second: wait for the split and the authorizer's cache
            if "/ 0 warm" not in metrics.get("GET /items/{id}", "/ 0 warm") and " 0 cached" not in (
                metrics.get("GET /items/{id} authorizer http_authorizer", " 0 cached")
            ):
                break
            time.sleep(0.5)
        row = metrics.get("GET /items/{id}", "")
        assert " cold / " in row and "/ 0 warm" not in row, metrics
        auth = metrics["GET /items/{id} authorizer http_authorizer"]
        assert "cold)" in auth and "cached" in auth and "of the latency" in auth
        assert "GET /items/{id} cold p50 / warm p50" in metrics
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, output
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=60)


def test_load_http_takes_a_url_or_a_route_below_a_deployed_stage(
    deployed_api: str, tmp_path: Path
) -> None:
    runs = {
        "url": ["--http", f"GET {deployed_api}/prod/items/{{id}}", "--path-param", "id=1"],
        "target": ["--http", "GET /items/{id}", "--target", deployed_api + "/prod",
                   "--path-params-file", str(tmp_path / "ids.json")],
    }  # fmt: skip
    (tmp_path / "ids.json").write_text('[{"id": "2"}]')
    for name, args in runs.items():
        out = tmp_path / name
        cmd = [str(LAMBDA_EMU), "load", *args, "-H", "Authorization: allow", "-u", "1",
               "-r", "1", "-t", "2s", "--stop-timeout", "5", "--out", str(out)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        summary = json.loads((out / "summary.json").read_text())
        assert "trace" not in summary  # no emulator was started: nothing but the API was sent to
        (route,) = summary["routes"].values()
        assert route["requests"] > 0 and route["statuses"] == {"200": route["requests"]}
        assert route["correlated"] == 0
    assert {path for _, path, _ in _DeployedApi.seen} == {"/prod/items/1", "/prod/items/2"}


@pytest.mark.slow
def test_load_http_through_a_function_url(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        "[functions.hello]\nruntime = 'python3.11'\nhandler = 'app.handler'\n"
        f"code = '{REPO / 'functions' / 'hello_python'}'\n"
        "[functions.hello.url]\nauth_type = 'NONE'\n"
    )
    out = tmp_path / "run"
    cmd = [str(LAMBDA_EMU), "load", "--http", "GET /lambda-url/hello/x", "-m", str(manifest),
           "-u", "2", "-r", "2", "-t", "3s", "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    route = summary["routes"]["GET /lambda-url/hello/x"]
    assert route["function"] == "hello" and route["authorizer"] is None
    assert route["correlated"] == route["requests"] == route["cold_starts"] + route["warm"]
    assert route["cold_starts"] >= 1 and route["warm"] >= 1

    result = subprocess.run(
        [str(LAMBDA_EMU), "load", "--http", "GET /lambda-url/nope/", "-m", str(manifest)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "lambda-emu: --http: nope has no function URL in lambda-emu.toml (URLs: hello)"
    )
