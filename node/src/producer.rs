//! Block production and the one commit path, shared by the dev chain and the validator: a block
//! built from the mempool on a given parent state ([`BlockProducer`]), and what follows the
//! durable commit of any block ([`on_committed`]: mempool pruning and the announcement).

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use weft_runtime::{BlockBuilder, BlockOutput, PushError, RuntimeError, SharedBackend, StateBackend};
use weft_types::{Address, Amount, Hash, Header, limits::MAX_BLOCK_TXS};

use crate::{
    admission::Admission,
    events::{ChainEvent, ChainEvents, CommittedBlock},
    ledger::{Ledger, account_in},
};

/// A block executed and not committed yet, with the transactions it refused (they stay in the
/// mempool until the block commits; the dev chain then drops them).
#[derive(Debug)]
pub struct Produced {
    /// The block, its receipts and its state changes.
    pub out: BlockOutput,
    /// The transactions tried and refused, with why.
    pub refused: Vec<(Hash, String)>,
}

/// Builds one block on a parent state: selects from the pool (best price first, in nonce
/// order), pushes each candidate through the runtime's checks and execution, and finishes.
pub struct BlockProducer<'a> {
    pool: &'a Admission,
    state: SharedBackend,
    builder: BlockBuilder,
}

impl<'a> BlockProducer<'a> {
    /// Starts the block after `parent`, whose state is `state`, stamped `timestamp_ms`, its fees
    /// to `proposer`.
    pub fn new(
        ledger: &Ledger,
        pool: &'a Admission,
        state: SharedBackend,
        parent: &Header,
        timestamp_ms: u64,
        proposer: Address,
    ) -> Self {
        let builder = BlockBuilder::new(ledger.runtime(), state.clone(), parent, timestamp_ms, proposer);
        Self { pool, state, builder }
    }

    /// Sets a balance before any transaction (`dev_setBalance`).
    pub fn set_balance(&mut self, address: &Address, balance: Amount) -> Result<(), RuntimeError> {
        self.builder.set_balance_unchecked(address, balance)
    }

    /// Whether the pool holds any transaction (none may be includable).
    pub fn pool_is_empty(&self) -> bool {
        self.pool.is_empty()
    }

    /// Fills the block from the pool, skipping `skip` (transactions a block in flight refused),
    /// and finishes it. Only a fault of this node's state fails it.
    pub fn fill_and_finish(mut self, skip: &BTreeSet<Hash>) -> Result<Produced, RuntimeError> {
        let state = &*self.state;
        // Nonces are read before the mempool is locked, so that admission (RPC) never waits on
        // state reads; a sender that arrived in between is read under the lock.
        let nonces = nonces_of(&self.pool.senders(), |s| nonce_in(state, s));
        let candidates =
            self.pool.select(MAX_BLOCK_TXS, |s| nonces.get(s).copied().unwrap_or_else(|| nonce_in(state, s)));
        let mut refused = Vec::new();
        for tx in candidates.into_iter().filter(|tx| !skip.contains(&tx.hash())) {
            match self.builder.push_verified(&tx) {
                Ok(_) => {}
                Err(PushError::BlockFull(_)) => break,
                Err(PushError::Tx(e)) => refused.push((tx.hash(), e.to_string())),
                Err(PushError::Runtime(e)) => return Err(e),
            }
        }
        Ok(Produced { out: self.builder.finish()?, refused })
    }
}

/// What follows the durable commit of `out` (on the dev chain or a validator, built here or
/// received): the block is announced to subscribers at once (its receipts are readable from the
/// store already, so the announcement must not lag behind them), then its transactions, those in
/// `dropped` and those its nonces made stale leave the mempool, and each dropped one is announced.
pub fn on_committed(
    ledger: &Ledger,
    pool: &Admission,
    events: &ChainEvents,
    out: Arc<BlockOutput>,
    mut dropped: Vec<(Hash, String)>,
) -> Arc<CommittedBlock> {
    let tx_hashes: Vec<Hash> = out.receipts.iter().map(|r| r.tx_hash).collect();
    let height = out.block.header.height;
    // Moved out when nobody else holds the block, copied while another block is built on it.
    let (block, receipts) = match Arc::try_unwrap(out) {
        Ok(out) => (out.block, out.receipts),
        Err(shared) => (shared.block.clone(), shared.receipts.clone()),
    };
    let committed = Arc::new(CommittedBlock { block, receipts, tx_hashes });
    events.publish(ChainEvent::Block(committed.clone()));
    match ledger.store().state() {
        Ok(state) => {
            let nonces = nonces_of(&pool.senders(), |s| nonce_in(&state, s));
            let included = committed.tx_hashes.iter().chain(dropped.iter().map(|(h, _)| h));
            let stale = pool.remove_committed(included, |s| {
                nonces.get(s).copied().unwrap_or_else(|| nonce_in(&state, s))
            });
            dropped.extend(
                stale.into_iter().map(|h| (h, "nonce already used by a committed transaction".into())),
            );
        }
        // The block is committed; pruning waits for the next one.
        Err(e) => tracing::warn!("mempool not pruned after block {height}: {e}"),
    }
    for (hash, reason) in dropped {
        events.publish(ChainEvent::Dropped { hash, reason });
    }
    committed
}

/// This node's clock, in ms since the Unix epoch, for block timestamps (0 if it reads before
/// the epoch: the block then takes its parent's time plus one).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The nonce of `sender` in `state` (0 when it cannot be read: the block's checks decide).
fn nonce_in(state: &dyn StateBackend, sender: &Address) -> u64 {
    account_in(state, sender).map_or(0, |a| a.nonce)
}

/// The nonce of each of `senders`, read with `nonce`.
fn nonces_of(senders: &[Address], nonce: impl Fn(&Address) -> u64) -> BTreeMap<Address, u64> {
    senders.iter().map(|s| (*s, nonce(s))).collect()
}
