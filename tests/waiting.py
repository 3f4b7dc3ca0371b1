"""Waiting for something the emulator does in the background (no wall-clock assertions: the
deadline only stops a test that would otherwise hang)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

# How much slower than this host the tests run: the cgroup v2 lane (scripts/test-cgroup-v2)
# runs the resource tests in an emulated VM where Python is ~11x slower, and stretches the
# functions' and inits' time limits by this factor (1 elsewhere).
SLOWDOWN = float(os.environ.get("LAMBDA_EMU_TEST_SLOWDOWN", "1"))


def eventually(check: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen within {within_s} s: {what}")


def while_progressing(
    check: Callable[[], bool], progress: Callable[[], object], what: str, stall_s: float = 30.0
) -> None:
    """Wait for `check` for as long as `progress()` keeps changing (events delivered, say):
    only `stall_s` without any progress fails, so a loaded host makes it slower, not red."""
    last = progress()
    deadline = time.monotonic() + stall_s
    while not check():
        now = progress()
        if now != last:
            last, deadline = now, time.monotonic() + stall_s
        elif time.monotonic() > deadline:
            raise AssertionError(f"no progress for {stall_s} s (at {last!r}): {what}")
        time.sleep(0.05)


def docker_images_ready() -> bool:
    """A Docker engine answers and the local python image is built and current."""
    from emulator.images import PYTHON_IMAGE
    from emulator.images.build import current, docker_client, recipe_digest
    from emulator.sandbox import docker

    if not docker.engine_answers():
        return False
    client = docker_client()
    try:
        return current(client, PYTHON_IMAGE, recipe_digest())
    finally:
        client.close()


def docker_leftovers(function: str | None = None) -> list[str]:
    """Containers this test process's emulators made (of `function`) that still exist."""
    import subprocess

    from emulator.sandbox import docker

    cmd = ["docker", "ps", "-aq", "--filter", f"label={docker.LABEL_OWNER}={docker.owner_token()}"]
    if function is not None:
        cmd += ["--filter", f"label={docker.LABEL_FUNCTION}={function}"]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
