"""Route selection: which route of which API a request reaches, with API Gateway's precedence.

HTTP APIs (AG `http-api-develop-routes.md`, "Routing API requests"): the most specific route
wins, in this order:
  1. a route of the request's method without a greedy variable, literal segments before
     `{var}` ones (`GET /pets/dog/1` over `GET /pets/dog/{id}`);
  2. a route of the request's method with a greedy `{proxy+}`;
  3. `ANY` (which matches only methods no route of that path declares), again non-greedy first;
  4. `$default`.
REST APIs (LocalStack's AWS-validated `resource_router.py`): the resource first (literal
segment > `{param}` > `{proxy+}`, segment by segment), then the method on it (explicit over
`ANY`); a resource that has neither is skipped, and nothing left is 403 Missing
Authentication Token.

Several APIs on one port (`sam local start-api` serves them all on 3000 without stage
prefixes): ⚠ a request goes to the first declared API that has a non-`$default` route for it,
under that API's own rules; `$default` routes are tried after every API's other routes, first
declared first. No match gets the unknown-route answer of the first API that declares the
path with another method, else of the first declared API. AWS cannot say (each API has its
own host name); this keeps every API's own order intact.

Matching is on the raw path's segments (percent-encoding kept, so `%2F` never splits a
segment); path parameter values are decoded, as API Gateway hands them to the function. One
trailing slash is ignored (REST ignores it; ⚠ HTTP APIs too, as `sam local` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import unquote

from emulator.frontdoor.model import ANY, DEFAULT_ROUTE, HttpApi, HttpConfig, HttpRoute

# ANY is these methods on REST (AG `api-gateway-method-settings-method-request.md`) ⚠ and on
# HTTP APIs
ANY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")

_LITERAL, _PARAM, _GREEDY = 0, 1, 2
_NO_PARAMS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Match:
    api: HttpApi
    route: HttpRoute
    path_parameters: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class _Compiled:
    route: HttpRoute
    segments: tuple[tuple[int, str], ...]  # (kind, literal text or parameter name)
    greedy: bool
    rank: tuple[int, ...]  # sort key within its API (smaller wins)

    def bind(self, parts: list[str]) -> dict[str, str] | None:
        """Path parameters when `parts` (raw segments) fit this route's path, else None."""
        segments = self.segments
        if self.greedy:
            if len(parts) < len(segments):
                return None
        elif len(parts) != len(segments):
            return None
        params: dict[str, str] = {}
        for i, (kind, text) in enumerate(segments):
            if kind == _LITERAL:
                if parts[i] != text:
                    return None
            elif kind == _PARAM:
                if not parts[i]:
                    return None
                params[text] = unquote(parts[i])
            else:
                rest = "/".join(parts[i:])
                if not rest:
                    return None
                params[text] = unquote(rest)
        return params


