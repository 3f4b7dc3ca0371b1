"""The smallest Python function: cold start and memory of the runtime itself."""


def handler(event, context):
    return {"message": "hello from python", "request_id": context.aws_request_id}
