import os
import time


def handler(event, context):
    time.sleep(float(event.get("sleep", 1)))
    return {"pid": os.getpid()}
