"""A Lambda authorizer for the sample APIs: one function for HTTP APIs (payload 2.0 simple or
IAM answers, payload 1.0) and REST APIs (TOKEN and REQUEST), told apart by the event's shape.

The token (the Authorization header, or a TOKEN authorizer's authorizationToken) decides:
- "allow": allowed, on every route of the API (a wildcard policy, so a cached answer serves
  them all) with the context {"user": "alice", "level": 1, "beta": true};
- "allow-here": allowed on this method and path only (another route is denied);
- "deny": denied by an explicit Deny;
- "crash": the function raises (API Gateway answers 500);
- "garbage": an answer API Gateway cannot read (500);
- anything else: REST authorizers fail with "Unauthorized" (API Gateway answers 401);
  HTTP API authorizers deny.

HTTP API 2.0 authorizers answer simply ({"isAuthorized": ...}) unless the environment sets
RESPONSE_TYPE=iam: API Gateway reads simple answers only when the authorizer enables them.
"""

import os

CONTEXT = {"user": "alice", "level": 1, "beta": True}
ALLOW = ("allow", "allow-here")


def handler(event, context):
    if event.get("type") == "TOKEN":  # REST TOKEN authorizer
        token = event.get("authorizationToken")
    else:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        token = headers.get("authorization")
    if token == "crash":
        raise RuntimeError("the authorizer crashed")
    if token == "garbage":
        return "not an answer API Gateway can read"
    if event.get("version") == "2.0":  # HTTP API, payload 2.0
        if os.environ.get("RESPONSE_TYPE", "simple") == "simple":
            allowed = token in ALLOW
            return (
                {"isAuthorized": allowed, "context": CONTEXT}
                if allowed
                else {"isAuthorized": False}
            )
        return policy_answer(token, event["routeArn"])
    if event.get("version") == "1.0":  # HTTP API, payload 1.0: IAM policies only
        return policy_answer(token, event["methodArn"])
    # REST, TOKEN or REQUEST
    if token not in (*ALLOW, "deny"):
        raise Exception("Unauthorized")  # the exact message API Gateway turns into 401
    return policy_answer(token, event["methodArn"])


def policy_answer(token, arn):
    if token == "allow":
        # arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path} → .../{stage}/*
        api_and_stage = "/".join(arn.split("/")[:2])
        return policy("Allow", api_and_stage + "/*", CONTEXT)
    if token == "allow-here":
        return policy("Allow", arn, CONTEXT)
    return policy("Deny", arn, None)


def policy(effect, resource, context):
    answer = {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context is not None:
        answer["context"] = context
    return answer
