// The anti-pattern, in Node: the costly client (client.mjs) is built inside the handler, on
// every call: every warm invocation pays the set-up again, in Duration and in the bill
// (functions/init_in_handler in Python).
import { ProfileClient } from "./client.mjs";

export const handler = async (event) => {
  const client = await ProfileClient.create(
    process.env.DOWNSTREAM_URL ?? "http://127.0.0.1:9001",
  );
  try {
    const uid = Number(event?.user ?? 1);
    return { user: (await client.user(uid)).name, client_setup_ms: client.setupMs };
  } finally {
    client.close();
  }
};
