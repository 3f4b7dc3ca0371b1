"""Manifest loaders: `lambda-emu.toml` (native) and SAM `template.yaml`.

    find_manifest(directory) ─► the manifest's path
    load_manifest(path):
        .toml       ─► native.read_native ─┐
        .yaml/.yml  ─► sam.read_sam ───────┴─► [RawFunction] ─► validate.build ─► FunctionConfigs

    load_http(path, functions):
        .toml       ─► http_native ───────────────┐
        .yaml/.yml  ─► http_sam (+ http_sam_auth) ┴─► http.assemble ─► HttpConfig

Each reader only turns its format into `RawFunction`s (values plus the field names the user
wrote); the one `validate.build` checks them, so every check and every one-line error
message (`ManifestError`: file, function, field) is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

from emulator.config import FunctionConfig
from emulator.errors import ManifestError
from emulator.frontdoor.model import HttpConfig
from emulator.manifests.http import assemble
from emulator.manifests.http_native import read_native_http
from emulator.manifests.http_sam import read_sam_http
from emulator.manifests.intrinsics import StackSettings, parse_parameter_overrides
from emulator.manifests.native import read_native
from emulator.manifests.sam import read_sam
from emulator.manifests.validate import (
    ENV_KEY_PATTERN,
    ENV_MAX_BYTES,
    FUNCTION_NAME_PATTERN,
    KNOWN_RUNTIMES,
    MAX_LAYERS,
    RESERVED_ENV_KEYS,
    RawFunction,
    build,
)

__all__ = [
    "ENV_KEY_PATTERN",
    "ENV_MAX_BYTES",
    "FUNCTION_NAME_PATTERN",
    "KNOWN_RUNTIMES",
    "MAX_LAYERS",
    "NATIVE_MANIFEST",
    "RESERVED_ENV_KEYS",
    "SAM_MANIFESTS",
    "StackSettings",
    "find_manifest",
    "load_http",
    "load_manifest",
    "parse_parameter_overrides",
]

NATIVE_MANIFEST = "lambda-emu.toml"
SAM_MANIFESTS = ("template.yaml", "template.yml")


def find_manifest(directory: Path) -> Path:
    """The manifest in `directory`: `lambda-emu.toml`, else `template.yaml` / `template.yml`."""
    for name in (NATIVE_MANIFEST, *SAM_MANIFESTS):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    raise ManifestError(directory, "no lambda-emu.toml or template.yaml here")


def load_manifest(path: Path, settings: StackSettings | None = None) -> tuple[FunctionConfig, ...]:
    """Every function `path` declares, in declaration order. `settings` are a SAM template's
    `--parameter-overrides`, region and account. Raises `ManifestError`."""
    suffix = path.suffix.lower()
    reader: Callable[[Path, str], list[RawFunction]]
    if suffix == ".toml":
        if settings is not None and settings.parameter_overrides:
            raise ManifestError(path, "--parameter-overrides needs a SAM template")
        reader = read_native
    elif suffix in (".yaml", ".yml"):
        reader = partial(read_sam, settings=settings)
    else:
        raise ManifestError(
            path, f"expected a .toml (lambda-emu) or .yaml/.yml (SAM) file, got '{path.name}'"
        )
    return build(path, reader(path, _read_text(path)))


def load_http(
    path: Path, functions: tuple[FunctionConfig, ...], settings: StackSettings | None = None
) -> HttpConfig:
    """The HTTP front door `path` declares: APIs, routes, authorizers, function URLs (SAM
    `Events`, `AWS::Serverless::HttpApi`/`Api`, `FunctionUrlConfig`; lambda-emu.toml `[apis.*]`
    and `[functions.*.url]`). `functions` are `load_manifest(path)`'s. Raises `ManifestError`."""
    suffix = path.suffix.lower()
    names = tuple(function.name for function in functions)
    if suffix == ".toml":
        return assemble(path, read_native_http(path, _read_text(path), names))
    if suffix in (".yaml", ".yml"):
        drafts = read_sam_http(path, _read_text(path), names, settings)
        return _on_published_aliases(assemble(path, drafts, none_needs_default=True), functions)
    raise ManifestError(
        path, f"expected a .toml (lambda-emu) or .yaml/.yml (SAM) file, got '{path.name}'"
    )


def _on_published_aliases(http: HttpConfig, functions: tuple[FunctionConfig, ...]) -> HttpConfig:
    """SAM points a function's API events and its URL at the alias AutoPublishAlias publishes
    (samtranslator/model/sam_resources.py: the events get the alias as their function, the
    URL's TargetFunctionArn is the alias's ARN); in a SAM template that alias is a function's
    only one."""
    alias = {fn.name: fn.aliases[0].name for fn in functions if fn.aliases}
    if not alias:
        return http
    return replace(
        http,
        routes=tuple(replace(r, qualifier=alias.get(r.function)) for r in http.routes),
        urls=tuple(replace(u, qualifier=alias.get(u.function)) for u in http.urls),
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError(path, "no such file") from None
    except IsADirectoryError:
        raise ManifestError(path, "is a directory, expected a manifest file") from None
    except OSError as exc:
        raise ManifestError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            path, f"must be UTF-8 text, got an invalid byte at offset {exc.start}"
        ) from None
