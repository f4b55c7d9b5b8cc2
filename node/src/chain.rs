//! The handles of a running node, bundled for the parts that need them all (JSON-RPC): the
//! read-only [`Ledger`], transaction [`Admission`], the [`ChainEvents`] broadcast and the
//! [`NodeStatus`]. Every other part takes only the handles it uses.

use std::sync::Arc;

use weft_runtime::Runtime;

use crate::{admission::OutboxSender, mempool::MempoolConfig, store::Store};
pub use crate::{
    admission::{Admission, SubmitError},
    events::{ChainEvent, ChainEvents, CommittedBlock},
    ledger::{ChainError, Ledger, account_in},
    status::{GossipDrops, NodeMeta, NodeStatus},
};

/// The handles of one node.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The committed chain.
    pub ledger: Arc<Ledger>,
    /// The mempool and its checks.
    pub admission: Arc<Admission>,
    /// Committed blocks and dropped transactions, to subscribers.
    pub events: ChainEvents,
    /// Peers, syncing, counters.
    pub status: Arc<NodeStatus>,
}

impl Chain {
    /// The handles of a node over `store` (holding at least its genesis block), executed by
    /// `runtime`, with a mempool bounded by `mempool`; what RPC admits also goes to `outbox`.
    pub fn new(
        store: Store,
        runtime: Runtime,
        mempool: MempoolConfig,
        meta: NodeMeta,
        outbox: Option<OutboxSender>,
    ) -> Self {
        let ledger = Arc::new(Ledger::new(store, runtime));
        let events = ChainEvents::default();
        let admission = Arc::new(Admission::new(ledger.clone(), mempool, events.clone(), outbox));
        Self { ledger, admission, events, status: Arc::new(NodeStatus::new(meta)) }
    }
}
