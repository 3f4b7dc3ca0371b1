"""The docker sandbox: one container per execution environment, through the Docker SDK.

Same contract as the process sandbox (`process.py` is the reference), container-shaped:

- **staging** creates the container (limits, mounts, labels) and the pipe its output goes to,
  ahead of need; `start` starts it. The runtime's stdout and stderr go to a FIFO bind-mounted
  into the container (the entrypoint is wrapped in `sh -c 'exec "$@" >FIFO 2>&1'`), so every
  byte written before a response is in the emulator's pipe when the response arrives, exactly
  as with a local process (docker's own log relay is asynchronous);
- **limits** (LAMBDA_SPEC §5–§6): `mem_limit` = `memswap_limit` = MB, `pids_limit` 1,024, a
  size-limited tmpfs on `/tmp`, the code read-only on `/var/task`, host networking (the
  runtime reaches its Runtime API listener on 127.0.0.1). Init runs unthrottled; the CPU quota
  (MB/1769 of a vCPU) is set when init ends;
- **freeze** is docker's pause: the container's freezer cgroup, written directly when the
  emulator sees the host's cgroups (no API round trip on the hot path), else pause/unpause;
- **counters** (Max Memory Used, CPU time, OOM) come from the container's cgroup, else from
  the stats API; an OOM-killed container exits as `ExitStatus(-9, oom_killed=True)`, as a
  process does;
- **labels** name the function, the environment and the emulator that owns the container;
  containers are removed on stop, reset and exit, and a crashed emulator's leftovers are
  removed when the next one starts (`remove_stale`).

Zip functions run on the local runtime image of their runtime (`emulator.images`), with the
code directory mounted on `/var/task`; image functions run their own image unmodified (AWS's
base images run the runtime directly when `AWS_LAMBDA_RUNTIME_API` is set).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.images import image_for_runtime
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec, read_output
from emulator.sandbox.cgroups import DEFAULT_CPU_PERIOD_US, PIDS_LIMIT, cpu_share
from emulator.sandbox.runtimes import RuntimeCommand, RuntimeResolver

LABEL = "dev.lambda-emu"  # every container this sandbox makes: "1"
LABEL_OWNER = "dev.lambda-emu.owner"  # host/pid/start-time of the emulator that made it
LABEL_FUNCTION = "dev.lambda-emu.function"
LABEL_ENVIRONMENT = "dev.lambda-emu.environment"

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
DEPS_DIR = "/var/lambda-emu/deps"  # a function's requirements.txt, installed by the emulator
OUTPUT_FIFO = "/var/lambda-emu/output"
CGROUP_ROOT = Path("/sys/fs/cgroup")
_OUTPUT_WRAPPER = f'exec "$@" >{OUTPUT_FIFO} 2>&1'


def _docker() -> Any:
    return importlib.import_module("docker")


def engine_answers(timeout_s: float = 2.0) -> bool:
    """Whether a Docker engine answers at DOCKER_HOST (default: the local socket)."""
    try:
        client = _docker().from_env(timeout=timeout_s)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "0"


def owner_token(pid: int | None = None) -> str:
    """Which emulator process owns a container: host name, pid and the pid's start time
    (a recycled pid has another start time)."""
    pid = os.getpid() if pid is None else pid
    return f"{_where()}/{pid}/{_start_time(pid)}"


def _where() -> str:
    """Host name and pid namespace: pids mean something only within one namespace."""
    try:
        ns = os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        ns = "?"
    return f"{socket.gethostname()}@{ns}"


def _owner_alive(token: str) -> bool:
    where, _, rest = token.partition("/")
    pid_s, _, started = rest.partition("/")
    if where != _where() or not pid_s.isdigit():
        return True  # another machine's (or another container's) emulator: not ours to judge
    return _start_time(int(pid_s)) == started


def container_user(setting: str) -> str | None:
    """The container's `user` for --function-user: Lambda never runs a function as root.
    `auto` is nobody (65534, as in Debian's images); `root`/`off` keep root; a name is looked
    up on this machine and passed as uid:gid."""
    if setting in ("root", "off", ""):
        return None
    if setting == "auto":
        return "65534:65534"
    import pwd

    try:
        entry = pwd.getpwnam(setting)
    except KeyError:
        raise SandboxError(f"--function-user: no user named {setting!r} on this machine") from None
    return None if entry.pw_uid == 0 else f"{entry.pw_uid}:{entry.pw_gid}"


def code_archive(code_dir: Path) -> bytes:
    """The code directory as a tar for /var/task: owned by root, readable by everyone,
    executables kept executable (what Lambda's unpacked deployment package looks like)."""
    import io
    import tarfile

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if "__pycache__" in Path(info.name).parts:
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        if info.isdir() or info.mode & 0o111:
            info.mode = 0o755
        else:
            info.mode = 0o644
        return info

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for child in sorted(code_dir.iterdir()):
            tar.add(child, arcname=child.name, filter=normalise)
    return buf.getvalue()


def _in_container(pid: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False


@dataclass(frozen=True)
class ContainerPlan:
    """How one function's environments run: the image, its command and the host mounts."""

    image: str
    command: tuple[str, ...] | None  # None: the image's own CMD
    mounts: tuple[tuple[str, str], ...]  # (host path, container path), read-only
    code_dir: Path | None  # copied into /var/task of each new container (zip functions)
    ephemeral_mb: int
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class _ImageInfo:
    entrypoint: list[str]
    cmd: list[str]


class _ContainerCgroup:
    """The container's cgroup directories, as the host sees them (None where hidden)."""

    def __init__(self, pid: int) -> None:
        self.dirs: dict[str, Path] = {}
        try:
            lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        except OSError:
            return
        for line in lines:
            _, controllers, path = line.split(":", 2)
            rel = path.lstrip("/")
            if controllers == "":
                unified = CGROUP_ROOT / rel
                if (unified / "cgroup.controllers").exists():
                    self.dirs["unified"] = unified
                continue
            for c in controllers.split(","):
                d = CGROUP_ROOT / c / rel
                if d.is_dir():
                    self.dirs[c] = d
        if "memory" in self.dirs:
            self.dirs.pop("unified", None)  # v1 hybrid: the v2 tree has no controllers

    def _read(self, controller: str, name: str) -> str | None:
        d = self.dirs.get(controller) or self.dirs.get("unified")
        if d is None:
            return None
        try:
            return (d / name).read_text()
        except OSError:
            return None

    @property
    def v2(self) -> bool:
        return "unified" in self.dirs

    def memory_peak(self) -> int | None:
        raw = self._read("memory", "memory.peak" if self.v2 else "memory.max_usage_in_bytes")
        return int(raw) if raw and raw.strip().isdigit() else None

    def memory_current(self) -> int | None:
        raw = self._read("memory", "memory.current" if self.v2 else "memory.usage_in_bytes")
        return int(raw) if raw and raw.strip().isdigit() else None

    def cpu_seconds(self) -> tuple[float, float] | None:
        if self.v2:
            raw = self._read("cpu", "cpu.stat")
            if raw is None:
                return None
            stat_ = dict(line.split() for line in raw.splitlines() if line)
            return int(stat_["user_usec"]) / 1e6, int(stat_["system_usec"]) / 1e6
        raw = self._read("cpuacct", "cpuacct.stat")
        if raw is None:
            return None
        stat_ = dict(line.split() for line in raw.splitlines() if line)
        tck = os.sysconf("SC_CLK_TCK")
        return int(stat_["user"]) / tck, int(stat_["system"]) / tck

    def oom_killed(self) -> bool:
        raw = self._read("memory", "memory.events" if self.v2 else "memory.oom_control") or ""
        for line in raw.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value) > 0
        return False

    def set_cpu(self, quota_us: int, period_us: int) -> bool:
        try:
            if self.v2:
                (self.dirs["unified"] / "cpu.max").write_text(f"{quota_us} {period_us}")
            elif "cpu" in self.dirs:
                (self.dirs["cpu"] / "cpu.cfs_period_us").write_text(str(period_us))
                (self.dirs["cpu"] / "cpu.cfs_quota_us").write_text(str(quota_us))
            else:
                return False
        except OSError:
            return False
        return True

    def freeze(self, frozen: bool) -> bool:
        try:
            if self.v2:
                (self.dirs["unified"] / "cgroup.freeze").write_text("1" if frozen else "0")
            elif "freezer" in self.dirs:
                state = "FROZEN" if frozen else "THAWED"
                (self.dirs["freezer"] / "freezer.state").write_text(state)
            else:
                return False
        except OSError:
            return False
        return True


class DockerSandbox:
    kind = "docker"

    def __init__(
        self,
        spec: SandboxSpec,
        on_output: OutputCallback,
        *,
        factory: DockerSandboxFactory,
        plan: ContainerPlan,
    ) -> None:
        self.spec = spec
        self._on_output = on_output
        self._factory = factory
        self._plan = plan
        self.container: Any = None
        self.container_id: str | None = None
        self._host_pid: int | None = None
        self._cgroup: _ContainerCgroup | None = None
        self._read_fd: int | None = None
        self._keep_fd: int | None = None  # our own write end: no EOF before the container's
        self._fifo: Path | None = None
        self._frozen = False
        self._refreshing = False
        self._started = False
        self._peak = 0
        self._cpu = (0.0, 0.0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.exited: asyncio.Future[ExitStatus]

    @property
    def pid(self) -> int | None:
        return self._host_pid

    # --- staging and start -------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = dict(self.spec.env)
        env.pop("TMPDIR", None)  # the container's /tmp is its own
        env.pop("PYTHONPATH", None)
        env["LAMBDA_TASK_ROOT"] = TASK_ROOT
        env["LAMBDA_RUNTIME_DIR"] = RUNTIME_DIR
        env["PATH"] = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
        env["LANG"] = "C.UTF-8"  # the image has no en_US locale; C.UTF-8 encodes the same
        env.update(self._plan.env)
        return env

    async def stage(self) -> None:
        if self.container is not None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.exited = loop.create_future()
        tmp_dir = self.spec.tmp_dir
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fifo = tmp_dir / "output"
        os.mkfifo(fifo)
        os.chmod(fifo, 0o622)  # the function's user writes it; only the emulator reads it
        self._fifo = fifo
        self._read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._keep_fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        try:
            self.container = await loop.run_in_executor(None, self._create)
        except Exception as exc:
            self._close_output()
            raise SandboxError(f"cannot create a container for {self._plan.image}: {exc}") from exc
        self.container_id = self.container.id
        loop.add_reader(self._read_fd, self._read_available)

    def _create(self) -> Any:
        docker = _docker()
        plan = self._plan
        info = self._factory.image_info(plan.image)
        command = list(plan.command) if plan.command is not None else info.cmd
        mounts = [
            docker.types.Mount(target, source, type="bind", read_only=True)
            for source, target in plan.mounts
        ]
        mounts.append(docker.types.Mount(OUTPUT_FIFO, str(self._fifo), type="bind"))
        memory = self.spec.memory_mb * 1024 * 1024
        container = self._factory.client.containers.create(
            plan.image,
            entrypoint=["/bin/sh", "-c", _OUTPUT_WRAPPER, "lambda-emu", *info.entrypoint],
            command=command,
            environment=self._environment(),
            mounts=mounts,
            tmpfs={"/tmp": f"size={plan.ephemeral_mb}m,mode=1777"},
            working_dir=TASK_ROOT,
            network_mode="host",
            # docker-init (tini) is pid 1, as Lambda's init is: the runtime can signal itself
            # (a pid 1 cannot be killed from inside its namespace) and its exit code is kept
            init=True,
            mem_limit=memory,
            memswap_limit=memory,
            mem_swappiness=0,
            pids_limit=PIDS_LIMIT,
            labels={
                LABEL: "1",
                LABEL_OWNER: self._factory.owner,
                LABEL_FUNCTION: self.spec.function_name,
                LABEL_ENVIRONMENT: self.spec.environment_id,
            },
            name=f"lambda-emu-{self.spec.function_name}-{self.spec.environment_id}"[:120],
            user=self._factory.user,
            stdin_open=False,
            detach=True,
        )
        if plan.code_dir is not None:
            # Lambda unpacks the code into /var/task, owned by root and readable by the
            # function's user: copied, not bind-mounted, so the host's permissions never
            # decide what the function may read, and each environment gets the code as it is
            # when the environment is made (as a deployment would).
            try:
                container.put_archive(TASK_ROOT, code_archive(plan.code_dir))
            except Exception:
                with contextlib.suppress(Exception):
                    container.remove(force=True)
                raise
        return container

    async def start(self) -> None:
        await self.stage()
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, self.container.start)
        except Exception as exc:
            raise SandboxError(f"cannot start container {self.container_id}: {exc}") from exc
        self._started = True
        try:
            await loop.run_in_executor(None, self.container.reload)
            pid = int(self.container.attrs["State"]["Pid"])
        except Exception:
            pid = 0
        if pid > 0 and self.container_id and _in_container(pid, self.container_id):
            self._host_pid = pid  # the emulator shares the engine's pid namespace: it sees it
            cgroup = _ContainerCgroup(pid)
            self._cgroup = cgroup if cgroup.dirs else None
        threading.Thread(target=self._wait, name=f"wait-{self.container_id}", daemon=True).start()

    def _wait(self) -> None:
        try:
            result = self.container.wait()
            code = int(result.get("StatusCode", -1))
        except Exception:
            code = -9
        oom = False
        with contextlib.suppress(Exception):
            self.container.reload()
            oom = bool(self.container.attrs["State"].get("OOMKilled"))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._reap, code, oom)

    def _reap(self, code: int, oom: bool) -> None:
        if self.exited.done():
            return
        if self._cgroup is not None:
            oom = oom or self._cgroup.oom_killed()
        if oom:
            # an OOM kill means the cgroup reached its limit (its counters are gone with it)
            self._peak = max(self._peak, self.spec.memory_mb * 1024 * 1024)
        # a process killed by signal N exits as 128+N from a container's point of view; the
        # process sandbox's (subprocess) convention is -N
        returncode = -(code - 128) if 128 < code < 160 else code
        self._read_available()
        self.exited.set_result(ExitStatus(returncode, oom_killed=oom))

    # --- output --------------------------------------------------------------------------
    def _read_available(self) -> None:
        # the FIFO stays open (a writer end is kept) across the container's life: no EOF here
        if self._read_fd is not None:
            read_output(self._read_fd, self._on_output)

    def drain_output(self) -> None:
        self._read_available()

    def _close_output(self) -> None:
        fd, self._read_fd = self._read_fd, None
        if fd is not None:
            if self._loop is not None:
                self._loop.remove_reader(fd)
            os.close(fd)
        keep, self._keep_fd = self._keep_fd, None
        if keep is not None:
            os.close(keep)

    # --- limits and freezing -------------------------------------------------------------
    # Where the emulator does not see the container's cgroup (it runs in a container itself,
    # as in docker compose), limits and counters go through the API, off the event loop: a
    # blocking API call per invocation would stall every other invocation meanwhile.
    def _in_background(self, call: Callable[[], object]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.run_in_executor(None, call)

    def init_finished(self) -> None:
        self._sample_peak()  # the cgroup goes with the container: keep what it says
        share = cpu_share(self.spec.memory_mb)
        period = self._factory.cpu_period_us
        quota = max(1000, round(share.applied * period))
        if self._cgroup is not None and self._cgroup.set_cpu(quota, period):
            return
        container = self.container

        def update() -> None:
            with contextlib.suppress(Exception):
                container.update(cpu_period=period, cpu_quota=quota)

        self._in_background(update)

    def freeze(self) -> None:
        """Docker's pause (the freezer cgroup), where the emulator sees the cgroup. Through
        the API a pause/unpause pair would add two round trips to every invocation, so
        without the cgroup the environment idles unfrozen (the runtime waits in /next)."""
        if self._frozen or not self._started or self.exited.done():
            return
        self._sample_peak()
        if self._cgroup is not None and self._cgroup.freeze(True):
            self._frozen = True
        else:
            self._refresh_peak()

    def thaw(self) -> None:
        if not self._frozen:
            return
        self._frozen = False
        if self._cgroup is not None:
            self._cgroup.freeze(False)

    # --- counters ------------------------------------------------------------------------
    def _stats(self) -> dict[str, Any]:
        if not self._started or self.exited.done():
            return {}
        try:
            stats: dict[str, Any] = self.container.stats(stream=False, one_shot=True)
        except Exception:
            return {}
        return stats

    def _sample_peak(self) -> None:
        peak = self._cgroup.memory_peak() if self._cgroup is not None else None
        if peak is not None:
            self._peak = max(self._peak, peak)

    def _refresh_peak(self) -> None:
        """The stats API's peak, fetched in the background (at most one fetch at a time)."""
        if self._refreshing:
            return
        self._refreshing = True

        def fetch() -> None:
            try:
                mem = self._stats().get("memory_stats", {})
                peak = mem.get("max_usage") or mem.get("usage")
                if peak:
                    self._peak = max(self._peak, int(peak))
            finally:
                self._refreshing = False

        self._in_background(fetch)

    def peak_memory_bytes(self) -> int:
        """The cgroup's peak; without the cgroup, the last peak the stats API gave (it is
        refreshed after each invocation, so it may lag one invocation behind)."""
        self._sample_peak()
        if self._cgroup is None:
            self._refresh_peak()
        return self._peak

    def memory_current_bytes(self) -> int:
        if self._cgroup is not None:
            current = self._cgroup.memory_current()
            if current is not None:
                return current
        return int(self._stats().get("memory_stats", {}).get("usage") or 0)

    def cpu_seconds(self) -> tuple[float, float]:
        if self._cgroup is not None:
            cpu = self._cgroup.cpu_seconds()
            if cpu is not None:
                self._cpu = cpu
        return self._cpu

    # --- teardown ------------------------------------------------------------------------
    async def stop(self, grace_s: float = 0.0) -> None:
        container = self.container
        if container is None:
            self._close_output()
            return
        loop = asyncio.get_running_loop()
        if self._frozen:
            self.thaw()
        if grace_s > 0 and self._started and not self.exited.done():
            with contextlib.suppress(Exception):
                await loop.run_in_executor(None, lambda: container.kill(signal="SIGTERM"))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), grace_s)
        with contextlib.suppress(Exception):
            await loop.run_in_executor(None, lambda: container.remove(force=True))
        if self._started and not self.exited.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 5.0)
        if not self.exited.done():
            self._read_available()
            self.exited.set_result(ExitStatus(-signal.SIGKILL))
        self._close_output()
        import shutil

        shutil.rmtree(self.spec.tmp_dir, ignore_errors=True)


