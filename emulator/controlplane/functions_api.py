"""The Lambda API's function operations (2015-03-31): functions, code, configuration and
versions (aliases: aliases_api.py). Rows in emulator/api/routes.py; shapes in `shapes.py`;
state in `plane.py`.

    POST   /2015-03-31/functions                                   CreateFunction        201
    GET    /2015-03-31/functions                                   ListFunctions
    GET    /2015-03-31/functions/{FunctionName}                    GetFunction
    DELETE /2015-03-31/functions/{FunctionName}                    DeleteFunction        204
    GET    /2015-03-31/functions/{FunctionName}/configuration      GetFunctionConfiguration
    PUT    /2015-03-31/functions/{FunctionName}/configuration      UpdateFunctionConfiguration
    PUT    /2015-03-31/functions/{FunctionName}/code               UpdateFunctionCode
    POST   /2015-03-31/functions/{FunctionName}/versions           PublishVersion        201
    GET    /2015-03-31/functions/{FunctionName}/versions           ListVersionsByFunction
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane import shapes, validation
from emulator.controlplane.plane import LATEST, ControlPlane
from emulator.controlplane.store import (
    CREATE_REQUEST_MAX_BYTES,
    ZIPPED_MAX_BYTES,
    FunctionRecord,
    Snapshot,
    now_iso,
    revision,
)
from emulator.httpserver import Request, Response

# Configuration fields a request may set, kept as sent (AWS's names)
CONFIG_KEYS = (
    "Runtime", "Handler", "Role", "Description", "Timeout", "MemorySize", "Environment",
    "Architectures", "EphemeralStorage", "LoggingConfig", "TracingConfig", "Layers",
    "PackageType", "DeadLetterConfig", "VpcConfig", "KMSKeyArn", "ImageConfig", "SnapStart",
    "FileSystemConfigs",
)  # fmt: skip
MAX_LIST_ITEMS = 50  # "a maximum of 50 items in each response" (ListFunctions, API reference)


def body_of(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise errors.InvalidRequestContent("Could not parse request body into json") from exc
    if not isinstance(data, dict):
        raise errors.InvalidRequestContent("Could not parse request body into json")
    return data


def query_of(request: Request) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(request.query or "").items()}


def created(data: object) -> Response:
    return json_response(data, 201)


def no_content() -> Response:
    return Response(204)


class FunctionsApi:
    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.arns = plane.arns

    # --- names ----------------------------------------------------------------------------
    def target(self, request: Request) -> tuple[str, str | None]:
        """(name, qualifier) of the path's FunctionName and the `Qualifier` parameter."""
        raw = unquote(request.params["FunctionName"])
        return self.arns.parse(raw, query_of(request).get("Qualifier"))

    def version_snapshot(self, record: FunctionRecord, qualifier: str | None) -> Snapshot:
        """The snapshot a qualifier names: `$LATEST`, a version, or an alias's version."""
        version = qualifier or LATEST
        if version in record.aliases:
            version = record.aliases[version]["FunctionVersion"]
        snap = record.snapshot(version)
        if snap is None:
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(record.name, qualifier)}"
            )
        return snap

    # --- CreateFunction -------------------------------------------------------------------
    async def create_function(self, request: Request) -> Response:
        if request.truncated or request.body_size > CREATE_REQUEST_MAX_BYTES:
            # AWS-recorded TestLambdaSizeLimits::test_oversized_request_create_lambda (2025-11)
            raise errors.RequestTooLarge(
                f"Request must be smaller than {CREATE_REQUEST_MAX_BYTES} bytes for the "
                "CreateFunction operation"
            )
        body = body_of(request)
        name = self._new_name(body.get("FunctionName"))
        if self.plane.record(name) is not None:
            # gh:hashicorp/terraform#15929 (2017-08); LocalStack provider.py's same text
            raise errors.ResourceConflict(f"Function already exist: {name}")
        cfg = {key: copy.deepcopy(body[key]) for key in CONFIG_KEYS if key in body}
        cfg.setdefault("PackageType", "Zip")
        validation.check_configuration(cfg, creating=True)
        validation.check_package(cfg)
        code = body.get("Code") or {}
        if not isinstance(code, dict):
            raise errors.InvalidParameterValue("Code must be a structure")  # ⚠
        sha, size, code_dir = await self._code(name, cfg, code)
        if self.plane.record(name) is not None:  # created while this package was unpacked
            raise errors.ResourceConflict(f"Function already exist: {name}")
        if cfg["PackageType"] == "Image":
            cfg["ImageUri"] = code.get("ImageUri")
        # the manifests' validation too: the same FunctionConfig a manifest would declare
        self.plane.function_config(
            FunctionRecord(name, Snapshot(LATEST, cfg, sha, size, code_dir)), LATEST
        )
        record = FunctionRecord(name=name, latest=Snapshot(LATEST, cfg, sha, size, code_dir))
        tags = body.get("Tags") or {}
        if isinstance(tags, dict):
            record.tags = {str(k): str(v) for k, v in tags.items()}
        if body.get("Publish"):
            record.versions.append(
                replace(record.latest, version="1", revision_id=revision(), last_modified=now_iso())
            )
        self.plane.create(record)
        if record.versions:
            self.plane.run(name, self._publish_when_active(record, "1"))
        out = shapes.configuration(record, record.latest, self.arns)
        if record.versions:
            out["Version"] = "1"  # F1: Publish=True answers Version 1, the ARN unqualified
        return created(out)

    def _new_name(self, raw: object) -> str:
        if not isinstance(raw, str) or not raw:
            raise validation.violation("", "functionName", "Member must not be null")
        if len(raw) > 64 and ":" not in raw:
            # AWS-recorded test_create_lambda_exceptions › long_fn_name (IPVE, not Validation)
            raise errors.InvalidParameterValue(
                f"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy "
                "constraint: Member must have length less than or equal to 64"
            )
        name, qualifier = self.arns.parse(raw, None)
        if qualifier is not None or not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name):
            raise validation.violation(
                raw,
                "functionName",
                "Member must satisfy regular expression pattern: "
                r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?"
                r"(function:)?([a-zA-Z0-9-_]+)",  # ⚠ AWS's create pattern, as botocore has it
            )
        return name

    async def _code(
        self, name: str, cfg: dict[str, Any], code: dict[str, Any]
    ) -> tuple[str, int, str]:
        """(CodeSha256, CodeSize, directory) of a request's `Code`: a base64 zip, an object
        of the local S3 store, or an image."""
        if cfg.get("PackageType") == "Image":
            uri = code.get("ImageUri")
            if not isinstance(uri, str) or not uri:
                raise errors.InvalidParameterValue(
                    "Please provide ImageUri when creating a function with PackageType Image."
                )  # ⚠ unrecorded wording
            digest = hashlib.sha256(uri.encode()).digest()
            return base64.b64encode(digest).decode(), 0, ""
        package = self._package(code)
        if len(package) > ZIPPED_MAX_BYTES:
            # AWS-recorded TestLambdaSizeLimits::test_oversized_zipped_create_lambda
            raise errors.RequestTooLarge(
                f"Zipped size must be smaller than {ZIPPED_MAX_BYTES} bytes"
            )
        if self.plane.code_usage() + len(package) > self.plane.code_storage_limit:
            raise errors.CodeStorageExceeded("Code storage limit exceeded.")  # ⚠ wording
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.plane.store.unpack, name, package)

    def _package(self, code: dict[str, Any]) -> bytes:
        if code.get("ZipFile") is not None:
            try:
                return base64.b64decode(code["ZipFile"], validate=True)
            except (binascii.Error, TypeError, ValueError) as exc:
                raise errors.InvalidParameterValue(
                    "Could not unzip uploaded file. Please check your file, then try to upload "
                    "again."
                ) from exc
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if isinstance(bucket, str) and isinstance(key, str):
            # ⚠ S3 is a local directory: <s3-dir>/<bucket>/<key> (docs/control-plane.md);
            # AWS's GetObject errors as recorded (TestLambdaFunction, 2025-11)
            root = self.plane.s3_dir / bucket
            if not root.is_dir():
                raise errors.InvalidParameterValue(
                    "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                    "Message: The specified bucket does not exist"
                )
            path = (root / key).resolve()
            if not path.is_relative_to(root.resolve()) or not path.is_file():
                raise errors.InvalidParameterValue(
                    "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                    "Message: The specified key does not exist."
                )
            return path.read_bytes()
        raise errors.InvalidParameterValue(
            "Please do not provide both ZipFile and S3 parameters or image uri."
            if code
            else "Please provide a source for function code."
        )  # ⚠ unrecorded wording

    async def _publish_when_active(self, record: FunctionRecord, number: str) -> None:
        while record.state == "Pending":
            await asyncio.sleep(0.05)
        if record.state == "Active" and number not in self.plane.registry.versions(record.name):
            await self.plane.registry.publish(
                record.name, self.plane.function_config(record, number)
            )

    # --- reading ---------------------------------------------------------------------------
    def get_function(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        snap = self.version_snapshot(record, qualifier)
        out: dict[str, Any] = {
            "Configuration": self.configuration(record, snap),
            "Code": self._code_location(record, snap),
        }
        if record.tags:
            out["Tags"] = dict(record.tags)
        if record.reserved is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": record.reserved}
        return json_response(out)

    def _code_location(self, record: FunctionRecord, snap: Snapshot) -> dict[str, Any]:
        if snap.config.get("PackageType") == "Image":
            uri = snap.config.get("ImageUri")
            return {"RepositoryType": "ECR", "ImageUri": uri, "ResolvedImageUri": uri}
        # ⚠ AWS answers a presigned S3 URL; here the package's local file
        package = Path(snap.code_dir).with_suffix(".zip")
        location = package.as_uri() if package.is_file() else Path(snap.code_dir).as_uri()
        return {"RepositoryType": "S3", "Location": location}

    def get_function_configuration(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        snap = self.version_snapshot(record, qualifier)
        return json_response(self.configuration(record, snap))

    def configuration(self, record: FunctionRecord, snap: Snapshot) -> dict[str, Any]:
        ready = snap.version == LATEST or snap.version in self.plane.registry.versions(record.name)
        return shapes.configuration(record, snap, self.arns, version_ready=ready)

    def list_functions(self, request: Request) -> Response:
        query = query_of(request)
        every = query.get("FunctionVersion")
        if every is not None and every != "ALL":
            # AWS-recorded TestLambdaFunction::test_list_functions (2025-11)
            raise validation.violation(
                every, "functionVersion", "Member must satisfy enum value set: [ALL]"
            )
        items = []
        for name in self.plane.names():
            record = self.plane.record(name)
            if record is None:
                continue
            snaps = [record.latest, *(record.versions if every else [])]
            for snap in snaps:
                items.append(
                    shapes.configuration(
                        record, snap, self.arns, qualified_latest=bool(every), lifecycle=False
                    )
                )
        return json_response(page(items, query, "Functions"))

    # --- DeleteFunction ---------------------------------------------------------------------
    async def delete_function(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        # the unqualified ARN even with a qualifier (TestLambdaFunction::
        # test_delete_on_nonexisting_version, 2025-11)
        record = self.plane.require(name)
        if qualifier == LATEST:
            # AWS-recorded test_ops_with_arn_qualifier_mismatch[delete_function]
            raise errors.InvalidParameterValue(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if qualifier is not None:
            return await self._delete_version(record, qualifier)
        await self.plane.delete(name)
        return no_content()

    async def _delete_version(self, record: FunctionRecord, qualifier: str) -> Response:
        snap = record.snapshot(qualifier)
        if snap is None:
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(record.name, qualifier)}"
            )
        users = [a for a, d in record.aliases.items() if d["FunctionVersion"] == qualifier]
        if users:
            raise errors.ResourceConflict(  # ⚠ unrecorded wording
                f"Unable to delete version because the following aliases reference it: {users}"
            )
        record = self.plane.adopt(record)
        record.versions = [v for v in record.versions if v.version != qualifier]
        self.plane.save(record)
        await self.plane.registry.remove_version(record.name, qualifier)
        return no_content()

    # --- updates ---------------------------------------------------------------------------
    def update_function_configuration(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        body = body_of(request)
        self.check_revision(record.latest.revision_id, body.get("RevisionId"))
        self.plane.check_idle(record)
        changes = {key: copy.deepcopy(body[key]) for key in CONFIG_KEYS if key in body}
        changes.pop("PackageType", None)
        validation.check_configuration(changes, creating=False)
        cfg = {**record.latest.config, **changes}
        if cfg.get("PackageType", "Zip") == "Zip":
            validation.check_package(cfg)
        record = self.plane.adopt(record)
        candidate = FunctionRecord(name, replace(record.latest, config=cfg), origin=record.origin)
        self.plane.function_config(candidate, LATEST)  # the manifests' validation too
        record.latest.config = cfg
        self.plane.update(record)
        return json_response(shapes.configuration(record, record.latest, self.arns))

    async def update_function_code(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        body = body_of(request)
        self.check_revision(record.latest.revision_id, body.get("RevisionId"))
        self.plane.check_idle(record)
        code: dict[str, Any] = {
            k: body[k] for k in ("ZipFile", "S3Bucket", "S3Key", "ImageUri") if k in body
        }
        cfg = dict(record.latest.config)
        if body.get("Architectures") is not None:
            cfg["Architectures"] = body["Architectures"]
            validation.check_configuration({"Architectures": cfg["Architectures"]}, creating=False)
        sha, size, code_dir = await self._code(name, cfg, code)
        if cfg.get("PackageType") == "Image":
            cfg["ImageUri"] = code.get("ImageUri")
        if body.get("DryRun"):
            preview = replace(record.latest, config=cfg, code_sha256=sha, code_size=size)
            return json_response(shapes.configuration(record, preview, self.arns))
        record = self.plane.adopt(record)
        record.latest = replace(
            record.latest, config=cfg, code_sha256=sha, code_size=size, code_dir=code_dir
        )
        self.plane.update(record)
        if body.get("Publish"):
            # the new version, Pending (TestLambdaVersions::test_publish_with_update, 2025-11)
            number = self._next_version(record)
            snap = replace(record.latest, version=number, revision_id=revision())
            record.versions.append(snap)
            self.plane.save(record)
            self.plane.run(name, self._publish_when_updated(record, number))
            return json_response(shapes.configuration(record, snap, self.arns, version_ready=False))
        return json_response(shapes.configuration(record, record.latest, self.arns))

    async def _publish_when_updated(self, record: FunctionRecord, number: str) -> None:
        while record.last_update == "InProgress":
            await asyncio.sleep(0.05)
        await self.plane.registry.publish(record.name, self.plane.function_config(record, number))

    @staticmethod
    def check_revision(current: str, given: object) -> None:
        if given is not None and given != current:
            # AWS-recorded TestLambdaRevisions::test_function_revisions_basic (2025-11)
            raise errors.PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the "
                "GetFunction/GetAlias API to retrieve the latest Revision Id"
            )

    # --- versions --------------------------------------------------------------------------
    @staticmethod
    def _next_version(record: FunctionRecord) -> str:
        return str(max((int(v.version) for v in record.versions), default=0) + 1)

    async def publish_version(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        body = body_of(request)
        self.check_revision(record.latest.revision_id, body.get("RevisionId"))
        sha = body.get("CodeSha256")
        if sha is not None and sha != record.latest.code_sha256:
            # AWS-recorded TestLambdaVersions::test_publish_with_wrong_sha256 (2025-11)
            raise errors.InvalidParameterValue(
                f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
                f"({record.latest.code_sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        self.plane.check_idle(record)
        last = record.versions[-1] if record.versions else None
        if (
            last is not None
            and last.code_sha256 == record.latest.code_sha256
            and last.config == record.latest.config
        ):
            # ⚠ nothing changed since the last version: AWS answers that version again
            return created(shapes.configuration(record, last, self.arns))
        record = self.plane.adopt(record)
        number = self._next_version(record)
        cfg = dict(record.latest.config)
        if "Description" in body:
            cfg["Description"] = body["Description"]
        snap = replace(
            record.latest,
            version=number,
            config=cfg,
            revision_id=revision(),
            last_modified=now_iso(),
        )
        record.versions.append(snap)
        await self.plane.registry.publish(record.name, self.plane.function_config(record, number))
        # $LATEST's RevisionId changes too (TestLambdaRevisions::test_function_revisions_
        # version_and_alias › get_function_latest_rev3, 2025-11)
        record.latest.revision_id = revision()
        self.plane.save(record)
        return created(shapes.configuration(record, snap, self.arns))

    def list_versions(self, request: Request) -> Response:
        name, qualifier = self.target(request)
        record = self.plane.require(name, qualifier)
        items = [
            shapes.configuration(record, snap, self.arns, qualified_latest=True, lifecycle=False)
            for snap in (record.latest, *record.versions)
        ]
        return json_response(page(items, query_of(request), "Versions"))


def page(items: list[dict[str, Any]], query: dict[str, str], key: str) -> dict[str, Any]:
    """One page of a listing: `Marker` (⚠ an opaque offset here) and `MaxItems` (at most 50
    per page, the API reference says), `NextMarker` while more remain."""
    try:
        start = int(query.get("Marker") or 0)
        size = int(query.get("MaxItems") or MAX_LIST_ITEMS)
    except ValueError as exc:
        raise errors.InvalidParameterValue("Invalid marker or MaxItems") from exc  # ⚠
    size = max(1, min(size, MAX_LIST_ITEMS))
    out: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextMarker"] = str(start + size)
    return out
