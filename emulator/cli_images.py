"""lambda-emu images: local runtime images for the docker sandbox (issue 4)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
