//! The validator's gossip: the ingress split (transaction gossip to its own bounded admission
//! queue, everything else (consensus gossip, direct messages, peer and request events) to the
//! driver, never dropped), batched admission of gossiped transactions, each peer's budget of
//! useless consensus traffic, and publication (broadcast consensus messages with their copy
//! numbers, transactions admitted over RPC, published again while no peer could take them).
//! Messages to one peer do not pass here: the driver sends them over the network's direct
//! protocol.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::{Notify, mpsc};
use weft_types::{
    Hash,
    consensus::{MAX_CONSENSUS_MESSAGE_BYTES, gossip_frame},
    sha3_256,
};

use super::Network;
use crate::{
    admission::{Admission, SubmitError},
    net::{GossipBudget, NetError, NetEvent, PeerId, Topic, Verdict},
    status::GossipDrops,
};

/// Least time between two publications of one consensus message.
const MIN_REPUBLISH: Duration = Duration::from_millis(500);
/// Most consensus messages whose copy count is remembered.
const MAX_COPIES: usize = 8192;
/// Most transactions kept for a later publication when no peer could take them.
const MAX_UNSENT: usize = 4096;
/// Attempts to publish a remembered transaction again (one per regossip interval), past
/// gossipsub's duplicate cache time (60 s).
const MAX_REMEMBERED_ATTEMPTS: u32 = 90;
/// Most gossiped transactions admitted as one batch ([`Admission::admit_many`]): those already
/// queued behind the first are drained up to this bound.
const MAX_GOSSIP_BATCH: usize = 512;

/// Sends the network's transaction gossip to `txs` and every other event to `rest`. A full
/// `txs` drops the transaction (reported ignored: no blame, not forwarded); `rest` is waited
/// for, so consensus messages are never dropped here.
pub(super) async fn split_events<N: Network>(
    mut events: mpsc::Receiver<NetEvent>,
    txs: mpsc::Sender<NetEvent>,
    rest: mpsc::Sender<NetEvent>,
    net: N,
    drops: Arc<GossipDrops>,
) {
    while let Some(event) = events.recv().await {
        if !matches!(event, NetEvent::Gossip { topic: Topic::Txs, .. }) {
            if rest.send(event).await.is_err() {
                return;
            }
            continue;
        }
        if let Err(mpsc::error::TrySendError::Full(NetEvent::Gossip { id, source, .. })) = txs.try_send(event)
        {
            let dropped = GossipDrops::count(&drops.queue_full);
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "transaction gossip dropped: admission is not keeping up");
            }
            net.report(id, source, Verdict::Ignore).await;
        }
    }
}

/// Admits gossiped transactions: each within its peer's `budget`, in batches of those already
/// queued (up to [`MAX_GOSSIP_BATCH`]), checked off the async threads. Reports each message's
/// verdict: accepted, rejected (undecodable or invalid: the peer is blamed) or ignored (over
/// the budget, refused by the mempool, or this node failed), and wakes `arrived` when one
/// entered the mempool.
pub(super) async fn admit_gossip<N: Network>(
    admission: Arc<Admission>,
    drops: Arc<GossipDrops>,
    net: N,
    mut budget: GossipBudget,
    mut txs: mpsc::Receiver<NetEvent>,
    arrived: Arc<Notify>,
) {
    while let Some(first) = txs.recv().await {
        let mut batch = Vec::new();
        let mut next = Some(first);
        let mut drained = 0;
        while let Some(event) = next.take() {
            if let NetEvent::Gossip { data, id, source, .. } = event {
                if budget.allow(source, Instant::now()) {
                    batch.push((data, id, source));
                } else {
                    GossipDrops::count(&drops.over_peer_limit);
                    let refused = budget.refused();
                    if refused.is_power_of_two() {
                        tracing::warn!(%source, refused, "gossiped transactions over the per-peer limit dropped");
                    }
                    net.report(id, source, Verdict::Ignore).await;
                }
            }
            drained += 1;
            if drained < MAX_GOSSIP_BATCH {
                next = txs.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        let checker = admission.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let results = checker.admit_many(&batch.iter().map(|(data, ..)| &data[..]).collect::<Vec<_>>());
            (batch, results)
        })
        .await;
        let (batch, results) = match checked {
            Ok(done) => done,
            Err(e) => {
                tracing::error!("transaction gossip admission stopped: {e}");
                return;
            }
        };
        let mut accepted = false;
        for ((_, id, source), result) in batch.iter().zip(results) {
            let verdict = match result {
                Ok(_) => Verdict::Accept,
                Err(SubmitError::Decode(_) | SubmitError::Invalid(_)) => Verdict::Reject,
                Err(SubmitError::Pool(_) | SubmitError::Node(_)) => Verdict::Ignore,
            };
            accepted |= verdict == Verdict::Accept;
            net.report(*id, *source, verdict).await;
        }
        if accepted {
            arrived.notify_one();
        }
    }
}

