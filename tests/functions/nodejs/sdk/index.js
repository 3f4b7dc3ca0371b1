// The AWS SDK for JavaScript v3 from the runtime, not bundled (Lambda's nodejs18.x and later
// have it in /var/runtime/node_modules): real calls to local endpoints given in the event.
const { LambdaClient, InvokeCommand } = require("@aws-sdk/client-lambda");
const { S3Client, PutObjectCommand } = require("@aws-sdk/client-s3");
const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, PutCommand } = require("@aws-sdk/lib-dynamodb");

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";

exports.handler = async (event) => {
  const lambda = new LambdaClient({ region, credentials, endpoint: event.lambda });
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: "sdk_target", Payload: JSON.stringify({ n: 21 }) }),
  );
  const s3 = new S3Client({ region, credentials, endpoint: event.aws, forcePathStyle: true });
  const put = await s3.send(new PutObjectCommand({ Bucket: "b", Key: "cjs.txt", Body: "hi" }));
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region, credentials, endpoint: event.aws }),
  );
  await ddb.send(new PutCommand({ TableName: "t", Item: { id: "cjs", n: 1 } }));
  return {
    status: out.StatusCode,
    answer: JSON.parse(Buffer.from(out.Payload).toString()),
    etag: put.ETag,
    s3: require.resolve("@aws-sdk/client-s3"),
    version: require("@aws-sdk/client-s3/package.json").version,
  };
};
