"""Functions behind the front door's tests (tests/test_frontdoor.py)."""

import base64
import json
import time


def echo(event, context):
    """The event and the Lambda request id, as a structured response."""
    body = {"event": event, "request_id": context.aws_request_id}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "access-control-allow-origin": "mine"},
        "body": json.dumps(body),
    }


def simple(event, context):
    """A payload 2.0 simplified response: an object without statusCode."""
    return {"hello": "world", "request_id": context.aws_request_id}


def binary(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(bytes(range(256))).decode(),
        "isBase64Encoded": True,
    }


def boom(event, context):
    raise RuntimeError("boom")


def slow(event, context):
    time.sleep(float((event.get("queryStringParameters") or {}).get("sleep", "2")))
    return {"statusCode": 200, "body": "slept"}


def authorize(event, context):
    """An HTTP API authorizer (payload 2.0, simple answers)."""
    token = (event.get("headers") or {}).get("authorization")
    if token == "allow":
        return {"isAuthorized": True, "context": {"user": "alice"}}
    return {"isAuthorized": False}
