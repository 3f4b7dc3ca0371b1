"""The control plane's response bodies, in the shapes AWS answers (botocore's service model
for lambda 2015-03-31; LocalStack's AWS-recorded test_lambda_api snapshots, 2025-11).

Pure functions of a record: no registry, no I/O.
"""

from __future__ import annotations

import hashlib
from typing import Any

from emulator.arns import ArnScheme
from emulator.controlplane.store import FunctionRecord, Snapshot

LATEST = "$LATEST"


def runtime_version_arn(region: str, runtime: str) -> str:
    """`arn:aws:lambda:<region>::runtime:<id>`: ⚠ AWS's id is a hash of its runtime build;
    here a stable hash of the runtime's name."""
    digest = hashlib.sha256(runtime.encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def configuration(
    record: FunctionRecord,
    snap: Snapshot,
    arns: ArnScheme,
    *,
    qualified_latest: bool = False,
    lifecycle: bool = True,
    version_ready: bool = True,
) -> dict[str, Any]:
    """A FunctionConfiguration. `qualified_latest`: `$LATEST`'s ARN ends `:$LATEST` (the
    listings of versions); `lifecycle`: State and LastUpdateStatus are present (not in
    ListFunctions / ListVersionsByFunction items: TestLambdaFunction::test_list_functions,
    TestLambdaVersions::test_version_lifecycle › list_versions_result); `version_ready`: a
    published version's pool has started (else it is Pending)."""
    cfg = snap.config
    is_latest = snap.version == LATEST
    qualifier = None if is_latest and not qualified_latest else snap.version
    out: dict[str, Any] = {
        "FunctionName": record.name,
        "FunctionArn": arns.function_arn(record.name, qualifier),
        "Role": cfg.get("Role", ""),
        "CodeSize": snap.code_size,
        "CodeSha256": snap.code_sha256,
        "Description": cfg.get("Description", ""),
        "Timeout": cfg.get("Timeout", 3),
        "MemorySize": cfg.get("MemorySize", 128),
        "LastModified": snap.last_modified,
        "Version": snap.version,
        "TracingConfig": {"Mode": (cfg.get("TracingConfig") or {}).get("Mode", "PassThrough")},
        "RevisionId": snap.revision_id,
        "PackageType": cfg.get("PackageType", "Zip"),
        "Architectures": list(cfg.get("Architectures") or ["x86_64"]),
        "EphemeralStorage": {"Size": (cfg.get("EphemeralStorage") or {}).get("Size", 512)},
        "SnapStart": {
            "ApplyOn": (cfg.get("SnapStart") or {}).get("ApplyOn", "None"),
            "OptimizationStatus": "Off",
        },
        "LoggingConfig": logging_config(record.name, cfg.get("LoggingConfig")),
    }
    if out["PackageType"] == "Zip":
        out["Runtime"] = cfg.get("Runtime", "")
        out["Handler"] = cfg.get("Handler", "")
        if lifecycle:
            out["RuntimeVersionConfig"] = {
                "RuntimeVersionArn": runtime_version_arn(arns.region, out["Runtime"])
            }
    if cfg.get("Environment") is not None:
        out["Environment"] = {"Variables": dict(cfg["Environment"].get("Variables") or {})}
    for key in ("VpcConfig", "DeadLetterConfig", "KMSKeyArn", "FileSystemConfigs"):
        if cfg.get(key):
            out[key] = cfg[key]
    if cfg.get("ImageConfig"):
        out["ImageConfigResponse"] = {"ImageConfig": cfg["ImageConfig"]}
    if cfg.get("Layers"):
        out["Layers"] = [{"Arn": arn, "CodeSize": 0} for arn in cfg["Layers"]]  # ⚠ sizes
    if lifecycle:
        if is_latest:
            out["State"] = record.state
            if record.state_reason:
                out["StateReason"] = record.state_reason
            if record.state_reason_code:
                out["StateReasonCode"] = record.state_reason_code
            if record.last_update is not None:
                out["LastUpdateStatus"] = record.last_update
            if record.last_update_reason:
                out["LastUpdateStatusReason"] = record.last_update_reason
            if record.last_update_reason_code:
                out["LastUpdateStatusReasonCode"] = record.last_update_reason_code
        elif version_ready:  # TestLambdaVersions::test_version_lifecycle › first_publish_response
            out["State"] = "Active"
            out["LastUpdateStatus"] = "Successful"
        else:  # being published (TestLambdaVersions::test_publish_with_update, 2025-11)
            out["State"] = "Pending"
            out["StateReason"] = "The function is being created."
            out["StateReasonCode"] = "Creating"
    return out


def logging_config(name: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """LoggingConfig: Text by default, the log group `/aws/lambda/<name>`; JSON adds the
    levels (docs: monitoring-cloudwatchlogs-advanced.html: INFO by default)."""
    given = given or {}
    out: dict[str, Any] = {
        "LogFormat": given.get("LogFormat", "Text"),
        "LogGroup": given.get("LogGroup") or f"/aws/lambda/{name}",
    }
    if out["LogFormat"] == "JSON":
        out["ApplicationLogLevel"] = given.get("ApplicationLogLevel", "INFO")
        out["SystemLogLevel"] = given.get("SystemLogLevel", "INFO")
    return out


def alias(record: FunctionRecord, name: str, arns: ArnScheme) -> dict[str, Any]:
    """AliasConfiguration: `RoutingConfig` only when set (TestLambdaAlias, 2025-11)."""
    data = record.aliases[name]
    out: dict[str, Any] = {
        "AliasArn": arns.function_arn(record.name, name),
        "Name": name,
        "FunctionVersion": data["FunctionVersion"],
        "Description": data.get("Description", ""),
        "RevisionId": data["RevisionId"],
    }
    weights = data.get("AdditionalVersionWeights")
    if weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)}
    return out
