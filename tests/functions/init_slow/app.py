import os
import time

# Init work that outlasts the init phase limit.
time.sleep(float(os.environ.get("INIT_SLEEP", "5")))


def handler(event, context):
    return {"ok": True}
