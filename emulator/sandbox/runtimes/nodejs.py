"""`nodejsNN.x`: AWS's own Node.js runtime interface client (npm `aws-lambda-ric`), unmodified.

The function runs under that major of `node` (the nearest one on this machine, with a warning,
when it is missing), started as Lambda's own `/var/runtime/bootstrap` starts it:

    node --expose-gc --max-http-header-size 81920 \\
         --max-semi-space-size=S --max-old-space-size=O  <runtime dir>/index.mjs

with new space = memory / 10, semi space = new space / 2, old space = memory - new space, all
in MB and rounded down (the bootstrap of AWS's base image `public.ecr.aws/lambda/nodejs:18`,
as printed from the image in public write-ups). `index.mjs` is Lambda's `/var/runtime/index.mjs`:
it starts the client with `LAMBDA_TASK_ROOT` and `_HANDLER`, without the line the client's
command-line entry (`bin/index.mjs`) prints first, which AWS's runtime does not print.

The client lives in a cached runtime directory per node major (Lambda's `/var/runtime`); a
function's `package.json` dependencies are installed once into a cached directory keyed by
their content, as `sam build` would (`npm ci` when there is a lockfile).

`NODE_PATH` is the bootstrap's, `/opt` mapped to each layer and `/var/task` to the code:
`/opt/nodejs/nodeNN/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:
/var/runtime:/var/task` (recorded from nodejs22.x: LocalStack test_lambda_common.snapshot.json
TestLambdaRuntimesCommon::test_introspection_invoke[nodejs22.x], 12-01-2026). As there, a
function's own `NODE_PATH` replaces it.

Under `--debug` node starts with `--inspect-brk=127.0.0.1:PORT`, as SAM CLI's debug entry
point does (samcli/local/docker/lambda_debug_settings.py; there through `NODE_OPTIONS`, here on
the command line, where a function's own `NODE_OPTIONS` cannot drop it): it waits for a
debugger, paused before the client's first line, so init includes the wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.errors import SandboxError
from emulator.manifests.validate import KNOWN_RUNTIMES
from emulator.sandbox.runtimes.base import RuntimeCommand
from emulator.sandbox.runtimes.cache import filled_once

NODE_MAJORS: tuple[int, ...] = tuple(
    int(r.removeprefix("nodejs").removesuffix(".x"))
    for r in KNOWN_RUNTIMES
    if r.startswith("nodejs")
)
# The client's own package.json: 4.x declares `"engines": {"node": ">=22"}`; 3.3.0 is the
# newest that runs on older majors (it builds its libcurl from source at install).
RIC_MODERN = "4.0.2"
RIC_LEGACY = "3.3.0"
# Lambda's /var/runtime/index.mjs: 3.x exports `run(appRoot, handler)`; 4.x starts itself on
# import from `LAMBDA_TASK_ROOT` and `_HANDLER`.
ENTRY_LEGACY = (
    'import { run } from "aws-lambda-ric";\n'
    "await run(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);\n"
)
ENTRY_MODERN = 'import "aws-lambda-ric";\n'
NPM_FLAGS = ("--no-audit", "--no-fund", "--no-update-notifier", "--loglevel=error")


def ric_version(major: int) -> str:
    return RIC_MODERN if major >= 22 else RIC_LEGACY


def memory_args(memory_mb: int) -> tuple[str, ...]:
    """V8's heap limits as Lambda's Node bootstrap sets them from the function's memory."""
    new_space = memory_mb // 10
    return (
        f"--max-semi-space-size={new_space // 2}",
        f"--max-old-space-size={memory_mb - new_space}",
    )


