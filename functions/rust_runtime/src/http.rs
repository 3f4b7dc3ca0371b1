//! A minimal HTTP/1.1 client for the Runtime API, std only: one kept-alive TCP connection
//! (TCP_NODELAY), reopened when the server has closed it; bodies by Content-Length, chunked
//! transfer coding, or until the connection closes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Longest status or header line accepted.
const MAX_LINE: u64 = 64 * 1024;
const MAX_HEADERS: usize = 256;
/// Largest body accepted; Lambda's payloads are at most 6 MB (sync invokes) anyway.
const MAX_BODY: usize = 128 * 1024 * 1024;
/// Connecting to the Runtime API on the same host is immediate or refused; the limit only
/// guards against a wrong address. There is deliberately no read timeout: `/next` is a long
/// poll that may block for as long as the environment waits for work (or is frozen).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    keep_alive: bool,
}

impl Response {
    /// The first header named `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Client {
    addr: String,
    conn: Option<BufReader<TcpStream>>,
}

/// How a round trip failed: `Stale` = the server closed the connection before sending a
/// single byte of the response (a kept-alive connection it had dropped), worth one retry.
enum Failure {
    Stale(io::Error),
    Fatal(io::Error),
}

impl Failure {
    fn into_inner(self) -> io::Error {
        match self {
            Failure::Stale(e) | Failure::Fatal(e) => e,
        }
    }
}

impl Client {
    /// `addr` is `host:port`, as in `AWS_LAMBDA_RUNTIME_API`.
    pub fn new(addr: &str) -> Client {
        Client {
            addr: addr.to_owned(),
            conn: None,
        }
    }

    /// Sends one request and reads its whole response. A reused connection that turns out
    /// to be closed is replaced by a new one, once.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let req = encode_request(method, path, &self.addr, headers, body);
        let reused = self.conn.is_some();
        match self.round_trip(&req, method) {
            Ok(resp) => Ok(resp),
            Err(Failure::Stale(_)) if reused => {
                self.round_trip(&req, method).map_err(Failure::into_inner)
            }
            Err(f) => Err(f.into_inner()),
        }
    }

    fn connect(&self) -> io::Result<BufReader<TcpStream>> {
        let mut last = io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} resolves to no address", self.addr),
        );
        for sa in self.addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&sa, CONNECT_TIMEOUT) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    return Ok(BufReader::with_capacity(64 * 1024, stream));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn round_trip(&mut self, req: &[u8], method: &str) -> Result<Response, Failure> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.connect().map_err(Failure::Fatal)?,
        };
        // One write for head and body: with TCP_NODELAY, no small segments.
        if let Err(e) = conn.get_mut().write_all(req) {
            return Err(stale_or_fatal(e));
        }
        // Wait for the first byte of the response (the long poll blocks here).
        match conn.fill_buf() {
            Ok([]) => {
                return Err(Failure::Stale(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed before the response",
                )));
            }
            Ok(_) => {}
            Err(e) => return Err(stale_or_fatal(e)),
        }
        let resp = read_response(&mut conn, method).map_err(Failure::Fatal)?;
        if resp.keep_alive {
            self.conn = Some(conn);
        }
        Ok(resp)
    }
}

fn stale_or_fatal(e: io::Error) -> Failure {
    match e.kind() {
        io::ErrorKind::BrokenPipe
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::UnexpectedEof => Failure::Stale(e),
        _ => Failure::Fatal(e),
    }
}

/// Header values must not contain CR, LF or other control characters (an error type is
/// chosen by function code); replace them with spaces.
fn clean(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub fn encode_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let length = (method != "GET" || !body.is_empty()).then_some(body.len());
    let mut req = encode_head(method, path, host, headers, length).into_bytes();
    req.extend_from_slice(body);
    req
}

/// The request line and headers, up to the empty line; `Content-Length` when `length` is set.
fn encode_head(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    length: Option<usize>,
) -> String {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lambda-emu-rust-runtime/0.1\r\n"
    );
    push_fields(&mut head, headers);
    if let Some(n) = length {
        head.push_str(&format!("Content-Length: {n}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn push_fields(out: &mut String, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&clean(value));
        out.push_str("\r\n");
    }
}

/// A request whose body goes out as it is produced (`Transfer-Encoding: chunked`, RFC 9112
/// §7.1): one HTTP chunk per `write_chunk`, then `finish` with optional trailer fields and
/// read the answer. The connection is the client's kept-alive one.
pub struct ChunkedRequest<'a> {
    client: &'a mut Client,
    conn: BufReader<TcpStream>,
    method: String,
}

