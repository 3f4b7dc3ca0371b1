"""What the front door serves, with addresses: `serve`'s start lines and /_emu/health."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator import wire
from emulator.frontdoor.model import DEFAULT_ROUTE, Authorizer, HttpApi, HttpConfig


def describe(config: HttpConfig, api_url: str | None, invoke_url: str) -> list[dict[str, Any]]:
    """Every route and URL with the address it is served at: the start lines and
    /_emu/health."""
    out: list[dict[str, Any]] = []
    for route in config.routes:
        api = config.api(route.api)
        if api is None:
            continue
        auth = authorizer_of(api, route.authorizer)
        path = "/*" if route.path == DEFAULT_ROUTE else route.path
        out.append(
            {
                "kind": api.kind,
                "api": api.name,
                "api_id": api.api_id,
                "route": route.route_key,
                "method": route.method,
                "url": f"{api_url}{path}" if api_url else None,
                "function": route.function,
                "qualifier": route.qualifier,
                "payload": route.payload_version,
                "authorizer": auth.name if auth is not None else None,
            }
        )
    for url in config.urls:
        out.append(
            {
                "kind": "url",
                "api": None,
                "api_id": url.url_id,
                "route": DEFAULT_ROUTE,
                "method": "ANY",
                "url": f"{invoke_url}{wire.LAMBDA_URL_PREFIX}/{url.name}/",
                "function": url.function,
                "qualifier": url.qualifier,
                "payload": "2.0",
                "authorizer": None,
                "auth_type": url.auth_type,
            }
        )
    return out


def describe_line(entry: Mapping[str, Any]) -> str:
    """`GET http://127.0.0.1:3000/items/{id} → items (HTTP API ServerlessHttpApi, payload 2.0,
    authorizer auth)`: one start line per route or URL."""
    target = entry["function"] + (f":{entry['qualifier']}" if entry.get("qualifier") else "")
    if entry["kind"] == "url":
        return f"ANY {entry['url']}… → {target} (function URL, {entry['auth_type']})"
    kind = "HTTP API" if entry["kind"] == "http" else "REST API"
    extra = f", authorizer {entry['authorizer']}" if entry["authorizer"] else ""
    method = "ANY" if entry["route"] == DEFAULT_ROUTE else entry["method"]
    where = entry["url"] or "(api listener not started)"
    label = " ($default)" if entry["route"] == DEFAULT_ROUTE else ""
    return (
        f"{method} {where}{label} → {target} ({kind} {entry['api']}, "
        f"payload {entry['payload']}{extra})"
    )


def authorizer_of(api: HttpApi, name: str | None) -> Authorizer | None:
    """The authorizer guarding a route: its own, else the API's default; "NONE" (and
    ⚠ AWS_IAM, which the emulator does not check on APIs) open."""
    chosen = name if name is not None else api.default_authorizer
    if chosen is None or chosen in ("NONE", "AWS_IAM"):
        return None
    return api.authorizers.get(chosen)
