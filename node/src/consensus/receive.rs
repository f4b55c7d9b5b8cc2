//! Receiving messages: the checks a proposal, vote or certificate passes before it counts (signer
//! in the set, view in the window, a possible height, signature), equivocation detection, quorum
//! counting, acting on certificates (move on, finalize, fetch the block), evidence, and the answers
//! to lagging validators and to block requests.

use std::fmt::Debug;

use weft_types::{
    Address, Block, Hash, Height,
    block::tx_root,
    consensus::{
        Certificate, ConsensusMessage, Evidence, FinalityCertificate, SignedProposal, SignedVote,
        ValidatorSignature, View, Vote,
    },
};

use super::{
    Effect, Fate, Penalty,
    config::leader,
    core::Core,
    signer::Signer,
    state::{BlockEntry, Status},
};

/// Evidence kinds, part of the key evidence is kept under.
const EVIDENCE_NOTARIZE: u8 = 0;
const EVIDENCE_FINALIZE: u8 = 1;
const EVIDENCE_NULLIFY_FINALIZE: u8 = 2;
const EVIDENCE_PROPOSAL: u8 = 3;

/// Where a message stands against the finalized block and the current view.
enum Position {
    /// In the window: process it.
    Current,
    /// At or below the finalized view: settled.
    Stale,
    /// Impossible or too far ahead.
    Refused(Penalty),
}

/// Blames `from` for `reason` (carried out only if [`Penalty::blames`]) and refuses the message.
fn refuse<P>(from: P, reason: Penalty, out: &mut Vec<Effect<P>>) -> Fate {
    out.push(Effect::Penalize { peer: from, reason });
    Fate::Refused(reason)
}

impl<S: Signer, P: Clone + Ord + Debug> Core<S, P> {
    /// Processes a message and says whether it was news (see [`Fate`]).
    pub(super) fn on_message(
        &mut self,
        from: P,
        message: ConsensusMessage,
        out: &mut Vec<Effect<P>>,
    ) -> Fate {
        match message {
            ConsensusMessage::Proposal { proposal, block } => self.on_proposal(from, proposal, *block, out),
            ConsensusMessage::Vote(vote) => self.on_vote(from, vote, out),
            ConsensusMessage::Certificate(cert) => self.on_certificate(from, cert, out),
            ConsensusMessage::BlockRequest(hash) => self.on_block_request(from, hash, out),
            ConsensusMessage::CertificateRequest(view) => self.on_certificate_request(from, view, out),
        }
    }

    /// Checks `view` and, for a block, its `height`: every block of a view `v` above the finalized
    /// block `F` descends from `F` and has at most one ancestor per view in between, so its height
    /// is in `F.height + 1 ..= F.height + (v - F.view)`.
    fn position(&self, view: View, height: Option<Height>, window: bool) -> Position {
        let f = self.finalized;
        if view == 0 {
            return Position::Refused(Penalty::Invalid);
        }
        if view <= f.view {
            return Position::Stale;
        }
        if let Some(height) = height {
            // Every view adds at most one block on genesis (view 0, height 0): no block of view
            // `view` has height 0 or above `view`, whoever judges.
            if height == 0 || height > view {
                return Position::Refused(Penalty::Invalid);
            }
            let max = f.height.saturating_add(view - f.view);
            if height <= f.height || height > max {
                return Position::Refused(Penalty::OutOfWindow);
            }
        }
        if window && view > self.view.saturating_add(self.cfg.future_views) {
            return Position::Refused(Penalty::FarFuture);
        }
        Position::Current
    }

    fn on_vote(&mut self, from: P, vote: SignedVote, out: &mut Vec<Effect<P>>) -> Fate {
        if !self.cfg.validators.contains(&vote.signer) {
            return refuse(from, Penalty::NotValidator, out);
        }
        let view = vote.vote.view();
        match self.position(view, vote.vote.block().map(|b| b.height), true) {
            Position::Refused(reason) => refuse(from, reason, out),
            Position::Stale => {
                if self.catch_up_due(&vote) && vote.verify(self.cfg.chain_id).is_ok() {
                    self.catch_up(from, vote.signer, view, out);
                }
                Fate::Useless
            }
            Position::Current => {
                if self.views.get(&view).is_some_and(|vs| vs.knows(&vote)) {
                    return Fate::Useless;
                }
                if vote.verify(self.cfg.chain_id).is_err() {
                    return refuse(from, Penalty::BadSignature, out);
                }
                if self.catch_up_due(&vote) {
                    self.catch_up(from, vote.signer, view, out);
                }
                self.record_vote(vote, out);
                Fate::New
            }
        }
    }

