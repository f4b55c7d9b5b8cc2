//! The local steps of the protocol, run after every input until none applies: ask to validate
//! blocks, finalize, propose as leader, notarize the current proposal; and pruning below the
//! finalized block.

use std::collections::BTreeSet;

use weft_types::{
    Block, Hash, Height,
    consensus::{ConsensusMessage, Proposal, View, Vote},
};

use super::{
    Effect,
    core::Core,
    signer::Signer,
    state::{BuildRequest, Status},
};

impl<S: Signer, P: Clone + Ord + std::fmt::Debug> Core<S, P> {
    /// Runs every local step until none applies.
    pub(super) fn progress(&mut self, out: &mut Vec<Effect<P>>) {
        if !self.started {
            return;
        }
        loop {
            let mut changed = self.request_validations(out);
            changed |= self.try_finalize(out);
            changed |= self.try_propose(out);
            changed |= self.try_notarize(out);
            if !changed {
                break;
            }
        }
        self.request_missing(out);
    }

    /// Asks to validate every block whose parent is the finalized block or a validated block.
    fn request_validations(&mut self, out: &mut Vec<Effect<P>>) -> bool {
        let ready: Vec<Hash> = self
            .blocks
            .iter()
            .filter(|(_, e)| e.status == Status::Pending)
            .filter(|(_, e)| {
                let h = &e.block.header;
                if h.parent_hash == self.finalized.hash {
                    return self.finalized.height.checked_add(1) == Some(h.height);
                }
                self.blocks.get(&h.parent_hash).is_some_and(|p| {
                    p.status == Status::Valid && p.block.header.height.checked_add(1) == Some(h.height)
                })
            })
            .map(|(hash, _)| *hash)
            .collect();
        for hash in &ready {
            if let Some(entry) = self.blocks.get_mut(hash) {
                entry.status = Status::Requested;
                out.push(Effect::ValidateBlock(entry.block.clone()));
            }
        }
        !ready.is_empty()
    }

    /// Asks peers for the blocks the chain needs: notarized blocks that are not here, the missing
    /// parent of a notarized block that is, and the missing parent of the current view's proposal.
    /// (The pending finalization's chain is handled by `try_finalize`.)
    fn request_missing(&mut self, out: &mut Vec<Effect<P>>) {
        let mut missing = Vec::new();
        let current = self.views.get(&self.view).and_then(|vs| vs.proposal).map(|p| p.proposal.block_hash);
        if let Some(e) = current.and_then(|h| self.blocks.get(&h)) {
            let parent = e.block.header.parent_hash;
            if parent != self.finalized.hash && !self.blocks.contains_key(&parent) {
                missing.push(parent);
            }
        }
        for vs in self.views.values() {
            let Some(Vote::Notarize(b)) = vs.notarization.as_ref().map(|c| c.vote) else { continue };
            match self.blocks.get(&b.hash) {
                None => missing.push(b.hash),
                Some(e) => {
                    let parent = e.block.header.parent_hash;
                    if parent != self.finalized.hash && !self.blocks.contains_key(&parent) {
                        missing.push(parent);
                    }
                }
            }
        }
        for hash in missing {
            self.want(hash, out);
        }
    }

