"""Invoke API `2015-03-31` (LAMBDA_SPEC §2): what boto3, the AWS CLI and every SDK call.

    POST /2015-03-31/functions/{FunctionName}/invocations?Qualifier=…
    POST /2014-11-13/functions/{FunctionName}/invoke-async        (legacy InvokeAsync → 202)

RequestResponse answers 200 (also on function errors, with `X-Amz-Function-Error`), Event 202,
DryRun 204. Service errors carry `x-amzn-ErrorType` and Lambda's JSON bodies. Handlers only
validate, build an `Invocation` and await its reply: they never touch processes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from collections.abc import Awaitable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from emulator import errors, wire
from emulator.engine.invocation import Invocation, InvocationResult
from emulator.httpserver import Reply, Request, Response

if TYPE_CHECKING:
    from emulator.engine.pool import FunctionPool
    from emulator.server import Emulator

_JSON = "application/json"


class _ServiceException(errors.ServiceError):
    status = 500
    error_type = wire.SERVICE_EXCEPTION
    message_key = "Message"


class _Validation(errors.ServiceError):
    status = 400
    error_type = "ValidationException"


def service_error_response(exc: errors.ServiceError, request_id: str | None = None) -> Response:
    headers = [
        (wire.H_ERROR_TYPE, exc.error_type),
        (wire.H_AMZN_REQUEST_ID, request_id or str(uuid.uuid4())),
    ]
    return Response(exc.status, exc.render(), headers, content_type=_JSON)


class InvokeApi:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        cfg = emulator.cfg
        self._arn_prefix = f"arn:aws:lambda:{cfg.region}:{cfg.account_id}:function:"
        self._tasks: set[asyncio.Task[None]] = set()

    # --- function names ---------------------------------------------------------------------
    def _resolve(self, raw_name: str, query: str) -> tuple[FunctionPool, str]:
        """FunctionName may be `name`, `name:qualifier`, a partial or a full ARN."""
        name = unquote(raw_name)
        qualifier = parse_qs(query).get("Qualifier", [None])[0] if query else None
        parts = name.split(":")
        if name.startswith("arn:"):
            # arn:aws:lambda:region:account:function:name[:qualifier]
            if len(parts) not in (7, 8) or parts[5] != "function":
                raise _Validation(
                    f"1 validation error detected: Value '{name}' at 'functionName' "
                    "failed to satisfy constraint"
                )
            fn_name = parts[6]
            qualifier = parts[7] if len(parts) == 8 else qualifier
        elif len(parts) >= 3 and parts[1] == "function":  # account:function:name[:qualifier]
            fn_name = parts[2]
            qualifier = parts[3] if len(parts) > 3 else qualifier
        else:
            fn_name = parts[0]
            qualifier = parts[1] if len(parts) > 1 else qualifier
        pool = self.emulator.pools.get(fn_name)
        if pool is None and fn_name == wire.RIE_FUNCTION_NAME:
            pool = self.emulator.default_pool()  # RIE's one endpoint reaches the default function
        arn = self._arn_prefix + fn_name + (f":{qualifier}" if qualifier else "")
        if pool is None or qualifier not in (None, wire.LATEST):
            raise errors.ResourceNotFound(f"Function not found: {arn}")
        return pool, self._arn_prefix + pool.fn.name + (f":{qualifier}" if qualifier else "")

    def arn(self, function_name: str) -> str:
        return self._arn_prefix + function_name

    # --- routes -------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response | Reply | Awaitable[Response]:
        path = request.path
        try:
            if path.startswith(wire.INVOKE_PREFIX) and path.endswith(wire.INVOKE_SUFFIX):
                name = path[len(wire.INVOKE_PREFIX) : -len(wire.INVOKE_SUFFIX)]
                if request.method != "POST":
                    return _not_found(path)
                return self._invoke(request, name, request.headers.get(wire.H_INVOCATION_TYPE))
            if path.startswith(wire.INVOKE_ASYNC_PREFIX) and path.endswith(
                wire.INVOKE_ASYNC_SUFFIX
            ):
                name = path[len(wire.INVOKE_ASYNC_PREFIX) : -len(wire.INVOKE_ASYNC_SUFFIX)]
                response = self._invoke(request, name, wire.INVOCATION_EVENT)
                assert isinstance(response, Response)
                if response.status == 202:
                    response.body = b'{"Status":202}'
                    response.content_type = _JSON
                return response
            return self.emulator.control.handle(request)
        except errors.ServiceError as exc:
            return service_error_response(exc)

    def _invoke(self, request: Request, name: str, invocation_type: str | None) -> Response | Reply:
        pool, arn = self._resolve(name, request.query)
        kind = invocation_type or wire.INVOCATION_REQUEST_RESPONSE
        if kind not in (
            wire.INVOCATION_REQUEST_RESPONSE,
            wire.INVOCATION_EVENT,
            wire.INVOCATION_DRY_RUN,
        ):
            raise _Validation(
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
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.InvalidRequestContent(
                f"Could not parse request body into json: Could not parse payload into json: {exc}"
            ) from exc
        client_context = None
        raw_context = request.headers.get(wire.H_CALLER_CLIENT_CONTEXT)
        if raw_context:
            try:
                client_context = base64.b64decode(raw_context, validate=True).decode()
                json.loads(client_context)
            except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
                raise errors.InvalidRequestContent(
                    "Client context must be a valid Base64-encoded JSON object."
                ) from exc
        if kind == wire.INVOCATION_DRY_RUN:
            return Response(204, headers=[(wire.H_AMZN_REQUEST_ID, str(uuid.uuid4()))])
        inv = Invocation(
            function_name=pool.fn.name,
            payload=payload,
            invoked_arn=arn,
            client_context=client_context,
            tenant_id=request.headers.get(wire.H_CALLER_TENANT_ID),
            invocation_type=kind,
            log_tail=request.headers.get(wire.H_LOG_TYPE) == wire.LOG_TYPE_TAIL,
        )
        if kind == wire.INVOCATION_EVENT:
            inv.log_tail = False
            self.emulator.events.submit(inv)
            return Response(202, headers=[(wire.H_AMZN_REQUEST_ID, inv.request_id)])
        reply = request.defer()
        inv.responder = lambda result: reply.send(_render(inv, result))
        task = asyncio.get_running_loop().create_task(self._run(pool, inv, reply))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return reply

    async def _run(self, pool: FunctionPool, inv: Invocation, reply: Reply) -> None:
        """Drive one invocation; the environment answers it through `inv.responder`."""
        try:
            result = await pool.invoke(inv)
        except errors.ServiceError as exc:
            reply.send(service_error_response(exc, inv.request_id))
            return
        except Exception as exc:  # our own bug: still one answer, in Lambda's 500 shape
            self.emulator.report_internal_error(exc)
            reply.send(
                service_error_response(
                    _ServiceException(f"{type(exc).__name__}: {exc}"), inv.request_id
                )
            )
            return
        inv.answer(result)  # paths that did not answer early (a failed init)


def _render(inv: Invocation, result: InvocationResult) -> Response:
    headers = [
        (wire.H_AMZN_REQUEST_ID, inv.request_id),
        (wire.H_EXECUTED_VERSION, wire.LATEST),
    ]
    if result.function_error:
        headers.append((wire.H_FUNCTION_ERROR, wire.FUNCTION_ERROR_UNHANDLED))
    if inv.log_tail:
        headers.append((wire.H_LOG_RESULT, base64.b64encode(result.log).decode()))
    return Response(200, result.payload, headers, content_type=result.content_type)


def _not_found(path: str) -> Response:
    body = json.dumps({"Type": "User", "message": f"Unknown operation {path}"}).encode()
    return Response(
        404, body, [(wire.H_ERROR_TYPE, "UnknownOperationException")], content_type=_JSON
    )
