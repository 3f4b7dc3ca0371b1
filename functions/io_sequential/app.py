"""The anti-pattern: independent downstream calls awaited one after another.

A profile needs the user, their posts and their comments: three 100 ms calls to the local
downstream service (DOWNSTREAM_URL), so about 300 ms of Duration, all of it billed waiting.
With {"ids": [1, 2, ...]} it also fetches every user in turn (the fan-out): N x 100 ms.
io_concurrent does the same work with asyncio.gather.
"""

import asyncio
import os
import time

import httpx  # requirements.txt: installed once into the function's dependency cache

# One client and one event loop per execution environment, reused by every warm invocation.
_loop = asyncio.new_event_loop()
_client = httpx.AsyncClient(
    base_url=os.environ.get("DOWNSTREAM_URL", "http://127.0.0.1:9001"), timeout=10
)


async def _get(path, **params):
    resp = await _client.get(path, params=params)
    resp.raise_for_status()
    return resp.json()


async def _work(uid, ids):
    user = await _get(f"/users/{uid}")
    posts = await _get("/posts", userId=uid)
    comments = await _get("/comments", userId=uid)
    fanout = [await _get(f"/users/{i}") for i in ids]
    return user, posts, comments, fanout


def handler(event, context):
    event = event if isinstance(event, dict) else {}
    started = time.perf_counter()
    user, posts, comments, fanout = _loop.run_until_complete(
        _work(int(event.get("user", 1)), [int(i) for i in event.get("ids", [])])
    )
    return {
        "user": user["name"],
        "posts": len(posts),
        "comments": len(comments),
        "fanout": len(fanout),
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
