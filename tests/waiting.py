"""Waiting for something the emulator does in the background (no wall-clock assertions: the
deadline only stops a test that would otherwise hang)."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(check: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not seen within {within_s} s: {what}")
