import os


def handler(event, context):
    doubled = event["n"] * 2
    remaining = context.get_remaining_time_in_millis()
    return {"doubled": doubled, "remaining_ms": remaining, "pid": os.getpid()}  # BREAK
