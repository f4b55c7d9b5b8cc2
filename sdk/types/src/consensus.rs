//! Consensus vocabulary: the validator set, the signed votes and proposals validators exchange,
//! the quorum certificates built from votes (among them the finality certificate stored with
//! every finalized block), equivocation evidence, and the consensus wire message with its
//! bounded decoding.
//!
//! The protocol that uses them (Simplex, Chan & Pass, TCC 2023) lives in the node
//! (`weft_node::consensus`); this module fixes only bytes and checks that need no protocol state:
//! encodings, signatures, quorum arithmetic and what counts as a conflict.
//!
//! Signatures follow the rule of [`crate::tx`]: ed25519 `verify_strict` over
//! `domain_payload(tag, chain_id, SCALE(body))`, with the tag [`domain::VOTE`] for votes (and so for
//! every signature inside a certificate) and [`domain::PROPOSAL`] for proposals.
//!
//! Voting power is weighted. A *quorum* is more than two thirds of the total power
//! (`⌊2·total/3⌋ + 1`, which is `2f + 1` for `3f + 1` equal validators); two quorums therefore
//! share more than a third of the power, so at least one honest validator while the byzantine
//! power stays below a third.

use alloc::{boxed::Box, vec::Vec};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use parity_scale_codec::{Decode, Encode, Input};

use crate::{
    Height,
    address::Address,
    block::Block,
    codec::{BoundedVec, DecodeError, LengthError, Limit, decode_exact},
    hash::Hash,
    limits::MAX_BLOCK_BYTES,
    tx::{ChainId, Signature, SignatureError, domain, domain_payload, verify_strict},
};

/// A consensus view (the iteration of the paper): every view has one leader, and at most one block
/// can be notarized in it. Views start at 1; view 0 is the genesis block's.
pub type View = u64;

/// Voting power of a validator.
pub type VotingPower = u64;

/// Most validators in a set, and so most signatures in a certificate.
pub const MAX_VALIDATORS: usize = 256;

/// Encoded size of a [`SignedProposal`]: view, parent view, height, block hash, signer, signature.
pub const SIGNED_PROPOSAL_BYTES: usize = 8 + 8 + 8 + 32 + 32 + 64;

/// Largest encoded [`ConsensusMessage`]: a proposal carrying a block of `MAX_BLOCK_BYTES`.
pub const MAX_CONSENSUS_MESSAGE_BYTES: usize = 1 + SIGNED_PROPOSAL_BYTES + MAX_BLOCK_BYTES;

/// Largest encoded [`Certificate`]: a Finalize vote (49 bytes), a two-byte compact count and
/// `MAX_VALIDATORS` signatures of 96 bytes.
pub const MAX_CERTIFICATE_BYTES: usize = 49 + 2 + MAX_VALIDATORS * 96;

/// Largest encoded [`ValidatorSet`]: a two-byte compact count and `MAX_VALIDATORS` entries of 40
/// bytes.
pub const MAX_VALIDATOR_SET_BYTES: usize = 2 + MAX_VALIDATORS * 40;

/// Largest encoded [`Evidence`]: two signed proposals and the variant byte.
pub const MAX_EVIDENCE_BYTES: usize = 1 + 2 * SIGNED_PROPOSAL_BYTES;

/// The length limit of validator lists and certificate signature lists.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Debug)]
pub struct ValidatorsLimit;

impl Limit for ValidatorsLimit {
    const MAX: usize = MAX_VALIDATORS;
    const WHAT: &'static str = "validators";
    const ERR: &'static str = "more than MAX_VALIDATORS (256) validators or signatures";
}

/// One validator: its ed25519 public key (as an address) and its voting power.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct Validator {
    /// The validator's ed25519 public key; it signs votes and proposals.
    pub address: Address,
    /// Its weight in every quorum; never zero.
    pub power: VotingPower,
}

