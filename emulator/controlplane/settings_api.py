"""The Lambda API's settings of a function: concurrency, provisioned concurrency, event invoke
configs, function URL configs, tags, resource policy, and the account's settings.

    PUT/DELETE /2017-10-31/functions/{FunctionName}/concurrency       Put/DeleteFunctionConcurrency
    GET        /2019-09-30/functions/{FunctionName}/concurrency       GetFunctionConcurrency
    PUT/GET/DELETE /2019-09-30/functions/{FunctionName}/provisioned-concurrency
    PUT/POST/GET/DELETE /2019-09-25/functions/{FunctionName}/event-invoke-config
    POST/GET/PUT/DELETE /2021-10-31/functions/{FunctionName}/url      (the front door serves it)
    GET /2016-08-19/account-settings                                  GetAccountSettings
    GET/POST/DELETE /2017-03-31/tags/{Resource}                       ListTags, Tag/UntagResource
    POST/GET /2015-03-31/functions/{FunctionName}/policy, DELETE …/policy/{StatementId}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane import validation
from emulator.controlplane.functions_api import (
    FunctionsApi,
    body_of,
    created,
    no_content,
)
from emulator.controlplane.plane import LATEST, ControlPlane
from emulator.controlplane.store import (
    TOTAL_CODE_MAX_BYTES,
    UNZIPPED_MAX_BYTES,
    ZIPPED_MAX_BYTES,
    FunctionRecord,
    now_iso,
    revision,
)
from emulator.httpserver import Request, Response

UNRESERVED_MINIMUM = 100  # docs: configuration-concurrency.html ("at least 100 … unreserved")
_URL_QUALIFIER = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"


def _iso_micro() -> str:
    """CreationTime / LastModifiedTime of a URL config: ⚠ `2026-12-02T01:02:03.456789Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SettingsApi:
    def __init__(self, plane: ControlPlane, functions: FunctionsApi) -> None:
        self.plane = plane
        self.arns = plane.arns
        self.functions = functions

    # --- reserved concurrency (TestLambdaReservedConcurrency, 2025-11) ----------------------
    def _unqualified(self, request: Request) -> FunctionRecord:
        name, qualifier = self.functions.target(request)
        record = self.plane.record(name)
        if record is None:
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(name, LATEST)}"
            )
        if qualifier is not None:
            raise errors.InvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do "
                "not support this operation. Please specify either a function name or an "
                "unqualified function ARN."
            )
        return record

    def put_concurrency(self, request: Request) -> Response:
        record = self._unqualified(request)
        value = body_of(request).get("ReservedConcurrentExecutions")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise validation.violation(
                str(value),
                "reservedConcurrentExecutions",
                "Member must have value greater than or equal to 0",
            )
        others = sum(
            r.reserved or 0
            for n in self.plane.names()
            if n != record.name and (r := self.plane.record(n)) is not None
        )
        minimum = min(UNRESERVED_MINIMUM, self.plane.account_concurrency)
        if self.plane.account_concurrency - others - value < minimum:
            raise errors.InvalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{minimum}]."
            )
        provisioned = sum(int(p.get("Requested", 0)) for p in record.provisioned.values())
        if value < provisioned:
            # recorded as is, with its leading and double spaces (test_reserved_provisioned_overlap)
            raise errors.InvalidParameterValue(
                f" ReservedConcurrentExecutions  {value} should not be lower than function's "
                f"total provisioned concurrency [{provisioned}]."
            )
        record = self.plane.adopt(record)
        record.reserved = value
        self._apply_everywhere(record)
        return json_response({"ReservedConcurrentExecutions": value})

    def _apply_everywhere(self, record: FunctionRecord) -> None:
        self.plane.configure(record, [LATEST, *(v.version for v in record.versions)])

    def get_concurrency(self, request: Request) -> Response:
        record = self._unqualified(request)
        if record.reserved is None:
            return json_response({})  # recorded: an empty body, no key
        return json_response({"ReservedConcurrentExecutions": record.reserved})

    def delete_concurrency(self, request: Request) -> Response:
        record = self._unqualified(request)
        if record.reserved is not None:
            record = self.plane.adopt(record)
            record.reserved = None
            self._apply_everywhere(record)
        return no_content()

    # --- provisioned concurrency (TestLambdaProvisionedConcurrency, 2025-11) -----------------
    def _provisioned_target(self, request: Request, *, putting: bool) -> tuple[FunctionRecord, str]:
        name, qualifier = self.functions.target(request)
        record = self.plane.record(name)
        if record is None and qualifier is not None and not qualifier.isdigit():
            # TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions
            raise errors.ResourceNotFound(
                f"Cannot find alias arn: {self.arns.function_arn(name, qualifier)}"
            )
        record = self.plane.require(name, qualifier)
        if qualifier is None or qualifier == LATEST:
            raise errors.InvalidParameterValue(
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions."
                if putting
                else "The function resource provided must be an alias or a published version."
            )
        if qualifier not in record.aliases and record.snapshot(qualifier) is None:
            if qualifier.isdigit():
                raise errors.ResourceNotFound(
                    f"Function not found: {self.arns.function_arn(name, qualifier)}"
                )
            raise errors.ResourceNotFound(
                f"Cannot find alias arn: {self.arns.function_arn(name, qualifier)}"
            )
        return record, qualifier

    def _version_of(self, record: FunctionRecord, qualifier: str) -> str:
        alias = record.aliases.get(qualifier)
        return str(alias["FunctionVersion"]) if alias is not None else qualifier

    def put_provisioned(self, request: Request) -> Response:
        record, qualifier = self._provisioned_target(request, putting=True)
        value = body_of(request).get("ProvisionedConcurrentExecutions")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise validation.violation(
                str(value),
                "provisionedConcurrentExecutions",
                "Member must have value greater than or equal to 1",
            )
        if record.reserved is not None and value > record.reserved:
            raise errors.InvalidParameterValue(
                "Requested Provisioned Concurrency should not be greater than the "
                "reservedConcurrentExecution for function"
            )
        version = self._version_of(record, qualifier)
        if qualifier in record.aliases and version in record.provisioned:
            raise errors.ResourceConflict(
                "Alias can't be used for Provisioned Concurrency configuration on an already "
                "Provisioned version"
            )
        if qualifier not in record.aliases and any(
            alias in record.provisioned
            for alias, data in record.aliases.items()
            if data["FunctionVersion"] == qualifier
        ):
            raise errors.ResourceConflict("Version is pointed by a Provisioned Concurrency alias")
        record = self.plane.adopt(record)
        config = {"Requested": value, "LastModified": now_iso(), "Status": "IN_PROGRESS"}
        record.provisioned[qualifier] = config
        self.plane.save(record)

        async def provision() -> None:
            try:
                await self.plane.apply_versions(record, [version])
            except Exception:
                config["Status"] = "FAILED"
                raise
            # recorded IN_PROGRESS → READY, or FAILED when the environments' init failed
            # (test_lambda::TestLambdaConcurrency::test_provisioned_concurrency[_init_failure])
            pool = self.plane.registry.pool_for(record.name, version)
            initialised = sum(
                1
                for env in (pool.envs if pool else ())
                if env.init_type == "provisioned-concurrency"
            )
            wanted = self.plane.provisioned_for(record, version)
            config["Status"] = "READY" if initialised >= wanted else "FAILED"

        self.plane.run(record.name, provision())
        return json_response(self._provisioned_shape(config), 202)

    @staticmethod
    def _provisioned_shape(config: dict[str, Any]) -> dict[str, Any]:
        ready = config.get("Status") == "READY"
        requested = int(config["Requested"])
        out: dict[str, Any] = {
            "RequestedProvisionedConcurrentExecutions": requested,
            "AvailableProvisionedConcurrentExecutions": requested if ready else 0,
            "AllocatedProvisionedConcurrentExecutions": requested if ready else 0,
            "Status": config.get("Status", "IN_PROGRESS"),
            "LastModified": config["LastModified"],
        }
        if config.get("Status") == "FAILED":
            out["StatusReason"] = "FUNCTION_ERROR_INIT_FAILURE"
        return out

    def get_provisioned(self, request: Request) -> Response:
        record, qualifier = self._provisioned_target(request, putting=False)
        config = record.provisioned.get(qualifier)
        if config is None:
            raise _NoProvisionedConfig("No Provisioned Concurrency Config found for this function")
        return json_response(self._provisioned_shape(config))

    async def delete_provisioned(self, request: Request) -> Response:
        record, qualifier = self._provisioned_target(request, putting=False)
        if record.provisioned.pop(qualifier, None) is not None:
            self.plane.save(record)
            await self.plane.apply_versions(record, [self._version_of(record, qualifier)])
        return no_content()

    # --- event invoke config (TestLambdaEventInvokeConfig, 2025-11) --------------------------
    def _invoke_target(
        self, request: Request, *, reading: bool = False
    ) -> tuple[FunctionRecord, str]:
        """Put and Update name a missing function or alias "doesn't exist"; Get and Delete say
        it has no config (TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_
        exceptions, 2025-11)."""
        name, qualifier = self.functions.target(request)
        record = self.plane.record(name)
        missing = record is None or (
            qualifier not in (None, LATEST)
            and qualifier not in record.aliases
            and record.snapshot(qualifier) is None
        )
        if missing and reading:
            raise errors.ResourceNotFound(
                f"The function {self.arns.function_arn(name, qualifier or LATEST)} doesn't "
                "have an EventInvokeConfig"
            )
        if record is None or missing:
            raise errors.ResourceNotFound("The function doesn't exist.")
        return record, qualifier or LATEST

    def put_event_invoke(self, request: Request) -> Response:
        return self._event_invoke(request, merge=False)

    def update_event_invoke(self, request: Request) -> Response:
        return self._event_invoke(request, merge=True)

    def _event_invoke(self, request: Request, *, merge: bool) -> Response:
        record, qualifier = self._invoke_target(request)
        body = body_of(request)
        keys = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        given = {k: body[k] for k in keys if body.get(k) is not None}
        if not given:
            raise errors.InvalidParameterValue(
                "You must specify at least one of error handling or destination setting."
            )
        own = self.arns.function_arn(record.name)
        for target in (given.get("DestinationConfig") or {}).values():
            destination = (target or {}).get("Destination", "")
            if destination.split(":$LATEST")[0] == own or destination.startswith(own + ":"):
                raise errors.InvalidParameterValue(
                    "You can't specify the function as a destination for itself."
                )
        retries = given.get("MaximumRetryAttempts")
        if retries is not None and not 0 <= retries <= 2:
            raise validation.violation(
                str(retries),
                "maximumRetryAttempts",
                "Member must have value less than or equal to 2",
            )
        age = given.get("MaximumEventAgeInSeconds")
        if age is not None and not 60 <= age <= 21600:
            raise validation.violation(
                str(age),
                "maximumEventAgeInSeconds",
                "Member must have value greater than or equal to 60"
                if age < 60
                else "Member must have value less than or equal to 21600",
            )
        record = self.plane.adopt(record)
        config = dict(record.event_invoke.get(qualifier, {})) if merge else {}
        config.update(given)
        config["LastModified"] = datetime.now(UTC).timestamp()
        record.event_invoke[qualifier] = config
        self.plane.save(record)
        if qualifier == LATEST or record.snapshot(qualifier) is not None:
            self.plane.configure(record, [qualifier])
        return json_response(self._event_invoke_shape(record, qualifier))

    def _event_invoke_shape(self, record: FunctionRecord, qualifier: str) -> dict[str, Any]:
        config = record.event_invoke[qualifier]
        out: dict[str, Any] = {
            "FunctionArn": self.arns.function_arn(record.name, qualifier),
            "LastModified": config["LastModified"],
            "DestinationConfig": {
                "OnSuccess": dict((config.get("DestinationConfig") or {}).get("OnSuccess") or {}),
                "OnFailure": dict((config.get("DestinationConfig") or {}).get("OnFailure") or {}),
            },
        }
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in config:
                out[key] = config[key]
        return out

    def get_event_invoke(self, request: Request) -> Response:
        record, qualifier = self._invoke_target(request, reading=True)
        if qualifier not in record.event_invoke:
            raise errors.ResourceNotFound(
                f"The function {self.arns.function_arn(record.name, qualifier)} doesn't have an "
                "EventInvokeConfig"
            )
        return json_response(self._event_invoke_shape(record, qualifier))

    def delete_event_invoke(self, request: Request) -> Response:
        record, qualifier = self._invoke_target(request, reading=True)
        if qualifier not in record.event_invoke:
            raise errors.ResourceNotFound(
                f"The function {self.arns.function_arn(record.name, qualifier)} doesn't have an "
                "EventInvokeConfig"
            )
        record = self.plane.adopt(record)
        del record.event_invoke[qualifier]
        if qualifier == LATEST or record.snapshot(qualifier) is not None:
            self.plane.configure(record, [qualifier])
        return no_content()

    # --- function URLs (TestLambdaUrl, 2025-11) ----------------------------------------------
    def _url_target(self, request: Request, *, reading: bool = False) -> tuple[FunctionRecord, str]:
        """Create and Update name a missing function "Function does not exist"; Get and Delete
        answer that the resource does not exist (TestLambdaUrl, test_ops_on_nonexisting_fn)."""
        name, qualifier = self.functions.target(request)
        if qualifier is not None and (qualifier.isdigit() or qualifier == LATEST):
            raise validation.violation(
                qualifier,
                "qualifier",
                f"Member must satisfy regular expression pattern: {_URL_QUALIFIER}",
            )
        record = self.plane.record(name)
        if record is None or (qualifier is not None and qualifier not in record.aliases):
            raise errors.ResourceNotFound(
                "The resource you requested does not exist."
                if reading
                else "Function does not exist"
            )
        return record, qualifier or ""

    def _url_shape(self, record: FunctionRecord, qualifier: str, *, full: bool) -> dict[str, Any]:
        config = record.urls[qualifier]
        out: dict[str, Any] = {
            "FunctionUrl": self.plane.url_of(record.name + (f":{qualifier}" if qualifier else "")),
            "FunctionArn": self.arns.function_arn(record.name, qualifier or None),
            "AuthType": config["AuthType"],
            "CreationTime": config["CreationTime"],
        }
        if config.get("Cors"):
            out["Cors"] = config["Cors"]
        if full:
            out["InvokeMode"] = config.get("InvokeMode") or "BUFFERED"
            out["LastModifiedTime"] = config["LastModifiedTime"]
        elif config.get("InvokeMode"):
            out["InvokeMode"] = config["InvokeMode"]
        return out

    def _check_url_body(self, body: dict[str, Any], *, creating: bool) -> None:
        auth = body.get("AuthType")
        if (creating or auth is not None) and auth not in ("NONE", "AWS_IAM"):
            raise validation.violation(
                str(auth), "authType", "Member must satisfy enum value set: [AWS_IAM, NONE]"
            )
        mode = body.get("InvokeMode")
        if mode is not None and mode not in ("RESPONSE_STREAM", "BUFFERED"):
            raise validation.violation(
                mode,
                "invokeMode",
                "Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]",
            )

    async def create_url(self, request: Request) -> Response:
        record, qualifier = self._url_target(request)
        body = body_of(request)
        self._check_url_body(body, creating=True)
        if qualifier in record.urls:
            arn = self.arns.function_arn(record.name, qualifier or None)
            raise errors.ResourceConflict(
                f"Failed to create function url config for [functionArn = {arn}]. Error "
                "message:  FunctionUrlConfig exists for this Lambda function"
            )
        record = self.plane.adopt(record)
        stamp = _iso_micro()
        record.urls[qualifier] = {
            "AuthType": body["AuthType"],
            "Cors": body.get("Cors"),
            "InvokeMode": body.get("InvokeMode"),
            "CreationTime": stamp,
            "LastModifiedTime": stamp,
        }
        self.plane.save(record)
        if not qualifier:  # ⚠ an alias's URL is stored, not served
            await self.plane.serve_url(record.name, record.urls[qualifier])
        return created(self._url_shape(record, qualifier, full=False))

    def get_url(self, request: Request) -> Response:
        record, qualifier = self._url_target(request, reading=True)
        if qualifier not in record.urls:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return json_response(self._url_shape(record, qualifier, full=True))

    async def update_url(self, request: Request) -> Response:
        record, qualifier = self._url_target(request)
        if qualifier not in record.urls:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        body = body_of(request)
        self._check_url_body(body, creating=False)
        config = record.urls[qualifier]
        for key in ("AuthType", "Cors", "InvokeMode"):
            if body.get(key) is not None:
                config[key] = body[key]
        config["LastModifiedTime"] = _iso_micro()
        self.plane.save(record)
        if not qualifier:
            await self.plane.serve_url(record.name, config)
        out = self._url_shape(record, qualifier, full=False)
        out["LastModifiedTime"] = config["LastModifiedTime"]
        return json_response(out)

    async def delete_url(self, request: Request) -> Response:
        record, qualifier = self._url_target(request, reading=True)
        if qualifier not in record.urls:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        del record.urls[qualifier]
        self.plane.save(record)
        if not qualifier:
            await self.plane.serve_url(record.name, None)
        return no_content()

    # --- the account ----------------------------------------------------------------------
    def account_settings(self, _request: Request) -> Response:
        records = [r for n in self.plane.names() if (r := self.plane.record(n)) is not None]
        reserved = sum(r.reserved or 0 for r in records)
        return json_response(
            {
                "AccountLimit": {
                    "TotalCodeSize": TOTAL_CODE_MAX_BYTES,
                    "CodeSizeUnzipped": UNZIPPED_MAX_BYTES,
                    "CodeSizeZipped": ZIPPED_MAX_BYTES,
                    "ConcurrentExecutions": self.plane.account_concurrency,
                    "UnreservedConcurrentExecutions": self.plane.account_concurrency - reserved,
                },
                "AccountUsage": {
                    "TotalCodeSize": self.plane.code_usage(),
                    "FunctionCount": len(records),
                },
            }
        )

    # --- tags (TestLambdaTag::test_tag_lifecycle, 2025-11) -------------------------------------
    def _tagged(self, request: Request) -> FunctionRecord:
        arn = unquote(request.params["Resource"])
        name, qualifier = self.arns.parse(arn, None)
        record = self.plane.record(name)
        if record is None:
            raise errors.ResourceNotFound(f"Function not found: {self.arns.function_arn(name)}")
        if qualifier is not None:  # ⚠ unrecorded wording
            raise errors.InvalidParameterValue("Tags are not supported on versions or aliases.")
        return record

    def list_tags(self, request: Request) -> Response:
        return json_response({"Tags": dict(self._tagged(request).tags)})

    def tag_resource(self, request: Request) -> Response:
        record = self.plane.adopt(self._tagged(request))
        tags = body_of(request).get("Tags") or {}
        record.tags.update({str(k): str(v) for k, v in tags.items()})
        self.plane.save(record)
        return no_content()

    def untag_resource(self, request: Request) -> Response:
        record = self.plane.adopt(self._tagged(request))
        for key in parse_qs(request.query or "").get("tagKeys", []):
            record.tags.pop(key, None)
        self.plane.save(record)
        return no_content()

    # --- resource policy: stored, never enforced (TestLambdaPermissions, 2025-11) --------------
    def add_permission(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.adopt(self.plane.require(name, qualifier))
        body = body_of(request)
        self.functions._check_revision(record.policy_revision, body.get("RevisionId"))
        sid = body.get("StatementId")
        if any(s["Sid"] == sid for s in record.policy):
            raise errors.ResourceConflict(  # ⚠ AWS's wording as users report it
                f"The statement id ({sid}) provided already exists. Please provide a new "
                "statement id, or remove the existing statement."
            )
        principal = str(body.get("Principal", ""))
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": principal
            if principal == "*"
            else {"Service": principal}
            if principal.endswith(".amazonaws.com")
            else {
                "AWS": principal
                if principal.startswith("arn:")
                else f"arn:aws:iam::{principal}:root"
            },
            "Action": body.get("Action"),
            "Resource": self.arns.function_arn(name, qualifier),
        }
        condition: dict[str, Any] = {}
        if body.get("SourceAccount"):
            condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = body["SourceAccount"]
        if body.get("FunctionUrlAuthType"):
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = body[
                "FunctionUrlAuthType"
            ]
        if body.get("SourceArn"):
            condition["ArnLike"] = {"AWS:SourceArn": body["SourceArn"]}
        if condition:
            statement["Condition"] = condition
        record.policy.append(statement)
        record.policy_revision = revision()
        self.plane.save(record)
        return created({"Statement": json.dumps(statement)})

    def get_policy(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        if not record.policy:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        policy = {"Version": "2012-10-17", "Id": "default", "Statement": record.policy}
        return json_response({"Policy": json.dumps(policy), "RevisionId": record.policy_revision})

    def remove_permission(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        sid = unquote(request.params["StatementId"])
        kept = [s for s in record.policy if s["Sid"] != sid]
        if len(kept) == len(record.policy):
            raise errors.ResourceNotFound(  # ⚠ AWS's wording as users report it
                "No policy is associated with the given resource."
                if not record.policy
                else f"Statement {sid} is not found in resource policy."
            )
        record.policy = kept
        record.policy_revision = revision()
        self.plane.save(record)
        return no_content()


class _NoProvisionedConfig(errors.ProvisionedConfigNotFound):
    pass
