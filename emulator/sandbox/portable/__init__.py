"""The portable sandbox: the runtime as a plain local process, on macOS, Windows or any host
without the Linux interfaces the process sandbox is built on (emulator/sandbox/capabilities.py).

    ⚠ NOTHING IS ENFORCED HERE: no memory or CPU limit (no cgroups, no RLIMIT_DATA), no
    freezing between invocations, no private /tmp, no separate function user, no Lambda
    ulimits, and no Runtime API owner check (any local process can reach an environment's
    listener). The start line, `lambda-emu doctor` and `/_emu/health` say so.

What still holds, because it needs only processes: scaling (one process per environment),
cold and warm starts, timeouts and crashes (the whole tree is killed: its process group on
POSIX, psutil's view of its children elsewhere), output in each invocation's log, REPORT with
Max Memory Used, the Event queue, the front door and Locust.

Max Memory Used ⚠ is approximate: the peak of the process tree's summed RSS, sampled by psutil
every SAMPLE_S while the environment runs (init, invocations; not while idle) and when the
REPORT is written (Windows' peak working set where psutil has it), so a spike shorter than a
sample can be missed; Lambda counts the microVM's memory.

`lambda-emu serve --sandbox portable` forces this sandbox on Linux too, with every Linux-only
capability off (capabilities.PORTABLE), which is how it is tested (tests/test_portable.py,
tests/test_portable_hosts.py); the process sandbox hands over to it by itself on a host that
lacks them.

    sandbox.py   PortableSandbox: one environment's process tree, its output, exit and RSS
    factory.py   the factory, what it says at start, the runtimes' clients off Linux
"""

from __future__ import annotations

from emulator.sandbox.portable.factory import (
    NOT_ENFORCED,
    PortableSandboxFactory,
    factory,
    made,
    node_client_built,
    with_python_client,
)
from emulator.sandbox.portable.sandbox import SAMPLE_S, PortableSandbox, host_essentials

__all__ = [
    "NOT_ENFORCED",
    "SAMPLE_S",
    "PortableSandbox",
    "PortableSandboxFactory",
    "factory",
    "host_essentials",
    "made",
    "node_client_built",
    "with_python_client",
]
