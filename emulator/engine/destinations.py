"""Where an Event invocation goes when it fails for good: the function's `on_failure`
destination, with Lambda's invocation record (LAMBDA_SPEC §7).

`on_failure = "function:NAME"` submits the record as an Event invocation of that function;
any other value is a file that gets the record as one JSON line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

from emulator import errors, wire
from emulator.arns import ArnScheme
from emulator.engine.events import EventFailure
from emulator.engine.invocation import Invocation
from emulator.engine.pool import FunctionPool
from emulator.metrics.logs import LogSink


class FailureDestinations:
    """The Event queue's `on_final_failure`."""

    def __init__(
        self,
        functions: Mapping[str, FunctionPool],
        submit: Callable[[Invocation], None],
        logs: LogSink,
        arns: ArnScheme,
        warn: Callable[[str], None],
    ) -> None:
        self._functions = functions
        self._submit = submit
        self._logs = logs
        self._arns = arns
        self._warn = warn

    def __call__(self, failure: EventFailure) -> None:
        inv = failure.invocation
        self._logs.write(
            inv.function_name, f"Event {inv.request_id} was not delivered: {failure.condition}"
        )
        pool = self._functions.get(inv.function_name)
        destination = pool.fn.on_failure if pool is not None else None
        if destination is None:
            return
        record = json.dumps(invocation_record(failure), separators=(",", ":"))
        if destination.startswith("function:"):
            self._to_function(destination, record, inv.request_id)
            return
        try:
            with open(destination, "a", encoding="utf-8") as fh:
                fh.write(record + "\n")
        except OSError as exc:
            self._warn(f"on_failure: cannot write {destination}: {exc.strerror}")

    def _to_function(self, destination: str, record: str, request_id: str) -> None:
        target = self._functions.get(destination.removeprefix("function:"))
        if target is None:
            self._warn(f"on_failure: no function '{destination}' for event {request_id}")
            return
        try:
            self._submit(
                Invocation(
                    function_name=target.fn.name,
                    payload=record.encode(),
                    invoked_arn=self._arns.function_arn(target.fn.name),
                    invocation_type=wire.INVOCATION_EVENT,
                )
            )
        except errors.TooManyRequests:
            self._warn(f"on_failure: the Event queue is full; record of {request_id} lost")


def invocation_record(failure: EventFailure) -> dict[str, object]:
    """Lambda's invocation record for an asynchronous invocation's destination."""
    inv = failure.invocation
    try:
        request_payload: object = json.loads(inv.payload or b"{}")
    except (ValueError, RecursionError):
        request_payload = inv.payload.decode("utf-8", "replace")
    record: dict[str, object] = {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z",
        "requestContext": {
            "requestId": inv.request_id,
            # qualified, as Lambda writes it: ...:function:<name>:<version>
            "functionArn": inv.invoked_arn
            if inv.invoked_arn.count(":") >= 7
            else f"{inv.invoked_arn}:{wire.LATEST}",
            "condition": failure.condition,
            "approximateInvokeCount": failure.invoke_count,
        },
        "requestPayload": request_payload,
    }
    result = failure.result
    if result is not None:
        record["responseContext"] = {
            "statusCode": 200,
            "executedVersion": inv.executed_version,
            "functionError": "Unhandled" if result.function_error else None,
        }
        try:
            record["responsePayload"] = json.loads(result.payload or b"null")
        except (ValueError, RecursionError):
            record["responsePayload"] = result.payload.decode("utf-8", "replace")
    return record
