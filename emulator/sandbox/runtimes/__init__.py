"""The runtime table: what to run for each Lambda runtime, prepared once per machine.

    RUNTIMES            family      runs
    python3.X           python      AWS's awslambdaric, unmodified       (python.py)
    nodejsNN.x          nodejs      AWS's aws-lambda-ric, unmodified     (nodejs.py)
    provided[.al2*]     provided    the function's own bootstrap         (provided.py)

A runtime is one module with a class that follows `Runtime` (its command, its environment and
its layer paths), plus one row here. `RuntimeResolver` picks the row for a function and keeps
each row's caches (interpreters found, runtime directories) for the process's lifetime.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox.runtimes.base import Runtime, RuntimeCommand
from emulator.sandbox.runtimes.nodejs import NodejsRuntime
from emulator.sandbox.runtimes.provided import ProvidedRuntime
from emulator.sandbox.runtimes.python import (
    PYTHON_VERSIONS,
    RUNTIME_PACKAGES,
    PythonRuntime,
)

RUNTIMES: tuple[type[Runtime], ...] = (PythonRuntime, NodejsRuntime, ProvidedRuntime)

__all__ = [
    "PYTHON_VERSIONS",
    "RUNTIMES",
    "RUNTIME_PACKAGES",
    "NodejsRuntime",
    "PythonRuntime",
    "Runtime",
    "RuntimeCommand",
    "RuntimeResolver",
    "runtime_family",
]


def runtime_family(runtime: str) -> str | None:
    """The table's family for a Lambda runtime name, or None when no row runs it."""
    for row in RUNTIMES:
        if row.matches(runtime):
            return row.family
    return None


class RuntimeResolver:
    """One instance of each row, sharing the runtime cache directory and the warning sink."""

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self.warn = warn
        self.rows: dict[str, Runtime] = {row.family: row(cache_dir, warn) for row in RUNTIMES}

    @property
    def python(self) -> PythonRuntime:
        row = self.rows["python"]
        assert isinstance(row, PythonRuntime)
        return row

    @property
    def nodejs(self) -> NodejsRuntime:
        row = self.rows["nodejs"]
        assert isinstance(row, NodejsRuntime)
        return row

    def row(self, fn: FunctionConfig) -> Runtime:
        for row in self.rows.values():
            if row.matches(fn.runtime):
                return row
        supported = ", ".join(sorted(f"{family}*" for family in self.rows))
        raise SandboxError(
            f"function '{fn.name}': runtime {fn.runtime} has no entry in the runtime table "
            f"(supported: {supported})"
        )

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        """Blocking (may install once): call it at start-up, off the event loop."""
        if fn.package_type == "Image":
            raise SandboxError(f"function '{fn.name}': PackageType Image needs the docker sandbox")
        return self.row(fn).command(fn)
