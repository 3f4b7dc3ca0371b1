"""The docker sandbox: one container per execution environment, through the Docker SDK.

    engine.py    the SDK, whether an engine answers, labels and owner tokens
    plan.py      ContainerPlan (image, command, mounts per function) and the factory
    sandbox.py   DockerSandbox: one container's life, limits, counters, freezing

Same contract as the process sandbox (`emulator/sandbox/process.py` is the reference),
container-shaped: see sandbox.py. `factory(settings)` is this kind's row in the sandbox
table (emulator/sandbox/registry.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.errors import SandboxError
from emulator.sandbox.docker.engine import (
    LABEL,
    LABEL_ENVIRONMENT,
    LABEL_FUNCTION,
    LABEL_OWNER,
    code_archive,
    container_user,
    engine_answers,
    owner_token,
)
from emulator.sandbox.docker.plan import ContainerPlan, DockerSandboxFactory
from emulator.sandbox.docker.sandbox import DockerSandbox

if TYPE_CHECKING:
    from emulator.sandbox.registry import SandboxSettings

__all__ = [
    "LABEL",
    "LABEL_ENVIRONMENT",
    "LABEL_FUNCTION",
    "LABEL_OWNER",
    "ContainerPlan",
    "DockerSandbox",
    "DockerSandboxFactory",
    "code_archive",
    "container_user",
    "engine_answers",
    "factory",
    "owner_token",
]


def factory(settings: SandboxSettings) -> DockerSandboxFactory:
    """The docker sandbox needs an engine that answers; a crashed run's containers go first."""
    if not engine_answers():
        raise SandboxError(
            "the docker sandbox needs a Docker engine and none answers "
            "(scripts/setup-docker starts one)"
        )
    cfg = settings.cfg
    made = DockerSandboxFactory(
        cpu_period_us=cfg.cpu_period_us,
        warn=settings.warn,
        function_user=cfg.function_user,
        resolver=settings.resolver,
        api_only=cfg.docker_api_only,
        engine_cgroups=cfg.docker_cgroups,
        base_images=cfg.base_images,
        runtime_images=cfg.runtime_images,
    )
    for name in made.remove_stale():
        settings.warn(f"removed a stale container of a previous run: {name}")
    return made
