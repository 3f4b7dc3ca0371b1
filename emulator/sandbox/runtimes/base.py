"""What a runtime entry gives the sandbox: the command to run, and the environment it adds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from emulator.config import FunctionConfig


@dataclass(frozen=True)
class RuntimeCommand:
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)  # the runtime's own (PYTHONPATH, …)
    execution_env: str | None = None  # AWS_EXECUTION_ENV; unset for custom runtimes
    runtime_dir: str = ""  # LAMBDA_RUNTIME_DIR
    # an init failure known before anything runs (Lambda reports these at init)
    init_error: tuple[str, str] | None = None  # (errorType, errorMessage)
    # A directory whose entries the function sees inside its code directory, as Lambda's
    # /var/task holds the function's own node_modules: overlaid on the code directory in the
    # environment's mount namespace. Where no such namespace exists, `env_unmounted` is
    # applied over `env` instead (e.g. the same modules on NODE_PATH).
    task_overlay: Path | None = None
    env_unmounted: dict[str, str] = field(default_factory=dict)


class Runtime(Protocol):
    """One row of the runtime table (emulator/sandbox/runtimes/__init__.py)."""

    family: str  # "python", "provided", …: also names its local container image

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None: ...

    @staticmethod
    def matches(runtime: str) -> bool:
        """Whether this entry runs the Lambda runtime named `runtime` ("python3.12", …)."""

    def command(self, fn: FunctionConfig) -> RuntimeCommand:
        """What the process sandbox runs for `fn`: blocking (may install once into the
        runtime cache), so it is called at start-up, off the event loop."""
