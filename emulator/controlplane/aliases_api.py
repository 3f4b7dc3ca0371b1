"""The Lambda API's aliases (2015-03-31): CreateAlias, GetAlias, UpdateAlias, ListAliases,
DeleteAlias, with RoutingConfig (TestLambdaAlias, 2025-11). Rows in emulator/api/routes.py.

    POST   /2015-03-31/functions/{FunctionName}/aliases            CreateAlias           201
    GET    /2015-03-31/functions/{FunctionName}/aliases            ListAliases
    GET    /2015-03-31/functions/{FunctionName}/aliases/{Name}     GetAlias
    PUT    /2015-03-31/functions/{FunctionName}/aliases/{Name}     UpdateAlias
    DELETE /2015-03-31/functions/{FunctionName}/aliases/{Name}     DeleteAlias           204
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane import shapes, validation
from emulator.controlplane.functions_api import (
    FunctionsApi,
    body_of,
    created,
    no_content,
    page,
    query_of,
)
from emulator.controlplane.plane import LATEST
from emulator.controlplane.store import FunctionRecord, revision
from emulator.httpserver import Request, Response

ALIAS_NAME = re.compile(r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)")


class AliasesApi:
    def __init__(self, functions: FunctionsApi) -> None:
        self.functions = functions
        self.plane = functions.plane
        self.arns = functions.arns

    def _alias_arn(self, name: str, alias: str) -> str:
        return self.arns.function_arn(name, alias)

    def _check_alias(
        self, record: FunctionRecord, version: str, weights: object
    ) -> dict[str, float]:
        if version != LATEST and record.snapshot(version) is None:
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(record.name, version)}"
            )
        if not weights:
            return {}
        if not isinstance(weights, dict):
            raise errors.InvalidParameterValue("AdditionalVersionWeights must be a map")  # ⚠
        if len(weights) > 1:
            # TestLambdaAlias::test_notfound_and_invalid_routingconfigs (2025-11)
            raise errors.InvalidParameterValue(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        for extra, weight in weights.items():
            if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
                raise validation.ModelValidation(
                    "1 validation error detected: Value '{"
                    + f"{extra}={float(weight) if isinstance(weight, int | float) else weight}"
                    + "}' at 'routingConfig.additionalVersionWeights' failed to satisfy "
                    "constraint: Map value must satisfy constraint: [Member must have value less "
                    "than or equal to 1.0, Member must have value greater than or equal to 0.0, "
                    "Member must not be null]"
                )
            if version == LATEST:
                raise errors.InvalidParameterValue(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            if extra == version:
                raise errors.InvalidParameterValue(
                    f"Invalid function version {extra}. Function version {extra} is already "
                    "included in routing configuration."
                )
            if record.snapshot(extra) is None:
                raise errors.ResourceNotFound(
                    f"Function not found: {self.arns.function_arn(record.name, extra)}"
                )
        return {str(k): float(v) for k, v in weights.items()}

    def create_alias(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        body = body_of(request)
        alias = body.get("Name")
        if not isinstance(alias, str) or not ALIAS_NAME.fullmatch(alias):
            # TestLambdaAlias::test_alias_naming (2025-11)
            raise validation.violation(
                alias or "",
                "name",
                "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
            )
        version = str(body.get("FunctionVersion") or "")
        weights = self._check_alias(
            record, version, (body.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
        )
        if alias in record.aliases:
            raise errors.ResourceConflict(f"Alias already exists: {self._alias_arn(name, alias)}")
        record = self.plane.adopt(record)
        record.aliases[alias] = {
            "FunctionVersion": version,
            "Description": body.get("Description", ""),
            "RevisionId": revision(),
            "AdditionalVersionWeights": weights,
        }
        self.plane.registry.put_alias(name, self.plane.alias_config(record, alias))
        self.plane.save(record)
        return created(shapes.alias(record, alias, self.arns))

    def _alias(self, request: Request, missing: str) -> tuple[FunctionRecord, str]:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        alias = unquote(request.params["Name"])
        if alias not in record.aliases:
            raise errors.ResourceNotFound(f"{missing}{self._alias_arn(name, alias)}")
        return record, alias

    def get_alias(self, request: Request) -> Response:
        # TestLambdaAlias: "Cannot find alias arn: …" for GetAlias
        record, alias = self._alias(request, "Cannot find alias arn: ")
        return json_response(shapes.alias(record, alias, self.arns))

    def list_aliases(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        query = query_of(request)
        wanted = query.get("FunctionVersion")
        items = [
            shapes.alias(record, alias, self.arns)
            for alias, data in record.aliases.items()
            if wanted is None or data["FunctionVersion"] == wanted
        ]
        return json_response(page(items, query, "Aliases"))

    def update_alias(self, request: Request) -> Response:
        # TestLambdaAlias::test_non_existent_alias_update: "Alias not found: …"
        record, alias = self._alias(request, "Alias not found: ")
        body = body_of(request)
        data = dict(record.aliases[alias])
        given = body.get("RevisionId")
        if given is not None and given != data["RevisionId"]:
            self.functions.check_revision(data["RevisionId"], given)
        version = str(body.get("FunctionVersion") or data["FunctionVersion"])
        routing = body.get("RoutingConfig")
        weights = (
            data.get("AdditionalVersionWeights")
            if routing is None
            else routing.get("AdditionalVersionWeights")
        )
        data["AdditionalVersionWeights"] = self._check_alias(record, version, weights)
        data["FunctionVersion"] = version
        if "Description" in body:
            data["Description"] = body["Description"]
        data["RevisionId"] = revision()
        record = self.plane.adopt(record)
        record.aliases[alias] = data
        self.plane.registry.put_alias(record.name, self.plane.alias_config(record, alias))
        self.plane.save(record)
        return json_response(shapes.alias(record, alias, self.arns))

    async def delete_alias(self, request: Request) -> Response:
        name, qualifier = self.functions.target(request)
        record = self.plane.require(name, qualifier)
        alias = unquote(request.params["Name"])
        if alias in record.aliases:  # ⚠ deleting an unknown alias answers 204 too
            record = self.plane.adopt(record)
            version = record.aliases.pop(alias)["FunctionVersion"]
            had_provisioned = record.provisioned.pop(alias, None) is not None
            self.plane.registry.delete_alias(name, alias)
            self.plane.save(record)
            if had_provisioned:  # its environments go with it
                await self.plane.apply_versions(record, [version])
        return no_content()
