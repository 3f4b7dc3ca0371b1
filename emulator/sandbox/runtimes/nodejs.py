"""`nodejsNN.x`: AWS's own Node.js runtime interface client (npm `aws-lambda-ric`), unmodified.

The function runs under that major of `node` (the nearest one on this machine, with a warning,
when it is missing), started as Lambda's own `/var/runtime/bootstrap` starts it:

    node --expose-gc --max-http-header-size 81920 \\
         --max-semi-space-size=S --max-old-space-size=O [--no-experimental-…] \\
         <runtime dir>/index.mjs

with new space = memory / 10, semi space = new space / 2, old space = memory - new space, all
in MB and rounded down (the bootstrap of AWS's base image `public.ecr.aws/lambda/nodejs:18`,
as printed from the image in public write-ups), then the flags that turn off the experimental
features Lambda disables per runtime (DISABLED_FEATURES). `index.mjs` is Lambda's
`/var/runtime/index.mjs`:
it starts the client with `LAMBDA_TASK_ROOT` and `_HANDLER`, without the line the client's
command-line entry (`bin/index.mjs`) prints first, which AWS's runtime does not print.

The client lives in a cached runtime directory per node major (Lambda's `/var/runtime`), beside
a documented subset of the AWS SDK for JavaScript v3 (SDK_PACKAGES at SDK_VERSION, locked by
`nodejs-sdk.lock.json`), as Lambda's nodejs18.x and later have the SDK in
`/var/runtime/node_modules` ("The Node.js 18 and later runtimes include AWS SDK for JavaScript
v3", docs lambda-nodejs.html). The client (built once per major) and the SDK (installed once with
`npm ci`) are cached apart and hard-linked together into that directory, so changing the SDK set
never rebuilds the client. `LAMBDA_EMU_NODEJS_RUNTIME_PACKAGES` adds packages to the set. A
function's `package.json` dependencies are installed once into a cached directory keyed by
their content, as `sam build` would (`npm ci` when there is a lockfile). The function sees them
where Lambda has them, as `node_modules` inside its code directory (/var/task/node_modules):
the process sandbox overlays on the code directory one holding a `node_modules` of links
(`RuntimeCommand.task_overlay`, `merged_overlay`) to each package of the dependencies, then of
the layers, then of the runtime directory, each name from its first source, so ES modules, which
ignore NODE_PATH, import them too: Lambda's nodejs18.x and later let ES modules import from
NODE_PATH. The runtime's packages come last, as `/var/runtime/node_modules` comes after the code
and the layers, and a `node_modules` the code ships itself stays on top (overlayfs merges it):
a function's own copy of an SDK package wins, as on Lambda.

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

# The AWS SDK for JavaScript v3 in the runtime directory. Lambda installs hundreds of `@aws-sdk/*`
# clients at "a specific minor version, NOT the latest" (aws-sdk-js-v3 README, "Working with the
# SDK in Lambda"), updated without notice; the per-runtime versions were removed from the
# runtimes page in 2024 (aws/aws-sdk-js-v3#6159). Here: the most used clients, at the newest
# release whose `engines` still accept node 18 (3.968.0 and later need node >= 20), so one
# locked set serves nodejs18.x through 22.x. Other packages must be bundled, or added with
# LAMBDA_EMU_NODEJS_RUNTIME_PACKAGES (space- or comma-separated npm specs; an `@aws-sdk/*` name
# without a version gets SDK_VERSION, any other one npm's latest, resolved once).
SDK_VERSION = "3.967.0"
SDK_PACKAGES: tuple[str, ...] = tuple(
    f"@aws-sdk/{name}"
    for name in (
        "client-s3",
        "client-dynamodb",
        "lib-dynamodb",
        "client-sqs",
        "client-sns",
        "client-lambda",
        "client-secrets-manager",
        "client-ssm",
        "client-sts",
        "client-eventbridge",
        "client-kinesis",
        "client-cloudwatch",
        "client-cloudwatch-logs",
        "client-kms",
        "client-sfn",
        "client-sesv2",
        "client-apigatewaymanagementapi",
        "credential-providers",
        "lib-storage",
        "s3-request-presigner",
    )
)
SDK_LOCK = Path(__file__).with_name("nodejs-sdk.lock.json")
RUNTIME_PACKAGES_VARIABLE = "LAMBDA_EMU_NODEJS_RUNTIME_PACKAGES"


def _split_spec(spec: str) -> tuple[str, str]:
    """("name", "version range") of an npm spec such as `@scope/name@1.2.3` or `name`."""
    at = spec.rfind("@")
    if at > 0:
        return spec[:at], spec[at + 1 :] or "latest"
    return spec, SDK_VERSION if spec.startswith("@aws-sdk/") else "latest"


def extra_runtime_packages(value: str) -> dict[str, str]:
    """LAMBDA_EMU_NODEJS_RUNTIME_PACKAGES as package.json dependencies."""
    specs = [s for s in re.split(r"[\s,]+", value.strip()) if s]
    return dict(_split_spec(s) for s in specs)


def sdk_manifest(extra: dict[str, str]) -> dict[str, object]:
    """The package.json of the runtime's SDK directory (the lockfile's root when no extras)."""
    deps = {name: SDK_VERSION for name in SDK_PACKAGES}
    return {"name": "lambda-emu-nodejs-runtime", "private": True, "dependencies": deps | extra}


# Experimental node features Lambda turns off, per runtime, and the flag in the function's
# NODE_OPTIONS that keeps one on ("Lambda detects this override and removes the corresponding
# disable flag"): docs lambda-nodejs.html, the table of experimental features. ⚠ Where the
# flags stand in Lambda's command line is not published; here after the heap limits.
DISABLED_FEATURES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("--no-experimental-require-module", "--experimental-require-module", (20, 22)),
    ("--no-experimental-detect-module", "--experimental-detect-module", (22,)),
)


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


# Lambda's bootstrap, unless the function sets NODE_EXTRA_CA_CERTS itself, points it at
# /var/runtime/ca-cert.pem ("all certs in /etc/pki/tls/certs/ca-bundle.crt that are not already
# embedded in the node binary", the RDS CAs among them), or at that whole bundle in the cn-*
# and three-dash regions (/var/runtime/bootstrap of nodejs18.x, as printed from the runtime in
# public write-ups). Here: this machine's own bundle (duplicates of node's certs are harmless).
CA_BUNDLES = (
    "/etc/pki/tls/certs/ca-bundle.crt",  # Amazon Linux, RHEL, Fedora
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Alpine
    "/etc/ssl/cert.pem",  # macOS, Alpine
)


def ca_bundle() -> str | None:
    return next((p for p in CA_BUNDLES if os.path.isfile(p)), None)


def _packages(source: Path) -> list[str]:
    """The package names in a node_modules directory ("name" and "@scope/name")."""
    names: list[str] = []
    try:
        entries = sorted(os.listdir(source))
    except OSError:
        return names
    for name in entries:
        if name.startswith("."):
            continue
        scope = os.path.join(source, name)
        if name.startswith("@") and os.path.isdir(scope):
            names += [f"{name}/{sub}" for sub in sorted(os.listdir(scope))]
        else:
            names.append(name)
    return names


def merged_overlay(cache_dir: Path, function: str, sources: list[Path]) -> Path:
    """A `node_modules` of links to every package of `sources`, the first source that has a
    package providing it: the dependencies, then the layers in NODE_PATH's order, then the
    runtime directory's (the SDK), as /var/runtime/node_modules ends NODE_PATH. Overlaid
    on the code, it lets an ES module import a layer's package as Lambda's nodejs18.x and
    later do ("searches the folders listed in NODE_PATH when loading ES modules", AWS Compute
    blog, Node.js 18.x runtime now available in AWS Lambda), which node's own resolver and
    AWS's client do not. ⚠ Packages a layer gains after the start show up at the next start."""
    links: dict[str, str] = {}
    for source in sources:
        for name in _packages(source):
            links.setdefault(name, f"{source}/{name}")
    listing = "\0".join(f"{name}={target}" for name, target in sorted(links.items()))
    # "2": overlays made before held a `.ready` file, which showed in /var/task
    digest = hashlib.sha256(f"2\0{listing}".encode()).hexdigest()[:16]
    overlay = cache_dir / "tasks" / f"{function}-{digest}"
    # complete once it exists (renamed into place); no marker inside: all of it shows in /var/task
    if overlay.is_dir():
        return overlay
    tmp = overlay.with_name(f"{overlay.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for name, target in links.items():
        link = tmp / "node_modules" / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target, target_is_directory=True)
    (tmp / "node_modules").mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(overlay)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return overlay


