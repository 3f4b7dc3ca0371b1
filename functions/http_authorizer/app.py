"""The sample HTTP API's Lambda authorizer (payload 2.0, simple responses): `Authorization:
allow` is let in, anything else is refused (403); no header at all is API Gateway's own 401."""


def handler(event, context):
    token = (event.get("headers") or {}).get("authorization", "")
    allowed = token.strip().lower() == "allow"
    return {"isAuthorized": allowed, "context": {"principal": "sample-user" if allowed else ""}}