    /// Finalizes the pending finalization once every block between it and the finalized block is
    /// here and validated. A missing block is requested from peers and, since peers prune blocks
    /// once they are final, a sync is asked for at once.
    fn try_finalize(&mut self, out: &mut Vec<Effect<P>>) -> bool {
        let Some(cert) = self.pending_final.clone() else { return false };
        let target = cert.block();
        if target.view <= self.finalized.view {
            self.pending_final = None;
            return false;
        }
        let mut chain = Vec::new();
        let mut all_valid = true;
        let mut hash = target.hash;
        let mut height = target.height;
        // Walk down the whole chain (not stopping at a block still being validated), so that a
        // missing ancestor is noticed.
        while hash != self.finalized.hash {
            let Some(entry) = self.blocks.get(&hash) else {
                self.want(hash, out);
                if self.sync_sent != Some(target.view) {
                    self.sync_sent = Some(target.view);
                    out.push(Effect::Sync(cert));
                }
                return false;
            };
            if entry.block.header.height != height || height <= self.finalized.height {
                // Not a descendant of the finalized block: impossible below a third of byzantine
                // power; nothing here can be finalized.
                return false;
            }
            // A block this node refused counts once it is judged again (`judge_again`): the
            // finalization outweighs its judgement, and committing re-executes it, stopping the
            // node with the reason if it still fails.
            all_valid &= matches!(entry.status, Status::Valid | Status::Invalid);
            chain.push((hash, entry.proposal.proposal.view));
            hash = entry.block.header.parent_hash;
            height -= 1;
        }
        if !all_valid || height != self.finalized.height {
            return false;
        }
        for (hash, view) in chain.into_iter().rev() {
            if let Some(entry) = self.blocks.get(&hash) {
                out.push(Effect::Finalized { block: entry.block.clone(), view, certificate: cert.clone() });
            }
        }
        self.finalized = target;
        self.finalized_cert = Some(cert);
        self.pending_final = None;
        self.prune();
        self.enter_view(target.view.saturating_add(1), out);
        true
    }

    /// As leader of the current view, asks the node for a block on the best valid parent.
    fn try_propose(&mut self, out: &mut Vec<Effect<P>>) -> bool {
        let view = self.view;
        if !self.validator || self.leader != self.me {
            return false;
        }
        if self.build.is_some_and(|b| b.view == view) {
            return false;
        }
        if self.views.get(&view).is_some_and(|vs| vs.proposal.is_some() || vs.nullify.contains_key(&self.me))
        {
            return false;
        }
        let (parent_view, parent, parent_height) = match self.select_parent(view) {
            Ok(parent) => parent,
            Err(missing) => {
                if let Some(u) = missing {
                    self.want_certificate(u, out);
                }
                return false;
            }
        };
        let Some(height) = parent_height.checked_add(1) else { return false };
        self.build = Some(BuildRequest { view, parent_view, height, parent });
        out.push(Effect::BuildBlock { view, height, parent });
        true
    }

    /// The highest valid parent for a proposal in `view`: a validated notarized block of a view
    /// `u`, with every view between `u` and `view` nullified, or the finalized block. Otherwise,
    /// the view whose certificate is missing, if that is what is lacking.
    fn select_parent(&self, view: View) -> Result<(View, Hash, Height), Option<View>> {
        if self.cfg.no_lock() {
            return Ok((self.finalized.view, self.finalized.hash, self.finalized.height));
        }
        let mut u = view.checked_sub(1).ok_or(None)?;
        loop {
            if u <= self.finalized.view {
                return Ok((self.finalized.view, self.finalized.hash, self.finalized.height));
            }
            let vs = self.views.get(&u);
            let notarized = match vs.and_then(|vs| vs.notarization.as_ref()).map(|c| c.vote) {
                Some(Vote::Notarize(b)) => Some(b),
                _ => None,
            };
            if let Some(b) = notarized
                && self.blocks.get(&b.hash).is_some_and(|e| e.status == Status::Valid)
            {
                return Ok((u, b.hash, b.height));
            }
            if vs.is_some_and(|vs| vs.nullification.is_some()) {
                u -= 1;
                continue;
            }
            // A notarized block not validated yet is waited for (and requested if missing).
            return Err(if notarized.is_some() { None } else { Some(u) });
        }
    }

