//! The consensus core: a pure state machine running Simplex, fed with inputs (messages, timer
//! expiries, results of block building and validation) and returning effects (messages to send,
//! records to persist, timers to set, blocks to build, validate and commit).
//!
//! # Protocol
//!
//! Simplex, from Benjamin Y. Chan and Rafael Pass, *Simplex Consensus: A Simple and Fast
//! Consensus Protocol*, TCC 2023 (<https://eprint.iacr.org/2023/463>), with weighted voting power.
//! A *quorum* is more than two thirds of the voting power
//! ([`weft_types::consensus::ValidatorSet::quorum`]); safety holds while the byzantine validators
//! hold less than a third of it, liveness once messages are delivered within the timeouts.
//!
//! Time is cut into *views* (the paper's iterations), each with one leader ([`leader`]). In view
//! `v`:
//!
//! 1. The leader proposes a block extending a *valid parent*: the block notarized in some view
//!    `u < v` (or the finalized block), such that every view strictly between `u` and `v` was
//!    nullified. The proposal names `u` (`parent_view`).
//! 2. A validator in view `v` that has not voted in `v` yet, on the leader's first proposal with a
//!    valid parent and a block its node validated (re-executed, state root checked), signs
//!    `Notarize(v, height, hash)`.
//! 3. If the view's timer fires first, it signs `Nullify(v)` (the vote for the paper's dummy
//!    block `⊥`).
//! 4. A quorum of Notarize votes for one block is a *notarization*, of Nullify votes a
//!    *nullification*; either moves every validator that sees it to view `v + 1`. (The paper
//!    has every validator forward it; here each forms it from the same votes, and one that
//!    missed votes is sent the certificates it lacks when it asks, when its votes show it
//!    behind, or by the re-sends after a view's deadline: per-node traffic stays linear in the
//!    number of validators.) On a notarization, a validator that has not nullified `v` signs
//!    `Finalize(v, height, hash)`.
//! 5. A quorum of Finalize votes is a *finalization*, the [`FinalityCertificate`]: the block and
//!    all its ancestors are final.
//!
//! Safety: an honest validator never signs both Nullify(v) and Finalize(v), and signs at most one
//! Notarize per view; so a finalized block's view can never be nullified, at most one block per
//! view is notarized, and every later valid parent chain runs through the finalized block. A block
//! is final after three message delays on the happy path (propose, notarize, finalize).
//!
//! Deviations from the paper, none of which touch safety: the finalize message names the block
//! (so a finalization certifies a block on its own); leaders are drawn by voting power; timeouts
//! back off while views keep ending without a notarization; votes and certificates are re-sent on
//! a backing-off retry timer (the paper assumes reliable links), and requests for what is missing
//! on a recovery timer of their own that view changes do not drop; lagging validators are sent the
//! certificates they miss; blocks and certificates a validator lacks are asked for with
//! [`ConsensusMessage::BlockRequest`] and [`ConsensusMessage::CertificateRequest`], finalized
//! blocks through the node's block sync ([`Effect::Sync`]); the latest finalization is re-sent
//! whenever a view times out.
//!
//! # Finality certificates
//!
//! Every [`Effect::Finalized`] carries a [`FinalityCertificate`]. When the finalization named the
//! block itself, the certificate certifies it directly; when the block became final as an
//! ancestor of the certified block (because its own view's Finalize votes never reached a quorum),
//! the certificate is the descendant's, and the descendant follows in the same batch of effects,
//! linked to it by parent hashes. A node stores each block with the certificate it came with and
//! serves them together; a syncing node checks the certificate of the highest block and the hash
//! chain below it.
//!
//! # Using the core
//!
//! [`Core::handle`] takes one [`Input`] and returns the [`Effect`]s, **to be carried out in
//! order**. The rules the node must keep:
//!
//! * **Persist before broadcast.** Every vote and proposal the core signs is returned as an
//!   [`Effect::Persist`] *before* the [`Effect::Broadcast`] that sends it. The node makes the record
//!   durable (fsync) before it carries out any later effect. A validator restarted with
//!   [`Core::restore`] from those records therefore never signs a message conflicting with one it
//!   sent before the crash. Records of views at or below the finalized block's view may be deleted.
//! * **Restart.** [`Core::restore`] takes the records and an [`Anchor`]: the last committed
//!   block (its view comes with [`Effect::Finalized`], store it with the block) and the
//!   certificate stored with it. Blocks validated but not committed are forgotten: the core asks
//!   again for what it needs.
//! * **Timers.** [`Effect::ScheduleTimeout`] asks for [`Input::TimeoutFired`] after `after_ms`;
//!   stale expiries are ignored, so timers need no cancelling. The core never reads a clock.
//! * **Blocks.** [`Effect::BuildBlock`] asks the node to build a block on `parent` (whose state it
//!   has, as the finalized head or a block it validated), answered with [`Input::BlockBuilt`];
//!   [`Effect::ValidateBlock`] asks it to re-execute a proposed block on its parent's state and
//!   compare the header, answered with [`Input::BlockValidated`]. The core asks to validate a block
//!   only once its parent is the finalized block or validated.
//! * **Commit.** [`Effect::Finalized`] arrives in height order; the node commits each block (the
//!   state of a validated block is already computed). [`Effect::Sync`] asks the node to fetch and
//!   commit the finalized blocks up to a certificate from peers, answered with [`Input::Synced`];
//!   the two paths can overlap, so commit a block only when it is above the store's head.
//!
//! The core is deterministic: no clock, no randomness, no threads, no I/O, `BTreeMap`s only.
//! Every buffer is bounded: messages are accepted only for views from the finalized view to
//! [`Config::future_views`] past the current one; each validator has at most one vote of each kind
//! and one proposal counted per view; stored blocks are at most the leader's proposal and the
//! notarized or requested block of each view; per-peer and per-validator answers are capped. The
//! views between the finalized one and the current one are kept (each with that bounded state);
//! their number grows only while a live quorum keeps ending views without finalizing, and drops
//! to nothing at the next finalization.

