"""Wire names, once: paths, headers, error types and limits of Lambda's APIs (LAMBDA_SPEC §1–§7).

No logic lives here; every other module spells these names through this one.
"""

from __future__ import annotations

from typing import Final, NotRequired, TypedDict

# --- Runtime API 2018-06-01 (LAMBDA_SPEC §1) -------------------------------------------------
RUNTIME_API_VERSION: Final = "2018-06-01"
RUNTIME_PREFIX: Final = f"/{RUNTIME_API_VERSION}/runtime"
RUNTIME_NEXT: Final = f"{RUNTIME_PREFIX}/invocation/next"
RUNTIME_INVOCATION_PREFIX: Final = f"{RUNTIME_PREFIX}/invocation/"
RUNTIME_INIT_ERROR: Final = f"{RUNTIME_PREFIX}/init/error"
RUNTIME_RESTORE_NEXT: Final = f"{RUNTIME_PREFIX}/restore/next"
RUNTIME_RESTORE_ERROR: Final = f"{RUNTIME_PREFIX}/restore/error"

H_REQUEST_ID: Final = "Lambda-Runtime-Aws-Request-Id"
H_DEADLINE_MS: Final = "Lambda-Runtime-Deadline-Ms"
H_FUNCTION_ARN: Final = "Lambda-Runtime-Invoked-Function-Arn"
H_TRACE_ID: Final = "Lambda-Runtime-Trace-Id"
H_CLIENT_CONTEXT: Final = "Lambda-Runtime-Client-Context"
H_COGNITO_IDENTITY: Final = "Lambda-Runtime-Cognito-Identity"
H_TENANT_ID: Final = "Lambda-Runtime-Aws-Tenant-Id"
H_FUNCTION_ERROR_TYPE: Final = "Lambda-Runtime-Function-Error-Type"
H_RESPONSE_MODE: Final = "Lambda-Runtime-Function-Response-Mode"
# A streamed response's error, as HTTP trailers (NRIC `ResponseStream.js`; the body base64)
H_FUNCTION_ERROR_BODY: Final = "Lambda-Runtime-Function-Error-Body"
RESPONSE_MODE_STREAMING: Final = "streaming"
# A streamed body that starts with an HTTP response's metadata (NRIC `HttpResponseStream.js`):
# a JSON prelude, 8 NUL bytes, then the body
HTTP_INTEGRATION_CONTENT_TYPE: Final = "application/vnd.awslambda.http-integration-response"

# Largest response a runtime may post: 6 MiB + 100 bytes (RIE interop.MaxPayloadSize).
MAX_RUNTIME_RESPONSE_BYTES: Final = 6_291_556

# --- Invoke API 2015-03-31 (LAMBDA_SPEC §2) --------------------------------------------------
INVOKE_PREFIX: Final = "/2015-03-31/functions/"
INVOKE_SUFFIX: Final = "/invocations"
INVOKE_ASYNC_PREFIX: Final = "/2014-11-13/functions/"
INVOKE_ASYNC_SUFFIX: Final = "/invoke-async"
# InvokeWithResponseStream (botocore lambda 2015-03-31 model, `InvokeWithResponseStream`)
INVOKE_STREAM_PATH: Final = "/2021-11-15/functions/{FunctionName}/response-streaming-invocations"
EVENT_STREAM_CONTENT_TYPE: Final = "application/vnd.amazon.eventstream"
EVENT_PAYLOAD_CHUNK: Final = "PayloadChunk"
EVENT_INVOKE_COMPLETE: Final = "InvokeComplete"
# RIE's single endpoint: `/2015-03-31/functions/function/invocations`.
RIE_FUNCTION_NAME: Final = "function"

H_INVOCATION_TYPE: Final = "x-amz-invocation-type"
H_LOG_TYPE: Final = "x-amz-log-type"
H_CALLER_CLIENT_CONTEXT: Final = "x-amz-client-context"
H_CALLER_TENANT_ID: Final = "x-amz-tenant-id"
H_CALLER_TRACE_ID: Final = "x-amzn-trace-id"
H_EXECUTED_VERSION: Final = "X-Amz-Executed-Version"
H_FUNCTION_ERROR: Final = "X-Amz-Function-Error"
H_LOG_RESULT: Final = "X-Amz-Log-Result"
H_ERROR_TYPE: Final = "x-amzn-ErrorType"
H_AMZN_REQUEST_ID: Final = "x-amzn-RequestId"

INVOCATION_REQUEST_RESPONSE: Final = "RequestResponse"
INVOCATION_EVENT: Final = "Event"
INVOCATION_DRY_RUN: Final = "DryRun"
LOG_TYPE_TAIL: Final = "Tail"
FUNCTION_ERROR_UNHANDLED: Final = "Unhandled"
LATEST: Final = "$LATEST"

