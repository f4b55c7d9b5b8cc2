//! Per-view and per-block bookkeeping of the core: the votes counted in each view, its
//! certificates and proposal, and the blocks above the finalized one with their validation status.

use std::collections::BTreeMap;

use weft_types::{
    Address, Block,
    consensus::{
        Certificate, FinalityCertificate, SignedProposal, SignedVote, ValidatorSet, Vote, VotingPower,
    },
};

/// What the core knows about one view.
#[derive(Default, Debug)]
pub(super) struct ViewState {
    /// The leader's first valid proposal.
    pub proposal: Option<SignedProposal>,
    /// The first Notarize vote of each validator (own votes included).
    pub notarize: BTreeMap<Address, SignedVote>,
    /// The Nullify vote of each validator.
    pub nullify: BTreeMap<Address, SignedVote>,
    /// The first Finalize vote of each validator.
    pub finalize: BTreeMap<Address, SignedVote>,
    /// The view's notarization, once seen.
    pub notarization: Option<Certificate>,
    /// The view's nullification, once seen.
    pub nullification: Option<Certificate>,
    /// The view's finalization, once seen.
    pub finalization: Option<FinalityCertificate>,
}

impl ViewState {
    /// The map holding votes of `vote`'s kind.
    pub fn votes(&self, vote: &Vote) -> &BTreeMap<Address, SignedVote> {
        match vote {
            Vote::Notarize(_) => &self.notarize,
            Vote::Nullify(_) => &self.nullify,
            Vote::Finalize(_) => &self.finalize,
        }
    }

    /// The map holding votes of `vote`'s kind, mutably.
    pub fn votes_mut(&mut self, vote: &Vote) -> &mut BTreeMap<Address, SignedVote> {
        match vote {
            Vote::Notarize(_) => &mut self.notarize,
            Vote::Nullify(_) => &mut self.nullify,
            Vote::Finalize(_) => &mut self.finalize,
        }
    }

    /// Whether a certificate of `vote`'s kind is already known.
    pub fn has_certificate(&self, vote: &Vote) -> bool {
        match vote {
            Vote::Notarize(_) => self.notarization.is_some(),
            Vote::Nullify(_) => self.nullification.is_some(),
            Vote::Finalize(_) => self.finalization.is_some(),
        }
    }

    /// Whether this exact signed vote is already counted.
    pub fn knows(&self, vote: &SignedVote) -> bool {
        self.votes(&vote.vote).get(&vote.signer) == Some(vote)
    }

    /// The power of the validators that signed exactly `vote`. Saturates, which cannot happen:
    /// the signers are distinct validators and the set's total fits a `u64`.
    pub fn power_for(&self, vote: &Vote, set: &ValidatorSet) -> VotingPower {
        self.votes(vote)
            .values()
            .filter(|v| v.vote == *vote)
            .filter_map(|v| set.power_of(&v.signer))
            .fold(0, VotingPower::saturating_add)
    }
}

/// Where a stored block is in validation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Status {
    /// Waiting for its parent to be validated.
    Pending,
    /// [`super::Effect::ValidateBlock`] was emitted.
    Requested,
    /// The node validated it (or built it).
    Valid,
    /// The node refused it; never voted for, never built on.
    Invalid,
}

/// A block above the finalized one, with the leader's signed proposal that carried it.
#[derive(Debug)]
pub(super) struct BlockEntry {
    /// The proposal (kept to answer block requests).
    pub proposal: SignedProposal,
    /// The block.
    pub block: Block,
    /// Its validation status.
    pub status: Status,
}

/// A block asked for with [`super::Effect::BuildBlock`].
#[derive(Clone, Copy, Debug)]
pub(super) struct BuildRequest {
    /// The view this validator leads.
    pub view: weft_types::consensus::View,
    /// The parent's view.
    pub parent_view: weft_types::consensus::View,
    /// The block's height.
    pub height: weft_types::Height,
    /// The parent's hash.
    pub parent: weft_types::Hash,
}
