// CommonJS, async: echoes the event with the context fields and the runtime's environment.
exports.handler = async (event, context) => {
  console.log("cjs got", JSON.stringify(event));
  return {
    event,
    context: {
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      awsRequestId: context.awsRequestId,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remaining: context.getRemainingTimeInMillis(),
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
    },
    env: {
      AWS_EXECUTION_ENV: process.env.AWS_EXECUTION_ENV,
      NODE_PATH: process.env.NODE_PATH,
      NODE_OPTIONS: process.env.NODE_OPTIONS ?? null,
      LAMBDA_TASK_ROOT: process.env.LAMBDA_TASK_ROOT,
      _HANDLER: process.env._HANDLER,
      NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? null,
      WRAPPED_BY: process.env.WRAPPED_BY ?? null,
    },
    execArgv: process.execArgv,
    requireModule: process.features.require_module ?? null,
    noDeprecation: process.noDeprecation === true,
    pid: process.pid,
    node: process.version,
  };
};