/// Why a list of validators is not a validator set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// No validators.
    #[error("a validator set needs at least one validator")]
    Empty,
    /// Over [`MAX_VALIDATORS`].
    #[error("{0} validators, over the limit of {MAX_VALIDATORS}")]
    TooMany(usize),
    /// Validators must be listed in strictly ascending address order (so no duplicates).
    #[error("validator {0} is listed out of order or twice (addresses must be strictly ascending)")]
    NotAscending(Address),
    /// A validator with no power.
    #[error("validator {0} has zero voting power")]
    ZeroPower(Address),
    /// The total power does not fit a `u64`.
    #[error("total voting power overflows u64")]
    PowerOverflow,
    /// An address that is not an ed25519 public key.
    #[error("validator {0} is not a valid ed25519 public key")]
    BadKey(Address),
}

/// A fixed set of validators: non-empty, at most [`MAX_VALIDATORS`], strictly ascending by
/// address, every power non-zero, every address an ed25519 public key, the total within `u64`.
/// Encoded as the list of [`Validator`]s; decoding applies the same checks.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total: VotingPower,
}

impl ValidatorSet {
    /// Checks and wraps a list of validators (which must already be sorted by address).
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        if validators.len() > MAX_VALIDATORS {
            return Err(ValidatorSetError::TooMany(validators.len()));
        }
        let mut total: VotingPower = 0;
        for (i, v) in validators.iter().enumerate() {
            if i > 0 && validators[i - 1].address >= v.address {
                return Err(ValidatorSetError::NotAscending(v.address));
            }
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.address));
            }
            if VerifyingKey::from_bytes(&v.address.0).is_err() {
                return Err(ValidatorSetError::BadKey(v.address));
            }
            total = total.checked_add(v.power).ok_or(ValidatorSetError::PowerOverflow)?;
        }
        Ok(Self { validators, total })
    }

    /// Builds a set from validators in any order (sorting them by address first).
    pub fn from_unsorted(mut validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        validators.sort();
        Self::new(validators)
    }

    /// The validators, ascending by address.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Never true: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The sum of all voting power.
    pub fn total_power(&self) -> VotingPower {
        self.total
    }

    /// The smallest power that is more than two thirds of the total: `⌊2·total/3⌋ + 1`.
    pub fn quorum(&self) -> VotingPower {
        // 2·total/3 < total, so the result is at most `total` and fits a u64.
        let q = u128::from(self.total) * 2 / 3 + 1;
        VotingPower::try_from(q).unwrap_or(VotingPower::MAX)
    }

    /// The voting power of `address`, or `None` when it is not a validator.
    pub fn power_of(&self, address: &Address) -> Option<VotingPower> {
        self.validators.binary_search_by(|v| v.address.cmp(address)).ok().map(|i| self.validators[i].power)
    }

    /// Whether `address` is a validator.
    pub fn contains(&self, address: &Address) -> bool {
        self.power_of(address).is_some()
    }

    /// The validator whose slice of the cumulative power contains `point` (taken modulo the total
    /// power), so a uniformly drawn point picks a validator with probability proportional to its
    /// power.
    pub fn by_weight(&self, point: u128) -> &Validator {
        let mut point = point % u128::from(self.total);
        for v in &self.validators {
            let p = u128::from(v.power);
            if point < p {
                return v;
            }
            point -= p;
        }
        // Unreachable: the powers sum to `total` and `point < total`. The last validator is a
        // harmless answer that keeps this function total.
        &self.validators[self.validators.len() - 1]
    }

    /// Decodes a validator set with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_VALIDATOR_SET_BYTES, "validator set")
    }
}

impl Encode for ValidatorSet {
    fn size_hint(&self) -> usize {
        self.validators.size_hint()
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        self.validators.encode_to(dest)
    }
}

impl Decode for ValidatorSet {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let list = BoundedVec::<Validator, ValidatorsLimit>::decode(input)?.into_inner();
        Self::new(list).map_err(|_| "invalid validator set".into())
    }
}

/// Names a block proposed in a view: the view, the block's height and hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct BlockRef {
    /// The view the block was proposed in.
    pub view: View,
    /// The block's height.
    pub height: Height,
    /// The block's hash.
    pub hash: Hash,
}

