// The pattern, in Node: the costly client is created at module level with a top-level await,
// so its set-up runs in the Init phase (billed once, on the cold start) and every warm
// invocation only pays for its own request. An ES module's top-level await completes before
// the runtime asks for the first event (docs: lambda nodejs-handler, "top-level await"); in
// CommonJS the promise would still be pending and the first invocation would wait for it.
// in_handler.mjs builds the same client inside the handler (functions/init_global in Python).
import { ProfileClient } from "./client.mjs";

const client = await ProfileClient.create(process.env.DOWNSTREAM_URL ?? "http://127.0.0.1:9001");

export const handler = async (event) => {
  const uid = Number(event?.user ?? 1);
  return { user: (await client.user(uid)).name, client_setup_ms: client.setupMs };
};
