//! In-process sandbox that runs real contract wasm on the real Weft runtime, for contract tests.
//!
//! A [`Sandbox`] is a one-validator chain over in-memory state: every [`Sandbox::call`],
//! [`Sandbox::deploy`] and [`Sandbox::transfer`] signs a real transaction (ed25519, the
//! protocol's payload) and executes it in its own block built by the runtime's `BlockBuilder`,
//! exactly as a node does; [`Sandbox::query`] runs read-only without a block. Arguments and
//! results go through the contract's ABI (`weft-abi`) as JSON, or raw/SCALE-typed without it.
//!
//! ```no_run
//! use serde_json::json;
//! use weft_testing::{Sandbox, contract_wasm};
//!
//! let mut sb = Sandbox::new();
//! let alice = sb.account("alice");
//! let bob = sb.account("bob");
//! let token = sb.deploy(alice, &contract_wasm("weft-example-token"), json!({"supply": "1000"})).unwrap();
//! sb.call(alice, token, "transfer", json!({"to": bob, "amount": "10"})).unwrap();
//! assert_eq!(sb.query(token, "balance_of", json!({"owner": bob})).unwrap(), json!("10"));
//! ```
//!
//! Conventions: genesis is height 0 at [`GENESIS_TIMESTAMP_MS`]; each block is
//! [`BLOCK_INTERVAL_MS`] after the last; the gas price is 0 unless configured
//! ([`SandboxConfig::gas_price`]), so balances change only by values and storage deposits;
//! named accounts use [`dev_key`], the same keys as the dev node.

mod error;
mod keys;
mod sandbox;

use std::sync::Arc;

pub use error::CallError;
pub use keys::{DEV_ACCOUNTS, DEV_BALANCE, DEV_KEY_PREFIX, dev_address, dev_key};
pub use sandbox::{
    BLOCK_INTERVAL_MS, CHAIN_ID, CallOpts, CallOutput, DEFAULT_BALANCE, DEFAULT_GAS_LIMIT,
    GENESIS_TIMESTAMP_MS, RawOutput, Sandbox, SandboxConfig, Snapshot,
};
pub use weft_abi::{Abi, AbiError, DecodedEvent, Revert};
pub use weft_build::{BuildError, Built};
pub use weft_types::{Address, Amount, Event, ExecError, Gas, Hash, Receipt};

/// The wasm of the workspace's contract package `package` (e.g. `"weft-example-token"`), built
/// with `weft-build` once per test process (`cargo build --profile contract --target
/// wasm32v1-none` into `target/contracts`) and checked with the node's upload validation.
///
/// # Panics
/// With the build error's text (the compiler's errors, or the validation failure), so a test
/// that needs a contract fails saying why it could not get it.
pub fn contract_wasm(package: &str) -> Vec<u8> {
    built_contract(package).wasm.clone()
}

/// [`contract_wasm`] with everything the build learned: path, size, ABI, code hash, summary.
///
/// # Panics
/// With the build error's text.
pub fn built_contract(package: &str) -> Arc<Built> {
    match weft_build::build_cached(package) {
        Ok(built) => built,
        Err(e) => panic!("cannot build contract `{package}`: {e}"),
    }
}
