//! A simulated network of validators: each one the real driver, gossip and admission tasks
//! ([`super::spawn_tasks`]) with its own store on disk, runtime and block bodies, connected
//! through the [`Network`] seam by a seeded network of random delays, on tokio's paused clock
//! (simulated time: the clock jumps to the next timer whenever every task waits). Adversaries
//! are extra peers on the same network, running their own tasks. Execution runs on real threads
//! (the blocking pool), so runs are seeded but not bit-for-bit reproducible.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ed25519_dalek::SigningKey;
use tokio::{sync::mpsc, time::Instant};
use weft_runtime::{Runtime, state::memory::MemoryState};
use weft_types::{
    Address, BoundedVec, Hash, Transaction,
    consensus::{ConsensusMessage, Validator, ValidatorSet, gossip_frame, gossip_message},
    sha3_256,
    tx::{Action, address_of},
};

use super::{Network, answers::read_blocks, driver::Driver, spawn_tasks};
use crate::{
    admission::{OUTBOX_MAX_BYTES, OUTBOX_MAX_TXS, outbox},
    chain::{Chain, NodeMeta},
    consensus::{self, Anchor, Core},
    ledger::{Ledger, account_in},
    mempool::MempoolConfig,
    net::{
        BlocksRequest, BlocksResponse, GossipBudget, MessageId, NetError, NetEvent, PeerId, StatusResponse,
        Topic,
    },
    store::Store,
};

const CHAIN: u64 = 79;

/// SplitMix64: seedable delays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

/// The network every peer shares: inboxes, identities, delays, each validator's ledger (to
/// serve block sync), a partition and who penalized whom.
struct Wire {
    inboxes: Vec<mpsc::Sender<NetEvent>>,
    peers: Vec<PeerId>,
    rng: Mutex<Rng>,
    delay_ms: (u64, u64),
    ledgers: Mutex<Vec<Arc<Ledger>>>,
    partition: Option<Partition>,
    penalized: Mutex<Vec<(usize, usize)>>,
    /// Blocks served by block sync.
    synced: std::sync::atomic::AtomicUsize,
}

/// One peer cut off from all others during a window of simulated time.
#[derive(Clone, Copy)]
struct Partition {
    node: usize,
    from: Duration,
    until: Duration,
}

impl Wire {
    /// Whether `a` and `b` cannot reach each other now (`start` is the run's start).
    fn cut(&self, a: usize, b: usize, start: Instant) -> bool {
        self.partition.is_some_and(|p| {
            let now = start.elapsed();
            (a == p.node || b == p.node) && now >= p.from && now < p.until
        })
    }
}

/// One peer's view of the [`Wire`]: a full mesh where a published message reaches every other
/// peer after its own random delay.
#[derive(Clone)]
struct SimNet {
    me: usize,
    wire: Arc<Wire>,
    start: Instant,
}

impl SimNet {
    fn deliver(&self, to: usize, event: NetEvent) {
        if self.wire.cut(self.me, to, self.start) {
            return;
        }
        let (lo, hi) = self.wire.delay_ms;
        let delay = lo + self.wire.rng.lock().unwrap().below(hi - lo + 1);
        let inbox = self.wire.inboxes[to].clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let _ = inbox.send(event).await;
        });
    }

    fn gossip(&self, to: usize, topic: Topic, data: Vec<u8>) {
        let id = MessageId(sha3_256(&data).0);
        self.deliver(to, NetEvent::Gossip { topic, data, id, source: self.wire.peers[self.me] });
    }

    fn publish_to_all(&self, topic: Topic, data: &[u8]) {
        for to in (0..self.wire.peers.len()).filter(|to| *to != self.me) {
            self.gossip(to, topic, data.to_vec());
        }
    }
}

impl Network for SimNet {
    fn local_peer_id(&self) -> PeerId {
        self.wire.peers[self.me]
    }

    async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<MessageId, NetError> {
        self.publish_to_all(topic, &data);
        Ok(MessageId(sha3_256(&data).0))
    }

    // Every peer hears every message from its publisher: nothing to forward.
    async fn report(&self, _: MessageId, _: PeerId, _: crate::net::Verdict) {}

    async fn send_to(&self, peer: PeerId, data: Vec<u8>) -> Result<(), NetError> {
        let to = self.wire.peers.iter().position(|p| *p == peer).ok_or(NetError::NotConnected(peer))?;
        // A direct message arrives like gossip (the driver judges both alike).
        let topic = if data.first() == Some(&0) { Topic::Blocks } else { Topic::Consensus };
        self.gossip(to, topic, gossip_frame(&data, 0));
        Ok(())
    }

    async fn penalize(&self, peer: PeerId) {
        if let Some(p) = self.wire.peers.iter().position(|p| *p == peer) {
            self.wire.penalized.lock().unwrap().push((self.me, p));
        }
    }

