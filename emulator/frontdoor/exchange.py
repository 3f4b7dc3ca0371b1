"""One HTTP request through the front door, from arrival to its trace record (the
`kind: "http"` record of docs/trace-format.md), and the ids API Gateway gives requests."""

from __future__ import annotations

import asyncio
import binascii
import json
import os
import random
import time
import uuid
from typing import Any

from emulator.frontdoor.model import Cors
from emulator.frontdoor.responses import Service
from emulator.httpserver import Reply
from emulator.metrics.trace import SCHEMA_VERSION

# Ids need to be unique, not secret: seeded once from the OS, no system call per request
_ids = random.Random(os.urandom(32))


def http_api_request_id() -> str:
    """An HTTP API request id (`apigw-requestid`, requestContext.requestId): 16 characters
    like `ZhNHJhhLjoEEPiw=` (PT `apigw-http/*.json`), i.e. 11 bytes in base64."""
    return binascii.b2a_base64(_ids.getrandbits(88).to_bytes(11, "big"), newline=False).decode()


def rest_request_id() -> str:
    """A REST API request id (`x-amzn-RequestId`): a UUID."""
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4))


class Exchange:
    """One HTTP request through the front door, from arrival to its trace record."""

    __slots__ = (
        "accepted_at",
        "answered",
        "api",
        "api_id",
        "api_request_id",
        "authorizer",
        "authorizer_ms",
        "cors",
        "function",
        "method",
        "origin",
        "path",
        "qualifier",
        "reply",
        "request_ids",
        "route",
        "service",
        "started",
        "timer",
    )

    def __init__(self, service: Service, method: str, path: str, origin: str | None) -> None:
        self.service = service
        self.method = method
        self.path = path
        self.origin = origin
        self.accepted_at = time.time()
        self.started = time.perf_counter()
        self.api: str | None = None
        self.api_id = ""
        self.api_request_id = ""
        self.route: str | None = None
        self.function: str | None = None
        self.qualifier: str | None = None  # the alias the route or URL invokes
        self.request_ids: list[str] = []
        self.authorizer: dict[str, Any] | None = None
        self.authorizer_ms: float | None = None
        self.cors: Cors | None = None  # the API's/URL's, when responses get its headers
        self.reply: Reply | None = None
        self.timer: asyncio.TimerHandle | None = None
        # (epoch s, perf_counter) when the answer went out, if recorded after it (`answer`)
        self.answered: tuple[float, float] | None = None

    def answer(self) -> None:
        """The answer goes out now: the record, written after it, keeps this instant."""
        self.answered = (time.time(), time.perf_counter())

    def record(self, status: int) -> str:
        """This request's trace record, formatted by hand: it is written once per request, on
        the request's own path (json.dumps of a dict costs several times more)."""
        end, done = self.answered or (time.time(), time.perf_counter())
        latency_ms = (done - self.started) * 1000
        auth = self.authorizer
        if auth is None:
            authorizer = "null"
        else:
            authorizer = (
                f'{{"function":{_text(auth["function"])},'
                f'"request_id":{_text(auth["request_id"])},'
                f'"cached":{"true" if auth["cached"] else "false"}}}'
            )
        request_ids = ",".join([f'"{rid}"' for rid in self.request_ids])
        auth_ms = "null" if self.authorizer_ms is None else f"{self.authorizer_ms:.3f}"
        q = _quoted
        api, route, function = self.api, self.route, self.function
        return (
            f'{{"v":{SCHEMA_VERSION},"kind":"http",'
            f'"api":{"null" if api is None else q(api)},'
            f'"api_id":"{self.api_id}","service":"{self.service}",'
            f'"route":{"null" if route is None else q(route)},'
            f'"method":{q(self.method)},"path":{q(self.path)},"status":{status},'
            f'"api_request_id":{q(self.api_request_id)},"request_ids":[{request_ids}],'
            f'"function":{"null" if function is None else q(function)},'
            f'"authorizer":{authorizer},'
            f'"accepted_at":{self.accepted_at:.6f},"end":{end:.6f},'
            f'"latency_ms":{latency_ms:.3f},"authorizer_ms":{auth_ms}}}\n'
        )


_quoted = json.encoder.encode_basestring_ascii


def _text(value: str | None) -> str:
    return "null" if value is None else str(_quoted(value))
