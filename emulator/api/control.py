"""The emulator's own API: `/_emu/…` (JSON) and `/metrics` (Prometheus text).

GET  /_emu/health          {"status": "ok", "functions": N, "pid", "cgroups", "limits", …}
GET  /_emu/functions       configuration and counters per function
GET  /_emu/environments    every execution environment (id, state, pid, invocations)
POST /_emu/reset           shut every environment down (next invocations are cold)
GET  /metrics              counters and gauges per function
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from emulator.httpserver import Request, Response

if TYPE_CHECKING:
    from emulator.server import Emulator

_JSON = "application/json"


def _json(data: object, status: int = 200) -> Response:
    return Response(status, json.dumps(data).encode(), content_type=_JSON)


class ControlApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def handle(self, request: Request) -> Response:
        path, method = request.path.rstrip("/"), request.method
        pools = self.emulator.pools
        if path == "/_emu/health" and method == "GET":
            emu = self.emulator
            return _json(
                {
                    "status": "ok",
                    "functions": len(pools),
                    "pid": os.getpid(),
                    "cgroups": emu.cgroups.version if emu.cgroups is not None else None,
                    "limits": emu.limits,
                    "events_pending": emu.events.pending,
                    "function_uid": (
                        emu.function_user.uid if emu.function_user is not None else os.geteuid()
                    ),
                }
            )
        if path == "/_emu/functions" and method == "GET":
            return _json({"functions": [pool.describe() for pool in pools.values()]})
        if path == "/_emu/environments" and method == "GET":
            envs = [env for pool in pools.values() for env in pool.environments()]
            return _json({"environments": envs})
        if path == "/_emu/reset" and method == "POST":
            for pool in pools.values():
                await pool.reset()
            return _json({"status": "reset"})
        if path == "/metrics" and method == "GET":
            return Response(200, self._metrics().encode(), content_type="text/plain; version=0.0.4")
        body = json.dumps({"Type": "User", "message": f"Unknown operation {request.path}"})
        return Response(
            404,
            body.encode(),
            [("x-amzn-ErrorType", "UnknownOperationException")],
            content_type=_JSON,
        )

    def _metrics(self) -> str:
        series = {
            "lambda_emu_invocations_total": ("counter", "invocations"),
            "lambda_emu_cold_starts_total": ("counter", "cold_starts"),
            "lambda_emu_throttles_total": ("counter", "throttles"),
            "lambda_emu_function_errors_total": ("counter", "errors"),
            "lambda_emu_environments": ("gauge", "environments"),
            "lambda_emu_busy_environments": ("gauge", "busy"),
        }
        lines: list[str] = []
        described = [pool.describe() for pool in self.emulator.pools.values()]
        for metric, (kind, key) in series.items():
            lines.append(f"# TYPE {metric} {kind}")
            for d in described:
                lines.append(f'{metric}{{function="{d["name"]}"}} {d[key]}')
        return "\n".join(lines) + "\n"
