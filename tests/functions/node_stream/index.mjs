// A streaming Node.js function (awslambda.streamifyResponse, as AWS's runtime interface client
// injects it). The payload, or a function URL request's body, says what to write: `parts`, one
// write() each, part i > 0 only once $PROBE_DIR/<go>.<i> exists; `prelude`: through
// awslambda.HttpResponseStream.from; `fail`: throw a TypeError after the parts.
import { existsSync } from "node:fs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(path) {
  while (!existsSync(path)) await sleep(5);
}

export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const ev = event.requestContext ? JSON.parse(event.body || "{}") : event;
  let stream = responseStream;
  if (ev.prelude) stream = awslambda.HttpResponseStream.from(responseStream, ev.prelude);
  const parts = ev.parts || [];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && ev.go) await waitFor(`${process.env.PROBE_DIR}/${ev.go}.${i}`);
    stream.write(parts[i]);
  }
  if (ev.fail) throw new TypeError(ev.fail);
  stream.end();
});
