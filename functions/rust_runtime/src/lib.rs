//! A tiny, std-only client of the AWS Lambda Runtime API (`2018-06-01`) for custom runtimes
//! (`provided.al2023`): the loop a `bootstrap` executable runs. No crates, so it builds offline.
//!
//! ```no_run
//! rust_runtime::run(|_event: &[u8], _ctx: &rust_runtime::Context| {
//!     Ok(br#"{"message":"hello"}"#.to_vec())
//! })
//! ```
//!
//! What it does, as AWS's runtimes do (see LAMBDA_SPEC.md §1):
//! - reads `AWS_LAMBDA_RUNTIME_API` (`host:port`) and `_HANDLER`;
//! - loops on `GET /runtime/invocation/next` (a long poll: no read timeout) over one kept-alive
//!   HTTP/1.1 connection, copies `Lambda-Runtime-Trace-Id` to `_X_AMZN_TRACE_ID`, calls the
//!   handler with the event bytes and POSTs its result to `/response` or `/error`;
//! - an initialisation failure is POSTed to `/runtime/init/error`, then the process exits 1;
//! - a 4xx answer to a POST is logged to stderr and the loop goes on; a 5xx answer, any
//!   non-200 answer to `/next`, or a broken connection ends the process with exit status 1;
//! - a panic in the handler (or in init) is reported as an error of type `Panic` before the
//!   process aborts (release builds use `panic = "abort"`).
//!
//! `run_streaming` is the same loop for a handler that streams its response (Lambda's
//! `streaming` response mode: see `stream`).

mod http;
pub mod json;
pub mod stream;

use std::fmt;
use std::io::Write;
use std::process;
use std::sync::{Mutex, TryLockError};
use std::time::{SystemTime, UNIX_EPOCH};

pub use json::{error_body, escape as json_escape};
pub use stream::{HTTP_INTEGRATION, ResponseStream};

pub(crate) const API: &str = "/2018-06-01";

/// The function's settings, from the environment Lambda gives a runtime (LAMBDA_SPEC.md §5).
#[derive(Debug, Clone)]
pub struct Config {
    /// `AWS_LAMBDA_RUNTIME_API`, `host:port` without a scheme.
    pub runtime_api: String,
    /// `_HANDLER`: the manifest's handler string (`bootstrap` for these functions).
    pub handler: String,
    pub function_name: String,
    pub function_version: String,
    pub memory_size_mb: u32,
    pub log_group_name: String,
    pub log_stream_name: String,
}

impl Config {
    fn from_env(runtime_api: String) -> Config {
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        Config {
            runtime_api,
            handler: var("_HANDLER"),
            function_name: var("AWS_LAMBDA_FUNCTION_NAME"),
            function_version: var("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_size_mb: var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").parse().unwrap_or(0),
            log_group_name: var("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream_name: var("AWS_LAMBDA_LOG_STREAM_NAME"),
        }
    }
}

/// One invocation, from the `/next` response headers.
#[derive(Debug, Clone)]
pub struct Context {
    pub request_id: String,
    /// Epoch milliseconds at which the invocation times out (0 if the header was missing).
    pub deadline_ms: u64,
    pub invoked_function_arn: String,
    pub trace_id: Option<String>,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
}

impl Context {
    /// Milliseconds left before the deadline (negative once it has passed).
    pub fn remaining_time_ms(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        self.deadline_ms as i64 - now as i64
    }
}

/// A function error: POSTed as `{"errorMessage":..,"errorType":..}` with the header
/// `Lambda-Runtime-Function-Error-Type: <error_type>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub error_type: String,
    pub message: String,
}

