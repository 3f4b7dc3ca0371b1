"""`lambda-emu images build`: the local runtime images, from local material only.

1. a Debian root filesystem: `debootstrap --variant=minbase --include=python3` of the host's
   own Debian release and mirror (read from apt's configuration), trimmed of apt's caches,
   documentation and locales;
2. Lambda's runtime directory: awslambdaric and boto3 wheels for CPython 3.11 (manylinux),
   installed by pip into `/var/runtime`, and the entrypoint of AWS's base images;
3. imported as `lambda-emu/base`, then the python and provided images as thin layers on it;
4. for each major of `node` on this machine, `lambda-emu/nodejs:NN`: that `node` binary and
   the runtime cache's build of AWS's aws-lambda-ric (only what it loads: its `dist/`, the
   native addon among it), on the base image (whose glibc and libstdc++ are the host's own
   Debian release's).

Every image carries a label with the digest of this recipe: a build whose images already
carry the current digest does nothing (setup runs it on every call). Needs root (debootstrap)
and a Docker engine; the root filesystem is cached under `<cache>/images/`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.images import BASE_IMAGE, IMAGE_LABEL, PROVIDED_IMAGE, PYTHON_IMAGE, node_image
from emulator.sandbox.runtimes import RUNTIME_PACKAGES  # Lambda's /var/runtime, in the image too

SUITE = "bookworm"  # python3 there is 3.11, the interpreter awslambdaric's wheels are built for
PY_VERSION = "3.11"

EXTRA_PACKAGES = ("pip",)  # into /usr/local, as AWS's python images have pip
WHEEL_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
# Trimmed from the root filesystem: nothing a runtime reads.
TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/lintian",
)

# AWS base images' entrypoint contract: the handler is the one argument; with
# AWS_LAMBDA_RUNTIME_API set (the emulator sets it) the runtime's bootstrap runs directly.
ENTRYPOINT = """#!/bin/sh
# lambda-emu's runtime image entrypoint (the contract of AWS's Lambda base images).
if [ $# -gt 0 ]; then export _HANDLER="$1"; fi
if [ -z "$AWS_LAMBDA_RUNTIME_API" ]; then
  echo "lambda-emu image: AWS_LAMBDA_RUNTIME_API is not set; run it through lambda-emu" >&2
  exit 142
fi
for b in "$LAMBDA_RUNTIME_DIR/bootstrap" "$LAMBDA_TASK_ROOT/bootstrap" /opt/bootstrap; do
  if [ -x "$b" ]; then exec "$b"; fi
done
echo "Couldn't find valid bootstrap(s): [$LAMBDA_TASK_ROOT/bootstrap /opt/bootstrap]" >&2
exit 142
"""

# /var/runtime/bootstrap of the python image: AWS's runtime interface client, unmodified.
PYTHON_BOOTSTRAP = """#!/bin/sh
export PYTHONPATH="$LAMBDA_TASK_ROOT:/opt/python${PYTHONPATH:+:$PYTHONPATH}:$LAMBDA_RUNTIME_DIR"
exec python3 -B -m awslambdaric "$_HANDLER"
"""

_COMMON_ENV = (
    "ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task "
    "LAMBDA_RUNTIME_DIR=/var/runtime\nWORKDIR /var/task\n"
    'ENTRYPOINT ["/lambda-entrypoint.sh"]\n'
)
PYTHON_DOCKERFILE = (
    f'FROM {BASE_IMAGE}\n{_COMMON_ENV}COPY bootstrap /var/runtime/bootstrap\nCMD ["app.handler"]\n'
)
PROVIDED_DOCKERFILE = f"FROM {BASE_IMAGE}\n{_COMMON_ENV}"

# /var/runtime/bootstrap of the nodejs image: what Lambda's Node bootstrap does (nodejs18.x's
# /var/runtime/bootstrap, as printed from the runtime in public write-ups: NODE_PATH unless
# set, V8's heap limits from the memory size, NODE_EXTRA_CA_CERTS unless set, the exec wrapper
# checked), plus the experimental features Lambda turns off per runtime (docs
# lambda-nodejs.html). The image stands in for any nodejsNN.x: AWS_EXECUTION_ENV names it.
# @MAJOR@, @REQUIRE@ and @DETECT@ are filled at build time (a flag this node lacks is empty).
NODE_BOOTSTRAP = """#!/bin/sh
major=${AWS_EXECUTION_ENV#AWS_Lambda_nodejs}; major=${major%.x}
case "$major" in ''|*[!0-9]*) major=@MAJOR@;; esac
if [ -z "$NODE_PATH" ]; then
  export NODE_PATH="/opt/nodejs/node$major/node_modules:/opt/nodejs/node_modules:\
/var/runtime/node_modules:/var/runtime:/var/task"
fi
set -- --expose-gc --max-http-header-size 81920
if [ -n "$AWS_LAMBDA_FUNCTION_MEMORY_SIZE" ]; then
  new_space=$((AWS_LAMBDA_FUNCTION_MEMORY_SIZE / 10))
  set -- "$@" "--max-semi-space-size=$((new_space / 2))" \
    "--max-old-space-size=$((AWS_LAMBDA_FUNCTION_MEMORY_SIZE - new_space))"
fi
case " $NODE_OPTIONS " in *" --experimental-require-module "*) ;; *)
  case "$major" in 20|22) set -- "$@" @REQUIRE@;; esac;; esac
