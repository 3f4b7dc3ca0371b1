"""`lambda-emu.toml`'s front door: `[apis.<name>]` tables and `[functions.<name>.url]`.

    [apis.shop]
    type = "http"                       # or "rest"
    stage = "$default"
    stage_variables = { env = "dev" }
    binary_media_types = ["image/png"] # REST only
    cors = { allow_origins = ["*"], ... }
    default_authorizer = "auth"
    [apis.shop.authorizers.auth]
    function = "authorizer"
    ...
    [[apis.shop.routes]]
    route = "GET /items/{id}"           # "ANY /{proxy+}", "$default"
    function = "items"

The same things as SAM's, in this format's own words (docs/configuration.md).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import cast

from emulator.errors import ManifestError
from emulator.frontdoor.model import (
    ANY,
    DEFAULT_ROUTE,
    ApiKind,
    Authorizer,
    AuthorizerKind,
    FunctionUrl,
    HttpApi,
    HttpRoute,
    InvokeMode,
    UrlAuthType,
)
from emulator.manifests import http
from emulator.manifests.http import ApiDraft, Drafts, RouteDraft, Scope
from emulator.manifests.validate import show

API_KEYS = (
    "type",
    "stage",
    "stage_variables",
    "cors",
    "default_authorizer",
    "authorizers",
    "routes",
    "binary_media_types",
)
AUTHORIZER_KEYS = (
    "function",
    "type",
    "payload_version",
    "simple_responses",
    "identity_sources",
    "ttl",
    "validation_regex",
)
ROUTE_KEYS = ("route", "function", "payload_version", "authorizer")
URL_KEYS = ("auth_type", "invoke_mode", "cors")
CORS_KEYS = {
    key: key
    for key in (
        "allow_origins",
        "allow_methods",
        "allow_headers",
        "expose_headers",
        "allow_credentials",
        "max_age",
    )
}
_AUTHORIZER_LABELS = {
    "kind": "type",
    "payload_version": "payload_version",
    "simple_responses": "simple_responses",
    "identity_sources": "identity_sources",
    "ttl": "ttl",
    "validation_regex": "validation_regex",
}
# Where an API of each type is served when `stage` is unset: an HTTP API's `$default` stage;
# for REST, SAM's implicit API's stage name (SAMT implicit_rest_api_plugin.py: "Prod").
_DEFAULT_STAGE: dict[ApiKind, str] = {"http": "$default", "rest": "Prod"}


def read_native_http(path: Path, text: str, functions: tuple[str, ...]) -> Drafts:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, f"invalid TOML: {exc}") from None
    drafts = Drafts()
    top = Scope(path)
    apis = top.mapping(doc.get("apis", {}), "apis", "a table of [apis.<name>] tables")
    for name, table in apis.items():
        _read_api(top.at("apis").at(name), name, table, functions, drafts)
    for name, table in top.mapping(doc.get("functions", {}), "functions").items():
        if isinstance(table, dict) and "url" in table:
            drafts.urls.append(_read_url(Scope(path, "url", name), name, table["url"]))
    return drafts


def _read_api(
    scope: Scope, name: str, value: object, functions: tuple[str, ...], drafts: Drafts
) -> None:
    table = scope.mapping(value, what="a table")
    scope.keys(table, API_KEYS)
    kind = cast(ApiKind, scope.choice(table.get("type", "http"), ("http", "rest"), "type"))
    authorizers: dict[str, Authorizer] = {}
    for auth_name, auth_table in scope.mapping(
        table.get("authorizers", {}), "authorizers", "a table of authorizer tables"
    ).items():
        authorizers[auth_name] = _read_authorizer(
            scope.at("authorizers").at(auth_name), auth_name, auth_table, kind, functions
        )
    default_authorizer = table.get("default_authorizer")
    api = HttpApi(
        name=name,
        kind=kind,
        stage=http.stage(scope, table.get("stage", _DEFAULT_STAGE[kind]), kind, "stage"),
        stage_variables=(
            http.stage_variables(scope, table["stage_variables"], "stage_variables")
            if "stage_variables" in table
            else MappingProxyType({})
        ),
        cors=http.cors(scope.at("cors"), table["cors"], CORS_KEYS) if "cors" in table else None,
        authorizers=MappingProxyType(authorizers),
        default_authorizer=(
            None
            if default_authorizer is None
            else scope.string(default_authorizer, "default_authorizer")
        ),
        source=scope.path,
        binary_media_types=(
            http.binary_media_types(scope, table["binary_media_types"], kind, "binary_media_types")
            if "binary_media_types" in table
            else ()
        ),
    )
    drafts.apis.append(ApiDraft(api, scope, "default_authorizer"))
    routes = table.get("routes", [])
    if not isinstance(routes, list):
        raise scope.fail(
            f"must be an array of [[{scope.prefix}.routes]] tables, got {show(routes)}", "routes"
        )
    for index, route in enumerate(routes):
        drafts.routes.append(
            _read_route(scope.at("routes").at(f"[{index}]"), api, route, functions)
        )


def _read_route(
    scope: Scope, api: HttpApi, value: object, functions: tuple[str, ...]
) -> RouteDraft:
    table = scope.mapping(value, what="a table")
    scope.keys(table, ROUTE_KEYS)
    if "route" not in table:
        raise scope.fail(
            "is required ('GET /items/{id}', 'ANY /{proxy+}' or '$default'), got nothing", "route"
        )
    if "function" not in table:
        raise scope.fail("is required: the function that serves the route, got nothing", "function")
    text = scope.string(table["route"], "route")
    if text == DEFAULT_ROUTE:
        method, route_path = ANY, http.route_path(scope, text, api.kind, "route")
    else:
        parts = text.split()
        if len(parts) != 2:
            raise scope.fail(
                "must be 'METHOD /path' (e.g. 'GET /items/{id}', 'ANY /{proxy+}') or "
                f"'$default', got {show(text)}",
                "route",
            )
        method = http.method(scope, parts[0], "route")
        route_path = http.route_path(scope, parts[1], api.kind, "route")
    default_version = "2.0" if api.kind == "http" else "1.0"
    version = scope.payload_version(
        table.get("payload_version", default_version), "payload_version"
    )
    if api.kind == "rest" and version != "1.0":
        raise scope.fail(
            "REST APIs send payload format 1.0 only (Lambda proxy integration), got '2.0'",
            "payload_version",
        )
    authorizer = table.get("authorizer")
    route = HttpRoute(
        api=api.name,
        method=method,
        path=route_path,
        function=http.function_name(scope, table["function"], functions, "function"),
        payload_version=version,
        authorizer=None if authorizer is None else scope.string(authorizer, "authorizer"),
        origin=scope.prefix,
    )
    return RouteDraft(route, scope, "authorizer")


def _read_authorizer(
    scope: Scope, name: str, value: object, kind: ApiKind, functions: tuple[str, ...]
) -> Authorizer:
    table = scope.mapping(value, what="a table")
    scope.keys(table, AUTHORIZER_KEYS)
    if "function" not in table:
        raise scope.fail("is required: the function that authorizes, got nothing", "function")
    auth_kind = cast(
        AuthorizerKind, scope.choice(table.get("type", "request"), ("request", "token"), "type")
    )
    if kind == "rest" and "payload_version" in table:
        raise scope.fail(
            "applies to HTTP API authorizers only (a REST API sends its own TOKEN or REQUEST "
            f"event), got {show(table['payload_version'])}",
            "payload_version",
        )
    if "identity_sources" in table:
        sources = scope.strings(table["identity_sources"], "identity_sources")
    elif auth_kind == "token":
        sources = ("method.request.header.Authorization",)  # as SAM's TOKEN default
    else:
        sources = ()
    default_ttl = http.REST_DEFAULT_TTL_S if kind == "rest" else http.HTTP_DEFAULT_TTL_S
    if auth_kind == "request" and kind == "rest" and not sources and "ttl" not in table:
        default_ttl = 0  # nothing to key a cache on; REST caches only with identity sources
    regex = table.get("validation_regex")
    authorizer = Authorizer(
        name=name,
        function=http.function_name(scope, table["function"], functions, "function"),
        kind=auth_kind,
        payload_version=(
            scope.payload_version(table.get("payload_version", "2.0"), "payload_version")
            if kind == "http"
            else "1.0"
        ),
        simple_responses=scope.boolean(table.get("simple_responses", False), "simple_responses"),
        identity_sources=sources,
        ttl_s=scope.integer(table.get("ttl", default_ttl), 0, http.TTL_MAX_S, "ttl"),
        validation_regex=None if regex is None else scope.string(regex, "validation_regex"),
    )
    return http.check_authorizer(scope, authorizer, kind, _AUTHORIZER_LABELS)


def _read_url(scope: Scope, function: str, value: object) -> FunctionUrl:
    table = scope.mapping(value, what="a table")
    scope.keys(table, URL_KEYS)
    return FunctionUrl(
        function=function,
        auth_type=cast(
            UrlAuthType,
            scope.choice(table.get("auth_type", "NONE"), ("NONE", "AWS_IAM"), "auth_type"),
        ),
        cors=(
            http.cors(scope.at("cors"), table["cors"], CORS_KEYS, function_url=True)
            if "cors" in table
            else None
        ),
        invoke_mode=cast(
            InvokeMode,
            scope.choice(
                table.get("invoke_mode", "BUFFERED"), ("BUFFERED", "RESPONSE_STREAM"), "invoke_mode"
            ),
        ),
    )
