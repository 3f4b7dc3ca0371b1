"""The docker sandbox: one container per execution environment, through the Docker SDK.

Same contract as the process sandbox (`process.py` is the reference), container-shaped:

- **staging** creates the container (limits, mounts, labels) and the pipe its output goes to,
  ahead of need; `start` starts it. The runtime's stdout and stderr go to a FIFO bind-mounted
  into the container (the entrypoint is wrapped in `sh -c 'exec "$@" >FIFO 2>&1'`), so every
  byte written before a response is in the emulator's pipe when the response arrives, exactly
  as with a local process (docker's own log relay is asynchronous);
- **limits** (LAMBDA_SPEC §5–§6): `mem_limit` = `memswap_limit` = MB, `pids_limit` 1,024,
  Lambda's ulimits (emulator/sandbox/ulimits.py), a
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
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.errors import SandboxError
from emulator.sandbox import peers
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec, read_output
from emulator.sandbox.cgroups import PIDS_LIMIT, Cgroup, cpu_share
from emulator.sandbox.docker.engine import (
    LABEL,
    LABEL_ENVIRONMENT,
    LABEL_FUNCTION,
    LABEL_OWNER,
    _docker,
    _in_container,
    code_archive,
    layers_archive,
)
from emulator.sandbox.process.procfs import scheduling_ns
from emulator.sandbox.ulimits import docker_ulimits

if TYPE_CHECKING:
    from emulator.sandbox.docker.plan import ContainerPlan, DockerSandboxFactory

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
DEPS_DIR = "/var/lambda-emu/deps"  # a function's requirements.txt, installed by the emulator
OUTPUT_FIFO = "/var/lambda-emu/output"
GO_FIFO = "/var/lambda-emu/go"
EXTENSIONS_DIR = "/opt/extensions"
_OUTPUT_WRAPPER = f'exec "$@" >{OUTPUT_FIFO} 2>&1'
# With external extensions: start each (the names before "--", from the merged
# /opt/extensions, stdin closed, without the variables Lambda keeps from extensions:
# LAMBDA_SPEC §3), then wait for "go" on the go FIFO before exec'ing the runtime, as Lambda
# starts the runtime once every extension has registered (the process sandbox's launcher).
# docker-init is pid 1, so this shell, and the runtime it becomes, is pid 2.
_EXTENSIONS_WRAPPER = f"""exec >{OUTPUT_FIFO} 2>&1 3<{GO_FIFO}
while [ "$1" != "--" ]; do
  env -u AWS_EXECUTION_ENV -u AWS_LAMBDA_LOG_GROUP_NAME -u AWS_LAMBDA_LOG_STREAM_NAME \
    -u AWS_XRAY_CONTEXT_MISSING -u AWS_XRAY_DAEMON_ADDRESS -u LAMBDA_RUNTIME_DIR \
    -u LAMBDA_TASK_ROOT -u _AWS_XRAY_DAEMON_ADDRESS -u _AWS_XRAY_DAEMON_PORT -u _HANDLER \
    -u PYTHONPATH "{EXTENSIONS_DIR}/$1" </dev/null 3<&- &
  shift