/// Useless consensus messages (known, stale, refused) one peer may send per second, and at once.
/// Honest peers send few: gossipsub already drops what it delivered, so only re-sends reach
/// here twice.
const USELESS_MESSAGES_RATE: u32 = 200;
const USELESS_MESSAGES_BURST: u32 = 2_000;
/// Useless bytes of proposals one peer may send per second, and at once (four of the largest).
const USELESS_BLOCK_BYTES_RATE: u32 = 8 * 1024 * 1024;
const USELESS_BLOCK_BYTES_BURST: u32 = 4 * MAX_CONSENSUS_MESSAGE_BYTES as u32;
/// Least a message on the blocks topic is charged, in bytes: the consensus topic's limit.
const MIN_BLOCK_CHARGE: usize = 64 * 1024;

/// Each peer's budget of useless consensus traffic: a message is charged when it arrives (one
/// token on the consensus topic, one per byte on the blocks topic) and refunded when it was news,
/// so honest peers are never limited while a peer replaying known or stale messages, or sending
/// refused ones, is cut off before its messages are even decoded. Its memory is a bucket per
/// peer in each budget, at most 1,024 of them (`GossipBudget`'s bound; the least recently used goes).
pub(super) struct UselessBudget {
    messages: GossipBudget,
    block_bytes: GossipBudget,
}

/// What [`UselessBudget::charge`] took, to give back with [`UselessBudget::refund`].
pub(super) struct Charge {
    blocks: bool,
    peer: PeerId,
    cost: f64,
}

impl Default for UselessBudget {
    fn default() -> Self {
        Self {
            messages: GossipBudget::new(USELESS_MESSAGES_RATE, USELESS_MESSAGES_BURST),
            block_bytes: GossipBudget::new(USELESS_BLOCK_BYTES_RATE, USELESS_BLOCK_BYTES_BURST),
        }
    }
}

impl UselessBudget {
    /// Charges `peer` for a message of `len` bytes on `topic`; `None` when over its budget. On
    /// the blocks topic a message costs at least [`MIN_BLOCK_CHARGE`] bytes, so small messages
    /// sent there cost no less than on the consensus topic.
    pub(super) fn charge(&mut self, topic: Topic, peer: PeerId, len: usize) -> Option<Charge> {
        let blocks = topic == Topic::Blocks;
        let cost = if blocks { len.max(MIN_BLOCK_CHARGE) as f64 } else { 1.0 };
        self.budget(blocks).take(peer, Instant::now(), cost).then_some(Charge { blocks, peer, cost })
    }

    /// Gives a charge back: the message was news.
    pub(super) fn refund(&mut self, charge: Charge) {
        self.budget(charge.blocks).refund(charge.peer, charge.cost);
    }

    fn budget(&mut self, blocks: bool) -> &mut GossipBudget {
        if blocks { &mut self.block_bytes } else { &mut self.messages }
    }
}

/// A transaction whose publication failed.
struct Unsent {
    hash: Hash,
    bytes: Vec<u8>,
    /// Gossipsub already remembers its id (it failed after that: every peer's queue was full),
    /// so it answers `Duplicate` until the id expires: keep trying through that.
    remembered: bool,
    attempts: u32,
}

/// What the validator publishes, with the state publication needs: copy numbers of recent
/// consensus messages and the transactions waiting to be published again.
pub(super) struct Publisher<N> {
    net: N,
    /// How often each recent consensus message was published (by the hash of its encoding),
    /// oldest first in `copy_order`.
    copies: BTreeMap<Hash, (u32, Instant)>,
    copy_order: VecDeque<Hash>,
    /// Transactions admitted over RPC whose publication failed (gossipsub drops such a message
    /// and never retries it): published again when a peer connects and on a timer, while they
    /// are still in the mempool.
    unsent: VecDeque<Unsent>,
    /// Unsent transactions dropped because [`MAX_UNSENT`] were waiting (counted for the log).
    unsent_dropped: u64,
}

impl<N: Network> Publisher<N> {
    pub(super) fn new(net: N) -> Self {
        Self {
            net,
            copies: BTreeMap::new(),
            copy_order: VecDeque::new(),
            unsent: VecDeque::new(),
            unsent_dropped: 0,
        }
    }

    /// Publishes an encoded consensus message followed by its copy number: 0 the first time,
    /// then 1, 2, … Gossipsub ids messages by content and refuses to publish an id it has seen
    /// (and forgets ids only when new messages arrive), so without the copy number the core's
    /// re-broadcasts (votes and certificates after a partition heals) would never leave this
    /// node. Answers to one peer's requests are not broadcast at all (they go to that peer
    /// alone, over the direct protocol).
    ///
    /// The same message goes out at most once per [`MIN_REPUBLISH`]: one publication reaches
    /// every peer, so a burst of re-broadcasts of one message costs one publication.
    pub(super) async fn consensus(&mut self, topic: Topic, message: &[u8]) {
        let hash = sha3_256(message);
        let now = Instant::now();
        let copy = match self.copies.get_mut(&hash) {
            Some((_, last)) if now.saturating_duration_since(*last) < MIN_REPUBLISH => return,
            Some((count, last)) => {
                *count = count.saturating_add(1);
                *last = now;
                *count
            }
            None => {
                if self.copy_order.len() >= MAX_COPIES
                    && let Some(oldest) = self.copy_order.pop_front()
                {
                    self.copies.remove(&oldest);
                }
                self.copies.insert(hash, (0, now));
                self.copy_order.push_back(hash);
                0
            }
        };
        match self.net.publish(topic, gossip_frame(message, copy)).await {
            Ok(_) | Err(NetError::Duplicate) => {}
            Err(NetError::NoPeers) => tracing::debug!(?topic, "no peers to publish to"),
            Err(e) => tracing::warn!(?topic, "publish failed: {e}"),
        }
    }

