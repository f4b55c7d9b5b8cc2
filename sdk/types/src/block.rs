//! Block headers and blocks.

use alloc::vec::Vec;
use parity_scale_codec::{Decode, Encode};

use crate::{
    Gas, Height,
    address::Address,
    codec::{BlockTxsLimit, BoundedVec, DecodeError, decode_exact},
    hash::{Hash, merkle_root, sha3_256},
    limits::MAX_BLOCK_BYTES,
    receipt::Receipt,
    tx::SignedTransaction,
};

/// A block header. Its hash (SHA3-256 of its encoding) is the block's hash.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Header {
    /// Height; genesis is 0.
    pub height: Height,
    /// Hash of the parent header ([`Hash::ZERO`] for genesis).
    pub parent_hash: Hash,
    /// Milliseconds since the Unix epoch, chosen by consensus (never read from a clock during
    /// execution).
    pub timestamp_ms: u64,
    /// The validator that proposed the block and receives its fees.
    pub proposer: Address,
    /// Merkle root of the transaction hashes.
    pub tx_root: Hash,
    /// Merkle root of the receipt hashes.
    pub receipts_root: Hash,
    /// Root of the state after the block.
    pub state_root: Hash,
    /// Gas used by all transactions.
    pub gas_used: Gas,
}

impl Header {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        sha3_256(&self.encode())
    }
}

/// A header and its transactions.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// The transactions, in execution order.
    pub txs: BoundedVec<SignedTransaction, BlockTxsLimit>,
}

impl Block {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// Decodes a block with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_BLOCK_BYTES, "block")
    }
}

/// Merkle root of the hashes of `txs`, for [`Header::tx_root`].
pub fn tx_root(txs: &[SignedTransaction]) -> Hash {
    tx_root_of_hashes(&txs.iter().map(SignedTransaction::hash).collect::<Vec<_>>())
}

/// [`tx_root`] from the transactions' hashes, for callers that already have them.
pub fn tx_root_of_hashes(hashes: &[Hash]) -> Hash {
    merkle_root(hashes)
}

/// Merkle root of the hashes of `receipts`, for [`Header::receipts_root`].
pub fn receipts_root(receipts: &[Receipt]) -> Hash {
    merkle_root(&receipts.iter().map(Receipt::hash).collect::<Vec<_>>())
}
