"""lambda-emu images: local runtime images for the docker sandbox (issue 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

images_app = typer.Typer(
    help="Local runtime images for the docker sandbox (built from Debian packages and "
    "PyPI wheels; nothing is pulled).",
    no_args_is_help=True,
)


@images_app.command("build")
def build(
    force: Annotated[bool, typer.Option(help="Rebuild even when up to date.")] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Root filesystem cache (default /var/cache/...).")
    ] = None,
) -> None:
    """Build lambda-emu/base, lambda-emu/python:3.11 and lambda-emu/provided:al2023."""
    import time

    from emulator.images.build import build as build_images
    from emulator.images.build import default_cache

    started = time.monotonic()
    try:
        built = build_images(cache or default_cache(), force=force, say=typer.echo)
    except Exception as exc:  # no engine, no root for debootstrap, pip failure
        typer.echo(f"lambda-emu images build: {exc}", err=True)
        raise typer.Exit(1) from exc
    what = ", ".join(built) if built else "all images up to date"
    typer.echo(f"{what} ({time.monotonic() - started:.1f} s)")


@images_app.command("list")
def list_images() -> None:
    """The local runtime images, whether they are current, and which runtimes use them."""
    from emulator.images import BASE_IMAGE, RUNTIME_IMAGES
    from emulator.images.build import current, docker_client, recipe_digest

    try:
        client = docker_client()
        client.ping()
    except Exception as exc:
        typer.echo("no Docker engine answers (scripts/setup-docker starts one)", err=True)
        raise typer.Exit(1) from exc
    digest = recipe_digest()
    try:
        for tag in [BASE_IMAGE, *dict.fromkeys(RUNTIME_IMAGES.values())]:
            runtimes = ", ".join(r for r, t in RUNTIME_IMAGES.items() if t == tag) or "-"
            try:
                size = f"{client.images.get(tag).attrs['Size'] / 1e6:.0f} MB"
                state = "current" if current(client, tag, digest) else "out of date"
            except Exception:
                size, state = "-", "missing"
            typer.echo(f"{tag:<28} {state:<12} {size:>7}  {runtimes}")
    finally:
        client.close()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
    app.add_typer(images_app, name="images")
