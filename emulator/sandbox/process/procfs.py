"""What the process sandbox reads from /proc when no cgroup counts for it: peak RSS, CPU
ticks, the members of a process group. os-level reads: /proc files are small, and io.open
costs more than the read itself."""

from __future__ import annotations

import os

# os.sysconf is POSIX-only; /proc exists on Linux only (emulator/sandbox/capabilities.py)
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def read_proc(path: str) -> bytes:
    # os-level read: /proc files are small, and io.open costs more than the read itself
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""
    finally:
        os.close(fd)


def status_kb(pid: int, key: bytes) -> int:
    data = read_proc(f"/proc/{pid}/status")
    at = data.find(key)
    if at < 0:
        return 0
    try:
        return int(data[at + len(key) : data.index(b"kB", at)])
    except ValueError:
        return 0


def cpu_ticks(pid: int) -> tuple[int, int]:
    data = read_proc(f"/proc/{pid}/stat")
    try:
        fields = data.rsplit(b")", 1)[1].split()
        # utime, stime, cutime, cstime are fields 14–17 (1-based); after ")" they are 11–14.
        return int(fields[11]) + int(fields[13]), int(fields[12]) + int(fields[14])
    except (ValueError, IndexError):
        return 0, 0


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    out: list[int] = []
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc (macOS, Windows): the portable sandbox counts through psutil
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            out.append(int(name))
    return out


def scheduling_ns(pid: int) -> tuple[int, int] | None:
    """(time on a CPU, time runnable but waiting for one), in ns, summed over the threads of
    a process (/proc/<pid>/task/*/schedstat; time in a throttled cgroup counts as waiting).
    None where the kernel does not say (no /proc, no schedstat)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    running = waiting = 0
    for tid in tids:
        fields = read_proc(f"/proc/{pid}/task/{tid}/schedstat").split()
        if len(fields) < 2:
            continue
        running += int(fields[0])
        waiting += int(fields[1])
    return running, waiting
