"""The `lambda-emu.toml` reader: `[defaults]` and `[functions.<name>]` tables (`[apis.*]` and
`[functions.<name>.url]` are read by `http_native`; `publish`, `[functions.<name>.versions.N]`
and `[functions.<name>.aliases.<alias>]` are checked by `versions`).

A function's key, else the same key in `[defaults]`; `environment` tables merge, the
function's variables over the defaults'. Keys are spelled as `validate.KEYS`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from emulator.errors import ManifestError
from emulator.manifests.validate import KEYS, RawFunction, RawValue, show, unknown_key

_NATIVE_LABELS: dict[str, str] = {"name": "name", **{key: key for key in KEYS}}
# `[apis.*]` and a function's `url` table are the front door's (emulator.manifests.http_native)
_TOP_KEYS = ("defaults", "functions", "apis")
# Versions and aliases are per function, never in [defaults] (emulator.manifests.versions)
_VERSION_KEYS = ("publish", "versions", "aliases")
_FUNCTION_KEYS = (*KEYS, *_VERSION_KEYS, "url")


def read_native(path: Path, text: str) -> list[RawFunction]:
    """Every function `text` (the contents of `path`) declares, before validation."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, f"invalid TOML: {exc}") from None
    for key in doc:
        if key not in _TOP_KEYS:
            raise ManifestError(path, unknown_key(key, _TOP_KEYS), field=key)
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ManifestError(path, f"must be a table, got {show(defaults)}", field="defaults")
    for key in defaults:
        if key not in KEYS:
            raise ManifestError(path, unknown_key(key, KEYS), field=f"defaults.{key}")
    functions = doc.get("functions", {})
    if not isinstance(functions, dict):
        raise ManifestError(
            path,
            f"must be a table of [functions.<name>] tables, got {show(functions)}",
            field="functions",
        )
    if not functions:
        raise ManifestError(
            path, "must declare at least one [functions.<name>] table, got none", field="functions"
        )

    raws: list[RawFunction] = []
    for name, table in functions.items():
        if not isinstance(table, dict):
            raise ManifestError(
                path, f"must be a table, got {show(table)}", function=name, field=name
            )
        for key in table:
            if key not in _FUNCTION_KEYS:
                raise ManifestError(
                    path, unknown_key(key, _FUNCTION_KEYS), function=name, field=key
                )
        values: dict[str, RawValue] = {}
        for key in KEYS:
            if key in table:
                values[key] = RawValue(table[key], key)
            elif key in defaults:
                values[key] = RawValue(defaults[key], f"defaults.{key}")
        env: dict[str, RawValue] = {}
        env_field = "environment"
        for source, field_name in ((defaults, "defaults.environment"), (table, "environment")):
            variables = source.get("environment")
            if variables is None:
                continue
            if not isinstance(variables, dict):
                raise ManifestError(
                    path,
                    f"must be a table of variables, got {show(variables)}",
                    function=name,
                    field=field_name,
                )
            env.update({str(k): RawValue(v, field_name) for k, v in variables.items()})
            env_field = field_name
        values.pop("environment", None)
        for key in _VERSION_KEYS:
            if key in table:
                values[key] = RawValue(table[key], key)
        raws.append(
            RawFunction(
                name=name,
                name_field="name",
                origin=f"[functions.{name}]",
                labels=_NATIVE_LABELS,
                values=values,
                env=env,
                env_field=env_field,
            )
        )
    return raws
