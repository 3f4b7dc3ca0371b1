"""The portable sandbox's factory: what it says at start, and what the runtimes need off Linux
(awslambdaric's pure-Python client; a word about Node.js's missing one)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox.base import OutputCallback, SandboxSpec
from emulator.sandbox.capabilities import PORTABLE, HostCapabilities, host
from emulator.sandbox.portable.sandbox import PortableSandbox
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver

if TYPE_CHECKING:
    from emulator.sandbox.registry import SandboxSettings

NOT_ENFORCED = (
    "no memory or CPU limit, no freezing, no private /tmp, no function user, no ulimits, "
    "no Runtime API owner check"
)


class PortableSandboxFactory:
    kind = "portable"

    def __init__(
        self,
        resolver: RuntimeResolver | None = None,
        *,
        caps: HostCapabilities = PORTABLE,
        forced: bool = False,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.resolver = resolver
        self.caps = caps
        self.forced = forced  # --sandbox portable on a host that has the Linux sandbox
        self.owner_check = False
        self._warn = warn or (lambda _message: None)

    def stages(self, function: str) -> bool:
        return False  # nothing to do ahead of a request

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        if self.resolver is None:
            raise SandboxError("the portable sandbox was made without a runtime table")
        command = self.resolver.prepare(fn)
        if fn.runtime.startswith("nodejs") and not node_client_built(command.runtime_dir):
            self._warn(
                f"⚠ function '{fn.name}': npm's aws-lambda-ric has no native client on this "
                f"host ({self.caps.platform}: its install skips the build off Linux), so "
                "Node.js functions cannot start here; the docker sandbox runs them"
            )
        return with_python_client(command, native=self.caps.native_ric)

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        return "127.0.0.1", "127.0.0.1"

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> PortableSandbox:
        return PortableSandbox(spec, on_output, caps=self.caps)

    def describe(self) -> str:
        why = "forced by --sandbox portable" if self.forced else f"{self.caps.platform} host"
        return f"⚠ PORTABLE SANDBOX ({why}): NO LIMITS ENFORCED: {NOT_ENFORCED}"

    def isolation_gaps(self) -> list[str]:
        """Nothing is isolated here (emulator/sandbox/process/factory.py says the same)."""
        from emulator.sandbox import capabilities

        uid = capabilities.euid()
        return [
            f"runs as uid {uid}, the emulator's" if uid is not None else "runs as your user",
            "sees the host's /tmp",
            "can write its code directory",
        ]

    def remove_stale(self) -> list[str]:
        return []

    def close(self) -> None:
        pass


def node_client_built(runtime_dir: str) -> bool:
    """Whether aws-lambda-ric's native client (rapid-client.node) is in a Node.js runtime
    directory: 3.x keeps it in dist/, 4.x at the package's root."""
    package = Path(runtime_dir) / "node_modules" / "aws-lambda-ric"
    return any((where / "rapid-client.node").is_file() for where in (package / "dist", package))


def with_python_client(command: RuntimeCommand, *, native: bool) -> RuntimeCommand:
    """A Python runtime's command with our `runtime_client` on its path: after the runtime
    directory, so a built C client wins; before it when the C client must not be used."""
    pythonpath = command.env.get("PYTHONPATH")
    if pythonpath is None or "awslambdaric" not in command.argv:
        return command
    from emulator.sandbox.runtimes.ric import DIRECTORY

    parts = pythonpath.split(os.pathsep)
    if native:
        parts.append(str(DIRECTORY))
    else:
        at = parts.index(command.runtime_dir) if command.runtime_dir in parts else len(parts)
        parts.insert(at, str(DIRECTORY))
    return replace(command, env={**command.env, "PYTHONPATH": os.pathsep.join(parts)})


def factory(settings: SandboxSettings) -> PortableSandboxFactory:
    """`--sandbox portable`: every Linux-only capability off, on any host, said at start."""
    caps = host().portable()
    settings.warn(
        "⚠ the portable sandbox enforces no limits: "
        f"{NOT_ENFORCED}; Max Memory Used is sampled RSS (approximate)"
    )
    return made(settings, caps, forced=host().linux_sandbox)


def made(
    settings: SandboxSettings, caps: HostCapabilities, *, forced: bool = False
) -> PortableSandboxFactory:
    """The portable factory, after saying which asked-for settings it cannot honour."""
    if settings.cfg.lambda_paths:
        settings.warn("lambda_paths: /var/task and /var/runtime are not presented here")
    return PortableSandboxFactory(settings.resolver, caps=caps, forced=forced, warn=settings.warn)
