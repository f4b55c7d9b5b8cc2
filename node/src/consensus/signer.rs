//! The signing key behind the core: a trait, so a node can keep its key in a separate signer.

use ed25519_dalek::SigningKey;
use weft_types::{Address, Signature, tx::address_of};

/// Signs consensus payloads (already domain-separated) with the validator's ed25519 key.
pub trait Signer {
    /// The public key, as the validator's address.
    fn address(&self) -> Address;
    /// An ed25519 signature of `payload` (RFC 8032, deterministic).
    fn sign(&self, payload: &[u8]) -> Signature;
}

impl Signer for SigningKey {
    fn address(&self) -> Address {
        address_of(self)
    }

    fn sign(&self, payload: &[u8]) -> Signature {
        Signature(ed25519_dalek::Signer::sign(self, payload).to_bytes())
    }
}