# Request limits (LAMBDA_SPEC §7): sync requests must be smaller than 6,291,456 bytes,
# Event payloads at most 1 MB (raised from 256 KB).
MAX_SYNC_REQUEST_BYTES: Final = 6_291_456
MAX_EVENT_REQUEST_BYTES: Final = 1_048_576
# Log tail returned with LogType Tail: the last 4 KB of the invocation's log.
LOG_TAIL_BYTES: Final = 4096

# --- The emulator's own control API (emulator/api/control.py) ----------------------------
CONTROL_PREFIX: Final = "/_emu"
CONTROL_HEALTH: Final = f"{CONTROL_PREFIX}/health"
CONTROL_FUNCTIONS: Final = f"{CONTROL_PREFIX}/functions"
CONTROL_ENVIRONMENTS: Final = f"{CONTROL_PREFIX}/environments"
CONTROL_RESET: Final = f"{CONTROL_PREFIX}/reset"
METRICS_PATH: Final = "/metrics"

# --- The HTTP front door (emulator/frontdoor/) ---------------------------------------------
# Function URLs on the Invoke API's port, cargo-lambda's convention
LAMBDA_URL_PREFIX: Final = "/lambda-url"

# --- Error types --------------------------------------------------------------------------
# Service errors (x-amzn-ErrorType)
RESOURCE_NOT_FOUND: Final = "ResourceNotFoundException"
TOO_MANY_REQUESTS: Final = "TooManyRequestsException"
REQUEST_TOO_LARGE: Final = "RequestEntityTooLargeException"
INVALID_REQUEST_CONTENT: Final = "InvalidRequestContentException"
INVALID_PARAMETER_VALUE: Final = "InvalidParameterValueException"
# the control plane's (emulator/controlplane/)
RESOURCE_CONFLICT: Final = "ResourceConflictException"
PRECONDITION_FAILED: Final = "PreconditionFailedException"
CODE_STORAGE_EXCEEDED: Final = "CodeStorageExceededException"
PROVISIONED_CONFIG_NOT_FOUND: Final = "ProvisionedConcurrencyConfigNotFoundException"
SERVICE_EXCEPTION: Final = "ServiceException"
UNSUPPORTED_MEDIA_TYPE: Final = "UnsupportedMediaTypeException"

# Throttle reasons (TooManyRequestsException.Reason)
REASON_ACCOUNT_CONCURRENCY: Final = "ConcurrentInvocationLimitExceeded"
REASON_RESERVED_CONCURRENCY: Final = "ReservedFunctionConcurrentInvocationLimitExceeded"
REASON_SCALING_RATE: Final = "FunctionInvocationRateLimitExceeded"
# Lambda's reason for a caller over its request rate; ours when the Event queue is full.
REASON_CALLER_RATE: Final = "CallerRateLimitExceeded"

# Function errors the platform reports to the caller
RUNTIME_EXIT_ERROR: Final = "Runtime.ExitError"
# A runtime the memory limit killed (AWS's RAPID: rapid/shutdown.go › processTermination,
# OomKilled → ErrorRuntimeOutOfMemory; REPORT lines of 2025-26 read "Status: error
# Error Type: Runtime.OutOfMemory")
RUNTIME_OUT_OF_MEMORY: Final = "Runtime.OutOfMemory"
RUNTIME_UNKNOWN: Final = "Runtime.Unknown"
SANDBOX_TIMEDOUT: Final = "Sandbox.Timedout"
RESPONSE_SIZE_TOO_LARGE: Final = "Function.ResponseSizeTooLarge"
# A streamed response whose connection broke before its end (RIE `directinvoke.go`)
RUNTIME_TRUNCATED_RESPONSE: Final = "Runtime.TruncatedResponse"

# Runtime API errors (answered to the runtime)
INVALID_REQUEST_ID: Final = "InvalidRequestID"
INVALID_STATE_TRANSITION: Final = "InvalidStateTransition"
RUNTIME_ENTITY_TOO_LARGE: Final = "RequestEntityTooLarge"
INVALID_RESPONSE_MODE: Final = "InvalidFunctionResponseMode"
INTERNAL_SERVER_ERROR: Final = "InternalServerError"


class ErrorBody(TypedDict):
    """What the platform and the runtimes send as a function error."""

    errorMessage: str
    errorType: str
    stackTrace: NotRequired[list[str]]
    requestId: NotRequired[str]


class ServiceErrorBody(TypedDict, total=False):
    """A Lambda service error body (`Message` or `message`, `Type`, throttle `Reason`)."""

    Type: str
    Message: str
    message: str
    Reason: str
