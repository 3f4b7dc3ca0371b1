"""The front door's events and answers against AWS's recordings (docs/frontdoor-spec.md).

`emulator.frontdoor.events` and `.responses` are pure, so these are unit tests: each fixture
under tests/data/frontdoor/aws/ is an event or a set of answers recorded from AWS (its
`source` line names the recording), with the request that produced it. Differences the
emulator keeps on purpose are listed in the fixture's `not_reproduced`, each with its reason.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from emulator.frontdoor.events import (
    HttpRequest,
    Target,
    build_event,
    iam_authorizer,
    is_binary_media,
    is_text,
)
from emulator.frontdoor.model import FunctionUrl, HttpApi
from emulator.frontdoor.responses import (
    HTTP_DEFAULT_CONTENT_TYPE,
    failure,
    from_result,
    request_id_headers,
)
from emulator.httpserver import Response

AWS = Path(__file__).parent / "data" / "frontdoor" / "aws"
EVENT_FIXTURES = sorted(p.name for p in AWS.glob("*.json") if "event" in json.loads(p.read_text()))


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((AWS / name).read_text())
    assert data["source"], f"{name}: every fixture names its recording"
    return data


def _request(spec: dict[str, Any]) -> HttpRequest:
    body = base64.b64decode(spec["body_base64"]) if "body_base64" in spec else spec["body"]
    return HttpRequest(
        method=spec["method"],
        raw_path=spec["raw_path"],
        raw_query=spec["raw_query"],
        headers=[(k, v) for k, v in spec["headers"]],
        body=body.encode() if isinstance(body, str) else body,
        source_ip=spec["source_ip"],
        time=spec["time"],
    )


def _drop(tree: dict[str, Any], dotted: str) -> None:
    head, _, rest = dotted.partition(".")
    if not rest:
        tree.pop(head, None)
        return
    child = tree.get(head)
    if isinstance(child, dict):
        if head in ("headers", "multiValueHeaders"):
            tree[head] = {k: v for k, v in child.items() if k != rest}
        else:
            _drop(child, rest)


def _subset(built: Any, recorded: Any, where: str = "") -> None:
    """Every field of `recorded` is in `built` with the same value."""
    if isinstance(recorded, dict):
        assert isinstance(built, dict), where
        for key, value in recorded.items():
            assert key in built, f"{where}.{key} missing"
            _subset(built[key], value, f"{where}.{key}")
    else:
        assert built == recorded, f"{where}: {built!r} != {recorded!r}"


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_event_matches_aws_recording(name: str) -> None:
    fixture = _load(name)
    target = Target(**fixture["target"])
    if "iam" in fixture:  # the identity a verified SigV4 signature names
        target.authorizer = iam_authorizer(**fixture["iam"])
    event = build_event(_request(fixture["request"]), target)
    expected = json.loads(json.dumps(fixture["event"]))
    built = json.loads(json.dumps(event))
    for dotted in fixture.get("not_reproduced", {}):
        for tree in (built, expected):
            _drop(tree, dotted)
            if dotted.startswith("headers."):
                _drop(tree, "multiValueHeaders." + dotted.split(".", 1)[1])
    for dotted, pattern in fixture.get("deployment_ids", {}).items():
        # ids AWS assigns at deployment: the emulator's are stable and shaped alike
        node: Any = built
        for part in dotted.split("."):
            node = node[part]
        assert re.fullmatch(pattern, node), (dotted, node)
        for tree in (built, expected):
            _drop(tree, dotted)
    for prefix in fixture.get("trimmed_headers", []):
        # the recording's function removed these before answering
        built["headers"] = {k: v for k, v in built["headers"].items() if not k.startswith(prefix)}
    if fixture.get("subset"):
        _subset(built, expected)
        for key in fixture.get("absent", []):
            assert key not in built
    else:
        assert built == expected


# --- payload 2.0 presence rules ---------------------------------------------------------------


def _http_target(**kw: Any) -> Target:
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
    base.update(kw)
    return Target(**base)


def _url_target(**kw: Any) -> Target:
    url = FunctionUrl("fn")
    base: dict[str, Any] = {
        "payload_version": "2.0",
        "route_key": "$default",
        "resource": "$default",
        "api_id": url.url_id,
        "domain_name": f"{url.url_id}.lambda-url.us-east-1.on.aws",
        "stage": "$default",
        "request_id": "6f1c7f4e-9a1b-4c55-8d2e-0123456789ab",
        "account_id": "123456789012",
    }
    base.update(kw)
    return Target(**base)


def _get(path: str = "/items/42", query: str = "", headers: Any = (), body: bytes = b"") -> Any:
    return HttpRequest(
        "GET", path, query, [("Host", "127.0.0.1:3000"), *headers], body, "127.0.0.1", 1e9
    )


def test_v2_leaves_out_what_is_empty() -> None:
    # PT apigw-http/no-auth.json, GO apigw-v2-request-no-authorizer.json
    event = build_event(_get(), _http_target())
    for absent in ("cookies", "queryStringParameters", "pathParameters", "stageVariables", "body"):
        assert absent not in event
    assert "authorizer" not in event["requestContext"]
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False


def test_v2_fields() -> None:
    request = _get(
        "/items/a%20b",
        "a=1&a=%2F2&b=x",
        [("Cookie", "s=1; t=2"), ("Cookie", "u=3"), ("X-Multi", "1"), ("x-multi", "2")],
    )
    event = build_event(
        request,
        _http_target(path_parameters={"id": "a b"}, stage_variables={"v": "1"}),
    )
    assert event["cookies"] == ["s=1", "t=2", "u=3"]
    assert "cookie" not in event["headers"]  # HTTP APIs move it to `cookies` (mangum#153)
    assert event["headers"]["x-multi"] == "1,2"
    assert event["queryStringParameters"] == {"a": "1,/2", "b": "x"}
    assert event["rawQueryString"] == "a=1&a=%2F2&b=x"
    assert event["rawPath"] == "/items/a%20b"
    assert event["requestContext"]["http"]["path"] == "/items/a%20b"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["stageVariables"] == {"v": "1"}
    assert event["requestContext"]["time"] == "09/Sep/2001:01:46:40 +0000"
    assert event["requestContext"]["timeEpoch"] == 1_000_000_000_000
    assert event["headers"]["content-length"] == "0"


def test_v2_named_stage_prefixes_raw_path() -> None:
    event = build_event(_get(), _http_target(stage="dev"))
    assert event["rawPath"] == "/dev/items/42"
    assert event["requestContext"]["http"]["path"] == "/dev/items/42"
    assert event["requestContext"]["stage"] == "dev"


def test_v2_authorizer_context_passed_as_shaped() -> None:
    event = build_event(_get(), _http_target(authorizer={"lambda": {"user": "u1"}}))
    assert event["requestContext"]["authorizer"] == {"lambda": {"user": "u1"}}


def test_url_event_differs_from_http_api() -> None:
    request = _get("/lambda/x", "", [("Cookie", "a=1"), ("Content-Length", "0")])
    event = build_event(
        request,
        _url_target(route_key="GET /x", stage="Prod", path_parameters={"x": "1"}),
    )
    assert event["routeKey"] == "$default"
    assert event["requestContext"]["routeKey"] == "$default"
    assert event["requestContext"]["stage"] == "$default"
    assert "pathParameters" not in event and "stageVariables" not in event
    assert event["headers"]["cookie"] == "a=1"  # kept (RUST lambda_function_url_request.json)
    assert event["cookies"] == ["a=1"]
    assert event["rawPath"] == "/lambda/x"
    assert event["requestContext"]["domainPrefix"] == event["requestContext"]["apiId"]


def test_url_iam_authorizer_block() -> None:
    iam = {
        "iam": {
            "accessKey": "AKIA...",
            "accountId": "111122223333",
            "callerId": "AIDA...",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": "arn:aws:iam::111122223333:user/example-user",
            "userId": "AIDA...",
        }
    }
    event = build_event(_get(), _url_target(authorizer=iam))
    assert event["requestContext"]["authorizer"] == iam


def test_hop_by_hop_headers_dropped() -> None:
    request = _get(headers=[("Connection", "keep-alive"), ("Keep-Alive", "5")])
    for target in (
        _http_target(),
        _url_target(),
        _http_target(payload_version="1.0", is_rest=True),
    ):
        headers = {k.lower() for k in build_event(request, target)["headers"]}
        assert not headers & {"connection", "keep-alive"}


def test_forwarding_headers() -> None:
    request = _get(headers=[("X-Forwarded-For", "10.0.0.1")])
    headers = build_event(request, _http_target())["headers"]
    assert headers["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert headers["x-forwarded-port"] == "3000"
    assert headers["x-forwarded-proto"] == "http"
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["x-amzn-trace-id"])
    sent = _get(headers=[("X-Amzn-Trace-Id", "Root=1-00000000-000000000000000000000000")])
    assert build_event(sent, _http_target())["headers"]["x-amzn-trace-id"].endswith("0" * 24)


# --- binary bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "encoding", "text"),
    [
        ("text/plain", None, True),
        ("text/html; charset=utf-8", None, True),
        ("application/json", None, True),
        ("application/json;charset=utf-8", None, True),
        ("application/xml", None, True),
        ("application/javascript", None, True),
        ("application/vnd.api+json", None, True),  # ⚠
        (None, None, False),
        ("application/octet-stream", None, False),
        ("image/png", None, False),
        ("application/x-www-form-urlencoded", None, False),
        ("multipart/form-data; boundary=x", None, False),  # LS test_lambda_url_form_payload
        ("application/json", "gzip", False),  # ⚠
    ],
)
def test_is_text(content_type: str | None, encoding: str | None, text: bool) -> None:
    assert is_text(content_type, encoding) is text


def test_v2_binary_body_base64() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    request = HttpRequest("POST", "/", "", [("Content-Type", "image/png")], png, "127.0.0.1", 1e9)
    event = build_event(request, _http_target())
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    request.headers = [("Content-Type", "text/plain")]
    request.body = "héllo".encode()
    event = build_event(request, _url_target())
    assert event == event | {"body": "héllo", "isBase64Encoded": False}


@pytest.mark.parametrize(
    ("types", "content_type", "binary"),
    [
        ((), "image/png", False),  # no binaryMediaTypes: every body is text
        (("image/png",), "image/png", True),
        (("image/png",), "image/jpeg", False),
        (("image/*",), "image/jpeg", True),
        (("*/*",), "application/json", True),
        (("*/*",), None, True),
        (("application/octet-stream",), None, False),
    ],
)
def test_rest_binary_media_types(
    types: tuple[str, ...], content_type: str | None, binary: bool
) -> None:
    assert is_binary_media(content_type, types) is binary
    headers = [("Content-Type", content_type)] if content_type else []
    request = HttpRequest("POST", "/up", "", headers, b"\x01\x02abc", "127.0.0.1", 1e9)
    target = _http_target(payload_version="1.0", is_rest=True, binary_media_types=types)
    event = build_event(request, target)
    assert event["isBase64Encoded"] is binary
    assert event["body"] == (base64.b64encode(b"\x01\x02abc").decode() if binary else "\x01\x02abc")


# --- payload 1.0 --------------------------------------------------------------------------------


def test_rest_nulls_when_empty() -> None:
    # PT apigw-rest/no-auth.json: every key present, null when empty
    event = build_event(_get(), _http_target(payload_version="1.0", is_rest=True, stage="Prod"))
    for key in (
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ):
        assert event[key] is None, key
    assert "version" not in event
    assert "authorizer" not in event["requestContext"]
    assert event["requestContext"]["path"] == "/Prod/items/42"
    assert event["path"] == "/items/42"


def test_rest_headers() -> None:
    request = _get(
        headers=[
            ("x-Repeat", "1"),
            ("X-Repeat", "2"),
            ("authorization", "t"),
            ("Content-Length", "0"),
        ]
    )
    event = build_event(request, _http_target(payload_version="1.0", is_rest=True))
    assert event["headers"]["x-Repeat"] == "2"  # ⚠ last value
    assert event["multiValueHeaders"]["x-Repeat"] == ["1", "2"]
    assert event["headers"]["Authorization"] == "t"  # LS: authorization → Authorization
    assert "Content-Length" not in event["headers"]  # LS: dropped from proxy events
    signed = _get(headers=[("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/…")])
    event = build_event(signed, _http_target(payload_version="1.0", is_rest=True))
    assert "Authorization" not in event["headers"]  # AG api-gateway-known-issues.md
    assert "authorization" in build_event(signed, _http_target())["headers"]  # PT iam-auth


def test_rest_collapses_leading_double_slash() -> None:
    # LS invocation-payload-with-prepended-slash: //proxy-value → /proxy-value
    event = build_event(_get("//proxy-value"), _http_target(payload_version="1.0", is_rest=True))
    assert event["path"] == "/proxy-value"
    event = build_event(
        _get("/proxy-value//double-slash"), _http_target(payload_version="1.0", is_rest=True)
    )
    assert event["path"] == "/proxy-value//double-slash"


def test_rest_authorizer_context() -> None:
    ctx = {"principalId": "user", "integrationLatency": 422, "tier": "gold"}
    event = build_event(_get(), _http_target(payload_version="1.0", is_rest=True, authorizer=ctx))
    assert event["requestContext"]["authorizer"] == ctx


def test_http_api_v1() -> None:
    # AG http-api-develop-integrations-lambda.md 1.0 example ⚠ (doc only)
    request = _get("/items/42", "a=1&a=2", [("X-Repeat", "1"), ("X-Repeat", "2")])
    event = build_event(request, _http_target(payload_version="1.0"))
    assert event["version"] == "1.0"
    assert event["headers"]["x-repeat"] == "2"
    assert event["multiValueHeaders"]["x-repeat"] == ["1", "2"]
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["requestContext"]["authorizer"] == {"claims": None, "scopes": None}
    assert event["requestContext"]["resourceId"] is None
    assert "deploymentId" not in event["requestContext"]


# --- responses: payload 2.0 ---------------------------------------------------------------------


def _headers(response: Response) -> dict[str, str]:
    """The answer's headers as a client library sees them: repeats joined with ", "."""
    out: dict[str, str] = {}
    pairs = list(response.headers)
    if response.content_type is not None:
        pairs.insert(0, ("Content-Type", response.content_type))
    for name, value in pairs:
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    out["content-length"] = str(len(response.body))
    return out


