"""The Lambda API's settings of a function: concurrency, provisioned concurrency, event invoke
configs; and the account's settings (URL configs: urls_api.py; tags, policy: policy_api.py).

    PUT/DELETE /2017-10-31/functions/{FunctionName}/concurrency       Put/DeleteFunctionConcurrency
    GET        /2019-09-30/functions/{FunctionName}/concurrency       GetFunctionConcurrency
    PUT/GET/DELETE /2019-09-30/functions/{FunctionName}/provisioned-concurrency
    PUT/POST/GET/DELETE /2019-09-25/functions/{FunctionName}/event-invoke-config
    GET /2016-08-19/account-settings                                  GetAccountSettings
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane import validation
from emulator.controlplane.functions_api import (
    FunctionsApi,
    body_of,
    no_content,
)
from emulator.controlplane.plane import LATEST, ControlPlane
from emulator.controlplane.store import (
    TOTAL_CODE_MAX_BYTES,
    UNZIPPED_MAX_BYTES,
    ZIPPED_MAX_BYTES,
    FunctionRecord,
    now_iso,
)
from emulator.httpserver import Request, Response

UNRESERVED_MINIMUM = 100  # docs: configuration-concurrency.html ("at least 100 … unreserved")


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


class _NoProvisionedConfig(errors.ProvisionedConfigNotFound):
    pass
