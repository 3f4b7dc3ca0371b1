"""The sandbox table: name → the module whose `factory(settings)` makes that kind's sandboxes,
and the one routing factory that sends each function to its kind.

    SANDBOXES   module                        runs an environment as
    process     emulator.sandbox.process      a local process tree in its own cgroup
    docker      emulator.sandbox.docker       a container (Docker engine API)
    portable    emulator.sandbox.portable     a plain local process, no limits (macOS, Windows)
    fake        emulator.sandbox.fake         an in-memory runtime (the engine's own tests)

A new kind (a microVM, a Kubernetes pod) is one module with a `factory` and one row here;
the contract test (tests/test_sandbox_contract.py) is the proof it follows the protocol.
Modules are imported when a kind is first needed, so the docker SDK loads only for docker.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from emulator.config import EmulatorConfig, FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox.base import OutputCallback, Sandbox, SandboxFactory, SandboxSpec
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver

SANDBOXES: Final[dict[str, str]] = {
    "process": "emulator.sandbox.process",
    "docker": "emulator.sandbox.docker",
    "portable": "emulator.sandbox.portable",
    "fake": "emulator.sandbox.fake",
}


@dataclass(frozen=True)
class SandboxSettings:
    """What a factory is made from: the emulator's configuration, the runtime table, and
    where its warnings go."""

    cfg: EmulatorConfig
    resolver: RuntimeResolver
    warn: Callable[[str], None]


def build(kind: str, settings: SandboxSettings) -> SandboxFactory:
    module = SANDBOXES.get(kind)
    if module is None:
        raise SandboxError(f"no sandbox named {kind!r} (have: {', '.join(SANDBOXES)})")
    make: Callable[[SandboxSettings], SandboxFactory] = importlib.import_module(module).factory
    return make(settings)


def choose(fn: FunctionConfig, default: str) -> str:
    """The kind of sandbox a function runs in: its own choice, else the emulator's; `auto`
    runs an image function in docker and every other function in a process."""
    kind = fn.sandbox or default
    if kind == "auto":
        return "docker" if fn.package_type == "Image" else "process"
    return kind


def choose_default(default: str) -> str:
    """The kind a zip function with no choice of its own runs in."""
    return "process" if default == "auto" else default


class RoutingSandboxFactory:
    """The emulator's one factory: each function's environments come from the factory of its
    kind, made the first time a function needs it."""

    kind = "routing"

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.factories: dict[str, SandboxFactory] = {}
        self._kinds: dict[str, str] = {}  # function name → kind, as last prepared
        self._lock = threading.Lock()  # prepare runs off the event loop

    def factory(self, kind: str) -> SandboxFactory:
        with self._lock:
            made = self.factories.get(kind)
            if made is None:
                made = build(kind, self.settings)
                self.factories[kind] = made
            return made

    def _for(self, function: str) -> SandboxFactory:
        kind = self._kinds.get(function)
        if kind is None:
            raise SandboxError(f"function '{function}' was not prepared for a sandbox")
        return self.factories[kind]

    def stages(self, function: str) -> bool:
        return self._for(function).stages(function)

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        kind = choose(fn, self.settings.cfg.sandbox)
        command = self.factory(kind).prepare(fn)
        self._kinds[fn.name] = kind
        return command

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        return self._for(fn.name).runtime_api_host(fn)

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> Sandbox:
        return self._for(spec.function_name).create(spec, on_output)

    def kind_of(self, function: str) -> str | None:
        return self._kinds.get(function)

    def describe(self) -> str:
        return "; ".join(f.describe() for f in self.factories.values())

    def remove_stale(self) -> list[str]:
        return [name for f in self.factories.values() for name in f.remove_stale()]

    def close(self) -> None:
        for f in self.factories.values():
            f.close()