def _names(response: Response) -> list[str]:
    return [name for name, _ in response.headers]


@pytest.mark.parametrize("fixture", ["url-responses.json", "rest-proxy-responses.json"])
def test_answers_match_aws_recordings(fixture: str) -> None:
    data = _load(fixture)
    for case in data["cases"]:
        payload = json.dumps(case["result"]).encode()
        response = from_result(data["service"], data["payload_version"], payload, "rid")
        where = f"{fixture}:{case['name']}"
        assert response.status == case["status"], where
        if "body_text" in case:
            assert response.body.decode() == case["body_text"], where
        elif "body_json" in case:
            assert json.loads(response.body) == case["body_json"], where
        elif isinstance(case["body"], dict):
            assert json.loads(response.body) == case["body"], where
        else:
            assert response.body.decode() == case["body"], where
        headers = _headers(response)
        for name, value in case.get("headers", {}).items():
            assert headers.get(name.lower()) == value, (where, name, headers)
        for name in case.get("names_exact", []):
            assert name in _names(response), where


def test_v2_simplified_and_structured() -> None:
    # AG: an object without statusCode → 200 JSON; with it → structured
    # HTTP API: the payload as written (AG: `{ "message": "Hello from Lambda!" }` → that text);
    # URL: re-serialized compactly (LS, recorded)
    response = from_result("http", "2.0", b'{ "message": "Hello from Lambda!" }', "rid")
    assert (response.status, response.body, response.content_type) == (
        200,
        b'{ "message": "Hello from Lambda!" }',
        "application/json",
    )
    assert from_result("url", "2.0", b'{"a": 1}', "rid").body == b'{"a":1}'
    assert from_result("http", "2.0", b'"Hello from Lambda!"', "rid").body == b"Hello from Lambda!"
    response = from_result("http", "2.0", b'"plain"', "rid")
    assert (response.status, response.body) == (200, b"plain")
    response = from_result(
        "http",
        "2.0",
        json.dumps(
            {
                "statusCode": 302,
                "headers": {"Location": "/x", "X-N": 5},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": "",
            }
        ).encode(),
        "rid",
    )
    assert response.status == 302
    assert ("Location", "/x") in response.headers
    assert ("X-N", "5") in response.headers
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1; Path=/", "b=2"]
    assert response.content_type == HTTP_DEFAULT_CONTENT_TYPE  # ⚠
    assert ("apigw-requestid", "rid") in response.headers


