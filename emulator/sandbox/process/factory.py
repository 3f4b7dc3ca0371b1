"""The process sandbox's factory: what this machine can enforce, found once (cgroups, a
private /tmp, the function user), and the sandboxes made with it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from emulator.config import DEFAULT_FREEZE_AFTER_S, FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox import cgroups, users
from emulator.sandbox.base import OutputCallback, SandboxSpec
from emulator.sandbox.cgroups import DEFAULT_CPU_PERIOD_US, CgroupBackend, cpu_share
from emulator.sandbox.process import lambda_paths
from emulator.sandbox.process.sandbox import ProcessSandbox
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver
from emulator.sandbox.users import FunctionUser

if TYPE_CHECKING:
    from emulator.sandbox.portable import PortableSandboxFactory
    from emulator.sandbox.registry import SandboxSettings


class ProcessSandboxFactory:
    kind = "process"

    def __init__(
        self,
        cgroups: CgroupBackend | None = None,
        *,
        private_tmp: bool = False,
        cpu_period_us: int = DEFAULT_CPU_PERIOD_US,
        user: FunctionUser | None = None,
        resolver: RuntimeResolver | None = None,
        freeze: bool = True,
        freeze_after_s: float = DEFAULT_FREEZE_AFTER_S,
        owner_check: bool = True,
        lambda_paths: bool = False,
    ) -> None:
        self.cgroups = cgroups
        self.private_tmp = private_tmp
        self.cpu_period_us = cpu_period_us
        self.user = user  # functions run as this user (with a private mount namespace only)
        self.resolver = resolver
        self.freeze = freeze
        self.freeze_after_s = freeze_after_s
        self.owner_check = owner_check
        self.lambda_paths = lambda_paths  # /var/task and /var/runtime (needs private_tmp)

    def stages(self, function: str) -> bool:
        return self.cgroups is not None or self.private_tmp

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        if self.resolver is None:
            raise SandboxError("the process sandbox was made without a runtime table")
        return self.resolver.prepare(fn)

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        # The runtime is a local process: loopback, where the owner check can tell who
        # connects (emulator/sandbox/peers.py).
        return "127.0.0.1", "127.0.0.1"

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> ProcessSandbox:
        return ProcessSandbox(
            spec,
            on_output,
            cgroups=self.cgroups,
            private_tmp=self.private_tmp,
            cpu_period_us=self.cpu_period_us,
            user=self.user,
            lambda_paths=self.lambda_paths,
        )

    def describe(self) -> str:
        line = cgroups.summary(
            self.cgroups,
            private_tmp=self.private_tmp,
            freeze=self.freeze,
            freeze_after_ms=self.freeze_after_s * 1000,
        )
        user = self.user
        whom = f"{user.name} (uid {user.uid})" if user is not None else f"uid {os.geteuid()}"
        paths = ", code on /var/task" if self.lambda_paths else ""
        return f"{line}, functions run as {whom}{paths}"

    def isolation_gaps(self) -> list[str]:
        """Where a function's isolation does not hold here (empty: it holds wherever its code
        lives: its own user, its own /tmp, its code read-only)."""
        gaps: list[str] = []
        if self.user is None:
            uid = os.geteuid()
            gaps.append(f"runs as uid {uid}" + (" (root)" if uid == 0 else ", the emulator's"))
        if not self.private_tmp:
            gaps += ["sees the host's /tmp", "can write its code directory"]
        return gaps

    @property
    def function_uid(self) -> int:
        return self.user.uid if self.user is not None else os.geteuid()

    def remove_stale(self) -> list[str]:
        return [str(path) for path in cgroups.remove_stale()]

    def close(self) -> None:
        if self.cgroups is not None:
            self.cgroups.remove_all()


def factory(settings: SandboxSettings) -> ProcessSandboxFactory | PortableSandboxFactory:
    """Detect what this machine can enforce (once), after cleaning a crashed run's state.
    A host without the Linux interfaces this sandbox needs (macOS, Windows) gets the portable
    sandbox instead, and is told so (emulator/sandbox/capabilities.py)."""
    from emulator.sandbox import capabilities

    host = capabilities.host()
    if not host.linux_sandbox:
        from emulator.sandbox import portable

        missing = ", ".join(host.missing())
        settings.warn(
            f"⚠ this host ({host.platform}) has no {missing}: functions run in the portable "
            f"sandbox, which enforces nothing: {portable.NOT_ENFORCED}"
        )
        return portable.made(settings, host.portable())
    cfg = settings.cfg
    backend = None
    if cfg.cgroups != "off":
        for stale in cgroups.remove_stale():
            settings.warn(f"removed a stale cgroup of a previous run: {stale}")
        backend = cgroups.detect(cfg.cgroups)
    private_tmp = cfg.private_tmp and can_mount_private_tmp()
    # functions run as another user only with a private mount namespace (see users.py)
    user = users.resolve(cfg.function_user) if private_tmp else None
    paths = False
    if cfg.lambda_paths:
        why_not = "needs a private /tmp (a mount namespace per environment)"
        if private_tmp:
            why_not = lambda_paths.can_present() or ""
        if why_not:
            settings.warn(f"lambda_paths: /var/task and /var/runtime not presented: {why_not}")
        paths = not why_not
    if backend is not None and backend.caps.cpu:
        for fn in cfg.functions:
            share = cpu_share(fn.memory_mb)
            if share.capped:
                settings.warn(
                    f"function '{fn.name}': {fn.memory_mb} MB is {share.vcpus:.2f} vCPU on "
                    f"Lambda; capped at this machine's {share.applied:.0f} cores"
                )
    return ProcessSandboxFactory(
        backend,
        private_tmp=private_tmp,
        cpu_period_us=cfg.cpu_period_us,
        user=user,
        resolver=settings.resolver,
        freeze=cfg.freeze,
        freeze_after_s=cfg.freeze_after_s,
        owner_check=cfg.runtime_api_owner_check,
        lambda_paths=paths,
    )


def can_mount_private_tmp() -> bool:
    """Root (or CAP_SYS_ADMIN) and util-linux's unshare: a mount namespace per environment."""
    import shutil

    return os.geteuid() == 0 and shutil.which("unshare") is not None
