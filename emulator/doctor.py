"""`lambda-emu doctor`: what this machine can run and enforce, said plainly."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from emulator.sandbox import cgroups
from emulator.sandbox.process import can_mount_private_tmp
from emulator.sandbox.runtimes import PYTHON_VERSIONS, RuntimeResolver


def _docker_answers() -> bool:
    sock = Path("/var/run/docker.sock")
    return sock.exists() and shutil.which("docker") is not None


def report(env: Mapping[str, str], prefer: str = "auto") -> str:
    resolver = RuntimeResolver(Path.home() / ".cache" / "lambda-emu", lambda _m: None)
    rows: list[tuple[str, str]] = []
    for v in PYTHON_VERSIONS:
        exe = resolver.interpreter(v)
        rows.append((f"python{v}", exe or "not found (nearest version is used, with a warning)"))
    rows.append(("provided.*", "runs the function's own bootstrap"))
    backend = cgroups.detect(prefer)
    try:
        caps = backend.caps if backend is not None else cgroups.Capabilities("none")
        rows.extend(caps.describe())
        share = cgroups.cpu_share(10240)
        capped = " (capped at this host's cores)" if share.capped else ""
        rows.append(
            (
                "CPU at 10,240 MB",
                f"{share.vcpus:.2f} vCPU on Lambda; {share.applied:.2f} here{capped}",
            )
        )
    finally:
        if backend is not None:
            backend.remove_all()
    rows.append(
        (
            "/tmp",
            "private per environment (mount namespace), size not limited"
            if can_mount_private_tmp()
            else "TMPDIR per environment (no mount namespace without root)",
        )
    )
    rows.append(("docker engine", "socket present" if _docker_answers() else "not answering"))
    rows.append(("sandbox auto picks", "process"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
