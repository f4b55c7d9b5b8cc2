//! Integration tests of the runtime: real wasm executed through blocks on in-memory state.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod compile;
mod contracts;
mod golden;
mod host;
mod support;
mod transfers;
mod upgrade;
mod wat;
