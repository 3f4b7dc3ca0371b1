"""The HTTP front door's half of a manifest: APIs, routes, Lambda authorizers, function URLs.

    load_http(path, functions):
        .toml       ─► http_native.read_native_http ─┐
        .yaml/.yml  ─► http_sam.read_sam_http ───────┴─► Drafts ─► assemble ─► HttpConfig

(`Drafts`: the model's `HttpApi`s, `HttpRoute`s and `FunctionUrl`s, with where each is declared.)

Each reader turns its own syntax into the shared model (`emulator.frontdoor.model`) through
the helpers here, so the rules and their one-line messages are the same in both formats:
`Scope` (typed values, unknown keys), `route_path`/`method` (API Gateway's route syntax),
`check_authorizer` (what each API type allows) and `assemble` (names that refer to other
things, and conflicting routes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from emulator.errors import ManifestError
from emulator.frontdoor.model import (
    ANY,
    DEFAULT_ROUTE,
    ApiKind,
    Authorizer,
    Cors,
    FunctionUrl,
    HttpApi,
    HttpConfig,
    HttpRoute,
    PayloadVersion,
)
from emulator.manifests.validate import _one_of, show, unknown_key

# API Gateway's methods; `ANY` is every one of them (AG http-api-develop-routes.md; REST:
# `x-amazon-apigateway-any-method`).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", ANY)
PAYLOAD_VERSIONS: dict[str, PayloadVersion] = {"1.0": "1.0", "2.0": "2.0"}

# Authorizer result caching: 0 (off) to 3600 s (BOTO apigateway/apigatewayv2
# `authorizerResultTtlInSeconds`). REST's default when unset is 300 s (AG API_Authorizer:
# "If this field is not set, the default value is 300"; SAM docs
# sam-property-api-lambdatokenauthorizationidentity: "Default: 300").
TTL_MAX_S = 3600
REST_DEFAULT_TTL_S = 300
# ⚠ HTTP APIs: SAM documents no default for ReauthorizeEvery and only writes
# `authorizerResultTtlInSeconds` when it is set (SAMT model/apigatewayv2.py); apigatewayv2's
# reference gives none either (its early text "default 300" was copied from REST's when only
# WebSocket APIs, which do not cache, existed). We take unset as 0: no caching.
HTTP_DEFAULT_TTL_S = 0

# Identity sources in each API type's own notation (AG http-api-lambda-authorizer.md
# "Identity sources"; AG apigateway-use-lambda-authorizer.md, BOTO apigateway `identitySource`).
_HTTP_IDENTITY = re.compile(
    r"\$request\.(?:header|querystring)\.[^\s,]+|\$context\.[\w.$-]+|\$stageVariables\.\w+"
)
_REST_IDENTITY = re.compile(
    r"method\.request\.(?:header|querystring)\.[^\s,]+|context\.[\w.$-]+|stageVariables\.\w+"
)
_TOKEN_IDENTITY = re.compile(r"method\.request\.header\.([^\s,]+)")
# Stage names: letters, digits, '-' and '_' (REST CreateStage); an HTTP API also has `$default`.
_STAGE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_STAGE_VARIABLE_NAME = re.compile(r"[A-Za-z0-9_]+")
_PATH_VARIABLE = re.compile(r"\{([A-Za-z0-9._-]+)(\+?)\}")
CORS_MAX_AGE_S = 86_400
_URL_CORS_LIMITS = {
    "allow_origins": 100,
    "allow_methods": 6,
    "allow_headers": 100,
    "expose_headers": 100,
}


@dataclass(frozen=True)
class Scope:
    """Where in the manifest a value sits: the one-line error names the file, the function
    (when one owns the value) and the field as the user wrote it (`prefix.key`)."""

    path: Path
    prefix: str = ""
    function: str | None = None

    def field(self, key: str | None = None) -> str:
        if key is None:
            return self.prefix
        if key.startswith("["):
            return f"{self.prefix}{key}"
        return f"{self.prefix}.{key}" if self.prefix else key

    def at(self, key: str) -> Scope:
        return Scope(self.path, self.field(key), self.function)

    def fail(self, message: str, key: str | None = None) -> ManifestError:
        return ManifestError(self.path, message, function=self.function, field=self.field(key))

    def mapping(
        self, value: object, key: str | None = None, what: str = "a mapping"
    ) -> dict[str, object]:
        if not isinstance(value, dict):
            raise self.fail(f"must be {what}, got {show(value)}", key)
        return {str(k): v for k, v in value.items()}

    def keys(
        self, table: Mapping[str, object], known: Iterable[str], ignored: Iterable[str] = ()
    ) -> None:
        """Refuse keys that are neither `known` nor `ignored` (accepted, not emulated)."""
        known = tuple(known)
        allowed = set(known) | set(ignored)
        for key in table:
            if key not in allowed:
                raise self.fail(unknown_key(key, known), key)

    def string(self, value: object, key: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"must be a non-empty string, got {show(value)}", key)
        return value

    def boolean(self, value: object, key: str | None = None) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"must be true or false, got {show(value)}", key)
        return value

    def integer(self, value: object, low: int, high: int, key: str | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"must be an integer from {low} to {high}, got {show(value)}", key)
        return value

    def strings(self, value: object, key: str | None = None) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.fail(f"must be a list of non-empty strings, got {show(value)}", key)
        return tuple(value)

    def choice(self, value: object, choices: Iterable[str], key: str | None = None) -> str:
        choices = tuple(choices)
        if not isinstance(value, str) or value not in choices:
            raise self.fail(f"must be {_one_of(choices)}, got {show(value)}", key)
        return value

    def payload_version(self, value: object, key: str | None = None) -> PayloadVersion:
        # YAML reads `PayloadFormatVersion: 2.0` as a number; SAM passes it on as "2.0"
        if isinstance(value, float) and not isinstance(value, bool):
            value = f"{value:.1f}"
        if not isinstance(value, str) or value not in PAYLOAD_VERSIONS:
            raise self.fail(f"must be '1.0' or '2.0', got {show(value)}", key)
        return PAYLOAD_VERSIONS[value]


# ─── routes ──────────────────────────────────────────────────────────────────────────────


def method(scope: Scope, value: object, key: str | None = None) -> str:
    """An HTTP method in any case (SAM lower-cases it; `any` is ANY), upper-cased. SAM also
    takes OpenAPI's `x-amazon-apigateway-any-method` for ANY (SAMT eventsources/push.py)."""
    if isinstance(value, str) and value.lower() == "x-amazon-apigateway-any-method":
        return ANY
    if isinstance(value, str) and value.upper() in METHODS:
        return value.upper()
    raise scope.fail(f"must be one of {', '.join(METHODS)} (any case), got {show(value)}", key)


