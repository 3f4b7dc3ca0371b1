import os


def handler(event, context):
    path = os.path.join(os.environ["LAMBDA_TASK_ROOT"], "written-by-the-function")
    try:
        with open(path, "w") as fh:
            fh.write("x")
    except OSError as exc:
        return {"writable": False, "errno": exc.errno}
    os.remove(path)
    return {"writable": True, "errno": None}