    async fn peers(&self) -> Vec<PeerId> {
        self.wire.peers.iter().enumerate().filter(|(i, _)| *i != self.me).map(|(_, p)| *p).collect()
    }

    async fn request_blocks(&self, peer: PeerId, request: BlocksRequest) -> Result<BlocksResponse, NetError> {
        let to = self.wire.peers.iter().position(|p| *p == peer).ok_or(NetError::NotConnected(peer))?;
        let ledger = self.wire.ledgers.lock().unwrap().get(to).cloned();
        let ledger = match ledger {
            Some(ledger) if !self.wire.cut(self.me, to, self.start) => ledger,
            _ => return Err(NetError::Unreachable(peer)),
        };
        tokio::time::sleep(Duration::from_millis(2 * self.wire.delay_ms.1)).await;
        let response = read_blocks(&ledger, request.capped()).map_err(|_| NetError::Unreachable(peer))?;
        self.wire.synced.fetch_add(response.blocks.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(response)
    }

    fn set_status(&self, _: StatusResponse) {}
}

/// What a run did.
struct Run {
    _dirs: Vec<tempfile::TempDir>,
    chains: Vec<Chain>,
    penalized: Vec<(usize, usize)>,
    sender: Address,
    synced: usize,
}

impl Run {
    /// The lowest head among the validators.
    fn min_height(&self) -> u64 {
        self.chains.iter().map(|c| c.ledger.store().head().unwrap().unwrap().height).min().unwrap()
    }

    /// Every validator holds the same block at every height up to the lowest head.
    fn assert_agreement(&self) {
        for height in 1..=self.min_height() {
            let hashes: Vec<Hash> = self
                .chains
                .iter()
                .map(|c| c.ledger.store().block_by_height(height).unwrap().unwrap().hash())
                .collect();
            assert!(hashes.windows(2).all(|w| w[0] == w[1]), "validators disagree at height {height}");
        }
    }

