"""The pattern: a client with a costly set-up created once per execution environment.

`ProfileClient` stands for a database or API client: its set-up creates an AWS SDK session
and client (CPU: loading the service model) and fetches a secret from the downstream service
(a 100 ms round trip), then keeps one HTTP connection open. Created at module level, it is
built during the Init phase (billed once, on the cold start) and every warm invocation only
pays for its own request. init_in_handler builds the same client inside the handler.
"""

import os

from client import ProfileClient

_client = ProfileClient(os.environ.get("DOWNSTREAM_URL", "http://127.0.0.1:9001"))


def handler(event, context):
    uid = int(event.get("user", 1)) if isinstance(event, dict) else 1
    return {"user": _client.user(uid)["name"], "client_setup_ms": _client.setup_ms}
