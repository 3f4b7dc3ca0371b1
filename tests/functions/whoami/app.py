"""What the function may do as the user it runs as (tests/test_resources.py)."""

import os


def _try(action):
    try:
        action()
    except OSError as exc:
        return exc.errno
    return 0


def handler(event, context):
    emulator = int(event["emulator_pid"])
    with open("/tmp/mine", "w") as fh:
        fh.write("x")
    return {
        "uid": os.getuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "tmp_owner": os.stat("/tmp/mine").st_uid,
        "signal_emulator": _try(lambda: os.kill(emulator, 0)),
        "read_emulator_environ": _try(lambda: open(f"/proc/{emulator}/environ").read()),
        "read_shadow": _try(lambda: open("/etc/shadow").read()),
    }
