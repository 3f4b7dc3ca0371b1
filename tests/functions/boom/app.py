def handler(event, context):
    raise Exception("boom")
