//! A bootstrap whose initialisation fails: it reports to `/runtime/init/error` and exits 1.
//! `cargo build --release --example init_error`; used to check that path by hand.

use rust_runtime::{Config, Context, Error, HandlerResult};

type Handler = fn(&[u8], &Context) -> HandlerResult;

fn init(config: &Config) -> Result<Handler, Error> {
    Err(Error::new(
        "Runtime.InitError",
        format!("no handler named {:?} in this \"example\"", config.handler),
    ))
}

fn main() {
    rust_runtime::run_with_init(init)
}