def test_v2_base64_body_decoded() -> None:
    payload = json.dumps(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True}
    ).encode()
    for service in ("http", "url"):
        assert from_result(service, "2.0", payload, "rid").body == b"\x00\xff"


def test_default_content_type_per_service() -> None:
    payload = b'{"statusCode": 200, "body": "x"}'
    assert from_result("url", "2.0", payload, "r").content_type == "application/json"
    assert from_result("http", "2.0", payload, "r").content_type == HTTP_DEFAULT_CONTENT_TYPE
    assert from_result("rest", "1.0", payload, "r").content_type == "application/json"
    typed = b'{"statusCode": 200, "body": "x", "headers": {"content-type": "text/csv"}}'
    for service, version in (("url", "2.0"), ("http", "2.0"), ("rest", "1.0")):
        response = from_result(service, version, typed, "r")  # type: ignore[arg-type]
        assert response.content_type is None
        assert ("content-type", "text/csv") in response.headers


@pytest.mark.parametrize(
    "payload",
    [
        b'{"statusCode": "abc"}',
        b'{"statusCode": 200, "cookies": "x"}',
        b'{"statusCode": 200, "headers": ["x"]}',
        b'{"statusCode": 200, "body": "!!", "isBase64Encoded": true}',
    ],
)
def test_v2_malformed(payload: bytes) -> None:
    http = from_result("http", "2.0", payload, "rid")
    assert (http.status, json.loads(http.body)) == (500, {"message": "Internal Server Error"})
    url = from_result("url", "2.0", payload, "rid")
    assert (url.status, url.body) == (502, b"Internal Server Error")


