import os
import signal


def handler(event, context):
    print("about to crash", flush=True)
    if event.get("signal"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(int(event.get("code", 3)))