/// What a validator votes for. The signed body is `SCALE(Vote)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub enum Vote {
    /// The block is valid and is the leader's first proposal of its view (`vote` of the paper).
    #[codec(index = 0)]
    Notarize(BlockRef),
    /// The view timed out before the voter saw a notarization (the vote for `⊥` of the paper).
    #[codec(index = 1)]
    Nullify(View),
    /// The voter saw the block notarized before its view timed out (`finalize` of the paper).
    #[codec(index = 2)]
    Finalize(BlockRef),
}

impl Vote {
    /// The view voted in.
    pub fn view(&self) -> View {
        match self {
            Vote::Notarize(b) | Vote::Finalize(b) => b.view,
            Vote::Nullify(v) => *v,
        }
    }

    /// The block voted for, if any.
    pub fn block(&self) -> Option<&BlockRef> {
        match self {
            Vote::Notarize(b) | Vote::Finalize(b) => Some(b),
            Vote::Nullify(_) => None,
        }
    }

    /// The bytes a validator signs: `domain_payload(domain::VOTE, chain_id, SCALE(self))`.
    pub fn signing_payload(&self, chain_id: ChainId) -> Vec<u8> {
        domain_payload(domain::VOTE, chain_id, &self.encode())
    }

    /// Signs with `key`; the signer is `key`'s public key.
    pub fn sign(self, chain_id: ChainId, key: &SigningKey) -> SignedVote {
        let signature = Signature(key.sign(&self.signing_payload(chain_id)).to_bytes());
        SignedVote { vote: self, signer: Address(key.verifying_key().to_bytes()), signature }
    }

    /// Whether one honest validator could never sign both `self` and `other`: two Notarize votes
    /// for different blocks in one view, two Finalize votes for different blocks in one view, or a
    /// Nullify and a Finalize of the same view.
    pub fn conflicts_with(&self, other: &Vote) -> bool {
        if self.view() != other.view() {
            return false;
        }
        match (self, other) {
            (Vote::Notarize(a), Vote::Notarize(b)) | (Vote::Finalize(a), Vote::Finalize(b)) => a != b,
            (Vote::Nullify(_), Vote::Finalize(_)) | (Vote::Finalize(_), Vote::Nullify(_)) => true,
            _ => false,
        }
    }
}

/// A vote with its signer and signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// The validator that signed it.
    pub signer: Address,
    /// Signature over [`Vote::signing_payload`].
    pub signature: Signature,
}

impl SignedVote {
    /// Checks the signature with the protocol's rule (`verify_strict`).
    pub fn verify(&self, chain_id: ChainId) -> Result<(), SignatureError> {
        verify_strict(&self.signer, &self.vote.signing_payload(chain_id), &self.signature)
    }
}

/// A leader's proposal of a block for its view. The block travels next to it; the signature
/// covers the block through its hash. The signed body is `SCALE(Proposal)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Encode, Decode)]
pub struct Proposal {
    /// The view; the signer must be its leader.
    pub view: View,
    /// The view of the parent block: a notarized block's view, or the finalized block's view;
    /// every view strictly between it and `view` must have been nullified.
    pub parent_view: View,
    /// The block's height (its parent's plus one).
    pub height: Height,
    /// The block's hash.
    pub block_hash: Hash,
}

impl Proposal {
    /// The proposed block as a [`BlockRef`].
    pub fn block_ref(&self) -> BlockRef {
        BlockRef { view: self.view, height: self.height, hash: self.block_hash }
    }

    /// The bytes a leader signs: `domain_payload(domain::PROPOSAL, chain_id, SCALE(self))`.
    pub fn signing_payload(&self, chain_id: ChainId) -> Vec<u8> {
        domain_payload(domain::PROPOSAL, chain_id, &self.encode())
    }

    /// Signs with `key`; the signer is `key`'s public key.
    pub fn sign(self, chain_id: ChainId, key: &SigningKey) -> SignedProposal {
        let signature = Signature(key.sign(&self.signing_payload(chain_id)).to_bytes());
        SignedProposal { proposal: self, signer: Address(key.verifying_key().to_bytes()), signature }
    }

