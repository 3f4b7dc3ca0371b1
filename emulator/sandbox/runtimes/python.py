"""`python3.X`: AWS's own runtime interface client, unmodified.

The function runs under that interpreter (the nearest one on this machine, with a warning, when
it is missing) as `python -m awslambdaric module.handler`. The client and boto3 live in a
cached runtime directory (Lambda's `/var/runtime`); a function's `requirements.txt` is
installed once into a cached dependency directory keyed by its content. Layers put their
`python/` directory on the path between the code and the runtime, as Lambda's `/opt/python`.

Under `--debug` the same client runs under debugpy, as SAM CLI starts it (the interpreter, the
debugger's arguments, then the runtime: samcli/local/docker/lambda_debug_settings.py):
`python -m debugpy --listen 127.0.0.1:PORT --wait-for-client -m awslambdaric module.handler`.
It waits for the IDE before the client starts, so the wait is part of the init phase (as in
SAM CLI), and breakpoints set while attaching hold from the handler's import on. debugpy is
installed once per Python version into the runtime cache, at the version the emulator has.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.sandbox.runtimes.base import RuntimeCommand
from emulator.sandbox.runtimes.cache import filled_once

# Packages of Lambda's managed Python runtime directory (/var/runtime).
RUNTIME_PACKAGES = ("awslambdaric", "boto3")
PYTHON_VERSIONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


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


def layer_paths(layers: tuple[Path, ...], version: str) -> list[str]:
    """What each layer adds to the module path, in Lambda's order for `/opt`:
    `python/lib/pythonX.Y/site-packages`, then `python/` (docs: packaging-layers, "Layer paths
    for each Lambda runtime")."""
    out: list[str] = []
    for layer in layers:
        out += [str(layer / "python" / "lib" / f"python{version}" / "site-packages")]
        out += [str(layer / "python")]
    return out


class PythonRuntime:
    family = "python"

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self._warn = warn
        self._interpreters: dict[str, str | None] = {}
        self._runtime_dirs: dict[str, Path] = {}

    @staticmethod
    def matches(runtime: str) -> bool:
        return runtime.startswith("python3")

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
        import shutil

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
    def _pip(self, exe: str, target: Path, args: list[str], what: str) -> Path:
        command = [exe, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        return filled_once(target, [*command, "--target", "{dest}", *args], what)

    def runtime_dir(self, version: str, exe: str) -> Path:
        if version not in self._runtime_dirs:
            target = self.cache_dir / "runtimes" / f"python{version}"
            self._runtime_dirs[version] = self._pip(
                exe, target, list(RUNTIME_PACKAGES), f"the python{version} runtime"
            )
        return self._runtime_dirs[version]

    def deps_dir(self, fn: FunctionConfig, version: str, exe: str) -> Path | None:
        req = fn.code_dir / "requirements.txt"
        if not req.is_file():
            return None
        digest = hashlib.sha256(req.read_bytes() + version.encode()).hexdigest()[:16]
        target = self.cache_dir / "deps" / f"{fn.name}-{digest}"
        return self._pip(exe, target, ["-r", str(req)], f"requirements.txt of function '{fn.name}'")

    def debugger_dir(self, version: str, exe: str) -> Path:
        """debugpy for this Python version (the emulator's own version of it, when it has one:
        the adapter an IDE speaks to is then the one the tests attach to)."""
        from importlib import metadata

        try:
            pin = metadata.version("debugpy")
        except metadata.PackageNotFoundError:
            pin = ""
        target = self.cache_dir / "debuggers" / f"debugpy{pin}-python{version}"
        wanted = f"debugpy=={pin}" if pin else "debugpy"
        return self._pip(exe, target, [wanted], f"debugpy for python{version}")

    # --- the command -------------------------------------------------------------------------
    def command(self, fn: FunctionConfig) -> RuntimeCommand:
        """Blocking (may run pip once): call it at start-up, off the event loop."""
        version, exe = self.python_for(fn.runtime, fn.name)
        rdir = self.runtime_dir(version, exe)
        deps = self.deps_dir(fn, version, exe)
        # Lambda's order: the code, its dependencies, each layer's python/, the runtime.
        path = [str(fn.code_dir), *([str(deps)] if deps else []), *layer_paths(fn.layers, version)]
        path.append(str(rdir))
        client: tuple[str, ...] = ("-m", "awslambdaric", fn.handler)
        if fn.debug_port is not None:
            path.append(str(self.debugger_dir(version, exe)))
            listen = f"127.0.0.1:{fn.debug_port}"
            client = ("-m", "debugpy", "--listen", listen, "--wait-for-client", *client)
            if _version_key(version) >= (3, 11):
                # debugpy asks for it: frozen stdlib modules can make it miss breakpoints
                client = ("-X", "frozen_modules=off", *client)
        # -B: no __pycache__ in the code directory, as on Lambda, where /var/task is
        # read-only; a stale .pyc (same size, same second) would also defeat hot reload.
        return RuntimeCommand(
            argv=(exe, "-B", *client),
            env={"PYTHONPATH": os.pathsep.join(path)},
            execution_env=f"AWS_Lambda_{fn.runtime}",
            runtime_dir=str(rdir),
        )
