"""A minimal Lambda Runtime API client (NOT awslambdaric), for servers stock awslambdaric can't use.

Used only by the ``cargo-lambda-pyloop`` row of bench/invoke_overhead.py: cargo-lambda's ``/next``
answer has no ``Content-Type`` header, and awslambdaric's native client (aws-lambda-cpp 0.2.6)
dereferences that missing header and dies with SIGSEGV on the first invocation. This loop does the
same work per invocation as awslambdaric (GET /next, call the handler, POST /response over one
kept-alive HTTP/1.1 connection), so it shows what cargo-lambda's server costs.

usage: AWS_LAMBDA_RUNTIME_API=[http://]host:port[/prefix] python pyloop_runtime.py module.function
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


def main(argv: list[str]) -> None:
    module_name, _, func_name = argv[1].rpartition(".")
    sys.path.insert(0, os.getcwd())
    handler = getattr(importlib.import_module(module_name), func_name)

    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    parts = urlsplit(api if "://" in api else "http://" + api)
    prefix = parts.path.rstrip("/") + "/2018-06-01/runtime/invocation/"
    while True:  # one kept-alive connection; reconnect if the server drops it
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as libcurl does
        try:
            serve(conn, prefix, handler)
        except (ConnectionError, http.client.HTTPException) as e:
            print(f"pyloop_runtime: {e!r}, reconnecting", file=sys.stderr)
        finally:
            conn.close()


def serve(conn: http.client.HTTPConnection, prefix: str, handler: Callable[..., Any]) -> None:
    while True:
        conn.request("GET", prefix + "next")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:  # 204: older cargo-lambda, nothing queued; 408: its --timeout
            if resp.status not in (204, 408):
                print(
                    f"pyloop_runtime: /next answered {resp.status}: {body[:200]!r}", file=sys.stderr
                )
                time.sleep(0.1)
            continue
        request_id = resp.headers["Lambda-Runtime-Aws-Request-Id"]
        result = json.dumps(handler(json.loads(body) if body else {}, None)).encode()
        conn.request(
            "POST",
            f"{prefix}{request_id}/response",
            body=result,
            headers={"Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        resp.read()


if __name__ == "__main__":
    main(sys.argv)
