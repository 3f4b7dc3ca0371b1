"""The runtime cache (`~/.cache/lambda-emu`): directories filled once by a package manager
and reused by every later start, like `sam build`'s artefacts.

A directory is built beside its final name and renamed into place when complete, so a crash
or a concurrent start never leaves a half-filled one behind; `.ready` marks a finished one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from emulator.errors import SandboxError

INSTALL_TIMEOUT_S = 900


def filled_once(
    target: Path,
    command: Sequence[str],
    what: str,
    *,
    cwd: Path | None = None,
    files: Mapping[str, bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Run `command` (with `{dest}` standing for the directory to fill) unless `target` is
    ready; SandboxError with the tool's last line of output if it fails. `files` are written
    into the directory first (a package.json for npm to read, …); `env` replaces the tool's
    environment."""
    if (target / ".ready").exists():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, content in (files or {}).items():
        (tmp / name).write_bytes(content)
    argv = [part.replace("{dest}", str(tmp)) for part in command]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
            cwd=cwd if cwd is not None else tmp,
            env=dict(env) if env is not None else None,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SandboxError(f"installing {what} failed: {exc}") from exc
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        output = (proc.stderr.strip() or proc.stdout.strip()).splitlines() or ["failed"]
        raise SandboxError(f"installing {what} failed: {output[-1]}")
    (tmp / ".ready").write_text(" ".join(command))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(target)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return target