    /// Whether `proposal`'s parent is valid: the finalized block or the block notarized in
    /// `parent_view`, with every view in between nullified, and the heights and hashes agreeing.
    /// `Err(Some(w))` when the certificate of view `w` is missing, `Err(None)` when invalid.
    fn parent_is_valid(&self, proposal: &Proposal, block: &Block) -> Result<(), Option<View>> {
        let u = proposal.parent_view;
        let parent = if u == self.finalized.view {
            (self.finalized.hash, self.finalized.height)
        } else if u > self.finalized.view {
            match self.views.get(&u).and_then(|vs| vs.notarization.as_ref()).map(|c| c.vote) {
                Some(Vote::Notarize(b)) => (b.hash, b.height),
                _ => return Err(Some(u)),
            }
        } else {
            return Err(None);
        };
        if block.header.parent_hash != parent.0 || parent.1.checked_add(1) != Some(proposal.height) {
            return Err(None);
        }
        if self.cfg.no_lock() {
            return Ok(());
        }
        match (u.saturating_add(1)..proposal.view)
            .find(|w| self.views.get(w).is_none_or(|vs| vs.nullification.is_none()))
        {
            Some(w) => Err(Some(w)),
            None => Ok(()),
        }
    }

    /// Votes for the current view's proposal once it is validated and its parent is valid.
    fn try_notarize(&mut self, out: &mut Vec<Effect<P>>) -> bool {
        if !self.validator {
            return false;
        }
        let Some(vs) = self.views.get(&self.view) else { return false };
        if vs.notarize.contains_key(&self.me) || vs.nullify.contains_key(&self.me) {
            return false;
        }
        let Some(signed) = vs.proposal else { return false };
        let Some(entry) = self.blocks.get(&signed.proposal.block_hash) else { return false };
        if entry.status != Status::Valid {
            return false;
        }
        match self.parent_is_valid(&signed.proposal, &entry.block) {
            Ok(()) => {
                self.cast(Vote::Notarize(signed.proposal.block_ref()), out);
                true
            }
            Err(Some(w)) => {
                self.want_certificate(w, out);
                false
            }
            Err(None) => false,
        }
    }

    /// Asks peers for a block (once until the next retry re-sends every request).
    pub(super) fn want(&mut self, hash: Hash, out: &mut Vec<Effect<P>>) {
        if self.blocks.contains_key(&hash) || self.wanted.len() >= self.cfg.max_requests {
            return;
        }
        if self.wanted.insert(hash) {
            out.push(Effect::Broadcast(ConsensusMessage::BlockRequest(hash)));
        }
    }

    /// Asks peers for the notarization or nullification of `view` (once until the next retry).
    fn want_certificate(&mut self, view: View, out: &mut Vec<Effect<P>>) {
        if view <= self.finalized.view || self.wanted_views.len() >= self.cfg.max_requests {
            return;
        }
        if self.wanted_views.insert(view) {
            out.push(Effect::Broadcast(ConsensusMessage::CertificateRequest(view)));
        }
    }

    /// Drops everything at or below the finalized block: views, blocks that do not descend from
    /// it (a block whose parent is not here is kept while its view is above the finalized one: it
    /// may descend through blocks still to come), and settled requests. Outstanding block requests
    /// are forgotten; the next steps ask again for what is still needed.
    pub(super) fn prune(&mut self) {
        let f = self.finalized;
        self.views.retain(|v, _| *v > f.view);
        let mut by_height: Vec<(Height, Hash, Hash, View)> = self
            .blocks
            .iter()
            .map(|(h, e)| (e.block.header.height, *h, e.block.header.parent_hash, e.proposal.proposal.view))
            .collect();
        by_height.sort();
        let mut keep = BTreeSet::from([f.hash]);
        for (height, hash, parent, view) in by_height {
            let orphan = !self.blocks.contains_key(&parent);
            if height > f.height && (keep.contains(&parent) || (orphan && view > f.view)) {
                keep.insert(hash);
            }
        }
        self.blocks.retain(|h, _| *h != f.hash && keep.contains(h));
        self.wanted.clear();
        self.wanted_views.clear();
        if self.pending_final.as_ref().is_some_and(|c| c.block().view <= f.view) {
            self.pending_final = None;
        }
        if self.build.is_some_and(|b| b.view <= f.view) {
            self.build = None;
        }
    }
}
