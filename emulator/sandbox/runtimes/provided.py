"""`provided`, `provided.al2`, `provided.al2023`: the function's own `bootstrap`, as Lambda's
custom runtimes run it (no runtime directory, no AWS_EXECUTION_ENV)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.sandbox.runtimes.base import RuntimeCommand


class ProvidedRuntime:
    family = "provided"

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self._warn = warn

    @staticmethod
    def matches(runtime: str) -> bool:
        return runtime.startswith("provided")

    def command(self, fn: FunctionConfig) -> RuntimeCommand:
        bootstrap = fn.code_dir / "bootstrap"
        if not (bootstrap.is_file() and os.access(bootstrap, os.X_OK)):
            # Lambda reports this at init, with its own error type (RIE rapid/handlers.go).
            return RuntimeCommand(
                argv=(str(bootstrap),),
                init_error=(
                    "Runtime.InvalidEntrypoint",
                    f"Couldn't find valid bootstrap(s): [{bootstrap}]",
                ),
            )
        return RuntimeCommand(argv=(str(bootstrap),), runtime_dir=str(fn.code_dir))
