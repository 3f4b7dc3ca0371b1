"""The HTTP front door through real clients (httpx and curl) against a running emulator that
serves real Python functions: API Gateway routes on the api listener, function URLs on the
Invoke API's, authorizers, CORS, SigV4, error answers, and the trace records they leave."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from waiting import eventually

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmbeddedEmulator
from emulator.frontdoor import responses
from emulator.frontdoor.model import (
    Authorizer,
    Cors,
    FunctionUrl,
    HttpApi,
    HttpConfig,
    HttpRoute,
)
from emulator.manifests import load_http, load_manifest
from emulator.metrics.trace import read_records
from emulator.server import Emulator

pytest_plugins = ["pytester"]

CODE = Path(__file__).parent / "functions" / "http"
ACCESS_KEY, SECRET = "AKIDLOCALTEST", "local-secret"


def _fn(name: str, handler: str, **kw: Any) -> FunctionConfig:
    return FunctionConfig(
        name=name, runtime="python3.11", handler=f"app.{handler}", code_dir=CODE, **kw
    )


FUNCTIONS = (
    _fn("http_echo", "echo"),
    _fn("http_simple", "simple"),
    _fn("http_binary", "binary"),
    _fn("http_boom", "boom"),
    _fn("http_timeout", "slow", timeout_s=1),
    _fn("http_slow", "slow", timeout_s=5),
    _fn("http_reserved", "slow", timeout_s=5, reserved_concurrency=1),
    _fn("http_auth", "authorize"),
    _fn("http_iam", "echo"),
    _fn("http_no_url", "echo"),
)

HTTP_API = HttpApi(
    name="Http",
    kind="http",
    stage_variables=MappingProxyType({"env": "test"}),
    cors=Cors(
        allow_origins=("https://app.example",),
        allow_methods=("GET", "POST"),
        allow_headers=("authorization", "content-type"),
        expose_headers=("x-total",),
        max_age_s=300,
    ),
    authorizers=MappingProxyType(
        {
            "auth": Authorizer(
                name="auth",
                function="http_auth",
                simple_responses=True,
                identity_sources=("$request.header.Authorization",),
                ttl_s=300,
            )
        }
    ),
)
REST_API = HttpApi(
    name="Rest",
    kind="rest",
    stage="Prod",
    cors=Cors(allow_origins=("*",)),
    binary_media_types=("image/png",),
)


def _route(api: str, method: str, path: str, fn: str = "http_echo", **kw: Any) -> HttpRoute:
    return HttpRoute(api=api, method=method, path=path, function=fn, **kw)


ROUTES = (
    _route("Http", "GET", "/items/{id}"),
    _route("Http", "GET", "/items/special", "http_simple"),
    _route("Http", "ANY", "/items/{proxy+}"),
    _route("Http", "POST", "/v1/{thing}", payload_version="1.0"),
    _route("Http", "GET", "/secure", authorizer="auth"),
    _route("Http", "GET", "/simple", "http_simple"),
    _route("Http", "POST", "/binary", "http_binary"),
    _route("Http", "GET", "/boom", "http_boom"),
    _route("Http", "GET", "/timeout", "http_timeout"),
    _route("Http", "GET", "/slow", "http_slow"),
    _route("Http", "GET", "/reserved", "http_reserved"),
    _route("Rest", "GET", "/rest/items/{id}", payload_version="1.0"),
    _route("Rest", "POST", "/rest/items", payload_version="1.0"),
    _route("Rest", "GET", "/rest/boom", "http_boom", payload_version="1.0"),
    _route("Rest", "GET", "/rest/binary", "http_binary", payload_version="1.0"),
)
URLS = (
    FunctionUrl("http_echo", cors=Cors(allow_origins=("*",), allow_methods=("*",))),
    FunctionUrl("http_iam", auth_type="AWS_IAM"),
    FunctionUrl("http_simple"),
    FunctionUrl("http_boom"),
)
HTTP = HttpConfig(apis=(HTTP_API, REST_API), routes=ROUTES, urls=URLS)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEmulator]:
    cfg = EmulatorConfig(
        functions=FUNCTIONS,
        port=0,
        api_port=0,
        state_dir=tmp_path_factory.mktemp("frontdoor"),
        log_to_terminal=False,
        http=HTTP,
        credentials=MappingProxyType({ACCESS_KEY: SECRET}),
    )
    running = EmbeddedEmulator(cfg).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(served: EmbeddedEmulator) -> Iterator[httpx.Client]:
    assert served.api_url is not None
    with httpx.Client(base_url=served.api_url, timeout=60) as client:
        yield client


@pytest.fixture
def urls(served: EmbeddedEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url + "/lambda-url", timeout=60) as client:
        yield client


def _echoed(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def _records(served: EmbeddedEmulator) -> list[dict[str, Any]]:
    async def flush(emu: Emulator) -> None:
        emu.trace.flush()

    served.call(flush)
    path = served.cfg.state_dir / "traces" / "invocations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _http_record(served: EmbeddedEmulator, api_request_id: str) -> dict[str, Any]:
    for record in _records(served):
        if record.get("kind") == "http" and record["api_request_id"] == api_request_id:
            return record
    raise AssertionError(f"no http record for {api_request_id}")


def _curl(*args: str) -> tuple[int, dict[str, list[str]], bytes]:
    """status, headers (lower-case names, every value), body of one curl call."""
    out = subprocess.run(
        ["curl", "-sS", "--http1.1", "-D", "-", "--max-time", "60", *args],
        check=True,
        capture_output=True,
    ).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), headers, body


# --- routing ------------------------------------------------------------------------------


def test_routes_match_with_api_gateways_precedence(api: httpx.Client) -> None:
    event = _echoed(api.get("/items/42"))["event"]
    assert event["routeKey"] == "GET /items/{id}"
    assert event["pathParameters"] == {"id": "42"}
    # a literal segment beats {id}
    assert api.get("/items/special").json()["hello"] == "world"
    # {proxy+} takes the rest; ANY serves methods no route of the path declares
    event = _echoed(api.delete("/items/a/b%20c"))["event"]
    assert event["routeKey"] == "ANY /items/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b c"}
    assert event["rawPath"] == "/items/a/b%20c"
    # GET /items/{id} is exact for GET; ANY /items/{proxy+} still serves DELETE /items/42
    assert _echoed(api.delete("/items/42"))["event"]["routeKey"] == "ANY /items/{proxy+}"


def test_unknown_routes_get_each_api_types_answer(
    served: EmbeddedEmulator, api: httpx.Client
) -> None:
    resp = api.get("/nowhere")
    assert resp.status_code == 404 and resp.json() == {"message": "Not Found"}
    request_id = resp.headers["apigw-requestid"]
    record = _http_record(served, request_id)
    assert record["route"] is None and record["function"] is None and record["request_ids"] == []
    assert record["status"] == 404
    # a route that exists with another method only is no route either
    assert api.put("/simple").status_code == 404
    # the REST API first: REST's own answer
    rest_first = replace(HTTP, apis=(REST_API, HTTP_API))
    served.call(lambda emu: emu.update_http(rest_first))
    try:
        resp = api.get("/nowhere")
        assert resp.status_code == 403
        assert resp.json() == {"message": "Missing Authentication Token"}
    finally:
        served.call(lambda emu: emu.update_http(HTTP))


def test_default_route_catches_what_no_route_matches(
    served: EmbeddedEmulator, api: httpx.Client
) -> None:
    with_default = replace(HTTP, routes=(*ROUTES, _route("Http", "ANY", "$default")))
    served.call(lambda emu: emu.update_http(with_default))
    try:
        event = _echoed(api.patch("/not/declared?x=1"))["event"]
        assert event["routeKey"] == "$default"
        assert event["rawPath"] == "/not/declared" and event["rawQueryString"] == "x=1"
        # declared routes still win over $default
        assert _echoed(api.get("/items/7"))["event"]["routeKey"] == "GET /items/{id}"
        # $default takes preflights too (AG http-api-cors.md), with the configured headers
        preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
        resp = api.options("/not/declared", headers=preflight)
        assert _echoed(resp)["event"]["routeKey"] == "$default"
        assert resp.headers.get_list("access-control-allow-origin") == ["https://app.example"]
    finally:
        served.call(lambda emu: emu.update_http(HTTP))


def test_payload_versions_and_rest(api: httpx.Client) -> None:
    event = _echoed(api.post("/v1/thing-1?a=1&a=2", content=b'{"k":"v"}'))["event"]
    assert event["version"] == "1.0" and event["httpMethod"] == "POST"
    assert event["resource"] == "/v1/{thing}" and event["pathParameters"] == {"thing": "thing-1"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    rest = api.get("/rest/items/9", headers={"X-Custom": "yes"})
    event = _echoed(rest)["event"]
    assert event["resource"] == "/rest/items/{id}" and event["httpMethod"] == "GET"
    assert event["requestContext"]["stage"] == "Prod"
    assert event["requestContext"]["requestId"] == rest.headers["x-amzn-RequestId"]
    # REST: no route for the method of a known resource is Missing Authentication Token
    assert api.delete("/rest/items/9").status_code == 403


def test_2_0_event_with_repeated_headers_and_query_strings(api: httpx.Client) -> None:
    status, headers, body = _curl(
        "-H",
        "X-Multi: a",
        "-H",
        "X-Multi: b",
        "-H",
        "Cookie: c1=v1; c2=v2",
        str(api.base_url).rstrip("/") + "/items/5?q=1&q=2&r=%2Fx",
    )
    assert status == 200
    event = json.loads(body)["event"]
    assert event["headers"]["x-multi"] == "a,b"
    assert event["queryStringParameters"] == {"q": "1,2", "r": "/x"}
    assert event["rawQueryString"] == "q=1&q=2&r=%2Fx"
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["stageVariables"] == {"env": "test"}
    assert headers["apigw-requestid"] == [event["requestContext"]["requestId"]]


def test_simplified_and_binary_responses(api: httpx.Client) -> None:
    resp = api.get("/simple")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    assert resp.json()["hello"] == "world"
    # a binary request body reaches the function base64-encoded; a base64 answer is decoded
    payload = bytes(range(256))
    resp = api.post("/binary", content=payload, headers={"content-type": "image/png"})
    assert resp.status_code == 200 and resp.content == bytes(range(256))
    event = _echoed(api.post("/items/1/x", content=payload, headers={"content-type": "image/png"}))[
        "event"
    ]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload
    event = _echoed(
        api.post("/items/1/x", content=b'{"a":1}', headers={"content-type": "application/json"})
    )["event"]
    assert event["isBase64Encoded"] is False and event["body"] == '{"a":1}'


def test_rest_binary_media_types(api: httpx.Client) -> None:
    """REST APIs: only a body whose Content-Type is one of binaryMediaTypes reaches the function
    base64-encoded, and a base64 answer is decoded only when the first Accept type is one
    (LocalStack's AWS-validated test_aws_proxy_binary_response; docs/frontdoor-spec.md)."""
    payload = bytes(range(256))
    event = _echoed(
        api.post("/rest/items", content=payload, headers={"content-type": "image/png"})
    )["event"]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == payload
    event = _echoed(
        api.post("/rest/items", content=b"plain words", headers={"content-type": "text/plain"})
    )["event"]
    assert event["isBase64Encoded"] is False and event["body"] == "plain words"
    decoded = api.get("/rest/binary", headers={"accept": "image/png"})
    assert decoded.status_code == 200 and decoded.content == payload
    verbatim = api.get("/rest/binary", headers={"accept": "application/json"})
    assert verbatim.status_code == 200 and verbatim.text == base64.b64encode(payload).decode()


# --- errors -------------------------------------------------------------------------------


def _same_answer(resp: httpx.Response, expected: Any) -> None:
    assert resp.status_code == expected.status
    assert resp.content == expected.body
    if expected.content_type is not None:
        assert resp.headers["content-type"] == expected.content_type


def test_function_errors_timeouts_and_throttles(
    served: EmbeddedEmulator, api: httpx.Client, urls: httpx.Client
) -> None:
    resp = api.get("/boom")
    assert resp.status_code == 500  # HTTP API: 500 Internal Server Error (notes §0)
    _same_answer(resp, responses.failure("http", "function_error", "x"))
    record = _http_record(served, resp.headers["apigw-requestid"])
    assert record["function"] == "http_boom" and len(record["request_ids"]) == 1
    resp = api.get("/rest/boom")
    assert resp.status_code == 502  # REST: 502 Internal server error
    _same_answer(resp, responses.failure("rest", "function_error", "x"))
    resp = urls.get("/http_boom/")
    assert resp.status_code == 502  # function URL: 502 Internal Server Error
    _same_answer(resp, responses.failure("url", "function_error", "x"))
    resp = api.get("/timeout")  # Lambda's own timeout (1 s)
    _same_answer(resp, responses.failure("http", "timeout", "x"))

    # one environment at most: a second request while the first runs is throttled
    def busy() -> bool:
        functions = httpx.get(f"{served.url}/_emu/functions", timeout=30).json()["functions"]
        return any(f["name"] == "http_reserved" and f["busy"] == 1 for f in functions)

    with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=api.base_url, timeout=60) as other:
        first = pool.submit(other.get, "/reserved", params={"sleep": "3"})
        eventually(busy, "the first request holds the one environment")
        second = api.get("/reserved", params={"sleep": "0"})
        assert first.result().status_code == 200
    _same_answer(second, responses.failure("http", "throttled", "x"))


