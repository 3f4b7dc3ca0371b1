"""Invoke API `2015-03-31` (LAMBDA_SPEC §2): what boto3, the AWS CLI and every SDK call.

    POST /2015-03-31/functions/{FunctionName}/invocations?Qualifier=…
    POST /2014-11-13/functions/{FunctionName}/invoke-async        (legacy InvokeAsync → 202)

RequestResponse answers 200 (also on function errors, with `X-Amz-Function-Error`), Event 202,
DryRun 204. Service errors carry `x-amzn-ErrorType` and Lambda's JSON bodies. Handlers only
validate, build an `Invocation`, submit it and write its reply when it resolves: they never
touch processes, and they see the functions only through the registry.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import Callable
from functools import partial
from typing import Protocol
from urllib.parse import parse_qs, unquote

from emulator import errors, wire
from emulator.api.payload_errors import parse_error_message
from emulator.api.responses import JSON, service_error
from emulator.arns import ArnScheme, ValidationError
from emulator.engine.functions import FunctionRegistry
from emulator.engine.invocation import Invocation, InvocationResult, trace_id_from
from emulator.engine.pool import FunctionPool
from emulator.httpserver import Reply, Request, Response


class EventSubmitter(Protocol):
    def submit(self, inv: Invocation) -> None: ...


class _ServiceException(errors.ServiceError):
    status = 500
    error_type = wire.SERVICE_EXCEPTION
    message_key = "Message"


_INVOCATION_TYPES = (
    wire.INVOCATION_REQUEST_RESPONSE,
    wire.INVOCATION_EVENT,
    wire.INVOCATION_DRY_RUN,
)


class InvokeApi:
    def __init__(
        self,
        functions: FunctionRegistry,
        events: EventSubmitter,
        arns: ArnScheme,
        *,
        on_internal_error: Callable[[Exception], None],
    ) -> None:
        self.functions = functions
        self.events = events
        self.arns = arns
        self._internal_error = on_internal_error
        # the state of a function the control plane knows but does not serve yet (Pending)
        self.state_of: Callable[[str], str | None] = lambda name: None

    # --- handlers (rows of emulator/api/routes.py) ----------------------------------------
    def invoke(self, request: Request) -> Response | Reply:
        kind = request.headers.get(wire.H_INVOCATION_TYPE) or wire.INVOCATION_REQUEST_RESPONSE
        return self._invoke(request, kind)

    def invoke_async(self, request: Request) -> Response | Reply:
        response = self._invoke(request, wire.INVOCATION_EVENT)
        assert isinstance(response, Response)
        if response.status == 202:
            response.body = b'{"Status":202}'
            response.content_type = JSON
        return response

    # --- the invocation -----------------------------------------------------------------------
    def resolve(self, raw_name: str, query: str) -> tuple[FunctionPool, str]:
        """The pool and the invoked ARN for a `FunctionName` (and its `Qualifier`): `$LATEST`,
        a published version or an alias (whose routing picks the version, `pool.fn.version`)."""
        qualifier = parse_qs(query).get("Qualifier", [None])[0] if query else None
        function_name = unquote(raw_name)
        name, qualifier = self.arns.parse(function_name, qualifier)
        pool = self.functions.resolve(name, qualifier)
        if (
            pool is None
            and function_name == wire.RIE_FUNCTION_NAME
            and qualifier in (None, wire.LATEST)
        ):
            pool = self.functions.default()  # RIE's one endpoint reaches the default function
        if pool is None and (state := self.state_of(name)) is not None:
            # recorded by a caller invoking right after CreateFunction
            # (remotion-dev/remotion#1186, 2022-08)
            raise errors.ResourceConflict(
                "The operation cannot be performed at this time. The function is currently in "
                f"the following state: {state}"
            )
        if pool is None:
            # Invoke names the unqualified function by its $LATEST ARN (LocalStack's
            # AWS-recorded TestLambdaFeatures::test_invoke_exceptions, 2025-11), an unknown
            # alias or version by the qualified ARN (TestLambdaAliases::test_lambda_alias_moving
            # › invocation_exc_not_existent, 2025-11)
            raise errors.ResourceNotFound(
                f"Function not found: {self.arns.function_arn(name, qualifier or wire.LATEST)}"
            )
        # The runtime's invoked ARN is the one the caller named: an alias's stays the alias's
        # (docs: python-context.html, invoked_function_arn)
        return pool, self.arns.function_arn(pool.fn.name, qualifier)

    def _invoke(self, request: Request, kind: str) -> Response | Reply:
        pool, arn = self.resolve(request.params["FunctionName"], request.query)
        if kind not in _INVOCATION_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]"
            )
        size = request.body_size
        if kind == wire.INVOCATION_EVENT and size > wire.MAX_EVENT_REQUEST_BYTES:
            raise errors.RequestTooLarge(
                f"{size} byte payload is too large for the Event invocation type "
                f"(limit {wire.MAX_EVENT_REQUEST_BYTES} bytes)"
            )
        if size > wire.MAX_SYNC_REQUEST_BYTES or request.truncated:
            raise errors.RequestTooLarge(
                f"Request must be smaller than {wire.MAX_SYNC_REQUEST_BYTES} bytes for the "
                "InvokeFunction operation"
            )
        payload = request.body or b"{}"  # ⚠ an empty payload reaches the function as {}
        try:
            json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise errors.InvalidRequestContent(parse_error_message(payload)) from exc
        client_context = client_context_header(request.headers.get(wire.H_CALLER_CLIENT_CONTEXT))
        if kind == wire.INVOCATION_DRY_RUN:
            return Response(204, headers=[(wire.H_AMZN_REQUEST_ID, str(uuid.uuid4()))])
        inv = Invocation(
            function_name=pool.fn.name,
            payload=payload,
            invoked_arn=arn,
            client_context=client_context,
            tenant_id=request.headers.get(wire.H_CALLER_TENANT_ID),
            trace_id=trace_id_from(request.headers.get(wire.H_CALLER_TRACE_ID)),
            invocation_type=kind,
            log_tail=kind != wire.INVOCATION_EVENT
            and request.headers.get(wire.H_LOG_TYPE) == wire.LOG_TYPE_TAIL,
            executed_version=pool.fn.version,
        )
        if kind == wire.INVOCATION_EVENT:
            self.events.submit(inv)
            return Response(202, headers=[(wire.H_AMZN_REQUEST_ID, inv.request_id)])
        pool.submit(inv)  # raises TooManyRequests when throttled at once
        reply = request.defer()
        inv.reply.add_done_callback(partial(self._answer, inv, reply))
        return reply

    def _answer(self, inv: Invocation, reply: Reply, fut: asyncio.Future[InvocationResult]) -> None:
        exc = fut.exception()
        if exc is None:
            reply.send(render(inv, fut.result()))
        elif isinstance(exc, errors.ServiceError):
            reply.send(service_error(exc, inv.request_id))
        else:  # our own bug: still one answer, in Lambda's 500 shape
            self._internal_error(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            failure = _ServiceException(f"{type(exc).__name__}: {exc}")
            reply.send(service_error(failure, inv.request_id))


def client_context_header(raw: str | None) -> str | None:
    """The caller's `X-Amz-Client-Context` (base64 JSON), decoded for the runtime."""
    if not raw:
        return None
    try:
        text = base64.b64decode(raw, validate=True).decode()
        json.loads(text)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise errors.InvalidRequestContent(
            "Client context must be a valid Base64-encoded JSON object."
        ) from exc
    return text


def render(inv: Invocation, result: InvocationResult) -> Response:
    headers = [
        (wire.H_AMZN_REQUEST_ID, inv.request_id),
        (wire.H_EXECUTED_VERSION, inv.executed_version),
    ]
    if result.function_error:
        headers.append((wire.H_FUNCTION_ERROR, wire.FUNCTION_ERROR_UNHANDLED))
    if inv.log_tail:
        headers.append((wire.H_LOG_RESULT, base64.b64encode(result.log).decode()))
    return Response(200, result.payload, headers, content_type=result.content_type)