def route_path(scope: Scope, value: object, kind: ApiKind, key: str | None = None) -> str:
    """A route's path: `/`, `/items/{id}`, `/{proxy+}`, or `$default` (HTTP APIs only).

    Path variables are whole segments; a greedy `{name+}` only as the last one
    (AG http-api-develop-routes.md "Working with greedy path variables"; REST the same)."""
    text = scope.string(value, key)
    if text == DEFAULT_ROUTE:
        if kind == "rest":
            raise scope.fail(
                "'$default' routes exist on HTTP APIs only (a REST API has no default route), "
                f"got {show(text)}",
                key,
            )
        return text
    if not text.startswith("/"):
        raise scope.fail(f"must start with '/', got {show(text)}", key)
    if kind == "rest" and len(text) > 1 and text.endswith("/"):
        # a REST resource's path part is never empty (CreateResource `pathPart`); API Gateway
        # matches `/items/` on `/items`
        raise scope.fail(f"must not end with '/' on a REST API, got {show(text)}", key)
    segments = text[1:].split("/")
    names: set[str] = set()
    for index, segment in enumerate(segments):
        if segment == "" and index != len(segments) - 1:
            raise scope.fail(f"must not contain an empty segment ('//'), got {show(text)}", key)
        if "{" not in segment and "}" not in segment:
            continue
        variable = _PATH_VARIABLE.fullmatch(segment)
        if variable is None:
            raise scope.fail(
                "path variables must be whole segments such as '{id}' or '{proxy+}', "
                f"got {show(segment)} in {show(text)}",
                key,
            )
        if variable.group(2) and index != len(segments) - 1:
            raise scope.fail(
                f"a greedy path variable ('{segment}') must be the last segment, got {show(text)}",
                key,
            )
        if variable.group(1) in names:
            raise scope.fail(
                f"path variable names must be unique, got '{variable.group(1)}' twice in "
                f"{show(text)}",
                key,
            )
        names.add(variable.group(1))
    return text


