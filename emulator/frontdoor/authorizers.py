"""Lambda authorizers (docs/frontdoor-spec.md §5): the event an authorizer function gets,
what its answer means, and API Gateway's result cache keyed by identity with a TTL.

Authorizer calls are real Lambda invocations through the registry (cold starts, REPORT,
trace). The front door asks `Authorizers.authorize` before invoking a route's function.

STUB: signatures fixed for the front door's other modules; bodies come with issue 14.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from emulator.frontdoor.events import HttpRequest, Target
from emulator.frontdoor.model import Authorizer, HttpApi


@dataclass(slots=True)
class CallResult:
    """One invocation of an authorizer function, as the front door ran it."""

    payload: bytes
    function_error: bool  # the authorizer raised, timed out or crashed
    request_id: str  # the Lambda request id
    throttled: bool = False


# invoke(function_name, payload) → CallResult: a real invocation through the registry
Invoke = Callable[[str, bytes], Awaitable[CallResult]]


@dataclass(slots=True)
class Decision:
    outcome: Literal["allow", "unauthorized", "forbidden", "error"]
    # what reaches the integration's requestContext.authorizer, shaped for its payload version
    context: Mapping[str, Any] | None = None
    request_id: str | None = None  # the authorizer invocation's Lambda request id (None: cached)
    cached: bool = False


class Authorizers:
    """The authorizers of every API, with their result caches. `clock` is injectable for
    TTL tests (a unit test may fake a clock, not a runtime)."""

    def __init__(self, invoke: Invoke, clock: Callable[[], float]) -> None:
        self.invoke = invoke
        self.clock = clock

    async def authorize(
        self, api: HttpApi, authorizer: Authorizer, request: HttpRequest, target: Target
    ) -> Decision:
        raise NotImplementedError
