import os
import tempfile
from pathlib import Path


def handler(event, context):
    # /tmp on Lambda and with a private /tmp; the environment's own TMPDIR where the emulator
    # cannot mount one (code under /tmp, not root)
    path = Path(tempfile.gettempdir()) / "counter"
    count = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(count))
    return {"count": count, "pid": os.getpid(), "tmp": str(path.parent)}
