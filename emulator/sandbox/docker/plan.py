"""How one function's containers run (`ContainerPlan`), and the factory that plans them and
makes, lists and removes this emulator's containers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.images import NODE_IMAGE_REPO, aws_base_image, image_for_runtime, node_image
from emulator.sandbox.base import OutputCallback, SandboxSpec
from emulator.sandbox.cgroups import DEFAULT_CPU_PERIOD_US
from emulator.sandbox.docker.engine import (
    LABEL,
    LABEL_OWNER,
    _docker,
    _owner_alive,
    container_user,
    owner_token,
)
from emulator.sandbox.docker.sandbox import DEPS_DIR, RUNTIME_DIR, TASK_ROOT, DockerSandbox
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver

# Where Lambda looks for a custom runtime's bootstrap (LAMBDA_SPEC §4), for AWS's provided
# images, whose entrypoint runs /var/runtime/bootstrap only.
_PROVIDED_BOOTSTRAP = """export _HANDLER="$1"
for b in /var/runtime/bootstrap /var/task/bootstrap /opt/bootstrap; do
  if [ -x "$b" ]; then exec "$b"; fi
done
echo "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]" >&2
exit 142
"""


def _node_major(runtime: str) -> int:
    return int(runtime.removeprefix("nodejs").removesuffix(".x"))


@dataclass(frozen=True)
class ContainerPlan:
    """How one function's environments run: the image, its command and the host mounts."""

    image: str
    command: tuple[str, ...] | None  # None: the image's own CMD
    mounts: tuple[tuple[str, str], ...]  # (host path, container path), read-only
    code_dir: Path | None  # copied into /var/task of each new container (zip functions)
    ephemeral_mb: int
    env: dict[str, str] = field(default_factory=dict)
    # the function's layers, merged in order into /opt of each new container (as Lambda does)
    layers: tuple[Path, ...] = ()
    entrypoint: tuple[str, ...] | None = None  # None: the image's own


@dataclass
class _ImageInfo:
    entrypoint: list[str]
    cmd: list[str]


