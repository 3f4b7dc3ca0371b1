"""GET /items/{id} of the sample HTTP API (functions/template.yaml, functions/lambda-emu.toml):
the path parameter and what the authorizer put in the request's context."""

import json


def handler(event, context):
    item_id = (event.get("pathParameters") or {}).get("id")
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    # HTTP API simple responses put the authorizer's `context` under `lambda`
    user = (authorizer.get("lambda") or {}).get("user")
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(
            {"id": item_id, "user": user, "request_id": context.aws_request_id}
        ),
    }
