"""What to run for a function's runtime, prepared once per machine (like `sam build`).

- `python3.X`: that interpreter (the nearest one on this machine, with a warning, when it is
  missing) running AWS's own runtime interface client, unmodified:
  `python -m awslambdaric module.handler`. The client and boto3 live in a cached runtime
  directory (Lambda's `/var/runtime`); a function's `requirements.txt` is installed once into a
  cached dependency directory keyed by its content.
- `provided`, `provided.al2`, `provided.al2023`: the function's own `bootstrap`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.errors import SandboxError

# Packages of Lambda's managed Python runtime directory (/var/runtime).
RUNTIME_PACKAGES = ("awslambdaric", "boto3")
PYTHON_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


@dataclass(frozen=True)
class RuntimeCommand:
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    execution_env: str | None = None  # AWS_EXECUTION_ENV; unset for custom runtimes
    runtime_dir: str = ""
    # an init failure known before anything runs (Lambda reports these at init)
    init_error: tuple[str, str] | None = None  # (errorType, errorMessage)


def _real_interpreter(exe: str) -> str | None:
    """The executable behind `exe` (resolving shims), or None if it does not run."""
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _version_key(v: str) -> tuple[int, int]:
    major, minor = v.split(".")
    return int(major), int(minor)


class RuntimeResolver:
    """Resolves and prepares runtimes; every result is cached for the process's lifetime."""

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self._warn = warn
        self._interpreters: dict[str, str | None] = {}
        self._runtime_dirs: dict[str, Path] = {}

    # --- interpreters ----------------------------------------------------------------------
    def interpreter(self, version: str) -> str | None:
        """The real executable of `python<version>` (pyenv shims resolved), or None."""
        if version in self._interpreters:
            return self._interpreters[version]
        found: str | None = None
        if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
            found = os.path.realpath(sys.executable)
        else:
            for exe in self._candidates(version):
                found = _real_interpreter(exe)
                if found is not None:
                    break
        self._interpreters[version] = found
        return found

    @staticmethod
    def _candidates(version: str) -> list[str]:
        """`pythonX.Y` on PATH, then pyenv's and the usual install locations (a pyenv shim
        refuses every version but the selected one)."""
        name = f"python{version}"
        out = [exe for exe in [shutil.which(name)] if exe]
        pyenv = Path.home() / ".pyenv" / "versions"
        if pyenv.is_dir():
            out += [str(p) for p in sorted(pyenv.glob(f"{version}*/bin/{name}"), reverse=True)]
        out += [f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
        return [exe for exe in dict.fromkeys(out) if os.access(exe, os.X_OK)]

    def python_for(self, runtime: str, function: str) -> tuple[str, str]:
        """(version actually used, interpreter path) for a `python3.X` runtime."""
        wanted = runtime.removeprefix("python")
        exe = self.interpreter(wanted)
        if exe is not None:
            return wanted, exe
        candidates = sorted(
            PYTHON_VERSIONS,
            key=lambda v: (abs(_version_key(v)[1] - _version_key(wanted)[1]), -_version_key(v)[1]),
        )
        for v in candidates:
            exe = self.interpreter(v)
            if exe is not None:
                self._warn(
                    f"{runtime} is not on this machine; function '{function}' runs on python{v}"
                )
                return v, exe
        raise SandboxError(f"function '{function}': no Python interpreter found for {runtime}")

    # --- cached directories ------------------------------------------------------------------
    def _pip_target(self, exe: str, target: Path, args: list[str], what: str) -> Path:
        if (target / ".ready").exists():
            return target
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [exe, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        cmd += ["--target", str(tmp), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise SandboxError(f"installing {what} failed: {last}")
        (tmp / ".ready").write_text(" ".join(args))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    def runtime_dir(self, version: str, exe: str) -> Path:
        if version not in self._runtime_dirs:
            target = self.cache_dir / "runtimes" / f"python{version}"
            self._runtime_dirs[version] = self._pip_target(
                exe, target, list(RUNTIME_PACKAGES), f"the python{version} runtime"
            )
        return self._runtime_dirs[version]

    def deps_dir(self, fn: FunctionConfig, version: str, exe: str) -> Path | None:
        req = fn.code_dir / "requirements.txt"
        if not req.is_file():
            return None
        digest = hashlib.sha256(req.read_bytes() + version.encode()).hexdigest()[:16]
        target = self.cache_dir / "deps" / f"{fn.name}-{digest}"
        return self._pip_target(
            exe, target, ["-r", str(req)], f"requirements.txt of function '{fn.name}'"
        )

    # --- commands ----------------------------------------------------------------------------
    def prepare(self, fn: FunctionConfig) -> RuntimeCommand:
        """Blocking (may run pip once): call it at start-up, off the event loop."""
        if fn.package_type == "Image":
            raise SandboxError(f"function '{fn.name}': PackageType Image needs the docker sandbox")
        runtime = fn.runtime
        if runtime.startswith("python"):
            version, exe = self.python_for(runtime, fn.name)
            rdir = self.runtime_dir(version, exe)
            deps = self.deps_dir(fn, version, exe)
            path = [str(fn.code_dir)] + ([str(deps)] if deps else []) + [str(rdir)]
            # -B: no __pycache__ in the code directory, as on Lambda, where /var/task is
            # read-only; a stale .pyc (same size, same second) would also defeat hot reload.
            return RuntimeCommand(
                argv=(exe, "-B", "-m", "awslambdaric", fn.handler),
                env={"PYTHONPATH": os.pathsep.join(path)},
                execution_env=f"AWS_Lambda_{runtime}",
                runtime_dir=str(rdir),
            )
        if runtime.startswith("provided"):
            bootstrap = fn.code_dir / "bootstrap"
            if not (bootstrap.is_file() and os.access(bootstrap, os.X_OK)):
                return RuntimeCommand(
                    argv=(str(bootstrap),),
                    init_error=(
                        "Runtime.InvalidEntrypoint",
                        f"Couldn't find valid bootstrap(s): [{bootstrap}]",
                    ),
                )
            return RuntimeCommand(argv=(str(bootstrap),), runtime_dir=str(fn.code_dir))
        raise SandboxError(
            f"function '{fn.name}': runtime {runtime} is not supported by the process sandbox "
            "(python3.x and provided.* are)"
        )
