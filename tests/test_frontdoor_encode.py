"""`events.encode_event` writes payload 2.0 events straight to JSON (the front door's hot
path): it must give byte for byte what `json.dumps(build_event(...))` gives, for every
recorded event and for each field's corner cases."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from emulator.frontdoor.events import (
    HttpRequest,
    Target,
    build_event,
    encode_event,
    iam_authorizer,
)
from emulator.frontdoor.model import FunctionUrl

AWS = Path(__file__).parent / "data" / "frontdoor" / "aws"
EVENT_FIXTURES = sorted(p.name for p in AWS.glob("*.json") if "event" in json.loads(p.read_text()))


def _dumped(request: HttpRequest, target: Target) -> bytes:
    return json.dumps(build_event(request, target), separators=(",", ":")).encode()


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_recorded_events_encode_as_dumped(name: str) -> None:
    fixture = json.loads((AWS / name).read_text())
    spec = fixture["request"]
    body = base64.b64decode(spec["body_base64"]) if "body_base64" in spec else spec["body"]
    request = HttpRequest(
        method=spec["method"],
        raw_path=spec["raw_path"],
        raw_query=spec["raw_query"],
        headers=[(k, v) for k, v in spec["headers"]],
        body=body.encode() if isinstance(body, str) else body,
        source_ip=spec["source_ip"],
        time=spec["time"],
    )
    target = Target(**fixture["target"])
    if "iam" in fixture:
        target.authorizer = iam_authorizer(**fixture["iam"])
    assert encode_event(request, target) == _dumped(request, target)


def _target(url: bool, **kw: Any) -> Target:
    base: dict[str, Any] = {
        "payload_version": "2.0",
        "route_key": "GET /items/{id}",
        "resource": "/items/{id}",
        "api_id": "abc123defg",
        "domain_name": "abc123defg.execute-api.us-east-1.amazonaws.com",
        "stage": "$default",
        "request_id": "ZhNHJhhLjoEEPiw=",
        "account_id": "123456789012",
    }
    if url:
        url_id = FunctionUrl("fn").url_id
        base.update(
            route_key="$default",
            resource="$default",
            api_id=url_id,
            domain_name=f"{url_id}.lambda-url.us-east-1.on.aws",
        )
    base.update(kw)
    return Target(**base)


HEADERS = [
    [],
    [("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8"), ("Accept", "*/*")],
    [
        ("Host", "[::1]"),
        ("Connection", "keep-alive"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "5"),
        ("content-length", "6"),
        ("Cookie", "s=1; t=2"),
        ("cookie", "; u=3"),
        ("X-Multi", "1"),
        ("x-multi", "2"),
        ("User-Agent", "a"),
        ("user-agent", "b"),
        ("X-Forwarded-For", "10.0.0.1"),
        ("x-forwarded-for", "10.0.0.2"),
        ("X-Amzn-Trace-Id", "Root=1-5eb33c07-de25b420912dee103a5db434"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Encoding", "gzip"),
        ("X-Unicode", 'caf\u00e9 \u2603 "q" \\ \t'),
    ],
    [("Host", "h:8080"), ("Content-Type", "application/octet-stream"), ("Via", "1.1 x")],
    [("x-forwarded-port", "1"), ("X-Forwarded-Proto", "https"), ("content-type", "image/png")],
]
TARGETS = [
    {},
    {"stage": "dev"},
    {"trace_id": "Root=1-5eb33c07-de25b420912dee103a5db434;Parent=1;Sampled=0"},
    {"path_parameters": {"id": "a b", "\u00e9": "\u2603"}, "stage_variables": {"v": "1"}},
    {"authorizer": {"lambda": {"user": "u1", "n": 1, "f": 1.5, "ok": True, "none": None}}},
    {"authorizer": iam_authorizer("AKIA", "123456789012", "arn:aws:iam::1:user/u", "AIDA")},
    {"route_key": "$default", "resource": "$default"},
]


@pytest.mark.parametrize("url", [False, True])
@pytest.mark.parametrize("headers", HEADERS)
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    ("raw_path", "query", "body"),
    [
        ("/items/42", "", b""),
        ("", "a=1&a=%2F2&b=x&c&d=+%E2%98%83", b'{"k":"v"}'),
        ("/items/a%20b/", "=&&x=%ZZ", b"\x00\xff binary"),
        ("/\u00e9", "q=\u00e9", "caf\u00e9".encode()),
    ],
)
def test_encoded_event_is_the_dumped_event(
    url: bool,
    headers: list[tuple[str, str]],
    target: dict[str, Any],
    raw_path: str,
    query: str,
    body: bytes,
) -> None:
    for method, at in (("GET", 1e9), ("POST", 1_700_000_000.999), ("PUT", 1_700_000_001.0)):
        request = HttpRequest(method, raw_path, query, headers, body, "127.0.0.1", at)
        built = _target(url, **target)
        assert encode_event(request, built) == _dumped(request, built)


def test_payload_1_0_is_dumped() -> None:
    request = HttpRequest("GET", "/items/1", "a=1", [("Host", "h")], b"", "127.0.0.1", 1e9)
    for rest in (False, True):
        target = _target(False, payload_version="1.0", is_rest=rest)
        assert encode_event(request, target) == _dumped(request, target)


@pytest.mark.parametrize(
    "payload",
    [
        b"{}",
        b"[]",
        b'{"a":1}',
        b"[1,2]",
        b"{not json",
        b'{"statusCode":201,"body":"x"}',
        b'{"\\u0073tatusCode":201,"body":"x"}',
        b'"text"',
        b"12",
        b" {}",
        '{"statusCode":202}'.encode("utf-16-le"),
        '{"a":"caf\u00e9"}'.encode(),
    ],
)
def test_results_passed_as_they_are_answer_as_parsed(
    payload: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.frontdoor import responses

    fast = responses.from_result("http", "2.0", payload, "rid")
    monkeypatch.setattr(responses, "_as_is_v2", lambda _payload: False)
    parsed = responses.from_result("http", "2.0", payload, "rid")
    assert fast == parsed
