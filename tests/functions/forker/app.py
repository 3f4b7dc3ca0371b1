"""Forks {"n": N} children that stay alive together, then lets them go. Past the pids limit a
fork fails (BlockingIOError, EAGAIN) and the function fails with it, as on Lambda."""

import os


def handler(event, context):
    n = int(event.get("n", 10)) if isinstance(event, dict) else 10
    read_fd, write_fd = os.pipe()
    children = []
    try:
        for _ in range(n):
            pid = os.fork()
            if pid == 0:
                os.close(write_fd)
                os.read(read_fd, 1)  # until the parent closes its end
                os._exit(0)
            children.append(pid)
    finally:
        os.close(write_fd)
        os.close(read_fd)
        for pid in children:
            os.waitpid(pid, 0)
    return {"forked": len(children)}
