import sys


def handler(event, context):
    return {"python": f"{sys.version_info.major}.{sys.version_info.minor}"}