    /// Transfers included at the lowest head.
    fn included(&self) -> u64 {
        self.chains
            .iter()
            .map(|c| account_in(&c.ledger.store().state().unwrap(), &self.sender).unwrap().nonce)
            .min()
            .unwrap()
    }
}

/// An adversary's behaviour: what it does with each message it hears.
type Adversary = fn(&SimNet, &NetEvent);

/// Runs `validators` real validators (and `adversary`, if any, as one more peer) for `secs` of
/// simulated time under a transfer every 50 ms.
async fn run(
    validators: usize,
    adversary: Option<Adversary>,
    partition: Option<Partition>,
    secs: u64,
    seed: u64,
) -> Run {
    let keys: Vec<SigningKey> = (0..validators).map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32])).collect();
    let set = ValidatorSet::from_unsorted(
        keys.iter().map(|k| Validator { address: address_of(k), power: 1 }).collect(),
    )
    .unwrap();
    let sender_key = SigningKey::from_bytes(&[99; 32]);
    let sender = address_of(&sender_key);
    let peers = validators + usize::from(adversary.is_some());
    let (inboxes, mut receivers): (Vec<_>, Vec<_>) = (0..peers).map(|_| mpsc::channel(8192)).unzip();
    let wire = Arc::new(Wire {
        inboxes,
        peers: (0..peers).map(|_| PeerId::random()).collect(),
        rng: Mutex::new(Rng(seed)),
        delay_ms: (5, 40),
        ledgers: Mutex::default(),
        partition,
        penalized: Mutex::default(),
        synced: Default::default(),
    });
    let start = Instant::now();
    let mut dirs = Vec::new();
    let mut chains = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let runtime = Runtime::new(CHAIN, 1).unwrap();
        let genesis = weft_runtime::Genesis {
            timestamp_ms: 1_000,
            balances: vec![(sender, 1_000_000_000_000_000_000)],
            validators: Some(set.clone()),
        };
        let out = runtime.genesis(Arc::new(MemoryState::new()), &genesis).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chain.redb")).unwrap();
        store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
        let meta = NodeMeta { dev: false, validator: true, peer_id: None, alone: false };
        let (outbox_tx, outbox_rx) = outbox(OUTBOX_MAX_TXS, OUTBOX_MAX_BYTES);
        let chain = Chain::new(store, runtime, MempoolConfig::default(), meta, Some(outbox_tx));
        let mut cfg = consensus::Config::new(CHAIN, set.clone());
        cfg.view_timeout_ms = 400;
        cfg.retry_timeout_ms = 200;
        cfg.block_interval_ms = 100;
        let core = Core::new(cfg, key.clone(), Anchor::genesis(out.block.hash())).unwrap();
        wire.ledgers.lock().unwrap().push(chain.ledger.clone());
        let net = SimNet { me: i, wire: wire.clone(), start };
        let driver = Driver::new(core, chain.clone(), net.clone(), CHAIN, set.clone(), address_of(key), 100);
        let events = std::mem::replace(&mut receivers[i], mpsc::channel(1).1);
        spawn_tasks(driver, events, net, &chain, GossipBudget::new(5_000, 20_000), outbox_rx);
        dirs.push(dir);
        chains.push(chain);
    }
    if let Some(adversary) = adversary {
        let net = SimNet { me: validators, wire: wire.clone(), start };
        let mut events = std::mem::replace(&mut receivers[validators], mpsc::channel(1).1);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                adversary(&net, &event);
            }
        });
    }
    let load = chains.clone();
    tokio::spawn(async move {
        for nonce in 0.. {
            let tx = Transaction {
                chain_id: CHAIN,
                sender,
                nonce,
                gas_limit: 100_000,
                gas_price: 1,
                action: Action::Transfer { to: Address([7; 32]), amount: 1 },
            }
            .sign(&sender_key);
            let bytes = parity_scale_codec::Encode::encode(&tx);
            let _ = load[nonce as usize % load.len()].admission.submit(&bytes);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let penalized = wire.penalized.lock().unwrap().clone();
    let synced = wire.synced.load(std::sync::atomic::Ordering::Relaxed);
    Run { _dirs: dirs, chains, penalized, sender, synced }
}

/// Re-publishes every proposal it hears with another body under the same signed header.
fn tamperer(net: &SimNet, event: &NetEvent) {
    let NetEvent::Gossip { topic: Topic::Blocks, data, .. } = event else { return };
    let Some(Ok(ConsensusMessage::Proposal { proposal, mut block })) =
        gossip_message(data).map(ConsensusMessage::decode_bounded)
    else {
        return;
    };
    let mut txs = block.txs.to_vec();
    if txs.pop().is_none() {
        return;
    }
    block.txs = BoundedVec::new(txs).unwrap();
    let poisoned = ConsensusMessage::Proposal { proposal, block };
    net.publish_to_all(Topic::Blocks, &gossip_frame(&parity_scale_codec::Encode::encode(&poisoned), 0));
}

/// Re-publishes every consensus message it hears three times under new copy numbers.
fn replayer(net: &SimNet, event: &NetEvent) {
    let NetEvent::Gossip { topic: topic @ (Topic::Blocks | Topic::Consensus), data, .. } = event else {
        return;
    };
    let Some(message) = gossip_message(data) else { return };
    for copy in 1..=3 {
        net.publish_to_all(*topic, &gossip_frame(message, copy));
    }
}

#[tokio::test(start_paused = true)]
async fn validators_finalize_real_blocks_over_a_simulated_network_and_adversaries_do_not_split_them() {
    let honest = run(4, None, None, 8, 1).await;
    honest.assert_agreement();
    let (height, included) = (honest.min_height(), honest.included());
    eprintln!("4 validators, 8 s: {height} blocks, {included} transfers included");
    assert!(height >= 10, "4 validators made {height} blocks in 8 s");
    assert!(included >= 100, "{included} of ~160 transfers included");
    assert!(honest.penalized.is_empty(), "{:?}", honest.penalized);

    for (name, adversary) in [("tamperer", tamperer as Adversary), ("replayer", replayer)] {
        let attacked = run(4, Some(adversary), None, 8, 2).await;
        attacked.assert_agreement();
        let (h, inc) = (attacked.min_height(), attacked.included());
        eprintln!("with a {name}: {h} blocks, {inc} transfers, {} penalties", attacked.penalized.len());
        assert!(h * 2 >= height && inc * 2 >= included, "{name}: {h} blocks, {inc} transfers");
        assert!(
            attacked.penalized.iter().all(|(_, peer)| *peer == 4),
            "{name}: an honest peer was penalized: {:?}",
            attacked.penalized
        );
        if name == "tamperer" {
            assert!(!attacked.penalized.is_empty(), "the tamperer was never penalized");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_validator_cut_off_catches_up_by_sync_over_the_seam() {
    // Validator 3 is cut off from 2 s to 9 s of a 13 s run: the other three keep finalizing
    // (a quorum of 3 of 4), it falls beyond its window of views, and once healed it syncs the
    // finalized blocks from its peers and follows again.
    let partition = Partition { node: 3, from: Duration::from_secs(2), until: Duration::from_secs(9) };
    let run = run(4, None, Some(partition), 13, 3).await;
    run.assert_agreement();
    let heights: Vec<u64> =
        run.chains.iter().map(|c| c.ledger.store().head().unwrap().unwrap().height).collect();
    eprintln!("heights after a 7 s partition of validator 3: {heights:?}, {} blocks synced", run.synced);
    let lead = heights[..3].iter().copied().min().unwrap();
    assert!(lead >= 60, "the three made {lead} blocks");
    assert!(heights[3] + 10 >= lead, "validator 3 did not catch up: {heights:?}");
    assert!(run.synced > 0, "validator 3 caught up without block sync");
    assert!(run.penalized.is_empty(), "{:?}", run.penalized);
}
