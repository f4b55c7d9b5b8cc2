//! The Simplex state machine: its state, construction and restoration, the dispatch of inputs,
//! timers and re-sends, moving between views, signing, and the node's answers (built, synced).

use std::collections::{BTreeMap, BTreeSet};

use weft_types::{
    Address, Block, Hash,
    consensus::{
        BlockRef, CertificateError, ConsensusMessage, Evidence, FinalityCertificate, Proposal,
        SignedProposal, SignedVote, View, Vote,
    },
    tx::SignatureError,
};

use super::{
    Effect, Fate, Input, Penalty, TimeoutKind,
    config::{Config, ConfigError, leader},
    persist::{Anchor, PersistRecord},
    signer::Signer,
    state::{BlockEntry, BuildRequest, Status, ViewState},
};

/// Why a core cannot be built or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsensusError {
    /// The configuration is refused.
    #[error("consensus config: {0}")]
    Config(#[from] ConfigError),
    /// The anchor's certificate does not verify.
    #[error("anchor certificate: {0}")]
    AnchorCertificate(CertificateError),
    /// The anchor's certificate names a lower block, or another block at the anchor's height.
    #[error("anchor certificate does not certify the anchor block or a descendant")]
    AnchorMismatch,
    /// A persisted record is signed by another key.
    #[error("persisted record of view {0} is signed by {1}, not by this validator")]
    ForeignRecord(View, Address),
    /// A persisted record's signature does not verify (corruption, or another chain id).
    #[error("persisted record of view {0}: {1}")]
    BadRecord(View, SignatureError),
    /// Two persisted records conflict: this key already equivocated.
    #[error("persisted records conflict in view {0}")]
    ConflictingRecords(View),
}

/// The consensus state machine of one validator (or of an observer, when its key is not in the
/// validator set: it then follows finality and never signs). `P` identifies peers.
#[derive(Debug)]
pub struct Core<S, P> {
    pub(super) cfg: Config,
    pub(super) signer: S,
    pub(super) me: Address,
    pub(super) validator: bool,
    pub(super) started: bool,
    /// The current view.
    pub(super) view: View,
    /// The current view's leader.
    pub(super) leader: Address,
    /// The highest finalized block (the anchor at start).
    pub(super) finalized: BlockRef,
    /// Its certificate (or a descendant's at start), sent to lagging validators.
    pub(super) finalized_cert: Option<FinalityCertificate>,
    /// Views above the finalized one.
    pub(super) views: BTreeMap<View, ViewState>,
    /// Blocks above the finalized one.
    pub(super) blocks: BTreeMap<Hash, BlockEntry>,
    /// The outstanding build request.
    pub(super) build: Option<BuildRequest>,
    /// The highest finalization whose blocks are not all here yet.
    pub(super) pending_final: Option<FinalityCertificate>,
    /// The view of the last certificate sent with [`Effect::Sync`].
    pub(super) sync_sent: Option<View>,
    /// Blocks requested from peers.
    pub(super) wanted: BTreeSet<Hash>,
    /// Views whose certificate was requested from peers.
    pub(super) wanted_views: BTreeSet<View>,
    /// Re-sends done in the current view.
    pub(super) retries: u64,
    /// The view in which each validator was last sent catch-up certificates.
    pub(super) caught_up: BTreeMap<Address, View>,
    /// Answers to requests per peer in the current view.
    pub(super) answered: BTreeMap<P, u32>,
    /// Evidence, by offender, view and kind.
    pub(super) evidence: BTreeMap<(Address, View, u8), Evidence>,
    /// Validators that were absent the last time they led a view this node was in (see
    /// [`Config::absent_leader_timeout_ms`]); at most the validator set.
    pub(super) absent: BTreeSet<Address>,
}

impl<S: Signer, P: Clone + Ord + std::fmt::Debug> Core<S, P> {
    /// A core starting from `anchor` that has signed nothing above it.
    pub fn new(cfg: Config, signer: S, anchor: Anchor) -> Result<Self, ConsensusError> {
        Self::restore(cfg, signer, anchor, [])
    }

