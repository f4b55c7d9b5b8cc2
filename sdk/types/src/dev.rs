//! The well-known development accounts (alice, bob, …): keys derived from their names, so that
//! the dev chain, the contract sandbox, the clients and the CLI agree on them without sharing
//! files. Their keys are public knowledge: never fund them on a real network.

use ed25519_dalek::SigningKey;

use crate::{address::Address, hash::sha3_256_parts, tx::address_of};

/// The dev accounts funded by `weft-node dev`, in order.
pub const DEV_ACCOUNTS: [&str; 6] = ["alice", "bob", "charlie", "dave", "eve", "ferdie"];

/// The balance each dev account starts with on a dev chain: 10^30 base units.
pub const DEV_BALANCE: u128 = 1_000_000_000_000_000_000_000_000_000_000;

/// The key of a dev account: its ed25519 seed is `sha3_256("weft-dev:" ‖ name)`. Any name works;
/// the names in [`DEV_ACCOUNTS`] are the funded ones.
pub fn dev_key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&sha3_256_parts(&[b"weft-dev:", name.as_bytes()]).0)
}

/// The address of a dev account.
pub fn dev_address(name: &str) -> Address {
    address_of(&dev_key(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_are_stable_and_distinct() {
        let alice = dev_address("alice");
        assert_eq!(alice, dev_address("alice"));
        assert_ne!(alice, dev_address("bob"));
        // The derivation is part of the developer interface (docs/protocol.md): pin it.
        assert_eq!(dev_key("alice").to_bytes(), crate::hash::sha3_256(b"weft-dev:alice").0,);
    }
}
