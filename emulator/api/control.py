"""The emulator's own API: `/_emu/…` (JSON) and `/metrics` (Prometheus text).

GET  /_emu/health          {"status": "ok", "functions": N, "pid", "cgroups", "limits", …,
                           "api_url", "http": every API route and function URL served}
GET  /_emu/functions       configuration and counters per function
GET  /_emu/environments    every execution environment (id, state, pid, invocations)
POST /_emu/reset           shut environments down (the next invocations are cold); body, all
                           optional: {"function": NAME, "wait": true} — one function's only,
                           and answer once they are gone
GET  /metrics              counters and gauges per function

It sees the functions through the registry and the rest of the emulator through one
`health` callable: what the server says about itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from emulator import errors
from emulator.api.responses import json_response
from emulator.engine.functions import FunctionRegistry
from emulator.httpserver import Request, Response


class _NotFound(errors.ResourceNotFound):
    pass


class ControlApi:
    def __init__(
        self, functions: FunctionRegistry, health: Callable[[], dict[str, object]]
    ) -> None:
        self.registry = functions
        self._health = health

    # --- handlers (rows of emulator/api/routes.py) ----------------------------------------
    def health(self, _request: Request) -> Response:
        return json_response({"status": "ok", "functions": len(self.registry), **self._health()})

    def functions(self, _request: Request) -> Response:
        return json_response({"functions": self.registry.describe()})

    def environments(self, _request: Request) -> Response:
        return json_response({"environments": self.registry.environments()})

    async def reset(self, request: Request) -> Response:
        try:
            options = json.loads(request.body or b"{}") or {}
        except (ValueError, RecursionError) as exc:
            raise errors.InvalidRequestContent(f"reset: the body is not JSON: {exc}") from exc
        name = options.get("function") if isinstance(options, dict) else None
        wait = bool(options.get("wait")) if isinstance(options, dict) else False
        if not await self.registry.reset(name, wait=wait) and name not in (None, *self.registry):
            raise _NotFound(f"Function not found: {name}")
        return json_response({"status": "reset"})

    def metrics(self, _request: Request) -> Response:
        series = {
            "lambda_emu_invocations_total": ("counter", "invocations"),
            "lambda_emu_cold_starts_total": ("counter", "cold_starts"),
            "lambda_emu_throttles_total": ("counter", "throttles"),
            "lambda_emu_function_errors_total": ("counter", "errors"),
            "lambda_emu_environments": ("gauge", "environments"),
            "lambda_emu_busy_environments": ("gauge", "busy"),
        }
        lines: list[str] = []
        described = self.registry.describe()
        for metric, (kind, key) in series.items():
            lines.append(f"# TYPE {metric} {kind}")
            for d in described:
                lines.append(f'{metric}{{function="{d["name"]}"}} {d[key]}')
        body = ("\n".join(lines) + "\n").encode()
        return Response(200, body, content_type="text/plain; version=0.0.4")