def test_api_gateways_integration_timeout(
    served: EmbeddedEmulator, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # API Gateway gives up after 30 s (HTTP APIs); 1 s here, the function runs 3 s
    from emulator.frontdoor import server

    monkeypatch.setattr(server, "INTEGRATION_TIMEOUT_S", {"http": 1.0, "rest": 1.0})
    resp = api.get("/slow", params={"sleep": "3"})
    _same_answer(resp, responses.failure("http", "integration_timeout", "x"))
    record = _http_record(served, resp.headers["apigw-requestid"])
    assert record["status"] == resp.status_code and len(record["request_ids"]) == 1


# --- function URLs ------------------------------------------------------------------------


def test_function_urls_raw_path_and_one_request_id(
    served: EmbeddedEmulator, urls: httpx.Client
) -> None:
    resp = urls.get("/http_echo/some/pa%2Fth?x=1")
    data = _echoed(resp)
    event = data["event"]
    assert event["rawPath"] == "/some/pa%2Fth" and event["routeKey"] == "$default"
    assert event["rawQueryString"] == "x=1"
    url_id = event["requestContext"]["apiId"]
    assert len(url_id) == 32 and url_id == url_id.lower()
    assert event["requestContext"]["domainName"] == f"{url_id}.lambda-url.us-east-1.on.aws"
    # one id: the event's, the Lambda context's and the x-amzn-RequestId header
    request_id = resp.headers["x-amzn-RequestId"]
    assert event["requestContext"]["requestId"] == request_id == data["request_id"]
    record = _http_record(served, request_id)
    assert record["service"] == "url" and record["api"] is None
    assert record["request_ids"] == [request_id] and record["route"] == "$default"
    # the root, with and without a trailing slash
    assert _echoed(urls.get("/http_echo"))["event"]["rawPath"] == "/"
    assert _echoed(urls.get("/http_echo/"))["event"]["rawPath"] == "/"
    assert _echoed(urls.post("/http_echo/a/"))["event"]["rawPath"] == "/a/"


def test_a_function_without_url_and_no_function(urls: httpx.Client) -> None:
    for path in ("/http_no_url/", "/nobody/x"):
        resp = urls.get(path)
        _same_answer(resp, responses.failure("url", "no_url", "x"))


def _signed(url: str, method: str, body: bytes, key: str, secret: str) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method=method, url=url, data=body, headers={"content-type": "application/json"}
    )
    SigV4Auth(Credentials(key, secret), "lambda", "us-east-1").add_auth(request)
    return dict(request.headers.items())