    /// Publishes a transaction admitted over RPC; keeps it for later if no peer could take it.
    pub(super) async fn transaction(&mut self, bytes: Vec<u8>) {
        match self.net.publish(Topic::Txs, bytes.clone()).await {
            Ok(_) | Err(NetError::Duplicate) => {}
            Err(e) => {
                tracing::debug!("transaction not gossiped yet ({e}): kept to publish again");
                if self.unsent.len() >= MAX_UNSENT {
                    self.unsent.pop_front();
                    self.unsent_dropped = self.unsent_dropped.saturating_add(1);
                    if self.unsent_dropped.is_power_of_two() {
                        tracing::warn!(
                            dropped = self.unsent_dropped,
                            "transactions waiting to be gossiped again dropped ({MAX_UNSENT} kept at \
                             most; they stay in this node's mempool)"
                        );
                    }
                }
                let remembered = matches!(e, NetError::Publish(_));
                let hash = sha3_256(&bytes);
                self.unsent.push_back(Unsent { hash, bytes, remembered, attempts: 0 });
            }
        }
    }

    /// Publishes the unsent transactions again, dropping those no longer in the mempool.
    pub(super) async fn unsent(&mut self, pool: &Admission) {
        if self.unsent.is_empty() {
            return;
        }
        let waiting: Vec<Unsent> = self.unsent.drain(..).filter(|u| pool.get(&u.hash).is_some()).collect();
        for mut u in waiting {
            u.attempts = u.attempts.saturating_add(1);
            match self.net.publish(Topic::Txs, u.bytes.clone()).await {
                Ok(_) => {}
                Err(NetError::Duplicate) if !u.remembered || u.attempts >= MAX_REMEMBERED_ATTEMPTS => {}
                Err(_) => self.unsent.push_back(u),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{MessageId, NetConfig, PeerId, generate_keypair};

    #[tokio::test]
    async fn transaction_gossip_never_crowds_out_consensus_events() {
        let mut config = NetConfig::new(generate_keypair(), 77);
        config.listen_addrs = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
        let network = crate::net::Network::start(config).await.unwrap();
        let (events_tx, events_rx) = mpsc::channel(64);
        let (txs_tx, mut txs_rx) = mpsc::channel(4);
        let (rest_tx, mut rest_rx) = mpsc::channel(64);
        let drops = Arc::new(GossipDrops::default());
        let split =
            tokio::spawn(split_events(events_rx, txs_tx, rest_tx, network.handle.clone(), drops.clone()));
        let source = PeerId::random();
        let gossip = |topic, i: u8| NetEvent::Gossip { topic, data: vec![i], id: MessageId([i; 32]), source };
        for i in 0..20 {
            events_tx.send(gossip(Topic::Txs, i)).await.unwrap();
        }
        events_tx.send(gossip(Topic::Consensus, 100)).await.unwrap();
        let permit = crate::net::DirectPermit::detached();
        events_tx.send(NetEvent::Direct { peer: source, data: vec![101], permit }).await.unwrap();
        events_tx.send(NetEvent::PeerDisconnected { peer: source }).await.unwrap();
        drop(events_tx);
        split.await.unwrap();

        // Nobody took transactions: the first four wait, the other sixteen were dropped; every
        // other event came through, in order.
        let mut queued = Vec::new();
        while let Ok(NetEvent::Gossip { topic, data, .. }) = txs_rx.try_recv() {
            assert_eq!(topic, Topic::Txs);
            queued.push(data[0]);
        }
        assert_eq!(queued, vec![0, 1, 2, 3]);
        assert_eq!(
            drops.queue_full.load(std::sync::atomic::Ordering::Relaxed),
            16,
            "counted for node_metrics"
        );
        assert!(matches!(
            rest_rx.try_recv(),
            Ok(NetEvent::Gossip { topic: Topic::Consensus, data, .. }) if data == vec![100]
        ));
        assert!(matches!(rest_rx.try_recv(), Ok(NetEvent::Direct { data, .. }) if data == vec![101]));
        assert!(matches!(rest_rx.try_recv(), Ok(NetEvent::PeerDisconnected { .. })));
        assert!(rest_rx.try_recv().is_err());
    }
}