    /// A core restarted from `anchor` and the records of every [`Effect::Persist`] it carried out
    /// (records at or below the anchor's view are skipped). The restored core counts its own
    /// votes again and never signs anything conflicting with them.
    pub fn restore(
        cfg: Config,
        signer: S,
        anchor: Anchor,
        records: impl IntoIterator<Item = PersistRecord>,
    ) -> Result<Self, ConsensusError> {
        cfg.validate()?;
        let me = signer.address();
        let validator = cfg.validators.contains(&me);
        let mut pending_final = None;
        if let Some(cert) = &anchor.certificate {
            cert.verify(cfg.chain_id, &cfg.validators).map_err(ConsensusError::AnchorCertificate)?;
            let b = cert.block();
            if b.height < anchor.block.height || (b.height == anchor.block.height && b != anchor.block) {
                return Err(ConsensusError::AnchorMismatch);
            }
            if b.view > anchor.block.view {
                pending_final = Some(cert.clone());
            }
        }
        let mut core = Self {
            view: anchor.block.view.saturating_add(1),
            leader: Address::default(),
            finalized: anchor.block,
            finalized_cert: anchor.certificate,
            cfg,
            signer,
            me,
            validator,
            started: false,
            views: BTreeMap::new(),
            blocks: BTreeMap::new(),
            build: None,
            pending_final,
            sync_sent: None,
            wanted: BTreeSet::new(),
            wanted_views: BTreeSet::new(),
            retries: 0,
            caught_up: BTreeMap::new(),
            answered: BTreeMap::new(),
            evidence: BTreeMap::new(),
            absent: BTreeSet::new(),
        };
        // The signing watermark: never sign in a view at or below the stored certificate's, which
        // a quorum signed (so it is authentic whoever served it). The anchor's own view may be
        // lower and is not authenticated when the head became final as an ancestor (a syncing
        // peer chose it); starting from it could sign a Nullify in a view whose Finalize this
        // validator signed before its records were pruned.
        if let Some(cert) = &core.finalized_cert {
            core.view = core.view.max(cert.block().view.saturating_add(1));
        }
        for record in records {
            core.restore_record(record)?;
        }
        core.leader = leader(&core.cfg.validators, core.view);
        Ok(core)
    }

    fn restore_record(&mut self, record: PersistRecord) -> Result<(), ConsensusError> {
        let view = record.view();
        if view <= self.finalized.view {
            return Ok(());
        }
        let chain_id = self.cfg.chain_id;
        let vs = self.views.entry(view).or_default();
        match record {
            PersistRecord::Vote(vote) => {
                if vote.signer != self.me {
                    return Err(ConsensusError::ForeignRecord(view, vote.signer));
                }
                vote.verify(chain_id).map_err(|e| ConsensusError::BadRecord(view, e))?;
                let conflict = [&vs.notarize, &vs.nullify, &vs.finalize]
                    .iter()
                    .filter_map(|m| m.get(&self.me))
                    .any(|mine| mine.vote.conflicts_with(&vote.vote));
                if conflict {
                    return Err(ConsensusError::ConflictingRecords(view));
                }
                vs.votes_mut(&vote.vote).entry(self.me).or_insert(vote);
                // A Finalize is signed on leaving its view for the next one.
                if let Vote::Finalize(_) = vote.vote {
                    self.view = self.view.max(view.saturating_add(1));
                }
            }
            PersistRecord::Proposal(proposal) => {
                if proposal.signer != self.me {
                    return Err(ConsensusError::ForeignRecord(view, proposal.signer));
                }
                proposal.verify(chain_id).map_err(|e| ConsensusError::BadRecord(view, e))?;
                match vs.proposal {
                    Some(mine) if mine != proposal => return Err(ConsensusError::ConflictingRecords(view)),
                    _ => vs.proposal = Some(proposal),
                }
            }
        }
        self.view = self.view.max(view);
        Ok(())
    }

