"""One python3.12 function for the recorded cases: the event's "mode" chooses the behaviour."""

import getpass
import json
import logging
import os
import resource
import stat
import sys
import time

logger = logging.getLogger()
logger.setLevel(logging.INFO)

RLIMITS = ("AS", "CORE", "CPU", "DATA", "FSIZE", "MEMLOCK", "NOFILE", "NPROC", "RSS", "STACK")


def handler(event, context):
    mode = event.get("mode", "echo") if isinstance(event, dict) else "echo"
    if mode == "echo":
        return event
    if mode == "none":
        return None
    if mode == "raise":
        raise Exception("Handler fails")
    if mode == "log_and_raise":
        print("Lambda log message - print function")
        logger.info("Lambda log message - logging module")
        raise Exception("Test exception (this is intentional)")
    if mode == "exit":
        sys.exit(event.get("code", 0))
    if mode == "big":
        print("generating bytes...")
        return "a" * event["size"]
    if mode == "sleep":
        time.sleep(event["seconds"])
        print("done waiting")
        return "slept"
    if mode == "env":
        return dict(os.environ)
    if mode == "ctx":
        return {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_in_millis": context.get_remaining_time_in_millis(),
            "client_context": None if context.client_context is None else "set",
        }
    if mode == "introspect":
        tmp = os.stat("/tmp")
        return {
            "user": getpass.getuser(),
            "cwd": os.getcwd(),
            "tmp_mode": stat.filemode(tmp.st_mode),
            "tmp_uid": tmp.st_uid,
            "ulimits": {
                n: list(resource.getrlimit(getattr(resource, f"RLIMIT_{n}"))) for n in RLIMITS
            },
        }
    return json.dumps({"unknown mode": mode})