def route_shape(path: str) -> tuple[str, ...]:
    """The path with variable names left out: `/a/{x}` and `/a/{y}` are the same route."""
    if path == DEFAULT_ROUTE:
        return (DEFAULT_ROUTE,)
    return tuple(
        ("{+}" if segment.endswith("+}") else "{}") if segment.startswith("{") else segment
        for segment in path[1:].split("/")
    )


# ─── CORS, stages, authorizers ────────────────────────────────────────────────────────────


def cors(
    scope: Scope, value: object, names: Mapping[str, str], *, function_url: bool = False
) -> Cors:
    """A CORS mapping whose keys are `names` (canonical → this format's spelling: AllowOrigins
    or allow_origins). Every key is optional. Ranges (BOTO): an API's `MaxAge` -1 … 86400
    (apigatewayv2 `Cors`); a function URL's 0 … 86400, at most 100 origins, 6 methods and 100
    headers of each kind (lambda `Cors`)."""
    table = scope.mapping(value)
    spelled = {spelling: canonical for canonical, spelling in names.items()}
    scope.keys(table, names.values())
    values: dict[str, object] = {}
    for key, item in table.items():
        canonical = spelled[key]
        if canonical == "allow_credentials":
            values[canonical] = scope.boolean(item, key)
        elif canonical == "max_age":
            low = 0 if function_url else -1
            values["max_age_s"] = scope.integer(item, low, CORS_MAX_AGE_S, key)
        else:
            items = scope.strings(item, key)
            most = _URL_CORS_LIMITS[canonical] if function_url else None
            if most is not None and len(items) > most:
                raise scope.fail(
                    f"must list at most {most} items for a function URL, got {len(items)}", key
                )
            values[canonical] = items
    result = Cors(**values)  # type: ignore[arg-type]
    if result.allow_credentials and "*" in result.allow_origins:
        # SAMT http_api_generator._add_cors: "'AllowCredentials' can not be true when
        # 'AllowOrigin' is \"'*'\""; browsers refuse the pair too (Fetch standard, CORS check)
        raise scope.fail(
            f"must not be true when {names['allow_origins']} has '*' (browsers refuse "
            "credentials with a wildcard origin), got true",
            names["allow_credentials"],
        )
    return result


def stage(scope: Scope, value: object, kind: ApiKind, key: str | None = None) -> str:
    text = scope.string(value, key)
    if (kind == "http" and text == "$default") or _STAGE.fullmatch(text):
        return text
    also = " or '$default'" if kind == "http" else ""
    raise scope.fail(f"must be 1 to 128 letters, digits, '-' or '_'{also}, got {show(text)}", key)


def stage_variables(scope: Scope, value: object, key: str | None = None) -> Mapping[str, str]:
    table = scope.mapping(value, key, "a mapping of names to values")
    inner = scope.at(key) if key is not None else scope
    variables: dict[str, str] = {}
    for name, item in table.items():
        if not _STAGE_VARIABLE_NAME.fullmatch(name):
            raise inner.fail(
                f"stage variable names must be letters, digits or '_', got {show(name)}"
            )
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise inner.fail(f"stage variable '{name}' must be a string, got {show(item)}")
        variables[name] = str(item)
    return MappingProxyType(variables)


