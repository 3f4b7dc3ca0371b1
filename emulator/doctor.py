"""`lambda-emu doctor`: what this machine can run and enforce, said plainly."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from emulator.sandbox.runtimes import PYTHON_VERSIONS, RuntimeResolver


def _cgroup_summary() -> list[tuple[str, str]]:
    root = Path("/sys/fs/cgroup")
    rows: list[tuple[str, str]] = []
    if (root / "cgroup.controllers").exists():
        controllers = (root / "cgroup.controllers").read_text().split()
        writable = os.access(root, os.W_OK)
        rows.append(
            (
                "cgroup v2",
                f"unified at {root}, controllers {' '.join(controllers)}"
                f"{'' if writable else ' (not writable)'}",
            )
        )
    else:
        for ctrl in ("memory", "cpu", "pids", "freezer"):
            path = root / ctrl
            if path.is_dir():
                state = "writable" if os.access(path, os.W_OK) else "read-only"
                rows.append((f"cgroup v1 {ctrl}", f"{path} ({state})"))
        if (root / "unified" / "cgroup.controllers").exists():
            rows.append(("cgroup v2", f"hybrid mount at {root / 'unified'}"))
    return rows or [("cgroups", "none found")]


def _docker_answers() -> bool:
    sock = Path("/var/run/docker.sock")
    return sock.exists() and shutil.which("docker") is not None


def report(env: Mapping[str, str]) -> str:
    resolver = RuntimeResolver(Path.home() / ".cache" / "lambda-emu", lambda _m: None)
    rows: list[tuple[str, str]] = []
    for v in PYTHON_VERSIONS:
        exe = resolver.interpreter(v)
        rows.append((f"python{v}", exe or "not found (nearest version is used, with a warning)"))
    rows.append(("provided.*", "runs the function's own bootstrap"))
    rows.extend(_cgroup_summary())
    rows.append(("memory limit", "NOT enforced yet (process sandbox without cgroup limits)"))
    rows.append(("CPU share", "NOT enforced yet (runs at full host speed)"))
    rows.append(("Max Memory Used", "measured: peak RSS (VmHWM) of the runtime's process tree"))
    rows.append(("/tmp", "private TMPDIR per environment; size not limited"))
    docker = _docker_answers()
    rows.append(("docker engine", "socket present" if docker else "not answering"))
    rows.append(("sandbox auto picks", "process"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