def test_v2_not_json_goes_out_as_is() -> None:
    # AWS LambdaTestTool-v2: "API Gateway does not validate the JSON" (HTTP API); URLs ⚠
    for service in ("http", "url"):
        response = from_result(service, "2.0", b'{"name": "John", "age":', "rid")
        assert (response.status, response.body) == (200, b'{"name": "John", "age":')
        assert response.content_type == "application/json"


def test_v2_ignores_multi_value_headers() -> None:
    payload = b'{"statusCode": 200, "multiValueHeaders": {"Content-Type": ["text/html"]}}'
    for service in ("http", "url"):
        response = from_result(service, "2.0", payload, "rid")
        assert all(name.lower() != "content-type" for name, _ in response.headers)


def test_http_v1_needs_status_code() -> None:
    response = from_result("http", "1.0", b'{"body": "x"}', "rid")
    assert (response.status, json.loads(response.body)) == (
        500,
        {"message": "Internal Server Error"},
    )
    response = from_result("http", "1.0", b'{"statusCode": 201, "body": "x"}', "rid")
    assert (response.status, response.content_type) == (201, HTTP_DEFAULT_CONTENT_TYPE)


def test_rest_base64_decoded_only_for_binary_accept() -> None:
    # LS test_aws_proxy_binary_response (aws.validated): binaryMediaTypes image/png and */test;
    # only an Accept that names a configured type exactly gets the bytes
    payload = json.dumps(
        {
            "statusCode": 200,
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
            "headers": {"Content-Type": "image/png"},
        }
    ).encode()
    unset = from_result("rest", "1.0", payload, "r", accept="image/png")
    assert unset.body == base64.b64encode(b"\x89PNG")  # no binaryMediaTypes
    types = ("image/png", "*/test")
    decoded = from_result("rest", "1.0", payload, "r", accept="image/png", binary_media_types=types)
    assert decoded.body == b"\x89PNG"
    for accept in (
        "image/jpg",
        "image/*",
        "*/test",
        "random/test",
        "*/*",
        None,
        "text/html, image/png",
    ):
        kept = from_result("rest", "1.0", payload, "r", accept=accept, binary_media_types=types)
        assert kept.body == base64.b64encode(b"\x89PNG"), accept
    assert from_result("http", "1.0", payload, "r").body == b"\x89PNG"


