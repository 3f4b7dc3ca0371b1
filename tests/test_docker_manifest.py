"""Functions as zip or image, and which sandbox each one runs in.

Image functions (`package_type = "Image"`, SAM's `PackageType: Image`) run their own image,
whose entrypoint runs the runtime directly when AWS_LAMBDA_RUNTIME_API is set (the contract
of AWS's base images, which `lambda-emu images build` images follow); zip functions map their
runtime to a local runtime image. `auto` runs image functions in docker, the rest in
processes; `sandbox = "docker"` (per function or `--sandbox docker`) moves a zip function.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.client import InvokeClient
from emulator.config import EmulatorConfig, FunctionConfig
from emulator.embedded import EmulatorThread
from emulator.errors import SandboxError
from emulator.images import PROVIDED_IMAGE, PYTHON_IMAGE, image_for_runtime
from emulator.manifests import load_manifest
from emulator.sandbox import docker, registry

ENGINE = docker.engine_answers()
APP = "def handler(event, context):\n    return {'from': 'image', 'event': event}\n"


def _fn(tmp_path: Path, **kw: object) -> FunctionConfig:
    base = FunctionConfig(name="f", runtime="python3.11", handler="app.handler", code_dir=tmp_path)
    from dataclasses import replace

    return replace(base, **kw)  # type: ignore[arg-type]


def test_runtime_images() -> None:
    assert image_for_runtime("python3.11") == (PYTHON_IMAGE, True)
    assert image_for_runtime("python3.12") == (PYTHON_IMAGE, False)  # nearest, with a warning
    assert image_for_runtime("provided.al2023") == (PROVIDED_IMAGE, True)
    assert image_for_runtime("provided.al2") == (PROVIDED_IMAGE, True)
    # one image per local node major; the docker plan falls back to the nearest one
    assert image_for_runtime("nodejs20.x") == ("lambda-emu/nodejs:20", True)
    with pytest.raises(ValueError, match="java21"):
        image_for_runtime("java21")


def test_sandbox_choice(tmp_path: Path) -> None:
    zip_fn = _fn(tmp_path)
    image_fn = _fn(tmp_path, package_type="Image", image_uri="x:1", runtime="", handler="")
    assert registry.choose(zip_fn, "auto") == "process"
    assert registry.choose(image_fn, "auto") == "docker"
    assert registry.choose(zip_fn, "docker") == "docker"
    assert registry.choose(_fn(tmp_path, sandbox="docker"), "auto") == "docker"
    assert registry.choose(_fn(tmp_path, sandbox="process"), "docker") == "process"


def test_manifest_image_function_and_per_function_sandbox(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        '[functions.img]\npackage_type = "Image"\nimage_uri = "my-fn:1"\nmemory = 256\n\n'
        '[functions.zipped]\nruntime = "python3.11"\nhandler = "app.handler"\ncode = "code"\n'
        'sandbox = "docker"\n'
    )
    img, zipped = load_manifest(manifest)
    assert (img.package_type, img.image_uri, img.sandbox) == ("Image", "my-fn:1", None)
    assert (zipped.package_type, zipped.sandbox) == ("Zip", "docker")


def test_the_process_sandbox_refuses_image_functions(tmp_path: Path) -> None:
    from emulator.sandbox.runtimes import RuntimeResolver

    fn = _fn(tmp_path, package_type="Image", image_uri="x:1", runtime="", handler="")
    with pytest.raises(SandboxError, match="needs the docker sandbox"):
        RuntimeResolver(tmp_path, lambda _m: None).prepare(fn)


@pytest.fixture
def user_image() -> Iterator[str]:
    """An image built the way users build on AWS's base images (FROM, COPY, CMD)."""
    if not ENGINE:
        pytest.skip("no Docker engine answers (scripts/setup-docker starts one)")
    from emulator.images.build import docker_client

    client = docker_client()
    try:
        client.images.get(PYTHON_IMAGE)
    except Exception:
        client.close()
        pytest.skip("the local runtime images are missing (lambda-emu images build)")
    dockerfile = f'FROM {PYTHON_IMAGE}\nCOPY app.py /var/task/\nCMD ["app.handler"]\n'
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in (("Dockerfile", dockerfile), ("app.py", APP)):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    buf.seek(0)
    tag = "lambda-emu-test/image-fn:latest"
    client.images.build(fileobj=buf, custom_context=True, tag=tag, pull=False, rm=True)
    try:
        yield tag
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, check=False)
        client.close()


def test_image_function_runs_its_own_image(tmp_path: Path, user_image: str) -> None:
    manifest = tmp_path / "lambda-emu.toml"
    manifest.write_text(
        f'[functions.img]\npackage_type = "Image"\nimage_uri = "{user_image}"\nmemory = 256\n'
    )
    cfg = EmulatorConfig(
        functions=load_manifest(manifest),
        port=0,
        state_dir=tmp_path / "state",
        log_to_terminal=False,
    )  # sandbox "auto": the image function goes to docker
    emu = EmulatorThread(cfg).start()
    try:
        with InvokeClient(emu.url, timeout=60) as client:
            resp = client.invoke("img", {"k": 1})
        assert resp.status == 200
        assert resp.json() == {"from": "image", "event": {"k": 1}}
        assert "x-amz-function-error" not in resp.headers
    finally:
        emu.stop()
