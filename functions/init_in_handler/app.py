"""The anti-pattern: a client with a costly set-up created inside the handler, on every call.

The same `ProfileClient` as init_global (an AWS SDK client, a secret fetched from the
downstream service, one HTTP connection), built per invocation: every warm call pays the
set-up again, in Duration and in the bill.
"""

import os


def handler(event, context):
    from client import ProfileClient

    client = ProfileClient(os.environ.get("DOWNSTREAM_URL", "http://127.0.0.1:9001"))
    try:
        uid = int(event.get("user", 1)) if isinstance(event, dict) else 1
        return {"user": client.user(uid)["name"], "client_setup_ms": client.setup_ms}
    finally:
        client.close()
