"""Lambda's paths in the process sandbox: the code on /var/task, the runtime on /var/runtime.

On Lambda the function's code is at `/var/task` (also its cwd and `LAMBDA_TASK_ROOT`) and the
runtime at `/var/runtime` (`LAMBDA_RUNTIME_DIR`): LocalStack's AWS-recorded snapshots
test_lambda_common :: TestLambdaRuntimesCommon::test_introspection_invoke[python3.13] (rec
12-01-2026) and test_lambda :: TestLambdaBehavior::test_runtime_introspection_x86 (cwd
`/var/task`, rec 24-11-2025). Stack traces then name `/var/task/<file>`, as AWS's do.

Where the emulator runs as root and gives each environment a mount namespace of its own (the
launcher's, `unshare --mount --propagation private`), it can present those paths there and
only there (`lambda_paths = true`; off by default, see docs/fidelity.md):

- when the host has no `/var/task` or `/var/runtime`, `/var` is covered by an overlay whose
  upper layer is a tmpfs of the namespace, so the two directories can be made without
  writing the host's `/var`; every entry of the host's `/var` (with the mounts below it) is
  then bound back over its copy, so writes under `/var/tmp` and the rest reach the host;
- the code directory is bound read-only on `/var/task`, the runtime directory on
  `/var/runtime` (empty for `provided.*`, whose runtime is the function's own bootstrap);
- when the function runs as a user of its own (`nobody`, emulator/sandbox/users.py), the
  namespace's `/etc/passwd` (a copy, bound over it) names that uid `sbx_user1051`, as
  `getpass.getuser()` reads on Lambda;
- the runtime starts in `/var/task`, with every path variable that named the code or the
  runtime directory rewritten to name `/var/task` or `/var/runtime`.

The host's mounts and files are never changed: every mount lives in the environment's own
namespace and goes away with its last process.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from emulator.errors import SandboxError
from emulator.sandbox import users
from emulator.sandbox.users import FunctionUser

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
# The name getpass.getuser() and whoami give on Lambda (LocalStack's AWS-recorded
# TestLambdaBehavior::test_runtime_introspection_x86, rec 24-11-2025); its uid is not
# recorded ⚠, so the name is given to the uid the function runs as (nobody's, by default)
SANDBOX_USER = "sbx_user1051"

# Variables whose value is a path or a list of paths that may name the code or the runtime.
PATH_VARIABLES = (
    "LAMBDA_TASK_ROOT",
    "PYTHONPATH",
    "NODE_PATH",
    "LD_LIBRARY_PATH",
    "PATH",
    "AWS_LAMBDA_EXEC_WRAPPER",
)


def mount_script(code: Path, runtime: Path | None, user: FunctionUser | None = None) -> str:
    """Shell commands for the launcher (root, in the environment's namespace, before anything
    else): Lambda's two directories, bound, the function's user named as Lambda names it, and
    the cwd moved into /var/task."""
    q = shlex.quote
    roots = [code, *([runtime] if runtime is not None else [])]
    stage = users.staging_dir(roots, [])
    lines = [
        f"mount -t tmpfs -o mode=700 lambda-emu-stage {stage} &&",
        f"if [ ! -d {TASK_ROOT} ] || [ ! -d {RUNTIME_DIR} ]; then",
        f"  mkdir {stage}/upper {stage}/work {stage}/host &&",
        f"  mount --rbind /var {stage}/host &&",
        "  mount -t overlay lambda-emu-var"
        f" -o lowerdir=/var,upperdir={stage}/upper,workdir={stage}/work /var &&",
        f"  mkdir -p {TASK_ROOT} {RUNTIME_DIR} &&",
        # the host's own /var entries are bound back over the overlay's copies, with the
        # mounts below them: what the function writes under /var/tmp (a checkout there, a
        # log) reaches the host, and only /var/task and /var/runtime are the namespace's own
        f"  for e in {stage}/host/* {stage}/host/.[!.]*; do",
        '    n="${e##*/}"',
        '    if [ -d "$e" ] && [ ! -L "$e" ] && [ "$n" != task ] && [ "$n" != runtime ]; then',
        '      mount --rbind "$e" "/var/$n"',
        "    fi",
        "  done",
        "fi &&",
    ]
    if user is not None:
        # getpass.getuser() and whoami read the name of the uid from /etc/passwd, first
        # match first: this environment's copy names the function's uid as Lambda does
        entry = f"{SANDBOX_USER}:x:{user.uid}:{user.gid}::/tmp:/sbin/nologin"
        lines += [
            f"{{ echo {q(entry)} && cat /etc/passwd; }} > {stage}/passwd &&",
            f"chmod 644 {stage}/passwd && mount --bind {stage}/passwd /etc/passwd &&",
        ]
    lines += [
        f"umount -l {stage} &&",
        f"mount --bind {q(str(code))} {TASK_ROOT} &&",
        f"mount -o remount,bind,ro {TASK_ROOT} {TASK_ROOT} &&",
    ]
    if runtime is not None:
        lines += [
            f"mount --bind {q(str(runtime))} {RUNTIME_DIR} &&",
            f"mount -o remount,bind,ro {RUNTIME_DIR} {RUNTIME_DIR} &&",
        ]
    lines.append(f"cd {TASK_ROOT}")
    return "\n".join(lines)


def _remap_path(path: str, moves: list[tuple[str, str]]) -> str:
    for host, lambda_path in moves:
        if path == host:
            return lambda_path
        if path.startswith(host + "/"):
            return lambda_path + path[len(host) :]
    return path


def remap(value: str, code: Path, runtime: Path | None) -> str:
    """A path (or a `:` list of paths) as the function sees it under Lambda's paths."""
    moves = [(str(code), TASK_ROOT)]
    if runtime is not None:
        moves.append((str(runtime), RUNTIME_DIR))
    moves.sort(key=lambda m: len(m[0]), reverse=True)  # the deeper one first, if nested
    return os.pathsep.join(_remap_path(p, moves) for p in value.split(os.pathsep))


def runtime_dir(env: Mapping[str, str], code: Path) -> Path | None:
    """The runtime's own directory, when it is not the code (provided.*)."""
    value = env.get("LAMBDA_RUNTIME_DIR", "")
    if not value or Path(value) == code or not Path(value).is_dir():
        return None
    return Path(value)


def remap_env(env: Mapping[str, str], code: Path, runtime: Path | None) -> dict[str, str]:
    out = dict(env)
    for key in PATH_VARIABLES:
        if key in out:
            out[key] = remap(out[key], code, runtime)
    out["LAMBDA_TASK_ROOT"] = TASK_ROOT
    out["LAMBDA_RUNTIME_DIR"] = RUNTIME_DIR
    return out


@functools.cache
def can_present() -> str | None:
    """None when this machine can present Lambda's paths (tried once, in a throwaway mount
    namespace: root, util-linux's unshare, overlayfs); else why not."""
    if os.geteuid() != 0:
        return "needs root (a mount namespace per environment)"
    if shutil.which("unshare") is None:
        return "needs util-linux's unshare"
    try:
        script = mount_script(Path("/usr/share"), Path("/usr/lib"), FunctionUser("x", 1, 1))
    except SandboxError as exc:
        return str(exc)
    probe = (
        f'{script} && [ "$(pwd)" = {TASK_ROOT} ] && [ -d {RUNTIME_DIR} ]'
        f' && [ "$(id -nu 1)" = {SANDBOX_USER} ]'
    )
    try:
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", probe],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"the probe did not run: {exc}"
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        return f"the probe failed: {err[-1] if err else f'status {done.returncode}'}"
    return None
