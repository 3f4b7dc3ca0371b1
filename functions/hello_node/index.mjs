// The smallest Node.js function: cold start and memory of the runtime itself.
export const handler = async (event, context) => ({
  message: "hello from node",
  request_id: context.awsRequestId,
});