    /// Handles one input; the effects must be carried out in order (see the module
    /// documentation).
    pub fn handle(&mut self, input: Input<P>) -> Vec<Effect<P>> {
        let mut out = Vec::new();
        match input {
            Input::Start => self.start(&mut out),
            _ if !self.started => {}
            Input::TimeoutFired { view, kind } => self.on_timeout(view, kind, &mut out),
            Input::Message { from, message } => {
                self.on_message(from, message, &mut out);
            }
            Input::Bytes { from, bytes } => match ConsensusMessage::decode_bounded(&bytes) {
                Ok(message) => {
                    self.on_message(from, message, &mut out);
                }
                Err(_) => out.push(Effect::Penalize { peer: from, reason: Penalty::Malformed }),
            },
            Input::BlockBuilt(block) => self.on_block_built(block, &mut out),
            Input::BlockValidated { hash, valid } => {
                if let Some(entry) = self.blocks.get_mut(&hash)
                    && matches!(entry.status, Status::Pending | Status::Requested)
                {
                    entry.status = if valid { Status::Valid } else { Status::Invalid };
                }
            }
            Input::Synced(cert) => self.on_synced(cert, &mut out),
        }
        self.progress(&mut out);
        out
    }

    /// Handles a message from `from` like [`Input::Message`], and says what it was to this node:
    /// whether the network layer should forward it ([`Fate`]). Before `Start`, every message is
    /// [`Fate::Useless`].
    pub fn receive(&mut self, from: P, message: ConsensusMessage) -> (Vec<Effect<P>>, Fate) {
        let mut out = Vec::new();
        if !self.started {
            return (out, Fate::Useless);
        }
        let fate = self.on_message(from, message, &mut out);
        self.progress(&mut out);
        (out, fate)
    }

    /// The leader's signed proposal of block `hash`, if the block is held (above the finalized
    /// one): what a node persists with the block's body.
    pub fn proposal_of(&self, hash: &Hash) -> Option<SignedProposal> {
        self.blocks.get(hash).map(|entry| entry.proposal)
    }

