"""One HTTP request through the front door, as the harness builds it, independent of the client.

    HttpTarget.parse("GET /items/{id}")              a route key of the manifest
    HttpTarget.parse("POST /lambda-url/checkout/")   the emulator's URL of a function
    HttpTarget.parse("https://abc.execute-api.eu-west-1.amazonaws.com/prod/items/{id}")
    PathParams.parse(["id=42"], None).fill("/items/{id}", rng)   → "/items/42"
    parse_header("Authorization: allow")             curl's form → ("Authorization", "allow")

Only what a client of a deployed API sends and reads: the API's own request id comes from the
response headers AWS sets (`apigw-requestid` on HTTP APIs, `x-amzn-RequestId` on REST APIs
and function URLs), which is all the trace correlation needs.

Pure and import-light (no locust, no gevent): the CLI and the pytest process import it.
"""

from __future__ import annotations

import csv
import json
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

# Response headers that carry the API's request id, in the order they are tried.
H_APIGW_REQUEST_ID = "apigw-requestid"  # HTTP APIs
H_AMZN_REQUEST_ID = "x-amzn-requestid"  # REST APIs, function URLs (the Lambda request id)
FUNCTION_URL_PREFIX = "/lambda-url/"  # the emulator's function URLs (cargo-lambda's convention)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_PARAM = re.compile(r"\{([A-Za-z0-9_.\-]+)(\+?)\}")


class HttpOptionError(ValueError):
    """An --http, --path-param, --path-params-file or --header that cannot be used.
    `str()` is the one-line message."""


@dataclass(frozen=True)
class HttpTarget:
    """What `--http` names: a route key (`GET /items/{id}`), served at `path` below the base
    URL (the emulator's API port or a deployed stage's URL), or a full URL of its own."""

    method: str
    path: str  # "/items/{id}": the route's path template, below the base URL
    base_url: str | None = None  # set when --http gave a full URL

    @property
    def route_key(self) -> str:
        """The route key stats are named by ("GET /items/{id}")."""
        return f"{self.method} {self.path}"

    @property
    def send_method(self) -> str:
        # An ANY route takes every method; a load run sends GET to it.
        return "GET" if self.method == "ANY" else self.method

    @classmethod
    def parse(cls, spec: str) -> HttpTarget:
        text = spec.strip()
        method = "GET"
        head, _, rest = text.partition(" ")
        if rest and head.upper() in METHODS:
            method, text = head.upper(), rest.strip()
        if text.startswith(("http://", "https://")):
            parts = urlsplit(text)
            if not parts.netloc:
                raise HttpOptionError(f"--http {spec!r}: a URL needs a host")
            path = parts.path or "/"
            if parts.query:
                path += "?" + parts.query
            return cls(method, path, f"{parts.scheme}://{parts.netloc}")
        if not text.startswith("/"):
            raise HttpOptionError(
                f"--http {spec!r}: expected a route key ('GET /items/{{id}}') or a URL"
            )
        return cls(method, text)


def path_parameters(path: str) -> tuple[str, ...]:
    """The names of a path template's parameters: "/items/{id}/{proxy+}" → ("id", "proxy")."""
    return tuple(m.group(1) for m in _PARAM.finditer(path))


@dataclass(frozen=True)
class PathParams:
    """Values for a route's path parameters: fixed (`--path-param id=42`, repeatable), and/or
    drawn at random per request from a file (`--path-params-file`): a CSV whose header row names
    the parameters (`id,owner`) with one set of values per row, or a JSON list of objects
    (`[{"id": "1"}, {"id": "2"}]`). A fixed value wins over the file's."""

    fixed: Mapping[str, str] = field(default_factory=dict)
    rows: tuple[Mapping[str, str], ...] = ()

    @classmethod
    def parse(cls, pairs: Iterable[str] = (), file: str | Path | None = None) -> PathParams:
        fixed: dict[str, str] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep or not name.strip():
                raise HttpOptionError(f"--path-param {pair!r}: expected NAME=VALUE")
            fixed[name.strip()] = value
        rows = _read_rows(Path(file)) if file else ()
        return cls(fixed, rows)

    @property
    def names(self) -> frozenset[str]:
        names = set(self.fixed)
        for row in self.rows:
            names.update(row)
        return frozenset(names)

    def check(self, path: str) -> None:
        """Every parameter of `path` has a value (else the one-line error)."""
        missing = [
            n
            for n in path_parameters(path)
            if n not in self.fixed and (not self.rows or any(n not in r for r in self.rows))
        ]
        if missing:
            raise HttpOptionError(
                f"path {path}: no value for {{{missing[0]}}} "
                f"(--path-param {missing[0]}=VALUE or --path-params-file)"
            )

    def values(self, rng: random.Random) -> Mapping[str, str]:
        if not self.rows:
            return self.fixed
        return {**rng.choice(self.rows), **self.fixed}

    def fill(self, path: str, rng: random.Random) -> str:
        """`path` with each {param} percent-encoded from the values ({proxy+} keeps its '/')."""
        values = self.values(rng)

        def one(m: re.Match[str]) -> str:
            value = values.get(m.group(1))
            if value is None:
                raise HttpOptionError(f"path {path}: no value for {{{m.group(1)}}}")
            return quote(value, safe="/" if m.group(2) else "")

        return _PARAM.sub(one, path)


def _read_rows(path: Path) -> tuple[Mapping[str, str], ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise HttpOptionError(f"--path-params-file {path}: cannot read: {exc.strerror}") from None
    rows: list[Mapping[str, str]]
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise HttpOptionError(f"--path-params-file {path}: not valid JSON: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise HttpOptionError(f"--path-params-file {path}: expected a JSON list of objects")
        rows = [{str(k): str(v) for k, v in r.items()} for r in data]
    else:
        reader = csv.DictReader(line for line in text.splitlines() if line.strip())
        if not reader.fieldnames:
            raise HttpOptionError(f"--path-params-file {path}: expected a CSV header row")
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    if not rows:
        raise HttpOptionError(f"--path-params-file {path}: no values")
    return tuple(rows)


def parse_header(spec: str) -> tuple[str, str]:
    """curl's `-H 'Name: value'`."""
    name, sep, value = spec.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise HttpOptionError(f"--header {spec!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def parse_headers(specs: Iterable[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for spec in specs:
        name, value = parse_header(spec)
        headers[name] = value
    return headers


def api_request_id(headers: Mapping[str, str]) -> str | None:
    """The API's request id from a response's headers (names lower-cased)."""
    return headers.get(H_APIGW_REQUEST_ID) or headers.get(H_AMZN_REQUEST_ID) or None
