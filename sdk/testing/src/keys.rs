//! Development keys: a named account's key is the ed25519 key whose seed is
//! `sha3_256("weft-dev:" ‖ name)`. The derivation is defined once, in `weft_types::dev`, and
//! shared with the dev node, the clients and the CLI; this module re-exports it so contract
//! tests need only this crate.
//!
//! These keys are public knowledge: never use them on a real chain.

pub use weft_types::dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address, dev_key};

/// The domain prefix of development key seeds.
pub const DEV_KEY_PREFIX: &str = "weft-dev:";
