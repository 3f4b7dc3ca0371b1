//! Response streaming: the Runtime API's `streaming` response mode, std only.
//!
//! A streaming handler gets a `ResponseStream` and writes to it; each `write` leaves at once as
//! one HTTP chunk of the `/response` POST, which carries
//!
//! ```text
//! Lambda-Runtime-Function-Response-Mode: streaming
//! Transfer-Encoding: chunked
//! Trailer: Lambda-Runtime-Function-Error-Type
//! Trailer: Lambda-Runtime-Function-Error-Body
//! ```
//!
//! as AWS's runtimes send it (aws-lambda-nodejs-runtime-interface-client `ResponseStream.js`,
//! aws-lambda-rust-runtime `lambda-runtime/src/requests.rs`). An error after the first write
//! ends the body with the trailers `Lambda-Runtime-Function-Error-Type: <type>` and
//! `Lambda-Runtime-Function-Error-Body: <base64 of the error JSON>`, as the Node.js runtime
//! does (the Rust crate writes them into the body instead). The head is sent on the first
//! write, so the content type and a function URL's status and headers can be set until then.
//!
//! Function URLs in `RESPONSE_STREAM` mode read the status and headers from a metadata
//! prelude: the content type `application/vnd.awslambda.http-integration-response`, then a
//! JSON object `{"statusCode":..,"headers":{..}}`, 8 NUL bytes and the body
//! (`awslambda.HttpResponseStream.from` in Node.js). `ResponseStream::http_response` writes it.

use std::io;

use crate::json::{error_body, escape_into};
use crate::{Error, http};

/// The content type of a stream that starts with a function URL's metadata prelude.
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";
/// The Node.js runtime's default content type of a stream.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";
const ERROR_TYPE: &str = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY: &str = "Lambda-Runtime-Function-Error-Body";
/// Between the prelude and the body (Node.js `HttpResponseStream.js`).
const DELIMITER: [u8; 8] = [0; 8];

enum State<'a> {
    /// Nothing sent yet: the content type and prelude may still change.
    Pending(&'a mut http::Client),
    Open(http::ChunkedRequest<'a>),
    /// A write failed: the connection is gone (a timeout or reset of the environment).
    Broken,
}

/// One invocation's response, sent to `/response` as the handler writes it.
pub struct ResponseStream<'a> {
    state: State<'a>,
    path: String,
    content_type: String,
    prelude: Option<Vec<u8>>,
    written: u64,
}

impl<'a> ResponseStream<'a> {
    pub(crate) fn new(client: &'a mut http::Client, path: &str) -> ResponseStream<'a> {
        ResponseStream {
            state: State::Pending(client),
            path: path.to_owned(),
            content_type: DEFAULT_CONTENT_TYPE.to_owned(),
            prelude: None,
            written: 0,
        }
    }

    /// Whether the head of the response has been sent (by the first write).
    pub fn started(&self) -> bool {
        !matches!(self.state, State::Pending(_))
    }

    /// Body bytes written so far (the prelude not counted).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// The stream's content type; only before the first write, as in Node.js ("Cannot set
    /// content-type, too late.").
    pub fn set_content_type(&mut self, content_type: &str) -> Result<(), Error> {
        self.too_late("content-type")?;
        self.content_type = content_type.to_owned();
        Ok(())
    }

    /// A function URL response's status code and headers (the metadata prelude); only before
    /// the first write.
    pub fn http_response(&mut self, status: u16, headers: &[(&str, &str)]) -> Result<(), Error> {
        self.too_late("the HTTP status and headers")?;
        let mut json = format!("{{\"statusCode\":{status},\"headers\":{{");
        for (i, (name, value)) in headers.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push('"');
            escape_into(&mut json, name);
            json.push_str("\":\"");
            escape_into(&mut json, value);
            json.push('"');
        }
        json.push_str("}}");
        let mut prelude = json.into_bytes();
        prelude.extend_from_slice(&DELIMITER);
        self.prelude = Some(prelude);
        self.content_type = HTTP_INTEGRATION.to_owned();
        Ok(())
    }

    /// Sends `data` now, as one chunk. An error means the Runtime API connection is gone.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.open().map_err(stream_error)?;
        if let State::Open(req) = &mut self.state
            && let Err(e) = req.write_chunk(data)
        {
            self.state = State::Broken;
            return Err(stream_error(e));
        }
        self.written += data.len() as u64;
        Ok(())
    }

    fn too_late(&self, what: &str) -> Result<(), Error> {
        if self.started() {
            return Err(Error::new(
                "Runtime.InvalidStreamingOperation",
                format!("Cannot set {what}, too late."),
            ));
        }
        Ok(())
    }

    /// Sends the head (and the prelude) if it has not gone yet.
    fn open(&mut self) -> io::Result<()> {
        match std::mem::replace(&mut self.state, State::Broken) {
            State::Pending(client) => {
                let headers = [
                    ("Lambda-Runtime-Function-Response-Mode", "streaming"),
                    ("Content-Type", self.content_type.as_str()),
                    ("Trailer", ERROR_TYPE),
                    ("Trailer", ERROR_BODY),
                ];
                let mut req = client.start_chunked("POST", &self.path, &headers)?;
                if let Some(prelude) = &self.prelude {
                    req.write_chunk(prelude)?;
                }
                self.state = State::Open(req);
            }
            State::Open(req) => self.state = State::Open(req),
            State::Broken => {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the response stream is broken",
                ));
            }
        }
        Ok(())
    }

    /// Ends the body (with the error trailers for `error`) and reads the Runtime API's answer.
    pub(crate) fn finish(mut self, error: Option<&Error>) -> io::Result<http::Response> {
        self.open()?;
        let State::Open(req) = self.state else {
            unreachable!("open() leaves the stream open or fails")
        };
        match error {
            None => req.finish(&[]),
            Some(e) => {
                let body = base64(error_body(&e.error_type, &e.message).as_bytes());
                req.finish(&[(ERROR_TYPE, &e.error_type), (ERROR_BODY, &body)])
            }
        }
    }
}

fn stream_error(e: io::Error) -> Error {
    Error::new(
        "Runtime.StreamError",
        format!("writing the response stream: {e}"),
    )
}

/// Standard base64 with padding (RFC 4648 §4), for the error body trailer.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0xfd]), "//79");
    }
}