case " $NODE_OPTIONS " in *" --experimental-detect-module "*) ;; *)
  case "$major" in 22) set -- "$@" @DETECT@;; esac;; esac
if [ -z "${NODE_EXTRA_CA_CERTS+set}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
if [ -z "$AWS_LAMBDA_EXEC_WRAPPER" ]; then
  exec /var/lang/bin/node "$@" /var/runtime/index.mjs
fi
wrapper="$AWS_LAMBDA_EXEC_WRAPPER"
if [ ! -f "$wrapper" ]; then echo "$wrapper: does not exist"; exit 127; fi
if [ ! -x "$wrapper" ]; then echo "$wrapper: is not an executable"; exit 126; fi
exec "$wrapper" /var/lang/bin/node "$@" /var/runtime/index.mjs
"""
# The runtime's AWS SDK for JavaScript v3 is in /var/runtime/node_modules, as on Lambda; the
# link in /var lets an ES module in /var/task import it (node's ESM resolver ignores NODE_PATH
# and looks in the node_modules of each parent directory), after /var/task/node_modules, so a
# function's own copy wins. ⚠ `/var/node_modules` is not on Lambda.
NODE_DOCKERFILE = (
    f"FROM {BASE_IMAGE}\n{_COMMON_ENV}"
    "COPY node /var/lang/bin/node\nCOPY runtime/ /var/runtime/\n"
    "RUN ln -s /var/runtime/node_modules /var/node_modules\n"
    'CMD ["index.handler"]\n'
)


def recipe_digest() -> str:
    parts = [SUITE, PY_VERSION, *RUNTIME_PACKAGES, *EXTRA_PACKAGES, *WHEEL_PLATFORMS, *TRIM]
    parts.append(ENTRYPOINT)
    parts += [PYTHON_BOOTSTRAP, PYTHON_DOCKERFILE, PROVIDED_DOCKERFILE]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def docker_client() -> Any:
    """A client of the engine at DOCKER_HOST (default: the local socket)."""
    docker = importlib.import_module("docker")
    return docker.from_env(timeout=300)


def apt_mirror(suite: str = SUITE) -> str | None:
    """The Debian mirror apt is configured with (None: debootstrap's own default)."""
    try:
        out = subprocess.run(
            ["apt-get", "indextargets", "--format", "$(REPO_URI) $(CODENAME)"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        uri, _, codename = line.partition(" ")
        if codename == suite and "security" not in uri:
            return uri
    return None


def current(client: Any, tag: str, digest: str) -> bool:
    try:
        image = client.images.get(tag)
    except Exception:  # docker.errors.ImageNotFound
        return False
    labels = image.attrs.get("Config", {}).get("Labels") or {}
    return bool(labels.get(IMAGE_LABEL) == digest)


def _pip_into(rootfs: Path, target: Path, packages: Sequence[str]) -> None:
    """Wheels for the image's CPython into `target`; a failure removes the half-built rootfs."""
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    pip += ["--no-compile", "--target", str(target), *pip_platform_args(), *packages]
    proc = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        shutil.rmtree(rootfs, ignore_errors=True)
        raise SystemExit(f"pip failed:\n{proc.stderr[-2000:]}")


def build_rootfs(cache: Path, say: Callable[[str], None]) -> Path:
    """The trimmed root filesystem with /var/runtime, cached by the recipe digest."""
    digest = recipe_digest()
    rootfs = cache / f"rootfs-{SUITE}-{digest}"
    if (rootfs / ".lambda-emu-ready").exists():
        return rootfs
    if os.geteuid() != 0:
        raise SystemExit("lambda-emu images build: debootstrap needs root")
    if shutil.which("debootstrap") is None:
        raise SystemExit("lambda-emu images build: debootstrap is missing (scripts/setup-docker)")
    tmp = rootfs.with_name(rootfs.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", "--include=python3", SUITE, str(tmp)]
    mirror = apt_mirror()
    if mirror:
        cmd.append(mirror)
    say(f"debootstrap {SUITE} (minbase + python3)")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SystemExit(f"debootstrap failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    for rel in TRIM:
        target = tmp / rel
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir()
    say(f"pip: {' '.join(RUNTIME_PACKAGES)} for CPython {PY_VERSION} into /var/runtime")
    _pip_into(tmp, tmp / "var" / "runtime", RUNTIME_PACKAGES)
    # pip, as AWS's python images have it (and the emulator's own image installs with it)
    local = tmp / "usr" / "local" / "lib" / f"python{PY_VERSION}" / "dist-packages"
    _pip_into(tmp, local, EXTRA_PACKAGES)
    _write(tmp / "lambda-entrypoint.sh", ENTRYPOINT, 0o755)
    (tmp / "var" / "task").mkdir(parents=True, exist_ok=True)
    (tmp / "opt").mkdir(exist_ok=True)
    (tmp / ".lambda-emu-ready").write_text(digest)
    shutil.rmtree(rootfs, ignore_errors=True)
    tmp.rename(rootfs)
    for old in cache.glob(f"rootfs-{SUITE}-*"):  # earlier recipes' root filesystems
        if old != rootfs:
            shutil.rmtree(old, ignore_errors=True)
    return rootfs


def pip_platform_args() -> list[str]:
    """Wheels for the image's interpreter, whatever the host's Python is."""
    args = ["--only-binary=:all:", "--python-version", PY_VERSION, "--implementation", "cp"]
    for platform in WHEEL_PLATFORMS:
        args += ["--platform", platform]
    return args


def _write(path: Path, text: str, mode: int) -> None:
    path.write_text(text)
    path.chmod(mode)


def _context(dockerfile: str, files: Mapping[str, tuple[str | bytes, int]]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        entries: dict[str, tuple[str | bytes, int]] = {"Dockerfile": (dockerfile, 0o644)}
        for name, (content, mode) in {**entries, **files}.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def build(cache: Path, *, force: bool = False, say: Callable[[str], None] = print) -> list[str]:
    """Build every local image that is missing or out of date; the tags built."""
    client = docker_client()
    digest = recipe_digest()
    labels = {IMAGE_LABEL: digest}
    built: list[str] = []
    if force or not current(client, BASE_IMAGE, digest):
        rootfs = build_rootfs(cache, say)
        say(f"importing {BASE_IMAGE}")
        tar_path = cache / f"{BASE_IMAGE.replace('/', '_').replace(':', '_')}.tar"
        subprocess.run(
            ["tar", "-C", str(rootfs), "--exclude=./.lambda-emu-ready", "-cf", str(tar_path), "."],
            check=True,
        )
        try:
            repo, tag = BASE_IMAGE.split(":")
            client.api.import_image_from_file(
                str(tar_path),
                repository=repo,
                tag=tag,
                changes=[f"LABEL {IMAGE_LABEL}={digest}", 'CMD ["/bin/sh"]'],
            )
        finally:
            tar_path.unlink(missing_ok=True)
        built.append(BASE_IMAGE)
    for tag, dockerfile, files in (
        (PYTHON_IMAGE, PYTHON_DOCKERFILE, {"bootstrap": (PYTHON_BOOTSTRAP, 0o755)}),
        (PROVIDED_IMAGE, PROVIDED_DOCKERFILE, {}),
    ):
        if not force and not built and current(client, tag, digest):
            continue
        say(f"building {tag}")
        client.images.build(
            fileobj=_context(dockerfile, files),
            custom_context=True,
            tag=tag,
            labels=labels,
            pull=False,
            rm=True,
            forcerm=True,
        )
        built.append(tag)
    built += build_node_images(client, digest, force=force or BASE_IMAGE in built, say=say)
    if built:  # the images these replaced
        with contextlib.suppress(Exception):
            client.images.prune(filters={"dangling": True, "label": IMAGE_LABEL})
    client.close()
    return built


def node_context(major: int, exe: str, runtime_dir: Path) -> tuple[dict[str, Any], str]:
    """The build context's files for one node major, and its digest (bootstrap, node, client
    and SDK): the node binary, Lambda's /var/runtime/index.mjs, the client's `dist/` and the
    runtime directory's other packages (the AWS SDK for JavaScript v3, not the client's build
    tools)."""
    from emulator.sandbox.runtimes.nodejs import DISABLED_FEATURES, NodejsRuntime, sdk_packages

    accepts = NodejsRuntime(runtime_dir.parent.parent, lambda _m: None).accepts
    require, detect = (flag if accepts(exe, flag) else "" for flag, _, _ in DISABLED_FEATURES)
    bootstrap = NODE_BOOTSTRAP.replace("@MAJOR@", str(major))
    bootstrap = bootstrap.replace("@REQUIRE@", require).replace("@DETECT@", detect)
    files: dict[str, Any] = {
        "node": (Path(exe).read_bytes(), 0o755),
        "runtime/bootstrap": (bootstrap, 0o755),
        "runtime/index.mjs": ((runtime_dir / "index.mjs").read_text(), 0o644),
    }
    ric = runtime_dir / "node_modules" / "aws-lambda-ric"
    for path in [ric / "package.json", *sorted((ric / "dist").iterdir())]:
        rel = path.relative_to(runtime_dir)
        files[f"runtime/{rel}"] = (path.read_bytes(), 0o755 if path.suffix == ".node" else 0o644)
    sdk = sdk_packages(runtime_dir)
    for name in sdk:
        for path in sorted((runtime_dir / "node_modules" / name).rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[f"runtime/{path.relative_to(runtime_dir)}"] = (path.read_bytes(), 0o644)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    ric_version = (ric / "package.json").read_text()
    # the runtime directory's name carries the SDK set's digest (package.json and lock)
    parts = [NODE_DOCKERFILE, bootstrap, version.stdout, ric_version, runtime_dir.name]
    return files, hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def build_node_images(
    client: Any, base_digest: str, *, force: bool, say: Callable[[str], None]
) -> list[str]:
    """`lambda-emu/nodejs:NN` for each major of node on this machine (none without node)."""
    from emulator.sandbox.runtimes import RuntimeResolver

    if shutil.which("node") is None or shutil.which("npm") is None:
        return []
    nodejs = RuntimeResolver(Path.home() / ".cache" / "lambda-emu", say).nodejs
    built = []
    for major, exe in sorted(nodejs.nodes().items()):
        runtime_dir = nodejs.runtime_dir(major, exe)  # npm, once per machine
        files, node_digest = node_context(major, exe, runtime_dir)
        digest = f"{base_digest}-{node_digest}"
        tag = node_image(major)
        if not force and current(client, tag, digest):
            continue
        say(f"building {tag}")
        client.images.build(
            fileobj=_context(NODE_DOCKERFILE, files),
            custom_context=True,
            tag=tag,
            labels={IMAGE_LABEL: digest},
            pull=False,
            rm=True,
            forcerm=True,
        )
        built.append(tag)
    return built


def build_wheels(project: Path, target: Path, say: Callable[[str], None] = print) -> bool:
    """Wheels of the project's dependencies for the image's Python, for the repo Dockerfile
    (it installs from them with --no-index: the build itself reaches no index). Skipped when
    the dependency list is unchanged; True when it downloaded."""
    import tomllib

    deps = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    digest = hashlib.sha256("\n".join([*deps, *pip_platform_args()]).encode()).hexdigest()
    stamp = target / ".stamp"
    if stamp.exists() and stamp.read_text() == digest:
        return False
    say(f"pip: wheels of {len(deps)} dependencies into {target}")
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.whl"):
        old.unlink()
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    cmd += ["--dest", str(target), *pip_platform_args(), *deps]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"pip download failed:\n{proc.stderr[-2000:]}")
    (target / ".gitignore").write_text("*\n")
    stamp.write_text(digest)
    return True


def default_cache() -> Path:
    return Path(os.environ.get("LAMBDA_EMU_IMAGE_CACHE", "/var/cache/lambda-emu/images"))


def main() -> None:
    """python -m emulator.images.build [--wheels DIR]: the images (and the wheels)."""
    started = time.monotonic()
    say = lambda m: print(f"images: {m}", file=sys.stderr)  # noqa: E731
    args = sys.argv[1:]
    if args[:1] == ["--wheels"] and len(args) == 2:
        build_wheels(Path.cwd(), Path(args[1]), say)
    built = build(default_cache(), say=say)
    elapsed = time.monotonic() - started
    what = ", ".join(built) if built else "all images up to date"
    print(f"images: {what} ({elapsed:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