    /// Whether `self` and `other` are two different proposals for one view.
    pub fn conflicts_with(&self, other: &Proposal) -> bool {
        self.view == other.view && self != other
    }
}

/// A proposal with its signer and signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SignedProposal {
    /// The proposal.
    pub proposal: Proposal,
    /// The leader that signed it.
    pub signer: Address,
    /// Signature over [`Proposal::signing_payload`].
    pub signature: Signature,
}

impl SignedProposal {
    /// Checks the signature with the protocol's rule (`verify_strict`).
    pub fn verify(&self, chain_id: ChainId) -> Result<(), SignatureError> {
        verify_strict(&self.signer, &self.proposal.signing_payload(chain_id), &self.signature)
    }
}

/// One validator's signature in a certificate.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub struct ValidatorSignature {
    /// The validator.
    pub validator: Address,
    /// Its signature over the certificate's vote.
    pub signature: Signature,
}

/// Why a certificate does not prove its vote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// Signers must be strictly ascending by address (one signature each, one encoding).
    #[error("certificate signers are not strictly ascending (at {0})")]
    NotAscending(Address),
    /// A signer is not in the validator set.
    #[error("certificate signer {0} is not a validator")]
    UnknownValidator(Address),
    /// A signature does not verify.
    #[error("certificate signature: {0}")]
    BadSignature(SignatureError),
    /// The signers do not reach a quorum.
    #[error("certificate has voting power {power}, below the quorum of {quorum}")]
    InsufficientPower {
        /// Power of the signers.
        power: VotingPower,
        /// Power needed.
        quorum: VotingPower,
    },
    /// A finality certificate must certify a Finalize vote.
    #[error("a finality certificate must certify a Finalize vote")]
    NotFinalize,
}

/// A quorum certificate: one vote and the signatures of validators holding more than two thirds
/// of the voting power. A Notarize certificate is a *notarization*, a Nullify one a
/// *nullification*, a Finalize one a *finalization* (see [`FinalityCertificate`]).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Certificate {
    /// What the signers voted for.
    pub vote: Vote,
    /// The signatures, strictly ascending by validator address.
    pub signatures: BoundedVec<ValidatorSignature, ValidatorsLimit>,
}

impl Certificate {
    /// Builds a certificate from signatures of `vote` in any order (they are sorted; a repeated
    /// validator keeps its first signature). Fails only with more than [`MAX_VALIDATORS`] signers.
    pub fn new(
        vote: Vote,
        signatures: impl IntoIterator<Item = ValidatorSignature>,
    ) -> Result<Self, LengthError> {
        let mut list: Vec<ValidatorSignature> = signatures.into_iter().collect();
        list.sort_by_key(|s| s.validator);
        list.dedup_by(|later, first| later.validator == first.validator);
        Ok(Self { vote, signatures: BoundedVec::new(list)? })
    }

    /// The view of the vote.
    pub fn view(&self) -> View {
        self.vote.view()
    }

