"""One cgroup, as the sandboxes use it: limits written, counters read, frozen, emptied,
removed. `CgroupBackend` is where an emulator makes its environments' cgroups; detection of
what a machine offers is in `detect.py`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from emulator.errors import SandboxError

CGROUP_ROOT = Path("/sys/fs/cgroup")
# 1,769 MB is one vCPU (LAMBDA_SPEC §6).
MB_PER_VCPU = 1769
# See docs/fidelity.md: the CFS period decides how smoothly short invocations are throttled.
# The kernel's minimum quota is 1 ms, and 128 MB is 1/13.8 vCPU, so the period must be ≥ 13.8 ms
# for 128 MB to be exact; 20 ms keeps every size exact and short invocations smooth.
DEFAULT_CPU_PERIOD_US = 20_000
# CPU weight of environment cgroups, in the kernel's default units (v1 cpu.shares 1024, v2
# cpu.weight 100): ten times a plain process's. A throttled environment gets a few ms of quota
# per period and loses what it cannot use within the period; at this weight it runs as soon as
# its quota allows, while the quota still caps it (docs/fidelity.md, "CPU under contention").
CPU_WEIGHT_FACTOR = 10
PIDS_LIMIT = 1024  # Lambda: 1,024 processes/threads per environment
# The v2 controllers an emulator enables for its environments, where the hierarchy has them.
V2_CONTROLLERS = ("memory", "cpu", "pids")


# os.sysconf is POSIX-only; cgroups exist on Linux only (emulator/sandbox/capabilities.py)
_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Capabilities:
    version: str  # "v2" | "v1" | "none"
    memory: bool = False
    memory_peak: bool = False
    swap: bool = False
    cpu: bool = False
    cpuacct: bool = False
    pids: bool = False
    freezer: bool = False
    kill: bool = False
    notes: tuple[str, ...] = ()

    def describe(self) -> list[tuple[str, str]]:
        def yes(flag: bool, how: str, fallback: str) -> str:
            return how if flag else fallback

        v = self.version
        rows = [
            ("cgroups", v if v != "none" else "none writable"),
            (
                "memory limit",
                yes(
                    self.memory,
                    f"enforced (cgroup {v})",
                    "NOT enforced (RLIMIT_AS fallback: address space, not RSS)",
                ),
            ),
            ("swap", yes(self.swap, "disabled for functions", "not controlled")),
            (
                "Max Memory Used",
                yes(
                    self.memory_peak,
                    "the larger of the cgroup peak and the processes' peak RSS",
                    "peak RSS (VmHWM) of the process tree",
                ),
            ),
            (
                "CPU share",
                yes(
                    self.cpu,
                    f"enforced: MB/{MB_PER_VCPU} vCPU (cgroup {v})",
                    "NOT enforced (full host speed)",
                ),
            ),
            (
                "pids limit",
                yes(self.pids, f"{PIDS_LIMIT} (cgroup {v})", "RLIMIT_NPROC not applied (root)"),
            ),
            (
                "freeze",
                yes(
                    self.freezer,
                    "SIGSTOP 10 ms after going idle, cgroup v2 cgroup.freeze after 1 s idle",
                    "SIGSTOP/SIGCONT of the process group, 10 ms after going idle",
                ),
            ),
        ]
        rows.extend(("note", n) for n in self.notes)
        return rows


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except OSError as exc:
        raise SandboxError(f"cannot write {value!r} to {path}: {exc.strerror}") from exc


def _read(path: Path) -> str:
    # os-level reads: counters are read on every invocation, and pathlib's text I/O costs
    # more than the read itself
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return ""
    chunks: list[bytes] = []
    try:
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    except OSError:
        return ""
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def _fields(raw: bytes) -> dict[bytes, bytes]:
    """`key value` lines (cpu.stat, cpuacct.stat) as a dict."""
    out: dict[bytes, bytes] = {}
    for line in raw.splitlines():
        key, _, value = line.partition(b" ")
        out[key] = value
    return out


class Cgroup:
    """One environment's cgroup (a directory per controller on v1, one directory on v2)."""

    def __init__(self, backend: CgroupBackend, name: str, dirs: dict[str, Path]) -> None:
        self.backend = backend
        self.name = name
        self.dirs = dirs  # controller → directory; v2: {"unified": dir}
        self._counters: dict[tuple[str, str], int] = {}

    @classmethod
    def of_process(cls, pid: int, root: Path = CGROUP_ROOT) -> Cgroup | None:
        """The cgroup a process is in as this host sees it (a container's, say), or None
        where it is hidden from here. Its counters and limits work as an environment's."""
        dirs: dict[str, Path] = {}
        for line in _read(Path(f"/proc/{pid}/cgroup")).splitlines():
            _, controllers, path = line.split(":", 2)
            rel = path.lstrip("/")
            if controllers == "":
                unified = root / rel
                if (unified / "cgroup.controllers").exists():
                    dirs["unified"] = unified
                continue
            for c in controllers.split(","):
                d = root / c / rel
                if d.is_dir():
                    dirs[c] = d
        if not dirs:
            return None
        if "memory" in dirs:
            dirs.pop("unified", None)  # v1 hybrid: the v2 tree has no controllers
            caps = Capabilities(
                "v1", memory=True, memory_peak=True, cpu="cpu" in dirs, cpuacct="cpuacct" in dirs
            )
            return cls(CgroupBackend("v1", caps), f"pid-{pid}", dirs)
        caps = Capabilities("v2", memory=True, memory_peak=True, cpu=True, cpuacct=True)
        return cls(CgroupBackend("v2", caps), f"pid-{pid}", dirs)

    @classmethod
    def of_container(cls, container_id: str, root: Path = CGROUP_ROOT) -> Cgroup | None:
        """A container's cgroup in the engine host's tree mounted at `root` (where docker's
        cgroupfs or systemd driver puts it), for its counters: a compose emulator sees the
        tree read-only and sends every change through the engine's API."""
        places = (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope")
        dirs: dict[str, Path] = {}
        for rel in places:
            if (root / rel / "cgroup.controllers").exists():
                caps = Capabilities("v2", memory=True, memory_peak=True, cpu=True, cpuacct=True)
                return cls(
                    CgroupBackend("v2", caps), f"ctr-{container_id[:12]}", {"unified": root / rel}
                )
            for c in ("memory", "cpu", "cpuacct", "freezer", "pids"):
                d = root / c / rel
                if d.is_dir():
                    dirs[c] = d
            if "memory" in dirs:
                caps = Capabilities(
                    "v1",
                    memory=True,
                    memory_peak=True,
                    cpu="cpu" in dirs,
                    cpuacct="cpuacct" in dirs,
                )
                return cls(CgroupBackend("v1", caps), f"ctr-{container_id[:12]}", dirs)
        return None

    def _counter(self, controller: str, name: str) -> bytes:
        """A counter file's current contents, through a descriptor kept open (one pread a
        read: counters are read on every invocation, and opening costs more than reading)."""
        key = (controller, name)
        fd = self._counters.get(key)
        try:
            if fd is None:
                d = self.dirs.get(controller)
                if d is None:
                    return b""
                fd = os.open(d / name, os.O_RDONLY)
                self._counters[key] = fd
            return os.pread(fd, 4096, 0)
        except OSError:
            return b""

    def close_counters(self) -> None:
        for fd in self._counters.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._counters.clear()

    @property
    def version(self) -> str:
        return self.backend.version

    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in dict.fromkeys(self.dirs.values())]

    # --- limits -------------------------------------------------------------------------
    def set_memory(self, limit_bytes: int) -> None:
        caps = self.backend.caps
        if not caps.memory:
            return
        if self.version == "v2":
            d = self.dirs["unified"]
            _write(d / "memory.max", str(limit_bytes))
            if caps.swap:
                _write(d / "memory.swap.max", "0")
        else:
            d = self.dirs["memory"]
            _write(d / "memory.limit_in_bytes", str(limit_bytes))
            if caps.swap:
                # memsw = memory + swap; equal to the memory limit means no swap at all
                _write(d / "memory.memsw.limit_in_bytes", str(limit_bytes))
            with contextlib.suppress(SandboxError):
                _write(d / "memory.swappiness", "0")

    def set_cpu(self, vcpus: float | None, period_us: int = DEFAULT_CPU_PERIOD_US) -> bool:
        """Limit to `vcpus` of CPU time per wall second; None lifts the limit (init burst).
        False where this cgroup has no CPU controller."""
        if not self.backend.caps.cpu:
            return False
        quota = "max" if vcpus is None else str(max(1000, round(vcpus * period_us)))
        if self.version == "v2":
            _write(self.dirs["unified"] / "cpu.max", f"{quota} {period_us}")
        else:
            d = self.dirs["cpu"]
            _write(d / "cpu.cfs_period_us", str(period_us))
            _write(d / "cpu.cfs_quota_us", "-1" if quota == "max" else quota)
        return True

    def set_weight(self, factor: float = CPU_WEIGHT_FACTOR) -> bool:
        """CPU weight `factor` times the default; False where there is no CPU controller."""
        if not self.backend.caps.cpu:
            return False
        return self.backend.weigh(self.dirs, factor)

    def set_pids(self, limit: int = PIDS_LIMIT) -> None:
        if not self.backend.caps.pids:
            return
        d = self.dirs["unified"] if self.version == "v2" else self.dirs["pids"]
        _write(d / "pids.max", str(limit))

    # --- counters -----------------------------------------------------------------------
    def memory_peak(self) -> int | None:
        if not self.backend.caps.memory_peak:
            return None
        if self.version == "v2":
            raw = self._counter("unified", "memory.peak").strip()
        else:
            raw = self._counter("memory", "memory.max_usage_in_bytes").strip()
        return int(raw) if raw.isdigit() else None

    def memory_current(self) -> int | None:
        if not self.backend.caps.memory:
            return None
        if self.version == "v2":
            raw = self._counter("unified", "memory.current").strip()
        else:
            raw = self._counter("memory", "memory.usage_in_bytes").strip()
        return int(raw) if raw.isdigit() else None

    def cpu_seconds(self) -> tuple[float, float] | None:
        if self.version == "v2":
            stat = _fields(self._counter("unified", "cpu.stat"))
            if b"user_usec" in stat:
                return int(stat[b"user_usec"]) / 1e6, int(stat[b"system_usec"]) / 1e6
            return None
        stat = _fields(self._counter("cpuacct", "cpuacct.stat"))
        if b"user" not in stat:
            return None
        return int(stat[b"user"]) / _CLK_TCK, int(stat[b"system"]) / _CLK_TCK

    def throttled_seconds(self) -> float | None:
        """Time the CPU quota held this cgroup back so far (cpu.stat)."""
        if not self.backend.caps.cpu:
            return None
        if self.version == "v2":
            raw = _fields(self._counter("unified", "cpu.stat")).get(b"throttled_usec")
            return int(raw) / 1e6 if raw is not None else None
        raw = _fields(self._counter("cpu", "cpu.stat")).get(b"throttled_time")
        return int(raw) / 1e9 if raw is not None else None

    def oom_killed(self) -> bool:
        if not self.backend.caps.memory:
            return False
        if self.version == "v2":
            events = self._counter("unified", "memory.events").decode()
        else:
            events = self._counter("memory", "memory.oom_control").decode()
        for line in events.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value) > 0
        return False

    # --- processes ----------------------------------------------------------------------
    def pids(self) -> list[int]:
        out: set[int] = set()
        for f in self.procs_files():
            out.update(int(p) for p in _read(f).split())
        return sorted(out)

    def freeze(self, *, v1: bool = False) -> bool:
        return self._freezer("1", "FROZEN" if v1 else None)

    def thaw(self, *, v1: bool = False) -> bool:
        return self._freezer("0", "THAWED" if v1 else None)

    def _freezer(self, v2_value: str, v1_value: str | None) -> bool:
        # v2's cgroup.freeze (~20 µs a write here) for environments; the v1 freezer blocks
        # ~100 µs per write, so environments fall back to SIGSTOP/SIGCONT of the process group
        # (~7 µs) without v2. Containers (docker's pause) may use it: `v1_value` given.
        d = self.dirs.get("unified")
        if d is not None and (self.backend.caps.freezer or self.name.startswith("pid-")):
            _write(d / "cgroup.freeze", v2_value)
            return True
        v1_dir = self.dirs.get("freezer")
        if v1_value is not None and v1_dir is not None:
            _write(v1_dir / "freezer.state", v1_value)
            return True
        return False

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup, frozen or not, and wait until it is empty."""
        if "unified" in self.dirs and self.backend.caps.kill:
            with contextlib.suppress(SandboxError):
                _write(self.dirs["unified"] / "cgroup.kill", "1")
        deadline = time.monotonic() + 5.0
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            # a frozen task only dies once thawed
            with contextlib.suppress(SandboxError):
                self.thaw()
            time.sleep(0.002)

    def remove(self) -> None:
        self.close_counters()
        self.kill_all()
        for d in dict.fromkeys(self.dirs.values()):
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    time.sleep(0.01)  # the kernel releases a cgroup shortly after its last task


@dataclass
class CgroupBackend:
    """Where this emulator makes cgroups: one base directory per hierarchy it writes to."""

    version: str
    caps: Capabilities
    bases: dict[str, Path] = field(default_factory=dict)  # controller → lambda-emu-<pid> dir

    def create(self, name: str) -> Cgroup:
        dirs: dict[str, Path] = {}
        try:
            for ctrl, base in self.bases.items():
                d = base / name
                d.mkdir(exist_ok=True)
                dirs[ctrl] = d
        except OSError as exc:
            Cgroup(self, name, dirs).remove()
            raise SandboxError(f"cannot create cgroup {name}: {exc.strerror}") from exc
        if self.version == "v1" and "memory" in dirs:
            with contextlib.suppress(SandboxError):
                # OOM kills, not pauses, a cgroup over its limit
                _write(dirs["memory"] / "memory.oom_control", "0")
        return Cgroup(self, name, dirs)

    def weigh(self, dirs: dict[str, Path], factor: float) -> bool:
        """Write a CPU weight of `factor` times the default into `dirs`' CPU controller."""
        if self.version == "v2":
            d = dirs.get("unified")
            path, value = (d / "cpu.weight" if d else None), min(10_000, round(100 * factor))
        else:
            d = dirs.get("cpu")
            path, value = (d / "cpu.shares" if d else None), min(262_144, round(1024 * factor))
        if path is None or not path.exists():
            return False
        try:
            path.write_text(str(value))
        except OSError:
            return False
        return True

    def remove_all(self) -> None:
        """Remove every environment cgroup and this emulator's base directories."""
        for base in dict.fromkeys(self.bases.values()):
            if not base.is_dir():
                continue
            for child in base.iterdir():
                if child.is_dir() and child.name.startswith("env-"):
                    Cgroup(self, child.name, {"x": child}).remove()
        if self.version == "v2":
            self._leave_v2_leaf()
        for base in dict.fromkeys(self.bases.values()):
            with contextlib.suppress(OSError):
                base.rmdir()

    def _leave_v2_leaf(self) -> None:
        base = self.bases.get("unified")
        if base is None:
            return
        leaf = base / "emulator"
        if leaf.is_dir():
            # Move ourselves back where we came from, so the directories can go. v2 admits no
            # process into a cgroup (other than the root) that delegates controllers to its
            # children, and detection enabled ours there: disable them first, deepest first
            # (the kernel refuses while a child still enables one). Where another emulator
            # still uses them, we stay in our leaf and a later run's `remove_stale` removes it.
            for scope in (base, base.parent):
                for ctrl in V2_CONTROLLERS:
                    with contextlib.suppress(OSError):
                        (scope / "cgroup.subtree_control").write_text(f"-{ctrl}")
            with contextlib.suppress(OSError):
                (base.parent / "cgroup.procs").write_text(str(os.getpid()))
            with contextlib.suppress(OSError):
                leaf.rmdir()