    /// Whether a notarization or finalization this node holds names block `hash`: a quorum
    /// vouched for it, so local judgements that depend on this node's clock must not refuse it.
    pub fn is_certified(&self, hash: &Hash) -> bool {
        let Some(entry) = self.blocks.get(hash) else { return false };
        self.views.get(&entry.proposal.proposal.view).is_some_and(|vs| {
            let notarized = vs.notarization.as_ref().map(|c| c.vote);
            let finalized = vs.finalization.as_ref().map(|c| c.certificate().vote);
            [notarized, finalized].into_iter().flatten().any(|v| v.block().is_some_and(|b| b.hash == *hash))
        })
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The highest finalized block.
    pub fn finalized(&self) -> BlockRef {
        self.finalized
    }

    /// The certificate of the highest finalized block, if any.
    pub fn finalized_certificate(&self) -> Option<&FinalityCertificate> {
        self.finalized_cert.as_ref()
    }

    /// This validator's address.
    pub fn address(&self) -> Address {
        self.me
    }

    /// Whether this key is in the validator set (otherwise the core only observes).
    pub fn is_validator(&self) -> bool {
        self.validator
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Every piece of evidence kept, by offender and view.
    pub fn evidence(&self) -> impl Iterator<Item = &Evidence> {
        self.evidence.values()
    }

    fn start(&mut self, out: &mut Vec<Effect<P>>) {
        if self.started {
            return;
        }
        self.started = true;
        self.schedule_view_timeout(out);
        out.push(Effect::ScheduleTimeout {
            view: self.view,
            kind: TimeoutKind::Recovery,
            after_ms: self.cfg.retry_timeout_ms,
        });
    }

    // ---- Timers ----

    fn schedule_view_timeout(&self, out: &mut Vec<Effect<P>>) {
        // Views directly before this one that ended with a nullification only.
        let mut skipped = 0u64;
        let mut w = self.view.saturating_sub(1);
        while w > self.finalized.view
            && self.views.get(&w).is_some_and(|vs| vs.nullification.is_some() && vs.notarization.is_none())
        {
            skipped += 1;
            w -= 1;
        }
        // The leader may wait up to `block_interval_ms` for transactions before it proposes,
        // unless it was absent last time it led.
        let after_ms = if self.absent.contains(&self.leader) {
            self.cfg.absent_leader_timeout_ms()
        } else {
            self.cfg.backoff(self.cfg.view_timeout_ms, skipped).saturating_add(self.cfg.block_interval_ms)
        };
        out.push(Effect::ScheduleTimeout { view: self.view, kind: TimeoutKind::View, after_ms });
    }

    fn on_timeout(&mut self, view: View, kind: TimeoutKind, out: &mut Vec<Effect<P>>) {
        if kind == TimeoutKind::Recovery {
            self.recover(out);
            out.push(Effect::ScheduleTimeout {
                view: self.view,
                kind: TimeoutKind::Recovery,
                after_ms: self.cfg.retry_timeout_ms,
            });
            return;
        }
        if view != self.view {
            return;
        }
        match kind {
            TimeoutKind::View => {
                // Never Nullify a view this validator finalized (possible only after a restart into
                // that view): Nullify and Finalize of one view conflict.
                let done = self.views.get(&view).is_some_and(|vs| {
                    vs.nullify.contains_key(&self.me) || vs.finalize.contains_key(&self.me)
                });
                if self.validator && !done {
                    self.cast(Vote::Nullify(view), out);
                }
                // Views ending without a notarization may mean some validators lack finalized
                // blocks (they cannot vote without them): send them the latest finalization.
                if let Some(cert) = &self.finalized_cert {
                    out.push(Effect::Broadcast(ConsensusMessage::Certificate(cert.certificate())));
                }
                if self.view == view {
                    self.retries = 0;
                    out.push(Effect::ScheduleTimeout {
                        view,
                        kind: TimeoutKind::Retry,
                        after_ms: self.cfg.backoff(self.cfg.retry_timeout_ms, 0),
                    });
                }
            }
            TimeoutKind::Recovery => {}
            TimeoutKind::Retry => {
                self.retries = self.retries.saturating_add(1);
                self.resend(out);
                out.push(Effect::ScheduleTimeout {
                    view,
                    kind: TimeoutKind::Retry,
                    after_ms: self.cfg.backoff(self.cfg.retry_timeout_ms, self.retries),
                });
            }
        }
    }

    /// Re-sends what others may have missed: own votes of the current view, the latest
    /// finalization, the certificate that opened the view, the latest own Finalize not yet
    /// finalized, block and certificate requests, and the sync request.
    fn resend(&mut self, out: &mut Vec<Effect<P>>) {
        if let Some(vs) = self.views.get(&self.view) {
            for map in [&vs.notarize, &vs.nullify] {
                if let Some(vote) = map.get(&self.me) {
                    out.push(Effect::Broadcast(ConsensusMessage::Vote(*vote)));
                }
            }
        }
        // The latest finalization: a validator in the same view may still lack it (it moved on
        // with nullifications and cannot vote without the finalized blocks).
        if let Some(cert) = &self.finalized_cert {
            out.push(Effect::Broadcast(ConsensusMessage::Certificate(cert.certificate())));
        }
        let previous = self.view.saturating_sub(1);
        if previous > self.finalized.view
            && let Some(vs) = self.views.get(&previous)
        {
            for cert in [&vs.notarization, &vs.nullification].into_iter().flatten() {
                out.push(Effect::Broadcast(ConsensusMessage::Certificate(cert.clone())));
            }
        }
        let own_finalize = self
            .views
            .values()
            .rev()
            .find(|vs| vs.finalization.is_none() && vs.finalize.contains_key(&self.me))
            .and_then(|vs| vs.finalize.get(&self.me));
        if let Some(vote) = own_finalize {
            out.push(Effect::Broadcast(ConsensusMessage::Vote(*vote)));
        }
        self.recover(out);
    }

    /// Asks again for the blocks and certificates still wanted, and syncs to the pending
    /// finalization. Run by the view's retry timer and by the recovery timer of its own.
    fn recover(&mut self, out: &mut Vec<Effect<P>>) {
        for hash in &self.wanted {
            out.push(Effect::Broadcast(ConsensusMessage::BlockRequest(*hash)));
        }
        for view in &self.wanted_views {
            out.push(Effect::Broadcast(ConsensusMessage::CertificateRequest(*view)));
        }
        if let Some(cert) = &self.pending_final {
            self.sync_sent = Some(cert.block().view);
            out.push(Effect::Sync(cert.clone()));
        }
    }

    // ---- Views ----

    /// Moves to `view` if it is ahead of the current one.
    pub(super) fn enter_view(&mut self, view: View, out: &mut Vec<Effect<P>>) {
        if view <= self.view {
            return;
        }
        // Whether the leader of the view being left showed up: a proposal from it reached this
        // node, or a quorum notarized one.
        let present =
            self.views.get(&self.view).is_some_and(|vs| vs.proposal.is_some() || vs.notarization.is_some());
        if present {
            self.absent.remove(&self.leader);
        } else if self.started {
            self.absent.insert(self.leader);
        }
        self.view = view;
        self.leader = leader(&self.cfg.validators, view);
        self.retries = 0;
        self.answered.clear();
        if self.build.is_some_and(|b| b.view < view) {
            self.build = None;
        }
        if self.started {
            self.schedule_view_timeout(out);
        }
    }

    // ---- Signing ----

    /// Signs `vote`, persists it, sends it and counts it.
    pub(super) fn cast(&mut self, vote: Vote, out: &mut Vec<Effect<P>>) {
        let signature = self.signer.sign(&vote.signing_payload(self.cfg.chain_id));
        let signed = SignedVote { vote, signer: self.me, signature };
        out.push(Effect::Persist(PersistRecord::Vote(signed)));
        out.push(Effect::Broadcast(ConsensusMessage::Vote(signed)));
        self.record_vote(signed, out);
    }

    fn on_block_built(&mut self, block: Block, out: &mut Vec<Effect<P>>) {
        let Some(request) = self.build else { return };
        let header = &block.header;
        if request.view != self.view
            || header.height != request.height
            || header.parent_hash != request.parent
            || header.proposer != self.me
        {
            return;
        }
        self.build = None;
        let vs = self.views.entry(request.view).or_default();
        if vs.proposal.is_some() || vs.nullify.contains_key(&self.me) {
            return;
        }
        let proposal = Proposal {
            view: request.view,
            parent_view: request.parent_view,
            height: request.height,
            block_hash: block.hash(),
        };
        let signature = self.signer.sign(&proposal.signing_payload(self.cfg.chain_id));
        let signed = SignedProposal { proposal, signer: self.me, signature };
        vs.proposal = Some(signed);
        out.push(Effect::Persist(PersistRecord::Proposal(signed)));
        out.push(Effect::Broadcast(ConsensusMessage::Proposal {
            proposal: signed,
            block: Box::new(block.clone()),
        }));
        self.blocks
            .insert(proposal.block_hash, BlockEntry { proposal: signed, block, status: Status::Valid });
    }

    fn on_synced(&mut self, cert: FinalityCertificate, out: &mut Vec<Effect<P>>) {
        let block = cert.block();
        if block.view <= self.finalized.view || cert.verify(self.cfg.chain_id, &self.cfg.validators).is_err()
        {
            return;
        }
        self.finalized = block;
        self.finalized_cert = Some(cert);
        self.prune();
        self.enter_view(block.view.saturating_add(1), out);
    }
}