class DockerSandboxFactory:
    kind = "docker"

    def __init__(
        self,
        *,
        cpu_period_us: int = DEFAULT_CPU_PERIOD_US,
        warn: Callable[[str], None] = lambda _m: None,
        client: Any = None,
        function_user: str = "auto",
        resolver: RuntimeResolver | None = None,
        api_only: bool = False,
        engine_cgroups: Path | None = None,
        base_images: str = "auto",
        runtime_images: Mapping[str, str] | None = None,
    ) -> None:
        # one connection per running container waits on its exit: a pool that large
        self.client = (
            client if client is not None else _docker().from_env(timeout=60, max_pool_size=1024)
        )
        self.user = container_user(function_user)
        self.cpu_period_us = cpu_period_us
        self.warn = warn
        self.resolver = resolver
        self.api_only = api_only
        self.base_images = base_images
        self.runtime_images = dict(runtime_images or {})
        self._unpullable: dict[str, str] = {}  # image → why it could not be pulled
        self._said_fallback = False
        self.engine_cgroups = engine_cgroups
        self.owner = owner_token()
        self.plans: dict[str, ContainerPlan] = {}
        self._images: dict[str, _ImageInfo] = {}
        self._lock = threading.Lock()

    def image_info(self, image: str) -> _ImageInfo:
        with self._lock:
            info = self._images.get(image)
        if info is None:
            try:
                attrs = self.client.images.get(image).attrs
            except Exception as exc:
                raise SandboxError(
                    f"image {image} is not on this machine (lambda-emu images build, or "
                    f"docker build/pull it)"
                ) from exc
            config = attrs.get("Config") or {}
            info = _ImageInfo(list(config.get("Entrypoint") or []), list(config.get("Cmd") or []))
            with self._lock:
                self._images[image] = info
        return info

    def _node_image(self, runtime: str) -> tuple[str, bool]:
        """lambda-emu/nodejs:NN for nodejsNN.x, or the nearest major built on this machine."""
        wanted = int(runtime.removeprefix("nodejs").removesuffix(".x"))
        majors: list[int] = []
        with contextlib.suppress(Exception):
            for image in self.client.images.list(name=NODE_IMAGE_REPO):
                for tag in image.tags:
                    if tag.rpartition(":")[2].isdigit():
                        majors.append(int(tag.rpartition(":")[2]))
        if not majors or wanted in majors:
            return node_image(wanted), True  # (a missing image is reported by image_info)
        major = min(majors, key=lambda m: (abs(m - wanted), -m))
        return node_image(major), False

    def _zip_image(self, fn: FunctionConfig) -> tuple[str, bool]:
        """(image, is a local lambda-emu image) for a zip function: the function's `image`,
        its runtime's (--runtime-image), AWS's base image where it is here or can be pulled,
        else the local image of its runtime (said once)."""
        named = fn.image or self.runtime_images.get(fn.runtime)
        if named is not None:
            self._have(named)
            return named, named.startswith("lambda-emu/")
        aws = aws_base_image(fn.runtime) if self.base_images != "local" else None
        if aws is not None:
            why = self._have(aws, fail=self.base_images == "aws")
            if why is None:
                return aws, False
            if not self._said_fallback:
                self._said_fallback = True
                self.warn(
                    f"AWS's base images cannot be pulled here ({aws}: {why}): zip functions "
                    "run on the local images (lambda-emu images build)"
                )
        try:
            image, exact = image_for_runtime(fn.runtime)
        except ValueError as exc:
            raise SandboxError(f"function '{fn.name}': {exc}") from exc
        if fn.runtime.startswith("nodejs"):
            image, exact = self._node_image(fn.runtime)
        if not exact:
            self.warn(f"function '{fn.name}': {fn.runtime} runs on the local image {image}")
        return image, True

    def _have(self, image: str, *, fail: bool = True) -> str | None:
        """None when `image` is on this machine or was pulled now; else why not (or
        SandboxError when `fail`). A failed pull is not tried again."""
        why = self._unpullable.get(image)
        if why is None:
            try:
                self.client.images.get(image)
                return None
            except Exception:
                pass
            try:
                repo, _, tag = image.rpartition(":")
                self.client.images.pull(repo, tag=tag)
                return None
            except Exception as exc:
                why = str(getattr(exc, "explanation", None) or exc).splitlines()[0][:200]
                self._unpullable[image] = why
        if fail:
            raise SandboxError(f"image {image} is not on this machine and cannot be pulled: {why}")
        return why

    def stages(self, function: str) -> bool:
        return True  # creating a container costs tens of ms: made ahead of need

    def runtime_api_host(self, fn: FunctionConfig) -> tuple[str, str]:
        # Containers share the host's network (network_mode="host"): loopback reaches us.
        return "127.0.0.1", "127.0.0.1"

    def describe(self) -> str:
        return (
            "docker sandbox: memory, pids and /tmp limited per container, CPU quota after "
            "init, freeze by pause"
        )

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        """The plan for `fn`'s containers (blocking: may run pip for requirements.txt)."""
        resolver = self.resolver
        entrypoint: tuple[str, ...] | None = None
        mounts: list[tuple[str, str]] = []
        env: dict[str, str] = {}
        if fn.package_type == "Image":
            assert fn.image_uri is not None
            image, command = fn.image_uri, None  # its code is in its image
            code_dir = None
        else:
            image, local = self._zip_image(fn)
            command = (fn.handler,)
            code_dir = fn.code_dir
            if fn.runtime.startswith("provided") and not local:
                # AWS's provided images exec /var/runtime/bootstrap; a zip function brings its
                # own: looked for where Lambda looks (LAMBDA_SPEC §4)
                entrypoint = ("/bin/sh", "-c", _PROVIDED_BOOTSTRAP, "bootstrap")
            if fn.runtime.startswith("python"):
                # the image's interpreter: the local image's 3.11, else the runtime's own
                version = "3.11" if local else fn.runtime.removeprefix("python")
                python = resolver.python if resolver is not None else None
                exe = python.interpreter(version) if python is not None else None
                deps = python.deps_dir(fn, version, exe) if python and exe else None
                path = [DEPS_DIR] if deps is not None else []
                if deps is not None:
                    mounts.append((str(deps), DEPS_DIR))
                if fn.layers:  # the bootstrap adds /opt/python; Lambda has this one first
                    path.insert(0, f"/opt/python/lib/python{version}/site-packages")
                if path:
                    env["PYTHONPATH"] = ":".join(path)
            elif fn.runtime.startswith("nodejs") and resolver is not None:
                # package.json dependencies, installed once on the host by the node the image
                # carries, where Lambda has them: /var/task/node_modules
                nodejs = resolver.nodejs
                major = int(image.rpartition(":")[2]) if local else _node_major(fn.runtime)
                exe = nodejs.nodes().get(major)
                deps = nodejs.deps_dir(fn, major, exe) if exe is not None else None
                if deps is not None:
                    mounts.append((str(deps / "node_modules"), f"{TASK_ROOT}/node_modules"))
        self.image_info(image)  # fail at start, not at the first invocation
        self.plans[fn.name] = ContainerPlan(
            image=image,
            command=command,
            mounts=tuple(mounts),
            code_dir=code_dir,
            ephemeral_mb=fn.ephemeral_storage_mb,
            env=env,
            layers=tuple(fn.layers),
            entrypoint=entrypoint,
        )
        managed = fn.runtime.startswith(("python", "nodejs"))
        execution_env = f"AWS_Lambda_{fn.runtime}" if managed else None
        return RuntimeCommand(
            argv=(image, *(command or ())), execution_env=execution_env, runtime_dir=RUNTIME_DIR
        )

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> DockerSandbox:
        plan = self.plans.get(spec.function_name)
        if plan is None:
            raise SandboxError(f"function '{spec.function_name}' has no container plan")
        return DockerSandbox(spec, on_output, factory=self, plan=plan)

    def containers(self, *, all_owners: bool = False) -> list[dict[str, Any]]:
        """This emulator's containers (or every emulator's): the engine's list entries
        (Id, Names, Labels), without inspecting each one (they may go away meanwhile)."""
        filters = {"label": [LABEL] if all_owners else [f"{LABEL_OWNER}={self.owner}"]}
        return list(self.client.api.containers(all=True, filters=filters))

    def _remove(self, entry: dict[str, Any]) -> str | None:
        try:
            self.client.api.remove_container(entry["Id"], force=True)
        except Exception:  # removed meanwhile, or the engine refused: nothing more to do
            return None
        names = entry.get("Names") or [entry["Id"][:12]]
        return str(names[0]).lstrip("/")

    def remove_stale(self) -> list[str]:
        """Remove the containers of emulators that are gone (a crashed run's leftovers)."""
        removed = []
        for entry in self.containers(all_owners=True):
            token = (entry.get("Labels") or {}).get(LABEL_OWNER, "")
            if token and not _owner_alive(token):
                name = self._remove(entry)
                if name is not None:
                    removed.append(name)
        return removed

    def remove_all(self) -> None:
        """Remove every container this emulator made (at stop, whatever is left)."""
        for entry in self.containers():
            self._remove(entry)

    def close(self) -> None:
        self.remove_all()
        with contextlib.suppress(Exception):
            self.client.close()
