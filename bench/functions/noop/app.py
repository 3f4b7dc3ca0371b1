"""No-op handler for bench/invoke_overhead.py: all time measured is the server's."""


def handler(event, context):
    return {}
