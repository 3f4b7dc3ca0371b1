// What both handlers send: `chunks` writes of `chunkBytes` bytes, `delayMs` apart. Each chunk
// is its header line {"seq":i,"of":n,"t_ms":<epoch ms of the write>}, then "x"s and a newline
// up to chunkBytes: the same bytes as functions/stream_rust.
export const DEFAULTS = { chunks: 16, chunk_bytes: 64 * 1024, delay_ms: 20 };
// Lambda streams at most 200 MB a response (docs, configuration-response-streaming).
const MAX_BYTES = 200 * 1000 * 1000;

// The event of InvokeWithResponseStream / Invoke is the caller's JSON; a function URL's
// (payload format 2.0) carries the same keys in its JSON body or its query string.
export function isUrlEvent(event) {
  return Boolean(event?.requestContext?.http);
}

function urlParams(event) {
  let body = {};
  if (event.body) {
    const text = event.isBase64Encoded ? Buffer.from(event.body, "base64").toString() : event.body;
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
  }
  return { ...(body && typeof body === "object" ? body : {}), ...event.queryStringParameters };
}

export function params(event) {
  const source = isUrlEvent(event) ? urlParams(event) : event ?? {};
  const out = {};
  for (const [key, fallback] of Object.entries(DEFAULTS)) {
    const value = Number.parseInt(source[key] ?? fallback, 10);
    out[key] = Number.isFinite(value) && value >= 0 ? value : fallback;
  }
  // fail_at: throw after that many chunks (the error path of a stream); absent: never
  const failAt = Number.parseInt(source.fail_at, 10);
  out.fail_at = Number.isFinite(failAt) && failAt >= 0 ? failAt : -1;
  if (out.chunks * out.chunk_bytes > MAX_BYTES) {
    const err = new Error(`${out.chunks} chunks of ${out.chunk_bytes} bytes: more than 200 MB`);
    err.name = "InvalidPayload";
    throw err;
  }
  return out;
}

export function chunk(seq, of, size) {
  const header = Buffer.from(`${JSON.stringify({ seq, of, t_ms: Date.now() })}\n`);
  if (header.length >= size) return header;
  const buf = Buffer.alloc(size, "x");
  header.copy(buf);
  buf[size - 1] = 0x0a;
  return buf;
}

export function failure(seq) {
  const err = new Error(`failed after ${seq} chunks, as the event asked`);
  err.name = "StreamFailed";
  return err;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
