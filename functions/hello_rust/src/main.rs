//! The smallest Rust function (custom runtime `provided.al2023`, std only): the counterpart of
//! hello_python, for comparing cold starts and memory of the runtimes themselves.

fn main() {
    rust_runtime::run(|_event: &[u8], _ctx: &rust_runtime::Context| {
        Ok(br#"{"message":"hello from rust"}"#.to_vec())
    })
}