    /// The signed votes the certificate is made of.
    pub fn votes(&self) -> impl Iterator<Item = SignedVote> + '_ {
        self.signatures.iter().map(|s| SignedVote {
            vote: self.vote,
            signer: s.validator,
            signature: s.signature,
        })
    }

    /// Checks the structure and voting power, then every signature; returns the signers' power.
    /// Signers must be strictly ascending validators of `set` with at least `set.quorum()` power,
    /// and every signature must verify (`verify_strict`) over the vote's payload for `chain_id`.
    pub fn verify(&self, chain_id: ChainId, set: &ValidatorSet) -> Result<VotingPower, CertificateError> {
        self.verify_with(chain_id, set, |_| false)
    }

    /// Like [`Certificate::verify`], but skips the signature check of every signed vote for which
    /// `known` returns true (a vote whose signature the caller has already verified).
    pub fn verify_with(
        &self,
        chain_id: ChainId,
        set: &ValidatorSet,
        known: impl Fn(&SignedVote) -> bool,
    ) -> Result<VotingPower, CertificateError> {
        let mut power: VotingPower = 0;
        let mut previous: Option<Address> = None;
        for s in self.signatures.iter() {
            if previous.is_some_and(|p| p >= s.validator) {
                return Err(CertificateError::NotAscending(s.validator));
            }
            previous = Some(s.validator);
            let p = set.power_of(&s.validator).ok_or(CertificateError::UnknownValidator(s.validator))?;
            // Cannot overflow: the signers are distinct validators and the set's total fits a u64.
            power = power.saturating_add(p);
        }
        let quorum = set.quorum();
        if power < quorum {
            return Err(CertificateError::InsufficientPower { power, quorum });
        }
        let payload = self.vote.signing_payload(chain_id);
        for vote in self.votes() {
            if !known(&vote) {
                verify_strict(&vote.signer, &payload, &vote.signature)
                    .map_err(CertificateError::BadSignature)?;
            }
        }
        Ok(power)
    }

    /// Decodes a certificate with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CERTIFICATE_BYTES, "certificate")
    }
}

/// The proof that a block is final: a [`Certificate`] of a Finalize vote. Validators sign
/// Finalize for a view only if they saw its block notarized and never nullified the view, so a
/// quorum of them means no other block of that height can ever be finalized.
///
/// It certifies the block it names and, through the parent hashes of the headers, every ancestor
/// of that block. Encoded exactly as the certificate `{ vote: Vote::Finalize(block), signatures }`;
/// decoding refuses any other vote.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct FinalityCertificate {
    block: BlockRef,
    signatures: BoundedVec<ValidatorSignature, ValidatorsLimit>,
}

impl FinalityCertificate {
    /// Wraps a certificate of a Finalize vote.
    pub fn new(certificate: Certificate) -> Result<Self, CertificateError> {
        match certificate.vote {
            Vote::Finalize(block) => Ok(Self { block, signatures: certificate.signatures }),
            _ => Err(CertificateError::NotFinalize),
        }
    }

    /// The finalized block.
    pub fn block(&self) -> BlockRef {
        self.block
    }

    /// The certificate it is (a copy).
    pub fn certificate(&self) -> Certificate {
        Certificate { vote: Vote::Finalize(self.block), signatures: self.signatures.clone() }
    }

    /// Unwraps the certificate.
    pub fn into_certificate(self) -> Certificate {
        Certificate { vote: Vote::Finalize(self.block), signatures: self.signatures }
    }

    /// The signatures, strictly ascending by validator address.
    pub fn signatures(&self) -> &[ValidatorSignature] {
        &self.signatures
    }

    /// Checks it as [`Certificate::verify`] does; returns the signers' power.
    pub fn verify(&self, chain_id: ChainId, set: &ValidatorSet) -> Result<VotingPower, CertificateError> {
        self.certificate().verify(chain_id, set)
    }

    /// Decodes a finality certificate with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CERTIFICATE_BYTES, "finality certificate")
    }
}

impl Encode for FinalityCertificate {
    fn size_hint(&self) -> usize {
        49 + self.signatures.size_hint()
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        Vote::Finalize(self.block).encode_to(dest);
        self.signatures.encode_to(dest);
    }
}

impl Decode for FinalityCertificate {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        Self::new(Certificate::decode(input)?)
            .map_err(|_| "a finality certificate must certify a Finalize vote".into())
    }
}

/// Proof that one validator signed two messages no honest validator signs.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum Evidence {
    /// Two conflicting votes (see [`Vote::conflicts_with`]).
    #[codec(index = 0)]
    ConflictingVotes(SignedVote, SignedVote),
    /// Two different proposals for one view.
    #[codec(index = 1)]
    ConflictingProposals(SignedProposal, SignedProposal),
}

/// Why evidence proves nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvidenceError {
    /// The two messages have different signers.
    #[error("the two messages are signed by different validators")]
    DifferentSigners,
    /// The two messages do not conflict.
    #[error("the two messages do not conflict")]
    NoConflict,
    /// The signer is not a validator.
    #[error("{0} is not a validator")]
    NotValidator(Address),
    /// A signature does not verify.
    #[error("evidence signature: {0}")]
    BadSignature(#[from] SignatureError),
}