done; shift
read -r go <&3 || exit 0
exec "$@" 3<&-
"""
RUNTIME_PID = 2  # in the container's pid namespace (see above)


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
        self._visible_pid: int | None = None  # seen, but left to the API (--docker-api-only)
        self._cgroup: Cgroup | None = None
        self._read_fd: int | None = None
        self._keep_fd: int | None = None  # our own write end: no EOF before the container's
        self._fifo: Path | None = None
        self._go_fd: int | None = None  # the go FIFO, with external extensions
        self._go: Path | None = None
        self._go_done_fd: int | None = None
        self._others: tuple[float, bool] = (0.0, True)
        self._api = factory.api_only  # every change through the engine's API (compose mode)
        self._api_op: asyncio.Future[None] | None = None  # the last queued API call
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

    def scheduling(self) -> tuple[float, float] | None:
        """(ReportsScheduling) Where the emulator sees the container's host pid: its main
        process's time on a CPU and waiting for one, for the pool's hand-off."""
        pid = self._host_pid
        if pid is None:
            return None
        ns = scheduling_ns(pid)
        return None if ns is None else (ns[0] / 1e9, ns[1] / 1e9)

    def admits(self, peer: tuple[str, int], port: int) -> bool:
        """The container's own processes only, where the emulator sees its host pid (host
        networking, same pid namespace as the engine: the compose emulator has `pid: host`);
        else any peer ⚠."""
        pid = self._host_pid or self._visible_pid
        if pid is None:
            return True
        return peers.connection_from_tree(peer, ("127.0.0.1", port), pid)

    # --- staging and start -------------------------------------------------------------------
    def _environment(self) -> dict[str, str]:
        env = dict(self.spec.env)
        env.pop("TMPDIR", None)  # the container's /tmp is its own
        env.pop("PYTHONPATH", None)
        env["LAMBDA_TASK_ROOT"] = TASK_ROOT
        env["LAMBDA_RUNTIME_DIR"] = RUNTIME_DIR
        env["PATH"] = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"  # Lambda's
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
        if self.spec.extensions:
            go = tmp_dir / "go"
            os.mkfifo(go)
            os.chmod(go, 0o644)
            self._go = go
            # read-write: the container's open for reading returns at once (a writer exists)
            self._go_fd = os.open(go, os.O_RDWR | os.O_NONBLOCK)
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
        wrapper = ["/bin/sh", "-c", _OUTPUT_WRAPPER, "lambda-emu"]
        if self._go is not None:
            mounts.append(docker.types.Mount(GO_FIFO, str(self._go), type="bind", read_only=True))
            names = [path.name for path in self.spec.extensions]
            wrapper = ["/bin/sh", "-c", _EXTENSIONS_WRAPPER, "lambda-emu", *names, "--"]
        memory = self.spec.memory_mb * 1024 * 1024
        container = self._factory.client.containers.create(
            plan.image,
            entrypoint=[*wrapper, *(plan.entrypoint or info.entrypoint)],
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
            ulimits=[
                docker.types.Ulimit(name=name, soft=soft, hard=hard)
                for name, soft, hard in docker_ulimits(own_user=self._factory.user is not None)
            ],
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
                if plan.layers:
                    container.put_archive("/", layers_archive(plan.layers))
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
        visible = pid > 0 and self.container_id and _in_container(pid, self.container_id)
        if visible and not self._api:
            self._host_pid = pid  # the emulator shares the engine's pid namespace: it sees it
            self._cgroup = Cgroup.of_process(pid)
        else:
            # the engine is only an API away (compose, Docker Desktop): counters from its host's
            # cgroup tree where that is mounted here, changes through the API
            self._api = True
            if visible:
                self._visible_pid = pid  # for the Runtime API owner check alone
            root = self._factory.engine_cgroups
            if root is not None and self.container_id:
                self._cgroup = Cgroup.of_container(self.container_id, root)
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

    # --- extensions (SupportsExtensions) ---------------------------------------------------
    def start_runtime(self) -> None:
        fd, self._go_fd = self._go_fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):  # a container that died shows up as an exit
            os.write(fd, b"go\n")
        # kept open until stop: closing the only writer before the shell reads is harmless
        # (the line is in the pipe), but the read end would then see EOF on a second read
        self._go_done_fd = fd

    def signal_runtime(self, sig: int) -> None:
        if not self._started or self.exited.done():
            return
        pid = self._runtime_host_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
            return
        container = self.container
        self._through_api(
            lambda: container.exec_run(  # the shell's kill: minimal images have no /bin/kill
                ["/bin/sh", "-c", f"kill -{int(sig)} {RUNTIME_PID}"], user="root"
            )
        )

    def _runtime_host_pid(self) -> int | None:
        """The runtime's host pid: docker-init's only child that is not an extension (the
        first child it started), where the emulator sees the host's pids."""
        init = self._host_pid
        if init is None:
            return None
        try:
            children = Path(f"/proc/{init}/task/{init}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def others_alive(self) -> bool:
        if not self._started or self.exited.done():
            return False
        init = self._host_pid
        if init is not None:
            return len(peers.tree(init)) > 2  # docker-init, the runtime, anything else
        # through the API (compose): at most one listing every 0.2 s
        now = time.monotonic()
        at, alive = self._others
        if now - at < 0.2:
            return alive
        try:
            alive = len(self.container.top().get("Processes") or []) > 2
        except Exception:
            alive = False
        self._others = (now, alive)
        return alive

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
        for name in ("_keep_fd", "_go_fd", "_go_done_fd"):
            keep = getattr(self, name, None)
            setattr(self, name, None)
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
        cgroup = self._cgroup
        if (
            not self._api
            and cgroup is not None
            and _quietly(lambda: cgroup.set_cpu(share.applied, period))
        ):
            return
        container = self.container
        self._through_api(lambda: container.update(cpu_period=period, cpu_quota=quota))

    def freeze(self) -> None:
        """Docker's pause. Where the emulator sees the container's cgroup, its freezer is
        written directly (no round trip on the hot path; `docker ps` still says Up). Through
        the API (compose mode) the container is paused with `POST /containers/{id}/pause`, so
        `docker ps` shows it Paused, and unpaused before its next invocation is delivered: the
        unpause round trip is then on the warm path (docs/docker.md gives its cost)."""
        if self._frozen or not self._started or self.exited.done():
            return
        self._sample_peak()
        cgroup = self._cgroup
        if self._api:
            if cgroup is None:
                self._refresh_peak()
            self._frozen = True
            self._through_api(self._pause)
        elif cgroup is not None and _quietly(lambda: cgroup.freeze(v1=True)):
            self._frozen = True
        else:
            self._refresh_peak()

    def thaw(self) -> None:
        if not self._frozen:
            return
        self._frozen = False
        if self._api:
            # queued after the pause: the invocation's event waits in the runtime's socket
            # until the container runs again
            container_id = self.container_id
            self._through_api(lambda: self._factory.client.api.unpause(container_id))
            return
        cgroup = self._cgroup
        if cgroup is not None:
            _quietly(lambda: cgroup.thaw(v1=True))

    def _pause(self) -> None:
        """`POST /containers/{id}/pause`, tried again a few times: runc gives up ("unable to
        freeze") when a task does not reach the frozen state soon enough (v1 freezer)."""
        for attempt in range(6):
            if not self._frozen:
                return  # thawed meanwhile: the unpause queued after this one finds it running
            try:
                self._factory.client.api.pause(self.container_id)
                return
            except Exception:
                time.sleep(0.05 * (attempt + 1))

    def _through_api(self, call: Callable[[], object]) -> None:
        """An engine API call, off the event loop, after the ones queued before it (a pause
        and the unpause that follows must reach the engine in that order)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        before = self._api_op

        async def run() -> None:
            if before is not None:
                with contextlib.suppress(BaseException):
                    await before
            with contextlib.suppress(Exception):  # the container may be gone meanwhile
                await loop.run_in_executor(None, call)

        self._api_op = asyncio.ensure_future(run(), loop=loop)

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
        if self._api_op is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._api_op), 10.0)
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


def _quietly(call: Callable[[], bool]) -> bool:
    """A cgroup write that may fail (the container is gone meanwhile): False then."""
    try:
        return call()
    except SandboxError:
        return False
