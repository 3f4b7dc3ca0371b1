"""Functions run as an unprivileged user when the emulator runs as root.

Lambda runs a function as an unprivileged sandbox user (`sbx_user1051`), never as root; the
emulator does the same where it can: when it runs as root and gives environments their own
mount namespace, the launcher drops to `nobody` (configurable) with `setpriv` just before it
execs the runtime and the extensions. The cgroup, the private /tmp and the read-only code
mount are set up first, as root.

The function still needs its interpreter, runtime packages, dependencies, layers and code.
Where one of those lives below a directory the user may not enter (a pyenv interpreter or
the cache under `/root`, mode 0700), the launcher covers the topmost such directory with an
empty tmpfs in the environment's mount namespace and binds back only the paths the function
needs: the function sees them, and nothing else of that directory. The host's permissions are
never changed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from emulator.errors import SandboxError

DEFAULT_USER = "nobody"  # a guess: Lambda's sbx_user1051 does not exist on a developer machine


@dataclass(frozen=True)
class FunctionUser:
    name: str
    uid: int
    gid: int

    def setpriv(self) -> list[str]:
        """The command prefix that becomes this user (no supplementary groups, no new privs)."""
        return [
            "setpriv",
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--no-new-privs",
            "--",
        ]


def resolve(setting: str) -> FunctionUser | None:
    """The user functions run as: None keeps the emulator's own user.

    `auto` is `nobody` when the emulator runs as root and may mount (else the emulator's
    user); `root` or `off` keeps root; any other value names a user of this machine.
    """
    if setting in ("root", "off", ""):
        return None
    if os.geteuid() != 0 or shutil.which("setpriv") is None or shutil.which("unshare") is None:
        if setting == "auto":
            return None
        raise SandboxError(
            f"--function-user {setting}: running functions as another user needs root, "
            "setpriv and unshare (util-linux)"
        )
    name = DEFAULT_USER if setting == "auto" else setting
    import pwd  # POSIX only: never reached on Windows (no root there)

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if setting == "auto":
            return None
        raise SandboxError(f"--function-user: no user named {name!r} on this machine") from None
    if entry.pw_uid == 0:
        return None
    return FunctionUser(name, entry.pw_uid, entry.pw_gid)


def _traversable(path: Path, user: FunctionUser) -> bool:
    try:
        st = path.stat()
    except OSError:
        return True  # nothing to expose; the function's own error names the path
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == user.gid:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _blocking_ancestor(path: Path, user: FunctionUser) -> Path | None:
    """The topmost directory above `path` that the user may not enter, if any."""
    for parent in reversed(path.parents):  # "/" first
        if parent != Path("/") and not _traversable(parent, user):
            return parent
    return None


def needed_paths(argv0: str, cwd: Path, env: dict[str, str], extras: list[Path]) -> list[Path]:
    """Directories a function needs to see: its interpreter's prefix, the code, the module
    paths (PYTHONPATH, NODE_PATH), layers' extensions and its /tmp source (all resolved, with
    duplicates and nested paths dropped)."""
    exe = Path(os.path.realpath(argv0))
    prefix = exe.parent.parent if exe.parent.name == "bin" else exe.parent
    found = [prefix, cwd, *extras]
    for key in ("PYTHONPATH", "NODE_PATH"):
        found += [Path(p) for p in env.get(key, "").split(os.pathsep) if p]
    # "/" itself (the prefix of a program at the root, such as a missing exec wrapper's
    # /wrapper.sh) is always reachable: exposing it would leave nowhere to stage
    resolved = sorted({Path(os.path.realpath(p)) for p in found if p.is_absolute()} - {Path("/")})
    out: list[Path] = []
    for p in resolved:  # sorted: a parent comes before what it contains
        if not any(p.is_relative_to(kept) for kept in out):
            out.append(p)
    return out


def exposure_script(paths: list[Path], user: FunctionUser) -> str:
    """Shell commands for the launcher (root, in the environment's own mount namespace):
    cover each blocking directory with an empty tmpfs and bind the needed paths back.
    Empty when the user can already reach every path."""
    blocked: dict[Path, list[Path]] = {}
    for p in paths:
        top = _blocking_ancestor(p, user)
        if top is not None and p.is_dir():
            blocked.setdefault(top, []).append(p)
    if not blocked:
        return ""
    q = shlex.quote
    staging = staging_dir(paths, list(blocked))
    # the staging tmpfs (root only) holds a bind of each needed path while the blocking
    # directories are covered; unmounting it afterwards restores the directory it covered
    lines = [f"mount -t tmpfs -o mode=700 lambda-emu-stage {staging}"]
    staged: list[tuple[str, Path]] = []
    for i, p in enumerate(p for group in blocked.values() for p in group):
        stage = f"{staging}/{i}"
        lines.append(f"mkdir {stage} && mount --bind {q(str(p))} {stage}")
        staged.append((stage, p))
    for top in sorted(blocked, key=lambda t: len(t.parts), reverse=True):
        lines.append(f"mount -t tmpfs -o mode=755,size=1m lambda-emu-hide {q(str(top))}")
    for stage, p in staged:
        lines.append(f"mkdir -p {q(str(p))} && mount --bind {stage} {q(str(p))}")
    lines.append(f"umount -l {staging}")
    return " &&\n".join(lines)


def staging_dir(paths: list[Path], blocked: list[Path]) -> str:
    """An existing directory that neither holds nor lies below anything being exposed."""
    for candidate in ("/mnt", "/media", "/srv", "/opt", "/dev/shm"):
        c = Path(candidate)
        if not c.is_dir():
            continue
        if any(p.is_relative_to(c) or c.is_relative_to(p) for p in [*paths, *blocked]):
            continue
        return candidate
    raise SandboxError("no directory to stage the function's paths in (tried /mnt, /media, …)")


def under_host_tmp(path: Path) -> bool:
    return path == Path("/tmp") or path.is_relative_to("/tmp")


def private_tmp_script(tmp_dir: Path, paths: list[Path]) -> str:
    """Shell commands for the launcher (root, in the environment's own mount namespace): bind
    the environment's own directory on /tmp. The needed paths that live under the host's /tmp
    (a checkout under /tmp: its code, its virtualenv) are first bound aside, then bound back
    at the same path inside the private /tmp, so the function still finds them and sees
    nothing else of the host's /tmp."""
    q = shlex.quote
    kept = [p for p in paths if under_host_tmp(p) and p != Path("/tmp") and p.is_dir()]
    if any(p == Path("/tmp") for p in paths):
        raise SandboxError("a function that needs all of the host's /tmp cannot have its own")
    if not kept:
        return f"mount --bind {q(str(tmp_dir))} /tmp"
    staging = staging_dir(kept, [])
    lines = [f"mount -t tmpfs -o mode=700 lambda-emu-stage {staging}"]
    for i, p in enumerate(kept):
        lines.append(f"mkdir {staging}/{i} && mount --bind {q(str(p))} {staging}/{i}")
    lines.append(f"mount --bind {q(str(tmp_dir))} /tmp")
    for i, p in enumerate(kept):
        lines.append(f"mkdir -p {q(str(p))} && mount --bind {staging}/{i} {q(str(p))}")
    lines.append(f"umount -l {staging}")
    return " &&\n".join(lines)
