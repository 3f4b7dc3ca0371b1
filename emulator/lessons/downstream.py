"""A local downstream service: the APIs and databases the sample functions call.

Every data route answers after a delay (100 ms unless configured; `?delay_ms=` overrides it per
request) and the delays overlap, as a real API's do, so concurrent calls from a function finish
together and sequential ones add up:

    GET /users/{id}            {"id": 7, "name": "user 7"}
    GET /posts?userId=7        [{"id": 70, "userId": 7, "title": ...}, ...]
    GET /comments?userId=7     [{"id": 70, "userId": 7, "body": ...}, ...]
    GET /files/{name}?size=N   N bytes (default 1 MiB), the same bytes for the same name
    GET /secrets/{name}        {"name": "db", "secret": ...}, as a secrets store hands out
    GET /_stats                requests served per route, most in flight at once (no delay)
    GET /health                "ok" (no delay)

The sample functions find it through `DOWNSTREAM_URL`; `functions/lambda-emu.toml` names
`http://127.0.0.1:9001`, where `lambda-emu downstream` serves it. The lessons' fixtures and
`lambda-emu lessons` start it on a free port and point the functions there instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qs

from emulator.httpserver import HttpServer, Request, Response

DEFAULT_PORT = 9001
DEFAULT_DELAY_MS = 100.0
DEFAULT_FILE_BYTES = 1024 * 1024
MAX_FILE_BYTES = 256 * 1024 * 1024
URL_ENV = "DOWNSTREAM_URL"


@dataclass(frozen=True)
class DownstreamConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0 = any free port, reported by `DownstreamService.port`
    delay_ms: float = DEFAULT_DELAY_MS


def file_bytes(name: str, size: int) -> bytes:
    """The content of /files/{name}: deterministic, so a cached copy can be checked."""
    block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def _json(value: object, status: int = 200) -> Response:
    return Response(status, json.dumps(value).encode(), content_type="application/json")


def _int(query: dict[str, list[str]], key: str, default: int) -> int:
    try:
        return int(query[key][0])
    except (KeyError, IndexError, ValueError):
        return default


class DownstreamService:
    """`start`, then serve on `.url` until `stop`."""

    def __init__(self, cfg: DownstreamConfig) -> None:
        self.cfg = cfg
        self.requests: Counter[str] = Counter()  # by route: "users", "posts", "files", ...
        self.in_flight = 0
        self.peak_in_flight = 0  # requests waiting out their delay at once, at most
        self._http = HttpServer(self._handle, host=cfg.host, port=cfg.port)

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def url(self) -> str:
        return f"http://{self.cfg.host}:{self.port}"

    async def start(self) -> None:
        await self._http.start()

    async def stop(self) -> None:
        await self._http.close()

    async def _handle(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        route = parts[0] if parts else ""
        query = parse_qs(req.query)
        if req.method != "GET":
            return _json({"message": f"{req.method} not allowed"}, 405)
        if route == "health":
            return Response(200, b"ok", content_type="text/plain")
        if route == "_stats":
            return _json({"requests": dict(self.requests), "peak_in_flight": self.peak_in_flight})
        if route not in ("users", "posts", "comments", "files", "secrets"):
            return _json({"message": f"no route {req.path}"}, 404)
        self.requests[route] += 1
        delay_ms = _int(query, "delay_ms", round(self.cfg.delay_ms))
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(max(0, delay_ms) / 1000)
        finally:
            self.in_flight -= 1
        if route == "users" and len(parts) == 2 and parts[1].isdigit():
            uid = int(parts[1])
            return _json({"id": uid, "name": f"user {uid}"})
        if route == "posts":
            uid = _int(query, "userId", 1)
            return _json(
                [{"id": uid * 10 + i, "userId": uid, "title": f"post {i}"} for i in range(3)]
            )
        if route == "comments":
            uid = _int(query, "userId", 1)
            return _json(
                [{"id": uid * 10 + i, "userId": uid, "body": f"comment {i}"} for i in range(3)]
            )
        if route == "secrets" and len(parts) == 2:
            return _json(
                {"name": parts[1], "secret": hashlib.sha256(parts[1].encode()).hexdigest()}
            )
        if route == "files" and len(parts) == 2:
            size = min(max(0, _int(query, "size", DEFAULT_FILE_BYTES)), MAX_FILE_BYTES)
            return Response(
                200, file_bytes(parts[1], size), content_type="application/octet-stream"
            )
        return _json({"message": f"no route {req.path}"}, 404)


class DownstreamThread:
    """A `DownstreamService` on its own event loop in a background thread (tests, lessons)."""

    def __init__(self, cfg: DownstreamConfig | None = None) -> None:
        self.service = DownstreamService(cfg or DownstreamConfig())
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="downstream", daemon=True
        )

    @property
    def url(self) -> str:
        return self.service.url

    def start(self) -> DownstreamThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self._loop).result(30)
        return self

    def stats(self) -> dict[str, int]:
        """Requests served per route."""

        async def snapshot() -> dict[str, int]:
            return dict(self.service.requests)

        return asyncio.run_coroutine_threadsafe(snapshot(), self._loop).result(30)

    @property
    def peak_in_flight(self) -> int:
        return self.service.peak_in_flight

    def reset_peak_in_flight(self) -> None:
        """Start counting the peak again (from the requests in flight now)."""

        async def reset() -> None:
            self.service.peak_in_flight = self.service.in_flight

        asyncio.run_coroutine_threadsafe(reset(), self._loop).result(30)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)
        self._loop.close()
