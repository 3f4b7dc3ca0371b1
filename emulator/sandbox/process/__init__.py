"""The process sandbox: the runtime as a local process tree (the embedded default).

    sandbox.py   ProcessSandbox: one environment's process tree, limits, counters, freezing
    factory.py   what this machine enforces, found once; the sandboxes made with it
    launcher.py  the shell launcher that joins the cgroup and binds /tmp before exec
    lambda_paths.py  Lambda's /var/task and /var/runtime in the environment's namespace (opt-in)
    procfs.py    /proc readers for when no cgroup counts

The runtime runs in its own session and process group, so the whole tree can be signalled
at once; its stdout and stderr share one pipe that the event loop reads, and that the
environment drains synchronously when a response arrives, so every line printed before the
response lands in that invocation's log. The exit is watched through a pidfd.

Resources (LAMBDA_SPEC §5–§6), when a cgroup hierarchy is writable: the runtime is started
through a small launcher that joins the environment's cgroup *before* exec (so every byte and
every child is accounted), gives it a private `/tmp` (a mount namespace with the environment's
own directory bound on `/tmp`, when the emulator may mount), and then execs the runtime. Memory
= MB with no swap; the CPU quota (MB/1769 of a vCPU) is applied when init ends; Max Memory Used
and CPU time come from the cgroup's counters; the freezer stops the environment between
invocations. Without cgroups: RLIMIT_DATA for memory, VmHWM / `/proc` for the counters and
SIGSTOP/SIGCONT for freezing, and the emulator says so at start.
"""

from __future__ import annotations

from emulator.sandbox.process.factory import (
    ProcessSandboxFactory,
    can_mount_private_tmp,
    factory,
)
from emulator.sandbox.process.sandbox import DEEP_FREEZE_AFTER_S, ProcessSandbox

__all__ = [
    "DEEP_FREEZE_AFTER_S",
    "ProcessSandbox",
    "ProcessSandboxFactory",
    "can_mount_private_tmp",
    "factory",
]
