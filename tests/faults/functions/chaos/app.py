"""Fails on request, for the soak benchmark: {"fault": "crash" | "timeout" | "oom" | "error"}."""

import os
import time


def handler(event, context):
    fault = event.get("fault") if isinstance(event, dict) else None
    if fault == "crash":
        os._exit(3)
    if fault == "timeout":
        time.sleep(context.get_remaining_time_in_millis() / 1000 + 5)
    if fault == "oom":
        block = bytearray(int(event.get("mb", 400)) * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
    if fault == "error":
        raise RuntimeError("injected")
    return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}
