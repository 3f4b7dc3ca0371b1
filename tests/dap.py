"""A Debug Adapter Protocol client, as small as a test needs: what VS Code sends to debugpy.

Messages are JSON bodies after a `Content-Length` header (the DAP specification, "Base
Protocol"). Requests get a response with the same `request_seq`; events arrive in between.
Every read is bounded by `PROGRESS_S` of silence on the socket, never by a total: a test
fails when the debugger stops talking, not when the machine is slow.
"""

from __future__ import annotations

import json
import socket
from typing import Any

PROGRESS_S = 120.0  # silence on the socket this long means the other side is stuck


class DapError(AssertionError):
    pass


class DapClient:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.settimeout(PROGRESS_S)
        self._buf = b""
        self._seq = 0
        self.events: list[dict[str, Any]] = []
        self._responses: dict[int, dict[str, Any]] = {}

    @classmethod
    def connect(cls, port: int) -> DapClient:
        return cls(socket.create_connection(("127.0.0.1", port), timeout=PROGRESS_S))

    def close(self) -> None:
        self.sock.close()

    # --- framing -----------------------------------------------------------------------
    def send(self, command: str, **arguments: Any) -> int:
        self._seq += 1
        body = json.dumps(
            {"seq": self._seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self._seq

    def _read_message(self) -> dict[str, Any]:
        while b"\r\n\r\n" not in self._buf:
            self._fill()
        head, _, rest = self._buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            self._buf = head + b"\r\n\r\n" + rest
            self._fill()
            head, _, rest = self._buf.partition(b"\r\n\r\n")
        self._buf = rest[length:]
        message: dict[str, Any] = json.loads(rest[:length])
        return message

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise DapError("the debug adapter closed the connection")
        self._buf += chunk

    # --- requests and events ------------------------------------------------------------
    def _next(self) -> None:
        """Read one message: an event is kept in `events`, a response by its request; a
        failed response raises at once (nothing waits on an error)."""
        msg = self._read_message()
        if msg.get("type") == "event":
            self.events.append(msg)
        elif msg.get("type") == "response":
            if not msg.get("success"):
                raise DapError(f"{msg.get('command')} failed: {msg.get('message')}")
            self._responses[int(msg["request_seq"])] = msg

    def response(self, seq: int) -> dict[str, Any]:
        """The response to request `seq` (events meanwhile are kept in `events`)."""
        while seq not in self._responses:
            self._next()
        return self._responses.pop(seq)

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        body: dict[str, Any] = self.response(self.send(command, **arguments)).get("body") or {}
        return body

    def event(self, name: str) -> dict[str, Any]:
        """The first `name` event not consumed yet (waiting for it if need be)."""
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("event") == name:
                    del self.events[i]
                    body: dict[str, Any] = ev.get("body") or {}
                    return body
            self._next()
