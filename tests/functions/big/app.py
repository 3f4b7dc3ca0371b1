def handler(event, context):
    return "x" * int(event.get("size", 7_000_000))
