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

from __future__ import annotations

import contextlib
import errno
import os
import secrets
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
PIDS_LIMIT = 1024  # Lambda: 1,024 processes/threads per environment


def vcpus_for(memory_mb: int) -> float:
    """Lambda's CPU share: proportional to memory, 1 vCPU at 1,769 MB (6 at 10,240 MB)."""
    return memory_mb / MB_PER_VCPU


@dataclass(frozen=True)
class CpuShare:
    vcpus: float  # what Lambda would give
    applied: float  # what this host can give (capped at its cores)

    @property
    def capped(self) -> bool:
        return self.applied < self.vcpus - 1e-9


def cpu_share(memory_mb: int, host_cores: int | None = None) -> CpuShare:
    cores = host_cores if host_cores is not None else (os.cpu_count() or 1)
    want = vcpus_for(memory_mb)
    return CpuShare(want, min(want, float(cores)))


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
                    "SIGSTOP at once, cgroup v2 cgroup.freeze after 1 s idle",
                    "SIGSTOP/SIGCONT of the process group",
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


def _own_path(controller: str | None) -> str:
    """This process's cgroup path in a v1 controller's hierarchy (None: the v2 one)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        hid, ctrls, path = line.split(":", 2)
        names = ctrls.split(",") if ctrls else []
        if controller is None and hid == "0" and not ctrls:
            return path
        if controller is not None and controller in names:
            return path
    return "/"


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


class Cgroup:
    """One environment's cgroup (a directory per controller on v1, one directory on v2)."""

    def __init__(self, backend: CgroupBackend, name: str, dirs: dict[str, Path]) -> None:
        self.backend = backend
        self.name = name
        self.dirs = dirs  # controller → directory; v2: {"unified": dir}

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

    def set_cpu(self, vcpus: float | None, period_us: int = DEFAULT_CPU_PERIOD_US) -> None:
        """Limit to `vcpus` of CPU time per wall second; None lifts the limit (init burst)."""
        if not self.backend.caps.cpu:
            return
        quota = "max" if vcpus is None else str(max(1000, round(vcpus * period_us)))
        if self.version == "v2":
            _write(self.dirs["unified"] / "cpu.max", f"{quota} {period_us}")
        else:
            d = self.dirs["cpu"]
            _write(d / "cpu.cfs_period_us", str(period_us))
            _write(d / "cpu.cfs_quota_us", "-1" if quota == "max" else quota)

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
            raw = _read(self.dirs["unified"] / "memory.peak").strip()
        else:
            raw = _read(self.dirs["memory"] / "memory.max_usage_in_bytes").strip()
        return int(raw) if raw.isdigit() else None

    def memory_current(self) -> int | None:
        if not self.backend.caps.memory:
            return None
        name = "memory.current" if self.version == "v2" else "memory.usage_in_bytes"
        d = self.dirs["unified"] if self.version == "v2" else self.dirs["memory"]
        raw = _read(d / name).strip()
        return int(raw) if raw.isdigit() else None

    def cpu_seconds(self) -> tuple[float, float] | None:
        if self.version == "v2":
            stat = dict(
                line.split()
                for line in _read(self.dirs["unified"] / "cpu.stat").splitlines()
                if line
            )
            if "user_usec" in stat:
                return int(stat["user_usec"]) / 1e6, int(stat["system_usec"]) / 1e6
            return None
        if "cpuacct" not in self.dirs:
            return None
        stat = dict(
            line.split()
            for line in _read(self.dirs["cpuacct"] / "cpuacct.stat").splitlines()
            if line
        )
        if "user" not in stat:
            return None
        tck = os.sysconf("SC_CLK_TCK")
        return int(stat["user"]) / tck, int(stat["system"]) / tck

    def oom_killed(self) -> bool:
        if not self.backend.caps.memory:
            return False
        if self.version == "v2":
            events = _read(self.dirs["unified"] / "memory.events")
        else:
            events = _read(self.dirs["memory"] / "memory.oom_control")
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

    def freeze(self) -> bool:
        return self._freezer("1", "FROZEN")

    def thaw(self) -> bool:
        return self._freezer("0", "THAWED")

    def _freezer(self, v2_value: str, v1_value: str) -> bool:
        # Only v2's cgroup.freeze (~20 µs a write here): the v1 freezer blocks ~100 µs per
        # write, twice per invocation on the hot path, so without v2 the caller falls back to
        # SIGSTOP/SIGCONT of the process group (measured ~7 µs).
        d = self.dirs.get("unified")
        if not self.backend.caps.freezer or d is None:
            return False
        _write(d / "cgroup.freeze", v2_value)
        return True

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
            # move ourselves back where we came from, so the directories can go
            with contextlib.suppress(OSError):
                (base.parent / "cgroup.procs").write_text(str(os.getpid()))
            with contextlib.suppress(OSError):
                leaf.rmdir()