def test_aws_iam_urls_verify_sigv4(served: EmbeddedEmulator) -> None:
    url = f"{served.url}/lambda-url/http_iam/a%20b/c?y=a%2Fb&x=1"
    body = b'{"hello":"iam"}'
    with httpx.Client(timeout=60) as client:
        headers = _signed(url, "POST", body, ACCESS_KEY, SECRET)
        resp = client.post(url, content=body, headers=headers)
        event = _echoed(resp)["event"]
        assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == ACCESS_KEY
        # unsigned, a wrong secret, an unknown key, a tampered body: AWS's 403
        forbidden = responses.failure("url", "signature", "x")
        _same_answer(client.post(url, content=body), forbidden)
        bad = _signed(url, "POST", body, ACCESS_KEY, "wrong")
        _same_answer(client.post(url, content=body, headers=bad), forbidden)
        unknown = _signed(url, "POST", body, "AKIDUNKNOWN", SECRET)
        _same_answer(client.post(url, content=body, headers=unknown), forbidden)
        _same_answer(client.post(url, content=b'{"hello":"tampered"}', headers=headers), forbidden)


# --- authorizers, CORS --------------------------------------------------------------------


def test_authorizer_allows_denies_and_caches(served: EmbeddedEmulator, api: httpx.Client) -> None:
    resp = api.get("/secure", headers={"Authorization": "allow"})
    event = _echoed(resp)["event"]
    assert event["requestContext"]["authorizer"] == {"lambda": {"user": "alice"}}
    record = _http_record(served, resp.headers["apigw-requestid"])
    assert record["authorizer"]["function"] == "http_auth"
    assert record["authorizer"]["cached"] is False
    assert len(record["request_ids"]) == 2  # the authorizer's, then the integration's
    assert record["request_ids"][0] == record["authorizer"]["request_id"]
    assert record["authorizer_ms"] is not None
    # the same identity again: the cached answer, no authorizer invocation
    again = api.get("/secure", headers={"Authorization": "allow"})
    record = _http_record(served, again.headers["apigw-requestid"])
    assert record["authorizer"]["cached"] is True and len(record["request_ids"]) == 1
    assert api.get("/secure").status_code == 401  # no identity: the authorizer is not called
    assert api.get("/secure", headers={"Authorization": "nope"}).status_code == 403


