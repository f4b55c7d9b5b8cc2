//! The protocol hash (SHA3-256), Keccak-256 for contracts that need Ethereum compatibility, and
//! the binary Merkle root used for the transaction and receipt roots of a header.

use core::fmt;
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use sha3::{Digest, Keccak256, Sha3_256};

use crate::hex::{Hex, ParseHexError};

/// A SHA3-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash, used as the parent of the genesis block.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hashes and addresses are printed on every RPC answer: `Hex` writes them in one write.
        fmt::Display::fmt(&Hex(&self.0), f)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl core::str::FromStr for Hash {
    type Err = ParseHexError;
    /// Strict: `0x` followed by exactly 64 hex digits.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::hex::decode_array(s).map(Hash)
    }
}

/// SHA3-256 of `data`: the protocol hash.
pub fn sha3_256(data: &[u8]) -> Hash {
    Hash(Sha3_256::digest(data).into())
}

/// SHA3-256 over the concatenation of `parts`, without allocating.
pub fn sha3_256_parts(parts: &[&[u8]]) -> Hash {
    let mut h = Sha3_256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

/// Keccak-256 (the pre-standard SHA3 used by Ethereum) of `data`.
pub fn keccak_256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// The Merkle root of a list of leaf hashes.
///
/// Leaves are hashed as `SHA3(0x00 ‖ leaf)` and inner nodes as `SHA3(0x01 ‖ left ‖ right)`, so a
/// leaf can never be taken for an inner node; an odd node at the end of a level is carried up
/// unchanged. The root of the empty list is `SHA3("")`.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return sha3_256(&[]);
    }
    let mut level: alloc::vec::Vec<Hash> = leaves.iter().map(|l| sha3_256_parts(&[&[0u8], &l.0])).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [l, r] => sha3_256_parts(&[&[1u8], &l.0, &r.0]),
                [one] => *one,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // NIST test vector for SHA3-256("abc").
        assert_eq!(
            sha3_256(b"abc").to_string(),
            "0x3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        // Keccak-256("") as used by Ethereum.
        assert_eq!(keccak_256(b"")[..4], [0xc5, 0xd2, 0x46, 0x01],);
    }

    #[test]
    fn merkle_root_shapes() {
        let a = sha3_256(b"a");
        let b = sha3_256(b"b");
        let c = sha3_256(b"c");
        assert_ne!(merkle_root(&[a]), a, "a leaf is domain-separated from its hash");
        assert_ne!(merkle_root(&[a, b]), merkle_root(&[b, a]));
        assert_ne!(merkle_root(&[a, b, c]), merkle_root(&[a, b]));
        assert_eq!(merkle_root(&[]), sha3_256(b""));
    }
}
