def handler(event, context):
    print(f"echo: {event!r}")
    return event
