//! A CPU-bound Rust function (custom runtime `provided.al2023`, std only).
//!
//! Event: a JSON object like `{"n": 2000000}`; `n` defaults to 2,000,000 when the key is
//! missing or the payload is empty or `null`. Result: `{"primes":<π(n)>,"n":<n>}`, the number
//! of primes ≤ n, as a Python function `sum(sieve(n))` would compute it (0 for n < 2).
//! It also runs an FNV-1a hash over the 4-byte little-endian encodings of 0..n, so the work has
//! a second, multiply-bound loop; the hash goes to the log, not the result.
//!
//! A payload that is not valid JSON, not an object, or whose `n` is not an integer (a JSON
//! number without fraction or exponent) in [-2^63, 1e9] is a function error of type
//! `InvalidPayload`; the sieve takes n/16 bytes, so 1e9 fits in 128 MB of memory.

use rust_runtime::{Context, Error, HandlerResult};
use std::hint::black_box;
use std::time::Instant;

const DEFAULT_N: i64 = 2_000_000;
const MAX_N: i64 = 1_000_000_000;
const MAX_DEPTH: usize = 512;

fn main() {
    rust_runtime::run(handler)
}

fn handler(event: &[u8], _ctx: &Context) -> HandlerResult {
    let n = parse_n(event).map_err(|m| Error::new("InvalidPayload", m))?;
    let t0 = Instant::now();
    let primes = count_primes(black_box(n));
    let t1 = Instant::now();
    let hash = black_box(fnv1a_loop(black_box(n)));
    let t2 = Instant::now();
    rust_runtime::log!(
        "n={n} primes={primes} fnv1a={hash:016x} sieve_ms={:.3} hash_ms={:.3}",
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
    );
    Ok(format!("{{\"primes\":{primes},\"n\":{n}}}").into_bytes())
}

/// The number of primes ≤ n: a sieve of Eratosthenes over odd numbers, one bit each
/// (bit i stands for 2i+1, set = composite).
fn count_primes(n: i64) -> u64 {
    if n < 2 {
        return 0;
    }
    let n = n as u64;
    let last = ((n - 1) / 2) as usize; // index of the largest odd number ≤ n
    let mut bits = vec![0u64; last / 64 + 1];
    bits[0] |= 1; // 1 is not prime
    let mut i = 1usize;
    loop {
        let p = 2 * i as u64 + 1;
        if p * p > n {
            break;
        }
        if bits[i / 64] & (1 << (i % 64)) == 0 {
            let mut j = ((p * p - 1) / 2) as usize;
            while j <= last {
                bits[j / 64] |= 1 << (j % 64);
                j += p as usize;
            }
        }
        i += 1;
    }
    // Bits past `last` are never set, so every set bit is a composite odd number (or 1).
    let composite: u64 = bits.iter().map(|w| u64::from(w.count_ones())).sum();
    1 + (last as u64 + 1) - composite // 1 for the prime 2
}

/// FNV-1a (64-bit) over the little-endian u32 encodings of 0, 1, .., n-1.
fn fnv1a_loop(n: i64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..n.max(0) as u32 {
        for b in i.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
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

    fn naive_count(n: i64) -> u64 {
        (2..=n)
            .filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0))
            .count() as u64
    }

    #[test]
    fn primes_match_a_naive_count() {
        for n in -3..2000 {
            assert_eq!(count_primes(n), naive_count(n), "n={n}");
        }
        assert_eq!(count_primes(2_000_000), 148_933);
        assert_eq!(count_primes(10_000_000), 664_579);
    }

    #[test]
    fn fnv1a_reference_values() {
        assert_eq!(fnv1a_loop(0), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_loop(1), fnv_bytes(&[0, 0, 0, 0]));
        assert_eq!(
            fnv1a_loop(3),
            fnv_bytes(&[0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0])
        );
        assert_eq!(fnv_bytes(b"a"), 0xaf63_dc4c_8601_ec8c); // the published FNV-1a test vector
    }

    fn fnv_bytes(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
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
