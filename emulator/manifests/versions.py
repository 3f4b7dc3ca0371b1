"""Versions and aliases of one function, as both manifest formats declare them.

    lambda-emu.toml                          SAM template.yaml
    publish = 2           versions 1..2      AutoPublishAlias: live    version 1, alias live
    [functions.F.versions.2]                 ProvisionedConcurrencyConfig → the alias's
    provisioned_concurrency = 1
    [functions.F.aliases.live]
    version = "1"
    routing = { "2" = 0.1 }
    provisioned_concurrency = 1

The checks are Lambda's: alias names are `(?!^[0-9]+$)([a-zA-Z0-9-_]+)` up to 128 characters,
weights lie in [0.0, 1.0], an alias routes to at most one additional version (botocore
lambda/2015-03-31 `Alias`, `Weight`, `AdditionalVersionWeights`; docs
configuration-aliases.html); an alias with weights takes no provisioned concurrency (Lambda's
InvalidParameterValueException "Alias with weights can not be used with Provisioned
Concurrency", ⚠ as users quote it: not in a recorded snapshot), nor does an alias of `$LATEST`
("Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
LocalStack's AWS-recorded TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions
for the `$LATEST` qualifier; ⚠ the alias case is not recorded).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from emulator.config import LATEST_VERSION, AliasConfig, VersionConfig
from emulator.errors import ManifestError
from emulator.manifests.validate import RawValue, show, unknown_key

ALIAS_NAME_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_ALIAS_NAME = re.compile(r"(?![0-9]+$)[a-zA-Z0-9\-_]{1,128}")
_VERSION_KEYS = ("provisioned_concurrency",)
_ALIAS_KEYS = ("version", "routing", "provisioned_concurrency", "description")
# ⚠ Lambda's limit on published versions is storage, not a count; this bounds the pools.
MAX_PUBLISHED = 100

Fail = Callable[[str, str], ManifestError]  # (field, message)


def build_versions(
    fail: Fail,
    publish: RawValue | None,
    versions: RawValue | None,
    aliases: RawValue | None,
) -> tuple[tuple[VersionConfig, ...], tuple[AliasConfig, ...]]:
    """The published versions (1..publish) and the aliases, checked."""
    count = 0
    if publish is not None:
        value = publish.value
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PUBLISHED:
            raise fail(
                publish.field, f"must be an integer from 0 to {MAX_PUBLISHED}, got {show(value)}"
            )
        count = value
    numbers = [str(n) for n in range(1, count + 1)]

    provisioned: dict[str, int] = {}
    if versions is not None:
        tables = _table(fail, versions.field, versions.value)
        for key, table in tables.items():
            where = f"{versions.field}.{key}"
            if key not in numbers:
                raise fail(
                    where,
                    f"must be a published version (1 to {count}, see publish), got {show(key)}",
                )
            settings = _table(fail, where, table)
            _known(fail, where, settings, _VERSION_KEYS)
            provisioned[key] = _count(fail, f"{where}.provisioned_concurrency", settings)

    declared: list[AliasConfig] = []
    if aliases is not None:
        for name, table in _table(fail, aliases.field, aliases.value).items():
            where = f"{aliases.field}.{name}"
            if not _ALIAS_NAME.fullmatch(name):
                raise fail(
                    where,
                    f"alias names must match {ALIAS_NAME_PATTERN} (up to 128 characters, not "
                    f"only digits), got {show(name)}",
                )
            settings = _table(fail, where, table)
            _known(fail, where, settings, _ALIAS_KEYS)
            target = _version(fail, f"{where}.version", settings.get("version"), numbers, True)
            routing: dict[str, float] = {}
            raw_routing = settings.get("routing", {})
            for version, weight in _table(fail, f"{where}.routing", raw_routing).items():
                at = f"{where}.routing.{version}"
                _version(fail, at, version, numbers, False)
                if version == target:
                    raise fail(at, f"must differ from the alias's version, got {show(version)}")
                if (
                    isinstance(weight, bool)
                    or not isinstance(weight, int | float)
                    or not 0.0 <= weight <= 1.0
                ):
                    raise fail(at, f"must be a weight from 0.0 to 1.0, got {show(weight)}")
                routing[version] = float(weight)
            if len(routing) > 1:
                raise fail(
                    f"{where}.routing",
                    f"must route to at most one additional version, got {len(routing)}",
                )
            if routing and target == LATEST_VERSION:
                raise fail(
                    f"{where}.routing",
                    "needs the alias to point to a published version, got $LATEST",
                )
            alias_provisioned = _count(fail, f"{where}.provisioned_concurrency", settings)
            if alias_provisioned and routing:
                raise fail(
                    f"{where}.provisioned_concurrency",
                    "Alias with weights can not be used with Provisioned Concurrency",
                )
            if alias_provisioned and target == LATEST_VERSION:
                raise fail(
                    f"{where}.provisioned_concurrency",
                    "Provisioned Concurrency Configs cannot be applied to unpublished function "
                    "versions.",
                )
            declared.append(
                AliasConfig(
                    name=name,
                    version=target,
                    routing=MappingProxyType(routing),
                    provisioned_concurrency=alias_provisioned,
                )
            )
    published = tuple(VersionConfig(n, provisioned.get(n, 0)) for n in numbers)
    return published, tuple(declared)


def _table(fail: Fail, field: str, value: object) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise fail(field, f"must be a table, got {show(value)}")
    return {str(key): item for key, item in value.items()}


def _known(fail: Fail, field: str, table: Mapping[str, object], keys: tuple[str, ...]) -> None:
    for key in table:
        if key not in keys:
            raise fail(f"{field}.{key}", unknown_key(key, keys))


def _count(fail: Fail, field: str, table: Mapping[str, object]) -> int:
    value = table.get("provisioned_concurrency", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(field, f"must be an integer >= 0, got {show(value)}")
    return value


def _version(fail: Fail, field: str, value: object, numbers: list[str], latest_ok: bool) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and (text in numbers or (latest_ok and text == LATEST_VERSION)):
        return text
    allowed = f"1 to {len(numbers)}" if numbers else "none: set publish"
    latest = " or '$LATEST'" if latest_ok else ""
    raise fail(field, f"must be a published version ({allowed}){latest}, got {show(value)}")
