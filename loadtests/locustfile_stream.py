"""The locustfile of `lambda-emu load --stream`: a function whose response streams, called
through InvokeWithResponseStream, its function URL, or both (--lambda-stream).

    locust -f loadtests/locustfile_stream.py --host http://127.0.0.1:9000 \
        --lambda-function stream_node --lambda-stream both --users 4 --run-time 30s --headless

Locust's table gets a TTFB row per target beside the calls (whose response time is the time
to the last byte); the Lambda summary and tab get TTFB and TTLB percentiles per target.
"""

from __future__ import annotations

from loadtests.plugin import install
from loadtests.shapes import LambdaLoadShape
from loadtests.stream_user import StreamingLambdaUser

install()

__all__ = ["FunctionStreamUser", "LambdaLoadShape"]


class FunctionStreamUser(StreamingLambdaUser):
    """Streams --lambda-function with --lambda-payload, via --lambda-stream."""
