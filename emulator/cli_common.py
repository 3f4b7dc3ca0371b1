"""What every `lambda-emu` command shares: the `--manifest` option, one-line failures, and
finding a function in a manifest. Kept apart from emulator/cli.py so that the per-capability
command modules (cli_load, cli_tune, …) can use it without importing the app that imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from emulator.config import FunctionConfig
    from emulator.frontdoor.model import HttpConfig
    from emulator.overrides import FunctionOverrides

ManifestOpt = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option(
        "--manifest",
        "-m",
        help="lambda-emu.toml or template.yaml (default: ./lambda-emu.toml, else ./template.yaml)",
    ),
]


def fail(message: str) -> typer.Exit:
    """Print one line and return the exit to raise (status 2, as for bad usage)."""
    typer.echo(f"lambda-emu: {message}", err=True)
    return typer.Exit(2)


def warn(message: str) -> None:
    typer.echo(f"lambda-emu: {message}", err=True)


def manifest_path(manifest: Path | None) -> Path:
    """The manifest given, else the one found in the current directory (absolute)."""
    from emulator.errors import ManifestError
    from emulator.manifests import find_manifest

    try:
        return (manifest if manifest is not None else find_manifest(Path.cwd())).resolve()
    except ManifestError as exc:
        raise fail(str(exc)) from None


ParameterOverridesOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option(
        "--parameter-overrides",
        help="SAM template parameters, as SAM CLI takes them: 'Key=Value Key2=Value2' or "
        "'ParameterKey=Key,ParameterValue=Value ...'.",
    ),
]


def parameter_overrides(text: str | None) -> dict[str, str]:
    """`--parameter-overrides`, read as SAM CLI reads it, or a one-line failure."""
    if not text:
        return {}
    from emulator.manifests import parse_parameter_overrides

    try:
        return parse_parameter_overrides(text)
    except ValueError as exc:
        raise fail(f"--parameter-overrides: {exc}") from None


def load_functions(
    manifest: Path | None, overrides: dict[str, str] | None = None
) -> tuple[FunctionConfig, ...]:
    from emulator.errors import ManifestError
    from emulator.manifests import StackSettings, load_manifest

    try:
        settings = StackSettings(overrides) if overrides else None
        return load_manifest(manifest_path(manifest), settings)
    except ManifestError as exc:
        raise fail(str(exc)) from None


def load_http_config(
    manifest: Path, functions: tuple[FunctionConfig, ...], overrides: dict[str, str] | None = None
) -> HttpConfig:
    """The manifest's API Gateway routes and function URLs (a one-line failure if broken)."""
    from emulator.errors import ManifestError
    from emulator.manifests import StackSettings, load_http

    try:
        return load_http(manifest, functions, StackSettings(overrides) if overrides else None)
    except ManifestError as exc:
        raise fail(str(exc)) from None


def function(functions: tuple[FunctionConfig, ...], name: str) -> FunctionConfig:
    """The function named `name`, or a one-line failure listing the ones there are."""
    for fn in functions:
        if fn.name == name:
            return fn
    raise fail(f"no function named '{name}' (have: {', '.join(f.name for f in functions)})")


EnvVarsOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--env-vars",
        help='SAM CLI\'s JSON: {"Parameters": {...}, "Function": {...}}; overrides only '
        "variables the manifest declares.",
    ),
]
EnvFileOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--env-file", help="A .env file (KEY=VALUE lines) for every function."),
]


def read_overrides(
    env_file: Path | None, env_vars: Path | None, debug: str | None = None
) -> FunctionOverrides | None:
    """The dev loop's flags, read once (emulator/overrides.py); a bad file is one line."""
    if env_file is None and env_vars is None and debug is None:
        return None
    from emulator.errors import ManifestError
    from emulator.overrides import DebugTarget, EnvOverrides, FunctionOverrides

    try:
        env = EnvOverrides.read(env_file, env_vars) if env_file or env_vars else None
        target = DebugTarget.parse(debug) if debug is not None else None
    except (ManifestError, ValueError) as exc:
        raise fail(str(exc)) from None
    return FunctionOverrides(env=env, debug=target)


def overridden(
    functions: tuple[FunctionConfig, ...], overrides: FunctionOverrides | None
) -> tuple[FunctionConfig, ...]:
    """The manifest's functions with the overrides applied; what they may not expect is
    said in one line each (names only, never values)."""
    if overrides is None:
        return functions
    if overrides.debug is not None:
        try:
            overrides.debug.check(functions)
        except ValueError as exc:
            raise fail(str(exc)) from None
    for note in overrides.notes(functions):
        warn(note)
    return overrides.apply(functions)