    /// Counts a vote whose signature is known good: keeps the first vote of each kind per
    /// validator, reports conflicts as evidence, and forms a certificate on a quorum.
    pub(super) fn record_vote(&mut self, vote: SignedVote, out: &mut Vec<Effect<P>>) {
        let view = vote.vote.view();
        if view <= self.finalized.view {
            return;
        }
        let vs = self.views.entry(view).or_default();
        let mut evidence = Vec::new();
        if let Some(previous) = vs.votes(&vote.vote).get(&vote.signer).copied() {
            if previous.vote.conflicts_with(&vote.vote) {
                let kind = if matches!(vote.vote, Vote::Notarize(_)) {
                    EVIDENCE_NOTARIZE
                } else {
                    EVIDENCE_FINALIZE
                };
                self.report(Evidence::ConflictingVotes(previous, vote), kind, out);
            }
            return;
        }
        let opposite = match vote.vote {
            Vote::Nullify(_) => vs.finalize.get(&vote.signer),
            Vote::Finalize(_) => vs.nullify.get(&vote.signer),
            Vote::Notarize(_) => None,
        };
        if let Some(opposite) = opposite {
            evidence.push(Evidence::ConflictingVotes(*opposite, vote));
        }
        vs.votes_mut(&vote.vote).insert(vote.signer, vote);
        for e in evidence {
            self.report(e, EVIDENCE_NULLIFY_FINALIZE, out);
        }
        self.check_quorum(vote.vote, out);
    }

    /// Forms the certificate of `vote` if its signers reach a quorum.
    fn check_quorum(&mut self, vote: Vote, out: &mut Vec<Effect<P>>) {
        let set = &self.cfg.validators;
        let Some(vs) = self.views.get(&vote.view()) else { return };
        if vs.has_certificate(&vote) || vs.power_for(&vote, set) < set.quorum() {
            return;
        }
        let signatures = vs
            .votes(&vote)
            .values()
            .filter(|v| v.vote == vote)
            .map(|v| ValidatorSignature { validator: v.signer, signature: v.signature });
        let Ok(cert) = Certificate::new(vote, signatures) else { return };
        self.on_certificate_known(cert, out);
    }

    fn on_certificate(&mut self, from: P, cert: Certificate, out: &mut Vec<Effect<P>>) -> Fate {
        let view = cert.view();
        // A finalization proves the network got there, however far ahead: it is how a lagging
        // validator catches up. Other certificates beyond the window are of no use yet.
        let finalization = matches!(cert.vote, Vote::Finalize(_));
        match self.position(view, cert.vote.block().map(|b| b.height), false) {
            Position::Refused(reason) => return refuse(from, reason, out),
            Position::Stale => return Fate::Useless,
            Position::Current => {}
        }
        if !finalization && view > self.view.saturating_add(self.cfg.future_views) {
            return Fate::Useless;
        }
        if self.views.get(&view).is_some_and(|vs| vs.has_certificate(&cert.vote)) {
            return Fate::Useless;
        }
        let views = &self.views;
        let known = |v: &SignedVote| views.get(&view).is_some_and(|vs| vs.knows(v));
        if cert.verify_with(self.cfg.chain_id, &self.cfg.validators, known).is_err() {
            return refuse(from, Penalty::BadCertificate, out);
        }
        let votes: Vec<SignedVote> = cert.votes().collect();
        self.on_certificate_known(cert, out);
        // Its votes count like received ones (and may reveal equivocation).
        for vote in votes {
            self.record_vote(vote, out);
        }
        Fate::New
    }

