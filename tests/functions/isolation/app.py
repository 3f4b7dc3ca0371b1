"""What a function can see and touch outside its own environment (tests/faults/
test_isolation_anywhere.py): its user, the host's /tmp (a marker file the test put there),
its own code directory, and a file
in /root beside the paths it needs."""

import os


def _write(path):
    try:
        with open(path, "w") as fh:
            fh.write("x")
    except OSError as exc:
        return exc.errno
    os.unlink(path)
    return 0


def handler(event, context):
    here = os.path.dirname(os.path.abspath(__file__))
    marker = event.get("marker", "")
    return {
        "uid": os.getuid(),
        "code": here,
        "sees_host_tmp": bool(marker) and os.path.exists(os.path.join("/tmp", marker)),
        "sees_root_secret": bool(event.get("secret")) and os.path.exists(event["secret"]),
        "tmp_entries": len(os.listdir("/tmp")),
        "write_code": _write(os.path.join(here, "written-by-the-function")),
        "write_tmp": _write("/tmp/mine"),
    }
