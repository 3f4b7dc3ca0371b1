// The control plane through the AWS SDK for JavaScript v3 (@aws-sdk/client-lambda): create
// from a zip, wait (the SDK's own waiters), invoke, update code, publish, alias with weights,
// concurrency, provisioned concurrency, delete. Prints one JSON object of what it saw; the
// Python test (tests/test_control_plane.py) checks it against the recordings.
import { readFileSync } from "node:fs";
import {
  LambdaClient, CreateFunctionCommand, InvokeCommand, UpdateFunctionCodeCommand,
  PublishVersionCommand, CreateAliasCommand, PutFunctionConcurrencyCommand,
  GetFunctionConcurrencyCommand, PutProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommand, DeleteFunctionCommand, GetFunctionCommand,
  waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";

const [endpoint, zipV1, zipV2, role] = process.argv.slice(2);
const client = new LambdaClient({
  endpoint, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "lambda-emu", secretAccessKey: "lambda-emu" },
});
const name = "cp-js";
const waiter = { client, maxWaitTime: 600, minDelay: 1, maxDelay: 1 };
const call = async (args) => {
  const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: "{}", ...args }));
  return { ...JSON.parse(new TextDecoder().decode(out.Payload)), executed: out.ExecutedVersion };
};
const seen = {};
const created = await client.send(new CreateFunctionCommand({
  FunctionName: name, Runtime: "python3.12", Role: role, Handler: "app.handler",
  Code: { ZipFile: readFileSync(zipV1) },
}));
seen.created = { State: created.State, StateReasonCode: created.StateReasonCode,
                 status: created.$metadata.httpStatusCode };
await waitUntilFunctionActiveV2(waiter, { FunctionName: name });
seen.first = await call({});
const updated = await client.send(new UpdateFunctionCodeCommand({
  FunctionName: name, ZipFile: readFileSync(zipV2) }));
seen.updated = { LastUpdateStatus: updated.LastUpdateStatus };
await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
seen.second = await call({});
seen.v1 = (await client.send(new PublishVersionCommand({ FunctionName: name }))).Version;
const alias = await client.send(new CreateAliasCommand({
  FunctionName: name, Name: "live", FunctionVersion: "1",
  RoutingConfig: { AdditionalVersionWeights: {} } }));
seen.alias = alias.AliasArn;
seen.viaAlias = await call({ Qualifier: "live" });
await client.send(new PutFunctionConcurrencyCommand({
  FunctionName: name, ReservedConcurrentExecutions: 4 }));
seen.reserved = (await client.send(new GetFunctionConcurrencyCommand({ FunctionName: name })))
  .ReservedConcurrentExecutions;
const pc = await client.send(new PutProvisionedConcurrencyConfigCommand({
  FunctionName: name, Qualifier: "1", ProvisionedConcurrentExecutions: 1 }));
seen.provisioned = [pc.Status];
while (seen.provisioned.at(-1) !== "READY") {
  const got = await client.send(new GetProvisionedConcurrencyConfigCommand({
    FunctionName: name, Qualifier: "1" }));
  seen.provisioned.push(got.Status);
  if (got.Status === "FAILED") break;
}
await client.send(new DeleteFunctionCommand({ FunctionName: name }));
try {
  await client.send(new GetFunctionCommand({ FunctionName: name }));
  seen.afterDelete = "found";
} catch (error) {
  seen.afterDelete = { name: error.name, message: error.message };
}
console.log(JSON.stringify(seen));
