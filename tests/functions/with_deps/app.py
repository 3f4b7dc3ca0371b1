import six  # from requirements.txt, installed once into a cached directory


def handler(event, context):
    return {"six": six.__version__, "file": six.__file__}
