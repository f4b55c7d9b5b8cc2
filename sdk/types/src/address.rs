//! 32-byte addresses. An account's address is its ed25519 public key; a contract's address is
//! derived from its deployer, a salt and its code hash (see [`Address::contract`]).

use core::fmt;
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

use crate::hash::{Hash, sha3_256_parts};
pub use crate::hex::ParseHexError;

/// An account or contract address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen)]
pub struct Address(pub [u8; 32]);

/// Domain tag of contract address derivation.
pub const CONTRACT_ADDRESS_TAG: &[u8] = b"weft:contract:v1";

impl Address {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The address of a contract instantiated by `deployer` from `code_hash` with `salt`:
    /// `SHA3-256(compact(len(tag)) ‖ tag ‖ deployer ‖ code_hash ‖ compact(len(salt)) ‖ salt)`.
    /// Every variable-length part is length-prefixed, so two different inputs never collide by
    /// concatenation.
    pub fn contract(deployer: &Address, code_hash: &Hash, salt: &[u8]) -> Address {
        let tag = CONTRACT_ADDRESS_TAG.encode();
        let salt = salt.encode();
        Address(sha3_256_parts(&[&tag, &deployer.0, &code_hash.0, &salt]).0)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Hash(self.0), f)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::str::FromStr for Address {
    type Err = ParseHexError;
    /// Strict: `0x` followed by exactly 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::hex::decode_array(s).map(Address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn text_form_round_trips_and_is_strict() {
        let a = Address([0xab; 32]);
        let s = a.to_string();
        assert_eq!(s.len(), 66);
        assert_eq!(s.parse::<Address>(), Ok(a));
        assert_eq!(s.to_uppercase().replace("0X", "0x").parse::<Address>(), Ok(a));
        assert_eq!("ab".parse::<Address>(), Err(ParseHexError::MissingPrefix));
        assert_eq!("0xabcd".parse::<Address>(), Err(ParseHexError::WrongLength { expected: 64, found: 4 }));
        let bad = alloc::format!("0x{}g", "0".repeat(63));
        assert_eq!(bad.parse::<Address>(), Err(ParseHexError::InvalidDigit { ch: 'g', position: 65 }));
        assert_eq!(
            ParseHexError::WrongLength { expected: 64, found: 4 }.to_string(),
            "expected 64 hex digits after 0x, found 4"
        );
    }

    #[test]
    fn contract_addresses_depend_on_every_input() {
        let d = Address([1; 32]);
        let h = Hash([2; 32]);
        let base = Address::contract(&d, &h, b"salt");
        assert_ne!(base, Address::contract(&Address([3; 32]), &h, b"salt"));
        assert_ne!(base, Address::contract(&d, &Hash([3; 32]), b"salt"));
        assert_ne!(base, Address::contract(&d, &h, b"salu"));
        assert_eq!(base, Address::contract(&d, &h, b"salt"));
    }
}
