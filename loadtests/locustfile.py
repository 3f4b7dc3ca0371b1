"""The locustfile of `lambda-emu load` and of the docker-compose master and workers.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:9000 \
        --lambda-function hello --users 20 --spawn-rate 20 --run-time 1m --headless

Everything is set by the `--lambda-*` options or their LAMBDA_* environment variables (see
`loadtests.plugin`). To load a function your own way, subclass `LambdaUser` in your own
locustfile and call `loadtests.plugin.install()` there.
"""

from __future__ import annotations

from loadtests.plugin import install
from loadtests.shapes import LambdaLoadShape
from loadtests.user import LambdaUser

install()

__all__ = ["FunctionUser", "LambdaLoadShape"]


class FunctionUser(LambdaUser):
    """Invokes --lambda-function with --lambda-payload."""
