"""`lambda-emu images build`: the local runtime images, from local material only.

1. a Debian root filesystem: `debootstrap --variant=minbase --include=python3` of the host's
   own Debian release and mirror (read from apt's configuration), trimmed of apt's caches,
   documentation and locales;
2. Lambda's runtime directory: awslambdaric and boto3 wheels for CPython 3.11 (manylinux),
   installed by pip into `/var/runtime`, and the entrypoint of AWS's base images;
3. imported as `lambda-emu/base`, then the python and provided images as thin layers on it.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from emulator.images import BASE_IMAGE, IMAGE_LABEL, PROVIDED_IMAGE, PYTHON_IMAGE
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


def _context(dockerfile: str, files: dict[str, tuple[str, int]]) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, (text, mode) in {"Dockerfile": (dockerfile, 0o644), **files}.items():
            data = text.encode()
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
    if built:  # the images these replaced
        with contextlib.suppress(Exception):
            client.images.prune(filters={"dangling": True, "label": IMAGE_LABEL})
    client.close()
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
