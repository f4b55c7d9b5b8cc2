//! Development keys: the one derivation of a named account's key, shared by this sandbox and
//! the dev node (`weft-dev:` ‖ name, hashed with SHA3-256, is the ed25519 seed).
//!
//! These keys are public knowledge: never use them on a real chain.

use ed25519_dalek::SigningKey;
use weft_types::{Address, sha3_256, tx::address_of};

/// The domain prefix of development key seeds.
pub const DEV_KEY_PREFIX: &str = "weft-dev:";

/// The development key of `name`: the ed25519 key whose RFC 8032 seed is
/// `sha3_256("weft-dev:" ‖ name)` (the name as UTF-8).
pub fn dev_key(name: &str) -> SigningKey {
    let seed = sha3_256(format!("{DEV_KEY_PREFIX}{name}").as_bytes());
    SigningKey::from_bytes(&seed.0)
}

/// The address (ed25519 public key) of [`dev_key`]`(name)`.
pub fn dev_address(name: &str) -> Address {
    address_of(&dev_key(name))
}
