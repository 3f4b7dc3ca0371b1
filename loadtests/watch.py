"""Concurrent execution environments over time, from the emulator's control API.

Real Lambda does not tell a client how many environments serve it (CloudWatch's
ConcurrentExecutions does, a minute late); the emulator does, at `GET /_emu/environments`.
When the target answers `GET /_emu/health` like the emulator, `EnvironmentWatch.poll()` is
called once a second on the Locust master and records, for the function under load:

    timeline  [[seconds since start, environments, busy], ...]
    created   environments that appeared during the run (ids not there at the start)

Against real Lambda `probe()` is False and nothing is polled. Stdlib only: it runs inside
Locust's gevent-patched process and in the pytest process alike.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

HEALTH = "/_emu/health"
ENVIRONMENTS = "/_emu/environments"
BUSY_STATES = ("Invoking", "Finishing", "Init")


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


@dataclass
class EnvironmentWatch:
    host: str
    function: str
    timeout_s: float = 2.0
    started_at: float = field(default_factory=time.time)
    timeline: list[list[float]] = field(default_factory=list)
    baseline: set[str] | None = None  # environment ids that existed before the run
    seen: set[str] = field(default_factory=set)
    peak: int = 0

    def probe(self) -> bool:
        """True when the target is a lambda-emu emulator."""
        if not self.host.startswith(("http://", "https://")):
            return False
        try:
            data = _get(self.host.rstrip("/") + HEALTH, self.timeout_s)
        except (OSError, ValueError, urllib.error.URLError):
            return False
        return isinstance(data, dict) and data.get("status") == "ok" and "functions" in data

    def poll(self) -> bool:
        """One sample; False when the control API did not answer."""
        try:
            data = _get(self.host.rstrip("/") + ENVIRONMENTS, self.timeout_s)
        except (OSError, ValueError, urllib.error.URLError):
            return False
        envs = [e for e in data.get("environments", []) if e.get("function") == self.function]
        ids = {str(e.get("id")) for e in envs}
        if self.baseline is None:
            self.baseline = ids
        self.seen |= ids - self.baseline
        busy = sum(1 for e in envs if e.get("state") in BUSY_STATES)
        self.peak = max(self.peak, len(envs))
        self.timeline.append([round(time.time() - self.started_at, 2), len(envs), busy])
        return True

    def start(self) -> None:
        """The run starts now: the environments that exist are the baseline."""
        self.started_at = time.time()
        self.baseline = None
        self.timeline.clear()
        self.seen.clear()
        self.peak = 0
        self.poll()

    def summary(self) -> dict[str, Any]:
        return {
            "environments_created": len(self.seen),
            "environments_peak": self.peak,
            "timeline": self.timeline,
        }
