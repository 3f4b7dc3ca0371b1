"""PortableSandbox: one execution environment as a plain local process tree, nothing enforced
(see the package's docstring, emulator/sandbox/portable/__init__.py)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from emulator.errors import SandboxError
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec, read_output
from emulator.sandbox.capabilities import HostCapabilities
from emulator.sandbox.process.procfs import scheduling_ns

if TYPE_CHECKING:
    import psutil

# ⚠ How often the process tree's RSS is sampled for Max Memory Used (and its members listed).
SAMPLE_S = 0.1
TREE_REFRESH_S = 1.0

# The variables Lambda keeps from external extensions (LAMBDA_SPEC §3), as the launcher does.
_NOT_FOR_EXTENSIONS = (
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_XRAY_CONTEXT_MISSING",
    "AWS_XRAY_DAEMON_ADDRESS",
    "LAMBDA_RUNTIME_DIR",
    "LAMBDA_TASK_ROOT",
    "_AWS_XRAY_DAEMON_ADDRESS",
    "_AWS_XRAY_DAEMON_PORT",
    "_HANDLER",
    "PYTHONPATH",
)

# ⚠ untested here (no Windows machine): a Windows process needs these from the host (Python
# does not start without SYSTEMROOT), and its PATH is the host's, `;`-separated.
_WINDOWS_ESSENTIALS = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "USERPROFILE")


def host_essentials(env: Mapping[str, str], *, windows: bool = os.name == "nt") -> dict[str, str]:
    """The environment a runtime is started with on this host: Lambda's, plus on Windows what
    every process there needs (Lambda's Linux PATH and TMPDIR mean nothing to Windows)."""
    out = dict(env)
    if not windows:
        return out
    for key in _WINDOWS_ESSENTIALS:
        if key in os.environ:
            out.setdefault(key, os.environ[key])
    out["PATH"] = os.environ.get("PATH", "")
    if "TMPDIR" in out:
        out["TEMP"] = out["TMP"] = out["TMPDIR"]
    return out


class PortableSandbox:
    kind = "portable"

    def __init__(
        self, spec: SandboxSpec, on_output: OutputCallback, *, caps: HostCapabilities
    ) -> None:
        self.spec = spec
        self._on_output = on_output
        self._caps = caps
        self._proc: subprocess.Popen[bytes] | None = None
        self._extensions: list[subprocess.Popen[bytes]] = []
        self._read_fd: int | None = None
        self._write_fd: int | None = None
        self._pending: list[bytes] = []  # read by the reader thread, not yet delivered
        self._pending_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sampler: asyncio.TimerHandle | None = None
        self._tree: list[psutil.Process] = []
        self._tree_at = -TREE_REFRESH_S
        self._peak = 0
        self._cpu = (0.0, 0.0)
        self._started = False
        self.exited: asyncio.Future[ExitStatus]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def scheduling(self) -> tuple[float, float] | None:
        """(ReportsScheduling) Where /proc tells it (Linux): the runtime's time on a CPU and
        waiting for one, for the pool's hand-off; elsewhere None (a wall-clock grace)."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return None
        ns = scheduling_ns(proc.pid)
        return None if ns is None else (ns[0] / 1e9, ns[1] / 1e9)

    def admits(self, peer: tuple[str, int], port: int) -> bool:
        return True  # no owner check here (said at start): any local process is admitted

    # --- start ---------------------------------------------------------------------------
    async def stage(self) -> None:
        if self._loop is not None:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.exited = loop.create_future()
        self.spec.tmp_dir.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        self._read_fd, self._write_fd = read_fd, write_fd
        if self._caps.pipe_reader:
            os.set_blocking(read_fd, False)
            loop.add_reader(read_fd, self._read_available)
        else:  # Windows: no pipe on the event loop; a thread reads it
            threading.Thread(
                target=self._read_blocking, name=f"output-{self.spec.environment_id}", daemon=True
            ).start()

    def _env(self) -> dict[str, str]:
        env = dict(self.spec.env)
        if self.spec.task_overlay is not None:  # never mounted here: its stand-in variables
            env.update(self.spec.env_unmounted)
        return host_essentials(env)

    def _spawn(self, argv: list[str], env: dict[str, str], stdin: int) -> subprocess.Popen[bytes]:
        assert self._write_fd is not None
        kwargs: dict[str, object] = {}
        if self._caps.process_groups:
            kwargs["start_new_session"] = True  # its own process group, signalled at once
        elif os.name == "nt":
            kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        try:
            return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
                argv,
                env=env,
                cwd=self.spec.cwd,
                stdin=stdin,
                stdout=self._write_fd,
                stderr=self._write_fd,
                close_fds=True,
                **kwargs,
            )
        except OSError as exc:
            raise SandboxError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc

    async def start(self) -> None:
        """Start the extensions (then `start_runtime` starts the runtime), or the runtime."""
        await self.stage()
        if self._started:
            return
        self._started = True
        if self.spec.extensions:
            env = {k: v for k, v in self._env().items() if k not in _NOT_FOR_EXTENSIONS}
            for ext in self.spec.extensions:
                self._extensions.append(self._spawn([str(ext)], env, subprocess.DEVNULL))
            return
        self.start_runtime()

    def start_runtime(self) -> None:
        if self._proc is not None:
            return
        self._proc = self._spawn(list(self.spec.runtime_argv()), self._env(), subprocess.DEVNULL)
        self._close_write_end()
        proc = self._proc
        threading.Thread(
            target=self._wait, args=(proc,), name=f"wait-{proc.pid}", daemon=True
        ).start()
        self._sample()

    def _close_write_end(self) -> None:
        fd, self._write_fd = self._write_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- extensions (SupportsExtensions) -------------------------------------------------
    def signal_runtime(self, sig: int) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.send_signal(sig)

    def others_alive(self) -> bool:
        runtime = self.pid
        return any(p.pid != runtime for p in self._members(refresh=True))

    # --- output --------------------------------------------------------------------------
    def _read_available(self) -> None:
        fd = self._read_fd
        if fd is not None and not read_output(fd, self._on_output):
            self._close_output()

    def _read_blocking(self) -> None:
        fd = self._read_fd
        while fd is not None:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self._pending_lock:
                self._pending.append(data)
            loop = self._loop
            if loop is None:
                return
            try:
                loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:  # the loop is closed
                return
            if not data:
                return

    def _deliver(self) -> None:
        with self._pending_lock:
            chunks, self._pending = self._pending, []
        for data in chunks:
            if data:
                self._on_output(data)
            else:
                self._close_output()

    def drain_output(self) -> None:
        # ⚠ with the reader thread (Windows), a line the runtime wrote just before it answered
        # may still be in the pipe and land in the next invocation's log.
        if self._caps.pipe_reader:
            self._read_available()
        else:
            self._deliver()

    def _close_output(self) -> None:
        fd, self._read_fd = self._read_fd, None
        if fd is None:
            return
        if self._caps.pipe_reader and self._loop is not None:
            self._loop.remove_reader(fd)
        with contextlib.suppress(OSError):
            os.close(fd)

    # --- exit ----------------------------------------------------------------------------
    def _wait(self, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                loop.call_soon_threadsafe(self._reap)

    def _reap(self) -> None:
        proc = self._proc
        if proc is None or self.exited.done() or proc.returncode is None:
            return
        self.drain_output()
        self.exited.set_result(ExitStatus(proc.returncode))

    # --- no freezing, no limits ----------------------------------------------------------
    def init_finished(self) -> None:
        pass  # no CPU quota to apply

    # No freezing here (said at start). The engine still says when an environment goes idle
    # and when it runs again: the RSS sampler runs only in between, so idle environments cost
    # nothing (the REPORT takes one more sample at the end of every invocation).
    def freeze(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None

    def thaw(self) -> None:
        if self._sampler is None and self._proc is not None:
            self._sample()

    # --- measurements (psutil) -----------------------------------------------------------
    def _members(self, *, refresh: bool = False) -> list[psutil.Process]:
        """The runtime, its descendants and the extensions' trees, listed at most once per
        TREE_REFRESH_S (runtimes rarely fork per invocation)."""
        import time

        import psutil

        now = time.monotonic()
        if not refresh and now - self._tree_at < TREE_REFRESH_S:
            return self._tree
        roots = [p for p in [self._proc, *self._extensions] if p is not None]
        members: list[psutil.Process] = []
        for root in roots:
            if root.returncode is not None:
                continue
            with contextlib.suppress(psutil.Error):
                top = psutil.Process(root.pid)
                members += [top, *top.children(recursive=True)]
        self._tree, self._tree_at = members, now
        return members

    def _sample(self) -> None:
        self._sampler = None
        self.peak_memory_bytes()
        loop = self._loop
        if loop is not None and not self.exited.done():
            self._sampler = loop.call_later(SAMPLE_S, self._sample)

    def _rss(self) -> tuple[int, int]:
        """(current RSS, peak where the OS keeps one else current) of the tree, summed."""
        import psutil

        current = peak = 0
        for p in self._members():
            with contextlib.suppress(psutil.Error):
                info = p.memory_info()
                current += info.rss
                peak += getattr(info, "peak_wset", info.rss)  # Windows keeps a peak
        return current, peak

    def peak_memory_bytes(self) -> int:
        _current, peak = self._rss()
        self._peak = max(self._peak, peak)
        return self._peak

    def memory_current_bytes(self) -> int:
        return self._rss()[0]

    def cpu_seconds(self) -> tuple[float, float]:
        import psutil

        user = system = 0.0
        members = self._members()
        for p in members:
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                user += times.user + getattr(times, "children_user", 0.0)
                system += times.system + getattr(times, "children_system", 0.0)
        if members:
            self._cpu = (max(user, self._cpu[0]), max(system, self._cpu[1]))
        return self._cpu

    # --- teardown ------------------------------------------------------------------------
    def _signal_tree(self, sig: int) -> None:
        """Signal every process of the environment: each root's process group on POSIX, and
        at the kill each descendant psutil still finds (one that left the group with setsid;
        every one on Windows, where SIGTERM and SIGKILL both end a process). ⚠ Without cgroups, a
        process whose parent already exited is out of reach of both."""
        import psutil

        members = self._members(refresh=True)
        if self._caps.process_groups:
            roots = [p for p in [self._proc, *self._extensions] if p is not None]
            for root in roots:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(root.pid, sig)  # start_new_session: the group id is its pid
            if sig == signal.SIGTERM:
                return  # one SIGTERM each, as Lambda sends: the sweep is for the kill
        for p in reversed(members):  # children before their parents
            with contextlib.suppress(psutil.Error):
                if sig == signal.SIGTERM:
                    p.terminate()
                else:
                    p.kill()

    async def stop(self, grace_s: float = 0.0) -> None:
        if self._loop is None:
            return
        proc = self._proc
        if proc is not None and proc.returncode is None and grace_s > 0:
            self._signal_tree(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), grace_s)
        # kill the tree even after the runtime exited: its children may live on
        self._signal_tree(getattr(signal, "SIGKILL", signal.SIGTERM))
        if self._sampler is not None:
            self._sampler.cancel()
            self._sampler = None
        if proc is not None and not self.exited.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 5.0)
        for ext in self._extensions:
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.get_running_loop().run_in_executor(None, ext.wait, 5.0)
        if proc is None and not self.exited.done():  # the runtime never started
            self.exited.set_result(ExitStatus(-int(getattr(signal, "SIGKILL", 9))))
        self._close_write_end()
        self._close_output()
        import shutil

        shutil.rmtree(self.spec.tmp_dir, ignore_errors=True)
