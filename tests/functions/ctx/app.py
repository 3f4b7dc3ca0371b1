import os


def handler(event, context):
    keys = """
        AWS_LAMBDA_FUNCTION_NAME AWS_LAMBDA_FUNCTION_MEMORY_SIZE AWS_LAMBDA_FUNCTION_VERSION
        AWS_LAMBDA_LOG_GROUP_NAME AWS_LAMBDA_LOG_STREAM_NAME AWS_REGION AWS_DEFAULT_REGION
        AWS_EXECUTION_ENV _HANDLER LAMBDA_TASK_ROOT LAMBDA_RUNTIME_DIR AWS_LAMBDA_RUNTIME_API
        AWS_LAMBDA_INITIALIZATION_TYPE TZ LANG _X_AMZN_TRACE_ID GREETING
    """.split()
    return {
        "env": {k: os.environ.get(k) for k in keys},
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": getattr(context.client_context, "custom", None),
        "request_id": context.aws_request_id,
        "pid": os.getpid(),
    }
