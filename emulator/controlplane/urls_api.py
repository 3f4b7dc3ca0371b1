"""The Lambda API's function URL configs (2021-10-31), served by the front door
(`/lambda-url/<name>/` on the Invoke API's port): Create/Get/Update/DeleteFunctionUrlConfig
(TestLambdaUrl, 2025-11). Rows in emulator/api/routes.py.

    POST/GET/PUT/DELETE /2021-10-31/functions/{FunctionName}/url
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane import validation
from emulator.controlplane.functions_api import FunctionsApi, body_of, created, no_content
from emulator.controlplane.plane import LATEST
from emulator.controlplane.store import FunctionRecord
from emulator.httpserver import Request, Response

_URL_QUALIFIER = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"


def _iso_micro() -> str:
    """CreationTime / LastModifiedTime of a URL config: ⚠ `2026-12-02T01:02:03.456789Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UrlsApi:
    def __init__(self, functions: FunctionsApi) -> None:
        self.functions = functions
        self.plane = functions.plane
        self.arns = functions.arns

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
        await self.plane.serve_url(record.name, qualifier, record.urls[qualifier])
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
        await self.plane.serve_url(record.name, qualifier, config)
        out = self._url_shape(record, qualifier, full=False)
        out["LastModifiedTime"] = config["LastModifiedTime"]
        return json_response(out)

    async def delete_url(self, request: Request) -> Response:
        record, qualifier = self._url_target(request, reading=True)
        if qualifier not in record.urls:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        del record.urls[qualifier]
        self.plane.save(record)
        await self.plane.serve_url(record.name, qualifier, None)
        return no_content()