class DockerSandboxFactory:
    kind = "docker"
    stages = True

    def __init__(
        self,
        *,
        cpu_period_us: int = DEFAULT_CPU_PERIOD_US,
        warn: Callable[[str], None] = lambda _m: None,
        client: Any = None,
        function_user: str = "auto",
    ) -> None:
        # one connection per running container waits on its exit: a pool that large
        self.client = (
            client if client is not None else _docker().from_env(timeout=60, max_pool_size=1024)
        )
        self.user = container_user(function_user)
        self.cpu_period_us = cpu_period_us
        self.warn = warn
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

    def prepare(self, fn: FunctionConfig, resolver: RuntimeResolver) -> RuntimeCommand:
        """The plan for `fn`'s containers (blocking: may run pip for requirements.txt)."""
        mounts: list[tuple[str, str]] = []
        env: dict[str, str] = {}
        if fn.package_type == "Image":
            assert fn.image_uri is not None
            image, command = fn.image_uri, None  # its code is in its image
            code_dir = None
        else:
            try:
                image, exact = image_for_runtime(fn.runtime)
            except ValueError as exc:
                raise SandboxError(f"function '{fn.name}': {exc}") from exc
            if not exact:
                self.warn(f"function '{fn.name}': {fn.runtime} runs on the local image {image}")
            command = (fn.handler,)
            code_dir = fn.code_dir
            if fn.runtime.startswith("python"):
                version = "3.11"  # the python image's interpreter
                exe = resolver.interpreter(version)
                deps = resolver.deps_dir(fn, version, exe) if exe else None
                if deps is not None:
                    mounts.append((str(deps), DEPS_DIR))
                    env["PYTHONPATH"] = DEPS_DIR
        if fn.layers:
            self.warn(
                f"function '{fn.name}': layers (and their extensions) are not mounted by the "
                "docker sandbox yet"
            )
        self.image_info(image)  # fail at start, not at the first invocation
        self.plans[fn.name] = ContainerPlan(
            image=image,
            command=command,
            mounts=tuple(mounts),
            code_dir=code_dir,
            ephemeral_mb=fn.ephemeral_storage_mb,
            env=env,
        )
        execution_env = f"AWS_Lambda_{fn.runtime}" if fn.runtime.startswith("python") else None
        return RuntimeCommand(
            argv=(image, *(command or ())), execution_env=execution_env, runtime_dir=RUNTIME_DIR
        )

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> DockerSandbox:
        plan = self.plans.get(spec.function_name)
        if plan is None:
            raise SandboxError(f"function '{spec.function_name}' has no container plan")
        if spec.extensions:  # layers are not mounted yet: nothing would register
            from dataclasses import replace

            spec = replace(spec, extensions=())
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


