"""`lambda-emu --help` stays instant: importing the CLI loads none of the heavy modules (ruff's
banned-module-level-imports keeps them out of the package's top levels)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_importing_the_cli_loads_no_heavy_module() -> None:
    banned = tomllib.loads(PYPROJECT.read_text())["tool"]["ruff"]["lint"]["flake8-tidy-imports"][
        "banned-module-level-imports"
    ]
    code = (
        "import sys, emulator.cli\n"
        f"banned = set({banned!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
