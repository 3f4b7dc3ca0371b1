"""The launcher: the small shell program every environment's runtime is started through, and
the host-side helpers around it (a private /tmp or not, rlimits where no cgroup is writable)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from emulator.sandbox.ulimits import LAMBDA_NPROC, LAMBDA_RLIMITS

# Joins the cgroup(s) given before "--", binds the private /tmp (its "tmp" script keeps what
# the function needs of the host's /tmp: users.private_tmp_script), makes the code directory
# read-only (in its own mount namespace: the host still writes it), then execs the runtime.
# With a task overlay (RuntimeCommand.task_overlay) the code directory is instead covered by a
# read-only overlay of itself and that directory: the function's cached node_modules then
# stand inside its code, where Lambda's /var/task has them.
# The emulator runs it as: unshare --mount --propagation private sh -c LAUNCHER ...
# (unshare without --fork execs in place: the runtime keeps the pid the emulator spawned).
# It is started ahead of need ("staged"): joining a cgroup costs ~10 ms (the kernel waits for
# an RCU grace period), so that happens before a request needs the environment; `start` then
# only writes "go" on its stdin.
#
# With external extensions (listed between the second pair of "--"), "go" reads "extensions":
# the launcher starts each extension in the background (stdin closed, without the variables
# Lambda keeps from extensions: LAMBDA_SPEC §3), then waits for a second line before it execs
# the runtime, as Lambda starts the runtime once every extension has registered.
#
# With Lambda's paths (emulator/sandbox/process/lambda_paths.py), "paths" last binds the code
# (read-only, or its task overlay) on /var/task and the runtime on /var/runtime, and moves
# into /var/task.
#
# When functions run as another user (emulator/sandbox/users.py), "prep" first exposes the
# paths the function needs, and the runtime and extensions are exec'd through "drop" (setpriv).
LAUNCHER = """
tmp=$1; code=$2; paths=$3; overlay=$4; prep=$5; drop=$6; shift 6
while [ "$1" != "--" ]; do echo $$ > "$1" || exit 111; shift; done; shift
if [ -n "$prep" ]; then eval "$prep" || exit 114; fi
if [ -n "$tmp" ]; then eval "$tmp" || exit 112; fi
if [ -n "$overlay" ]; then
  mount -t overlay lambda-emu-task -o "lowerdir=$code:$overlay" "$code" || exit 116
elif [ -n "$code" ]; then
  mount --bind "$code" "$code" && mount -o remount,bind,ro "$code" "$code" || exit 113
fi
if [ -n "$paths" ]; then eval "$paths" || exit 115; fi
read -r go || exit 0
while [ "$1" != "--" ]; do
  $drop env -u AWS_EXECUTION_ENV -u AWS_LAMBDA_LOG_GROUP_NAME -u AWS_LAMBDA_LOG_STREAM_NAME \
    -u AWS_XRAY_CONTEXT_MISSING -u AWS_XRAY_DAEMON_ADDRESS -u LAMBDA_RUNTIME_DIR \
    -u LAMBDA_TASK_ROOT -u _AWS_XRAY_DAEMON_ADDRESS -u _AWS_XRAY_DAEMON_PORT -u _HANDLER \
    -u PYTHONPATH "$1" </dev/null &
  shift
done; shift
if [ "$go" = "extensions" ]; then read -r go || exit 0; fi
exec $drop "$@"
"""


def overlay_option_safe(*paths: Path) -> bool:
    """overlayfs splits `lowerdir=` on ':' and its options on ','."""
    return not any(c in str(p) for p in paths for c in ":,\\")


def overlay_sources(overlay: Path) -> list[Path]:
    """The directories a task overlay's `node_modules` links point into."""
    modules = overlay / "node_modules"
    if modules.is_symlink():
        return [Path(os.path.realpath(modules))]
    links = [p for p in modules.glob("*") if p.is_symlink()]
    links += [p for p in modules.glob("@*/*") if p.is_symlink()]
    return sorted({Path(os.readlink(p)).parent for p in links})


def limit_data(pid: int, memory_mb: int) -> None:
    """Without cgroups: RLIMIT_DATA bounds heap and anonymous memory (the function sees
    MemoryError where Lambda would kill it); code and shared libraries are not counted."""
    import resource

    limit = memory_mb * 1024 * 1024
    with contextlib.suppress(OSError, ValueError):
        resource.prlimit(pid, resource.RLIMIT_DATA, (limit, limit))


def limit_like_lambda(pid: int, *, own_user: bool) -> None:
    """Lambda's ulimits for the runtime (set before it execs: it inherits them)."""
    import resource

    limits = dict(LAMBDA_RLIMITS)
    if own_user:
        limits["RLIMIT_NPROC"] = LAMBDA_NPROC
    for name, (soft, wanted_hard) in limits.items():
        which = getattr(resource, name)
        _, cur_hard = resource.prlimit(pid, which)
        hard = cur_hard if wanted_hard == -1 else wanted_hard
        with contextlib.suppress(OSError, ValueError):  # not privileged enough to raise it
            resource.prlimit(pid, which, (soft, hard))


def remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