impl Client {
    /// Sends the head of a chunked request; `headers` should name the trailers it will send
    /// (`Trailer:`). Transfer-Encoding is added here.
    pub fn start_chunked(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> io::Result<ChunkedRequest<'_>> {
        let mut fields = headers.to_vec();
        fields.push(("Transfer-Encoding", "chunked"));
        let head = encode_head(method, path, &self.addr, &fields, None);
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.connect()?,
        };
        if let Err(e) = conn.get_mut().write_all(head.as_bytes()) {
            // a kept-alive connection the server had dropped: once more on a new one
            conn = self.connect()?;
            conn.get_mut().write_all(head.as_bytes()).map_err(|_| e)?;
        }
        Ok(ChunkedRequest {
            client: self,
            conn,
            method: method.to_owned(),
        })
    }
}

impl ChunkedRequest<'_> {
    /// One chunk, written at once (TCP_NODELAY: it leaves now). Empty data sends nothing:
    /// a zero-length chunk would end the body.
    pub fn write_chunk(&mut self, data: &[u8]) -> io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let size = format!("{:x}\r\n", data.len());
        let mut chunk = Vec::with_capacity(size.len() + data.len() + 2);
        chunk.extend_from_slice(size.as_bytes());
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(b"\r\n");
        self.conn.get_mut().write_all(&chunk)
    }

    /// The last chunk, the trailer fields, and the server's answer.
    pub fn finish(mut self, trailers: &[(&str, &str)]) -> io::Result<Response> {
        let mut end = String::from("0\r\n");
        push_fields(&mut end, trailers);
        end.push_str("\r\n");
        self.conn.get_mut().write_all(end.as_bytes())?;
        let resp = read_response(&mut self.conn, &self.method)?;
        if resp.keep_alive {
            self.client.conn = Some(self.conn);
        }
        Ok(resp)
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// One line without its CRLF (or bare LF).
fn read_line<R: BufRead>(r: &mut R) -> io::Result<String> {
    let mut buf = Vec::new();
    r.take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if buf.last() != Some(&b'\n') {
        return Err(if buf.len() as u64 >= MAX_LINE {
            invalid("HTTP line too long")
        } else {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed mid-response",
            )
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// Appends exactly `n` bytes from `r` to `out`.
fn read_exact_into<R: Read>(r: &mut R, n: usize, out: &mut Vec<u8>) -> io::Result<()> {
    if out.len() + n > MAX_BODY {
        return Err(invalid(format!("HTTP body larger than {MAX_BODY} bytes")));
    }
    out.reserve(n.min(1 << 20));
    let got = r.take(n as u64).read_to_end(out)?;
    if got < n {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-body",
        ));
    }
    Ok(())
}

fn read_chunked<R: BufRead>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            // Trailer section, ignored, up to the empty line.
            while !read_line(r)?.is_empty() {}
            return Ok(body);
        }
        read_exact_into(r, size, &mut body)?;
        if !read_line(r)?.is_empty() {
            return Err(invalid("chunk not followed by CRLF"));
        }
    }
}

