"""The Docker engine as the docker sandbox uses it: the SDK (imported when first needed),
whether an engine answers, and who owns a container (labels, owner tokens), so a crashed
emulator's containers can be told from a live one's.
"""

from __future__ import annotations

import importlib
import os
import socket
from pathlib import Path
from typing import Any

from emulator.errors import SandboxError

LABEL = "dev.lambda-emu"  # every container this sandbox makes: "1"
LABEL_OWNER = "dev.lambda-emu.owner"  # host/pid/start-time of the emulator that made it
LABEL_FUNCTION = "dev.lambda-emu.function"
LABEL_ENVIRONMENT = "dev.lambda-emu.environment"


def _docker() -> Any:
    return importlib.import_module("docker")


def engine_answers(timeout_s: float = 2.0) -> bool:
    """Whether a Docker engine answers at DOCKER_HOST (default: the local socket)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not _unix_socket_listens(host.removeprefix("unix://")):
        # the SDK leaks its socket when the connect fails: ask the socket first
        return False
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


def _unix_socket_listens(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


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
    return _archive([(code_dir, "")])


def layers_archive(layers: tuple[Path, ...]) -> bytes:
    """The layers as one tar for `/` that fills /opt, in the function's order: a later layer's
    file overwrites an earlier one's, as Lambda merges layers into /opt."""
    return _archive([(layer, "opt/") for layer in layers], root="opt")


def _archive(dirs: list[tuple[Path, str]], root: str | None = None) -> bytes:
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
        if root is not None:
            info = tarfile.TarInfo(root)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for folder, prefix in dirs:
            for child in sorted(folder.iterdir()):
                tar.add(child, arcname=prefix + child.name, filter=normalise)
    return buf.getvalue()


def _in_container(pid: int, container_id: str) -> bool:
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
