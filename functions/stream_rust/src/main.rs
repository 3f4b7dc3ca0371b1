//! Streams a large response in chunks with small waits (custom runtime `provided.al2023`, std
//! only): the Rust half of the streaming lesson (functions/stream_node is the Node.js half, and
//! writes the same bytes).
//!
//! Event: `{"chunks": 16, "chunk_bytes": 65536, "delay_ms": 20}` (these are the defaults;
//! `"fail_at": k` makes the handler fail after k chunks, which ends the stream with the error
//! trailers), or
//! a function URL request whose JSON body (sent as `application/json`: the event holds text
//! bodies as they are, others base64-encoded) or query string names them
//! (`?chunks=4&delay_ms=0`).
//! Each chunk
//! is one write, `chunk_bytes` long (or its header's length if that is longer):
//!
//! ```text
//! {"seq":0,"of":16,"t_ms":1733100000123}\n xxxx…x\n
//! ```
//!
//! where `t_ms` is the epoch millisecond of the write: a client sees how far apart the writes
//! were made and arrived. Through a function URL the stream starts with the metadata prelude
//! (status 200, `content-type: text/plain`), so the URL answers with those headers.
//!
//! std only, so the event is scanned for its three keys rather than parsed: a key's first
//! occurrence followed by `:` and an integer, quoted or not (a URL event's query string values
//! are JSON strings, and its body is a JSON string holding JSON: `\"chunks\":4`).

use rust_runtime::{Context, Error, ResponseStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DEFAULT_CHUNKS: u64 = 16;
const DEFAULT_CHUNK_BYTES: u64 = 64 * 1024;
const DEFAULT_DELAY_MS: u64 = 20;
/// Lambda streams at most 200 MB a response (docs, configuration-response-streaming).
const MAX_BYTES: u64 = 200 * 1000 * 1000;

fn main() {
    rust_runtime::run_streaming(handler)
}

fn handler(event: &[u8], _ctx: &Context, stream: &mut ResponseStream<'_>) -> Result<(), Error> {
    let chunks = int(event, "chunks").unwrap_or(DEFAULT_CHUNKS);
    let chunk_bytes = int(event, "chunk_bytes").unwrap_or(DEFAULT_CHUNK_BYTES);
    let delay = Duration::from_millis(int(event, "delay_ms").unwrap_or(DEFAULT_DELAY_MS));
    let fail_at = int(event, "fail_at");
    if chunks.saturating_mul(chunk_bytes) > MAX_BYTES {
        return Err(Error::new(
            "InvalidPayload",
            format!("{chunks} chunks of {chunk_bytes} bytes: more than Lambda's 200 MB"),
        ));
    }
    if is_url_event(event) {
        stream.http_response(200, &[("content-type", "text/plain")])?;
    } else {
        stream.set_content_type("text/plain")?;
    }
    let mut buf = Vec::with_capacity(chunk_bytes as usize);
    for seq in 0..chunks {
        if seq > 0 && !delay.is_zero() {
            std::thread::sleep(delay);
        }
        if fail_at == Some(seq) {
            return Err(Error::new(
                "StreamFailed",
                format!("failed after {seq} chunks, as the event asked"),
            ));
        }
        fill_chunk(&mut buf, seq, chunks, chunk_bytes as usize, epoch_ms());
        stream.write(&buf)?;
    }
    Ok(())
}

/// One chunk: its header line, then `x`s and a newline up to `size` bytes.
fn fill_chunk(buf: &mut Vec<u8>, seq: u64, of: u64, size: usize, t_ms: u64) {
    buf.clear();
    buf.extend_from_slice(format!("{{\"seq\":{seq},\"of\":{of},\"t_ms\":{t_ms}}}\n").as_bytes());
    if buf.len() < size {
        buf.resize(size - 1, b'x');
        buf.push(b'\n');
    }
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A function URL's event (payload format 2.0) has `requestContext.http`.
fn is_url_event(event: &[u8]) -> bool {
    find(event, b"\"requestContext\"").is_some() && find(event, b"\"http\"").is_some()
}

/// The integer after the first `"key"` (or `\"key\"`, inside a string) and a colon, quoted
/// or not.
fn int(event: &[u8], key: &str) -> Option<u64> {
    let (at, len) = [format!("\"{key}\""), format!("\\\"{key}\\\"")]
        .iter()
        .filter_map(|n| find(event, n.as_bytes()).map(|at| (at, n.len())))
        .min()?;
    let mut rest = &event[at + len..];
    let skip_ws = |s: &[u8]| -> usize { s.iter().take_while(|b| b.is_ascii_whitespace()).count() };
    rest = &rest[skip_ws(rest)..];
    rest = rest.strip_prefix(b":")?;
    rest = &rest[skip_ws(rest)..];
    rest = rest.strip_prefix(b"\\").unwrap_or(rest);
    rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_plain_and_quoted() {
        let ev = br#"{"chunks": 4, "chunk_bytes":10, "delay_ms" : "0"}"#;
        assert_eq!(int(ev, "chunks"), Some(4));
        assert_eq!(int(ev, "chunk_bytes"), Some(10));
        assert_eq!(int(ev, "delay_ms"), Some(0));
        assert_eq!(int(ev, "missing"), None);
        assert_eq!(int(br#"{"chunks": -1}"#, "chunks"), None);
    }

    #[test]
    fn url_events() {
        let url = br#"{"version":"2.0","queryStringParameters":{"chunks":"3"},"requestContext":{"http":{"method":"GET"}}}"#;
        assert!(is_url_event(url));
        assert_eq!(int(url, "chunks"), Some(3));
        assert!(!is_url_event(br#"{"chunks":3}"#));
        let body =
            br#"{"body":"{\"chunks\": 5, \"delay_ms\":\"0\"}","requestContext":{"http":{}}}"#;
        assert_eq!(int(body, "chunks"), Some(5));
        assert_eq!(int(body, "delay_ms"), Some(0));
    }

    #[test]
    fn chunks_are_padded_to_size() {
        let mut buf = Vec::new();
        fill_chunk(&mut buf, 2, 16, 64, 7);
        assert_eq!(buf.len(), 64);
        assert!(buf.starts_with(b"{\"seq\":2,\"of\":16,\"t_ms\":7}\nxxx"));
        assert!(buf.ends_with(b"x\n"));
        fill_chunk(&mut buf, 2, 16, 4, 7);
        assert_eq!(buf, b"{\"seq\":2,\"of\":16,\"t_ms\":7}\n");
    }
}
