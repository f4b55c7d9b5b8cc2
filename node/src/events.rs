//! Chain events: committed blocks, transactions that left the mempool without being included,
//! and resets (`dev_revert`), broadcast to subscribers (JSON-RPC subscriptions) in the order
//! they happened. Bounded: a subscriber further behind than [`EVENT_CAPACITY`] misses events and
//! is told so by the broadcast.

use std::sync::Arc;

use tokio::sync::broadcast;
use weft_types::{Block, Hash, Header, Receipt};

/// Capacity of the event broadcast; a subscriber further behind than this is dropped.
pub const EVENT_CAPACITY: usize = 1024;

/// A block as committed, with its receipts and transaction hashes.
#[derive(Debug)]
pub struct CommittedBlock {
    /// The block.
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its transactions' hashes.
    pub tx_hashes: Vec<Hash>,
}

/// What subscribers hear about.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A block was committed (and, on a dev chain, finalized).
    Block(Arc<CommittedBlock>),
    /// A transaction left the mempool without being included.
    Dropped {
        /// The transaction.
        hash: Hash,
        /// Why.
        reason: String,
    },
    /// The chain was reset to an earlier block (`dev_revert`).
    Reset(Header),
}

/// The broadcast of chain events (cheap to clone: every clone publishes to the same
/// subscribers).
#[derive(Debug, Clone)]
pub struct ChainEvents(broadcast::Sender<ChainEvent>);

impl Default for ChainEvents {
    fn default() -> Self {
        Self(broadcast::channel(EVENT_CAPACITY).0)
    }
}

impl ChainEvents {
    /// Listens to events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.0.subscribe()
    }

    /// Tells subscribers (nobody listening is fine).
    pub fn publish(&self, event: ChainEvent) {
        let _ = self.0.send(event);
    }
}