impl Evidence {
    /// The validator that signed both messages.
    pub fn offender(&self) -> Address {
        match self {
            Evidence::ConflictingVotes(a, _) => a.signer,
            Evidence::ConflictingProposals(a, _) => a.signer,
        }
    }

    /// The view both messages are for.
    pub fn view(&self) -> View {
        match self {
            Evidence::ConflictingVotes(a, _) => a.vote.view(),
            Evidence::ConflictingProposals(a, _) => a.proposal.view,
        }
    }

    /// Checks that one validator of `set` signed both messages and that they conflict; returns the
    /// offender.
    pub fn verify(&self, chain_id: ChainId, set: &ValidatorSet) -> Result<Address, EvidenceError> {
        let offender = self.offender();
        match self {
            Evidence::ConflictingVotes(a, b) => {
                if a.signer != b.signer {
                    return Err(EvidenceError::DifferentSigners);
                }
                if !a.vote.conflicts_with(&b.vote) {
                    return Err(EvidenceError::NoConflict);
                }
                if !set.contains(&offender) {
                    return Err(EvidenceError::NotValidator(offender));
                }
                a.verify(chain_id)?;
                b.verify(chain_id)?;
            }
            Evidence::ConflictingProposals(a, b) => {
                if a.signer != b.signer {
                    return Err(EvidenceError::DifferentSigners);
                }
                if !a.proposal.conflicts_with(&b.proposal) {
                    return Err(EvidenceError::NoConflict);
                }
                if !set.contains(&offender) {
                    return Err(EvidenceError::NotValidator(offender));
                }
                a.verify(chain_id)?;
                b.verify(chain_id)?;
            }
        }
        Ok(offender)
    }

    /// Decodes evidence with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_EVIDENCE_BYTES, "evidence")
    }
}

/// Everything validators send each other about consensus.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub enum ConsensusMessage {
    /// A leader's signed proposal and the block it names (also the answer to a block request).
    #[codec(index = 0)]
    Proposal {
        /// The signed proposal.
        proposal: SignedProposal,
        /// The proposed block; its hash must be `proposal.proposal.block_hash`. (Boxed in memory
        /// only; encoded as the block.)
        block: Box<Block>,
    },
    /// A signed vote.
    #[codec(index = 1)]
    Vote(SignedVote),
    /// A notarization, nullification or finalization.
    #[codec(index = 2)]
    Certificate(Certificate),
    /// Asks peers for a block above the finalized one that the sender lacks, by hash.
    #[codec(index = 3)]
    BlockRequest(Hash),
    /// Asks peers for the notarization or nullification of a view (which the sender needs to
    /// check, or build, a proposal's parent chain).
    #[codec(index = 4)]
    CertificateRequest(View),
}

impl ConsensusMessage {
    /// Decodes a message with every limit applied (at most [`MAX_CONSENSUS_MESSAGE_BYTES`]).
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CONSENSUS_MESSAGE_BYTES, "consensus message")
    }

    /// The encoding of `ConsensusMessage::Proposal { proposal, block }`, without copying the
    /// block into a message first.
    pub fn encode_proposal(proposal: &SignedProposal, block: &Block) -> Vec<u8> {
        // Variant index 0, then the fields in order (a box encodes as its content).
        (0u8, proposal, block).encode()
    }

    /// The view the message is about, if any.
    pub fn view(&self) -> Option<View> {
        match self {
            ConsensusMessage::Proposal { proposal, .. } => Some(proposal.proposal.view),
            ConsensusMessage::Vote(v) => Some(v.vote.view()),
            ConsensusMessage::Certificate(c) => Some(c.view()),
            ConsensusMessage::CertificateRequest(v) => Some(*v),
            ConsensusMessage::BlockRequest(_) => None,
        }
    }
}