/// Reads one response (skipping interim 1xx responses) from `r`.
pub fn read_response<R: BufRead>(r: &mut R, method: &str) -> io::Result<Response> {
    loop {
        let line = read_line(r)?;
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|s| (100..1000).contains(s))
            .ok_or_else(|| invalid(format!("bad HTTP status line {line:?}")))?;
        if !version.starts_with("HTTP/1.") {
            return Err(invalid(format!("bad HTTP status line {line:?}")));
        }

        let mut headers = Vec::new();
        loop {
            let h = read_line(r)?;
            if h.is_empty() {
                break;
            }
            if headers.len() == MAX_HEADERS {
                return Err(invalid("too many HTTP headers"));
            }
            let (k, v) = h
                .split_once(':')
                .ok_or_else(|| invalid(format!("bad header {h:?}")))?;
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        let mut resp = Response {
            status,
            headers,
            body: Vec::new(),
            keep_alive: true,
        };
        if (100..200).contains(&status) && status != 101 {
            continue; // 100 Continue, 103 Early Hints: the real response follows
        }

        let has_token = |name: &str, token: &str| {
            resp.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        };
        resp.keep_alive = if version == "HTTP/1.0" {
            has_token("Connection", "keep-alive")
        } else {
            !has_token("Connection", "close")
        };

        if method == "HEAD" || status < 200 || status == 204 || status == 304 {
            return Ok(resp);
        }
        if let Some(te) = resp.header("Transfer-Encoding") {
            let last = te.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                resp.body = read_chunked(r)?;
            } else {
                // Another final coding: the body runs to the end of the connection.
                r.read_to_end(&mut resp.body)?;
                resp.keep_alive = false;
            }
        } else if let Some(cl) = resp.header("Content-Length") {
            let n: usize = cl
                .parse()
                .map_err(|_| invalid(format!("bad Content-Length {cl:?}")))?;
            let mut body = Vec::new();
            read_exact_into(r, n, &mut body)?;
            resp.body = body;
        } else {
            r.take(MAX_BODY as u64 + 1).read_to_end(&mut resp.body)?;
            if resp.body.len() > MAX_BODY {
                return Err(invalid(format!("HTTP body larger than {MAX_BODY} bytes")));
            }
            resp.keep_alive = false;
        }
        return Ok(resp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> io::Result<Response> {
        read_response(&mut io::Cursor::new(raw.as_bytes().to_vec()), "GET")
    }

    #[test]
    fn content_length_and_case_insensitive_headers() {
        let raw = "HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id: abc\r\nCONTENT-LENGTH: 4\r\n\r\n{}{}extra";
        let r = parse(raw).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Lambda-Runtime-Aws-Request-Id"), Some("abc"));
        assert_eq!(r.body, b"{}{}");
        assert!(r.keep_alive);
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
                   3;x=y\r\n{\"a\r\n4\r\n\":1}\r\n0\r\nTrailer-X: 1\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!(r.body, b"{\"a\":1}");
        assert!(!r.keep_alive);
    }

    #[test]
    fn interim_responses_and_http10() {
        let raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 202 Accepted\r\n\r\n{\"status\":\"OK\"}";
        let r = parse(raw).unwrap();
        assert_eq!(r.status, 202);
        assert_eq!(r.body, b"{\"status\":\"OK\"}");
        assert!(!r.keep_alive);
    }

    #[test]
    fn truncated_and_malformed() {
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n").is_err());
        assert!(parse("SMTP 220 hello\r\n\r\n").is_err());
        assert!(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
    }

    #[test]
    fn chunked_request_sends_chunks_and_trailers() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.ends_with(b"0\r\nX-T: a\r\n\r\n") {
                let n = sock.read(&mut buf).unwrap();
                assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&got));
                got.extend_from_slice(&buf[..n]);
            }
            sock.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let mut client = Client::new(&addr);
        let mut req = client
            .start_chunked("POST", "/r", &[("Trailer", "X-T")])
            .unwrap();
        req.write_chunk(b"hello").unwrap();
        req.write_chunk(b"").unwrap();
        req.write_chunk(&[b'x'; 17]).unwrap();
        let resp = req.finish(&[("X-T", "a")]).unwrap();
        assert_eq!((resp.status, resp.body.as_slice()), (202, b"ok".as_slice()));
        let sent = server.join().unwrap();
        assert!(sent.starts_with("POST /r HTTP/1.1\r\n"));
        assert!(sent.contains("Trailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n"));
        assert!(
            sent.ends_with("\r\n\r\n5\r\nhello\r\n11\r\nxxxxxxxxxxxxxxxxx\r\n0\r\nX-T: a\r\n\r\n")
        );
    }

    #[test]
    fn request_encoding_cleans_header_values() {
        let req = encode_request("POST", "/p", "h:1", &[("X-T", "a\r\nInjected: 1")], b"{}");
        let s = String::from_utf8(req).unwrap();
        assert!(s.starts_with("POST /p HTTP/1.1\r\nHost: h:1\r\n"));
        assert!(s.contains("X-T: a  Injected: 1\r\n"));
        assert!(s.ends_with("Content-Length: 2\r\n\r\n{}"));
        let get = String::from_utf8(encode_request("GET", "/n", "h:1", &[], b"")).unwrap();
        assert!(!get.contains("Content-Length"));
    }
}
