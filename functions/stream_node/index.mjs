// Streams a large response in chunks with small waits: the caller gets the first bytes while
// the function is still writing. `awslambda` is the global AWS's Node.js runtime injects
// (aws-lambda-ric `UserFunction.js`); streamifyResponse makes the runtime send the response
// in Lambda's streaming mode, chunk by chunk, instead of buffering the handler's result.
import { once } from "node:events";
import { chunk, failure, isUrlEvent, params, sleep } from "./chunks.mjs";

export const handler = awslambda.streamifyResponse(async (event, responseStream, _context) => {
  const { chunks, chunk_bytes, delay_ms, fail_at } = params(event);
  let stream = responseStream;
  if (isUrlEvent(event)) {
    // A function URL in RESPONSE_STREAM mode takes its status and headers from this prelude.
    stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: 200,
      headers: { "content-type": "text/plain", "x-chunks": String(chunks) },
    });
  } else {
    stream.setContentType("text/plain");
  }
  for (let seq = 0; seq < chunks; seq++) {
    if (seq > 0 && delay_ms > 0) await sleep(delay_ms);
    // thrown after some writes: the runtime ends the stream with the error trailers
    if (seq === fail_at) throw failure(seq);
    if (!stream.write(chunk(seq, chunks, chunk_bytes))) await once(stream, "drain");
  }
  stream.end();
});
