"""lambda-emu load: Locust load runs (issue 5)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `lambda-emu` app."""
