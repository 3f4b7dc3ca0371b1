"""What this machine's cgroups offer, found once per emulator: the best writable hierarchy
(`detect`), a crashed run's leftovers (`remove_stale`), Lambda's CPU share per memory size,
and the one line `serve` prints about it (`summary`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from emulator.sandbox.cgroups.cgroup import (
    CGROUP_ROOT,
    CPU_WEIGHT_FACTOR,
    MB_PER_VCPU,
    V2_CONTROLLERS,
    Capabilities,
    Cgroup,
    CgroupBackend,
    _read,
)


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


def summary(
    backend: CgroupBackend | None, *, private_tmp: bool, freeze: bool, freeze_after_ms: float = 10.0
) -> str:
    """One line for the start of `serve`: what is enforced here and what is not."""
    caps = backend.caps if backend is not None else Capabilities("none")
    v = caps.version
    idle = f"SIGSTOP {freeze_after_ms:g} ms after going idle"
    parts = [
        "memory " + (f"enforced (cgroup {v})" if caps.memory else "NOT enforced (RLIMIT_DATA)"),
        f"CPU {'MB/1769 vCPU (cgroup ' + v + ')' if caps.cpu else 'NOT limited'}",
        "Max Memory Used from " + ("cgroup and RSS peaks" if caps.memory_peak else "RSS peaks"),
        "freeze "
        + ((f"{idle}, cgroup.freeze after 1 s" if caps.freezer else idle) if freeze else "off"),
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
        wanted = [c for c in V2_CONTROLLERS if c in available]
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
        else (_why_missing(root, own, available, enabled),),
    )
    with contextlib.suppress(OSError):
        probe.rmdir()
    backend = CgroupBackend("v2", caps, {"unified": base})
    if caps.cpu:
        backend.weigh({"unified": base}, CPU_WEIGHT_FACTOR)  # see Cgroup.set_weight
        # the emulator's own leaf, beside its environments, as heavy: it serves their APIs
        backend.weigh({"unified": base / "emulator"}, CPU_WEIGHT_FACTOR)
    return backend


def _why_missing(root: Path, own: Path, available: set[str], enabled: set[str]) -> str:
    """Why environments lack v2 controllers here, and what would give them."""
    missing = [c for c in V2_CONTROLLERS if c not in enabled]
    lacks = f"cgroup v2 at {root} lacks controllers: {' '.join(missing)}"
    if not set(missing) & available:
        if root.name == "unified":
            return f"{lacks} (bound to cgroup v1 on this host)"
        return f"{lacks} (not delegated to {own})"
    if own != root and _read(own / "cgroup.procs").split():
        # v2 admits no processes in a cgroup that delegates controllers, and a shell or a
        # terminal in the same scope is not ours to move
        return (
            f"{lacks} (other processes share {own}; start lambda-emu in a scope of its own: "
            "systemd-run --user --scope -p Delegate=yes lambda-emu serve)"
        )
    return f"{lacks} (they could not be enabled in {own})"


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
    backend = CgroupBackend("v1", caps, bases)
    if caps.cpu:
        # environments' weight counts against the host's processes only through this one's
        backend.weigh(bases, CPU_WEIGHT_FACTOR)
    return backend


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
