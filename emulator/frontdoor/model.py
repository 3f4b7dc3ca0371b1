"""What the HTTP front door serves, as the manifest declares it: APIs, their routes and
authorizers, and function URLs. Frozen dataclasses, built once by `emulator.manifests.http`
(SAM `Events`/`AWS::Serverless::HttpApi`/`Api`/`FunctionUrlConfig`, or `lambda-emu.toml`'s
`[apis.*]` and `[functions.*.url]` tables) and handed to the front door in `EmulatorConfig.http`.

Kinds of front end (docs/frontdoor-spec.md §0):
- `http`: API Gateway HTTP API (payload 2.0 by default, 1.0 allowed per route);
- `rest`: API Gateway REST API, Lambda proxy integration (payload 1.0);
- function URLs: payload 2.0 with routeKey `$default`, on the Invoke API's port.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

ApiKind = Literal["http", "rest"]
PayloadVersion = Literal["1.0", "2.0"]
AuthorizerKind = Literal["request", "token"]  # HTTP APIs: request only; REST: TOKEN or REQUEST
UrlAuthType = Literal["NONE", "AWS_IAM"]
InvokeMode = Literal["BUFFERED", "RESPONSE_STREAM"]

DEFAULT_API_PORT = 3000  # `sam local start-api`'s port
DEFAULT_ROUTE = "$default"
ANY = "ANY"


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


def stable_id(*parts: str, length: int = 10) -> str:
    """A stable lowercase id from names (API Gateway's ids are 10 characters of [a-z0-9];
    function URL ids are 32): the same manifest gives the same ids on every run."""
    digest = hashlib.sha256("\0".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    n = int.from_bytes(digest, "big")
    out = []
    for _ in range(length):
        n, r = divmod(n, len(alphabet))
        out.append(alphabet[r])
    return "".join(out)


@dataclass(frozen=True)
class Cors:
    """An API's or a function URL's CORS configuration (HTTP API `CorsConfiguration`,
    function URL `Cors`, REST `Cors` of AWS::Serverless::Api), in one shape."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age_s: int | None = None


@dataclass(frozen=True)
class Authorizer:
    """A Lambda authorizer of an API."""

    name: str  # as the manifest names it (SAM: the key under Auth.Authorizers)
    function: str  # the FunctionConfig.name that authorizes
    kind: AuthorizerKind = "request"
    # HTTP APIs: the authorizer's payload format ("2.0" default in SAM; "1.0" allowed)
    payload_version: PayloadVersion = "2.0"
    simple_responses: bool = False  # HTTP API EnableSimpleResponses (payload 2.0 only)
    # Identity sources in API Gateway's own notation: "$request.header.Authorization"
    # (HTTP API) or "method.request.header.Authorization" (REST). Missing → 401.
    identity_sources: tuple[str, ...] = ()
    ttl_s: int = 0  # result caching (AuthorizerResultTtlInSeconds / ReauthorizeEvery)
    validation_regex: str | None = None  # REST TOKEN authorizers' IdentityValidationExpression


@dataclass(frozen=True)
class HttpApi:
    """One API Gateway API (HTTP or REST). `name` is the manifest's (SAM logical id; SAM's
    implicit APIs are `ServerlessHttpApi` and `ServerlessRestApi`)."""

    name: str
    kind: ApiKind
    stage: str = "$default"  # HTTP API default stage; SAM's implicit REST stage is "Prod"
    stage_variables: Mapping[str, str] = field(default_factory=_empty)
    cors: Cors | None = None
    authorizers: Mapping[str, Authorizer] = field(default_factory=lambda: MappingProxyType({}))
    default_authorizer: str | None = None  # applies to routes that name none
    source: Path | None = None
    # REST binaryMediaTypes ("image/png", "image/*", "*/*"): a matching request body reaches
    # the function base64-encoded, and a base64 answer is decoded for a matching Accept
    binary_media_types: tuple[str, ...] = ()

    @property
    def api_id(self) -> str:
        return stable_id("api", self.name)


@dataclass(frozen=True)
class HttpRoute:
    """One route of an API: `method` is upper case or "ANY"; `path` is "/items/{id}",
    "/{proxy+}", or "$default" (HTTP APIs only)."""

    api: str  # HttpApi.name
    method: str
    path: str
    function: str  # FunctionConfig.name of the integration
    payload_version: PayloadVersion = "2.0"
    # the Authorizer.name that guards it; None: the API's default; "NONE": explicitly open
    authorizer: str | None = None
    origin: str = ""  # where the manifest declares it, for one-line errors
    # the alias the integration invokes (SAM's AutoPublishAlias), else None: $LATEST
    qualifier: str | None = None

    @property
    def route_key(self) -> str:
        """API Gateway's route key: "GET /items/{id}", "ANY /{proxy+}", "$default"."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class FunctionUrl:
    """A function's URL (FunctionUrlConfig)."""

    function: str
    auth_type: UrlAuthType = "NONE"
    cors: Cors | None = None
    invoke_mode: InvokeMode = "BUFFERED"
    qualifier: str | None = None  # the alias it targets (SAM's AutoPublishAlias), else None

    @property
    def name(self) -> str:
        """Its name under /lambda-url/: the function's, or `Function:alias` for an alias's."""
        return self.function if self.qualifier is None else f"{self.function}:{self.qualifier}"

    @property
    def url_id(self) -> str:
        """The 32-character lowercase id of `https://<id>.lambda-url.<region>.on.aws/`."""
        return stable_id("url", self.name, length=32)


@dataclass(frozen=True)
class HttpConfig:
    """Everything the front door serves."""

    apis: tuple[HttpApi, ...] = ()
    routes: tuple[HttpRoute, ...] = ()
    urls: tuple[FunctionUrl, ...] = ()

    def api(self, name: str) -> HttpApi | None:
        for api in self.apis:
            if api.name == name:
                return api
        return None

    def url(self, name: str) -> FunctionUrl | None:
        """The URL named `name` ("Function" or "Function:alias"), else the function's first."""
        for url in self.urls:
            if url.name == name:
                return url
        for url in self.urls:
            if url.function == name:
                return url
        return None

    def __bool__(self) -> bool:
        return bool(self.routes or self.urls)
