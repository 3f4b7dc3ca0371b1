// A Node function beside the probe extension (tests/functions/ext_layer/extensions/probe).
exports.handler = async (event, context) => {
  console.log(`node ext handling ${context.awsRequestId}`);
  return { pid: process.pid };
};
