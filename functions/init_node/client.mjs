// A client with a costly set-up, as SDK, database and API clients have (shared by
// global.mjs and in_handler.mjs): it fetches a secret from the downstream service (a 100 ms
// round trip), derives a key from it (CPU, as an SDK's signing keys and service models cost),
// then keeps one HTTP connection open.
import { pbkdf2Sync } from "node:crypto";
import http from "node:http";

export class ProfileClient {
  static async create(baseUrl) {
    const started = performance.now();
    const client = new ProfileClient(baseUrl);
    const { secret } = await client.get("/secrets/db");
    client.key = pbkdf2Sync(secret, "lambda-emu", 20_000, 32, "sha256");
    client.setupMs = Math.round((performance.now() - started) * 10) / 10;
    return client;
  }

  constructor(baseUrl) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  get(path) {
    return new Promise((resolve, reject) => {
      const url = new URL(path, this.base);
      const req = http.get(url, { agent: this.agent, headers: { Authorization: "sample" } });
      req.on("error", reject);
      req.on("response", (resp) => {
        const chunks = [];
        resp.on("data", (chunk) => chunks.push(chunk));
        resp.on("end", () => {
          if (resp.statusCode !== 200) reject(new Error(`GET ${path}: ${resp.statusCode}`));
          else resolve(JSON.parse(Buffer.concat(chunks).toString()));
        });
      });
    });
  }

  user(uid) {
    return this.get(`/users/${uid}`);
  }

  close() {
    this.agent.destroy();
  }
}
