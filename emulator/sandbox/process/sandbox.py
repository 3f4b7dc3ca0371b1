"""ProcessSandbox: one execution environment as a local process tree (see the package's
docstring, emulator/sandbox/process/__init__.py, for the whole design)."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import IO

from emulator.errors import SandboxError
from emulator.sandbox import peers, users
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec, read_output
from emulator.sandbox.cgroups import DEFAULT_CPU_PERIOD_US, Cgroup, CgroupBackend, cpu_share
from emulator.sandbox.process import lambda_paths
from emulator.sandbox.process.launcher import (
    LAUNCHER,
    limit_data,
    limit_like_lambda,
    overlay_option_safe,
    overlay_sources,
    remove_tree,
)
from emulator.sandbox.process.procfs import (
    CLK_TCK,
    cpu_ticks,
    group_members,
    scheduling_ns,
    status_kb,
)
from emulator.sandbox.users import FunctionUser

DEEP_FREEZE_AFTER_S = 1.0

# The process tree is walked at most this often; runtimes rarely fork per invocation.
TREE_REFRESH_S = 1.0


class ProcessSandbox:
    kind = "process"

    def __init__(
        self,
        spec: SandboxSpec,
        on_output: OutputCallback,
        *,
        cgroups: CgroupBackend | None = None,
        private_tmp: bool = False,
        cpu_period_us: int = DEFAULT_CPU_PERIOD_US,
        user: FunctionUser | None = None,
        lambda_paths: bool = False,
    ) -> None:
        self.spec = spec
        self._lambda_paths = lambda_paths
        self.lambda_paths = False  # whether this environment sees /var/task and /var/runtime
        self._on_output = on_output
        self._backend = cgroups
        self._private_tmp = private_tmp
        self._user = user
        self.user: FunctionUser | None = None  # whom the function runs as, when not us
        self._cpu_period_us = cpu_period_us
        self.cgroup: Cgroup | None = None
        self.private_tmp = False  # whether this environment got its own /tmp
        self._frozen = False
        self._deep = False
        self._deep_timer: asyncio.TimerHandle | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._go: IO[bytes] | None = None  # the launcher's stdin while extensions register
        self._read_fd: int | None = None
        self._pidfd: int | None = None
        self._peak = 0
        self._cpu = (0.0, 0.0)
        self._tree_pids: list[int] = []
        self._tree_at = 0.0
        self._hwm_at = 0.0  # when the processes' peak RSS was last read
        self._hwm_at_peak: int | None = -1  # the cgroup's peak then
        self._loop: asyncio.AbstractEventLoop | None = None
        self._schedstat: int | None = None  # the runtime's /proc/<pid>/schedstat, kept open
        self.exited: asyncio.Future[ExitStatus]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def admits(self, peer: tuple[str, int], port: int) -> bool:
        pid = self.pid
        return pid is not None and peers.connection_from_tree(peer, ("127.0.0.1", port), pid)

    async def stage(self) -> None:
        """Everything before the runtime's exec: cgroup, launcher process, pipes."""
        if self._proc is not None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.exited = loop.create_future()
        self.spec.tmp_dir.mkdir(parents=True, exist_ok=True)
        argv = list(self.spec.runtime_argv())
        env = dict(self.spec.env)
        procs: list[str] = []
        if self._backend is not None:
            self.cgroup = self._backend.create(f"env-{self.spec.environment_id}")
            self.cgroup.set_memory(self.spec.memory_mb * 1024 * 1024)
            self.cgroup.set_pids()
            self.cgroup.set_cpu(None)  # Lambda runs init unthrottled; the quota comes at init end
            procs = [str(f) for f in self.cgroup.procs_files()]
        private = self._private_tmp
        extensions = [str(p) for p in self.spec.extensions]
        launched = bool(procs or private or extensions)
        overlay = self.spec.task_overlay
        if overlay is not None and not (private and overlay_option_safe(self.spec.cwd, overlay)):
            overlay = None
            env.update(self.spec.env_unmounted)
        if launched:
            needed = self._needed_paths(env, overlay) if private else []
            tmp = users.private_tmp_script(self.spec.tmp_dir, needed) if private else ""
            if private:
                # Lambda's /tmp is drwxrwxrwt owned by root (LocalStack's AWS-recorded
                # TestLambdaBehavior::test_runtime_introspection_x86, 2025-11)
                os.chmod(self.spec.tmp_dir, 0o1777)
            # the code directory is read-only to the function, as /var/task is on Lambda
            code = str(self.spec.cwd) if private else ""
            prep, drop = self._as_user(needed) if private else ("", "")
            paths = ""
            if private and self._lambda_paths:
                paths, env, argv = self._under_lambda_paths(env)
            launcher = ["/bin/sh", "-c", LAUNCHER, "lambda-emu-launch", tmp, code, paths]
            launcher += [str(overlay or ""), prep, drop]
            launcher += [*procs, "--"]
            launcher += [*extensions, "--"]
            if private:
                launcher = ["unshare", "--mount", "--propagation", "private", "--", *launcher]
                env.pop("TMPDIR", None)  # the function's /tmp is its own: no TMPDIR, as on Lambda
            self.private_tmp = private
            argv = launcher + argv
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        try:
            self._proc = subprocess.Popen(
                argv,
                env=env,
                cwd=self.spec.cwd,
                stdin=subprocess.PIPE if launched else subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            if self.cgroup is not None:
                self.cgroup.remove()
            raise SandboxError(f"cannot start {self.spec.argv[0]}: {exc.strerror}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.close(write_fd)
        if self._backend is None:
            limit_data(self._proc.pid, self.spec.memory_mb)
        limit_like_lambda(self._proc.pid, own_user=self.user is not None)
        self._read_fd = read_fd
        loop.add_reader(read_fd, self._read_available)
        try:
            self._pidfd = os.pidfd_open(self._proc.pid)
            loop.add_reader(self._pidfd, self._reap)
        except (AttributeError, OSError):  # no pidfd (not Linux, old kernel): a thread waits
            loop.run_in_executor(None, self._proc.wait).add_done_callback(lambda _f: self._reap())

    def _under_lambda_paths(self, env: dict[str, str]) -> tuple[str, dict[str, str], list[str]]:
        """The launcher's "paths" script, and the environment and command line as the
        function sees them under /var/task and /var/runtime."""
        code = self.spec.cwd
        runtime = lambda_paths.runtime_dir(env, code)
        wrapper = self.spec.exec_wrapper
        if wrapper:
            wrapper = lambda_paths.remap(wrapper, code, runtime)
        argv = list(replace(self.spec, exec_wrapper=wrapper).runtime_argv())
        self.lambda_paths = True
        return (
            lambda_paths.mount_script(code, runtime, self.user),
            lambda_paths.remap_env(env, code, runtime),
            argv,
        )

    def _needed_paths(self, env: dict[str, str], overlay: Path | None) -> list[Path]:
        """The directories the function needs to see (its interpreter, code, modules,
        layers, extensions, wrapper), wherever they live."""
        spec = self.spec
        extras = [spec.tmp_dir, *(p.parent for p in spec.extensions)]
        extras += [Path(a).parent for a in spec.runtime_argv() if a.startswith("/")]
        if spec.exec_wrapper and spec.exec_wrapper.startswith("/"):
            extras.append(Path(spec.exec_wrapper).parent)
        if overlay is not None:  # and where its links point (the cached node_modules, layers)
            extras += [overlay, *overlay_sources(overlay)]
        paths = users.needed_paths(spec.argv[0], spec.cwd, env, extras)
        return [p for p in paths if p != Path(os.path.realpath(spec.tmp_dir))]

    def _as_user(self, needed: list[Path]) -> tuple[str, str]:
        """The launcher's "prep" and "drop" when the function runs as another user: only
        with a private mount namespace, where the paths it needs can be exposed."""
        user = self._user
        if user is None:
            return "", ""
        self.user = user
        paths = [*needed, Path(os.path.realpath(self.spec.tmp_dir))]
        return users.exposure_script(paths, user), " ".join(user.setpriv())

    async def start(self) -> None:
        """Exec the runtime (staging first if that has not happened)."""
        await self.stage()
        assert self._proc is not None
        go = self._proc.stdin
        if go is None:
            return  # spawned directly: already running
        self._proc.stdin = None
        try:
            if self.spec.extensions:
                go.write(b"extensions\n")
                go.flush()
                self._go = go  # start_runtime writes the second line
            else:
                go.write(b"go\n")
                go.close()  # the runtime's stdin then reads end-of-file, never blocks
        except OSError as exc:
            raise SandboxError(
                f"the launcher of environment {self.spec.environment_id} is gone"
            ) from exc

    # --- extensions (SupportsExtensions) ---------------------------------------------------
    def start_runtime(self) -> None:
        go, self._go = self._go, None
        if go is None:
            return
        with contextlib.suppress(OSError):  # a launcher that died shows up as an exit
            go.write(b"go\n")
            go.close()

    def signal_runtime(self, sig: int) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)

    def others_alive(self) -> bool:
        proc = self._proc
        if proc is None:
            return False
        return any(pid != proc.pid for pid in group_members(proc.pid))

    # --- output --------------------------------------------------------------------------
    def _read_available(self) -> None:
        fd = self._read_fd
        if fd is not None and not read_output(fd, self._on_output):
            self._close_output()

    def drain_output(self) -> None:
        self._read_available()

    def _close_output(self) -> None:
        fd, self._read_fd = self._read_fd, None
        if fd is not None and self._loop is not None:
            self._loop.remove_reader(fd)
            os.close(fd)

    # --- exit ----------------------------------------------------------------------------
    def _reap(self) -> None:
        proc = self._proc
        if proc is None or self.exited.done():
            return
        rc = proc.poll()
        if rc is None:
            return
        if self._pidfd is not None and self._loop is not None:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self._read_available()
        oom = self.cgroup is not None and self.cgroup.oom_killed()
        self.exited.set_result(ExitStatus(rc, oom_killed=oom))

    # --- measurements --------------------------------------------------------------------
    def init_finished(self) -> None:
        if self.cgroup is not None and self.spec.cpu_quota:
            share = cpu_share(self.spec.memory_mb)
            if self.cgroup.set_cpu(share.applied, self._cpu_period_us):
                # promptly when the quota allows, so a loaded host does not eat the quota
                self.cgroup.set_weight()

    # Freezing is two-level, for the hot path's sake (measured here, per invocation): SIGSTOP
    # of the process group at once (~7 µs, and the runtime wakes fast), deepened to the
    # cgroup freezer after DEEP_FREEZE_AFTER_S idle, which also stops processes that left the
    # group. Thawing a cgroup-frozen environment on every warm call cost ~120 µs of latency.
    def freeze(self) -> None:
        """Stop every process of the environment, as Lambda freezes an idle one."""
        if self._frozen or self._proc is None or self._proc.returncode is not None:
            return
        self._frozen = True
        self._signal_group(signal.SIGSTOP)
        if self.cgroup is not None and self.cgroup.backend.caps.freezer and self._loop:
            self._deep_timer = self._loop.call_later(DEEP_FREEZE_AFTER_S, self._deep_freeze)

    def _deep_freeze(self) -> None:
        self._deep_timer = None
        if self._frozen and self.cgroup is not None:
            self._deep = self.cgroup.freeze()

    def thaw(self) -> None:
        if not self._frozen:
            return
        self._frozen = False
        if self._deep_timer is not None:
            self._deep_timer.cancel()
            self._deep_timer = None
        if self._deep and self.cgroup is not None:
            self.cgroup.thaw()
            self._deep = False
        self._signal_group(signal.SIGCONT)

    @property
    def frozen(self) -> str | None:
        """None, "stopped" (SIGSTOP) or "cgroup" (cgroup freezer)."""
        if not self._frozen:
            return None
        return "cgroup" if self._deep else "stopped"

    def _pids(self) -> list[int]:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return []
        now = time.monotonic()
        if now - self._tree_at > TREE_REFRESH_S:
            self._tree_pids = peers.tree(proc.pid)
            self._tree_at = now
        return self._tree_pids

    def peak_memory_bytes(self) -> int:
        """The larger of the cgroup's peak and the process tree's peak RSS. The cgroup is
        exact for what the environment allocated (and for an OOM), but it is not charged for
        shared-library pages already in the host's page cache, which Lambda's fresh microVM
        does count (a Python runtime reads ~9 MB by the cgroup, ~17 MB by RSS)."""
        cgroup_peak = None
        if self.cgroup is not None:
            cgroup_peak = self.cgroup.memory_peak()
            if cgroup_peak is not None:
                self._peak = max(self._peak, cgroup_peak)
        # The processes' peak RSS (~10 µs of kernel time per process to read) moves with the
        # cgroup's peak: read again when that moved, or once a second (TREE_REFRESH_S).
        now = time.monotonic()
        if cgroup_peak is None or cgroup_peak != self._hwm_at_peak or now - self._hwm_at > 1.0:
            pids = self._pids()
            if pids:
                peak = sum(status_kb(p, b"VmHWM:") for p in pids) * 1024
                self._peak = max(self._peak, peak)
            self._hwm_at, self._hwm_at_peak = now, cgroup_peak
        return self._peak

    def memory_current_bytes(self) -> int:
        if self.cgroup is not None:
            current = self.cgroup.memory_current()
            if current is not None:
                return current
        import psutil

        total = 0
        for pid in self._pids():
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(pid).memory_info().rss
        return total

    def cpu_seconds(self) -> tuple[float, float]:
        if self.cgroup is not None:
            cpu = self.cgroup.cpu_seconds()
            if cpu is not None:
                self._cpu = cpu
                return cpu
        pids = self._pids()
        if pids:
            user = system = 0
            for p in pids:
                u, s = cpu_ticks(p)
                user += u
                system += s
            self._cpu = (user / CLK_TCK, system / CLK_TCK)
        return self._cpu

    def scheduling(self) -> tuple[float, float] | None:
        """(seconds on a CPU, seconds runnable but waiting for one) of the runtime's process
        so far (ReportsScheduling)."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return None
        ns = scheduling_ns(proc.pid)
        return None if ns is None else (ns[0] / 1e9, ns[1] / 1e9)

    def host_wait_seconds(self) -> float | None:
        """(ReportsHostWait) The runtime's main thread's time runnable but off a CPU, less the
        time its quota throttled the cgroup: what the host's other load cost it. ⚠ The main
        thread only, where Python and Node handlers run; the cgroup's throttled time is per
        CPU, close to the thread's own for a single-threaded function."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return None
        try:
            if self._schedstat is None:
                self._schedstat = os.open(f"/proc/{proc.pid}/schedstat", os.O_RDONLY)
            fields = os.pread(self._schedstat, 128, 0).split()
            waited = int(fields[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return None
        throttled = self.cgroup.throttled_seconds() if self.cgroup is not None else None
        return waited - (throttled or 0.0)

    # --- teardown ------------------------------------------------------------------------
    def _signal_group(self, sig: int) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)  # start_new_session: the group id is the runtime's pid
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise SandboxError(f"cannot signal runtime {proc.pid}: {exc.strerror}") from exc

    async def stop(self, grace_s: float = 0.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None and grace_s > 0:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), grace_s)
        # SIGKILL the group even after the leader exited: its children may live on; a frozen
        # environment must be thawed for the kill to land.
        self._signal_group(signal.SIGKILL)
        if self._frozen:
            self.thaw()
        if self.cgroup is not None:
            # whatever left the process group (setsid, daemons) is still in the cgroup
            await asyncio.get_running_loop().run_in_executor(None, self.cgroup.kill_all)
        if not self.exited.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 5.0)
        if not self.exited.done():  # pidfd never fired: reap synchronously
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)
            self._reap()
        self._close_output()
        if self._schedstat is not None:
            with contextlib.suppress(OSError):
                os.close(self._schedstat)
            self._schedstat = None
        if self._go is not None:  # extensions started, the runtime never was
            with contextlib.suppress(OSError):
                self._go.close()
            self._go = None
        if proc.stdin is not None:  # a staged launcher that never got its "go"
            with contextlib.suppress(OSError):
                proc.stdin.close()
            proc.stdin = None
        if self.cgroup is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.cgroup.remove)
            self.cgroup = None
        remove_tree(self.spec.tmp_dir)
