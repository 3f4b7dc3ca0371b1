"""Extensions API `2020-01-01` and Telemetry API `2022-07-01` of one environment
(LAMBDA_SPEC §3, §4).

They share the environment's Runtime API listener (`AWS_LAMBDA_RUNTIME_API`); their paths are
rows of the route table (emulator/api/routes.py), answered by the handlers below.

An extension registers (`/extension/register`, only during init), then long-polls
`/extension/event/next`. Between two polls it is *busy*: the environment's init phase and each
invoke phase end only when the runtime and every extension wait in `next`
(`all_waiting`), which is how Lambda lets an extension work after the response has gone to
the caller, billed. An extension named like one of the executables the environment launched
is external (it may subscribe to SHUTDOWN); any other name is internal (LAMBDA_SPEC §3).

Telemetry subscriptions get platform records and function log lines, batched per the
subscription's buffering and POSTed as a JSON array to its destination (`sandbox.localdomain`
means 127.0.0.1 here). This module knows nothing of processes: the environment tells it what
happens (`invoke`, `shutdown`, `record`) and learns of changes through `on_change`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from emulator import errors
from emulator.engine.invocation import Invocation
from emulator.httpserver import Reply, Request, Response

H_NAME = "lambda-extension-name"
H_ID = "lambda-extension-identifier"
H_EVENT_ID = "Lambda-Extension-Event-Identifier"
H_ERROR_TYPE = "lambda-extension-function-error-type"
H_ACCEPT_FEATURE = "lambda-extension-accept-feature"
MAX_EXTENSIONS = 10
EVENT_TYPES = ("INVOKE", "SHUTDOWN")
TELEMETRY_SCHEMAS = ("2022-07-01", "2022-12-13", "2025-01-29")
LOGS_SCHEMAS = ("2020-08-15", "2021-03-18")
TELEMETRY_TYPES = ("platform", "function", "extension")
DELIVERY_TIMEOUT_S = 30.0  # a frozen listener answers when thawed; give up after this
_JSON = "application/json"


class ExtensionApiError(errors.RuntimeApiError):
    status = 403

    def __init__(self, error_type: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status


@dataclass
class Extension:
    name: str
    id: str
    events: frozenset[str]
    external: bool
    waiting: Reply | None = None
    waited_since_event: bool = False  # has called next since its last event (or ever)
    pending: deque[bytes] = field(default_factory=deque)
    gone: bool = False  # its long poll was dropped after SHUTDOWN (it exited)

    @property
    def idle(self) -> bool:
        """Waiting in next with nothing left to deliver: not holding a phase open."""
        return self.gone or (self.waited_since_event and not self.pending)


@dataclass
class Subscription:
    id: str
    destination: str  # http://host:port/path
    types: frozenset[str]
    max_items: int
    max_bytes: int
    timeout_ms: int
    buffer: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    timer: asyncio.TimerHandle | None = None


@dataclass(frozen=True, slots=True)
class ExtensionFailure:
    kind: str  # "init" | "exit"
    name: str
    error_type: str
    body: bytes


class ExtensionsApi:
    def __init__(
        self,
        *,
        function_name: str,
        handler: str,
        account_id: str,
        external_names: tuple[str, ...],
        on_change: Callable[[], None],
        on_failure: Callable[[ExtensionFailure], None],
        function_version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.handler = handler
        self.account_id = account_id
        self.external_names = external_names
        self.extensions: dict[str, Extension] = {}
        self.registration_open = True
        self.subscriptions: dict[str, Subscription] = {}
        self.delivered = 0  # telemetry records POSTed (for tests and /_emu)
        self._on_change = on_change
        self._on_failure = on_failure
        self._deliveries: set[asyncio.Task[None]] = set()

    # --- what the environment asks --------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.extensions)

    def externals_registered(self) -> bool:
        names = {e.name for e in self.extensions.values() if e.external}
        return all(n in names for n in self.external_names)

    def all_waiting(self) -> bool:
        return all(e.idle for e in self.extensions.values())

    def close_registration(self) -> None:
        self.registration_open = False

    def record_init_done(self, init_type: str, init_ms: float) -> None:
        if self.count:
            common = {"initializationType": init_type, "phase": "init", "status": "success"}
            self.record("platform.initRuntimeDone", common)
            metrics = {"durationMs": round(init_ms, 3)}
            self.record("platform.initReport", {**common, "metrics": metrics})

    def record_runtime_done(
        self, request_id: str, status: str, duration_ms: float, produced_bytes: int
    ) -> None:
        metrics = {"durationMs": round(duration_ms, 3), "producedBytes": produced_bytes}
        self.record(
            "platform.runtimeDone", {"requestId": request_id, "status": status, "metrics": metrics}
        )

    def invoke(self, inv: Invocation) -> None:
        """INVOKE to every extension subscribed to it (LAMBDA_SPEC §3)."""
        event: dict[str, Any] = {
            "eventType": "INVOKE",
            "deadlineMs": inv.deadline_ms,
            "requestId": inv.request_id,
            "invokedFunctionArn": inv.invoked_arn,
        }
        if inv.trace_id:
            event["tracing"] = {"type": "X-Amzn-Trace-Id", "value": inv.trace_id}
        self._broadcast("INVOKE", json.dumps(event).encode())
        self.record(
            "platform.start", {"requestId": inv.request_id, "version": inv.executed_version}
        )

    def shutdown(self, reason: str, deadline_ms: int) -> bool:
        """SHUTDOWN to the external extensions subscribed to it; True if any got it.
        ⚠ reasons are RIE's lower-case `spindown` / `timeout` / `failure` (LAMBDA_SPEC §3)."""
        body = json.dumps(
            {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms}
        ).encode()
        return self._broadcast("SHUTDOWN", body)

    def shutdown_acknowledged(self) -> bool:
        return all(e.idle or "SHUTDOWN" not in e.events for e in self.extensions.values())

    def _broadcast(self, event_type: str, body: bytes) -> bool:
        sent = False
        for ext in self.extensions.values():
            if event_type not in ext.events or ext.gone:
                continue
            sent = True
            ext.waited_since_event = False
            waiter, ext.waiting = ext.waiting, None
            if waiter is not None and not waiter.done:
                # (sent, even where the connection then closes: Connection: close clients)
                waiter.send(_event_response(body))
                continue
            ext.pending.append(body)
        return sent

    async def flush(self, timeout_s: float) -> None:
        """Send every buffered telemetry record now and wait (bounded) for delivery."""
        for sub in self.subscriptions.values():
            self._flush(sub)
        if self._deliveries:
            await asyncio.wait(set(self._deliveries), timeout=timeout_s)

    async def close(self) -> None:
        for ext in self.extensions.values():
            if ext.waiting is not None:
                ext.waiting.cancel()
        for sub in self.subscriptions.values():
            if sub.timer is not None:
                sub.timer.cancel()
            self._flush(sub)
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=1.0)
        for task in self._deliveries:
            task.cancel()

    # --- telemetry records ----------------------------------------------------------------
    def record(self, kind: str, record: Any) -> None:
        """A telemetry event: `kind` is `platform.start`, …, or `function`."""
        if not self.subscriptions:
            return
        category = kind.split(".", 1)[0]
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        item = {"time": now, "type": kind, "record": record}
        for sub in self.subscriptions.values():
            if category not in sub.types:
                continue
            sub.buffer.append(item)
            sub.size += len(json.dumps(record)) + 64
            if len(sub.buffer) >= sub.max_items or sub.size >= sub.max_bytes:
                self._flush(sub)
            elif sub.timer is None:
                loop = asyncio.get_running_loop()
                sub.timer = loop.call_later(sub.timeout_ms / 1000, self._flush, sub)

    def _flush(self, sub: Subscription) -> None:
        if sub.timer is not None:
            sub.timer.cancel()
            sub.timer = None
        if not sub.buffer:
            return
        batch, sub.buffer, sub.size = sub.buffer, [], 0
        task = asyncio.get_running_loop().create_task(_post_json(sub.destination, batch))
        self._deliveries.add(task)
        task.add_done_callback(self._delivered(len(batch)))

    def _delivered(self, n: int) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._deliveries.discard(task)
            if not task.cancelled() and task.exception() is None:
                self.delivered += n

        return done

    # --- HTTP -----------------------------------------------------------------------------
    # --- handlers (rows of emulator/api/routes.py) ------------------------------------------
    def init_error(self, request: Request) -> Response:
        return self._error("init", request)

    def exit_error(self, request: Request) -> Response:
        return self._error("exit", request)

    def subscribe_telemetry(self, request: Request) -> Response:
        return self._subscribe(request, logs_api=False)

    def subscribe_logs(self, request: Request) -> Response:
        return self._subscribe(request, logs_api=True)

    def unknown(self, _request: Request) -> Response:
        return Response(404, b"", content_type=_JSON)  # RIE: no body

    def register(self, request: Request) -> Response:
        name = request.headers.get(H_NAME, "").strip()
        if not name:
            raise ExtensionApiError("Extension.InvalidExtensionName", "Empty extension name")
        try:
            body = json.loads(request.body or b"{}")
            events = body.get("events", [])
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise ValueError("events")
        except (ValueError, AttributeError, RecursionError):
            raise ExtensionApiError(
                "InvalidRequestFormat", "Invalid request format", status=400
            ) from None
        if not self.registration_open:
            raise ExtensionApiError(
                "Extension.RegistrationClosed", "Extension registration closed already"
            )
        if any(e.name == name for e in self.extensions.values()):
            raise ExtensionApiError(
                "Extension.InvalidExtensionState", f"Extension {name} is already registered"
            )
        if len(self.extensions) >= MAX_EXTENSIONS:
            raise ExtensionApiError(
                "Extension.TooManyExtensions", f"Extension limit ({MAX_EXTENSIONS}) reached"
            )
        external = name in self.external_names
        unknown = [e for e in events if e not in EVENT_TYPES]
        if unknown or (not external and "SHUTDOWN" in events):
            bad = unknown[0] if unknown else "SHUTDOWN"
            raise ExtensionApiError(
                "Extension.InvalidEventType",
                f"{bad} event is not supported for {'external' if external else 'internal'} "
                "extensions",
            )
        ext = Extension(name, str(uuid.uuid4()), frozenset(events), external)
        self.extensions[ext.id] = ext
        answer: dict[str, str] = {
            "functionName": self.function_name,
            "functionVersion": self.function_version,
            "handler": self.handler,
        }
        if "accountId" in request.headers.get(H_ACCEPT_FEATURE, ""):
            answer["accountId"] = self.account_id
        self._on_change()
        return Response(
            200, json.dumps(answer).encode(), [("Lambda-Extension-Identifier", ext.id)], _JSON
        )

    def _extension(self, request: Request) -> Extension:
        ident = request.headers.get(H_ID)
        if not ident:
            raise ExtensionApiError(
                "Extension.MissingExtensionIdentifier",
                "Missing Lambda-Extension-Identifier header",
            )
        try:
            uuid.UUID(ident)
        except ValueError:
            raise ExtensionApiError(
                "Extension.InvalidExtensionIdentifier", "Invalid Lambda-Extension-Identifier"
            ) from None
        ext = self.extensions.get(ident)
        if ext is None:
            raise ExtensionApiError(
                "Extension.UnknownExtensionIdentifier", "Unknown extension " + ident
            )
        return ext

    def next(self, request: Request) -> Response | Reply:
        ext = self._extension(request)
        if ext.waiting is not None and not ext.waiting.done:
            raise ExtensionApiError(
                "Extension.InvalidExtensionState", f"Extension {ext.name} is already waiting"
            )
        if ext.pending:
            ext.waited_since_event = False
            return _event_response(ext.pending.popleft())
        ext.waited_since_event = True
        ext.gone = False
        waiter = request.defer(on_cancel=lambda: self._poll_dropped(ext))
        ext.waiting = waiter
        self._on_change()
        return waiter

    def _poll_dropped(self, ext: Extension) -> None:
        ext.waiting = None
        if not ext.waited_since_event:
            return
        # A dropped poll after SHUTDOWN (or at any point) means the extension went away; it
        # no longer holds a phase open.
        ext.gone = True
        self._on_change()

    def _error(self, kind: str, request: Request) -> Response:
        ext = self._extension(request)
        error_type = request.headers.get(H_ERROR_TYPE)
        if not error_type:
            raise ExtensionApiError(
                "Extension.MissingHeader", "Lambda-Extension-Function-Error-Type not found"
            )
        self._on_failure(ExtensionFailure(kind, ext.name, error_type, request.body))
        return Response(202, b'{"status":"OK"}', content_type=_JSON)

    def _subscribe(self, request: Request, *, logs_api: bool) -> Response:
        ext = self._extension(request)
        try:
            body = json.loads(request.body)
            schemas = LOGS_SCHEMAS if logs_api else TELEMETRY_SCHEMAS
            if body.get("schemaVersion") not in schemas:
                raise ValueError("schemaVersion")
            types = frozenset(body.get("types", []))
            if not types or not types <= set(TELEMETRY_TYPES):
                raise ValueError("types")
            dest = body["destination"]
            if dest.get("protocol") != "HTTP":
                raise ValueError("destination.protocol: only HTTP is emulated")
            uri = str(dest["URI"])
            buffering = body.get("buffering", {})
            max_items = int(buffering.get("maxItems", 10_000 if logs_api else 1_000))
            max_bytes = int(buffering.get("maxBytes", 262_144))
            timeout_ms = int(buffering.get("timeoutMs", 1_000))
            if not (1_000 <= max_items <= 10_000 and 262_144 <= max_bytes <= 1_048_576):
                raise ValueError("buffering")
            if not 25 <= timeout_ms <= 30_000:
                raise ValueError("buffering.timeoutMs")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            return Response(
                400,
                json.dumps(
                    {"errorMessage": f"Invalid subscription: {exc}", "errorType": "ValidationError"}
                ).encode(),
                content_type=_JSON,
            )
        if not self.registration_open:
            raise ExtensionApiError(
                "Telemetry.SubscriptionClosed", "Subscriptions are accepted during init only"
            )
        self.subscriptions[ext.id] = Subscription(
            ext.id, uri, types, max_items, max_bytes, timeout_ms
        )
        self.record(
            "platform.telemetrySubscription",
            {"name": ext.name, "state": "Subscribed", "types": sorted(types)},
        )
        return Response(200, b'"OK"', content_type=_JSON)


def _event_response(body: bytes) -> Response:
    return Response(200, body, [(H_EVENT_ID, str(uuid.uuid4()))], _JSON)


async def _post_json(uri: str, payload: list[dict[str, Any]]) -> None:
    """POST a JSON array to an extension's listener (a minimal HTTP/1.1 client: one request,
    `Connection: close`)."""
    parts = urlsplit(uri)
    host = parts.hostname or "127.0.0.1"
    if host in ("sandbox.localdomain", "sandbox"):
        host = "127.0.0.1"
    port = parts.port or 80
    body = json.dumps(payload).encode()
    head = (
        f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5.0)
    try:
        writer.write(head + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), max(0.1, deadline - time.monotonic()))
        if not line.startswith(b"HTTP/1.") or line.split()[1][:1] != b"2":
            raise ConnectionError(f"telemetry destination answered {line!r}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