def choose(fn: FunctionConfig, default: str, docker_available: bool) -> str:
    """ "process" or "docker" for a function: its own choice, else the emulator's; `auto`
    runs an image function in docker and every other function in a process."""
    kind = fn.sandbox or default
    if kind == "auto":
        return "docker" if fn.package_type == "Image" and docker_available else "process"
    return kind


class DispatchingResolver(RuntimeResolver):
    """The emulator's resolver: functions that run in docker get a container plan (and the
    name of their image as command), the others what the process sandbox runs."""

    def __init__(
        self,
        inner: RuntimeResolver,
        docker: DockerSandboxFactory,
        kind: Callable[[FunctionConfig], str],
    ) -> None:
        super().__init__(inner.cache_dir, inner._warn)
        self.docker = docker
        self.kind = kind
        self.docker_fns: set[str] = set()

    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        if self.kind(fn) == "docker":
            command = self.docker.prepare(fn, self)
            self.docker_fns.add(fn.name)
            return command
        self.docker_fns.discard(fn.name)
        return super().prepare(fn)


class DispatchingFactory:
    """One factory per emulator: docker functions get containers, the others processes."""

    kind = "mixed"

    def __init__(self, process: Any, resolver: DispatchingResolver, *, all_docker: bool) -> None:
        self.process = process
        self.docker = resolver.docker
        self.resolver = resolver
        self.all_docker = all_docker

    @property
    def stages(self) -> bool:
        # Staging starts a process sandbox's runtime when that factory does not stage itself.
        return self.all_docker or bool(self.process.stages)

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> Any:
        if spec.function_name in self.resolver.docker_fns:
            return self.docker.create(spec, on_output)
        return self.process.create(spec, on_output)