    fn on_proposal(
        &mut self,
        from: P,
        signed: SignedProposal,
        block: Block,
        out: &mut Vec<Effect<P>>,
    ) -> Fate {
        let p = signed.proposal;
        let set = &self.cfg.validators;
        let reason = if !set.contains(&signed.signer) {
            Some(Penalty::NotValidator)
        } else if p.view == 0 || p.parent_view >= p.view {
            Some(Penalty::Invalid)
        } else if leader(set, p.view) != signed.signer {
            Some(Penalty::WrongLeader)
        } else if block.header.height != p.height
            || block.header.proposer != signed.signer
            || block.hash() != p.block_hash
        {
            Some(Penalty::Invalid)
        } else {
            None
        };
        if let Some(reason) = reason {
            return refuse(from, reason, out);
        }
        match self.position(p.view, Some(p.height), true) {
            Position::Refused(reason) => return refuse(from, reason, out),
            Position::Stale => return Fate::Useless,
            Position::Current => {}
        }
        let have_block = self.blocks.contains_key(&p.block_hash);
        if have_block && self.views.get(&p.view).is_some_and(|vs| vs.proposal == Some(signed)) {
            return Fate::Useless;
        }
        if signed.verify(self.cfg.chain_id).is_err() {
            return refuse(from, Penalty::BadSignature, out);
        }
        // The block hash covers only the header: a body whose transactions are not the header's
        // (`tx_root`) is not the signed block, and keeping it would make the real one look known
        // (and its validation fail for good). No honest peer delivers one: they check it before
        // forwarding. Cost: one hash per transaction, after the cheap checks and the signature,
        // and only for a proposal not already known.
        if tx_root(&block.txs) != block.header.tx_root {
            return refuse(from, Penalty::Invalid, out);
        }
        let vs = self.views.entry(p.view).or_default();
        let certified = [
            vs.notarization.as_ref().map(|c| c.vote),
            vs.finalization.as_ref().map(|c| c.certificate().vote),
        ]
        .into_iter()
        .flatten()
        .any(|v| v.block().is_some_and(|b| b.hash == p.block_hash));
        let (first, conflict) = match vs.proposal {
            None => {
                vs.proposal = Some(signed);
                (true, None)
            }
            Some(previous) if previous == signed => (true, None),
            Some(previous) => (false, Some(previous)),
        };
        if let Some(previous) = conflict {
            self.report(Evidence::ConflictingProposals(previous, signed), EVIDENCE_PROPOSAL, out);
        }
        let wanted = self.wanted.remove(&p.block_hash);
        if !have_block && (first || certified || wanted) {
            self.blocks.insert(p.block_hash, BlockEntry { proposal: signed, block, status: Status::Pending });
            Fate::New
        } else if conflict.is_some() {
            // Equivocation: others need it to detect it too.
            Fate::New
        } else {
            Fate::Useless
        }
    }

    /// Answers a block request with the block and its proposal, or, for a block not here (most
    /// often one already final and pruned), with the latest finalization, from which the peer can
    /// sync.
    ///
    /// A request is never news ([`Fate::Useless`]): it is not forwarded, and its cost stays on
    /// its sender's budget. Forwarding one this node cannot answer would let any peer have every
    /// node relay a flood of requests for made-up hashes or views; the asker's own peers (each
    /// holding the proposals it was sent) answer it directly.
    fn on_block_request(&mut self, from: P, hash: Hash, out: &mut Vec<Effect<P>>) -> Fate {
        let answer = match self.blocks.get(&hash) {
            Some(entry) => {
                ConsensusMessage::Proposal { proposal: entry.proposal, block: Box::new(entry.block.clone()) }
            }
            None => match &self.finalized_cert {
                Some(cert) => ConsensusMessage::Certificate(cert.certificate()),
                None => return Fate::Useless,
            },
        };
        if self.may_answer(&from) {
            out.push(Effect::SendTo(from, answer));
        }
        Fate::Useless
    }

    /// Answers a certificate request with the view's notarization and nullification, or, for a
    /// view at or below the finalized one, with the latest finalization. Never news, like a
    /// block request.
    fn on_certificate_request(&mut self, from: P, view: View, out: &mut Vec<Effect<P>>) -> Fate {
        let answers: Vec<Certificate> = if view <= self.finalized.view {
            self.finalized_cert.iter().map(FinalityCertificate::certificate).collect()
        } else {
            match self.views.get(&view) {
                Some(vs) => [&vs.notarization, &vs.nullification].into_iter().flatten().cloned().collect(),
                None => Vec::new(),
            }
        };
        if !answers.is_empty() && self.may_answer(&from) {
            for cert in answers {
                out.push(Effect::SendTo(from.clone(), ConsensusMessage::Certificate(cert)));
            }
        }
        Fate::Useless
    }

    /// Counts an answer to `peer`: at most [`super::Config::max_answers_per_peer`] per peer and
    /// [`super::Config::max_answered_peers`] peers per view.
    fn may_answer(&mut self, peer: &P) -> bool {
        if !self.answered.contains_key(peer) && self.answered.len() >= self.cfg.max_answered_peers {
            return false;
        }
        let count = self.answered.entry(peer.clone()).or_insert(0);
        if *count >= self.cfg.max_answers_per_peer {
            return false;
        }
        *count += 1;
        true
    }

    /// Whether `vote` shows its signer lagging (two views or more behind, a Nullify of a view
    /// this validator has left, or a Notarize at or below the finalized view) and it was not sent
    /// catch-up certificates in the current view yet. A Finalize of the view just left is only
    /// late (its signer had the notarization and moved on too): answering each of those with the
    /// finalization would cost every node a certificate per slow peer per view.
    fn catch_up_due(&self, vote: &SignedVote) -> bool {
        let view = vote.vote.view();
        let behind = match vote.vote {
            Vote::Finalize(_) => view.saturating_add(1) < self.view,
            Vote::Notarize(_) => view <= self.finalized.view || view.saturating_add(1) < self.view,
            Vote::Nullify(_) => view < self.view,
        };
        behind && vote.signer != self.me && self.caught_up.get(&vote.signer) != Some(&self.view)
    }

