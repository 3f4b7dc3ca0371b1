"""One exception hierarchy that mirrors the wire.

LambdaEmuError
├── ManifestError              a broken manifest: one line naming file, function, field
├── ServiceError               answered on the Invoke API: status + x-amzn-ErrorType + JSON
│   ├── ResourceNotFound           404 ResourceNotFoundException
│   ├── TooManyRequests            429 TooManyRequestsException (with Reason)
│   ├── RequestTooLarge            413 RequestEntityTooLargeException
│   ├── InvalidRequestContent      400 InvalidRequestContentException
│   ├── InvalidParameterValue      400 InvalidParameterValueException
│   ├── ResourceConflict           409 ResourceConflictException
│   ├── PreconditionFailed         412 PreconditionFailedException
│   ├── CodeStorageExceeded        400 CodeStorageExceededException
│   └── ProvisionedConfigNotFound  404 ProvisionedConcurrencyConfigNotFoundException
├── RuntimeApiError            answered to a runtime on the Runtime API
│   ├── InvalidRequestID           400
│   ├── InvalidStateTransition     403
│   └── RuntimeEntityTooLarge      413
├── SandboxError               a sandbox could not start or be controlled (OS errors
│                              are translated into it at the sandbox boundary)
└── InvalidTransition          the engine tried a move its state table forbids (our bug)
"""

from __future__ import annotations

import json
from pathlib import Path

from emulator import wire


class LambdaEmuError(Exception):
    """Base of every error this package raises on purpose."""


class ManifestError(LambdaEmuError):
    """A manifest that cannot be used. `str()` is the one-line CLI message."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        function: str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.function = function
        self.field = field
        self.message = message
        where = [str(self.path)]
        if function is not None:
            where.append(f"function '{function}'")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(": ".join(where) + ": " + message)


class ServiceError(LambdaEmuError):
    """A Lambda service error, rendered with Lambda's own status, type header and body."""

    status: int = 500
    error_type: str = wire.SERVICE_EXCEPTION
    message_key: str = "message"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, str]:
        return {"Type": "User", self.message_key: self.message}

    def render(self) -> bytes:
        return json.dumps(self.body()).encode()


class ResourceNotFound(ServiceError):
    status = 404
    error_type = wire.RESOURCE_NOT_FOUND
    message_key = "Message"  # observed capital M (LAMBDA_SPEC §2)


class TooManyRequests(ServiceError):
    status = 429
    error_type = wire.TOO_MANY_REQUESTS

    def __init__(self, reason: str, message: str = "Rate Exceeded.") -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, str]:
        return {"Reason": self.reason, "Type": "User", "message": self.message}


class RequestTooLarge(ServiceError):
    status = 413
    error_type = wire.REQUEST_TOO_LARGE


class InvalidRequestContent(ServiceError):
    status = 400
    error_type = wire.INVALID_REQUEST_CONTENT


class InvalidParameterValue(ServiceError):
    status = 400
    error_type = wire.INVALID_PARAMETER_VALUE


class ResourceConflict(ServiceError):
    status = 409
    error_type = wire.RESOURCE_CONFLICT


class PreconditionFailed(ServiceError):
    status = 412
    error_type = wire.PRECONDITION_FAILED


class CodeStorageExceeded(ServiceError):
    status = 400
    error_type = wire.CODE_STORAGE_EXCEEDED


class ProvisionedConfigNotFound(ServiceError):
    status = 404
    error_type = wire.PROVISIONED_CONFIG_NOT_FOUND


class RuntimeApiError(LambdaEmuError):
    """An error answered to a runtime: `{"errorMessage", "errorType"}` with a status."""

    status: int = 500
    error_type: str = wire.INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def render(self) -> bytes:
        return json.dumps({"errorMessage": self.message, "errorType": self.error_type}).encode()


class InvalidRequestID(RuntimeApiError):
    status = 400
    error_type = wire.INVALID_REQUEST_ID

    def __init__(self, message: str = "Invalid request ID") -> None:
        super().__init__(message)


class InvalidStateTransition(RuntimeApiError):
    status = 403
    error_type = wire.INVALID_STATE_TRANSITION

    def __init__(self, current: str, target: str) -> None:
        # Message format of RIE core/states.go (LAMBDA_SPEC §1).
        super().__init__(
            f"State transition from {current} to {target} failed for runtime. "
            "Error: State transition is not allowed"
        )


class RuntimeEntityTooLarge(RuntimeApiError):
    status = 413
    error_type = wire.RUNTIME_ENTITY_TOO_LARGE

    def __init__(self) -> None:
        super().__init__(
            f"Exceeded maximum allowed payload size ({wire.MAX_RUNTIME_RESPONSE_BYTES} bytes)."
        )


class SandboxError(LambdaEmuError):
    """A sandbox could not be started or controlled."""


class InvalidTransition(LambdaEmuError):
    """The engine tried a move its state table forbids: a bug of the emulator, never of a
    function (emulator/engine/states.py)."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"execution environment: no transition from {current} to {target}")
        self.current = current
        self.target = target