impl Error {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Error {
        Error {
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl std::error::Error for Error {}

/// What a handler returns: the response bytes (sent as `application/json`) or an error.
pub type HandlerResult = Result<Vec<u8>, Error>;

/// Writes one line to stdout (the function's log) and flushes it at once.
pub fn log_line(args: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(args);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// `println!` to the function's log, flushed at once: `rust_runtime::log!("n={}", n)`.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => { $crate::log_line(format_args!($($arg)*)) };
}

/// Runs `handler` for every invocation; never returns.
pub fn run<H>(handler: H) -> !
where
    H: FnMut(&[u8], &Context) -> HandlerResult,
{
    run_with_init(move |_| Ok(handler))
}

/// Runs `init` once (its error is reported to `/runtime/init/error`, then the process exits 1),
/// then the handler it returns for every invocation; never returns.
pub fn run_with_init<I, H>(init: I) -> !
where
    I: FnOnce(&Config) -> Result<H, Error>,
    H: FnMut(&[u8], &Context) -> HandlerResult,
{
    let (mut client, mut handler) = start(init);
    loop {
        let (ctx, event) = next_invocation(&mut client);
        set_phase(Phase::Invoke(ctx.request_id.clone()));
        let result = handler(&event, &ctx);
        set_phase(Phase::Idle);
        let id = encode_path_segment(&ctx.request_id);
        match result {
            Ok(body) => {
                post(
                    &mut client,
                    &format!("{API}/runtime/invocation/{id}/response"),
                    None,
                    &body,
                );
            }
            Err(e) => post_error(&mut client, &ctx, &e),
        }
    }
}

/// Runs `handler` for every invocation, its response streamed as it writes it (see
/// `stream::ResponseStream`); never returns. An error returned before the first write is
/// POSTed to `/error` as usual; one returned after it ends the stream with the error
/// trailers, as AWS's Node.js runtime does.
pub fn run_streaming<H>(handler: H) -> !
where
    H: FnMut(&[u8], &Context, &mut ResponseStream<'_>) -> Result<(), Error>,
{
    let (mut client, mut handler) = start(move |_| Ok(handler));
    loop {
        let (ctx, event) = next_invocation(&mut client);
        set_phase(Phase::Invoke(ctx.request_id.clone()));
        let id = encode_path_segment(&ctx.request_id);
        let path = format!("{API}/runtime/invocation/{id}/response");
        let mut stream = ResponseStream::new(&mut client, &path);
        let result = handler(&event, &ctx, &mut stream);
        set_phase(Phase::Idle);
        match result {
            Ok(()) => check(&path, stream.finish(None)),
            Err(e) if stream.started() => {
                log!("[ERROR] {}\t{e}", ctx.request_id);
                check(&path, stream.finish(Some(&e)));
            }
            Err(e) => {
                drop(stream);
                post_error(&mut client, &ctx, &e);
            }
        }
    }
}

/// The environment, the panic hook and `init` (its error is reported to `/runtime/init/error`,
/// then the process exits 1).
fn start<I, H>(init: I) -> (http::Client, H)
where
    I: FnOnce(&Config) -> Result<H, Error>,
{
    let api = match std::env::var("AWS_LAMBDA_RUNTIME_API") {
        Ok(v) if !v.trim().is_empty() => v.trim().to_owned(),
        _ => fatal("AWS_LAMBDA_RUNTIME_API is not set: this bootstrap must run inside Lambda"),
    };
    let config = Config::from_env(api);
    install_panic_hook(&config.runtime_api);
    let mut client = http::Client::new(&config.runtime_api);

    let handler = match init(&config) {
        Ok(h) => h,
        Err(e) => {
            log!("[ERROR] init failed: {e}");
            let body = error_body(&e.error_type, &e.message);
            // Whatever the answer, the environment is unusable: exit 1 as the RIC does.
            post(
                &mut client,
                &format!("{API}/runtime/init/error"),
                Some(&e.error_type),
                &body,
            );
            process::exit(1);
        }
    };
    set_phase(Phase::Idle);
    (client, handler)
}

fn post_error(client: &mut http::Client, ctx: &Context, e: &Error) {
    log!("[ERROR] {}\t{e}", ctx.request_id);
    let id = encode_path_segment(&ctx.request_id);
    let body = error_body(&e.error_type, &e.message);
    post(
        client,
        &format!("{API}/runtime/invocation/{id}/error"),
        Some(&e.error_type),
        body.as_bytes(),
    );
}

fn fatal(msg: impl fmt::Display) -> ! {
    eprintln!("rust_runtime: {msg}");
    process::exit(1);
}

/// `GET /next`: the next event and its context. Exits 1 if the Runtime API fails.
fn next_invocation(client: &mut http::Client) -> (Context, Vec<u8>) {
    let path = format!("{API}/runtime/invocation/next");
    let resp = match client.request("GET", &path, &[], b"") {
        Ok(r) => r,
        Err(e) => fatal(format_args!("GET {path}: {e}")),
    };
    if resp.status != 200 {
        // 403 (InvalidStateTransition) or 500: nothing to run, and asking again would spin.
        fatal(format_args!(
            "GET {path}: HTTP {} {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        ));
    }
    let header = |name: &str| {
        resp.header(name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let Some(request_id) = header("Lambda-Runtime-Aws-Request-Id") else {
        fatal(format_args!(
            "GET {path}: no Lambda-Runtime-Aws-Request-Id header"
        ));
    };
    let ctx = Context {
        request_id,
        deadline_ms: header("Lambda-Runtime-Deadline-Ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        invoked_function_arn: header("Lambda-Runtime-Invoked-Function-Arn").unwrap_or_default(),
        trace_id: header("Lambda-Runtime-Trace-Id"),
        client_context: header("Lambda-Runtime-Client-Context"),
        cognito_identity: header("Lambda-Runtime-Cognito-Identity"),
    };
    // As the Python RIC: set for a traced invocation, removed otherwise.
    // SAFETY: the runtime loop is single-threaded and no handler code is running at this
    // point; a handler that leaves threads running which read the environment concurrently
    // would race, as with any runtime that sets this variable.
    unsafe {
        match &ctx.trace_id {
            Some(t) => std::env::set_var("_X_AMZN_TRACE_ID", t),
            None => std::env::remove_var("_X_AMZN_TRACE_ID"),
        }
    }
    (ctx, resp.body)
}

/// POSTs a result or an error. 2xx: done; 4xx: logged to stderr, the loop goes on
/// (e.g. 400 InvalidRequestID, 413 RequestEntityTooLarge); 5xx or no answer: exit 1.
fn post(client: &mut http::Client, path: &str, error_type: Option<&str>, body: impl AsRef<[u8]>) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(t) = error_type {
        headers.push(("Lambda-Runtime-Function-Error-Type", t));
    }
    check(path, client.request("POST", path, &headers, body.as_ref()));
}

/// The Runtime API's answer to a POST: 2xx done, 4xx logged (the loop goes on), 5xx or no
/// answer: exit 1.
fn check(path: &str, answer: std::io::Result<http::Response>) {
    match answer {
        Ok(r) if (200..300).contains(&r.status) => {}
        Ok(r) if r.status >= 500 => fatal(format_args!(
            "POST {path}: HTTP {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        )),
        Ok(r) => eprintln!(
            "rust_runtime: POST {path}: HTTP {} {} (continuing)",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
        Err(e) => fatal(format_args!("POST {path}: {e}")),
    }
}

/// Request ids are UUIDs; anything else is percent-encoded so the request line stays valid.
fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where the runtime is, for the panic hook: which endpoint a panic is reported to.
#[derive(Clone)]
enum Phase {
    Init,
    Idle,
    Invoke(String),
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Init);

fn set_phase(p: Phase) {
    *PHASE.lock().unwrap_or_else(|e| e.into_inner()) = p;
}

/// Reports a panic in init or in a handler to the Runtime API (on a new connection) before
/// the process aborts, so the caller sees an error object rather than only a crash.
fn install_panic_hook(api: &str) {
    let api = api.to_owned();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info); // the message and location, to stderr
        let phase = match PHASE.try_lock() {
            Ok(g) => g.clone(),
            Err(TryLockError::Poisoned(e)) => e.into_inner().clone(),
            Err(TryLockError::WouldBlock) => return,
        };
        let path = match phase {
            Phase::Init => format!("{API}/runtime/init/error"),
            Phase::Invoke(id) => {
                format!(
                    "{API}/runtime/invocation/{}/error",
                    encode_path_segment(&id)
                )
            }
            Phase::Idle => return,
        };
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let message = match info.location() {
            Some(l) => format!("panicked at {}:{}: {what}", l.file(), l.line()),
            None => format!("panicked: {what}"),
        };
        let body = error_body("Panic", &message);
        let headers = [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Function-Error-Type", "Panic"),
        ];
        let _ = http::Client::new(&api).request("POST", &path, &headers, body.as_bytes());
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments() {
        assert_eq!(
            encode_path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(encode_path_segment("a b/c\r\n"), "a%20b%2Fc%0D%0A");
    }

    #[test]
    fn remaining_time() {
        let ctx = Context {
            request_id: "x".into(),
            deadline_ms: 0,
            invoked_function_arn: String::new(),
            trace_id: None,
            client_context: None,
            cognito_identity: None,
        };
        assert!(ctx.remaining_time_ms() < 0);
    }
}