/// Largest encoded [`FinalityProof`].
pub const MAX_FINALITY_PROOF_BYTES: usize = 8 + MAX_CERTIFICATE_BYTES;

/// What makes a stored block final, as a node keeps it with the block and serves it to peers: the
/// view the block was proposed in (to restart the protocol from it) and its finality certificate,
/// which names that block or a descendant. Encoded `view (u64 LE) ‖ FinalityCertificate`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct FinalityProof {
    /// The view the block was proposed in.
    pub view: View,
    /// A certificate of the block or of a descendant (then proposed in a later view).
    pub certificate: FinalityCertificate,
}

impl FinalityProof {
    /// Decodes a proof with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_FINALITY_PROOF_BYTES, "finality proof")
    }
}

/// Largest encoded [`CertifiedBlock`].
pub const MAX_CERTIFIED_BLOCK_BYTES: usize = MAX_BLOCK_BYTES + MAX_FINALITY_PROOF_BYTES;

/// A finalized block with its proof: one entry of a block-sync response. Encoded
/// `Block ‖ FinalityProof`.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct CertifiedBlock {
    /// The block.
    pub block: Block,
    /// Why it is final.
    pub proof: FinalityProof,
}

impl CertifiedBlock {
    /// Decodes an entry with every limit applied.
    pub fn decode_bounded(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_exact(bytes, MAX_CERTIFIED_BLOCK_BYTES, "certified block")
    }
}

/// Bytes of the copy number that follows a consensus message on the gossip topics.
pub const COPY_BYTES: usize = 4;

/// A consensus message as gossiped: `SCALE(ConsensusMessage) ‖ copy (u32 LE)`. The copy number
/// counts a node's publications of one message, so that a re-send is new to gossip's duplicate
/// filter (docs/protocol.md §8.4); receivers ignore it.
pub fn gossip_frame(message: &[u8], copy: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + COPY_BYTES);
    out.extend_from_slice(message);
    out.extend_from_slice(&copy.to_le_bytes());
    out
}

/// The encoded message of a gossip frame ([`gossip_frame`]); `None` for bytes too short to hold
/// a copy number.
pub fn gossip_message(frame: &[u8]) -> Option<&[u8]> {
    frame.len().checked_sub(COPY_BYTES).map(|len| &frame[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_message_names_its_value() {
        assert!(ValidatorsLimit::ERR.contains(&alloc::format!("({MAX_VALIDATORS})")));
    }

    #[test]
    fn fixed_sizes_match_encodings() {
        let p = SignedProposal {
            proposal: Proposal { view: 1, parent_view: 0, height: 1, block_hash: Hash::ZERO },
            signer: Address([0; 32]),
            signature: Signature([0; 64]),
        };
        assert_eq!(p.encode().len(), SIGNED_PROPOSAL_BYTES);
        let b = BlockRef { view: 1, height: 1, hash: Hash::ZERO };
        assert_eq!(Vote::Finalize(b).encode().len(), 49);
        assert_eq!(Validator { address: Address([0; 32]), power: 1 }.encode().len(), 40);
        assert_eq!(parity_scale_codec::Compact(MAX_VALIDATORS as u32).encode().len(), 2);
    }

    #[test]
    fn a_proposal_encodes_like_its_message() {
        let proposal = SignedProposal {
            proposal: Proposal { view: 3, parent_view: 2, height: 2, block_hash: Hash([7; 32]) },
            signer: Address([1; 32]),
            signature: Signature([2; 64]),
        };
        let header = crate::block::Header {
            height: 2,
            parent_hash: Hash([3; 32]),
            timestamp_ms: 5,
            proposer: Address([1; 32]),
            tx_root: Hash([4; 32]),
            receipts_root: Hash([5; 32]),
            state_root: Hash([6; 32]),
            gas_used: 9,
        };
        let block = Block { header, txs: BoundedVec::new(Vec::new()).unwrap() };
        let message = ConsensusMessage::Proposal { proposal, block: Box::new(block.clone()) };
        assert_eq!(ConsensusMessage::encode_proposal(&proposal, &block), message.encode());
    }
}
