//! Tests of the driver as its peers see it: what it forwards, whom it blames and what a replaying
//! peer costs it, over a network that records every verdict.

use std::sync::{Arc, Mutex, atomic::Ordering};

use ed25519_dalek::SigningKey;
use weft_runtime::{Runtime, state::memory::MemoryState};
use weft_types::{
    Address,
    consensus::{ConsensusMessage, Validator, ValidatorSet, Vote, gossip_frame},
    tx::address_of,
};

use super::{Network, driver::Driver};
use crate::{
    chain::{Chain, NodeMeta},
    consensus::{self, Anchor, Core, Input},
    mempool::MempoolConfig,
    net::{BlocksRequest, BlocksResponse, MessageId, NetError, NetEvent, PeerId, Topic, Verdict},
    store::Store,
};

const CHAIN: u64 = 78;

/// A network that records the verdicts and penalties the driver gives.
#[derive(Clone, Default)]
struct Recorder {
    verdicts: Arc<Mutex<Vec<(PeerId, Verdict)>>>,
    penalized: Arc<Mutex<Vec<PeerId>>>,
}

impl Network for Recorder {
    fn local_peer_id(&self) -> PeerId {
        PeerId::random()
    }
    async fn publish(&self, _: Topic, _: Vec<u8>) -> Result<MessageId, NetError> {
        Ok(MessageId([0; 32]))
    }
    async fn report(&self, _: MessageId, source: PeerId, verdict: Verdict) {
        self.verdicts.lock().unwrap().push((source, verdict));
    }
    async fn send_to(&self, _: PeerId, _: Vec<u8>) -> Result<(), NetError> {
        Ok(())
    }
    async fn penalize(&self, peer: PeerId) {
        self.penalized.lock().unwrap().push(peer);
    }
    async fn peers(&self) -> Vec<PeerId> {
        Vec::new()
    }
    async fn request_blocks(&self, peer: PeerId, _: BlocksRequest) -> Result<BlocksResponse, NetError> {
        Err(NetError::Unreachable(peer))
    }
    fn set_status(&self, _: crate::net::StatusResponse) {}
}

/// Validator 0 of four, at genesis, started, over a [`Recorder`].
async fn driver() -> (tempfile::TempDir, Driver<Recorder>, Recorder, Vec<SigningKey>, Chain) {
    let keys: Vec<SigningKey> = (0..4u8).map(|i| SigningKey::from_bytes(&[i + 1; 32])).collect();
    let set = ValidatorSet::from_unsorted(
        keys.iter().map(|k| Validator { address: address_of(k), power: 1 }).collect(),
    )
    .unwrap();
    let runtime = Runtime::new(CHAIN, 1).unwrap();
    let genesis = weft_runtime::Genesis {
        timestamp_ms: 1_000,
        balances: vec![(Address([5; 32]), 1)],
        validators: None,
    };
    let out = runtime.genesis(Arc::new(MemoryState::new()), &genesis).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chain.redb")).unwrap();
    store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
    let meta = NodeMeta { dev: false, validator: true, peer_id: None, alone: false };
    let chain = Chain::new(store, runtime, MempoolConfig::default(), meta, None);
    let core = Core::new(
        consensus::Config::new(CHAIN, set.clone()),
        keys[0].clone(),
        Anchor::genesis(out.block.hash()),
    )
    .unwrap();
    let net = Recorder::default();
    let mut driver = Driver::new(core, chain.clone(), net.clone(), CHAIN, set, address_of(&keys[0]), 1_000);
    driver.step(Input::Start).await.unwrap();
    (dir, driver, net, keys, chain)
}

fn gossip(topic: Topic, message: &ConsensusMessage, copy: u32, source: PeerId) -> NetEvent {
    let data = gossip_frame(&parity_scale_codec::Encode::encode(message), copy);
    NetEvent::Gossip { topic, data, id: MessageId([copy as u8; 32]), source }
}

#[tokio::test]
async fn replayed_consensus_gossip_is_neither_forwarded_nor_blamed_and_is_cut_off_at_its_budget() {
    let (_dir, mut driver, net, keys, chain) = driver().await;
    let (relay, replayer) = (PeerId::random(), PeerId::random());
    let vote = |k: usize| ConsensusMessage::Vote(Vote::Nullify(1).sign(CHAIN, &keys[k]));

    // News is forwarded; the same message under a new copy number is not, and blames nobody.
    driver.on_event(gossip(Topic::Consensus, &vote(1), 0, relay)).await.unwrap();
    driver.on_event(gossip(Topic::Consensus, &vote(1), 1, relay)).await.unwrap();
    assert_eq!(*net.verdicts.lock().unwrap(), vec![(relay, Verdict::Accept), (relay, Verdict::Ignore)]);

    // A peer replaying it without end is cut off at its budget (before decoding), still without
    // blame; the drops are counted.
    for copy in 0..3_000 {
        driver.on_event(gossip(Topic::Consensus, &vote(1), copy, replayer)).await.unwrap();
    }
    let verdicts = net.verdicts.lock().unwrap().clone();
    assert!(verdicts.iter().all(|(peer, v)| *peer != replayer || *v == Verdict::Ignore));
    let dropped = chain.status.gossip_drops().consensus_over_peer_limit.load(Ordering::Relaxed);
    assert!((900..=1_100).contains(&dropped), "{dropped} of 3000 replays dropped over a burst of 2000");
    assert!(net.penalized.lock().unwrap().is_empty(), "an honest relay may replay; nobody is blamed");

    // Others are unaffected: news from another peer is still taken and forwarded.
    driver.on_event(gossip(Topic::Consensus, &vote(2), 0, relay)).await.unwrap();
    assert_eq!(net.verdicts.lock().unwrap().last(), Some(&(relay, Verdict::Accept)));

    // What no relay peer sends is rejected and its peer penalized.
    let garbage = NetEvent::Gossip {
        topic: Topic::Consensus,
        data: vec![9; 40],
        id: MessageId([0; 32]),
        source: relay,
    };
    driver.on_event(garbage).await.unwrap();
    assert_eq!(net.verdicts.lock().unwrap().last(), Some(&(relay, Verdict::Reject)));
    assert_eq!(*net.penalized.lock().unwrap(), vec![relay]);
}

#[test]
fn small_messages_on_the_blocks_topic_cost_no_less_than_on_the_consensus_topic() {
    let mut budget = super::gossip::UselessBudget::default();
    let peer = PeerId::random();
    // A vote-sized message on the blocks topic is charged 64 KiB: the 32 MiB burst holds 512.
    let allowed = (0..1_000).filter(|_| budget.charge(Topic::Blocks, peer, 150).is_some()).count();
    assert!((512..=520).contains(&allowed), "{allowed} allowed");
}
