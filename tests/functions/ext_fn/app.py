import os


def handler(event, context):
    print(f"ext_fn handling {context.aws_request_id}")
    return {"pid": os.getpid()}
