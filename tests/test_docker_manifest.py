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
from dataclasses import replace
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


# --- AWS's base images, and the local ones where they cannot be had ---------------------------
AWS_PYTHON = "public.ecr.aws/lambda/python:3.12"


def _image_of(emu: EmulatorThread, name: str) -> str:
    assert emu.emulator is not None
    env = next(e for e in emu.emulator.functions[name].envs if e.sandbox is not None)
    assert isinstance(env.sandbox, docker.DockerSandbox)
    return str(env.sandbox.container.attrs["Config"]["Image"])


def test_aws_base_image_names() -> None:
    from emulator.images import aws_base_image

    assert aws_base_image("python3.12", "x86_64") == AWS_PYTHON
    assert aws_base_image("python3.12", "aarch64") == AWS_PYTHON + "-arm64"
    assert aws_base_image("nodejs20.x", "x86_64") == "public.ecr.aws/lambda/nodejs:20"
    assert aws_base_image("provided.al2023", "x86_64") == "public.ecr.aws/lambda/provided:al2023"
    assert aws_base_image("provided", "x86_64") is None


@pytest.mark.skipif(not ENGINE, reason="no Docker engine answers")
def test_without_aws_images_the_local_ones_are_used_and_said_once(tmp_path: Path) -> None:
    """Nothing can be pulled here: a python3.12 function runs on the local python image, and
    the emulator says so once at start (not per function)."""
    if _has_image(AWS_PYTHON):
        pytest.skip(f"{AWS_PYTHON} is on this machine")
    (tmp_path / "app.py").write_text(APP)
    fns = tuple(_fn(tmp_path, name=n, runtime="python3.12") for n in ("f1", "f2"))
    factory = docker.DockerSandboxFactory(warn=(said := []).append)
    try:
        for fn in fns:
            factory.prepare(fn)
        assert factory.plans["f1"].image == PYTHON_IMAGE
    finally:
        factory.close()
    fallback = [m for m in said if "cannot be pulled" in m]
    assert len(fallback) == 1 and "local images" in fallback[0], said
    strict = docker.DockerSandboxFactory(base_images="aws")
    try:
        with pytest.raises(SandboxError, match="cannot be pulled"):
            strict.prepare(fns[0])
    finally:
        strict.close()


def _has_image(name: str) -> bool:
    return (
        subprocess.run(
            ["docker", "image", "inspect", name], capture_output=True, check=False
        ).returncode
        == 0
    )


@pytest.fixture
def aws_python_tag() -> Iterator[str]:
    """The local python image tagged as AWS's python:3.12 (it honours the same entrypoint
    contract: `/lambda-entrypoint.sh HANDLER` runs the runtime when AWS_LAMBDA_RUNTIME_API is
    set), as if it had been pulled; the tag is removed afterwards."""
    if _has_image(AWS_PYTHON):
        pytest.skip(f"{AWS_PYTHON} is really here: not ours to retag")
    subprocess.run(["docker", "tag", PYTHON_IMAGE, AWS_PYTHON], check=True)
    try:
        yield AWS_PYTHON
    finally:
        subprocess.run(["docker", "image", "rm", AWS_PYTHON], capture_output=True, check=True)


@pytest.mark.skipif(not ENGINE, reason="no Docker engine answers")
def test_zip_functions_run_on_the_aws_base_image_when_it_is_here(
    tmp_path: Path, aws_python_tag: str
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(
        "import os\ndef handler(event, context):\n"
        "    return {'task': os.getcwd(), 'files': os.listdir('/var/task')}\n"
    )
    fn = _fn(code, name="aws312", runtime="python3.12")
    cfg = EmulatorConfig(
        functions=(fn,), port=0, sandbox="docker", state_dir=tmp_path / "s", log_to_terminal=False
    )
    emu = EmulatorThread(cfg).start()
    try:
        with InvokeClient(emu.url, timeout=60) as client:
            result = client.invoke("aws312", {})
        assert result.status == 200 and result.function_error is None, result.payload
        assert result.json() == {"task": "/var/task", "files": ["app.py"]}
        assert _image_of(emu, "aws312") == aws_python_tag
    finally:
        emu.stop()


@pytest.mark.skipif(not ENGINE, reason="no Docker engine answers")
def test_a_function_can_name_its_own_image(tmp_path: Path) -> None:
    """`image` (manifest) names the image a zip function runs on; its code still goes to
    /var/task. Per runtime: --runtime-image RUNTIME=IMAGE."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(APP)
    (tmp_path / "lambda-emu.toml").write_text(
        '[functions.mine]\nruntime = "python3.12"\nhandler = "app.handler"\ncode = "code"\n'
        f'image = "{PYTHON_IMAGE}"\n'
    )
    (fn,) = load_manifest(tmp_path / "lambda-emu.toml")
    assert fn.image == PYTHON_IMAGE
    factory = docker.DockerSandboxFactory(warn=(said := []).append)
    try:
        factory.prepare(fn)
        assert factory.plans["mine"].image == PYTHON_IMAGE and not said  # nothing pulled
    finally:
        factory.close()
    factory = docker.DockerSandboxFactory(runtime_images={"python3.12": PYTHON_IMAGE})
    try:
        factory.prepare(replace(fn, image=None))
        assert factory.plans["mine"].image == PYTHON_IMAGE
    finally:
        factory.close()
