//! Integration tests of the runtime: real wasm executed through blocks on in-memory state.
#![allow(clippy::unwrap_used)]

mod contracts;
mod golden;
mod host;
mod support;
mod transfers;
mod wat;
