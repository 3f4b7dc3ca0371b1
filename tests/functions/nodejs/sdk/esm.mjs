// The same from an ES module: `import` of the runtime's SDK, which Lambda's nodejs18.x and
// later allow ("searches the folders listed in NODE_PATH when loading ES modules").
import { LambdaClient, InvokeCommand } from "@aws-sdk/client-lambda";
import { S3Client, PutObjectCommand } from "@aws-sdk/client-s3";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";

export const handler = async (event) => {
  const lambda = new LambdaClient({ region, credentials, endpoint: event.lambda });
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: "sdk_target", Payload: JSON.stringify({ n: 50 }) }),
  );
  const s3 = new S3Client({ region, credentials, endpoint: event.aws, forcePathStyle: true });
  const put = await s3.send(new PutObjectCommand({ Bucket: "b", Key: "esm.txt", Body: "hi" }));
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region, credentials, endpoint: event.aws }),
  );
  await ddb.send(new PutCommand({ TableName: "t", Item: { id: "esm", n: 2 } }));
  return {
    status: out.StatusCode,
    answer: JSON.parse(Buffer.from(out.Payload).toString()),
    etag: put.ETag,
    s3: import.meta.resolve("@aws-sdk/client-s3"),
  };
};