def check_authorizer(
    scope: Scope, authorizer: Authorizer, kind: ApiKind, labels: Mapping[str, str]
) -> Authorizer:
    """What each API type allows of a Lambda authorizer; `labels` spell the fields
    (kind, payload_version, simple_responses, identity_sources, ttl, validation_regex)."""
    if kind == "http" and authorizer.kind == "token":
        raise scope.fail(
            "TOKEN authorizers exist on REST APIs only (HTTP API Lambda authorizers are "
            "REQUEST authorizers), got 'token'",
            labels["kind"],
        )
    if authorizer.simple_responses and (kind == "rest" or authorizer.payload_version != "2.0"):
        # AG http-api-lambda-authorizer.md: simple responses need payload format 2.0
        raise scope.fail(
            "simple responses need an HTTP API authorizer with payload format 2.0, got true",
            labels["simple_responses"],
        )
    pattern = _HTTP_IDENTITY if kind == "http" else _REST_IDENTITY
    example = (
        "$request.header.Authorization" if kind == "http" else "method.request.header.Authorization"
    )
    for source in authorizer.identity_sources:
        if not pattern.fullmatch(source):
            raise scope.fail(
                f"identity sources of {'an HTTP' if kind == 'http' else 'a REST'} API are "
                f"written like '{example}', got {show(source)}",
                labels["identity_sources"],
            )
    if authorizer.kind == "token" and (
        len(authorizer.identity_sources) != 1
        or not _TOKEN_IDENTITY.fullmatch(authorizer.identity_sources[0])
    ):
        raise scope.fail(
            "a TOKEN authorizer reads exactly one header "
            f"('method.request.header.<Name>'), got {list(authorizer.identity_sources)!r}",
            labels["identity_sources"],
        )
    if authorizer.ttl_s > 0 and not authorizer.identity_sources:
        # caching keys on the identity sources (AG http-api-lambda-authorizer.md "Caching";
        # SAMT model/apigateway.py: a REQUEST authorizer with ReauthorizeEvery > 0 — or unset,
        # which is 300 — must name at least one identity source)
        raise scope.fail(
            f"caching for {authorizer.ttl_s} s needs at least one identity source (the cache "
            "key); name one or set the time to 0",
            labels["identity_sources"],
        )
    if authorizer.validation_regex is not None:
        if authorizer.kind != "token":
            raise scope.fail(
                "a validation expression applies to TOKEN authorizers only, got one on a "
                "REQUEST authorizer",
                labels["validation_regex"],
            )
        try:
            re.compile(authorizer.validation_regex)
        except re.error as exc:
            raise scope.fail(
                f"must be a regular expression, got {show(authorizer.validation_regex)}: {exc}",
                labels["validation_regex"],
            ) from None
    return authorizer


def function_name(
    scope: Scope, value: object, functions: Iterable[str], key: str | None = None
) -> str:
    name = scope.string(value, key)
    known = tuple(functions)
    if name not in known:
        raise scope.fail(
            f"must name a function of this manifest ({', '.join(known)}), got {show(name)}", key
        )
    return name


# ─── assembling ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class ApiDraft:
    api: HttpApi
    scope: Scope  # the API's declaration
    default_authorizer_key: str  # DefaultAuthorizer / default_authorizer


@dataclass(frozen=True)
class RouteDraft:
    route: HttpRoute
    scope: Scope  # the route's declaration (the function's event, or the routes entry)
    authorizer_key: str  # Auth.Authorizer / authorizer
    api_scope: Scope | None = None  # where the route names its API (SAM ApiId), if it does
    api_key: str = ""


@dataclass
class Drafts:
    """What a reader found, in declaration order."""

    apis: list[ApiDraft] = field(default_factory=list)
    routes: list[RouteDraft] = field(default_factory=list)
    urls: list[FunctionUrl] = field(default_factory=list)