def test_cors_preflight_and_response_headers(api: httpx.Client, urls: httpx.Client) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    # HTTP API: answered without a route or the function
    resp = api.options("/anything", headers=preflight)
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "https://app.example"
    assert resp.headers["access-control-allow-methods"] == "GET,POST"
    assert resp.headers["access-control-max-age"] == "300"
    # responses get the configured headers; the function's own CORS headers are dropped
    resp = api.get("/items/1", headers={"Origin": "https://app.example"})
    assert resp.headers.get_list("access-control-allow-origin") == ["https://app.example"]
    assert resp.headers["access-control-expose-headers"] == "x-total"
    assert "access-control-allow-origin" not in api.get("/items/1").headers
    # REST: SAM's MOCK OPTIONS method on declared paths
    resp = api.options("/rest/items")
    assert resp.status_code == 200 and resp.json() == {}
    assert resp.headers["access-control-allow-methods"] == "OPTIONS,POST"
    assert resp.headers["access-control-allow-origin"] == "*"
    # function URL
    resp = urls.options("/http_echo/x", headers=preflight)
    assert resp.status_code == 200 and resp.headers["access-control-allow-origin"] == "*"
    resp = urls.get("/http_echo/x", headers={"Origin": "https://else.example"})
    assert resp.headers.get_list("access-control-allow-origin") == ["*"]


