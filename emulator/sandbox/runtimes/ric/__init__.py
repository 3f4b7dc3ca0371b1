"""A pure-Python stand-in for awslambdaric's C `runtime_client`, for hosts where pip installs
awslambdaric without it (every host but Linux: its setup.py builds the extension on Linux
only). The directory is put on the runtime's PYTHONPATH *after* the runtime directory, so the
C client wins wherever it was built; `--sandbox portable` puts it first, as on a Mac."""

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent

__all__ = ["DIRECTORY"]
