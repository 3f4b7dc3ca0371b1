"""What this host's operating system offers the sandboxes, probed once.

The process sandbox was built on Linux interfaces that a Mac or Windows Python does not have
(an attribute that is simply absent, not an `OSError`): pidfds, sock_diag over AF_NETLINK for
the Runtime API's owner check, `/proc`, cgroups, `prlimit`, mount namespaces and `setpriv`
for a private /tmp and the function user. Each of them is one field here, and every caller
on the serve path asks this record before it reaches for one:

    field              Linux  macOS  Windows  used for
    pidfd              yes    no     no       the runtime's exit on the event loop (else a thread)
    sock_diag          yes    no     no       the Runtime API owner check (peers.py)
    procfs             yes    no     no       process trees, VmHWM, CPU ticks (procfs.py)
    cgroups            yes    no     no       memory, CPU, pids, freezer (cgroups/)
    prlimit            yes    no     no       Lambda's ulimits, RLIMIT_DATA without cgroups
    mount_namespaces   root   no     no       a private /tmp, the function user (users.py)
    process_groups     yes    yes    no       signal or kill the whole tree at once
    stop_signals       yes    yes    no       SIGSTOP/SIGCONT freezing
    pipe_reader        yes    yes    no       the output pipe on the event loop (else a thread)
    native_ric         yes    no     no       awslambdaric's C `runtime_client` (else ours)

`PORTABLE` is the record with every Linux-only field off, as on a Mac: `--sandbox portable`
uses it on any host, so the portable path is tested on Linux (tests/test_portable.py); other
hosts are simulated in tests/test_portable_hosts.py.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path


@dataclass(frozen=True, slots=True)
class HostCapabilities:
    platform: str  # sys.platform: "linux", "darwin", "win32"
    pidfd: bool
    sock_diag: bool
    procfs: bool
    cgroups: bool
    prlimit: bool
    mount_namespaces: bool
    process_groups: bool
    stop_signals: bool
    pipe_reader: bool
    native_ric: bool

    @property
    def linux_sandbox(self) -> bool:
        """Whether the Linux process sandbox (limits, counters, owner check) can run here."""
        return self.procfs and self.sock_diag and self.prlimit

    def missing(self) -> list[str]:
        """The names of the capabilities this host lacks."""
        return [f.name for f in fields(self) if f.type == "bool" and not getattr(self, f.name)]

    def portable(self) -> HostCapabilities:
        """This host with every Linux-only capability off: what a Mac offers."""
        return replace(
            self,
            pidfd=False,
            sock_diag=False,
            procfs=False,
            cgroups=False,
            prlimit=False,
            mount_namespaces=False,
            native_ric=False,
        )


def _has_resource_prlimit() -> bool:
    try:
        import resource
    except ImportError:  # Windows
        return False
    return hasattr(resource, "prlimit")


def probe() -> HostCapabilities:
    """Ask this host (cheap: attribute and path checks, no process started)."""
    linux = sys.platform.startswith("linux")
    posix = os.name == "posix"
    geteuid = getattr(os, "geteuid", None)
    return HostCapabilities(
        platform=sys.platform,
        pidfd=hasattr(os, "pidfd_open"),
        sock_diag=linux and hasattr(socket, "AF_NETLINK"),
        procfs=linux and Path("/proc/self/stat").exists(),
        cgroups=linux and Path("/sys/fs/cgroup").is_dir(),
        prlimit=_has_resource_prlimit(),
        mount_namespaces=linux
        and geteuid is not None
        and geteuid() == 0
        and shutil.which("unshare") is not None,
        process_groups=posix and hasattr(os, "killpg") and hasattr(os, "setsid"),
        stop_signals=hasattr(signal, "SIGSTOP") and hasattr(signal, "SIGCONT"),
        # asyncio's Windows loops cannot watch a pipe (the proactor has no add_reader)
        pipe_reader=sys.platform != "win32",
        # awslambdaric builds its C client on Linux only (setup.py: "The native runtime_client
        # only builds on Linux"); elsewhere pip installs it without one.
        native_ric=linux,
    )


@functools.cache
def host() -> HostCapabilities:
    """This host's capabilities, probed once per process."""
    return probe()


# Every Linux-only capability off on a Linux-like POSIX host: the record `--sandbox portable`
# starts from when tests build one without probing.
PORTABLE = HostCapabilities(
    platform="portable",
    pidfd=False,
    sock_diag=False,
    procfs=False,
    cgroups=False,
    prlimit=False,
    mount_namespaces=False,
    process_groups=os.name == "posix",
    stop_signals=False,
    pipe_reader=os.name == "posix",
    native_ric=False,
)

# What native Windows offers: not even process groups or a pipe on the event loop.
WINDOWS_LIKE = replace(PORTABLE, platform="win32", process_groups=False, pipe_reader=False)


def euid() -> int | None:
    """The effective uid, or None where there is none (Windows)."""
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


__all__ = ["PORTABLE", "WINDOWS_LIKE", "HostCapabilities", "euid", "host", "probe"]