# --- what is served -----------------------------------------------------------------------


def test_health_lists_every_route_and_url(served: EmbeddedEmulator) -> None:
    health = httpx.get(f"{served.url}/_emu/health").json()
    assert health["api_url"] == served.api_url
    entries = {(e["kind"], e["route"], e["function"]): e for e in health["http"]}
    assert len(entries) == len(ROUTES) + len(URLS)
    items = entries[("http", "GET /items/{id}", "http_echo")]
    assert items["url"] == f"{served.api_url}/items/{{id}}" and items["payload"] == "2.0"
    assert entries[("http", "GET /secure", "http_echo")]["authorizer"] == "auth"
    iam = entries[("url", "$default", "http_iam")]
    assert iam["url"] == f"{served.url}/lambda-url/http_iam/" and iam["auth_type"] == "AWS_IAM"


def test_http_records_sit_beside_invocation_records(served: EmbeddedEmulator) -> None:
    path = served.cfg.state_dir / "traces" / "invocations.jsonl"
    with httpx.Client(timeout=60) as client:
        resp = client.get(f"{served.api_url}/items/3")
    record = _http_record(served, resp.headers["apigw-requestid"])
    expected = {
        "v", "kind", "api", "api_id", "service", "route", "method", "path", "status",
        "api_request_id", "request_ids", "function", "authorizer", "accepted_at", "end",
        "latency_ms", "authorizer_ms",
    }  # fmt: skip
    assert expected <= record.keys()
    assert record["api"] == "Http" and record["service"] == "http"
    assert record["route"] == "GET /items/{id}" and record["path"] == "/items/3"
    assert record["accepted_at"] <= record["end"] and record["latency_ms"] >= 0
    # the one trace reader skips them; the invocation they caused is there
    invocations = {r["request_id"] for r in read_records(path)}
    assert record["request_ids"][0] in invocations
    assert all("kind" not in r for r in read_records(path))