def assemble(path: Path, drafts: Drafts, *, none_needs_default: bool = False) -> HttpConfig:
    """Names that refer to other things, then conflicting routes; the finished config.

    `none_needs_default`: SAM refuses `Authorizer: NONE` on an API without a
    DefaultAuthorizer (SAMT eventsources/push.py)."""
    apis = {draft.api.name: draft for draft in drafts.apis}
    for api_draft in drafts.apis:
        default = api_draft.api.default_authorizer
        if default is not None and default not in api_draft.api.authorizers:
            raise api_draft.scope.fail(
                f"must name an authorizer of this API ({_names(api_draft.api.authorizers)}), "
                f"got {show(default)}",
                api_draft.default_authorizer_key,
            )
    seen: dict[tuple[str, str, tuple[str, ...]], RouteDraft] = {}
    variables: dict[tuple[str, tuple[str, ...]], tuple[str, RouteDraft]] = {}
    for draft in drafts.routes:
        route = draft.route
        found = apis.get(route.api)
        if found is None:
            where = draft.api_scope or draft.scope
            raise where.fail(
                f"must name an API of this manifest, got {show(route.api)}", draft.api_key
            )
        api = found.api
        if route.authorizer == "NONE":
            if none_needs_default and api.default_authorizer is None:
                raise draft.scope.fail(
                    f"'NONE' only turns off a DefaultAuthorizer, and API '{api.name}' has none",
                    draft.authorizer_key,
                )
        elif route.authorizer is not None and route.authorizer not in api.authorizers:
            raise draft.scope.fail(
                f"must be 'NONE' or an authorizer of API '{api.name}' "
                f"({_names(api.authorizers)}), got {show(route.authorizer)}",
                draft.authorizer_key,
            )
        key = (route.api, route.method, route_shape(route.path))
        first = seen.get(key)
        if first is not None:
            # API Gateway refuses a second route with the same method and path shape
            # (apigatewayv2 CreateRoute: ConflictException; REST: one method per resource)
            raise ManifestError(
                path,
                f"routes conflict on API '{route.api}': '{first.route.route_key}' "
                f"({first.route.origin}) and '{route.route_key}' ({route.origin}) have the same "
                "method and path",
            )
        seen[key] = draft
        if api.kind == "rest":
            _check_rest_siblings(path, draft, variables)
    names = [api_draft.api.name for api_draft in drafts.apis]
    return HttpConfig(
        apis=tuple(api_draft.api for api_draft in drafts.apis),
        routes=tuple(
            sorted(
                (draft.route for draft in drafts.routes),
                key=lambda route: names.index(route.api),
            )
        ),
        urls=tuple(drafts.urls),
    )


def _check_rest_siblings(
    path: Path,
    draft: RouteDraft,
    variables: dict[tuple[str, tuple[str, ...]], tuple[str, RouteDraft]],
) -> None:
    """A REST API is a tree of resources, and a resource has at most one child that is a path
    variable: `/items/{id}` and `/items/{key}` (or `/{id}` and `/{proxy+}`) cannot both exist,
    whatever their methods (CreateResource: "A sibling ({id}) of this resource already has a
    variable path part -- only one is allowed")."""
    route = draft.route
    segments = route.path[1:].split("/")
    for index, segment in enumerate(segments):
        if not segment.startswith("{"):
            continue
        parent = (route.api, tuple(segments[:index]))
        known = variables.setdefault(parent, (segment, draft))
        if known[0] != segment:
            first = known[1].route
            raise ManifestError(
                path,
                f"routes conflict on API '{route.api}': '{first.route_key}' ({first.origin}) and "
                f"'{route.route_key}' ({route.origin}) give one REST resource two variable "
                f"children, {known[0]} and {segment} (a REST resource has at most one)",
            )


def _names(items: Iterable[str]) -> str:
    listed = ", ".join(items)
    return listed or "none declared"


def binary_media_types(scope: Scope, value: object, kind: ApiKind, key: str) -> tuple[str, ...]:
    """REST `binaryMediaTypes`: media types, `type/*` or `*/*`. SAM writes `/` as `~1` (as in
    JSON Pointer: sam-resource-api.html#sam-api-binarymediatypes); both forms are read."""
    if kind != "rest":
        raise scope.fail('is a REST API setting (type = "rest"); HTTP APIs have none', key)
    types = tuple(item.replace("~1", "/") for item in scope.strings(value, key))
    for item in types:
        main, slash, sub = item.partition("/")
        if not (main and slash and sub) or " " in item:
            raise scope.fail(
                f"must be media types like 'image/png' or 'image/*', got {item!r}", key
            )
    return types