def layer_paths(layers: tuple[Path, ...], major: int) -> list[str]:
    """What the layers add to `NODE_PATH`: every layer's `nodejs/nodeNN/node_modules`, then
    every layer's `nodejs/node_modules` (Lambda's two `/opt` entries). ⚠ Lambda extracts the
    layers into one `/opt`, a later layer overwriting an earlier one's files, so a later layer
    comes first here; a module that only some layer has resolves the same either way."""
    ordered = list(reversed(layers))
    out = [str(layer / "nodejs" / f"node{major}" / "node_modules") for layer in ordered]
    return out + [str(layer / "nodejs" / "node_modules") for layer in ordered]


def _node_major(exe: str) -> int | None:
    try:
        out = subprocess.run(
            [exe, "--version"], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.stdout.strip())
    return int(match.group(1)) if match else None


def _is_local_spec(spec: object) -> bool:
    return isinstance(spec, str) and spec.startswith(("file:", "./", "../", "/"))


class NodejsRuntime:
    family = "nodejs"

    def __init__(self, cache_dir: Path, warn: Callable[[str], None]) -> None:
        self.cache_dir = cache_dir
        self._warn = warn
        self._nodes: dict[int, str] | None = None
        self._runtime_dirs: dict[int, Path] = {}

    @staticmethod
    def matches(runtime: str) -> bool:
        return runtime.startswith("nodejs")

    # --- interpreters ----------------------------------------------------------------------
    def nodes(self) -> dict[int, str]:
        """Every `node` on this machine by major: PATH first, then nvm's and n's versions."""
        if self._nodes is None:
            found: dict[int, str] = {}
            for exe in self._candidates():
                major = _node_major(exe)
                if major is not None and major not in found:
                    found[major] = os.path.realpath(exe)
            self._nodes = found
        return self._nodes

    @staticmethod
    def _candidates() -> list[str]:
        out = [exe for name in ("node", "nodejs") if (exe := shutil.which(name))]
        out += [exe for major in NODE_MAJORS if (exe := shutil.which(f"node{major}"))]
        home = Path.home()
        out += [str(p) for p in sorted((home / ".nvm" / "versions" / "node").glob("v*/bin/node"))]
        out += [str(p) for p in sorted(Path("/usr/local/n/versions/node").glob("*/bin/node"))]
        out += ["/usr/local/bin/node", "/usr/bin/node"]
        return [exe for exe in dict.fromkeys(out) if os.access(exe, os.X_OK)]

    def node_for(self, runtime: str, function: str) -> tuple[int, str]:
        """(major actually used, node path) for a `nodejsNN.x` runtime."""
        wanted = int(runtime.removeprefix("nodejs").removesuffix(".x"))
        nodes = self.nodes()
        if wanted in nodes:
            return wanted, nodes[wanted]
        if not nodes:
            raise SandboxError(f"function '{function}': no node found for {runtime}")
        major = min(nodes, key=lambda m: (abs(m - wanted), -m))
        self._warn(f"{runtime} is not on this machine; function '{function}' runs on node {major}")
        return major, nodes[major]

    # --- cached directories ------------------------------------------------------------------
    @staticmethod
    def _npm_env(exe: str) -> dict[str, str]:
        """npm and node-gyp run under `exe` (the addon is built for it) and build against its
        own headers, never ones downloaded from nodejs.org."""
        bindir = os.path.dirname(exe)
        env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
        prefix = os.path.dirname(bindir)
        if os.path.isfile(os.path.join(prefix, "include", "node", "common.gypi")):
            env["npm_config_nodedir"] = prefix
        return env

    @staticmethod
    def _npm(exe: str) -> list[str]:
        npm = shutil.which("npm", path=os.path.dirname(exe)) or shutil.which("npm")
        if npm is None:
            raise SandboxError("npm is not on this machine: it installs the Node.js runtime")
        return [npm]

    def runtime_dir(self, major: int, exe: str) -> Path:
        if major not in self._runtime_dirs:
            version = ric_version(major)
            package = {"private": True, "dependencies": {"aws-lambda-ric": version}}
            entry = ENTRY_MODERN if version == RIC_MODERN else ENTRY_LEGACY
            self._runtime_dirs[major] = filled_once(
                self.cache_dir / "runtimes" / f"nodejs{major}",
                [*self._npm(exe), "install", *NPM_FLAGS],
                f"the nodejs{major} runtime (aws-lambda-ric {version})",
                files={"package.json": json.dumps(package).encode(), "index.mjs": entry.encode()},
                env=self._npm_env(exe),
            )
        return self._runtime_dirs[major]

    def deps_dir(self, fn: FunctionConfig, major: int, exe: str) -> Path | None:
        """The function's package.json dependencies, installed once (production only, as
        `sam build` does); None when there are none or the code ships its own node_modules."""
        pkg = fn.code_dir / "package.json"
        if not pkg.is_file() or (fn.code_dir / "node_modules").is_dir():
            return None
        try:
            manifest = json.loads(pkg.read_text())
        except (OSError, ValueError) as exc:
            raise SandboxError(f"function '{fn.name}': {pkg} is not JSON: {exc}") from exc
        deps = manifest.get("dependencies") if isinstance(manifest, dict) else None
        if not isinstance(deps, dict) or not deps:
            return None
        # The install runs in the cache, not beside the code: relative `file:` specs become
        # absolute so they still resolve (npm links them, so edits show without a reinstall).
        local = {name: spec for name, spec in deps.items() if _is_local_spec(spec)}
        for name, spec in local.items():
            target = (fn.code_dir / str(spec).removeprefix("file:")).resolve()
            deps[name] = f"file:{target}"
        files = {"package.json": json.dumps(manifest, indent=2).encode()}
        lock = next(
            (
                fn.code_dir / n
                for n in ("npm-shrinkwrap.json", "package-lock.json")
                if (fn.code_dir / n).is_file()
            ),
            None,
        )
        # ⚠ A lockfile records local specs relative to the code, so with those npm resolves
        # afresh (`npm install`) rather than `npm ci`.
        use_ci = lock is not None and not local
        if use_ci and lock is not None:
            files[lock.name] = lock.read_bytes()
        digest = hashlib.sha256(
            b"\0".join([*files.values(), str(major).encode(), str(fn.code_dir).encode()])
        ).hexdigest()[:16]
        verb = "ci" if use_ci else "install"
        return filled_once(
            self.cache_dir / "deps" / f"{fn.name}-node{major}-{digest}",
            [*self._npm(exe), verb, "--omit=dev", *NPM_FLAGS],
            f"package.json dependencies of function '{fn.name}' (npm {verb})",
            files=files,
            env=self._npm_env(exe),
        )

    # --- the command -------------------------------------------------------------------------
    def command(self, fn: FunctionConfig) -> RuntimeCommand:
        """Blocking (may run npm once): call it at start-up, off the event loop."""
        major, exe = self.node_for(fn.runtime, fn.name)
        rdir = self.runtime_dir(major, exe)
        deps = self.deps_dir(fn, major, exe)
        wanted = int(fn.runtime.removeprefix("nodejs").removesuffix(".x"))
        # The dependencies stand where Lambda finds /var/task/node_modules: before NODE_PATH.
        path = [
            *([str(deps / "node_modules")] if deps else []),
            *layer_paths(fn.layers, wanted),
            str(rdir / "node_modules"),
            str(rdir),
            str(fn.code_dir),
        ]
        debug = () if fn.debug_port is None else (f"--inspect-brk=127.0.0.1:{fn.debug_port}",)
        return RuntimeCommand(
            argv=(
                exe,
                *debug,
                "--expose-gc",
                "--max-http-header-size",
                "81920",
                *memory_args(fn.memory_mb),
                str(rdir / "index.mjs"),
            ),
            env={"NODE_PATH": os.pathsep.join(path)},
            execution_env=f"AWS_Lambda_{fn.runtime}",
            runtime_dir=str(rdir),
        )