def test_rest_rejects_cookies_key_http_v1_accepts() -> None:
    payload = b'{"statusCode": 200, "cookies": ["a=1"]}'
    assert from_result("rest", "1.0", payload, "r").status == 502  # anomalyco/sst#2760
    assert from_result("http", "1.0", payload, "r").status == 200


def test_function_cannot_frame_the_answer() -> None:
    # the front end frames the body: REST remaps the function's framing headers, the others
    # drop them (AG api-gateway-known-issues.md) ⚠
    payload = json.dumps(
        {
            "statusCode": 401,
            "headers": {"Content-Length": "999", "Connection": "close", "WWW-Authenticate": "x"},
            "body": "no",
        }
    ).encode()
    rest = from_result("rest", "1.0", payload, "r")
    assert ("X-Amzn-Remapped-Content-Length", "999") in rest.headers
    assert ("X-Amzn-Remapped-WWW-Authenticate", "x") in rest.headers
    assert not {"content-length", "connection"} & {n.lower() for n, _ in rest.headers}
    for service, version in (("http", "2.0"), ("url", "2.0"), ("http", "1.0")):
        response = from_result(service, version, payload, "r")  # type: ignore[arg-type]
        names = {n.lower() for n, _ in response.headers}
        assert not {"content-length", "connection"} & names
        assert "www-authenticate" in names


