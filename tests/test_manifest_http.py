"""The front door's manifest: APIs, routes, authorizers and function URLs from SAM templates and
lambda-emu.toml into `HttpConfig` (pure unit tests), with every one-line error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from emulator.errors import ManifestError
from emulator.frontdoor.model import Authorizer, Cors, FunctionUrl, HttpConfig, HttpRoute
from emulator.manifests import load_http, load_manifest

FIXTURE = Path(__file__).parent / "data" / "frontdoor" / "template.yaml"


def _load(path: Path) -> HttpConfig:
    return load_http(path, load_manifest(path))


def _error(path: Path) -> ManifestError:
    """The one error of loading `path` as `serve` does: functions, then the front door."""
    with pytest.raises(ManifestError) as info:
        load_http(path, load_manifest(path))
    assert "\n" not in str(info.value)
    return info.value


# --- lambda-emu.toml --------------------------------------------------------------------------

_NATIVE_FUNCTIONS = """
[defaults]
runtime = "python3.12"
handler = "app.handler"
code = "."

[functions.items]
[functions.auth]
"""


def _native(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lambda-emu.toml"
    path.write_text(_NATIVE_FUNCTIONS + textwrap.dedent(text))
    return path


def test_native_every_key(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        """
        [functions.hello]
        [functions.hello.url]
        auth_type = "AWS_IAM"
        invoke_mode = "RESPONSE_STREAM"
        [functions.hello.url.cors]
        allow_origins = ["https://a.example"]
        allow_methods = ["GET", "POST"]
        allow_headers = ["x-a"]
        expose_headers = ["x-b"]
        allow_credentials = true
        max_age = 60

        [apis.shop]
        type = "http"
        stage = "dev"
        stage_variables = { env = "dev", n = 3 }
        cors.allow_origins = ["*"]
        cors.allow_methods = ["GET"]
        cors.allow_headers = ["authorization"]
        cors.expose_headers = []
        cors.allow_credentials = false
        cors.max_age = 300
        default_authorizer = "auth"

        [apis.shop.authorizers.auth]
        function = "auth"
        type = "request"
        payload_version = "2.0"
        simple_responses = true
        identity_sources = [
            "$request.header.Authorization",
            "$request.querystring.t",
            "$context.routeKey",
            "$stageVariables.env",
        ]
        ttl = 300

        [[apis.shop.routes]]
        route = "GET /items/{id}"
        function = "items"

        [[apis.shop.routes]]
        route = "any /{proxy+}"
        function = "items"
        payload_version = "1.0"
        authorizer = "NONE"

        [[apis.shop.routes]]
        route = "$default"
        function = "items"
        authorizer = "auth"

        [apis.legacy]
        type = "rest"
        stage = "v1"

        [apis.legacy.authorizers.tok]
        function = "auth"
        type = "token"
        identity_sources = ["method.request.header.X-Token"]
        ttl = 0
        validation_regex = "^allow$"

        [apis.legacy.authorizers.req]
        function = "auth"
        identity_sources = [
            "method.request.header.Authorization",
            "method.request.querystring.t",
            "context.path",
            "stageVariables.env",
        ]

        [[apis.legacy.routes]]
        route = "POST /orders/{id}/lines/{line}"
        function = "items"
        payload_version = "1.0"
        authorizer = "tok"

        [[apis.legacy.routes]]
        route = "GET /"
        function = "items"
        authorizer = "req"
        """,
    )
    http = _load(path)
    shop, legacy = http.apis
    assert (shop.name, shop.kind, shop.stage, dict(shop.stage_variables)) == (
        "shop",
        "http",
        "dev",
        {"env": "dev", "n": "3"},
    )
    assert shop.cors == Cors(
        allow_origins=("*",),
        allow_methods=("GET",),
        allow_headers=("authorization",),
        allow_credentials=False,
        max_age_s=300,
    )
    assert shop.default_authorizer == "auth"
    assert shop.authorizers["auth"] == Authorizer(
        name="auth",
        function="auth",
        kind="request",
        payload_version="2.0",
        simple_responses=True,
        identity_sources=(
            "$request.header.Authorization",
            "$request.querystring.t",
            "$context.routeKey",
            "$stageVariables.env",
        ),
        ttl_s=300,
    )
    assert (legacy.kind, legacy.stage, legacy.cors, legacy.default_authorizer) == (
        "rest",
        "v1",
        None,
        None,
    )
    assert legacy.authorizers["tok"] == Authorizer(
        name="tok",
        function="auth",
        kind="token",
        payload_version="1.0",
        identity_sources=("method.request.header.X-Token",),
        ttl_s=0,
        validation_regex="^allow$",
    )
    # REST REQUEST authorizer: API Gateway's default TTL, 300 s
    assert legacy.authorizers["req"].ttl_s == 300
    assert http.routes == (
        HttpRoute("shop", "GET", "/items/{id}", "items", "2.0", None, "apis.shop.routes[0]"),
        HttpRoute("shop", "ANY", "/{proxy+}", "items", "1.0", "NONE", "apis.shop.routes[1]"),
        HttpRoute("shop", "ANY", "$default", "items", "2.0", "auth", "apis.shop.routes[2]"),
        HttpRoute(
            "legacy",
            "POST",
            "/orders/{id}/lines/{line}",
            "items",
            "1.0",
            "tok",
            "apis.legacy.routes[0]",
        ),
        HttpRoute("legacy", "GET", "/", "items", "1.0", "req", "apis.legacy.routes[1]"),
    )
    assert [route.route_key for route in http.routes] == [
        "GET /items/{id}",
        "ANY /{proxy+}",
        "$default",
        "POST /orders/{id}/lines/{line}",
        "GET /",
    ]
    assert http.urls == (
        FunctionUrl(
            function="hello",
            auth_type="AWS_IAM",
            invoke_mode="RESPONSE_STREAM",
            cors=Cors(
                allow_origins=("https://a.example",),
                allow_methods=("GET", "POST"),
                allow_headers=("x-a",),
                expose_headers=("x-b",),
                allow_credentials=True,
                max_age_s=60,
            ),
        ),
    )


def test_native_defaults(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        """
        [functions.items.url]

        [apis.a.authorizers.auth]
        function = "auth"
        identity_sources = ["$request.header.Authorization"]

        [[apis.a.routes]]
        route = "GET /x"
        function = "items"

        [apis.r]
        type = "rest"

        [apis.r.authorizers.tok]
        function = "auth"
        type = "token"

        [apis.r.authorizers.req]
        function = "auth"
        """,
    )
    http = _load(path)
    a, r = http.apis
    assert (a.kind, a.stage, a.cors, dict(a.stage_variables)) == ("http", "$default", None, {})
    assert a.authorizers["auth"].payload_version == "2.0"
    assert a.authorizers["auth"].ttl_s == 0  # ⚠ HTTP APIs cache only when asked
    assert http.routes[0].payload_version == "2.0"
    assert r.stage == "Prod"  # as SAM's implicit REST API
    # TOKEN: the Authorization header and 300 s, as SAM and API Gateway default them
    assert r.authorizers["tok"].identity_sources == ("method.request.header.Authorization",)
    assert r.authorizers["tok"].ttl_s == 300
    # REQUEST without identity sources: nothing to key a cache on
    assert r.authorizers["req"].ttl_s == 0
    assert http.urls == (FunctionUrl(function="items"),)
    assert http


def test_native_without_apis_serves_nothing(tmp_path: Path) -> None:
    http = _load(_native(tmp_path, ""))
    assert http == HttpConfig()
    assert not http


def test_native_error_is_the_exact_one_line_message(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        """
        [[apis.shop.routes]]
        route = "GET /{proxy+}/items"
        function = "items"
        """,
    )
    assert str(_error(path)) == (
        f"{path}: field 'apis.shop.routes[0].route': a greedy path variable ('{{proxy+}}') "
        "must be the last segment, got '/{proxy+}/items'"
    )


def test_native_conflicting_routes_name_both(tmp_path: Path) -> None:
    path = _native(
        tmp_path,
        """
        [[apis.shop.routes]]
        route = "GET /items/{id}"
        function = "items"

        [[apis.shop.routes]]
        route = "ANY /items/{id}"
        function = "items"

        [[apis.shop.routes]]
        route = "get /items/{key}"
        function = "auth"
        """,
    )
    assert str(_error(path)) == (
        f"{path}: routes conflict on API 'shop': 'GET /items/{{id}}' (apis.shop.routes[0]) and "
        "'GET /items/{key}' (apis.shop.routes[2]) have the same method and path"
    )


@pytest.mark.parametrize(
    "routes",
    [
        ("GET /items/{id}", "ANY /items/{id}"),  # ANY and GET are two routes
        ("GET /items/{id}", "GET /items/{id}/x"),
        ("GET /items/{id}", "GET /items/list"),  # literal beats variable, both exist
        ("GET /{proxy+}", "GET /{id}"),  # greedy vs one segment
        ("$default", "ANY /{proxy+}"),
    ],
)
def test_native_routes_that_do_not_conflict(tmp_path: Path, routes: tuple[str, str]) -> None:
    text = "".join(
        f'\n[[apis.shop.routes]]\nroute = "{route}"\nfunction = "items"\n' for route in routes
    )
    assert len(_load(_native(tmp_path, text)).routes) == 2


@pytest.mark.parametrize(
    ("first", "second", "children"),
    [
        ("GET /items/{id}", "POST /items/{key}", "{id} and {key}"),
        ("GET /{id}/a", "GET /{proxy+}", "{id} and {proxy+}"),
    ],
)
def test_rest_resource_has_one_variable_child(
    tmp_path: Path, first: str, second: str, children: str
) -> None:
    text = '[apis.r]\ntype = "rest"\n' + "".join(
        f'\n[[apis.r.routes]]\nroute = "{route}"\nfunction = "items"\n' for route in (first, second)
    )
    path = _native(tmp_path, text)
    assert str(_error(path)) == (
        f"{path}: routes conflict on API 'r': '{first}' (apis.r.routes[0]) and '{second}' "
        f"(apis.r.routes[1]) give one REST resource two variable children, {children} "
        "(a REST resource has at most one)"
    )


def test_same_route_on_two_apis_is_no_conflict(tmp_path: Path) -> None:
    text = "".join(
        f'\n[[apis.{api}.routes]]\nroute = "GET /x"\nfunction = "items"\n' for api in ("a", "b")
    )
    assert [route.api for route in _load(_native(tmp_path, text)).routes] == ["a", "b"]


def test_two_default_routes_conflict(tmp_path: Path) -> None:
    text = "".join(
        f'\n[[apis.a.routes]]\nroute = "$default"\nfunction = "{fn}"\n' for fn in ("items", "auth")
    )
    assert "routes conflict on API 'a': '$default' (apis.a.routes[0]) and '$default'" in str(
        _error(_native(tmp_path, text))
    )


_ROUTE = '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "items"\n'
_REST = '[apis.a]\ntype = "rest"\n'


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        # unknown keys
        (
            "[apiz.a]\n",
            "apiz",
            "unknown key; expected one of defaults, functions, apis, "
            "got 'apiz' (did you mean 'apis'?)",
        ),
        ("[apis.a]\nstages = 'x'\n", "apis.a.stages", "unknown key; expected one of type, stage"),
        (
            '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "items"\nauth = "x"\n',
            "apis.a.routes[0].auth",
            "unknown key; expected one of route, function, payload_version, authorizer",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\nheader = "A"\n',
            "apis.a.authorizers.x.header",
            "unknown key; expected one of function, type",
        ),
        (
            "[apis.a]\ncors = { allow_origin = ['*'] }\n",
            "apis.a.cors.allow_origin",
            "(did you mean 'allow_origins'?)",
        ),
        # wrong types and values
        ("[apis.a]\ntype = 'graphql'\n", "apis.a.type", "must be 'http' or 'rest', got 'graphql'"),
        ("[apis.a]\nstage = 3\n", "apis.a.stage", "must be a non-empty string, got 3"),
        (
            "[apis.a]\nstage = 'my stage'\n",
            "apis.a.stage",
            "must be 1 to 128 letters, digits, '-' or '_' or '$default', got 'my stage'",
        ),
        (
            _REST + "stage = '$default'\n",
            "apis.a.stage",
            "must be 1 to 128 letters, digits, '-' or '_', got '$default'",
        ),
        (
            "[apis.a]\nstage_variables = 'env=dev'\n",
            "apis.a.stage_variables",
            "must be a mapping of names to values, got 'env=dev'",
        ),
        (
            "[apis.a]\nstage_variables = { 'a-b' = 'x' }\n",
            "apis.a.stage_variables",
            "stage variable names must be letters, digits or '_', got 'a-b'",
        ),
        (
            "[apis.a]\nstage_variables = { a = [1] }\n",
            "apis.a.stage_variables",
            "stage variable 'a' must be a string, got a list",
        ),
        (
            "[apis.a]\ncors = { allow_origins = '*' }\n",
            "apis.a.cors.allow_origins",
            "must be a list of non-empty strings, got '*'",
        ),
        (
            "[apis.a]\ncors = { max_age = '300' }\n",
            "apis.a.cors.max_age",
            "must be an integer from -1 to 86400, got '300'",
        ),
        (
            "[apis.a]\ncors = { allow_credentials = 'yes' }\n",
            "apis.a.cors.allow_credentials",
            "must be true or false, got 'yes'",
        ),
        (
            "[apis.a]\ncors = { allow_origins = ['*'], allow_credentials = true }\n",
            "apis.a.cors.allow_credentials",
            "must not be true when allow_origins has '*'",
        ),
        ("[apis.a]\ncors = true\n", "apis.a.cors", "must be a mapping, got true"),
        (
            "[apis.a]\nroutes = 'GET /x'\n",
            "apis.a.routes",
            "must be an array of [[apis.a.routes]] tables, got 'GET /x'",
        ),
        (
            "[apis.a]\ndefault_authorizer = 3\n",
            "apis.a.default_authorizer",
            "must be a non-empty string, got 3",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\n'
            'ttl = 4000\nidentity_sources = ["$request.header.A"]\n',
            "apis.a.authorizers.x.ttl",
            "must be an integer from 0 to 3600, got 4000",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\nsimple_responses = "true"\n',
            "apis.a.authorizers.x.simple_responses",
            "must be true or false, got 'true'",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\nidentity_sources = "$request.header.A"\n',
            "apis.a.authorizers.x.identity_sources",
            "must be a list of non-empty strings",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\npayload_version = "3.0"\n',
            "apis.a.authorizers.x.payload_version",
            "must be '1.0' or '2.0', got '3.0'",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\ntype = "jwt"\n',
            "apis.a.authorizers.x.type",
            "must be 'request' or 'token', got 'jwt'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "items"\npayload_version = 2\n',
            "apis.a.routes[0].payload_version",
            "must be '1.0' or '2.0', got 2",
        ),
        # required keys
        ('[[apis.a.routes]]\nfunction = "items"\n', "apis.a.routes[0].route", "is required"),
        ('[[apis.a.routes]]\nroute = "GET /x"\n', "apis.a.routes[0].function", "is required"),
        (
            "[apis.a.authorizers.x]\ntype = 'request'\n",
            "apis.a.authorizers.x.function",
            "is required",
        ),
        # names that refer to other things
        (
            '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "nope"\n',
            "apis.a.routes[0].function",
            "must name a function of this manifest (items, auth), got 'nope'",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "nope"\n',
            "apis.a.authorizers.x.function",
            "must name a function of this manifest (items, auth), got 'nope'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "items"\nauthorizer = "x"\n',
            "apis.a.routes[0].authorizer",
            "must be 'NONE' or an authorizer of API 'a' (none declared), got 'x'",
        ),
        (
            '[apis.a]\ndefault_authorizer = "x"\n[apis.a.authorizers.y]\nfunction = "auth"\n',
            "apis.a.default_authorizer",
            "must name an authorizer of this API (y), got 'x'",
        ),
        # routes
        (
            '[[apis.a.routes]]\nroute = "FETCH /x"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, "
            "OPTIONS, ANY (any case), got 'FETCH'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "must be 'METHOD /path'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET items"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "must start with '/', got 'items'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET /a{id}"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "path variables must be whole segments such as '{id}' or '{proxy+}', got 'a{id}'",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET /{id}/{id}"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "path variable names must be unique, got 'id' twice",
        ),
        (
            '[[apis.a.routes]]\nroute = "GET /a//b"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "must not contain an empty segment",
        ),
        # what REST APIs do not have
        (
            _REST + '[[apis.a.routes]]\nroute = "GET /items/"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "must not end with '/' on a REST API, got '/items/'",
        ),
        (
            _REST + '[[apis.a.routes]]\nroute = "$default"\nfunction = "items"\n',
            "apis.a.routes[0].route",
            "'$default' routes exist on HTTP APIs only",
        ),
        (
            _REST
            + '[[apis.a.routes]]\nroute = "GET /x"\nfunction = "items"\npayload_version = "2.0"\n',
            "apis.a.routes[0].payload_version",
            "REST APIs send payload format 1.0 only (Lambda proxy integration), got '2.0'",
        ),
        (
            _REST + '[apis.a.authorizers.x]\nfunction = "auth"\npayload_version = "2.0"\n',
            "apis.a.authorizers.x.payload_version",
            "applies to HTTP API authorizers only",
        ),
        (
            _REST + '[apis.a.authorizers.x]\nfunction = "auth"\nsimple_responses = true\nttl = 0\n',
            "apis.a.authorizers.x.simple_responses",
            "simple responses need an HTTP API authorizer with payload format 2.0",
        ),
        (
            _REST
            + '[apis.a.authorizers.x]\nfunction = "auth"\n'
            + 'identity_sources = ["$request.header.A"]\n',
            "apis.a.authorizers.x.identity_sources",
            "identity sources of a REST API are written like 'method.request.header.Authorization'"
            ", got '$request.header.A'",
        ),
        (
            _REST
            + '[apis.a.authorizers.x]\nfunction = "auth"\ntype = "token"\n'
            + 'identity_sources = ["method.request.querystring.t"]\n',
            "apis.a.authorizers.x.identity_sources",
            "a TOKEN authorizer reads exactly one header",
        ),
        (
            _REST
            + '[apis.a.authorizers.x]\nfunction = "auth"\ntype = "token"\nvalidation_regex = "("\n',
            "apis.a.authorizers.x.validation_regex",
            "must be a regular expression, got '('",
        ),
        (
            _REST + '[apis.a.authorizers.x]\nfunction = "auth"\nttl = 60\n',
            "apis.a.authorizers.x.identity_sources",
            "caching for 60 s needs at least one identity source",
        ),
        # what HTTP APIs do not have
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\ntype = "token"\n',
            "apis.a.authorizers.x.type",
            "TOKEN authorizers exist on REST APIs only",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\n'
            'payload_version = "1.0"\nsimple_responses = true\n',
            "apis.a.authorizers.x.simple_responses",
            "simple responses need an HTTP API authorizer with payload format 2.0, got true",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\n'
            'identity_sources = ["method.request.header.A"]\n',
            "apis.a.authorizers.x.identity_sources",
            "identity sources of an HTTP API are written like '$request.header.Authorization'",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\nvalidation_regex = ".*"\n',
            "apis.a.authorizers.x.validation_regex",
            "a validation expression applies to TOKEN authorizers only",
        ),
        (
            '[apis.a.authorizers.x]\nfunction = "auth"\nttl = 60\n',
            "apis.a.authorizers.x.identity_sources",
            "caching for 60 s needs at least one identity source",
        ),
    ],
)
def test_native_errors(tmp_path: Path, text: str, field: str, message: str) -> None:
    error = _error(_native(tmp_path, text))
    assert error.field == field
    assert message in error.message


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("url = 'yes'\n", "url", "must be a table, got 'yes'"),
        (
            "url = { auth = 'NONE' }\n",
            "url.auth",
            "unknown key; expected one of auth_type, invoke_mode, cors",
        ),
        (
            "url = { auth_type = 'IAM' }\n",
            "url.auth_type",
            "must be 'NONE' or 'AWS_IAM', got 'IAM'",
        ),
        (
            "url = { invoke_mode = 'STREAM' }\n",
            "url.invoke_mode",
            "must be 'BUFFERED' or 'RESPONSE_STREAM', got 'STREAM'",
        ),
        (
            "url = { cors = { max_age = 100000 } }\n",
            "url.cors.max_age",
            "must be an integer from 0 to 86400, got 100000",
        ),
        ("url = { cors = { origins = ['*'] } }\n", "url.cors.origins", "unknown key"),
        (
            "url = { cors = { max_age = -1 } }\n",
            "url.cors.max_age",
            "must be an integer from 0 to 86400, got -1",
        ),
        (
            "url = { cors = { allow_methods = ['GET', 'PUT', 'POST', 'HEAD', 'PATCH', 'DELETE', "
            "'OPTIONS'] } }\n",
            "url.cors.allow_methods",
            "must list at most 6 items for a function URL, got 7",
        ),
    ],
)
def test_native_url_errors(tmp_path: Path, text: str, field: str, message: str) -> None:
    path = tmp_path / "lambda-emu.toml"
    path.write_text(_NATIVE_FUNCTIONS.replace("[functions.items]\n", "[functions.items]\n" + text))
    error = _error(path)
    assert (error.function, error.field) == ("items", field)
    assert message in error.message


def test_native_url_in_defaults_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "lambda-emu.toml"
    path.write_text(_NATIVE_FUNCTIONS.replace("[defaults]\n", "[defaults]\nurl = {}\n"))
    with pytest.raises(ManifestError, match=r"field 'defaults\.url': unknown key"):
        load_manifest(path)


# --- SAM template.yaml ------------------------------------------------------------------------


def test_sam_fixture_uses_every_key() -> None:
    functions = load_manifest(FIXTURE)
    assert [function.name for function in functions] == [
        "echo",
        "UrlFunction",
        "SimpleAuthorizerFunction",
        "policy-authorizer",
    ]
    http = load_http(FIXTURE, functions)
    apis = {api.name: api for api in http.apis}
    assert list(apis) == ["ShopApi", "ShopRestApi", "ServerlessHttpApi", "ServerlessRestApi"]

    shop = apis["ShopApi"]
    assert (shop.kind, shop.stage, shop.default_authorizer) == ("http", "dev", "SimpleAuth")
    # Globals.HttpApi.StageVariables merged under the API's own
    assert dict(shop.stage_variables) == {"shared": "from-globals", "env": "dev"}
    assert shop.cors == Cors(
        allow_origins=("https://shop.example.com",),
        allow_methods=("GET", "POST"),
        allow_headers=("authorization", "content-type"),
        expose_headers=("x-request-id",),
        allow_credentials=True,
        max_age_s=600,
    )
    assert shop.authorizers["SimpleAuth"] == Authorizer(
        name="SimpleAuth",
        function="SimpleAuthorizerFunction",
        payload_version="2.0",
        simple_responses=True,
        identity_sources=("$request.header.Authorization",),
        ttl_s=300,
    )
    assert shop.authorizers["PolicyAuth"] == Authorizer(
        name="PolicyAuth",
        function="policy-authorizer",
        payload_version="1.0",
        identity_sources=("$request.header.Authorization", "$request.querystring.tenant"),
        ttl_s=0,
    )

    rest = apis["ShopRestApi"]
    assert (rest.kind, rest.stage, rest.default_authorizer) == ("rest", "test", "TokenAuth")
    assert dict(rest.stage_variables) == {"shared": "from-globals", "env": "test"}
    assert rest.cors == Cors(
        allow_origins=("https://shop.example.com",),
        allow_methods=("GET", "POST", "OPTIONS"),
        allow_headers=("Authorization", "Content-Type"),
        allow_credentials=True,
        max_age_s=600,
    )
    assert rest.authorizers["TokenAuth"] == Authorizer(
        name="TokenAuth",
        function="policy-authorizer",
        kind="token",
        payload_version="1.0",
        identity_sources=("method.request.header.Authorization",),
        ttl_s=60,
        validation_regex="^(allow|deny|other)$",
    )
    assert rest.authorizers["RequestAuth"] == Authorizer(
        name="RequestAuth",
        function="policy-authorizer",
        kind="request",
        payload_version="1.0",
        identity_sources=("method.request.header.Authorization",),
        ttl_s=0,
    )
    # Globals.Api.Auth merges into every REST API: its authorizer joins, the API's default wins
    assert list(rest.authorizers) == ["GlobalToken", "TokenAuth", "RequestAuth"]

    implicit_http = apis["ServerlessHttpApi"]
    assert (implicit_http.stage, implicit_http.cors) == ("$default", Cors(allow_origins=("*",)))
    assert dict(implicit_http.stage_variables) == {"shared": "from-globals", "env": "global"}
    implicit_rest = apis["ServerlessRestApi"]
    assert (implicit_rest.stage, implicit_rest.cors) == ("Prod", Cors(allow_origins=("*",)))
    assert implicit_rest.default_authorizer == "GlobalToken"
    assert implicit_rest.authorizers["GlobalToken"].ttl_s == 300  # REST's default

    events = "Resources.EchoFunction.Properties.Events."
    assert http.routes == (
        HttpRoute("ShopApi", "GET", "/items/{id}", "echo", "2.0", None, events + "HttpGetItem"),
        HttpRoute(
            "ShopApi", "POST", "/items", "echo", "1.0", "PolicyAuth", events + "HttpPostItem"
        ),
        HttpRoute(
            "ShopApi", "ANY", "/public/{proxy+}", "echo", "2.0", "NONE", events + "HttpPublic"
        ),
        HttpRoute(
            "ShopRestApi", "GET", "/orders/{id}", "echo", "1.0", None, events + "RestGetOrder"
        ),
        HttpRoute(
            "ShopRestApi", "POST", "/orders", "echo", "1.0", "RequestAuth", events + "RestPostOrder"
        ),
        HttpRoute(
            "ShopRestApi", "ANY", "/files/{proxy+}", "echo", "1.0", "NONE", events + "RestFiles"
        ),
        HttpRoute(
            "ServerlessHttpApi", "GET", "/hello", "echo", "2.0", None, events + "ImplicitHello"
        ),
        HttpRoute(
            "ServerlessHttpApi", "ANY", "$default", "echo", "2.0", None, events + "ImplicitDefault"
        ),
        HttpRoute(
            "ServerlessRestApi", "GET", "/ping", "echo", "1.0", None, events + "ImplicitPing"
        ),
        HttpRoute(
            "ServerlessRestApi", "GET", "/open", "echo", "1.0", "NONE", events + "ImplicitOpen"
        ),
    )
    assert http.urls == (
        FunctionUrl(function="echo", auth_type="NONE", invoke_mode="BUFFERED"),
        FunctionUrl(
            function="UrlFunction",
            auth_type="AWS_IAM",
            cors=Cors(
                allow_origins=("https://shop.example.com",),
                allow_methods=("GET", "POST"),
                allow_headers=("content-type",),
                expose_headers=("x-request-id",),
                allow_credentials=True,
                max_age_s=300,
            ),
        ),
    )


_SAM_HEAD = """
Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    CodeUri: .
{function_globals}
{globals}
Resources:
  Items:
    Type: AWS::Serverless::Function
    Properties:
{items}
  Auth:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: auth-fn
{resources}
"""


def _sam(
    tmp_path: Path,
    items: str = "",
    resources: str = "",
    globals_: str = "",
    function_globals: str = "",
) -> Path:
    def block(text: str, indent: int) -> str:
        return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * indent)

    path = tmp_path / "template.yaml"
    path.write_text(
        _SAM_HEAD.format(
            globals=block(globals_, 2),
            function_globals=block(function_globals, 4),
            items=block(items, 6) or "      Timeout: 3",
            resources=block(resources, 2),
        )
    )
    return path


def _events(text: str) -> str:
    return "Events:\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def test_sam_http_api_events(tmp_path: Path) -> None:
    path = _sam(
        tmp_path,
        _events(
            """
            Default:
              Type: HttpApi
            Get:
              Type: HttpApi
              Properties:
                Path: /items/{id}
                Method: get
                PayloadFormatVersion: 1.0
                TimeoutInMillis: 5000
            Any:
              Type: HttpApi
              Properties: {Path: '/{proxy+}', Method: any}
            AnyToo:
              Type: HttpApi
              Properties: {Path: '/any', Method: x-amazon-apigateway-any-method}
            Other:
              Type: Schedule
              Properties: {Schedule: rate(1 minute)}
            """
        ),
    )
    http = _load(path)
    (api,) = http.apis
    assert (api.name, api.kind, api.stage, api.cors, api.authorizers) == (
        "ServerlessHttpApi",
        "http",
        "$default",
        None,
        {},
    )
    assert [(r.route_key, r.payload_version, r.function) for r in http.routes] == [
        ("$default", "2.0", "Items"),
        ("GET /items/{id}", "1.0", "Items"),
        ("ANY /{proxy+}", "2.0", "Items"),
        ("ANY /any", "2.0", "Items"),
    ]


def test_sam_rest_api_events_and_token_defaults(tmp_path: Path) -> None:
    path = _sam(
        tmp_path,
        _events(
            """
            Get:
              Type: Api
              Properties:
                Path: /items/{id}
                Method: GET
                RestApiId: !Ref Rest
                Auth: {Authorizer: Tok, ApiKeyRequired: false}
            """
        ),
        """
        Rest:
          Type: AWS::Serverless::Api
          Properties:
            StageName: prod
            Cors: "'*'"
            Auth:
              Authorizers:
                Tok:
                  FunctionArn: !GetAtt Auth.Arn
                Req:
                  FunctionArn: {"Fn::GetAtt": [Auth, Arn]}
                  FunctionPayloadType: REQUEST
                  Identity: {ReauthorizeEvery: 0}
        """,
    )
    http = _load(path)
    (rest,) = http.apis
    assert (rest.name, rest.stage, rest.cors) == ("Rest", "prod", Cors(allow_origins=("*",)))
    # SAM's TOKEN defaults: the Authorization header, API Gateway's 300 s
    assert rest.authorizers["Tok"] == Authorizer(
        name="Tok",
        function="auth-fn",
        kind="token",
        payload_version="1.0",
        identity_sources=("method.request.header.Authorization",),
        ttl_s=300,
    )
    # REQUEST with caching off needs no identity (SAMT model/apigateway.py)
    assert rest.authorizers["Req"].identity_sources == ()
    assert [(r.route_key, r.payload_version, r.authorizer) for r in http.routes] == [
        ("GET /items/{id}", "1.0", "Tok")
    ]


def test_sam_parameters_and_globals_function_url(tmp_path: Path) -> None:
    path = _sam(
        tmp_path,
        "FunctionUrlConfig: {Cors: {AllowOrigins: ['*']}}",
        """
        Api:
          Type: AWS::Serverless::HttpApi
          Properties:
            StageName: !Ref Stage
            StageVariables: {table: !Ref Table, stage: !Ref Stage, arn: !GetAtt Items.Arn}
            Auth:
              Authorizers:
                A:
                  FunctionArn: !Ref AuthArn
                  AuthorizerPayloadFormatVersion: 2.0
                  Identity: {Headers: [X-Key], ReauthorizeEvery: !Ref Ttl}
        """,
        function_globals="""
          FunctionUrlConfig:
            AuthType: AWS_IAM
            InvokeMode: RESPONSE_STREAM
        """,
    )
    path.write_text(
        "Parameters:\n  Stage: {Type: String, Default: beta}\n"
        "  Ttl: {Type: Number, Default: '30'}\n"
        "  AuthArn: {Type: String, Default: 'arn:aws:lambda:us-east-1:1:function:auth-fn'}\n"
        + path.read_text()
    )
    http = _load(path)
    (api,) = http.apis
    assert api.stage == "beta"
    # parameters resolve; other intrinsics leave the variable unset
    assert dict(api.stage_variables) == {"stage": "beta"}
    assert api.authorizers["A"].function == "auth-fn"  # ⚠ a literal ARN of a served function
    assert api.authorizers["A"].ttl_s == 30
    # Globals.Function.FunctionUrlConfig reaches every function; maps merge key by key
    assert http.urls == (
        FunctionUrl("Items", "AWS_IAM", Cors(allow_origins=("*",)), "RESPONSE_STREAM"),
        FunctionUrl("auth-fn", "AWS_IAM", None, "RESPONSE_STREAM"),
    )


def test_sam_error_is_the_exact_one_line_message(tmp_path: Path) -> None:
    path = _sam(tmp_path, _events("E:\n  Type: Api\n  Properties: {Path: '$default', Method: GET}"))
    assert str(_error(path)) == (
        f"{path}: function 'Items': field 'Events.E.Properties.Path': '$default' routes exist "
        "on HTTP APIs only (a REST API has no default route), got '$default'"
    )


def test_sam_conflicting_routes_name_both(tmp_path: Path) -> None:
    path = _sam(
        tmp_path,
        _events("A:\n  Type: HttpApi\n  Properties: {Path: '/items/{id}', Method: GET}"),
    )
    path.write_text(
        path.read_text()
        + "      Events:\n        B:\n          Type: HttpApi\n"
        + "          Properties: {Path: '/items/{name}', Method: get}\n"
    )
    assert str(_error(path)) == (
        f"{path}: routes conflict on API 'ServerlessHttpApi': 'GET /items/{{id}}' "
        "(Resources.Items.Properties.Events.A) and 'GET /items/{name}' "
        "(Resources.Auth.Properties.Events.B) have the same method and path"
    )


_HTTP_API = """
Api:
  Type: AWS::Serverless::HttpApi
  Properties:
{}
"""
_REST_API = """
Api:
  Type: AWS::Serverless::Api
  Properties:
    StageName: prod
{}
"""


def _api(template: str, properties: str) -> str:
    return template.format(textwrap.indent(textwrap.dedent(properties).strip("\n"), "    "))


def _auth(kind: str, body: str, default: str = "") -> str:
    authorizer = textwrap.indent(textwrap.dedent(body).strip("\n"), "      ")
    return _api(
        _HTTP_API if kind == "http" else _REST_API,
        f"Auth:\n{default}  Authorizers:\n    A:\n{authorizer}",
    )


_HTTP_EVENT = "E:\n  Type: HttpApi\n  Properties: {ApiId: !Ref Api, Path: /x, Method: GET%s}"
_REST_EVENT = "E:\n  Type: Api\n  Properties: {RestApiId: !Ref Api, Path: /x, Method: GET%s}"
_ARN = "FunctionArn: !GetAtt Auth.Arn\n"


@pytest.mark.parametrize(
    ("events", "resources", "function", "field", "message"),
    [
        # events
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: /x}",
            "",
            "Items",
            "Events.E.Properties.Method",
            "is required (an HttpApi event with neither is the $default route), got nothing",
        ),
        (
            "E:\n  Type: Api\n  Properties: {Method: GET}",
            "",
            "Items",
            "Events.E.Properties.Path",
            "is required, got nothing",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: /x, Method: FETCH}",
            "",
            "Items",
            "Events.E.Properties.Method",
            "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, "
            "OPTIONS, ANY (any case), got 'FETCH'",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: x, Method: GET}",
            "",
            "Items",
            "Events.E.Properties.Path",
            "must start with '/', got 'x'",
        ),
        (
            "E:\n  Type: Api\n  Properties: {Path: '/{proxy+}/x', Method: GET}",
            "",
            "Items",
            "Events.E.Properties.Path",
            "a greedy path variable ('{proxy+}') must be the last segment",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: $default, Method: GET}",
            "",
            "Items",
            "Events.E.Properties.Method",
            "must be ANY (or left out) on the $default route, got 'GET'",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: /x, "
            "Method: GET, PayloadFormatVersion: '3.0'}",
            "",
            "Items",
            "Events.E.Properties.PayloadFormatVersion",
            "must be '1.0' or '2.0', got '3.0'",
        ),
        (
            "E:\n  Type: Api\n  Properties: {Path: /x, Method: GET, PayloadFormatVersion: '2.0'}",
            "",
            "Items",
            "Events.E.Properties.PayloadFormatVersion",
            "REST APIs (Type: Api) send payload format 1.0 only",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Paht: /x}",
            "",
            "Items",
            "Events.E.Properties.Paht",
            "unknown key; expected one of Path, Method, ApiId, Auth, PayloadFormatVersion"
            ", got 'Paht' (did you mean 'Path'?)",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: !Sub '/x', Method: GET}",
            "",
            "Items",
            "Events.E.Properties.Path",
            "intrinsic functions are not resolved for this field",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {ApiId: !Ref Nope, Path: /x, Method: GET}",
            "",
            "Items",
            "Events.E.Properties.ApiId",
            "must be !Ref to an AWS::Serverless::HttpApi of this template, got !Ref Nope",
        ),
        (
            "E:\n  Type: Api\n  Properties: {RestApiId: !Ref Api, Path: /x, Method: GET}",
            _api(_HTTP_API, "StageName: a"),
            "Items",
            "Events.E.Properties.RestApiId",
            "must be !Ref to an AWS::Serverless::Api of this template, got !Ref Api",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: /x, Method: GET, Auth: {Authorizer: A}}",
            "",
            "Items",
            "Events.E.Properties.Auth.Authorizer",
            "must be 'NONE' or an authorizer of API 'ServerlessHttpApi' (none declared), got 'A'",
        ),
        (
            "E:\n  Type: HttpApi\n  Properties: {Path: /x, Method: GET, Auth: {Authorizer: NONE}}",
            "",
            "Items",
            "Events.E.Properties.Auth.Authorizer",
            "'NONE' only turns off a DefaultAuthorizer, and API 'ServerlessHttpApi' has none",
        ),
        (
            "E:\n  Type: Api\n  Properties: {Path: /x, Method: GET, Auth: {Authorizer: AWS_IAM}}",
            "",
            "Items",
            "Events.E.Properties.Auth.Authorizer",
            "IAM authorization of API routes is not emulated",
        ),
        (
            "E:\n  Type: Api\n  Properties: {Path: /x, Method: GET, Auth: {Authoriser: A}}",
            "",
            "Items",
            "Events.E.Properties.Auth.Authoriser",
            "unknown key; expected one of Authorizer",
        ),
        # function URLs
        (
            "",
            "",
            "Items",
            "FunctionUrlConfig.AuthType",
            "is required ('NONE' or 'AWS_IAM'), got nothing",
        ),
        # APIs
        (
            _REST_EVENT % "",
            "Api:\n  Type: AWS::Serverless::Api\n  Properties: {Cors: \"'*'\"}",
            None,
            "Resources.Api.Properties.StageName",
            "is required for an AWS::Serverless::Api, got nothing",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "StageName: !Sub '${AWS::StackName}'"),
            None,
            "Resources.Api.Properties.StageName",
            "intrinsic functions are not resolved for this field",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "StageName: 'a b'"),
            None,
            "Resources.Api.Properties.StageName",
            "must be 1 to 128 letters, digits",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "StageVariables: [a]"),
            None,
            "Resources.Api.Properties.StageVariables",
            "must be a mapping of names to values, got a list",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "CorsConfiguration: {AllowOrigin: ['*']}"),
            None,
            "Resources.Api.Properties.CorsConfiguration.AllowOrigin",
            "(did you mean 'AllowOrigins'?)",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "CorsConfiguration: {AllowOrigins: ['*'], AllowCredentials: true}"),
            None,
            "Resources.Api.Properties.CorsConfiguration.AllowCredentials",
            "must not be true when AllowOrigins has '*'",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "CorsConfiguration: false"),
            None,
            "Resources.Api.Properties.CorsConfiguration",
            "must be true or a mapping of CORS settings, got false",
        ),
        (
            _REST_EVENT % "",
            _api(_REST_API, "Cors: '*'"),
            None,
            "Resources.Api.Properties.Cors",
            "must be a header value in single quotes, as SAM writes it",
        ),
        (
            _REST_EVENT % "",
            _api(_REST_API, "Cors: {AllowMethods: \"'GET'\"}"),
            None,
            "Resources.Api.Properties.Cors.AllowOrigin",
            "is required",
        ),
        (
            _REST_EVENT % "",
            _api(_REST_API, "Cors: {AllowOrigin: \"'*'\", MaxAge: \"'soon'\"}"),
            None,
            "Resources.Api.Properties.Cors.MaxAge",
            "must be a quoted number of seconds from 0 to 86400",
        ),
        (
            _REST_EVENT % "",
            _api(_REST_API, "Cors: {AllowOrigin: \"'*'\", ExposeHeaders: \"'x'\"}"),
            None,
            "Resources.Api.Properties.Cors.ExposeHeaders",
            "unknown key",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "Auth: {DefaultAuthorizer: A}"),
            None,
            "Resources.Api.Properties.Auth.DefaultAuthorizer",
            "must name an authorizer of this API (none declared), got 'A'",
        ),
        (
            _REST_EVENT % "",
            _api(_REST_API, "Auth: {DefaultAuthorizer: AWS_IAM}"),
            None,
            "Resources.Api.Properties.Auth.DefaultAuthorizer",
            "IAM authorization of API routes is not emulated",
        ),
        (
            _HTTP_EVENT % "",
            _api(_HTTP_API, "Auth: {Authorisers: {}}"),
            None,
            "Resources.Api.Properties.Auth.Authorisers",
            "unknown key; expected one of Authorizers, DefaultAuthorizer",
        ),
        # authorizers
        (
            _HTTP_EVENT % "",
            _auth("http", "AuthorizerPayloadFormatVersion: '2.0'\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.FunctionArn",
            "is required",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                "FunctionArn: arn:aws:lambda:us-east-1:1:function:other\n"
                "AuthorizerPayloadFormatVersion: '2.0'\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.FunctionArn",
            "must be !GetAtt <Function>.Arn of an AWS::Serverless::Function or "
            "AWS::Lambda::Function of this template, got 'arn:aws:lambda",
        ),
        (
            _HTTP_EVENT % "",
            _auth("http", "FunctionArn: !GetAtt Api.Arn\nAuthorizerPayloadFormatVersion: '2.0'\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.FunctionArn",
            "got !GetAtt",
        ),
        (
            _HTTP_EVENT % "",
            _auth("http", _ARN),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.AuthorizerPayloadFormatVersion",
            "is required ('1.0' or '2.0'), got nothing",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http", _ARN + "AuthorizerPayloadFormatVersion: '2.0'\nFunctionPayloadType: TOKEN\n"
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.FunctionPayloadType",
            "TOKEN authorizers exist on REST APIs only",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                _ARN + "AuthorizerPayloadFormatVersion: '1.0'\nEnableSimpleResponses: true\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.EnableSimpleResponses",
            "simple responses need an HTTP API authorizer with payload format 2.0",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                _ARN + "AuthorizerPayloadFormatVersion: '2.0'\nIdentity: {ReauthorizeEvery: 60}\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity",
            "caching for 60 s needs at least one identity source",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                _ARN
                + "AuthorizerPayloadFormatVersion: '2.0'\n"
                + "Identity: {Headers: [A], ReauthorizeEvery: 7200}\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity.ReauthorizeEvery",
            "must be an integer from 0 to 3600, got 7200",
        ),
        (
            _HTTP_EVENT % "",
            _auth("http", _ARN + "AuthorizerPayloadFormatVersion: '2.0'\nIdentity: {Header: A}\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity.Header",
            "unknown key; expected one of Headers, QueryStrings, StageVariables, "
            "Context, ReauthorizeEvery",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                _ARN
                + "AuthorizerPayloadFormatVersion: '2.0'\nIdentity: {Headers: Authorization}\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity.Headers",
            "must be a list of non-empty strings, got 'Authorization'",
        ),
        (
            _HTTP_EVENT % "",
            _auth(
                "http",
                "JwtConfiguration: {issuer: x}\nIdentitySource: $request.header.Authorization\n",
            ),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.JwtConfiguration",
            "only Lambda authorizers are emulated",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", "UserPoolArn: arn:x\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.UserPoolArn",
            "only Lambda authorizers are emulated",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", _ARN + "FunctionPayloadType: BASIC\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.FunctionPayloadType",
            "must be 'TOKEN' or 'REQUEST', got 'BASIC'",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", _ARN + "FunctionPayloadType: REQUEST\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity",
            "caching for 300 s needs at least one identity source",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", _ARN + "Identity: {Headers: [A]}\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity.Headers",
            "unknown key; expected one of Header, ValidationExpression, ReauthorizeEvery",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", _ARN + "Identity: {ValidationExpression: '[a'}\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.Identity.ValidationExpression",
            "must be a regular expression, got '[a'",
        ),
        (
            _REST_EVENT % "",
            _auth("rest", _ARN + "AuthorizerPayloadFormatVersion: '2.0'\n"),
            None,
            "Resources.Api.Properties.Auth.Authorizers.A.AuthorizerPayloadFormatVersion",
            "unknown key",
        ),
    ],
)
def test_sam_errors(
    tmp_path: Path, events: str, resources: str, function: str | None, field: str, message: str
) -> None:
    items = _events(events) if events else "FunctionUrlConfig: {InvokeMode: BUFFERED}"
    error = _error(_sam(tmp_path, items, resources))
    assert (error.function, error.field) == (function, field)
    assert message in error.message


@pytest.mark.parametrize(
    ("globals_", "field", "message"),
    [
        (
            "Api:\n  StageName: v1",
            "Globals.Api.StageName",
            "unknown key; expected one of Auth, Name",
        ),
        (
            "HttpApi:\n  StageVariables: {a: [1]}",
            "Globals.HttpApi.StageVariables",
            "stage variable 'a' must be a string",
        ),
        (
            "HttpApi:\n  CorsConfiguration: {MaxAge: -2}",
            "Globals.HttpApi.CorsConfiguration.MaxAge",
            "must be an integer from -1 to 86400, got -2",
        ),
    ],
)
def test_sam_globals_errors_name_the_globals_field(
    tmp_path: Path, globals_: str, field: str, message: str
) -> None:
    items = _events("E:\n  Type: HttpApi\nR:\n  Type: Api\n  Properties: {Path: /x, Method: GET}")
    error = _error(_sam(tmp_path, items, globals_=globals_))
    assert error.field == field
    assert message in error.message


def test_native_apis_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "lambda-emu.toml"
    path.write_text("apis = 3\n" + _NATIVE_FUNCTIONS)
    error = _error(path)
    assert (error.field, error.message) == (
        "apis",
        "must be a table of [apis.<name>] tables, got 3",
    )


def test_sam_without_http_events_serves_nothing(tmp_path: Path) -> None:
    assert _load(_sam(tmp_path)) == HttpConfig()


def test_unknown_manifest_suffix(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"expected a \.toml"):
        load_http(tmp_path / "manifest.json", ())


def test_the_documented_toml_example_loads(tmp_path: Path) -> None:
    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    (example,) = [
        block.split("```", 1)[0]
        for block in doc.split("```toml\n")[1:]
        if block.startswith("[apis.shop]")
    ]
    path = tmp_path / "lambda-emu.toml"
    path.write_text(
        '[defaults]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "."\n'
        "[functions.authorizer]\n" + example + "\n[functions.items]\n"
    )
    http = _load(path)
    assert [route.route_key for route in http.routes] == ["GET /items/{id}"]
    assert http.apis[0].authorizers["auth"].ttl_s == 300
    assert http.urls[0].function == "items"


def test_rest_binary_media_types_from_sam_and_native(tmp_path: Path) -> None:
    """SAM's BinaryMediaTypes (Globals.Api or the API's own; `~1` is `/`) and the native
    `binary_media_types`; an HTTP API has none (a one-line error)."""
    sam = _sam(
        tmp_path,
        _events("Get:\n  Type: Api\n  Properties: {Path: /img, Method: get}"),
        globals_="Api:\n  BinaryMediaTypes: ['image~1png', 'application/*']",
    )
    (api,) = _load(sam).apis
    assert (api.kind, api.binary_media_types) == ("rest", ("image/png", "application/*"))
    native = _native(
        tmp_path,
        """
        [apis.shop]
        type = "rest"
        binary_media_types = ["image/*"]
        [[apis.shop.routes]]
        route = "GET /img"
        function = "items"
        """,
    )
    (api,) = _load(native).apis
    assert api.binary_media_types == ("image/*",)
    native.write_text(native.read_text().replace('type = "rest"', 'type = "http"'))
    assert "binary_media_types" in str(_error(native))
    native.write_text(
        native.read_text().replace('type = "http"', 'type = "rest"').replace('"image/*"', '"png"')
    )
    assert "must be media types like 'image/png' or 'image/*', got 'png'" in str(_error(native))
