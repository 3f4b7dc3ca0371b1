"""/tmp survives warm invocations: download an artifact once per execution environment.

The first invocation of an environment fetches `/files/model.bin` (8 MiB unless
{"size": N}) from the downstream service (DOWNSTREAM_URL) into /tmp; later invocations in
the same environment read it from /tmp. A new environment (a cold start, or a second
concurrent one) starts with an empty /tmp and downloads again: /tmp is a per-environment
cache, never shared state.
"""

import hashlib
import os
import tempfile
import time
import urllib.request

BASE = os.environ.get("DOWNSTREAM_URL", "http://127.0.0.1:9001")
# Lambda's /tmp; the emulator gives each environment its own (TMPDIR where it cannot mount).
CACHE = os.path.join(tempfile.gettempdir(), "tmp_cache", "model.bin")


def _download(size):
    os.makedirs(os.path.dirname(CACHE), exist_ok=True)
    part = f"{CACHE}.part"
    url = f"{BASE}/files/model.bin?size={size}"
    with urllib.request.urlopen(url, timeout=30) as resp, open(part, "wb") as fh:
        while chunk := resp.read(1 << 20):
            fh.write(chunk)
    os.replace(part, CACHE)  # an interrupted download never looks like a cached file


def handler(event, context):
    size = int(event.get("size", 8 << 20)) if isinstance(event, dict) else 8 << 20
    started = time.perf_counter()
    hit = os.path.exists(CACHE) and os.path.getsize(CACHE) == size
    if not hit:
        _download(size)
    with open(CACHE, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return {
        "cache": "hit" if hit else "miss",
        "bytes": os.path.getsize(CACHE),
        "sha256": digest,
        "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
    }