def summary(backend: CgroupBackend | None, *, private_tmp: bool, freeze: bool) -> str:
    """One line for the start of `serve`: what is enforced here and what is not."""
    caps = backend.caps if backend is not None else Capabilities("none")
    v = caps.version
    parts = [
        "memory " + (f"enforced (cgroup {v})" if caps.memory else "NOT enforced (RLIMIT_DATA)"),
        f"CPU {'MB/1769 vCPU (cgroup ' + v + ')' if caps.cpu else 'NOT limited'}",
        "Max Memory Used from " + ("cgroup and RSS peaks" if caps.memory_peak else "RSS peaks"),
        "freeze "
        + (
            ("SIGSTOP, cgroup.freeze after 1 s" if caps.freezer else "SIGSTOP") if freeze else "off"
        ),
        "/tmp " + ("private per environment" if private_tmp else "TMPDIR per environment"),
    ]
    return "limits: " + ", ".join(parts)


def remove_stale(root: Path = CGROUP_ROOT) -> list[Path]:
    """Remove `lambda-emu-<pid>-*` cgroups whose emulator is gone (after a crash or SIGKILL)."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    candidates: list[Path] = []
    for dirpath, dirnames, _files in os.walk(root):
        for name in list(dirnames):
            if name.startswith("lambda-emu-"):
                candidates.append(Path(dirpath) / name)
                dirnames.remove(name)
        if Path(dirpath).relative_to(root).parts.__len__() > 6:
            dirnames.clear()
    for base in candidates:
        pid = base.name.removeprefix("lambda-emu-").split("-")[0]
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            continue
        for child in sorted(base.iterdir(), reverse=True):
            if child.is_dir():
                Cgroup(
                    CgroupBackend(
                        "v2" if (child / "cgroup.kill").exists() else "v1", Capabilities("v1")
                    ),
                    child.name,
                    {"x": child},
                ).remove()
        with contextlib.suppress(OSError):
            base.rmdir()
            removed.append(base)
    return removed


def _detect_v2(root: Path, name: str) -> CgroupBackend | None:
    if not (root / "cgroup.controllers").exists():
        unified = root / "unified"
        if not (unified / "cgroup.controllers").exists():
            return None
        root = unified  # hybrid layout: a v2 hierarchy beside the v1 controllers
    own = root / _own_path(None).lstrip("/")
    if not _writable_dir(own):
        return None
    available = set(_read(own / "cgroup.controllers").split())
    base = own / name
    try:
        base.mkdir(exist_ok=True)
        if own != root:
            # "no internal processes": move ourselves into a leaf before delegating controllers
            leaf = base / "emulator"
            leaf.mkdir(exist_ok=True)
            (leaf / "cgroup.procs").write_text(str(os.getpid()))
        wanted = [c for c in ("memory", "cpu", "pids") if c in available]
        for scope in (own, base):
            for ctrl in wanted:
                with contextlib.suppress(OSError):
                    (scope / "cgroup.subtree_control").write_text(f"+{ctrl}")
    except OSError:
        with contextlib.suppress(OSError):
            base.rmdir()
        return None
    enabled = set(_read(base / "cgroup.subtree_control").split())
    probe = base / "env-probe"
    with contextlib.suppress(OSError):
        probe.mkdir(exist_ok=True)
    caps = Capabilities(
        version="v2",
        memory="memory" in enabled,
        memory_peak=(probe / "memory.peak").exists(),
        swap=(probe / "memory.swap.max").exists(),
        cpu="cpu" in enabled,
        cpuacct=True,  # cpu.stat usage is always there on v2
        pids="pids" in enabled,
        freezer=(probe / "cgroup.freeze").exists(),
        kill=(probe / "cgroup.kill").exists(),
        notes=()
        if {"memory", "cpu"} <= enabled
        else (
            f"cgroup v2 at {root} lacks controllers: "
            + " ".join(sorted({"memory", "cpu", "pids"} - enabled))
            + " (bound to v1?)",
        ),
    )
    with contextlib.suppress(OSError):
        probe.rmdir()
    return CgroupBackend("v2", caps, {"unified": base})


def _v2_beside_v1(root: Path, name: str) -> Path | None:
    """On a hybrid host, a v2 cgroup next to the v1 ones: for cgroup.freeze and cgroup.kill."""
    unified = root / "unified"
    if not (unified / "cgroup.controllers").exists():
        return None
    own = unified / _own_path(None).lstrip("/")
    if not _writable_dir(own):
        return None
    base = own / name
    try:
        base.mkdir(exist_ok=True)
    except OSError:
        return None
    return base


def _detect_v1(root: Path, name: str) -> CgroupBackend | None:
    bases: dict[str, Path] = {}
    for ctrl in ("memory", "cpu", "cpuacct", "pids"):
        mount = root / ctrl
        if not mount.is_dir():
            continue
        own = mount / _own_path(ctrl).lstrip("/")
        if not _writable_dir(own):
            continue
        base = own / name
        try:
            base.mkdir(exist_ok=True)
        except OSError:
            continue
        bases[ctrl] = base
    if not bases:
        return None
    unified = _v2_beside_v1(root, name)
    if unified is not None:
        bases["unified"] = unified
    mem = bases.get("memory")
    caps = Capabilities(
        version="v1",
        memory=mem is not None,
        memory_peak=mem is not None and (mem / "memory.max_usage_in_bytes").exists(),
        swap=mem is not None and (mem / "memory.memsw.limit_in_bytes").exists(),
        cpu="cpu" in bases and (bases["cpu"] / "cpu.cfs_quota_us").exists(),
        cpuacct="cpuacct" in bases,
        pids="pids" in bases,
        freezer=unified is not None and (unified / "cgroup.freeze").exists(),
        kill=unified is not None and (unified / "cgroup.kill").exists(),
        notes=("freeze and kill through a v2 cgroup beside the v1 controllers",)
        if unified is not None
        else (),
    )
    return CgroupBackend("v1", caps, bases)


def detect(prefer: str = "auto", root: Path = CGROUP_ROOT) -> CgroupBackend | None:
    """The best writable hierarchy ("auto": v2 with memory+cpu, else v1, else partial v2)."""
    # one base per emulator instance (a test process may run several): lambda-emu-<pid>-<id>
    name = f"lambda-emu-{os.getpid()}-{secrets.token_hex(3)}"
    if prefer == "v1":
        return _detect_v1(root, name)
    if prefer == "v2":
        return _detect_v2(root, name)
    v2 = _detect_v2(root, name)
    if v2 is not None and v2.caps.memory and v2.caps.cpu:
        return v2
    if v2 is not None:
        v2.remove_all()  # v1 may use the same v2 directory for freeze and kill
    v1 = _detect_v1(root, name)
    if v1 is not None and v1.caps.memory:
        return v1
    if v1 is not None:
        v1.remove_all()
    return _detect_v2(root, name)
