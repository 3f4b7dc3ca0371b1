"""The process sandbox: the runtime as a local process tree (the embedded default).

The runtime runs in its own session and process group, so the whole tree can be signalled
at once; its stdout and stderr share one pipe that the event loop reads, and that the
environment drains synchronously when a response arrives, so every line printed before the
response lands in that invocation's log. The exit is watched through a pidfd.

Memory and CPU limits (cgroups) arrive with the resource model; until then Max Memory Used
is the sum of the tree's peak RSS (VmHWM), which, like Lambda's figure, never decreases
within one environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import subprocess
import time
from pathlib import Path

from emulator.errors import SandboxError
from emulator.sandbox.base import ExitStatus, OutputCallback, SandboxSpec

_READ_CHUNK = 65536


def _tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc/<pid>/task/<tid>/children."""
    out: list[int] = []
    stack = [pid]
    while stack:
        p = stack.pop()
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    stack.extend(int(c) for c in fh.read().split())
            except OSError:
                continue
    return out


def _read_proc(path: str) -> bytes:
    # os-level read: /proc files are small, and io.open costs more than the read itself
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _status_kb(pid: int, key: bytes) -> int:
    data = _read_proc(f"/proc/{pid}/status")
    at = data.find(key)
    if at < 0:
        return 0
    try:
        return int(data[at + len(key) : data.index(b"kB", at)])
    except ValueError:
        return 0


def _cpu_ticks(pid: int) -> tuple[int, int]:
    data = _read_proc(f"/proc/{pid}/stat")
    try:
        fields = data.rsplit(b")", 1)[1].split()
        # utime, stime, cutime, cstime are fields 14–17 (1-based); after ")" they are 11–14.
        return int(fields[11]) + int(fields[13]), int(fields[12]) + int(fields[14])
    except (ValueError, IndexError):
        return 0, 0


# The process tree is walked at most this often; runtimes rarely fork per invocation.
TREE_REFRESH_S = 1.0


_CLK_TCK = os.sysconf("SC_CLK_TCK")


class ProcessSandbox:
    kind = "process"

    def __init__(self, spec: SandboxSpec, on_output: OutputCallback) -> None:
        self.spec = spec
        self._on_output = on_output
        self._proc: subprocess.Popen[bytes] | None = None
        self._read_fd: int | None = None
        self._pidfd: int | None = None
        self._peak = 0
        self._cpu = (0.0, 0.0)
        self._tree_pids: list[int] = []
        self._tree_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self.exited: asyncio.Future[ExitStatus]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._loop = loop
        self.exited = loop.create_future()
        self.spec.tmp_dir.mkdir(parents=True, exist_ok=True)
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        try:
            self._proc = subprocess.Popen(
                list(self.spec.argv),
                env=dict(self.spec.env),
                cwd=self.spec.cwd,
                stdin=subprocess.DEVNULL,
                stdout=write_fd,
                stderr=write_fd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            raise SandboxError(f"cannot start {self.spec.argv[0]}: {exc.strerror}") from exc
        finally:
            with contextlib.suppress(OSError):
                os.close(write_fd)
        self._read_fd = read_fd
        loop.add_reader(read_fd, self._read_available)
        try:
            self._pidfd = os.pidfd_open(self._proc.pid)
            loop.add_reader(self._pidfd, self._reap)
        except OSError:  # no pidfd (old kernel): fall back to a thread that waits
            loop.run_in_executor(None, self._proc.wait).add_done_callback(lambda _f: self._reap())

    # --- output --------------------------------------------------------------------------
    def _read_available(self) -> None:
        fd = self._read_fd
        if fd is None:
            return
        while True:
            try:
                data = os.read(fd, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._close_output()
                return
            self._on_output(data)
            if len(data) < _READ_CHUNK:
                return

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
        self.exited.set_result(ExitStatus(rc))

    # --- measurements --------------------------------------------------------------------
    def init_finished(self) -> None:
        pass

    def _pids(self) -> list[int]:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return []
        now = time.monotonic()
        if now - self._tree_at > TREE_REFRESH_S:
            self._tree_pids = _tree(proc.pid)
            self._tree_at = now
        return self._tree_pids

    def peak_memory_bytes(self) -> int:
        pids = self._pids()
        if pids:
            peak = sum(_status_kb(p, b"VmHWM:") for p in pids) * 1024
            self._peak = max(self._peak, peak)
        return self._peak

    def cpu_seconds(self) -> tuple[float, float]:
        pids = self._pids()
        if pids:
            user = system = 0
            for p in pids:
                u, s = _cpu_ticks(p)
                user += u
                system += s
            self._cpu = (user / _CLK_TCK, system / _CLK_TCK)
        return self._cpu

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
        # SIGKILL the group even after the leader exited: its children may live on.
        self._signal_group(signal.SIGKILL)
        if not self.exited.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), 5.0)
        if not self.exited.done():  # pidfd never fired: reap synchronously
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)
            self._reap()
        self._close_output()
        _remove_tree(self.spec.tmp_dir)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


class ProcessSandboxFactory:
    kind = "process"

    def create(self, spec: SandboxSpec, on_output: OutputCallback) -> ProcessSandbox:
        return ProcessSandbox(spec, on_output)
