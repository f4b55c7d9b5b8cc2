//! Integration tests of weft-abi: loading and validation, JSON→SCALE encoding and its errors,
//! decoding of values, reverts and events, the wasm section, and property round trips.
#![allow(clippy::unwrap_used)]

mod decode;
mod doc;
mod encode;
mod events;
mod prop;
mod support;
mod wasm;
