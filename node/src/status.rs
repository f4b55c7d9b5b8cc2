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
    /// Consensus messages (or proposal bytes' worth of them) over the sending peer's budget of
    /// useless traffic: known, stale or refused messages.
    pub consensus_over_peer_limit: AtomicU64,
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
    /// The highest block this node knows the network finalized (from a certificate its
    /// consensus core accepted), committed here or not.
    network_final: AtomicU64,
    gossip_drops: Arc<GossipDrops>,
}

impl NodeStatus {
    /// A node described by `meta`, with no peer, not syncing.
    pub fn new(meta: NodeMeta) -> Self {
        Self {
            meta,
            peers: Mutex::default(),
            syncing: AtomicBool::new(false),
            network_final: AtomicU64::new(0),
            gossip_drops: Arc::default(),
        }
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

    /// Notes that the network finalized the block at `height` (kept if higher than known).
    pub fn note_final(&self, height: u64) {
        self.network_final.fetch_max(height, Ordering::Relaxed);
    }

    /// The highest height this node knows the network finalized.
    pub fn network_final(&self) -> u64 {
        self.network_final.load(Ordering::Relaxed)
    }

    /// Whether the node is healthy with `head` committed: not syncing, not behind a block it
    /// knows the network finalized (a node that cannot commit while its peers go on is not
    /// healthy, even once its sync gave up), and connected unless it needs nobody.
    pub fn healthy(&self, head: u64) -> bool {
        let connected = self.meta.alone || !self.peers.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
        !self.syncing() && self.network_final() <= head && connected
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_behind_what_the_network_finalized_is_not_healthy() {
        let status = NodeStatus::new(NodeMeta { dev: false, validator: true, peer_id: None, alone: false });
        assert!(!status.healthy(0), "alone among four: no peer");
        status.set_peer("p".into(), Some("addr".into()));
        assert!(status.healthy(0));
        status.note_final(5);
        status.note_final(3);
        assert_eq!(status.network_final(), 5, "only ever rises");
        assert!(!status.healthy(4), "behind block 5");
        assert!(status.healthy(5));
        status.set_syncing(true);
        assert!(!status.healthy(5));
    }
}