def test_rest_non_string_body_is_malformed() -> None:
    assert from_result("rest", "1.0", b'{"statusCode": 200, "body": {"a": 1}}', "r").status == 502


# --- failures -----------------------------------------------------------------------------------


def _error_cases() -> list[Any]:
    cases = _load("error-answers.json")["cases"]
    return [pytest.param(c, id=f"{c['service']}-{c['reason']}") for c in cases]


@pytest.mark.parametrize("case", _error_cases())
def test_failure_answers(case: dict[str, Any]) -> None:
    response = failure(case["service"], case["reason"], "rid-1")
    assert response.status == case["status"]
    assert response.body.decode() == case["body"]
    assert response.content_type == case["content_type"]
    assert dict(response.headers).get("x-amzn-ErrorType") == case["error_type"]
    for header in request_id_headers(case["service"], "rid-1"):
        assert header in response.headers


def test_every_reason_has_an_answer_per_service() -> None:
    from typing import get_args

    from emulator.frontdoor.responses import FailureReason

    for service in ("rest", "http", "url"):
        for reason in get_args(FailureReason):
            response = failure(service, reason, "r")
            assert 400 <= response.status <= 599


def test_request_id_headers() -> None:
    assert request_id_headers("http", "Zh=") == [("apigw-requestid", "Zh=")]
    assert request_id_headers("url", "u-1") == [("x-amzn-RequestId", "u-1")]
    rest = dict(request_id_headers("rest", "u-2"))
    assert rest["x-amzn-RequestId"] == "u-2"
    assert re.fullmatch(r"[A-Za-z0-9+/]{15}=", rest["x-amz-apigw-id"])
    # the event's extendedRequestId and the header agree
    event = build_event(_get(), _http_target(payload_version="1.0", is_rest=True, request_id="u-2"))
    assert event["requestContext"]["extendedRequestId"] == rest["x-amz-apigw-id"]


def test_model_ids_fit_the_event() -> None:
    api = HttpApi("ServerlessHttpApi", "http")
    assert re.fullmatch(r"[a-z0-9]{10}", api.api_id)
    assert re.fullmatch(r"[a-z0-9]{32}", FunctionUrl("fn").url_id)
