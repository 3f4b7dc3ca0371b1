// The same bytes, written the same way, but returned at the end as one buffered response:
// the caller's first byte waits for the last write. The streaming lesson's "before".
import { chunk, failure, params, sleep } from "./chunks.mjs";

export const handler = async (event, _context) => {
  const { chunks, chunk_bytes, delay_ms, fail_at } = params(event);
  const parts = [];
  for (let seq = 0; seq < chunks; seq++) {
    if (seq > 0 && delay_ms > 0) await sleep(delay_ms);
    if (seq === fail_at) throw failure(seq);
    parts.push(chunk(seq, chunks, chunk_bytes));
  }
  // A string result goes out as a JSON string: the bytes, escaped.
  return Buffer.concat(parts).toString("latin1");
};