def test_no_api_routes_no_api_listener(tmp_path: Path) -> None:
    cfg = EmulatorConfig(
        functions=(FUNCTIONS[0],),
        port=0,
        api_port=0,
        state_dir=tmp_path,
        log_to_terminal=False,
        http=HttpConfig(urls=(FunctionUrl("http_echo"),)),
    )
    with EmbeddedEmulator(cfg) as emu:
        assert emu.api_url is None
        assert emu.emulator is not None and emu.emulator.server.raw_headers
        resp = httpx.get(f"{emu.url}/lambda-url/http_echo/hi", timeout=60)
        assert _echoed(resp)["event"]["rawPath"] == "/hi"


def test_lambda_emu_model_reads_a_trace_with_http_records(
    served: EmbeddedEmulator, api: httpx.Client
) -> None:
    from typer.testing import CliRunner

    from emulator.cli import app

    for _ in range(3):
        assert api.get("/items/1").status_code == 200
    records = _records(served)
    assert any(r.get("kind") == "http" for r in records)
    path = served.cfg.state_dir / "traces" / "invocations.jsonl"
    result = CliRunner().invoke(app, ["model", str(path), "--function", "http_echo"])
    assert result.exit_code == 0, result.output


# --- serving manifests: the SAM fixture through `lambda-emu serve`, hot reload -------------

TEMPLATE = Path(__file__).parent / "data" / "frontdoor" / "template.yaml"
BIN = Path(sys.executable).parent


