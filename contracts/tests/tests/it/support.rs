//! Shared helpers: deploying an example contract (built once per test process by
//! `weft_testing::contract_wasm`) and the ABI's JSON forms of addresses and amounts.

use serde_json::{Value, json};
use weft_testing::{Address, Sandbox};

pub use weft_testing::contract_wasm;

/// Every example contract package.
pub const CONTRACTS: [&str; 8] = [
    "weft-example-token",
    "weft-example-token-v2",
    "weft-example-nft",
    "weft-example-voting",
    "weft-example-supply-chain",
    "weft-example-ip-registry",
    "weft-example-escrow",
    "weft-example-hostile",
];

/// Deploys `package` from `from` with constructor `args`.
pub fn deploy(sb: &mut Sandbox, from: Address, package: &str, args: Value) -> Address {
    sb.deploy(from, &contract_wasm(package), args).unwrap()
}

/// An address as the ABI's JSON writes it.
pub fn j(a: Address) -> Value {
    json!(a.to_string())
}

/// A u128 as the ABI's JSON writes it (a decimal string).
pub fn amount(n: u128) -> Value {
    json!(n.to_string())
}

/// The zero address.
pub fn zero() -> Value {
    j(Address::default())
}
