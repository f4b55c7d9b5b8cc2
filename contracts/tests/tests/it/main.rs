//! Sandbox tests of every example contract, run on the real runtime through `weft-testing`:
//! one module per contract, `wasm` for the built modules (sizes, ABI section, validation).
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

mod escrow;
mod hostile;
mod ip_registry;
mod nft;
mod supply_chain;
mod token;
mod voting;
mod wasm;