def sdk_packages(runtime_dir: Path) -> list[str]:
    """The packages of a runtime directory that came from its SDK directory (`.ready` names
    it): what the docker image copies."""
    try:
        sdk = Path((runtime_dir / ".ready").read_text().splitlines()[1])
    except (OSError, IndexError):
        return []
    return _packages(sdk / "node_modules")


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links refused
        shutil.copy2(src, dst)


def runtime_with_sdk(client: Path, sdk: Path, target: Path) -> Path:
    """Lambda's `/var/runtime` for one major: the client directory's `index.mjs` and a
    `node_modules` holding every package of the SDK directory, then the client's packages the
    SDK does not have (aws-lambda-ric and its build tools), hard-linked (copied across file
    systems) so that it is one self-contained tree, bound as is on /var/runtime."""
    if (target / ".ready").exists():
        return target
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "node_modules").mkdir(parents=True)
    shutil.copy2(client / "index.mjs", tmp / "index.mjs")
    taken: list[str] = []
    for source in (sdk / "node_modules", client / "node_modules"):
        for name in _packages(source):
            if name in taken:
                continue
            taken.append(name)
            dest = tmp / "node_modules" / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(source / name, dest, symlinks=True, copy_function=_link_or_copy)
    (tmp / ".ready").write_text("\n".join([str(client), str(sdk)]))
    try:
        tmp.rename(target)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return target


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

    def __init__(
        self,
        cache_dir: Path,
        warn: Callable[[str], None],
        extra_packages: dict[str, str] | None = None,
    ) -> None:
        self.cache_dir = cache_dir
        self._warn = warn
        if extra_packages is None:  # the machine's setting, read once per runtime table
            extra_packages = extra_runtime_packages(os.environ.get(RUNTIME_PACKAGES_VARIABLE, ""))
        self.extra_packages = extra_packages
        self._sdk_dir: Path | None = None
        self._nodes: dict[int, str] | None = None
        self._runtime_dirs: dict[int, Path] = {}
        self._accepted: dict[tuple[str, str], bool] = {}

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

    def accepts(self, exe: str, flag: str) -> bool:
        """Whether this node knows `flag` (an unknown one stops node before it starts)."""
        key = (exe, flag)
        if key not in self._accepted:
            try:
                ok = (
                    subprocess.run(
                        [exe, flag, "-e", "0"], capture_output=True, timeout=30, check=False
                    ).returncode
                    == 0
                )
            except (OSError, subprocess.SubprocessError):
                ok = False
            self._accepted[key] = ok
        return self._accepted[key]

    def disabled_features(self, fn: FunctionConfig, wanted: int, exe: str) -> list[str]:
        """The flags Lambda's nodejsNN.x adds to turn experimental features off."""
        options = fn.environment.get("NODE_OPTIONS", "").split()
        return [
            flag
            for flag, keep_on, majors in DISABLED_FEATURES
            if wanted in majors and keep_on not in options and self.accepts(exe, flag)
        ]

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

    def client_dir(self, major: int, exe: str) -> Path:
        """aws-lambda-ric for one node major, built once (Lambda's /var/runtime without the SDK)."""
        version = ric_version(major)
        package = {"private": True, "dependencies": {"aws-lambda-ric": version}}
        entry = ENTRY_MODERN if version == RIC_MODERN else ENTRY_LEGACY
        return filled_once(
            self.cache_dir / "runtimes" / f"nodejs{major}",
            [*self._npm(exe), "install", *NPM_FLAGS],
            f"the nodejs{major} runtime (aws-lambda-ric {version})",
            files={"package.json": json.dumps(package).encode(), "index.mjs": entry.encode()},
            env=self._npm_env(exe),
        )

    def sdk_dir(self, exe: str) -> Path:
        """The runtime's SDK packages, installed once per set: `npm ci` from the locked set,
        `npm install` (the lock kept for what it holds) when packages are added."""
        if self._sdk_dir is None:
            manifest = json.dumps(sdk_manifest(self.extra_packages), indent=2).encode()
            files = {"package.json": manifest}
            if SDK_LOCK.is_file():
                files["package-lock.json"] = SDK_LOCK.read_bytes()
            verb = "ci" if "package-lock.json" in files and not self.extra_packages else "install"
            digest = hashlib.sha256(b"\0".join(files.values())).hexdigest()[:16]
            self._sdk_dir = filled_once(
                self.cache_dir / "runtimes" / f"nodejs-sdk-{digest}",
                [*self._npm(exe), verb, "--omit=dev", "--ignore-scripts", *NPM_FLAGS],
                f"the AWS SDK for JavaScript v3 of the Node.js runtime (npm {verb})",
                files=files,
                env=self._npm_env(exe),
            )
        return self._sdk_dir

    def runtime_dir(self, major: int, exe: str) -> Path:
        """Lambda's /var/runtime for a node major: the client and the SDK (both npm, once)."""
        if major not in self._runtime_dirs:
            client = self.client_dir(major, exe)
            sdk = self.sdk_dir(exe)
            digest = sdk.name.removeprefix("nodejs-sdk-")
            target = self.cache_dir / "runtimes" / f"nodejs{major}-sdk-{digest}"
            self._runtime_dirs[major] = runtime_with_sdk(client, sdk, target)
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
        path = [
            *layer_paths(fn.layers, wanted),
            str(rdir / "node_modules"),
            str(rdir),
            str(fn.code_dir),
        ]
        debug = () if fn.debug_port is None else (f"--inspect-brk=127.0.0.1:{fn.debug_port}",)
        env = {"NODE_PATH": os.pathsep.join(path)}
        if (bundle := ca_bundle()) is not None:
            env["NODE_EXTRA_CA_CERTS"] = bundle  # a function's own value replaces it
        # The dependencies stand where Lambda has them, in /var/task/node_modules: found from
        # the handler's own directory by `require` and by ES modules' `import` alike (which
        # ignores NODE_PATH). Without a mount namespace for that overlay they go first on
        # NODE_PATH instead, where `import` does not find them (⚠).
        # The runtime's packages (the SDK) come last, after the code's and the layers', as
        # /var/runtime/node_modules does on NODE_PATH: what the function brings wins.
        overlay = unmounted = None
        layers = [Path(p) for p in layer_paths(fn.layers, wanted) if os.path.isdir(p)]
        sources = [*([deps / "node_modules"] if deps else []), *layers, rdir / "node_modules"]
        overlay = merged_overlay(self.cache_dir, fn.name, sources)
        if deps is not None:
            unmounted = {"NODE_PATH": os.pathsep.join([str(deps / "node_modules"), *path])}
        return RuntimeCommand(
            argv=(
                exe,
                *debug,
                "--expose-gc",
                "--max-http-header-size",
                "81920",
                *memory_args(fn.memory_mb),
                *self.disabled_features(fn, wanted, exe),
                str(rdir / "index.mjs"),
            ),
            env=env,
            execution_env=f"AWS_Lambda_{fn.runtime}",
            runtime_dir=str(rdir),
            task_overlay=overlay,
            env_unmounted=unmounted or {},
        )