def _refused(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
    except httpx.ConnectError:
        return True
    return False


def test_serve_prints_every_route_and_url_of_the_sam_template_and_serves_them(
    tmp_path: Path,
) -> None:
    functions = load_manifest(TEMPLATE)
    http = load_http(TEMPLATE, functions)
    expected = len(http.routes) + len(http.urls)
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDFROMENV",
        "AWS_SECRET_ACCESS_KEY": "secret-from-env",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    proc = subprocess.Popen(
        [
            str(BIN / "lambda-emu"),
            "serve",
            "--manifest",
            str(TEMPLATE),
            "--port",
            "0",
            "--api-port",
            "0",
            "--quiet",
            "--no-reload",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    try:
        lines: list[str] = []
        routes: list[str] = []
        while len(routes) < expected:
            line = proc.stderr.readline()
            assert line, "serve ended early:\n" + "".join(lines)
            lines.append(line)
            if " → " in line:
                routes.append(line.strip())
        by_route = {line.split(" → ")[0].split(": ", 1)[1]: line for line in routes}
        hello = next(k for k in by_route if k.endswith("/hello"))
        method, url = hello.split()
        assert method == "GET" and "(HTTP API ServerlessHttpApi, payload 2.0)" in by_route[hello]
        items = next(line for line in routes if "/items/{id}" in line)
        assert "(HTTP API ShopApi, payload 2.0, authorizer SimpleAuth)" in items
        status, _, body = _curl(url)
        assert status == 200 and json.loads(body)["event"]["routeKey"] == "GET /hello"
        api_base = url.removesuffix("/hello")
        # ShopApi's default authorizer (simple answers) and the REST TOKEN authorizer
        status, _, body = _curl("-H", "Authorization: allow", api_base + "/items/1")
        context = json.loads(body)["event"]["requestContext"]["authorizer"]
        assert status == 200 and context == {"lambda": {"user": "tester", "kind": "simple"}}
        assert _curl("-H", "Authorization: deny", api_base + "/items/1")[0] == 403
        assert _curl("-H", "Authorization: allow", api_base + "/orders/1")[0] == 200
        assert _curl(api_base + "/orders/1")[0] == 401
        # the preflight is ShopApi's, not the implicit API's $default
        status, headers, _ = _curl(
            "-X",
            "OPTIONS",
            "-H",
            "Origin: https://shop.example.com",
            "-H",
            "Access-Control-Request-Method: GET",
            api_base + "/items/1",
        )
        assert status == 204
        assert headers["access-control-allow-origin"] == ["https://shop.example.com"]
        assert headers["access-control-allow-credentials"] == ["true"]
        # the AWS_IAM URL takes the credentials of the environment
        url_line = next(line for line in routes if "(function URL, AWS_IAM)" in line)
        base = url_line.split()[2].rstrip("…")
        assert base.endswith("/lambda-url/UrlFunction/")
        signed = _signed(base + "x", "GET", b"", "AKIDFROMENV", "secret-from-env")
        resp = httpx.get(base + "x", headers=signed, timeout=60)
        assert resp.status_code == 200, resp.text
        invoke_base = base.split("/lambda-url/")[0]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
        proc.stderr.close()
    # nothing listens any more
    assert _refused(api_base + "/hello") and _refused(invoke_base + "/_emu/health")


RELOAD_MANIFEST = """[defaults]
runtime = "python3.11"
handler = "app.echo"

[functions.http_echo]
code = "{code}"
{rest}
"""
ONE_ROUTE = """
[apis.shop]
[[apis.shop.routes]]
route = "GET /one"
function = "http_echo"
"""
TWO_ROUTES = (
    ONE_ROUTE
    + """
[[apis.shop.routes]]
route = "GET /two/{id}"
function = "http_echo"

[functions.http_echo.url]
"""
)


def test_hot_reload_serves_new_routes_and_urls(tmp_path: Path) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(RELOAD_MANIFEST.format(code=CODE, rest=ONE_ROUTE))
    functions = load_manifest(manifest)
    cfg = EmulatorConfig(
        functions=functions,
        http=load_http(manifest, functions),
        port=0,
        api_port=0,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
        manifest_path=manifest,
        hot_reload=True,
    )
    with EmbeddedEmulator(cfg) as emu:
        api_url = emu.api_url
        assert api_url is not None
        assert _echoed(httpx.get(f"{api_url}/one", timeout=60))["event"]["routeKey"] == "GET /one"
        assert httpx.get(f"{api_url}/two/1", timeout=60).status_code == 404
        assert httpx.get(f"{emu.url}/lambda-url/http_echo/", timeout=60).status_code == 403
        manifest.write_text(RELOAD_MANIFEST.format(code=CODE, rest=TWO_ROUTES))
        eventually(
            lambda: httpx.get(f"{api_url}/two/1", timeout=60).status_code == 200,
            "the new route served",
        )
        resp = httpx.get(f"{emu.url}/lambda-url/http_echo/x", timeout=60)
        assert _echoed(resp)["event"]["rawPath"] == "/x"  # a new URL, raw headers and all
        # no route left: the api listener stops
        manifest.write_text(RELOAD_MANIFEST.format(code=CODE, rest=""))
        eventually(lambda: emu.api_url is None, "the api listener stopped")
        assert _refused(f"{api_url}/one")


def test_the_pytest_plugin_serves_the_manifests_routes(pytester: pytest.Pytester) -> None:
    manifest = pytester.path / "lambda-emu.toml"
    manifest.write_text(RELOAD_MANIFEST.format(code=CODE, rest=TWO_ROUTES))
    pytester.makepyfile(
        """
        import httpx

        def test_route(lambda_emulator):
            resp = httpx.get(lambda_emulator.api_url + "/two/7", timeout=60)
            assert resp.json()["event"]["pathParameters"] == {"id": "7"}
            resp = httpx.get(lambda_emulator.url + "/lambda-url/http_echo/p", timeout=60)
            assert resp.json()["event"]["rawPath"] == "/p"
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--lambda-emu-manifest={manifest}"
    )
    result.assert_outcomes(passed=1)


def test_raw_headers_are_kept_only_where_asked() -> None:
    """Every header as received (names as sent, repeats, order) on a server made with
    `raw_headers=True`; a plain server (the Invoke API without URLs) keeps none."""
    import asyncio

    from emulator.httpserver import HttpServer, Request, Response

    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(200)

    async def exchange(raw: bool) -> Request:
        server = HttpServer(handler, raw_headers=raw)
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                b"GET /x HTTP/1.1\r\nHost: h\r\nX-Multi: a\r\nx-multi: b\r\n"
                b"X-Caf: caf\xc3\xa9\r\n\r\n"
            )
            await reader.readuntil(b"\r\n\r\n")
            writer.close()
        finally:
            await server.close()
        return seen[-1]

    raw = asyncio.run(exchange(True))
    assert raw.raw_headers == [("Host", "h"), ("X-Multi", "a"), ("x-multi", "b"), ("X-Caf", "café")]
    assert raw.headers["x-multi"] == "b"  # the lean view is unchanged
    assert asyncio.run(exchange(False)).raw_headers is None


def test_head_requests_get_no_body(api: httpx.Client) -> None:
    resp = api.head("/items/1")
    assert resp.status_code == 200 and resp.content == b""
    assert api.get("/items/1").status_code == 200  # the connection is still in step


# --- pure units: route precedence, SigV4 forms ---------------------------------------------


def _table(*routes: HttpRoute, kinds: dict[str, str] | None = None) -> Any:
    from emulator.frontdoor.matching import RouteTable

    names = dict.fromkeys(r.api for r in routes)
    apis = tuple(HttpApi(name=n, kind=(kinds or {}).get(n, "http")) for n in names)  # type: ignore[arg-type]
    return RouteTable(HttpConfig(apis=apis, routes=routes))


def _key(table: Any, method: str, path: str) -> str | None:
    match = table.match(method, path)
    return None if match is None else f"{match.api.name}:{match.route.route_key}"


def test_route_precedence_per_api_type() -> None:
    http = _table(
        _route("H", "GET", "/pets/dog/1"),
        _route("H", "GET", "/pets/dog/{id}"),
        _route("H", "GET", "/pets/{proxy+}"),
        _route("H", "ANY", "/pets/dog/{id}"),
        _route("H", "ANY", "$default"),
    )
    assert _key(http, "GET", "/pets/dog/1") == "H:GET /pets/dog/1"
    assert _key(http, "GET", "/pets/dog/2") == "H:GET /pets/dog/{id}"
    assert _key(http, "GET", "/pets/cat/2") == "H:GET /pets/{proxy+}"
    # AG's order: the method's routes (greedy ones included) before ANY
    assert _key(http, "POST", "/pets/dog/2") == "H:ANY /pets/dog/{id}"
    assert _key(http, "POST", "/pets/cat/2") == "H:$default"
    assert _key(http, "GET", "/pets") == "H:$default"  # {proxy+} needs a segment
    assert _key(http, "GET", "/pets/dog/1/") == "H:GET /pets/dog/1"  # one trailing slash
    match = http.match("GET", "/pets/dog/a%2Fb")  # %2F does not split a segment
    assert match.route.path == "/pets/dog/{id}" and match.path_parameters == {"id": "a/b"}
    rest = _table(
        _route("R", "POST", "/a/{id}"),
        _route("R", "ANY", "/a/{id}"),
        _route("R", "GET", "/{proxy+}"),
        kinds={"R": "rest"},
    )
    assert _key(rest, "POST", "/a/1") == "R:POST /a/{id}"  # explicit method over ANY
    assert _key(rest, "GET", "/a/1") == "R:ANY /a/{id}"  # the resource before {proxy+}
    assert _key(rest, "GET", "/b/c") == "R:GET /{proxy+}"


def test_several_apis_first_declared_wins_and_defaults_come_last() -> None:
    table = _table(
        _route("One", "ANY", "$default"),
        _route("One", "GET", "/shared"),
        _route("Two", "GET", "/shared"),
        _route("Two", "GET", "/two"),
    )
    assert _key(table, "GET", "/shared") == "One:GET /shared"
    assert _key(table, "GET", "/two") == "Two:GET /two"  # before One's $default
    assert _key(table, "GET", "/else") == "One:$default"
    assert [(h.api, w.api) for h, w in table.shadowed()] == [("Two", "One")]


def test_sigv4_presigned_urls_and_expiry() -> None:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from emulator.frontdoor import sigv4

    url = "http://127.0.0.1:9000/lambda-url/fn/a?b=1"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET), "lambda", "us-east-1", expires=60).add_auth(
        request
    )
    signed = httpx.URL(request.url)
    check = dict(
        method="GET",
        raw_path=signed.raw_path.decode().partition("?")[0],
        raw_query=signed.query.decode(),
        headers=[("Host", "127.0.0.1:9000")],
        body=b"",
        credentials={ACCESS_KEY: SECRET},
        region="us-east-1",
    )
    assert sigv4.verify(**check).access_key == ACCESS_KEY  # type: ignore[arg-type]
    with pytest.raises(sigv4.SignatureError, match="expired"):
        sigv4.verify(**check, now=time.time() + 120)  # type: ignore[arg-type]
    with pytest.raises(sigv4.SignatureError, match="region"):
        sigv4.verify(**{**check, "region": "eu-west-1"})  # type: ignore[arg-type]


def test_local_credentials(tmp_path: Path) -> None:
    from emulator.frontdoor.sigv4 import local_credentials

    shared = tmp_path / "credentials"
    shared.write_text("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s3\n")
    env = {"AWS_SHARED_CREDENTIALS_FILE": str(shared)}
    assert local_credentials(env, tmp_path) == {"AKIDFILE": "s3"}
    env |= {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "s1"}
    assert local_credentials(env, tmp_path) == {"AKIDENV": "s1", "AKIDFILE": "s3"}
    assert local_credentials({}, tmp_path) == {"test": "test"}  # ⚠ nothing configured
