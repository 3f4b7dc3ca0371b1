"""The sandbox contract's function: what the fake sandbox's in-memory runtime does, in Python
(emulator/sandbox/fake.py), so one test runs unchanged on every sandbox kind."""

import os
import time


class FakeError(Exception):
    pass


def handler(event, context):
    if isinstance(event, dict):
        if "print" in event:
            print(event["print"], flush=True)
        if "sleep" in event:
            time.sleep(event["sleep"])
            return {"slept": event["sleep"]}
        if "fail" in event:
            raise FakeError(event["fail"])
        if "exit" in event:
            os._exit(event["exit"])
    return {"echo": event}