mod config;
mod core;
mod persist;
mod receive;
mod signer;
mod state;
mod steps;

use weft_types::{
    Block, Hash, Height,
    consensus::{ConsensusMessage, Evidence, FinalityCertificate, View},
};

#[cfg(any(test, feature = "sim-broken-rules"))]
pub use self::config::BrokenRule;
pub use self::{
    config::{Config, ConfigError, leader},
    core::{ConsensusError, Core},
    persist::{Anchor, PersistRecord},
    signer::Signer,
};

/// Which of a view's timers fired.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum TimeoutKind {
    /// The view's deadline: without a notarization by then, the validator nullifies the view.
    View,
    /// After the deadline, the re-send timer: own votes, the certificate that opened the view,
    /// block requests and sync requests go out again, with the delay doubling each time.
    Retry,
    /// The recovery timer, independent of views (every view change drops the view's timers, so
    /// on a live network they may never fire): every [`Config::retry_timeout_ms`] it asks
    /// again for the blocks and certificates still wanted and syncs to a finalization whose
    /// blocks are still missing. Its `view` is ignored; one chain of it runs from `Start`.
    Recovery,
}

/// What a received message was to this node ([`Core::receive`]): whether relaying it helps
/// anyone, and whom to blame.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fate {
    /// It told this node something: a vote, certificate or proposal counted (or evidence of
    /// equivocation). Worth forwarding.
    New,
    /// Known already, settled (at or below the finalized view), of no use yet, or a request
    /// (answered directly if this node can): dropped without blame and not forwarded, so a
    /// replay dies at the first honest hop and a request flood at the first node.
    Useless,
    /// Refused for this reason; the delivering peer is blamed if [`Penalty::blames`].
    Refused(Penalty),
}

/// An input to the core.
#[derive(Clone, Debug)]
pub enum Input<P> {
    /// Start: schedule the first timer and, if leader, ask for a block. Inputs before it are
    /// ignored.
    Start,
    /// A timer set with [`Effect::ScheduleTimeout`] expired.
    TimeoutFired {
        /// The view the timer was set for.
        view: View,
        /// Which timer.
        kind: TimeoutKind,
    },
    /// A decoded message from a peer (the peer that delivered it, not necessarily its signer).
    Message {
        /// The delivering peer, blamed by [`Effect::Penalize`] and answered by [`Effect::SendTo`].
        from: P,
        /// The message.
        message: ConsensusMessage,
    },
    /// Raw bytes from a peer; decoded with every limit ([`ConsensusMessage::decode_bounded`]).
    Bytes {
        /// The delivering peer.
        from: P,
        /// The encoded message.
        bytes: Vec<u8>,
    },
    /// The node built the block asked for by [`Effect::BuildBlock`].
    BlockBuilt(Block),
    /// The node re-executed a block asked for by [`Effect::ValidateBlock`].
    BlockValidated {
        /// The block's hash.
        hash: Hash,
        /// Whether every header field (state root included) matched the re-execution.
        valid: bool,
    },
    /// The node committed every finalized block up to this certificate's block (after
    /// [`Effect::Sync`], or on its own initiative).
    Synced(FinalityCertificate),
}

