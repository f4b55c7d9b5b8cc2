//! Blocks validated or built and not final yet: their outputs kept in memory (so building or
//! validating on them reads a layered state — the store plus the uncommitted ancestors' changes —
//! and committing them re-executes nothing) and their proposals made durable with them; block
//! building, and validation as a job that runs off the driver's task, through the shared
//! [`BlockProducer`] and runtime.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use weft_runtime::{BlockError, BlockOutput, SharedBackend};
use weft_types::{
    Address, Block, Hash, Header,
    consensus::{ConsensusMessage, SignedProposal},
};

use super::NodeFault;
use crate::{
    admission::Admission,
    ledger::Ledger,
    producer::{BlockProducer, Produced},
    store::Layered,
};

/// Most blocks validated or built and not final yet kept in memory.
const MAX_PENDING_BLOCKS: usize = 1024;

/// How far ahead of this node's clock a block it votes for may be stamped (docs/protocol.md §4.1).
pub(super) const MAX_AHEAD_MS: u64 = 30_000;

/// Whether a block stamped `timestamp_ms` is too far ahead of the clock `now_ms` to vote for.
pub(super) fn too_far_ahead(timestamp_ms: u64, now_ms: u64) -> bool {
    timestamp_ms > now_ms.saturating_add(MAX_AHEAD_MS)
}

/// Why no state could be found to build or validate on.
#[derive(Debug, thiserror::Error)]
pub(super) enum ParentError {
    /// The parent is neither the head nor a kept block.
    #[error("unknown parent {0}")]
    Unknown(Hash),
    /// The block does not descend from the head.
    #[error("block {0} does not extend the head")]
    NotExtendingHead(Hash),
    /// This node failed.
    #[error(transparent)]
    Node(#[from] NodeFault),
}

/// Why a block is not valid here.
#[derive(Debug, thiserror::Error)]
pub(super) enum Invalid {
    /// No state to execute it on.
    #[error(transparent)]
    Parent(#[from] ParentError),
    /// Its execution disagrees with it (a runtime fault is a [`NodeFault`] instead).
    #[error(transparent)]
    Block(BlockError),
    /// It is stamped too far ahead of this node's clock to vote for.
    #[error(
        "stamped {timestamp_ms} ms, more than {MAX_AHEAD_MS} ms ahead of this node's clock ({now_ms} ms)"
    )]
    AheadOfClock {
        /// The block's timestamp.
        timestamp_ms: u64,
        /// This node's clock.
        now_ms: u64,
    },
}

/// The uncommitted blocks.
pub(super) struct Blocks {
    ledger: Arc<Ledger>,
    pool: Arc<Admission>,
    /// Fees of the blocks this node builds go to its address.
    me: Address,
    /// Blocks validated or built, not committed yet, by hash.
    pending: BTreeMap<Hash, Arc<BlockOutput>>,
}

/// A block to execute on its parent's state, with everything that needs (so it runs on any
/// thread, while the driver goes on).
pub(super) struct Validation {
    ledger: Arc<Ledger>,
    pool: Arc<Admission>,
    parent: Header,
    state: Layered,
    block: Block,
}

impl Validation {
    /// Executes the block; its output when it matches its header.
    pub(super) fn run(self) -> Result<BlockOutput, Invalid> {
        // Signatures of transactions this node admitted were checked then.
        let verified = |hashes: &[Hash]| self.pool.contains_each(hashes);
        let runtime = self.ledger.runtime();
        match runtime.apply_block_verified(Arc::new(self.state), &self.parent, &self.block, verified) {
            Ok(out) => Ok(out),
            Err(BlockError::Runtime(e)) => Err(Invalid::Parent(NodeFault::Runtime(e).into())),
            Err(e) => Err(Invalid::Block(e)),
        }
    }
}

impl Blocks {
    pub(super) fn new(ledger: Arc<Ledger>, pool: Arc<Admission>, me: Address) -> Self {
        Self { ledger, pool, me, pending: BTreeMap::new() }
    }

    /// The kept output of block `hash`.
    pub(super) fn get(&self, hash: &Hash) -> Option<Arc<BlockOutput>> {
        self.pending.get(hash).cloned()
    }

    /// Forgets the blocks at or below `height` (committed, or off the finalized chain).
    pub(super) fn prune(&mut self, height: u64) {
        self.pending.retain(|_, o| o.block.header.height > height);
    }

    /// The header of `hash` (a kept block or the committed head), without opening a state.
    pub(super) fn header(&self, hash: &Hash) -> Result<Header, ParentError> {
        if let Some(out) = self.pending.get(hash) {
            return Ok(out.block.header.clone());
        }
        let head = self.ledger.store().head().map_err(NodeFault::from)?.ok_or(NodeFault::EmptyStore)?;
        if head.hash() == *hash { Ok(head) } else { Err(ParentError::Unknown(*hash)) }
    }

