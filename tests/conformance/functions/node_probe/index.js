// One nodejs20.x function for the recorded Node cases: the event's "mode" chooses the behaviour.
exports.handler = async (event, context) => {
  const mode = (event && event.mode) || "echo";
  if (mode === "echo") {
    console.log(event);
    return event;
  }
  if (mode === "none") return undefined;
  if (mode === "raise") throw Error(`Error: ${event.error_msg}`);
  if (mode === "env") return process.env;
  if (mode === "ctx") {
    return {
      callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      invokedFunctionArn: context.invokedFunctionArn,
      memoryLimitInMB: context.memoryLimitInMB,
      awsRequestId: context.awsRequestId,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      clientContext: context.clientContext,
      remaining: context.getRemainingTimeInMillis(),
    };
  }
  return { "unknown mode": mode };
};