def _segments(path: str) -> tuple[tuple[int, str], ...]:
    out: list[tuple[int, str]] = []
    for part in path.strip("/").split("/") if path != "/" else []:
        if part.startswith("{") and part.endswith("+}"):
            out.append((_GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            out.append((_PARAM, part[1:-1]))
        else:
            out.append((_LITERAL, part))
    return tuple(out)


def _compile(api: HttpApi, route: HttpRoute) -> _Compiled:
    segments = _segments(route.path)
    greedy = bool(segments) and segments[-1][0] == _GREEDY
    specificity = (*(kind for kind, _ in segments), 3)
    is_any = route.method == ANY
    if api.kind == "rest":
        rank = (*specificity, int(is_any))
    else:
        rank = (2 * int(is_any) + int(greedy), *specificity)
    return _Compiled(route, segments, greedy, rank)


def split_path(raw_path: str) -> list[str]:
    """A raw path's segments, one trailing slash ignored (`/` → [])."""
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    if path.endswith("/"):
        path = path[:-1]
    return path.split("/") if path else []


class RouteTable:
    """Every API's routes, compiled once (a new table on each manifest reload)."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config
        self.first_api: HttpApi | None = config.apis[0] if config.apis else None
        self._per_api: list[tuple[HttpApi, list[_Compiled]]] = []
        self._defaults: list[tuple[HttpApi, HttpRoute]] = []
        # (method, raw path) of literal routes: the common case, one dict lookup, its Match
        # made once (a Match is immutable)
        self._static: dict[tuple[str, str], Match] = {}
        for api in config.apis:
            compiled = []
            for route in config.routes:
                if route.api != api.name:
                    continue
                if route.path == DEFAULT_ROUTE:
                    self._defaults.append((api, route))
                    continue
                compiled.append(_compile(api, route))
            compiled.sort(key=lambda c: c.rank)
            self._per_api.append((api, compiled))
        # literal routes with an explicit method are the most specific in every rule set;
        # the first declared API keeps a (method, path) both declare
        for api, compiled in self._per_api:
            for c in compiled:
                if c.route.method != ANY and all(k == _LITERAL for k, _ in c.segments):
                    key = (c.route.method, "/" + "/".join(t for _, t in c.segments))
                    self._static.setdefault(key, Match(api, c.route, _NO_PARAMS))

    def match(self, method: str, raw_path: str) -> Match | None:
        if raw_path[:1] == "/" and (raw_path[-1:] != "/" or raw_path == "/"):
            # already in split_path's normal form ("/" + its segments joined)
            hit = self._static.get((method, raw_path))
            if hit is not None:
                return hit
        parts = split_path(raw_path)
        hit = self._static.get((method, "/" + "/".join(parts)))
        if hit is not None:
            return hit
        for api, compiled in self._per_api:
            found = _select(api, compiled, method, parts)
            if found is not None:
                return found
        for api, route in self._defaults:
            return Match(api, route, _NO_PARAMS)
        return None

    def owner(self, raw_path: str) -> HttpApi | None:
        """The API that answers a request no route matched: the first that declares its path
        (with other methods), else the first declared."""
        return self.declaring(raw_path) or self.first_api

    def declaring(self, raw_path: str) -> HttpApi | None:
        """The first API with a route (other than `$default`) whose path fits `raw_path`."""
        for api, _ in self._per_api:
            if self.resource(api, raw_path) is not None:
                return api
        return None

    def resource(self, api: HttpApi, raw_path: str) -> tuple[str, list[str]] | None:
        """The most specific declared path of `api` that `raw_path` reaches, with the methods
        declared on it (REST's resource; SAM's CORS OPTIONS method lists them)."""
        parts = split_path(raw_path)
        for owner, compiled in self._per_api:
            if owner.name != api.name:
                continue
            for c in compiled:  # REST ranks by path first
                if c.bind(parts) is not None:
                    path = c.route.path
                    return path, [x.route.method for x in compiled if x.route.path == path]
        return None

    def shadowed(self) -> list[tuple[HttpRoute, HttpRoute]]:
        """(hidden, winner) pairs: a route key that a former API also declares never matches."""
        seen: dict[tuple[str, str], HttpRoute] = {}
        out = []
        for _, compiled in self._per_api:
            for c in compiled:
                key = (c.route.method, c.route.path)
                if key in seen and seen[key].api != c.route.api:
                    out.append((c.route, seen[key]))
                seen.setdefault(key, c.route)
        for _, route in self._defaults[1:]:
            out.append((route, self._defaults[0][1]))
        return out


def _select(api: HttpApi, compiled: list[_Compiled], method: str, parts: list[str]) -> Match | None:
    # `compiled` is in precedence order; on HTTP APIs every route of the request's own method
    # ranks before ANY, so ANY only ever serves methods that no matching route declares
    for c in compiled:
        if c.route.method != method and not (c.route.method == ANY and method in ANY_METHODS):
            continue
        params = c.bind(parts)
        if params is not None:
            return Match(api, c.route, params)
    return None