/// Why a peer is blamed. `NotValidator`, `BadSignature`, `BadCertificate`, `Malformed`,
/// `WrongLeader` and `Invalid` are never caused by an honest peer; `FarFuture` and `OutOfWindow`
/// are judged against this node's own state (an honest relay that is ahead or behind sends
/// them), so they blame nobody ([`Penalty::blames`]): the message is only dropped.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Penalty {
    /// The bytes do not decode.
    Malformed,
    /// The signer is not in the validator set.
    NotValidator,
    /// A vote's or proposal's signature does not verify.
    BadSignature,
    /// A certificate does not verify (signers, power or signatures).
    BadCertificate,
    /// A proposal signed by a validator that does not lead its view.
    WrongLeader,
    /// A structurally impossible message: view 0, a height that no block of that view can have
    /// (0, or above the view), a block that does not match its proposal or whose body is not its
    /// header's.
    Invalid,
    /// A view beyond [`Config::future_views`] past the current one.
    FarFuture,
    /// A height outside this node's window: at or below its finalized block, or higher than the
    /// views since it allow.
    OutOfWindow,
}

impl Penalty {
    /// Whether the delivering peer is to blame (else the message is dropped without blame).
    pub fn blames(self) -> bool {
        !matches!(self, Penalty::FarFuture | Penalty::OutOfWindow)
    }
}

/// An effect the node must carry out, in the order returned.
#[derive(Clone, Debug)]
pub enum Effect<P> {
    /// Make this record durable before carrying out any later effect.
    Persist(PersistRecord),
    /// Send to every peer (gossip topic by [`Topic::of`]).
    Broadcast(ConsensusMessage),
    /// Send to one peer.
    SendTo(P, ConsensusMessage),
    /// Build a block for `view` at `height` on `parent`, then give it back with
    /// [`Input::BlockBuilt`]. Its proposer must be this validator.
    BuildBlock {
        /// The view this validator leads.
        view: View,
        /// The block's height.
        height: Height,
        /// The parent block's hash.
        parent: Hash,
    },
    /// Re-execute `block` on its parent's state and answer with [`Input::BlockValidated`].
    ValidateBlock(Block),
    /// Deliver [`Input::TimeoutFired`] with `view` and `kind` after `after_ms` milliseconds.
    ScheduleTimeout {
        /// The view.
        view: View,
        /// The timer.
        kind: TimeoutKind,
        /// The delay.
        after_ms: u64,
    },
    /// The block is final: commit it. Emitted in height order, each block once.
    Finalized {
        /// The block.
        block: Block,
        /// The view it was proposed in (to restore the core from, see [`Anchor`]).
        view: View,
        /// The finality certificate of this block or of a descendant emitted next (see the
        /// module documentation).
        certificate: FinalityCertificate,
    },
    /// Fetch from peers, check against the certificate (hash chain down from its block) and
    /// commit the finalized blocks up to it, then give [`Input::Synced`].
    Sync(FinalityCertificate),
    /// Proof that a validator signed two conflicting messages. The core keeps it
    /// ([`Core::evidence`]).
    Evidence(Evidence),
    /// The peer sent something no honest peer sends (or, for [`Penalty::FarFuture`], something
    /// this node could not use).
    Penalize {
        /// The delivering peer.
        peer: P,
        /// Why.
        reason: Penalty,
    },
}

/// The gossip topic a message belongs on (named like `net`'s topics).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Topic {
    /// Proposals with their blocks: large, one per view (up to
    /// [`weft_types::consensus::MAX_CONSENSUS_MESSAGE_BYTES`]).
    Blocks,
    /// Votes, certificates (at most [`weft_types::consensus::MAX_CERTIFICATE_BYTES`]) and the
    /// small block and certificate requests.
    Consensus,
}

impl Topic {
    /// The topic `message` belongs on.
    pub fn of(message: &ConsensusMessage) -> Topic {
        match message {
            ConsensusMessage::Proposal { .. } => Topic::Blocks,
            ConsensusMessage::Vote(_)
            | ConsensusMessage::Certificate(_)
            | ConsensusMessage::BlockRequest(_)
            | ConsensusMessage::CertificateRequest(_) => Topic::Consensus,
        }
    }
}
