//! Weft's fuzz targets as plain functions `fn(&[u8])`, each panicking only on a bug:
//!
//! - [`tx::target`]: every protocol message decoder (transactions, blocks, consensus messages,
//!   certificates, receipts, evidence), the canonical-encoding rule, and the structured path:
//!   the bytes read as an unsigned transaction, signed, checked and executed in a block on an
//!   in-memory chain, then re-executed and checked for supply conservation.
//! - [`wasm::target`]: the deploy-time validation (`vm::prepare`); code it accepts is uploaded,
//!   instantiated and every method called with bounded gas in a block, which re-execution must
//!   reproduce exactly.
//! - [`rpc::target`]: a JSON-RPC request handled by the node's API module over a dev chain; no
//!   input may panic or get an internal error.
//!
//! The cargo-fuzz crate in `fuzz/libfuzzer` wraps each in a `fuzz_target!`; this crate's tests
//! drive each with thousands of deterministic mutations of valid seeds ([`seeds`], [`mutate`]).

pub mod chain;
pub mod mutate;
pub mod rpc;
pub mod seeds;
pub mod tx;
pub mod wasm;
