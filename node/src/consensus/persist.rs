//! What the core asks the node to persist (its own signed votes and proposals) and what it is
//! restored from (those records and the last committed block).

use parity_scale_codec::{Decode, Encode};
use weft_types::{
    DecodeError, Hash,
    codec::decode_exact,
    consensus::{BlockRef, FinalityCertificate, SignedProposal, SignedVote, View},
};

/// One message this validator signed. Written by [`super::Effect::Persist`] before the message
/// is sent; read back by [`super::Core::restore`].
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum PersistRecord {
    /// A vote.
    #[codec(index = 0)]
    Vote(SignedVote),
    /// A proposal.
    #[codec(index = 1)]
    Proposal(SignedProposal),
}

impl PersistRecord {
    /// Largest encoding: a proposal (152 bytes) and the variant byte.
    pub const MAX_BYTES: usize = 1 + weft_types::consensus::SIGNED_PROPOSAL_BYTES;

    /// The view of the signed message.
    pub fn view(&self) -> View {
        match self {
            PersistRecord::Vote(v) => v.vote.view(),
            PersistRecord::Proposal(p) => p.proposal.view,
        }
    }

    /// Decodes a record with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, Self::MAX_BYTES, "consensus record")
    }
}

/// Where the core starts: the last block the node committed, and the finality certificate stored
/// with it (absent only for genesis). The certificate may name a descendant that was not
/// committed yet (a crash in the middle of a batch of [`super::Effect::Finalized`]); the core then
/// finalizes up to it again.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Anchor {
    /// The last committed block, with the view it was proposed in.
    pub block: BlockRef,
    /// Its finality certificate (or a descendant's); `None` for genesis.
    pub certificate: Option<FinalityCertificate>,
}

impl Anchor {
    /// The genesis block (view 0, height 0) with hash `hash`.
    pub fn genesis(hash: Hash) -> Self {
        Self { block: BlockRef { view: 0, height: 0, hash }, certificate: None }
    }
}
