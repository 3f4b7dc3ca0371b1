"""The Lambda API's resource tags and policy: ListTags, TagResource, UntagResource
(TestLambdaTag, 2025-11) and AddPermission, GetPolicy, RemovePermission (TestLambdaPermissions,
2025-11): stored and answered, the policy never enforced. Rows in emulator/api/routes.py.

    GET/POST/DELETE /2017-03-31/tags/{Resource}
    POST/GET /2015-03-31/functions/{FunctionName}/policy, DELETE …/policy/{StatementId}
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote

from emulator import errors
from emulator.api.responses import json_response
from emulator.controlplane.functions_api import FunctionsApi, body_of, created, no_content
from emulator.controlplane.store import FunctionRecord, revision
from emulator.httpserver import Request, Response


class PolicyApi:
    def __init__(self, functions: FunctionsApi) -> None:
        self.functions = functions
        self.plane = functions.plane
        self.arns = functions.arns

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
        self.functions.check_revision(record.policy_revision, body.get("RevisionId"))
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
