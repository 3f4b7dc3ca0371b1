"""Cgroups for execution environments, v2 and v1 (LAMBDA_SPEC §5–§6).

Each environment gets its own cgroup: memory limit = MB with no swap, a CPU quota of MB/1769
of one vCPU (applied when init ends: Lambda runs init unthrottled), a pids limit, a freezer,
and counters for peak memory, CPU time and OOM kills. `detect()` finds the best writable
hierarchy:

- **v2** (unified): the emulator's own cgroup when it may write there (root, or a delegated
  systemd user scope). v2 forbids processes in a cgroup whose controllers are delegated
  further, so the emulator first moves itself into a `lambda-emu-<pid>/emulator` leaf.
- **v1**: one directory per controller (`memory`, `cpu`, `cpuacct`, `pids`, `freezer`) under
  the emulator's own cgroup of each.

What the chosen hierarchy cannot do is reported by `Capabilities.describe()`, printed at start
and by `lambda-emu doctor`; callers fall back to rlimits and SIGSTOP/SIGCONT for the rest.
Foreign errors (OSError from cgroupfs) are translated to `SandboxError` here.
"""

from emulator.sandbox.cgroups.cgroup import (
    CGROUP_ROOT,
    CPU_WEIGHT_FACTOR,
    DEFAULT_CPU_PERIOD_US,
    MB_PER_VCPU,
    PIDS_LIMIT,
    Capabilities,
    Cgroup,
    CgroupBackend,
)
from emulator.sandbox.cgroups.detect import (
    CpuShare,
    cpu_share,
    detect,
    remove_stale,
    summary,
    vcpus_for,
)

__all__ = [
    "CGROUP_ROOT",
    "CPU_WEIGHT_FACTOR",
    "DEFAULT_CPU_PERIOD_US",
    "MB_PER_VCPU",
    "PIDS_LIMIT",
    "Capabilities",
    "Cgroup",
    "CgroupBackend",
    "CpuShare",
    "cpu_share",
    "detect",
    "remove_stale",
    "summary",
    "vcpus_for",
]
