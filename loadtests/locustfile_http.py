"""The locustfile of `lambda-emu load --http`: one route, through the HTTP front door.

    locust -f loadtests/locustfile_http.py --host http://127.0.0.1:3000 \
        --lambda-http 'GET /items/{id}' --lambda-path-param id=42 \
        --lambda-header 'Authorization: allow' \
        --lambda-trace .lambda-emu/traces/invocations.jsonl \
        --users 20 --spawn-rate 20 --run-time 1m --headless

`--host` is the emulator's API port or a deployed API's stage URL; `--lambda-trace` (the
emulator's trace, when the emulator runs on this machine) splits each route cold and warm. To
load several routes your own way, subclass `ApiUser` in your own locustfile and call
`loadtests.plugin.install()` there.
"""

from __future__ import annotations

from loadtests.api_user import ApiUser
from loadtests.plugin import install
from loadtests.shapes import LambdaLoadShape

install()

__all__ = ["LambdaLoadShape", "RouteUser"]


class RouteUser(ApiUser):
    """Sends --lambda-http with --lambda-path-param(s), --lambda-header(s) and --lambda-payload."""
