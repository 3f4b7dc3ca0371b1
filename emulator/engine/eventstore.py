"""The durable Event queue: accepted asynchronous invocations, on disk before the 202.

One SQLite database per state directory (`<state_dir>/events.sqlite3`, WAL journal), one row
per accepted event. A row is written (and committed) before the caller gets its 202, updated
as attempts are made, and deleted once the event is delivered or has reached its failure
destination. Rows left by a stopped or crashed emulator are delivered by the next one that
uses the same state directory — at least once, as Lambda promises for asynchronous
invocations: an event that was running when the emulator died runs again.

`synchronous=NORMAL` in WAL mode survives a crash of the emulator process (what this queue is
for); it does not promise survival of a power loss, which a local tool does not need.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.engine.invocation import Invocation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    request_id  TEXT PRIMARY KEY,
    function    TEXT NOT NULL,
    payload     BLOB NOT NULL,
    meta        TEXT NOT NULL,
    accepted_at REAL NOT NULL,   -- epoch seconds
    attempts    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'queued'
)
"""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    invocation: Invocation
    accepted_at: float  # epoch seconds
    attempts: int


class EventStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def add(self, inv: Invocation) -> float:
        """Keep an accepted event (committed on return); returns its acceptance time."""
        accepted = time.time()
        meta = {
            "invoked_arn": inv.invoked_arn,
            "content_type": inv.content_type,
            "trace_id": inv.trace_id,
            "client_context": inv.client_context,
            "tenant_id": inv.tenant_id,
            "executed_version": inv.executed_version,
        }
        self._db.execute(
            "INSERT OR IGNORE INTO events (request_id, function, payload, meta, accepted_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (inv.request_id, inv.function_name, inv.payload, json.dumps(meta), accepted),
        )
        return accepted

    def attempted(self, request_id: str, attempts: int) -> None:
        self._db.execute(
            "UPDATE events SET attempts = ? WHERE request_id = ?", (attempts, request_id)
        )

    def remove(self, request_id: str) -> None:
        """Delivered, or handed to the failure destination: the event is done."""
        self._db.execute("DELETE FROM events WHERE request_id = ?", (request_id,))

    def pending(self) -> list[StoredEvent]:
        rows = self._db.execute(
            "SELECT request_id, function, payload, meta, accepted_at, attempts FROM events "
            "ORDER BY accepted_at"
        ).fetchall()
        out = []
        for request_id, function, payload, meta_text, accepted_at, attempts in rows:
            meta = json.loads(meta_text)
            inv = Invocation(
                function_name=function,
                payload=bytes(payload),
                invoked_arn=meta["invoked_arn"],
                request_id=request_id,
                content_type=meta["content_type"],
                trace_id=meta["trace_id"],
                client_context=meta["client_context"],
                tenant_id=meta["tenant_id"],
                invocation_type="Event",
                # the version picked when the event was accepted (an alias's, by weight)
                executed_version=meta.get("executed_version", "$LATEST"),
            )
            out.append(StoredEvent(inv, accepted_at, attempts))
        return out

    def count(self) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM events").fetchone()
        return int(n)

    def close(self) -> None:
        self._db.close()
