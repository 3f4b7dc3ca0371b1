"""Handlers behind tests/data/frontdoor/template.yaml.

- `echo`: answers every API route and function URL with the event it got, as a JSON body.
- `simple_authorizer`: an HTTP API authorizer with simple responses (`isAuthorized`).
- `policy_authorizer`: an IAM-policy authorizer for HTTP APIs (payload 1.0 or 2.0) and REST
  APIs (TOKEN and REQUEST).

Authorizers allow when the identity is "allow", deny when it is "deny", and answer anything
else with `Unauthorized` (REST: 401; HTTP APIs: 500, an authorizer error).
"""

import json


def echo(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"event": event, "requestId": context.aws_request_id}),
    }


def _identity(event):
    """The identity the authorizer was configured to read, whichever event shape it got."""
    if event.get("type") == "TOKEN":  # REST TOKEN: {"type", "authorizationToken", "methodArn"}
        return event.get("authorizationToken")
    sources = event.get("identitySource")
    if isinstance(sources, list) and sources:  # HTTP API payload 2.0: values in order
        return sources[0]
    if isinstance(sources, str) and sources:  # HTTP API payload 1.0: comma-joined string
        return sources.split(",")[0]
    headers = event.get("headers") or {}  # REST REQUEST: the request's headers
    for name, value in headers.items():
        if name.lower() == "authorization":
            return value
    return None


def simple_authorizer(event, context):
    identity = _identity(event)
    if identity not in ("allow", "deny"):
        raise Exception("Unauthorized")
    return {"isAuthorized": identity == "allow", "context": {"user": "tester", "kind": "simple"}}


def policy_authorizer(event, context):
    identity = _identity(event)
    if identity not in ("allow", "deny"):
        raise Exception("Unauthorized")  # REST: exactly this message answers 401
    resource = event.get("methodArn") or event.get("routeArn")
    return {
        "principalId": "tester",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if identity == "allow" else "Deny",
                    "Resource": resource,
                }
            ],
        },
        "context": {"user": "tester", "kind": event.get("type", "REQUEST").lower()},
    }
