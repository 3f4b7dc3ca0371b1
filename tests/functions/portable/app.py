"""The portable sandbox's test function (tests/test_portable.py): what it needs to show that
scaling, timeouts, crashes and memory still behave with no Linux interface in use."""

import os
import subprocess
import sys
import time

KEEP = []


def handler(event, context):
    event = event or {}
    if "print" in event:
        print(event["print"], flush=True)
    if "client" in event:
        import runtime_client

        return {"runtime_client": runtime_client.__file__}
    if "spawn" in event:
        # a child in the environment's tree, which a timeout must end with it; "detach": in a
        # session of its own, out of the environment's process group
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"],
            start_new_session=bool(event.get("detach")),
        )
        with open(event["spawn"], "w") as fh:
            fh.write(str(child.pid))
    if "allocate_mb" in event:
        block = bytearray(event["allocate_mb"] * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1  # touch every page: resident, not just reserved
        KEEP.append(block)
    if "touch" in event:
        with open(event["touch"], "w") as fh:
            fh.write(context.aws_request_id)
    if "sleep" in event:
        time.sleep(event["sleep"])
    if "exit" in event:
        os._exit(event["exit"])
    return {"pid": os.getpid(), "tmp": os.environ.get("TMPDIR", "")}