    /// Sends a validator stuck in `their_view` the certificates that move it to the current view:
    /// the latest finalization if it is at or below it, then the notarizations and nullifications
    /// of the views from there on (at most [`super::Config::max_catchup_certificates`]).
    fn catch_up(&mut self, to: P, signer: Address, their_view: View, out: &mut Vec<Effect<P>>) {
        self.caught_up.insert(signer, self.view);
        let mut budget = self.cfg.max_catchup_certificates;
        let mut start = their_view;
        if their_view <= self.finalized.view {
            start = self.finalized.view.saturating_add(1);
            if let Some(cert) = &self.finalized_cert
                && budget > 0
            {
                budget -= 1;
                out.push(Effect::SendTo(to.clone(), ConsensusMessage::Certificate(cert.certificate())));
            }
        }
        for (_, vs) in self.views.range(start..self.view) {
            for cert in [&vs.notarization, &vs.nullification].into_iter().flatten() {
                if budget == 0 {
                    return;
                }
                budget -= 1;
                out.push(Effect::SendTo(to.clone(), ConsensusMessage::Certificate(cert.clone())));
            }
        }
    }

    /// Records evidence once and reports it: at most [`super::Config::max_evidence_per_offender`]
    /// pieces per offender, and at most [`super::Config::max_evidence`] in all, a new piece then
    /// replacing the one of the lowest view.
    pub(super) fn report(&mut self, evidence: Evidence, kind: u8, out: &mut Vec<Effect<P>>) {
        let offender = evidence.offender();
        let key = (offender, evidence.view(), kind);
        if self.evidence.contains_key(&key) {
            return;
        }
        let of_offender = self.evidence.range((offender, 0, 0)..=(offender, View::MAX, u8::MAX)).count();
        if of_offender >= self.cfg.max_evidence_per_offender {
            return;
        }
        if self.evidence.len() >= self.cfg.max_evidence {
            // Keys sort by offender first: the lowest view is found by a scan (bounded).
            let Some(lowest) = self.evidence.keys().min_by_key(|(_, view, _)| *view).copied() else { return };
            if lowest.1 >= key.1 {
                return;
            }
            self.evidence.remove(&lowest);
        }
        self.evidence.insert(key, evidence.clone());
        out.push(Effect::Evidence(evidence));
    }

    /// A block this node refused that a quorum certified is validated again (the node is told
    /// it is certified, so rules that depend on its own clock do not refuse it twice): a
    /// refusal is never final for a hash a certificate names.
    fn judge_again(&mut self, hash: &Hash) {
        if let Some(entry) = self.blocks.get_mut(hash)
            && entry.status == Status::Invalid
        {
            entry.status = Status::Pending;
        }
    }

    /// Stores a certificate formed from votes or received, and acts on it (never re-sends it).
    pub(super) fn on_certificate_known(&mut self, cert: Certificate, out: &mut Vec<Effect<P>>) {
        let view = cert.view();
        if view <= self.finalized.view {
            return;
        }
        // A certificate formed here from votes is not sent: every validator forms it from the
        // same votes, and every node broadcasting every certificate (each of a quorum of
        // signatures) would make per-node traffic quadratic in the number of validators. A node
        // that missed votes forms the next view's certificates from the next votes, asks for a
        // certificate its proposal's parent needs, gets the re-sends after a view's deadline, or
        // is sent them when its votes show it behind.
        let vs = self.views.entry(view).or_default();
        if vs.has_certificate(&cert.vote) {
            return;
        }
        if !matches!(cert.vote, Vote::Finalize(_)) {
            self.wanted_views.remove(&view);
        }
        match cert.vote {
            Vote::Notarize(block) => {
                vs.notarization = Some(cert.clone());
                let finalize = self.validator
                    && !vs.nullify.contains_key(&self.me)
                    && !vs.finalize.contains_key(&self.me);
                if finalize {
                    self.cast(Vote::Finalize(block), out);
                }
                if !self.blocks.contains_key(&block.hash) {
                    self.want(block.hash, out);
                }
                self.judge_again(&block.hash);
            }
            Vote::Nullify(_) => {
                vs.nullification = Some(cert.clone());
            }
            Vote::Finalize(block) => {
                let Ok(fc) = FinalityCertificate::new(cert.clone()) else { return };
                self.judge_again(&block.hash);
                let vs = self.views.entry(view).or_default();
                vs.finalization = Some(fc.clone());
                if self.pending_final.as_ref().is_none_or(|p| p.block().view < view) {
                    self.pending_final = Some(fc);
                }
            }
        }
        self.enter_view(view.saturating_add(1), out);
    }
}
