import hashlib
import os


def handler(event, context):
    # Digests, never the values: the tests check that no value reaches any output.
    names = event.get("names", [])
    return {
        name: (
            hashlib.sha256(os.environ[name].encode()).hexdigest() if name in os.environ else None
        )
        for name in names
    }
