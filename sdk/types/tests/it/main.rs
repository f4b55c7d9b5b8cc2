//! Integration tests of `weft-types`: the test vectors of `docs/protocol.md` (and that the
//! document still shows them), the signature rule, the documented byte layouts, and the codec's
//! round trips and decode limits.
#![allow(clippy::unwrap_used)]

mod codec;
mod consensus;
#[cfg(feature = "serde")]
mod json;
mod layout;
mod vector;

use ed25519_dalek::SigningKey;
use weft_types::{
    Address, Hash, MethodName, SignedTransaction, Transaction,
    tx::{Action, address_of},
};

/// The secret key of every vector: the bytes 0x01, 0x02, …, 0x20.
pub fn vector_key() -> SigningKey {
    SigningKey::from_bytes(&core::array::from_fn(|i| i as u8 + 1))
}

/// The empty wasm module, whose hash is the code hash of the contract-address vector.
pub const EMPTY_WASM: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/// The salt of the contract-address vector.
pub const VECTOR_SALT: [u8; 4] = [1, 2, 3, 4];

/// The contract of the `Call` vector: deployed by the vector key from [`EMPTY_WASM`].
pub fn vector_contract() -> Address {
    let key = vector_key();
    Address::contract(&address_of(&key), &weft_types::sha3_256(&EMPTY_WASM), &VECTOR_SALT)
}

/// The unsigned `Call` transaction of protocol.md §11.2.
pub fn call_tx() -> Transaction {
    Transaction {
        chain_id: 7,
        sender: address_of(&vector_key()),
        nonce: 3,
        gas_limit: 1_000_000,
        gas_price: 2,
        action: Action::Call {
            contract: vector_contract(),
            method: MethodName::new("transfer").expect("valid method name"),
            args: vec![0xde, 0xad, 0xbe, 0xef].try_into().expect("short args"),
            value: 5,
        },
    }
}

/// The unsigned `Transfer` transaction of protocol.md §11.3.
pub fn transfer_tx() -> Transaction {
    Transaction {
        chain_id: 7,
        sender: address_of(&vector_key()),
        nonce: 4,
        gas_limit: 21_000,
        gas_price: 1,
        action: Action::Transfer { to: Address([0x42; 32]), amount: 1_000_000_000_000_000_000 },
    }
}

/// The signed `Call` vector.
pub fn signed_call() -> SignedTransaction {
    call_tx().sign(&vector_key())
}

/// Parses hex written in a test, panicking with the offending string.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex {s:?}: {e}"))
}

/// A hash from hex written in a test.
pub fn hash_hex(s: &str) -> Hash {
    Hash(unhex(s).try_into().expect("32 bytes"))
}
