#!/bin/sh
# An AWS_LAMBDA_EXEC_WRAPPER script: Lambda runs it with the runtime's command line as its
# arguments (docs runtimes-modify.html#runtime-wrapper); it may change the environment and
# must exec that command.
export WRAPPED_BY="wrap.sh"
exec "$@"
