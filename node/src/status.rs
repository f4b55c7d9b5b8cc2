//! What the node knows about itself beyond the chain, written by the validator driver and the
//! network and read by RPC and metrics: static facts ([`NodeMeta`]), connected peers, whether it
//! is syncing, and the gossiped transactions it dropped.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

/// Static facts about the node.
#[derive(Debug, Clone)]
pub struct NodeMeta {
    /// Whether `dev_*` methods are enabled.
    pub dev: bool,
    /// Whether this node votes.
    pub validator: bool,
    /// The libp2p peer id, when networked.
    pub peer_id: Option<String>,
    /// Whether this node is the only validator (a dev chain, a one-validator network): it is
    /// healthy without peers.
    pub alone: bool,
}

/// Transactions received by gossip and dropped before admission, by reason, since the node
/// started (`node_metrics`). Dropped ones are neither blamed on the peer nor forwarded.
#[derive(Debug, Default)]
pub struct GossipDrops {
    /// Over the sending peer's budget (`p2p.gossip_tx_rate`, `p2p.gossip_tx_burst`).
    pub over_peer_limit: AtomicU64,
    /// The admission queue was full: this node was not keeping up.
    pub queue_full: AtomicU64,
}

impl GossipDrops {
    /// Counts one more in `counter`; returns the new count.
    pub fn count(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    }
}

/// Most connected peers remembered for `node_peers`.
const MAX_PEERS: usize = 1024;

/// The node's status.
#[derive(Debug)]
pub struct NodeStatus {
    meta: NodeMeta,
    /// Connected peers (id → address), as the network reports them.
    peers: Mutex<BTreeMap<String, String>>,
    /// Whether the node is fetching blocks it missed.
    syncing: AtomicBool,
    gossip_drops: Arc<GossipDrops>,
}

impl NodeStatus {
    /// A node described by `meta`, with no peer, not syncing.
    pub fn new(meta: NodeMeta) -> Self {
        Self { meta, peers: Mutex::default(), syncing: AtomicBool::new(false), gossip_drops: Arc::default() }
    }

    /// Static facts.
    pub fn meta(&self) -> &NodeMeta {
        &self.meta
    }

    /// Whether the node is fetching blocks it missed.
    pub fn syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    /// Marks the node as fetching blocks it missed, or done.
    pub fn set_syncing(&self, syncing: bool) {
        self.syncing.store(syncing, Ordering::Relaxed);
    }

    /// The counts of gossiped transactions dropped before admission.
    pub fn gossip_drops(&self) -> &Arc<GossipDrops> {
        &self.gossip_drops
    }

    /// Records a peer connecting (`Some(address)`) or disconnecting (`None`).
    pub fn set_peer(&self, peer: String, address: Option<String>) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        match address {
            Some(address) if peers.len() < MAX_PEERS || peers.contains_key(&peer) => {
                peers.insert(peer, address);
            }
            Some(_) => {}
            None => {
                peers.remove(&peer);
            }
        }
    }

    /// The connected peers (id, address).
    pub fn peers(&self) -> Vec<(String, String)> {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}
