"""What the control plane knows about a function, and where it keeps it.

A `FunctionRecord` holds a function as the Lambda API describes it: `$LATEST`'s configuration
(AWS's field names), its published versions (each a snapshot with its own code), its aliases,
concurrency settings, event invoke configs, URL configs, tags and policy. Records of
functions created through the API are saved in the state directory, one JSON file each, so
they outlive `serve` as functions outlive a session on AWS:

    <state_dir>/functions/<name>/function.json
    <state_dir>/functions/<name>/code/<sha256 hex>/       the unpacked deployment package
    <state_dir>/functions/<name>/code/<sha256 hex>.zip    the package as uploaded

Code is content-addressed: a published version keeps the directory of the code it was
published with, so versions are immutable here too. Lifecycle states (`State`,
`LastUpdateStatus`) are not saved: a function restored at start-up is Pending until its
pool has started, as a function is on AWS while it is being created.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator import errors

# Lambda's deployment package limits (docs: gettingstarted-limits.html; LocalStack's
# AWS-recorded TestLambdaSizeLimits, 2025-11)
ZIPPED_MAX_BYTES = 52_428_800
UNZIPPED_MAX_BYTES = 262_144_000
CREATE_REQUEST_MAX_BYTES = 70_167_211
# Total code storage of an account (GetAccountSettings AccountLimit.TotalCodeSize: 75 GB)
TOTAL_CODE_MAX_BYTES = 80_530_636_800


def now_iso() -> str:
    """Lambda's LastModified: `2026-12-02T01:02:03.456+0000` (milliseconds, +0000)."""
    stamp = datetime.now(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}+0000"


def revision() -> str:
    return str(uuid.uuid4())


@dataclass
class Snapshot:
    """One version's configuration: `$LATEST`'s (mutable) or a published one's."""

    version: str  # "$LATEST", "1", …
    config: dict[str, Any]  # Runtime, Handler, Role, MemorySize, … as the API names them
    code_sha256: str  # base64 of the package's SHA-256, as CodeSha256
    code_size: int
    code_dir: str  # the unpacked package ("" for PackageType Image)
    last_modified: str = field(default_factory=now_iso)
    revision_id: str = field(default_factory=revision)


@dataclass
class FunctionRecord:
    name: str
    latest: Snapshot
    origin: str = "api"  # "api" (saved) or "manifest" (a manifest function updated by the API)
    versions: list[Snapshot] = field(default_factory=list)
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)  # Name -> AliasConfiguration
    reserved: int | None = None
    provisioned: dict[str, dict[str, Any]] = field(default_factory=dict)  # qualifier -> config
    event_invoke: dict[str, dict[str, Any]] = field(default_factory=dict)  # qualifier -> config
    urls: dict[str, dict[str, Any]] = field(default_factory=dict)  # qualifier ("" none) -> config
    tags: dict[str, str] = field(default_factory=dict)
    policy: list[dict[str, Any]] = field(default_factory=list)
    policy_revision: str = field(default_factory=revision)
    # not saved: the lifecycle (waiters read these)
    state: str = "Pending"
    state_reason: str | None = "The function is being created."
    state_reason_code: str | None = "Creating"
    last_update: str | None = None  # None until the first state change after creation
    last_update_reason: str | None = None
    last_update_reason_code: str | None = None

    def snapshot(self, version: str) -> Snapshot | None:
        if version == "$LATEST":
            return self.latest
        for snap in self.versions:
            if snap.version == version:
                return snap
        return None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("state", "state_reason", "state_reason_code", "last_update"):
            data.pop(key)
        data.pop("last_update_reason")
        data.pop("last_update_reason_code")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FunctionRecord:
        data = dict(data)
        data["latest"] = Snapshot(**data["latest"])
        data["versions"] = [Snapshot(**v) for v in data.get("versions", [])]
        return cls(**data)


class FunctionStore:
    """The records of API-created functions under `<state_dir>/functions/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def wipe(self) -> None:
        """`serve --fresh`: start with no API-created function."""
        shutil.rmtree(self.root, ignore_errors=True)

    def load(self) -> list[FunctionRecord]:
        records = []
        for path in sorted(self.root.glob("*/function.json")):
            try:
                records.append(FunctionRecord.from_json(json.loads(path.read_text())))
            except (OSError, ValueError, TypeError, KeyError):
                continue  # a half-written or foreign file: not a function
        return records

    def save(self, record: FunctionRecord) -> None:
        directory = self.root / record.name
        directory.mkdir(parents=True, exist_ok=True)
        partial = directory / f"function.json.{os.getpid()}.partial"
        partial.write_text(json.dumps(record.to_json(), indent=1, sort_keys=True))
        partial.replace(directory / "function.json")

    def delete(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)

    def code_bytes(self) -> int:
        """Every stored package's size (AccountUsage.TotalCodeSize)."""
        return sum(p.stat().st_size for p in self.root.glob("*/code/*.zip"))

    def unpack(self, name: str, package: bytes) -> tuple[str, int, str]:
        """(CodeSha256, CodeSize, directory) of a zip deployment package, unpacked once."""
        digest = hashlib.sha256(package)
        code_dir = self.root / name / "code" / digest.hexdigest()
        sha = base64.b64encode(digest.digest()).decode()
        if code_dir.is_dir():
            return sha, len(package), str(code_dir)
        try:
            archive = zipfile.ZipFile(io.BytesIO(package))
            infos = archive.infolist()
        except (zipfile.BadZipFile, ValueError) as exc:
            # LocalStack's AWS-recorded TestLambdaFunction::test_create_lambda_exceptions
            raise errors.InvalidParameterValue(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from exc
        if sum(info.file_size for info in infos) > UNZIPPED_MAX_BYTES:
            # AWS-recorded TestLambdaSizeLimits::test_oversized_unzipped_lambda (2025-11)
            raise errors.InvalidParameterValue(
                f"Unzipped size must be smaller than {UNZIPPED_MAX_BYTES} bytes"
            )
        partial = code_dir.with_name(f"{code_dir.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            for info in infos:
                out = (partial / info.filename).resolve()
                if not out.is_relative_to(partial.resolve()):
                    raise errors.InvalidParameterValue(
                        "Could not unzip uploaded file. Please check your file, then try to "
                        "upload again."
                    )
                archive.extract(info, partial)
                mode = (info.external_attr >> 16) & 0o777
                if mode:
                    out.chmod(mode)  # bootstrap and scripts stay executable
            (code_dir.parent / f"{code_dir.name}.zip").write_bytes(package)
            partial.replace(code_dir)
        except (zipfile.BadZipFile, OSError) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise errors.InvalidParameterValue(
                "Could not unzip uploaded file. Please check your file, then try to upload again."
            ) from exc
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return sha, len(package), str(code_dir)


def directory_digest(directory: Path) -> tuple[str, int]:
    """(CodeSha256, CodeSize) of a manifest function's code directory: ⚠ Lambda hashes the
    zip it was given; a directory has none, so this hashes its files' paths and contents."""
    digest = hashlib.sha256()
    size = 0
    if directory.is_dir():
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                digest.update(str(path.relative_to(directory)).encode() + b"\0" + data)
                size += len(data)
    return base64.b64encode(digest.digest()).decode(), size
