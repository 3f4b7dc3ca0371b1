//! A CPU-bound Rust function (custom runtime `provided.al2023`, std only): the same work as
//! `functions/cpu_python`, for comparing the two languages on one loop.
//!
//! Event: a JSON object like `{"n": 2000000}`; `n` defaults to 12,000,000 (cpu_python's
//! default) when the key is missing or the payload is empty or `null`. Result:
//! `{"n":<n>,"hash":<h>}`, where h is cpu_python's FNV-1a loop: for i in 0..n,
//! `h ^= i & 0xFF; h *= 0x100000001B3` (mod 2^64), from the FNV offset basis. The two functions
//! return the same hash for the same n (tests/test_lessons.py checks it).
//!
//! A payload that is not valid JSON, not an object, or whose `n` is not an integer (a JSON
//! number without fraction or exponent) in [-2^63, 1e9] is a function error of type
//! `InvalidPayload`.

use rust_runtime::{Context, Error, HandlerResult};
use std::hint::black_box;

const DEFAULT_N: i64 = 12_000_000;
const MAX_N: i64 = 1_000_000_000;
const MAX_DEPTH: usize = 512;

fn main() {
    rust_runtime::run(handler)
}

fn handler(event: &[u8], _ctx: &Context) -> HandlerResult {
    let n = parse_n(event).map_err(|m| Error::new("InvalidPayload", m))?;
    // No log line per invocation: cpu_python writes none, and the comparison is the loop.
    let hash = fnv1a_loop(black_box(n));
    Ok(format!("{{\"n\":{n},\"hash\":{hash}}}").into_bytes())
}

/// cpu_python's loop: FNV-1a (64-bit) over the low byte of each of 0, 1, .., n-1.
fn fnv1a_loop(n: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..n.max(0) as u64 {
        h ^= i & 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Checks that `payload` is JSON (RFC 8259) and returns its top-level `"n"`, or the default.
/// Hand-written on purpose: no crates.
fn parse_n(payload: &[u8]) -> Result<i64, String> {
    if std::str::from_utf8(payload).is_err() {
        return Err("payload is not valid UTF-8".into());
    }
    let mut s = Scanner {
        b: payload,
        i: 0,
        n: None,
    };
    s.ws();
    if s.i == payload.len() {
        return Ok(DEFAULT_N); // empty payload
    }
    let first = payload[s.i];
    s.value(0)?;
    s.ws();
    if s.i != payload.len() {
        return Err(format!(
            "payload is not valid JSON: extra data at byte {}",
            s.i
        ));
    }
    match (first, s.n) {
        (b'{', Some((start, end))) => parse_int(&payload[start..end]),
        (b'{', None) | (b'n', None) => Ok(DEFAULT_N), // no "n", or the payload is null
        _ => Err("payload must be a JSON object like {\"n\": 2000000}".into()),
    }
}

/// `n`'s JSON value (already validated as JSON) as an integer in range.
fn parse_int(token: &[u8]) -> Result<i64, String> {
    let text = String::from_utf8_lossy(token);
    let shown: String = text.chars().take(40).collect();
    let integer = matches!(token.first(), Some(b'-' | b'0'..=b'9'))
        && !token.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if !integer {
        return Err(format!("\"n\" must be an integer, got {shown}"));
    }
    let n: i64 = text
        .parse()
        .map_err(|_| format!("\"n\" is out of range: {shown}"))?;
    if n > MAX_N {
        return Err(format!("\"n\" must be at most {MAX_N}, got {n}"));
    }
    Ok(n)
}

/// A validating JSON scanner that remembers where the top-level object's `"n"` value is.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    n: Option<(usize, usize)>,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        match self.peek() {
            Some(c) if c.is_ascii_graphic() => {
                format!(
                    "payload is not valid JSON: {what} at byte {} ('{}')",
                    self.i, c as char
                )
            }
            Some(_) => format!("payload is not valid JSON: {what} at byte {}", self.i),
            None => format!("payload is not valid JSON: {what} at the end"),
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!("payload nests deeper than {MAX_DEPTH} levels"));
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(|_| ()),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), String> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected a string key"));
            }
            let (ks, ke) = self.string()?;
            self.ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expected ':'"));
            }
            self.i += 1;
            self.ws();
            let start = self.i;
            self.value(depth + 1)?;
            // The key compared as written: a key spelled with escapes ("\u006e") is not "n".
            if depth == 0 && &self.b[ks..ke] == b"n" {
                self.n = Some((start, self.i)); // a repeated key: the last wins, as in Python
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), String> {
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.err("expected ',' or ']'")),
            }
        }
    }

    /// A string starting at the opening quote; returns the span of its contents.
    fn string(&mut self) -> Result<(usize, usize), String> {
        self.i += 1;
        let start = self.i;
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok((start, self.i - 1));
                }
                Some(b'\\') => match self.b.get(self.i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                    Some(b'u') => {
                        let hex = self.b.get(self.i + 2..self.i + 6);
                        if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            return Err(self.err("bad \\u escape"));
                        }
                        self.i += 6;
                    }
                    _ => return Err(self.err("bad escape")),
                },
                Some(c) if c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.i += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), String> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("expected a value"))
        }
    }

    fn digits(&mut self) -> Result<(), String> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("expected a digit"));
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        Ok(())
    }

    fn number(&mut self) -> Result<(), String> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1, // no leading zeros
            _ => self.digits()?,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_hashes_as_cpu_python() {
        // functions/cpu_python: handler({"n": n}, None)["hash"]
        assert_eq!(fnv1a_loop(-5), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_loop(0), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_loop(1), 0xaf63_bd4c_8601_b7df);
        assert_eq!(fnv1a_loop(3), 0xd949_aa18_6c0c_4928);
        assert_eq!(fnv1a_loop(1000), 0x9ebd_4ca7_a79e_5ddd);
        assert_eq!(fnv1a_loop(2_000_000), 0xf813_8fbb_451c_e0a5);
    }

    #[test]
    fn payloads() {
        assert_eq!(parse_n(b""), Ok(DEFAULT_N));
        assert_eq!(parse_n(b" \n"), Ok(DEFAULT_N));
        assert_eq!(parse_n(b"null"), Ok(DEFAULT_N));
        assert_eq!(parse_n(b"{}"), Ok(DEFAULT_N));
        assert_eq!(parse_n(br#"{"n": 10}"#), Ok(10));
        assert_eq!(parse_n(br#"{"n": -5}"#), Ok(-5));
        assert_eq!(
            parse_n(br#"{"m": {"n": 3}, "n": 7, "x": [1, "n", {"n": 2}]}"#),
            Ok(7)
        );
        assert_eq!(parse_n(br#"{"n": 1, "n": 2}"#), Ok(2));
        assert_eq!(parse_n(br#"{"a\"n": 3, "s": "\u00e9\n"}"#), Ok(DEFAULT_N));
        for bad in [
            &b"not json"[..],
            b"{\"n\": 10",
            b"{\"n\": 10}}",
            b"{\"n\": 012}",
            b"{'n': 1}",
            b"{\"n\": 1,}",
            b"[1, 2]",
            b"5",
            b"{\"n\": 2e6}",
            b"{\"n\": 1.5}",
            b"{\"n\": \"10\"}",
            b"{\"n\": null}",
            b"{\"n\": 99999999999999999999}",
            b"{\"n\": 1000000001}",
            b"{\"s\": \"\x01\"}",
            b"{\"n\": 1}\xff",
        ] {
            assert!(parse_n(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(10_000);
        assert!(parse_n(deep.as_bytes()).is_err());
    }
}