    /// The header of `hash` and the state after it (committed head or a kept block).
    fn parent_state(&self, hash: &Hash) -> Result<(Header, Layered), ParentError> {
        let store = self.ledger.store();
        let base = store.state().map_err(NodeFault::from)?;
        let head = base.head().cloned().ok_or(NodeFault::EmptyStore)?;
        let head_hash = head.hash();
        if *hash == head_hash {
            return Ok((head, Layered { base, layers: Vec::new() }));
        }
        let mut layers = Vec::new();
        let mut cursor = *hash;
        while cursor != head_hash {
            let out = self.pending.get(&cursor).ok_or(ParentError::Unknown(cursor))?;
            if out.block.header.height <= head.height {
                return Err(ParentError::NotExtendingHead(*hash));
            }
            cursor = out.block.header.parent_hash;
            layers.push(out.clone());
        }
        let header = layers.first().map_or(head, |o| o.block.header.clone());
        Ok((header, Layered { base, layers }))
    }

    /// Builds a block on `parent` from the mempool, stamped `timestamp_ms` (at least the parent's
    /// plus one); `None` when it would be empty and `allow_empty` is false.
    pub(super) fn build(
        &self,
        parent: &Hash,
        timestamp_ms: u64,
        allow_empty: bool,
    ) -> Result<Option<BlockOutput>, ParentError> {
        let (header, state) = self.parent_state(parent)?;
        let producer = BlockProducer::new(
            &self.ledger,
            &self.pool,
            Arc::new(state) as SharedBackend,
            &header,
            timestamp_ms.max(header.timestamp_ms.saturating_add(1)),
            self.me,
        );
        if producer.pool_is_empty() && !allow_empty {
            return Ok(None);
        }
        let Produced { out, .. } = producer.fill_and_finish(&BTreeSet::new()).map_err(NodeFault::from)?;
        Ok((allow_empty || !out.block.txs.is_empty()).then_some(out))
    }

    /// The job validating `block` for a vote, judged at `now_ms`: stamped at most
    /// [`MAX_AHEAD_MS`] ahead of the clock (unless a quorum `certified` it), then executed on its
    /// parent's state to its header ([`Validation::run`]).
    pub(super) fn validation(
        &self,
        block: Block,
        now_ms: u64,
        certified: bool,
    ) -> Result<Validation, Invalid> {
        let timestamp_ms = block.header.timestamp_ms;
        if !certified && too_far_ahead(timestamp_ms, now_ms) {
            return Err(Invalid::AheadOfClock { timestamp_ms, now_ms });
        }
        let (parent, state) = self.parent_state(&block.header.parent_hash)?;
        Ok(Validation { ledger: self.ledger.clone(), pool: self.pool.clone(), parent, state, block })
    }

    /// Executes `block` on its parent's state, here and now, whatever its stamp.
    pub(super) fn validate(&self, block: &Block) -> Result<BlockOutput, Invalid> {
        self.validation(block.clone(), 0, true)?.run()
    }

    /// Keeps the block's output in memory and, with the leader's signed `proposal`, makes its
    /// body durable (so that a block this node voted for survives a crash of every validator).
    pub(super) fn keep(
        &mut self,
        out: BlockOutput,
        proposal: Option<SignedProposal>,
    ) -> Result<(), NodeFault> {
        if let Some(proposal) = proposal {
            self.persist_body(&out.block, &ConsensusMessage::encode_proposal(&proposal, &out.block))?;
        }
        if self.pending.len() >= MAX_PENDING_BLOCKS {
            // Drop the lowest (oldest) block; the core asks again for what it needs.
            if let Some(hash) =
                self.pending.iter().min_by_key(|(_, o)| o.block.header.height).map(|(h, _)| *h)
            {
                self.pending.remove(&hash);
            }
        }
        self.pending.insert(out.block.hash(), Arc::new(out));
        Ok(())
    }

    /// Makes the proposal `message` of `block` durable.
    pub(super) fn persist_body(&self, block: &Block, message: &[u8]) -> Result<(), NodeFault> {
        Ok(self.ledger.store().put_block_body(block.header.height, &block.hash(), message)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_too_far_ahead_of_the_clock_get_no_vote() {
        let now = 1_700_000_000_000;
        assert!(!too_far_ahead(now, now));
        assert!(!too_far_ahead(now + MAX_AHEAD_MS, now));
        assert!(too_far_ahead(now + MAX_AHEAD_MS + 1, now));
        assert!(too_far_ahead(u64::MAX, now), "no child could follow it");
        assert!(!too_far_ahead(u64::MAX, u64::MAX), "no overflow");
    }
}
