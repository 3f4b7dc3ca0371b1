"""Analytics handed to the `analytics` extension, which sends them after the response."""

import json
import os
import tempfile
import urllib.request

_port = None


def _post(path, body):
    global _port
    if _port is None:  # written by the extension before it registered
        with open(os.path.join(tempfile.gettempdir(), "analytics.port")) as fh:
            _port = int(fh.read())
    req = urllib.request.Request(
        f"http://127.0.0.1:{_port}{path}", data=json.dumps(body).encode(), method="POST"
    )
    urllib.request.urlopen(req).read()


def handler(event, context):
    result = {"greeting": f"hello {event.get('name', 'world')}"}
    _post("/event", {"event": "greeted", "request_id": context.aws_request_id})
    _post("/done", {"request_id": context.aws_request_id})  # the extension may flush now
    return result
