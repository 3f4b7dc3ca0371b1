"""`lambda-emu doctor`: what this machine can run and enforce, said plainly."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from emulator.sandbox import capabilities, cgroups, users
from emulator.sandbox.portable import NOT_ENFORCED
from emulator.sandbox.process import can_mount_private_tmp, lambda_paths
from emulator.sandbox.process.lambda_paths import SANDBOX_USER
from emulator.sandbox.runtimes import PYTHON_VERSIONS, RuntimeResolver


def _docker_engine() -> str | None:
    """The version of the Docker engine that answers, or None."""
    try:
        from emulator.images.build import docker_client

        client = docker_client()
    except Exception:
        return None
    try:
        return str(client.version().get("Version", "?"))
    except Exception:
        return None
    finally:
        client.close()


def _docker_rows() -> list[tuple[str, str]]:
    from emulator.images import PROVIDED_IMAGE, PYTHON_IMAGE
    from emulator.images.build import current, docker_client, recipe_digest

    version = _docker_engine()
    if version is None:
        return [("docker engine", "not answering (scripts/setup-docker starts one)")]
    client = docker_client()
    try:
        digest = recipe_digest()
        images = ", ".join(
            f"{tag} {'ready' if current(client, tag, digest) else 'missing'}"
            for tag in (PYTHON_IMAGE, PROVIDED_IMAGE)
        )
    finally:
        client.close()
    return [("docker engine", f"{version} answers"), ("runtime images", images)]


@dataclass(frozen=True)
class EnvironmentFeatures:
    """Which of Lambda's environment features the process sandbox presents on this machine
    (each one checked against a real function by tests/test_doctor_environment.py)."""

    private_tmp: bool  # /tmp of its own, drwxrwxrwt owned by root (a mount namespace)
    user: users.FunctionUser | None  # a user of the functions' own; None: the emulator's
    lambda_paths: str | None  # None: /var/task, /var/runtime can be presented; else why not

    def rows(self) -> list[tuple[str, str]]:
        user = self.user
        paths = self.lambda_paths
        named = f", named {SANDBOX_USER} with lambda_paths" if paths is None else ""
        return [
            (
                "/tmp",
                "private per environment (mount namespace), drwxrwxrwt root, size not limited"
                if self.private_tmp
                else "the host's /tmp, TMPDIR per environment (no mount namespace without root)",
            ),
            (
                "functions run as",
                f"{user.name} (uid {user.uid}{named}; root's private paths hidden)"
                if user is not None
                else f"the emulator's own user (uid {capabilities.euid()})",
            ),
            (
                "isolation",
                "holds wherever the code lives (code under /tmp is bound into the private /tmp)"
                if self.private_tmp and user is not None
                else "⚠ DOES NOT HOLD: every function "
                + ", ".join(self.gaps())
                + ' (serve says so per function, /_emu/health under "isolation")',
            ),
            (
                "ulimits",
                "Lambda's (NOFILE 1024, NPROC 742, CORE, MEMLOCK, STACK)"
                if user is not None
                else "Lambda's but NPROC (the host user's processes count toward it)",
            ),
            (
                "/var/task, /var/runtime",
                "presented with lambda_paths = true (cwd /var/task); off: the local paths"
                if paths is None
                else f"not presented ({paths}): LAMBDA_TASK_ROOT is the code directory, cwd too",
            ),
        ]

    def gaps(self) -> list[str]:
        out = [] if self.user is not None else [f"runs as uid {capabilities.euid()}"]
        if not self.private_tmp:
            out += ["sees the host's /tmp", "can write its code directory"]
        return out


def environment_features() -> EnvironmentFeatures:
    private = can_mount_private_tmp()
    return EnvironmentFeatures(
        private_tmp=private,
        user=users.resolve("auto") if private else None,
        lambda_paths=lambda_paths.can_present() if private else "no mount namespace",
    )


def report(env: Mapping[str, str], prefer: str = "auto") -> str:
    resolver = RuntimeResolver(Path.home() / ".cache" / "lambda-emu", lambda _m: None)
    rows: list[tuple[str, str]] = []
    for v in PYTHON_VERSIONS:
        exe = resolver.python.interpreter(v)
        rows.append((f"python{v}", exe or "not found (nearest version is used, with a warning)"))
    rows.append(("provided.*", "runs the function's own bootstrap"))
    host = capabilities.host()
    if not host.linux_sandbox:
        return _portable_report(rows, host)
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
    rows.extend(environment_features().rows())
    rows.append(("--sandbox portable", f"⚠ forces the no-limits sandbox: {NOT_ENFORCED}"))
    return _finish(rows, "process")


def _portable_report(rows: list[tuple[str, str]], host: capabilities.HostCapabilities) -> str:
    """macOS, Windows: the process sandbox is the portable one, and nothing is enforced."""
    rows.append(("host", f"{host.platform}: no {', '.join(host.missing())}"))
    rows.append(("process sandbox", f"⚠ PORTABLE: NO LIMITS ENFORCED: {NOT_ENFORCED}"))
    rows.append(("Max Memory Used", "⚠ approximate: the process tree's RSS, sampled (psutil)"))
    rows.append(
        (
            "awslambdaric",
            "its C runtime_client is Linux-only; lambda-emu's pure-Python one is used"
            if not host.native_ric
            else "its own C runtime_client",
        )
    )
    rows.append(("limits, freezing", "the docker sandbox: docker compose up (Docker Desktop)"))
    return _finish(rows, "process (portable)")


def _finish(rows: list[tuple[str, str]], auto: str) -> str:
    docker_rows = _docker_rows()
    rows.extend(docker_rows)
    image = "docker" if docker_rows[0][1].endswith("answers") else "none: no engine"
    rows.append(("sandbox auto picks", f"{auto}; for PackageType Image functions {image}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
