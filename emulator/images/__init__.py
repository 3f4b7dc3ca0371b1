"""Local runtime images for the docker sandbox, built from local material only.

Nothing is pulled: a Debian root filesystem made by `debootstrap` (minbase, with python3,
which is Python 3.11 on bookworm) plus Lambda's runtime directory (awslambdaric and boto3
wheels installed by pip into `/var/runtime`) is imported as `lambda-emu/base`; the runtime
images are thin layers on it that set the environment and entrypoint AWS's base images use:

- `lambda-emu/python:3.11`: `/lambda-entrypoint.sh HANDLER` runs `/var/runtime/bootstrap`
  (awslambdaric) when `AWS_LAMBDA_RUNTIME_API` is set, as `public.ecr.aws/lambda/python` does;
- `lambda-emu/provided:al2023`: the same entrypoint runs the function's own
  `/var/task/bootstrap` (custom runtimes), as `public.ecr.aws/lambda/provided` does;
- `lambda-emu/nodejs:NN`, one per major of `node` on this machine: that `node` in
  `/var/lang/bin` and AWS's aws-lambda-ric (the runtime cache's build, unmodified) in
  `/var/runtime`, started by a `/var/runtime/bootstrap` that does what Lambda's Node
  bootstrap does (emulator/images/build.py).

`RUNTIME_IMAGES` maps Lambda runtime names to these tags; a runtime with no local image of
its own version uses the nearest one (with a warning, as the process sandbox does).

Where AWS's own base images are on the machine or can be pulled, zip functions run on those
instead (`aws_base_image`: `public.ecr.aws/lambda/python:3.12`, `.../nodejs:20`,
`.../provided:al2023`, the `-arm64` tags on arm64 hosts), as SAM does: Amazon Linux and
Lambda's real `/var/runtime`. The local images are the fallback (emulator/sandbox/docker/plan.py).
"""

from __future__ import annotations

BASE_IMAGE = "lambda-emu/base:bookworm"
PYTHON_IMAGE = "lambda-emu/python:3.11"
PROVIDED_IMAGE = "lambda-emu/provided:al2023"
NODE_IMAGE_REPO = "lambda-emu/nodejs"  # tagged with the node major inside
# Every image this module builds carries this label (with the build recipe's digest).
IMAGE_LABEL = "dev.lambda-emu.image"

RUNTIME_IMAGES = {
    "python3.11": PYTHON_IMAGE,
    "provided.al2023": PROVIDED_IMAGE,
    "provided.al2": PROVIDED_IMAGE,
    "provided": PROVIDED_IMAGE,
}


AWS_IMAGE_REPO = "public.ecr.aws/lambda"


def aws_base_image(runtime: str, machine: str | None = None) -> str | None:
    """AWS's base image of a zip function's runtime (ecr-public gallery, repository
    `lambda/<family>`), the arm64 tag on an arm64 host; None for a runtime without one."""
    import platform

    arm = (machine or platform.machine()).lower() in ("aarch64", "arm64")
    if runtime.startswith("python3."):
        tag = runtime.removeprefix("python")
        family = "python"
    elif runtime.startswith("nodejs") and runtime.endswith(".x"):
        tag = runtime.removeprefix("nodejs").removesuffix(".x")
        family = "nodejs"
    elif runtime in ("provided.al2023", "provided.al2"):
        tag = runtime.removeprefix("provided.")
        family = "provided"
    else:
        return None
    return f"{AWS_IMAGE_REPO}/{family}:{tag}{'-arm64' if arm else ''}"


def node_image(major: int) -> str:
    return f"{NODE_IMAGE_REPO}:{major}"


def image_for_runtime(runtime: str) -> tuple[str, bool]:
    """(local image, exact) for a zip function's runtime; `exact` is False when a nearby
    runtime's image stands in (another python3.x runs on the python3.11 image)."""
    if runtime in RUNTIME_IMAGES:
        return RUNTIME_IMAGES[runtime], True
    if runtime.startswith("python3"):
        return PYTHON_IMAGE, False
    if runtime.startswith("provided"):
        return PROVIDED_IMAGE, False
    if runtime.startswith("nodejs"):  # the docker plan falls back to the nearest local major
        return node_image(int(runtime.removeprefix("nodejs").removesuffix(".x"))), True
    raise ValueError(f"no local image for runtime {runtime}")
