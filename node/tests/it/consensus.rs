//! Consensus: a deterministic simulation of 4 and 7 validators running the Simplex core
//! (`weft_node::consensus`) over a simulated network (seeded delays, reordering, drops, a
//! partition that heals) with simulated time, fake but deterministic execution, byzantine
//! validators (equivocating, proposing wrong state roots), crashes and restarts from persisted
//! records; and direct tests of the core's refusal of invalid messages, its evidence and its
//! restoration.
//!
//! Checked on every run: no two honest nodes commit different blocks at one height; committed
//! chains are hash-linked; every committed block carries a finality certificate with a quorum of
//! valid signatures, for itself or for a descendant committed after it; no honest validator ever
//! sends two conflicting signed messages (also across crashes).
//!
//! Violations are recorded with their seed and end the run; a failing test prints `FAILING SEED
//! n` and the command that runs it alone: `WEFT_SIM_SEED=n cargo test -p weft-node --test it
//! consensus::<test> -- --exact` (every sweep then runs only seed `n`, which reproduces the run
//! exactly). Sweep sizes default to a few hundred seeds in all; `WEFT_CONSENSUS_SEEDS=<n>` runs
//! each sweep with `n` seeds instead (a soak). The checker's self-test switches the lock rule off
//! (`BrokenRule::NoLock`, compiled only with the test feature `sim-broken-rules`) and expects a
//! safety violation for some seed. Signatures dominate the run time, so the ed25519 crates must be
//! optimized in test builds (`[profile.dev.package.curve25519-dalek] opt-level = 3`, likewise
//! `ed25519-dalek`, `sha2`), or the sweeps take minutes instead of seconds.

use std::collections::{BTreeMap, BTreeSet};

use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use weft_node::consensus::{
    Anchor, BrokenRule, Config, Core, Effect, Fate, Input, Penalty, PersistRecord, TimeoutKind, leader,
};
use weft_types::{
    Address, Block, BoundedVec, Hash, Header,
    consensus::{
        BlockRef, Certificate, ConsensusMessage, Evidence, FinalityCertificate, Proposal, SignedProposal,
        SignedVote, Validator, ValidatorSet, ValidatorSignature, View, Vote,
    },
    hash::{merkle_root, sha3_256_parts},
    tx::address_of,
};

const CHAIN_ID: u64 = 0x5157;

// ---- Deterministic randomness ----

/// SplitMix64: small, seedable, good enough to schedule a simulation.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `permille / 1000`.
    fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }
}

// ---- Validators, genesis and fake execution ----

fn key(i: usize) -> SigningKey {
    SigningKey::from_bytes(&sha3_256_parts(&[b"weft:sim:key", &(i as u64).to_le_bytes()]).0)
}

fn validator_set(keys: &[SigningKey], powers: &[u64]) -> ValidatorSet {
    ValidatorSet::from_unsorted(
        keys.iter().zip(powers).map(|(k, p)| Validator { address: address_of(k), power: *p }).collect(),
    )
    .unwrap()
}

fn config(set: ValidatorSet) -> Config {
    let mut cfg = Config::new(CHAIN_ID, set);
    cfg.view_timeout_ms = 400;
    cfg.retry_timeout_ms = 200;
    cfg.max_timeout_ms = 4_000;
    cfg.future_views = 16;
    cfg
}

fn empty_root() -> Hash {
    merkle_root(&[])
}

fn genesis_hash() -> Hash {
    thread_local!(static HASH: Hash = genesis().hash());
    HASH.with(|h| *h)
}

fn genesis() -> Block {
    Block {
        header: Header {
            height: 0,
            parent_hash: Hash::ZERO,
            timestamp_ms: 0,
            proposer: Address([0; 32]),
            tx_root: empty_root(),
            receipts_root: empty_root(),
            state_root: sha3_256_parts(&[b"weft:sim:genesis"]),
            gas_used: 0,
        },
        txs: BoundedVec::new(vec![]).unwrap(),
    }
}

/// The fake state transition: the post-state root is a hash of the parent's root and the header
/// fields a proposer chooses.
fn fake_root(parent_root: &Hash, header: &Header) -> Hash {
    sha3_256_parts(&[
        &parent_root.0,
        &header.height.to_le_bytes(),
        &header.timestamp_ms.to_le_bytes(),
        &header.proposer.0,
    ])
}

fn make_block(parent_root: &Hash, parent: Hash, height: u64, timestamp_ms: u64, proposer: Address) -> Block {
    let mut header = Header {
        height,
        parent_hash: parent,
        timestamp_ms,
        proposer,
        tx_root: empty_root(),
        receipts_root: empty_root(),
        state_root: Hash::ZERO,
        gas_used: 0,
    };
    header.state_root = fake_root(parent_root, &header);
    Block { header, txs: BoundedVec::new(vec![]).unwrap() }
}

// ---- The simulation ----

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Behavior {
    Honest,
    /// Runs an honest core but also signs and sends conflicting votes and proposals, different
    /// ones to different peers.
    Equivocator,
    /// Proposes blocks whose state root is wrong.
    BadStateRoot,
    /// Runs an honest core but sends nothing (votes and proposals withheld).
    Withholder,
    /// Runs an honest core but, as leader, proposes only near the end of the view's deadline.
    LateProposer,
    /// Runs an honest core and re-sends every proposal it receives to everyone with another
    /// body under the same signed header (body poisoning).
    Tamperer,
    /// Runs an honest core and re-sends what it received to everyone again, later and long
    /// after (replays, messages far below the others' finalized heights).
    Replayer,
}

/// The byzantine behaviours the sweeps and [`byzantine_behaviours_never_split_or_stall_the_others`]
/// draw from.
const BYZANTINE: [Behavior; 6] = [
    Behavior::Equivocator,
    Behavior::BadStateRoot,
    Behavior::Withholder,
    Behavior::LateProposer,
    Behavior::Tamperer,
    Behavior::Replayer,
];

#[derive(Clone, Debug)]
struct Partition {
    start_ms: u64,
    end_ms: u64,
    /// Nodes on one side; the others are on the other side.
    side: BTreeSet<usize>,
}

#[derive(Clone, Debug)]
struct Crash {
    node: usize,
    at_ms: u64,
    down_ms: u64,
    /// Crash in the middle of carrying out the effects of the next input.
    mid_effects: bool,
}

#[derive(Clone, Debug)]
struct Scenario {
    seed: u64,
    powers: Vec<u64>,
    behaviors: Vec<Behavior>,
    delay_ms: (u64, u64),
    drop_permille: u64,
    partition: Option<Partition>,
    crashes: Vec<Crash>,
    /// Invalid messages from a peer outside the set (index `n`), at these times.
    junk_at_ms: Vec<u64>,
    /// Runs stop at this simulated time.
    until_ms: u64,
    /// A safety rule switched off in every core (the checker's self-test).
    broken: Option<BrokenRule>,
    /// The genesis `block_interval_ms`: an idle leader waits this long after its parent.
    block_interval_ms: u64,
    /// Each node's uplink in bytes per millisecond (messages queue behind each other), or none.
    uplink_bytes_per_ms: Option<u64>,
}

impl Scenario {
    fn new(n: usize, seed: u64) -> Self {
        Scenario {
            seed,
            powers: vec![1; n],
            behaviors: vec![Behavior::Honest; n],
            delay_ms: (5, 60),
            drop_permille: 0,
            partition: None,
            crashes: vec![],
            junk_at_ms: vec![],
            until_ms: 10_000,
            broken: None,
            block_interval_ms: 0,
            uplink_bytes_per_ms: None,
        }
    }

    /// A random scenario for the safety sweep: loss, delays, maybe a partition, crashes and one
    /// byzantine validator.
    fn random(n: usize, seed: u64) -> Self {
        let mut r = Rng::new(seed.wrapping_mul(31).wrapping_add(7));
        let mut s = Scenario::new(n, seed);
        s.until_ms = sweep_ms();
        s.drop_permille = r.below(200);
        let lo = r.range(1, 30);
        s.delay_ms = (lo, lo + r.range(10, 300));
        if r.chance(400) {
            let side: BTreeSet<usize> = (0..n).filter(|_| r.chance(500)).collect();
            let start_ms = r.below(3_000);
            s.partition = Some(Partition { start_ms, end_ms: start_ms + r.range(300, 5_000), side });
        }
        // Four times in ten, one byzantine validator (the equivocator, which alone can make a
        // fork with a broken rule, as often as all the others together).
        let byzantine = match r.below(20) {
            0..=3 => Some(Behavior::Equivocator),
            k @ 4..=7 => Some(BYZANTINE[1 + (k as usize - 4) % 5]),
            8 => Some(Behavior::Replayer),
            _ => None,
        };
        if let Some(b) = byzantine {
            s.behaviors[r.below(n as u64) as usize] = b;
        }
        s.junk_at_ms = (0..r.below(12)).map(|_| r.below(8_000)).collect();
        for _ in 0..r.below(4) {
            let node = r.below(n as u64) as usize;
            s.crashes.push(Crash {
                node,
                at_ms: r.below(8_000),
                down_ms: r.range(1, 3_000),
                mid_effects: r.chance(500),
            });
        }
        s
    }
}

enum Event {
    Deliver { to: usize, from: usize, bytes: Vec<u8> },
    Timer { node: usize, epoch: u64, view: View, kind: TimeoutKind },
    Validated { node: usize, epoch: u64, hash: Hash, valid: bool },
    Built { node: usize, epoch: u64, block: Block },
    Sync { node: usize, epoch: u64, cert: FinalityCertificate },
    Crash { node: usize, mid_effects: bool },
    Restart { node: usize },
    Junk,
}

/// A committed block, as a node's store would keep it.
#[derive(Clone)]
struct Committed {
    block: Block,
    hash: Hash,
    view: View,
    cert: FinalityCertificate,
}

struct Node {
    key: SigningKey,
    address: Address,
    behavior: Behavior,
    core: Option<Core<SigningKey, usize>>,
    /// Bumped at each crash: timers and callbacks of an earlier life are dropped.
    epoch: u64,
    /// Durable records (everything the core asked to persist before the crash).
    disk: Vec<PersistRecord>,
    /// The committed chain; `chain[h - 1]` is height `h`.
    chain: Vec<Committed>,
    /// Post-state roots of blocks built, validated or committed (lost on crash, except committed).
    roots: BTreeMap<Hash, Hash>,
    /// Crash after this many effects of the next input.
    crash_armed: bool,
    evidence: Vec<Evidence>,
    penalties: Vec<(usize, Penalty)>,
    /// The penalties the junk sent to this node must have caused.
    junk_expected: Vec<Penalty>,
    restarts: u32,
    /// For an equivocator: the second block it proposed in each view it led.
    twins: BTreeMap<View, BlockRef>,
    /// For a replayer: what it received (bounded).
    heard: Vec<Vec<u8>>,
}

impl Node {
    fn tip(&self) -> (Hash, u64) {
        self.chain.last().map_or((genesis_hash(), 0), |c| (c.hash, c.block.header.height))
    }

    fn height(&self) -> u64 {
        self.chain.len() as u64
    }

    fn anchor(&self) -> Anchor {
        match self.chain.last() {
            None => Anchor::genesis(genesis().hash()),
            Some(c) => Anchor {
                block: BlockRef { view: c.view, height: c.block.header.height, hash: c.hash },
                certificate: Some(c.cert.clone()),
            },
        }
    }
}

struct Sim {
    scenario: Scenario,
    rng: Rng,
    now: u64,
    seq: u64,
    queue: BTreeMap<(u64, u64), Event>,
    nodes: Vec<Node>,
    cfg: Config,
    /// Height → hash finalized by some honest node.
    finalized: BTreeMap<u64, Hash>,
    /// Every signed vote and proposal each honest validator sent, by view.
    sent_votes: BTreeMap<(Address, View), Vec<SignedVote>>,
    sent_proposals: BTreeMap<(Address, View), SignedProposal>,
    steps: usize,
    /// Certificates already checked (by encoding hash).
    verified_certs: BTreeSet<Hash>,
    /// Safety violations found (each names the seed); a correct core has none.
    violations: Vec<String>,
    /// Timestamps of the blocks built (the idle wait is measured from the parent's).
    times: BTreeMap<Hash, u64>,
    /// Nullify votes honest validators signed (an idle leader's wait must not cause any).
    nullifies: u64,
    /// Per node: bytes and messages sent, and when its uplink is free again (µs).
    sent_bytes: Vec<u64>,
    sent_messages: Vec<u64>,
    uplink_free_at: Vec<u64>,
    /// Milliseconds from a block's proposal to its commit, at every honest node.
    finality_ms: Vec<u64>,
}

impl Sim {
    fn new(scenario: Scenario) -> Self {
        let n = scenario.powers.len();
        let keys: Vec<SigningKey> = (0..n).map(key).collect();
        let mut cfg = config(validator_set(&keys, &scenario.powers));
        cfg.broken_rule = scenario.broken;
        cfg.block_interval_ms = scenario.block_interval_ms;
        let genesis = genesis();
        let nodes = keys
            .into_iter()
            .enumerate()
            .map(|(i, key)| Node {
                address: address_of(&key),
                core: Some(Core::new(cfg.clone(), key.clone(), Anchor::genesis(genesis.hash())).unwrap()),
                key,
                behavior: scenario.behaviors[i],
                epoch: 0,
                disk: vec![],
                chain: vec![],
                roots: BTreeMap::from([(genesis.hash(), genesis.header.state_root)]),
                crash_armed: false,
                evidence: vec![],
                penalties: vec![],
                junk_expected: vec![],
                restarts: 0,
                twins: BTreeMap::new(),
                heard: Vec::new(),
            })
            .collect();
        let mut sim = Sim {
            rng: Rng::new(scenario.seed),
            scenario,
            now: 0,
            seq: 0,
            queue: BTreeMap::new(),
            nodes,
            cfg,
            finalized: BTreeMap::new(),
            sent_votes: BTreeMap::new(),
            sent_proposals: BTreeMap::new(),
            steps: 0,
            verified_certs: BTreeSet::new(),
            violations: Vec::new(),
            times: BTreeMap::new(),
            nullifies: 0,
            sent_bytes: vec![0; n],
            sent_messages: vec![0; n],
            uplink_free_at: vec![0; n],
            finality_ms: Vec::new(),
        };
        for c in sim.scenario.crashes.clone() {
            sim.schedule(c.at_ms, Event::Crash { node: c.node, mid_effects: c.mid_effects });
            sim.schedule(c.at_ms + c.down_ms, Event::Restart { node: c.node });
        }
        for at in sim.scenario.junk_at_ms.clone() {
            sim.schedule(at, Event::Junk);
        }
        for i in 0..n {
            sim.input(i, Input::Start);
        }
        sim
    }

    fn schedule(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    fn honest(&self, i: usize) -> bool {
        self.nodes[i].behavior == Behavior::Honest
    }

    fn partitioned(&self, a: usize, b: usize) -> bool {
        self.scenario.partition.as_ref().is_some_and(|p| {
            self.now >= p.start_ms && self.now < p.end_ms && p.side.contains(&a) != p.side.contains(&b)
        })
    }

    /// Sends with a random delay, unless dropped or cut by the partition.
    fn send(&mut self, from: usize, to: usize, bytes: Vec<u8>) {
        if from == to || self.partitioned(from, to) || self.rng.chance(self.scenario.drop_permille) {
            return;
        }
        self.sent_bytes[from] += bytes.len() as u64;
        self.sent_messages[from] += 1;
        // With a limited uplink, a message leaves once the ones before it are out.
        let departs = match self.scenario.uplink_bytes_per_ms {
            Some(rate) => {
                // In microseconds: a small message takes far less than the clock's millisecond.
                let start_us = (self.now * 1000).max(self.uplink_free_at[from]);
                self.uplink_free_at[from] = start_us + (bytes.len() as u64 * 1000).div_ceil(rate.max(1));
                self.uplink_free_at[from].div_ceil(1000)
            }
            None => self.now,
        };
        let (lo, hi) = self.scenario.delay_ms;
        let at = departs + self.rng.range(lo, hi);
        self.schedule(at, Event::Deliver { to, from, bytes });
    }

    fn broadcast(&mut self, from: usize, message: &ConsensusMessage) {
        let bytes = message.encode();
        for to in 0..self.nodes.len() {
            self.send(from, to, bytes.clone());
        }
    }

    /// Runs until the simulated time limit.
    fn run(&mut self) {
        self.run_until(self.scenario.until_ms);
    }

    fn run_until(&mut self, until_ms: u64) {
        while self.violations.is_empty() {
            let Some(entry) = self.queue.first_entry() else { break };
            if entry.key().0 > until_ms {
                break;
            }
            let ((at, _), event) = entry.remove_entry();
            self.now = at;
            self.steps += 1;
            self.step(event);
        }
        self.now = self.now.max(until_ms.min(self.scenario.until_ms));
    }

    fn step(&mut self, event: Event) {
        match event {
            Event::Deliver { to, from, bytes } => {
                self.misbehave_on_receipt(to, &bytes);
                self.input(to, Input::Bytes { from, bytes })
            }
            Event::Timer { node, epoch, view, kind } if self.nodes[node].epoch == epoch => {
                self.input(node, Input::TimeoutFired { view, kind })
            }
            Event::Validated { node, epoch, hash, valid } if self.nodes[node].epoch == epoch => {
                self.input(node, Input::BlockValidated { hash, valid })
            }
            Event::Built { node, epoch, block } if self.nodes[node].epoch == epoch => {
                self.input(node, Input::BlockBuilt(block))
            }
            Event::Sync { node, epoch, cert } if self.nodes[node].epoch == epoch => self.sync(node, cert),
            Event::Crash { node, mid_effects } => {
                if mid_effects {
                    self.nodes[node].crash_armed = true;
                } else {
                    self.crash(node);
                }
            }
            Event::Restart { node } => self.restart(node),
            Event::Junk => self.junk(),
            _ => {}
        }
    }

    /// What a tamperer or a replayer does with a message it receives.
    fn misbehave_on_receipt(&mut self, i: usize, bytes: &[u8]) {
        match self.nodes[i].behavior {
            Behavior::Tamperer => {
                let Ok(ConsensusMessage::Proposal { proposal, mut block }) =
                    ConsensusMessage::decode_bounded(bytes)
                else {
                    return;
                };
                let poison = weft_types::Transaction {
                    chain_id: CHAIN_ID,
                    sender: address_of(&key(999)),
                    nonce: block.header.height,
                    gas_limit: 21_000,
                    gas_price: 1,
                    action: weft_types::tx::Action::Transfer { to: Address([9; 32]), amount: 1 },
                }
                .sign(&key(999));
                block.txs = BoundedVec::new(vec![poison]).unwrap();
                self.broadcast(i, &ConsensusMessage::Proposal { proposal, block });
            }
            Behavior::Replayer => {
                let node = &mut self.nodes[i];
                if node.heard.len() < 2_000 {
                    node.heard.push(bytes.to_vec());
                }
                // Each message once more soon after, and now and then one from long ago.
                let n = self.nodes.len();
                let again = bytes.to_vec();
                let old = self.rng.chance(100).then(|| {
                    let heard = &self.nodes[i].heard;
                    heard[self.rng.below(heard.len() as u64) as usize].clone()
                });
                for to in 0..n {
                    self.send(i, to, again.clone());
                    if let Some(old) = &old {
                        self.send(i, to, old.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn crash(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.crash_armed = false;
        if node.core.take().is_none() {
            return;
        }
        node.epoch += 1;
        // Only committed state survives.
        let genesis = genesis();
        let mut roots = BTreeMap::from([(genesis.hash(), genesis.header.state_root)]);
        for c in &node.chain {
            roots.insert(c.hash, c.block.header.state_root);
        }
        node.roots = roots;
    }

    fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        if node.core.is_some() {
            return;
        }
        let core = Core::restore(self.cfg.clone(), node.key.clone(), node.anchor(), node.disk.clone())
            .unwrap_or_else(|e| panic!("seed {}: node {i} cannot restore: {e}", self.scenario.seed));
        node.core = Some(core);
        node.restarts += 1;
        self.input(i, Input::Start);
    }

    /// Feeds one input to a node and carries out its effects in order.
    fn input(&mut self, i: usize, input: Input<usize>) {
        let Some(core) = self.nodes[i].core.as_mut() else { return };
        let effects = core.handle(input);
        let cut = if self.nodes[i].crash_armed {
            Some(self.rng.below(effects.len() as u64 + 1) as usize)
        } else {
            None
        };
        for (k, effect) in effects.into_iter().enumerate() {
            if cut == Some(k) {
                break;
            }
            self.effect(i, effect);
        }
        if cut.is_some() {
            self.crash(i);
        }
    }

    fn effect(&mut self, i: usize, effect: Effect<usize>) {
        let epoch = self.nodes[i].epoch;
        match effect {
            Effect::Persist(record) => self.nodes[i].disk.push(record),
            Effect::Broadcast(_) | Effect::SendTo(..) if self.nodes[i].behavior == Behavior::Withholder => {}
            Effect::Broadcast(message) => {
                self.record_sent(i, &message);
                if self.nodes[i].behavior == Behavior::Equivocator {
                    self.equivocate(i, message);
                } else {
                    self.broadcast(i, &message);
                }
            }
            Effect::SendTo(to, message) => {
                self.record_sent(i, &message);
                self.send(i, to, message.encode());
            }
            Effect::BuildBlock { view: _, height, parent } => {
                // An idle leader proposes `block_interval_ms` after its parent (the sim has no
                // transactions, so every block waits).
                let parent_time = self.times.get(&parent).copied().unwrap_or(0);
                let time = self.now.max(parent_time + self.scenario.block_interval_ms);
                let node = &self.nodes[i];
                let parent_root = *node.roots.get(&parent).expect("asked to build on a block without state");
                let mut block = make_block(&parent_root, parent, height, time, node.address);
                self.times.insert(block.hash(), time);
                if node.behavior == Behavior::BadStateRoot {
                    block.header.state_root = sha3_256_parts(&[b"wrong", &block.header.state_root.0]);
                } else {
                    self.nodes[i].roots.insert(block.hash(), block.header.state_root);
                }
                let late = if self.nodes[i].behavior == Behavior::LateProposer {
                    self.cfg.view_timeout_ms * 9 / 10
                } else {
                    0
                };
                let at = time + late + self.rng.range(1, 5);
                self.schedule(at, Event::Built { node: i, epoch, block });
            }
            Effect::ValidateBlock(block) => {
                let node = &mut self.nodes[i];
                let parent_root = *node
                    .roots
                    .get(&block.header.parent_hash)
                    .expect("asked to validate a block on an unknown parent");
                let valid = fake_root(&parent_root, &block.header) == block.header.state_root;
                if valid {
                    node.roots.insert(block.hash(), block.header.state_root);
                }
                let at = self.now + self.rng.range(1, 10);
                self.schedule(at, Event::Validated { node: i, epoch, hash: block.hash(), valid });
            }
            Effect::ScheduleTimeout { view, kind, after_ms } => {
                self.schedule(self.now + after_ms, Event::Timer { node: i, epoch, view, kind })
            }
            Effect::Finalized { block, view, certificate } => {
                self.commit(i, Committed { hash: block.hash(), block, view, cert: certificate })
            }
            Effect::Sync(cert) => {
                let at = self.now + self.rng.range(10, 100);
                self.schedule(at, Event::Sync { node: i, epoch, cert });
            }
            Effect::Evidence(e) => self.nodes[i].evidence.push(e),
            Effect::Penalize { peer, reason } => self.nodes[i].penalties.push((peer, reason)),
        }
    }

    /// Sends one invalid message from a peer outside the set (index `n`) to a random live node:
    /// garbage, a vote by a non-validator, a validator's vote with a broken signature, or a
    /// validator's vote for a view far beyond the window.
    fn junk(&mut self) {
        let n = self.nodes.len();
        let to = self.rng.below(n as u64) as usize;
        let Some(core) = self.nodes[to].core.as_ref() else { return };
        if self.nodes[to].crash_armed {
            return;
        }
        let view = core.view();
        let far = view + self.cfg.future_views + 1;
        let signer = &self.nodes[self.rng.below(n as u64) as usize].key;
        let (bytes, reason) = match self.rng.below(4) {
            0 => {
                let mut bytes = vec![0xff];
                bytes.extend((0..self.rng.below(100)).map(|_| self.rng.next() as u8));
                (bytes, Penalty::Malformed)
            }
            1 => (
                ConsensusMessage::Vote(Vote::Nullify(view).sign(CHAIN_ID, &key(1_000))).encode(),
                Penalty::NotValidator,
            ),
            2 => {
                let mut vote = Vote::Nullify(view).sign(CHAIN_ID, signer);
                vote.signature.0[self.rng.below(64) as usize] ^= 1 << self.rng.below(8);
                (ConsensusMessage::Vote(vote).encode(), Penalty::BadSignature)
            }
            _ => (
                ConsensusMessage::Vote(Vote::Nullify(far).sign(CHAIN_ID, signer)).encode(),
                Penalty::FarFuture,
            ),
        };
        self.nodes[to].junk_expected.push(reason);
        self.input(to, Input::Bytes { from: n, bytes });
    }

    /// Checks that an honest validator never sends two conflicting signed messages.
    fn record_sent(&mut self, i: usize, message: &ConsensusMessage) {
        if !self.honest(i) {
            return;
        }
        let me = self.nodes[i].address;
        match message {
            ConsensusMessage::Vote(v) if v.signer == me => {
                if matches!(v.vote, Vote::Nullify(_)) {
                    self.nullifies += 1;
                }
                let sent = self.sent_votes.entry((me, v.vote.view())).or_default();
                let conflict = sent.iter().find(|earlier| earlier.vote.conflicts_with(&v.vote)).copied();
                if !sent.contains(v) {
                    sent.push(*v);
                }
                if let Some(earlier) = conflict {
                    self.violate(format!(
                        "honest node {i} signed conflicting votes {:?} and {:?}",
                        earlier.vote, v.vote
                    ));
                }
            }
            ConsensusMessage::Proposal { proposal, .. } if proposal.signer == me => {
                let earlier = *self.sent_proposals.entry((me, proposal.proposal.view)).or_insert(*proposal);
                if earlier != *proposal {
                    self.violate(format!(
                        "honest node {i} proposed twice in view {}",
                        proposal.proposal.view
                    ));
                }
            }
            _ => {}
        }
    }

    /// Records a safety violation; the run stops at the next event.
    fn violate(&mut self, what: String) {
        self.violations.push(format!("seed {}: {what}", self.scenario.seed));
    }

    /// The byzantine sender: every vote and proposal goes out in two conflicting versions, one to
    /// each half of the peers; a Nullify is sent with a Finalize of the same view.
    fn equivocate(&mut self, i: usize, message: ConsensusMessage) {
        let key = self.nodes[i].key.clone();
        let n = self.nodes.len();
        let twin = match &message {
            ConsensusMessage::Vote(SignedVote { vote: Vote::Notarize(b) | Vote::Finalize(b), .. }) => {
                // Back the twin block it proposed in this view, if any, else a made-up one.
                let other = self.nodes[i]
                    .twins
                    .get(&b.view)
                    .copied()
                    .unwrap_or(BlockRef { hash: sha3_256_parts(&[b"twin", &b.hash.0]), ..*b });
                let twin = match message {
                    ConsensusMessage::Vote(SignedVote { vote: Vote::Notarize(_), .. }) => {
                        Vote::Notarize(other)
                    }
                    _ => Vote::Finalize(other),
                };
                Some(ConsensusMessage::Vote(twin.sign(CHAIN_ID, &key)))
            }
            ConsensusMessage::Vote(SignedVote { vote: Vote::Nullify(view), .. }) => {
                let core = self.nodes[i].core.as_ref().expect("running");
                let f = core.finalized();
                let b = BlockRef {
                    view: *view,
                    height: f.height + 1,
                    hash: sha3_256_parts(&[b"ghost", &view.to_le_bytes()]),
                };
                // Sent to everyone, after the Nullify: the pair is evidence.
                self.broadcast(i, &message);
                self.broadcast(i, &ConsensusMessage::Vote(Vote::Finalize(b).sign(CHAIN_ID, &key)));
                return;
            }
            ConsensusMessage::Proposal { proposal, block } => {
                let parent_root =
                    self.nodes[i].roots.get(&block.header.parent_hash).copied().unwrap_or_default();
                let other = make_block(
                    &parent_root,
                    block.header.parent_hash,
                    block.header.height,
                    block.header.timestamp_ms + 1,
                    block.header.proposer,
                );
                let p = Proposal { block_hash: other.hash(), ..proposal.proposal };
                self.nodes[i].twins.insert(p.view, p.block_ref());
                Some(ConsensusMessage::Proposal { proposal: p.sign(CHAIN_ID, &key), block: Box::new(other) })
            }
            _ => None,
        };
        match twin {
            None => self.broadcast(i, &message),
            Some(twin) => {
                let (a, b) = (message.encode(), twin.encode());
                for to in 0..n {
                    let bytes = if to % 2 == 0 { a.clone() } else { b.clone() };
                    self.send(i, to, bytes);
                }
            }
        }
    }

    /// Commits a finalized block to node `i`'s chain, checking the safety rules: in height order,
    /// on its own tip, and no honest node ever finalizes another block at a height.
    fn commit(&mut self, i: usize, c: Committed) {
        let node = &mut self.nodes[i];
        let height = c.block.header.height;
        let hash = c.hash;
        if height <= node.height() {
            // Already committed through sync: it must be the same block.
            let have = node.chain[height as usize - 1].hash;
            if have != hash {
                self.violate(format!("SAFETY: node {i} finalized two blocks at height {height}"));
            }
            return;
        }
        let (tip, tip_height) = node.tip();
        if height != tip_height + 1 || c.block.header.parent_hash != tip {
            self.violate(format!(
                "SAFETY: node {i} finalized block {height} off its chain (tip {tip_height})"
            ));
            return;
        }
        if c.cert.block().height < height {
            self.violate(format!("node {i}: the certificate of block {height} is below it"));
        }
        let node = &mut self.nodes[i];
        node.roots.insert(hash, c.block.header.state_root);
        let honest = node.behavior == Behavior::Honest;
        if honest && let Some(proposed) = self.times.get(&hash) {
            self.finality_ms.push(self.now.saturating_sub(*proposed));
        }
        node.chain.push(c);
        if honest {
            let known = *self.finalized.entry(height).or_insert(hash);
            if known != hash {
                self.violate(format!("SAFETY: two blocks finalized at height {height}"));
            }
        }
    }

    /// Block sync: copies the committed blocks up to `cert` from a node that has them.
    fn sync(&mut self, i: usize, cert: FinalityCertificate) {
        let target = cert.block();
        if self.nodes[i].core.is_none() || self.nodes[i].height() >= target.height {
            return;
        }
        let source = (0..self.nodes.len()).find(|&j| {
            j != i
                && self.honest(j)
                && self.nodes[j].chain.get(target.height as usize - 1).is_some_and(|c| c.hash == target.hash)
        });
        let Some(j) = source else { return };
        let from = self.nodes[i].height() as usize;
        let blocks: Vec<Committed> = self.nodes[j].chain[from..target.height as usize].to_vec();
        for c in blocks {
            self.commit(i, c);
        }
        self.input(i, Input::Synced(cert));
    }

    fn max_height(&self) -> u64 {
        self.nodes.iter().map(Node::height).max().unwrap_or(0)
    }

    fn min_honest_height(&self) -> u64 {
        (0..self.nodes.len()).filter(|&i| self.honest(i)).map(|i| self.nodes[i].height()).min().unwrap_or(0)
    }

    /// The end-of-run checks of every committed chain and certificate, recorded as violations.
    fn check(&mut self) {
        let set = self.cfg.validators.clone();
        for i in 0..self.nodes.len() {
            let chain = self.nodes[i].chain.clone();
            let mut parent = genesis_hash();
            for (k, c) in chain.iter().enumerate() {
                let height = k as u64 + 1;
                if c.block.header.height != height
                    || c.block.header.parent_hash != parent
                    || c.block.hash() != c.hash
                {
                    self.violate(format!("node {i}: the chain is broken at height {height}"));
                }
                parent = c.hash;
                let id = sha3_256_parts(&[&c.cert.encode()]);
                if self.verified_certs.insert(id) {
                    match c.cert.verify(CHAIN_ID, &set) {
                        Ok(power) if power * 3 > set.total_power() * 2 => {}
                        Ok(power) => {
                            self.violate(format!("node {i} height {height}: certificate of power {power}"))
                        }
                        Err(e) => self.violate(format!("node {i} height {height}: invalid certificate: {e}")),
                    }
                }
                // The certificate names this block or a descendant committed after it.
                let t = c.cert.block();
                if let Some(target) = chain.get(t.height as usize - 1)
                    && (target.hash != t.hash || target.view != t.view)
                {
                    self.violate(format!("node {i} height {height}: the certificate is off the chain"));
                }
            }
            let junk = self.nodes.len();
            let from_junk: Vec<Penalty> =
                self.nodes[i].penalties.iter().filter(|(p, _)| *p == junk).map(|(_, r)| *r).collect();
            if from_junk != self.nodes[i].junk_expected {
                self.violate(format!(
                    "node {i}: penalties for junk {from_junk:?}, expected {:?}",
                    self.nodes[i].junk_expected
                ));
            }
            for e in self.nodes[i].evidence.clone() {
                let offender = e.verify(CHAIN_ID, &set).ok();
                let j = self.nodes.iter().position(|n| Some(n.address) == offender);
                if j.is_none_or(|j| self.honest(j)) {
                    self.violate(format!("node {i}: evidence against honest node {j:?}: {e:?}"));
                }
            }
        }
    }

    /// [`Sim::check`], failing on any violation with the seed and how to run it alone.
    fn checked(&mut self) {
        self.check();
        if !self.violations.is_empty() {
            let seed = self.scenario.seed;
            let test = std::thread::current().name().unwrap_or("consensus::").to_owned();
            panic!(
                "FAILING SEED {seed}:\n{}\nreproduce with: WEFT_SIM_SEED={seed} cargo test -p weft-node --test it {test} -- --exact",
                self.violations.join("\n")
            );
        }
    }

    /// A digest of every committed chain, to compare runs.
    fn fingerprint(&self) -> Hash {
        let mut parts: Vec<Vec<u8>> = vec![(self.steps as u64).to_le_bytes().to_vec()];
        for n in &self.nodes {
            parts.push(n.tip().0.0.to_vec());
            parts.push(n.height().to_le_bytes().to_vec());
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        sha3_256_parts(&refs)
    }
}

/// The seeds of a sweep: `count` seeds from `first` (`WEFT_CONSENSUS_SEEDS=<n>` for a longer
/// soak), or only `WEFT_SIM_SEED` when set, to reproduce a failure from its seed alone.
/// Seeds of the broken-lock self-test per configuration, their simulated time, and how many of
/// them must be caught (measured: 12 of 40 with 4 validators, 3 of 40 with 7).
const BROKEN_LOCK_SEEDS: u64 = 40;
const BROKEN_LOCK_MS: u64 = 30_000;
const MIN_BROKEN_LOCK_CAUGHT: usize = 2;

/// A scenario of the safety sweeps: [`Scenario::random`], and with 7 validators, for a third of
/// the seeds, a second equivocator (up to f = 2 byzantine).
fn sweep_scenario(n: usize, seed: u64) -> Scenario {
    let mut s = Scenario::random(n, seed);
    if n >= 7 && seed.is_multiple_of(3) {
        let idx = s.behaviors.iter().position(|b| *b == Behavior::Honest).unwrap();
        s.behaviors[idx] = Behavior::Equivocator;
    }
    s
}

/// Simulated time of each sweep run: `WEFT_SIM_MS`, 8 s by default. A soak sets more, and more
/// seeds: `WEFT_SIM_MS=60000 WEFT_CONSENSUS_SEEDS=2000 cargo test --release -p weft-node --test
/// it consensus::safety_sweep`.
fn sweep_ms() -> u64 {
    std::env::var("WEFT_SIM_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(8_000)
}

fn seeds(first: u64, count: u64) -> Vec<u64> {
    let env = |name: &str| std::env::var(name).ok().and_then(|s| s.parse::<u64>().ok());
    match env("WEFT_SIM_SEED") {
        Some(seed) => vec![seed],
        None => (first..first + env("WEFT_CONSENSUS_SEEDS").unwrap_or(count)).collect(),
    }
}

/// Runs a scenario and fails on any violation, printing the seed and how to run it alone.
fn run(scenario: Scenario) -> Sim {
    let mut sim = Sim::new(scenario);
    sim.run();
    sim.checked();
    sim
}

// ---- Simulation tests ----

#[test]
fn four_validators_finalize_on_a_good_network() {
    let mut s = Scenario::new(4, 1);
    s.until_ms = 5_000;
    let sim = run(s);
    eprintln!(
        "good network, 4 validators, 5 s: heights {:?}, views {:?}",
        sim.nodes.iter().map(Node::height).collect::<Vec<_>>(),
        sim.nodes.iter().map(|n| n.core.as_ref().unwrap().view()).collect::<Vec<_>>()
    );
    // About two message delays (32 ms on average) per block: a block every ~70 ms.
    assert!(
        sim.min_honest_height() >= 50,
        "heights {:?}",
        sim.nodes.iter().map(Node::height).collect::<Vec<_>>()
    );
    // Nothing was penalized and nobody equivocated.
    for n in &sim.nodes {
        assert!(n.penalties.is_empty(), "{:?}", n.penalties);
        assert!(n.evidence.is_empty());
    }
}

#[test]
fn idle_leaders_wait_the_block_interval_without_timing_views_out() {
    // Leaders wait 1 s after their parent before proposing (more than the 400 ms view timeout):
    // the view deadline includes the wait, so no honest validator ever nullifies a view, and
    // blocks come about once a second of simulated time.
    let mut s = Scenario::new(4, 5);
    s.block_interval_ms = 1_000;
    s.until_ms = 10_000;
    let sim = run(s);
    let heights: Vec<u64> = sim.nodes.iter().map(Node::height).collect();
    assert_eq!(sim.nullifies, 0, "a view timed out while its leader waited; heights {heights:?}");
    assert!(heights.iter().all(|h| (7..=10).contains(h)), "one block per interval: {heights:?}");
    for n in &sim.nodes {
        for pair in n.chain.windows(2) {
            let (a, b) = (pair[0].block.header.timestamp_ms, pair[1].block.header.timestamp_ms);
            assert!(b >= a + 1_000, "blocks {a} and {b} closer than the interval");
        }
    }
}

#[test]
fn checker_catches_a_broken_lock_rule() {
    // Self-test of the checker: with the lock rule off (`BrokenRule::NoLock`: leaders build on
    // the finalized block, validators vote whatever lies between a proposal and its parent),
    // honest nodes finalize conflicting blocks, and the checker reports it for a minimum share
    // of the seeds in every configuration the sweeps run (4 and 7 validators).
    let broken = |n: usize, seed: u64| {
        let mut s = sweep_scenario(n, seed);
        s.broken = Some(BrokenRule::NoLock);
        // A broken lock forks only under rare timing: runs long enough to meet it.
        s.until_ms = BROKEN_LOCK_MS;
        s
    };
    let mut first = None;
    for n in [4, 7] {
        let mut caught = 0;
        for seed in 3_000..3_000 + BROKEN_LOCK_SEEDS {
            let mut sim = Sim::new(broken(n, seed));
            sim.run();
            sim.check();
            if sim.violations.iter().any(|v| v.contains("SAFETY")) {
                caught += 1;
                first.get_or_insert((n, seed, sim.violations.clone()));
            }
        }
        eprintln!("broken lock rule, {n} validators: {caught} of {BROKEN_LOCK_SEEDS} seeds caught");
        assert!(
            caught >= MIN_BROKEN_LOCK_CAUGHT,
            "{n} validators: the checker caught a broken lock rule in {caught} of {BROKEN_LOCK_SEEDS} seeds"
        );
    }
    let Some((n, seed, violations)) = first else { unreachable!("asserted above") };
    // A failure names its seed and how to run it alone, and the seed alone reproduces it.
    let failure = std::panic::catch_unwind(|| run(broken(n, seed))).err().expect("the run must fail");
    let message = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains(&format!("FAILING SEED {seed}")), "{message}");
    assert!(message.contains(&format!("WEFT_SIM_SEED={seed} cargo test")), "{message}");
    let mut again = Sim::new(broken(n, seed));
    again.run();
    again.check();
    assert_eq!(again.violations, violations, "seed {seed} did not reproduce");
    // The same seeds with the rule kept are safe.
    for seed in 0..20 {
        run(Scenario::random(4, 3_000 + seed));
    }
}

#[test]
fn weighted_power_one_heavy_validator_cannot_finalize_alone() {
    // Powers 5,1,1,1: the quorum is 6 of 8. The heavy validator alone (5) finalizes nothing;
    // with one small validator back (5 + 1) blocks are finalized, by two validators of four.
    let mut s = Scenario::new(4, 2);
    s.powers = vec![5, 1, 1, 1];
    s.until_ms = 6_000;
    s.crashes = vec![
        Crash { node: 1, at_ms: 0, down_ms: 3_000, mid_effects: false },
        Crash { node: 2, at_ms: 0, down_ms: 100_000, mid_effects: false },
        Crash { node: 3, at_ms: 0, down_ms: 100_000, mid_effects: false },
    ];
    let mut sim = Sim::new(s);
    sim.run_until(2_900);
    assert_eq!(sim.max_height(), 0, "finalized without a quorum of power");
    sim.run();
    sim.checked();
    assert!(sim.nodes[0].height() >= 3, "no progress with a quorum of power: {}", sim.nodes[0].height());
}

#[test]
fn safety_sweep_4_validators_200_seeds() {
    let started = std::time::Instant::now();
    let mut junk = 0;
    let mut steps = 0;
    let mut heights = 0;
    let list = seeds(0, 200);
    let count = list.len();
    for seed in list {
        let sim = run(sweep_scenario(4, seed));
        junk += sim.nodes.iter().map(|n| n.junk_expected.len()).sum::<usize>();
        steps += sim.steps;
        heights += sim.max_height();
    }
    eprintln!(
        "4 validators: {count} seeds, {steps} steps, {heights} blocks finalized in total, {junk} invalid \
         messages penalized, {:?}",
        started.elapsed()
    );
    assert!(heights > count as u64, "almost nothing was finalized: {heights}");
}

#[test]
fn safety_sweep_7_validators_100_seeds() {
    let started = std::time::Instant::now();
    let mut steps = 0;
    let mut heights = 0;
    let list = seeds(1_000, 100);
    let count = list.len();
    for seed in list {
        let sim = run(sweep_scenario(7, seed));
        steps += sim.steps;
        heights += sim.max_height();
    }
    eprintln!(
        "7 validators: {count} seeds, {steps} steps, {heights} blocks finalized in total, {:?}",
        started.elapsed()
    );
    assert!(heights > count as u64, "almost nothing was finalized: {heights}");
}

#[test]
fn simulation_is_deterministic() {
    for seed in [3, 17, 99] {
        let a = run(Scenario::random(4, seed)).fingerprint();
        let b = run(Scenario::random(4, seed)).fingerprint();
        assert_eq!(a, b, "seed {seed} ran differently twice");
    }
}

#[test]
fn liveness_after_a_partition_heals() {
    for (n, side, seed) in
        [(4, vec![0, 1], 10), (4, vec![3], 11), (7, vec![0, 1, 2], 12), (7, vec![5, 6], 13)]
    {
        let mut s = Scenario::new(n, seed);
        s.drop_permille = 50;
        s.delay_ms = (5, 80);
        s.partition = Some(Partition { start_ms: 1_000, end_ms: 9_000, side: side.into_iter().collect() });
        s.until_ms = 20_000;
        let mut sim = Sim::new(s);
        sim.run_until(9_000);
        let at_heal = sim.max_height();
        sim.run();
        sim.checked();
        let min = sim.min_honest_height();
        assert!(
            min >= at_heal + 5,
            "n={n} seed {seed}: after healing at height {at_heal}, the lowest honest node is at {min}"
        );
    }
}

#[test]
fn liveness_sweep_after_random_partitions() {
    // Random partitions (either side may hold a quorum or not), loss, delays, sometimes one
    // equivocator: once the network heals, every honest node keeps finalizing.
    for seed in seeds(2_000, 12) {
        let mut r = Rng::new(seed);
        let n = if seed % 2 == 0 { 4 } else { 7 };
        let mut s = Scenario::new(n, seed);
        s.drop_permille = r.below(100);
        let lo = r.range(1, 20);
        s.delay_ms = (lo, lo + r.range(10, 100));
        let start_ms = r.below(2_000);
        let end_ms = start_ms + r.range(500, 6_000);
        let side = (0..n).filter(|_| r.chance(500)).collect();
        s.partition = Some(Partition { start_ms, end_ms, side });
        if r.chance(300) {
            s.behaviors[r.below(n as u64) as usize] = Behavior::Equivocator;
        }
        s.until_ms = end_ms + 10_000;
        let mut sim = Sim::new(s);
        sim.run_until(end_ms);
        let at_heal = sim.max_height();
        sim.run();
        sim.checked();
        let min = sim.min_honest_height();
        assert!(min >= at_heal + 3, "seed {seed}: healed at height {at_heal}, lowest honest node at {min}");
    }
}

#[test]
fn equivocating_validator_is_caught_and_safety_holds() {
    for (n, byz, seed) in [(4, vec![2], 20), (4, vec![0], 21), (7, vec![1, 4], 22)] {
        let mut s = Scenario::new(n, seed);
        s.drop_permille = 20;
        s.until_ms = 15_000;
        for b in &byz {
            s.behaviors[*b] = Behavior::Equivocator;
        }
        let sim = run(s);
        let offenders: BTreeSet<Address> = sim
            .nodes
            .iter()
            .filter(|n| n.behavior == Behavior::Honest)
            .flat_map(|n| n.evidence.iter().map(Evidence::offender))
            .collect();
        for b in &byz {
            assert!(offenders.contains(&sim.nodes[*b].address), "seed {seed}: equivocator {b} not caught");
        }
        // The core keeps the evidence it reported.
        let kept = sim
            .nodes
            .iter()
            .filter(|n| n.behavior == Behavior::Honest)
            .map(|n| n.core.as_ref().unwrap().evidence().count())
            .sum::<usize>();
        assert!(kept > 0);
        assert!(sim.min_honest_height() >= 5, "seed {seed}: progress stalled at {}", sim.min_honest_height());
    }
}

#[test]
fn wrong_state_root_is_refused_by_honest_nodes() {
    let mut s = Scenario::new(4, 30);
    s.behaviors[1] = Behavior::BadStateRoot;
    s.until_ms = 15_000;
    let sim = run(s);
    let bad = sim.nodes[1].address;
    let led = (1..200).filter(|v| leader(&sim.cfg.validators, *v) == bad).count();
    assert!(led > 0);
    for n in &sim.nodes {
        assert!(
            n.chain.iter().all(|c| c.block.header.proposer != bad),
            "a block with a wrong state root was finalized"
        );
    }
    // No honest validator notarized one of its blocks.
    for ((signer, _), votes) in &sim.sent_votes {
        for v in votes {
            if let Vote::Notarize(b) = v.vote {
                assert!(
                    leader(&sim.cfg.validators, b.view) != bad || *signer == bad,
                    "honest vote for a bad block"
                );
            }
        }
    }
    assert!(sim.min_honest_height() >= 5, "progress stalled at {}", sim.min_honest_height());
}

#[test]
fn crashes_and_restarts_never_equivocate() {
    let started = std::time::Instant::now();
    let mut restarts = 0;
    let list = seeds(40, 50);
    let count = list.len() as u64;
    for seed in list {
        let mut s = Scenario::new(4, seed);
        let mut r = Rng::new(seed);
        s.drop_permille = r.below(100);
        s.until_ms = 8_000;
        for _ in 0..6 {
            s.crashes.push(Crash {
                node: r.below(4) as usize,
                at_ms: r.below(6_000),
                down_ms: r.range(1, 1_500),
                mid_effects: r.chance(700),
            });
        }
        let sim = run(s);
        restarts += sim.nodes.iter().map(|n| n.restarts).sum::<u32>();
    }
    eprintln!("crash/restart: {count} seeds, {restarts} restarts, {:?}", started.elapsed());
    assert!(restarts as u64 > count * 2);
}

#[test]
fn lagging_validator_syncs_past_the_window() {
    // Node 3 is cut off for long enough that the others move far beyond its window of views.
    let mut s = Scenario::new(4, 50);
    s.partition = Some(Partition { start_ms: 500, end_ms: 10_000, side: BTreeSet::from([3]) });
    s.until_ms = 16_000;
    let mut sim = Sim::new(s);
    sim.run_until(10_000);
    let lead = sim.max_height();
    let behind = sim.nodes[3].height();
    assert!(lead > behind + 16, "not far enough behind: {behind} vs {lead}");
    sim.run();
    sim.checked();
    assert!(sim.nodes[3].height() >= lead, "node 3 did not catch up: {} < {lead}", sim.nodes[3].height());
}

// ---- Direct tests of one core ----

struct One {
    keys: Vec<SigningKey>,
    cfg: Config,
    core: Core<SigningKey, usize>,
}

/// Validator 0 of four equal validators, started at genesis.
fn one() -> One {
    let keys: Vec<SigningKey> = (0..4).map(key).collect();
    let cfg = config(validator_set(&keys, &[1, 1, 1, 1]));
    let mut core = Core::new(cfg.clone(), keys[0].clone(), Anchor::genesis(genesis().hash())).unwrap();
    core.handle(Input::Start);
    One { keys, cfg, core }
}

fn penalties(effects: &[Effect<usize>]) -> Vec<Penalty> {
    effects
        .iter()
        .filter_map(|e| if let Effect::Penalize { reason, .. } = e { Some(*reason) } else { None })
        .collect()
}

fn vote_msg(vote: Vote, key: &SigningKey) -> Input<usize> {
    Input::Message { from: 9, message: ConsensusMessage::Vote(vote.sign(CHAIN_ID, key)) }
}

fn block_of(height: u64) -> BlockRef {
    BlockRef { view: 1, height, hash: Hash([height as u8; 32]) }
}

#[test]
fn a_body_that_is_not_its_headers_is_refused_and_the_real_one_still_taken() {
    use weft_types::{Transaction, tx::Action};
    let mut t = one();
    let v1 = t.core.view();
    let lead = leader(&t.cfg.validators, v1);
    let lead_i = t.keys.iter().position(|k| address_of(k) == lead).unwrap();
    let transfer = |amount| {
        let key = &t.keys[3];
        let tx = Transaction {
            chain_id: CHAIN_ID,
            sender: address_of(key),
            nonce: 0,
            gas_limit: 100_000,
            gas_price: 1,
            action: Action::Transfer { to: Address([5; 32]), amount },
        };
        tx.sign(key)
    };
    // The leader's block holds one transfer; a peer re-publishes its signed proposal with another
    // transfer under the same header (the block hash covers only the header).
    let g = genesis();
    let mut real = make_block(&g.header.state_root, g.hash(), 1, 5, lead);
    real.txs = BoundedVec::new(vec![transfer(1)]).unwrap();
    real.header.tx_root = weft_types::block::tx_root(&real.txs);
    let mut poisoned = real.clone();
    poisoned.txs = BoundedVec::new(vec![transfer(2)]).unwrap();
    assert_eq!(poisoned.hash(), real.hash());
    let proposal = Proposal { view: v1, parent_view: 0, height: 1, block_hash: real.hash() }
        .sign(CHAIN_ID, &t.keys[lead_i]);
    let message = |block: &Block| ConsensusMessage::Proposal { proposal, block: Box::new(block.clone()) };
    let validated = |effects: &[Effect<usize>]| {
        effects.iter().find_map(|e| if let Effect::ValidateBlock(b) = e { Some(b.clone()) } else { None })
    };

    let e = t.core.handle(Input::Message { from: 9, message: message(&poisoned) });
    assert_eq!(penalties(&e), vec![Penalty::Invalid], "the delivering peer is blamed");
    assert!(validated(&e).is_none(), "the poisoned body is neither kept nor validated");
    let e = t.core.handle(Input::Message { from: 8, message: message(&real) });
    assert!(penalties(&e).is_empty());
    assert_eq!(
        validated(&e).map(|b| b.txs.to_vec()),
        Some(real.txs.to_vec()),
        "the leader's body is validated"
    );
}

#[test]
fn heights_judged_against_this_nodes_window_blame_nobody() {
    // A node whose finalized block is height 2 of view 5 (three views were nullified).
    let keys: Vec<SigningKey> = (0..4).map(key).collect();
    let cfg = config(validator_set(&keys, &[1, 1, 1, 1]));
    let anchor = Anchor { block: BlockRef { view: 5, height: 2, hash: Hash([2; 32]) }, certificate: None };
    let mut core = Core::new(cfg, keys[0].clone(), anchor).unwrap();
    core.handle(Input::Start);
    let at = |height| Vote::Notarize(BlockRef { view: 6, height, hash: Hash([height as u8; 32]) });
    // A relay whose finalized block is older, or that is on its way to a height this node cannot
    // place yet, is honest: dropped, no blame.
    for height in [1, 2, 4, 6] {
        let e = core.handle(vote_msg(at(height), &keys[1]));
        assert_eq!(penalties(&e), vec![Penalty::OutOfWindow], "height {height}");
        assert!(!Penalty::OutOfWindow.blames());
    }
    // Structurally impossible anywhere: blamed.
    for height in [0, 7] {
        let e = core.handle(vote_msg(at(height), &keys[1]));
        assert_eq!(penalties(&e), vec![Penalty::Invalid], "height {height}");
        assert!(Penalty::Invalid.blames());
    }
    // In the window: counted.
    assert!(penalties(&core.handle(vote_msg(at(3), &keys[1]))).is_empty());
}

#[test]
fn invalid_messages_are_penalized_and_ignored() {
    let mut t = one();
    let view = t.core.view();
    let stranger = key(99);

    // Malformed bytes: garbage, truncated, trailing.
    let good = ConsensusMessage::Vote(Vote::Nullify(view).sign(CHAIN_ID, &t.keys[1])).encode();
    for bytes in [vec![0xff, 1, 2], good[..good.len() - 1].to_vec(), [good.clone(), vec![0]].concat(), vec![]]
    {
        let e = t.core.handle(Input::Bytes { from: 9, bytes });
        assert_eq!(penalties(&e), vec![Penalty::Malformed]);
    }

    // A vote from a non-validator.
    let e = t.core.handle(vote_msg(Vote::Nullify(view), &stranger));
    assert_eq!(penalties(&e), vec![Penalty::NotValidator]);

    // Bad signatures: three validators' nullify votes with a flipped bit would be a quorum.
    for k in 1..4 {
        let mut v = Vote::Nullify(view).sign(CHAIN_ID, &t.keys[k]);
        v.signature.0[10] ^= 1;
        let e = t.core.handle(Input::Message { from: 9, message: ConsensusMessage::Vote(v) });
        assert_eq!(penalties(&e), vec![Penalty::BadSignature]);
    }
    // Signed for another chain: the domain separation makes it a bad signature here.
    let other_chain = Vote::Nullify(view).sign(CHAIN_ID + 1, &t.keys[1]);
    let e = t.core.handle(Input::Message { from: 9, message: ConsensusMessage::Vote(other_chain) });
    assert_eq!(penalties(&e), vec![Penalty::BadSignature]);
    assert_eq!(t.core.view(), view, "invalid votes were counted");

    // Far-future views, impossible heights, view 0.
    let far = view + t.cfg.future_views + 1;
    let e = t.core.handle(vote_msg(Vote::Nullify(far), &t.keys[1]));
    assert_eq!(penalties(&e), vec![Penalty::FarFuture]);
    let e = t.core.handle(vote_msg(Vote::Notarize(block_of(2)), &t.keys[1]));
    assert_eq!(penalties(&e), vec![Penalty::Invalid], "height 2 in view 1 is impossible");
    let e = t.core.handle(vote_msg(Vote::Nullify(0), &t.keys[1]));
    assert_eq!(penalties(&e), vec![Penalty::Invalid]);

    // Proposals: from a validator that does not lead the view, and with a block not matching.
    let g = genesis();
    let v1 = t.core.view();
    let lead = leader(&t.cfg.validators, v1);
    let lead_i = t.keys.iter().position(|k| address_of(k) == lead).unwrap();
    let other_i = (lead_i + 1) % 4;
    let block = make_block(&g.header.state_root, g.hash(), 1, 5, address_of(&t.keys[other_i]));
    let p = Proposal { view: v1, parent_view: 0, height: 1, block_hash: block.hash() };
    let e = t.core.handle(Input::Message {
        from: 9,
        message: ConsensusMessage::Proposal {
            proposal: p.sign(CHAIN_ID, &t.keys[other_i]),
            block: Box::new(block),
        },
    });
    assert_eq!(penalties(&e), vec![Penalty::WrongLeader]);
    let block = make_block(&g.header.state_root, g.hash(), 1, 5, lead);
    let p = Proposal { view: v1, parent_view: 0, height: 1, block_hash: Hash([7; 32]) };
    let e = t.core.handle(Input::Message {
        from: 9,
        message: ConsensusMessage::Proposal {
            proposal: p.sign(CHAIN_ID, &t.keys[lead_i]),
            block: Box::new(block),
        },
    });
    assert_eq!(penalties(&e), vec![Penalty::Invalid]);

    // Certificates: too little power, a forged signature, a non-validator signer.
    let vote = Vote::Nullify(view);
    let sig = |k: &SigningKey| ValidatorSignature {
        validator: address_of(k),
        signature: vote.sign(CHAIN_ID, k).signature,
    };
    let two = Certificate::new(vote, [sig(&t.keys[1]), sig(&t.keys[2])]).unwrap();
    let mut forged = Certificate::new(vote, [sig(&t.keys[1]), sig(&t.keys[2]), sig(&t.keys[3])]).unwrap();
    let mut list = forged.signatures.clone().into_inner();
    list[0].signature.0[0] ^= 1;
    forged.signatures = BoundedVec::new(list).unwrap();
    let foreign = Certificate::new(vote, [sig(&t.keys[1]), sig(&t.keys[2]), sig(&stranger)]).unwrap();
    for cert in [two, forged, foreign] {
        let e = t.core.handle(Input::Message { from: 9, message: ConsensusMessage::Certificate(cert) });
        assert_eq!(penalties(&e), vec![Penalty::BadCertificate]);
    }
    assert_eq!(t.core.view(), view, "an invalid certificate moved the view");

    // The same votes, valid, are a nullification and move the core on.
    for k in 1..4 {
        let e = t.core.handle(vote_msg(Vote::Nullify(view), &t.keys[k]));
        assert!(penalties(&e).is_empty());
    }
    assert_eq!(t.core.view(), view + 1);
}

#[test]
fn requests_are_answered_within_limits() {
    let mut t = one();
    let view = t.core.view();
    for k in 1..4 {
        t.core.handle(vote_msg(Vote::Nullify(view), &t.keys[k]));
    }
    assert_eq!(t.core.view(), view + 1);
    let sent = |e: &[Effect<usize>]| {
        e.iter()
            .filter_map(|e| if let Effect::SendTo(7, m) = e { Some(m.clone()) } else { None })
            .collect::<Vec<_>>()
    };
    // The nullification of a view, to one peer at most `max_answers_per_peer` times per view.
    let request = || Input::Message { from: 7, message: ConsensusMessage::CertificateRequest(view) };
    for _ in 0..t.cfg.max_answers_per_peer {
        let answer = sent(&t.core.handle(request()));
        assert!(
            matches!(&answer[..], [ConsensusMessage::Certificate(c)] if c.vote == Vote::Nullify(view)),
            "{answer:?}"
        );
    }
    assert!(sent(&t.core.handle(request())).is_empty(), "answered past the per-peer limit");
    // Nothing is known of a future view, or of a block never seen (and nothing is final yet).
    let e =
        t.core.handle(Input::Message { from: 8, message: ConsensusMessage::CertificateRequest(view + 5) });
    assert!(e.is_empty());
    let e = t.core.handle(Input::Message { from: 8, message: ConsensusMessage::BlockRequest(Hash([1; 32])) });
    assert!(e.is_empty());
}

#[test]
fn conflicting_votes_are_evidence_and_kept() {
    let mut t = one();
    let a = BlockRef { view: 1, height: 1, hash: Hash([1; 32]) };
    let b = BlockRef { view: 1, height: 1, hash: Hash([2; 32]) };
    t.core.handle(vote_msg(Vote::Notarize(a), &t.keys[2]));
    let e = t.core.handle(vote_msg(Vote::Notarize(b), &t.keys[2]));
    let evidence: Vec<&Evidence> =
        e.iter().filter_map(|e| if let Effect::Evidence(x) = e { Some(x) } else { None }).collect();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].verify(CHAIN_ID, &t.cfg.validators), Ok(address_of(&t.keys[2])));
    // Reported once, kept.
    let e = t.core.handle(vote_msg(Vote::Notarize(b), &t.keys[2]));
    assert!(!e.iter().any(|e| matches!(e, Effect::Evidence(_))));
    assert_eq!(t.core.evidence().count(), 1);

    // Nullify then Finalize of the same view by one validator.
    t.core.handle(vote_msg(Vote::Nullify(1), &t.keys[3]));
    let e = t.core.handle(vote_msg(Vote::Finalize(a), &t.keys[3]));
    assert!(e.iter().any(|e| matches!(e, Effect::Evidence(Evidence::ConflictingVotes(..)))));
    assert_eq!(t.core.evidence().count(), 2);
    // A Notarize and a Nullify of one view are not a conflict (vote, then time out).
    let e = t.core.handle(vote_msg(Vote::Nullify(1), &t.keys[2]));
    assert!(!e.iter().any(|e| matches!(e, Effect::Evidence(_))));
}

#[test]
fn evidence_is_bounded_per_offender_and_new_offences_are_never_crowded_out() {
    let keys: Vec<SigningKey> = (0..4).map(key).collect();
    let mut cfg = config(validator_set(&keys, &[1, 1, 1, 1]));
    cfg.max_evidence_per_offender = 4;
    cfg.max_evidence = 6;
    let mut core = Core::new(cfg, keys[0].clone(), Anchor::genesis(genesis().hash())).unwrap();
    core.handle(Input::Start);
    // Nullify and Finalize of one view by one validator conflict.
    let mut equivocate = |who: &SigningKey, view: View| {
        core.handle(vote_msg(Vote::Nullify(view), who));
        let e = core.handle(vote_msg(Vote::Finalize(BlockRef { view, height: 1, hash: Hash([1; 32]) }), who));
        e.iter().filter(|e| matches!(e, Effect::Evidence(_))).count()
    };
    // One offender in eight views: four kept and reported.
    let reported: usize = (1..=8).map(|view| equivocate(&keys[1], view)).sum();
    assert_eq!(reported, 4);
    // Another offender later: every offence reported; the lowest views make room.
    let reported: usize = (9..=11).map(|view| equivocate(&keys[2], view)).sum();
    assert_eq!(reported, 3, "a second offender is not crowded out by the first");
    let kept: Vec<(Address, View)> = core.evidence().map(|e| (e.offender(), e.view())).collect();
    assert_eq!(kept.len(), 6);
    assert_eq!(kept.iter().filter(|(a, _)| *a == address_of(&keys[2])).count(), 3);
    assert_eq!(kept.iter().map(|(_, v)| *v).min(), Some(2), "the lowest view made room: {kept:?}");
}

/// Drives validator 0 until it has nullified its current view; returns that view.
fn nullify_current_view(core: &mut Core<SigningKey, usize>) -> (View, Vec<Effect<usize>>) {
    let view = core.view();
    let effects = core.handle(Input::TimeoutFired { view, kind: TimeoutKind::View });
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Broadcast(ConsensusMessage::Vote(SignedVote { vote: Vote::Nullify(_), .. }))
    )));
    (view, effects)
}

fn notarization(keys: &[SigningKey], b: BlockRef) -> Certificate {
    let vote = Vote::Notarize(b);
    Certificate::new(
        vote,
        keys[1..].iter().map(|k| ValidatorSignature {
            validator: address_of(k),
            signature: vote.sign(CHAIN_ID, k).signature,
        }),
    )
    .unwrap()
}

#[test]
fn persisted_votes_prevent_equivocation_after_restart() {
    let t = one();
    let mut core = t.core;
    let (view, effects) = nullify_current_view(&mut core);
    // Persist comes before the broadcast of the same vote.
    let persist = effects.iter().position(|e| matches!(e, Effect::Persist(_))).unwrap();
    let send =
        effects.iter().position(|e| matches!(e, Effect::Broadcast(ConsensusMessage::Vote(_)))).unwrap();
    assert!(persist < send);
    let records: Vec<PersistRecord> = effects
        .iter()
        .filter_map(|e| if let Effect::Persist(r) = e { Some(r.clone()) } else { None })
        .collect();
    // Records round-trip through their bounded encoding.
    for r in &records {
        assert_eq!(&PersistRecord::decode_bounded(&r.encode()).unwrap(), r);
    }
    let b = BlockRef { view, height: 1, hash: Hash([5; 32]) };
    let cert = ConsensusMessage::Certificate(notarization(&t.keys, b));
    let finalizes = |effects: &[Effect<usize>]| {
        effects.iter().any(|e| matches!(e, Effect::Broadcast(ConsensusMessage::Vote(SignedVote { vote: Vote::Finalize(_), signer, .. })) if *signer == address_of(&t.keys[0])))
    };

    // Restored from its records: it sees the notarization and does not sign Finalize.
    let mut restored =
        Core::restore(t.cfg.clone(), t.keys[0].clone(), Anchor::genesis(genesis().hash()), records).unwrap();
    restored.handle(Input::Start);
    assert_eq!(restored.view(), view);
    let e = restored.handle(Input::Message { from: 1, message: cert.clone() });
    assert!(!finalizes(&e), "restored validator signed Finalize after Nullify");
    assert_eq!(restored.view(), view + 1);

    // Without its records it would: the equivocation the records prevent.
    let mut amnesiac =
        Core::new(t.cfg.clone(), t.keys[0].clone(), Anchor::genesis(genesis().hash())).unwrap();
    amnesiac.handle(Input::Start);
    let e = amnesiac.handle(Input::Message { from: 1, message: cert });
    assert!(finalizes(&e));
}

#[test]
fn restore_refuses_foreign_and_conflicting_records() {
    let t = one();
    let g = Anchor::genesis(genesis().hash());
    let foreign = PersistRecord::Vote(Vote::Nullify(1).sign(CHAIN_ID, &t.keys[1]));
    assert!(Core::<_, usize>::restore(t.cfg.clone(), t.keys[0].clone(), g.clone(), [foreign]).is_err());
    let a = PersistRecord::Vote(Vote::Nullify(1).sign(CHAIN_ID, &t.keys[0]));
    let b = PersistRecord::Vote(Vote::Finalize(block_of(1)).sign(CHAIN_ID, &t.keys[0]));
    assert!(Core::<_, usize>::restore(t.cfg.clone(), t.keys[0].clone(), g.clone(), [a.clone(), b]).is_err());
    let wrong_chain = PersistRecord::Vote(Vote::Nullify(1).sign(CHAIN_ID + 1, &t.keys[0]));
    assert!(Core::<_, usize>::restore(t.cfg.clone(), t.keys[0].clone(), g.clone(), [wrong_chain]).is_err());
    // A certificate that does not verify is refused as an anchor.
    let vote = Vote::Finalize(block_of(1));
    let weak = Certificate::new(
        vote,
        [ValidatorSignature {
            validator: address_of(&t.keys[1]),
            signature: vote.sign(CHAIN_ID, &t.keys[1]).signature,
        }],
    )
    .unwrap();
    let anchor = Anchor { block: block_of(1), certificate: Some(FinalityCertificate::new(weak).unwrap()) };
    assert!(Core::<_, usize>::restore(t.cfg.clone(), t.keys[0].clone(), anchor, [a]).is_err());
}

#[test]
fn observer_follows_without_signing() {
    // A key outside the set never signs, but still finalizes what the validators finalize.
    let keys: Vec<SigningKey> = (0..4).map(key).collect();
    let cfg = config(validator_set(&keys, &[1, 1, 1, 1]));
    let mut core: Core<SigningKey, usize> =
        Core::new(cfg, key(50), Anchor::genesis(genesis().hash())).unwrap();
    assert!(!core.is_validator());
    let e = core.handle(Input::Start);
    let view = core.view();
    let e2 = core.handle(Input::TimeoutFired { view, kind: TimeoutKind::View });
    for e in e.iter().chain(&e2) {
        assert!(!matches!(e, Effect::Persist(_) | Effect::BuildBlock { .. }));
    }
}

fn certificate(keys: &[SigningKey], vote: Vote) -> Certificate {
    Certificate::new(
        vote,
        keys.iter().map(|k| ValidatorSignature {
            validator: address_of(k),
            signature: vote.sign(CHAIN_ID, k).signature,
        }),
    )
    .unwrap()
}

/// The leader's signed proposal of a block on genesis in the current view of `t`.
fn first_proposal(t: &One) -> (ConsensusMessage, Block) {
    let view = t.core.view();
    let lead = leader(&t.cfg.validators, view);
    let lead_key = t.keys.iter().find(|k| address_of(k) == lead).unwrap();
    let g = genesis();
    let block = make_block(&g.header.state_root, g.hash(), 1, 5, lead);
    let proposal =
        Proposal { view, parent_view: 0, height: 1, block_hash: block.hash() }.sign(CHAIN_ID, lead_key);
    (ConsensusMessage::Proposal { proposal, block: Box::new(block.clone()) }, block)
}

fn validations(effects: &[Effect<usize>]) -> usize {
    effects.iter().filter(|e| matches!(e, Effect::ValidateBlock(_))).count()
}

#[test]
fn only_news_is_worth_forwarding() {
    let mut t = one();
    let view = t.core.view();
    let vote = ConsensusMessage::Vote(Vote::Nullify(view).sign(CHAIN_ID, &t.keys[1]));
    assert_eq!(t.core.receive(9, vote.clone()).1, Fate::New);
    // The same vote again (a replay under a new gossip copy number): dropped, nobody blamed.
    let (effects, fate) = t.core.receive(8, vote);
    assert_eq!(fate, Fate::Useless);
    assert!(penalties(&effects).is_empty());

    let (proposal, _) = first_proposal(&t);
    assert_eq!(t.core.receive(9, proposal.clone()).1, Fate::New);
    assert_eq!(t.core.receive(9, proposal).1, Fate::Useless, "a known proposal is not news");

    let mut forged = Vote::Nullify(view).sign(CHAIN_ID, &t.keys[2]);
    forged.signature.0[0] ^= 1;
    assert_eq!(t.core.receive(9, ConsensusMessage::Vote(forged)).1, Fate::Refused(Penalty::BadSignature));

    // Once the view is settled, its messages are stale: not forwarded, not blamed.
    let nullification = certificate(&t.keys[1..], Vote::Nullify(view));
    assert_eq!(t.core.receive(9, ConsensusMessage::Certificate(nullification.clone())).1, Fate::New);
    assert_eq!(t.core.receive(9, ConsensusMessage::Certificate(nullification)).1, Fate::Useless);

    // A request is never forwarded, answered or not: a flood of requests for made-up views
    // stops at the first node, charged to its sender.
    let unknown = ConsensusMessage::CertificateRequest(view + 3);
    assert_eq!(t.core.receive(9, unknown).1, Fate::Useless);
    let answered = ConsensusMessage::CertificateRequest(view);
    let (effects, fate) = t.core.receive(9, answered);
    assert_eq!(fate, Fate::Useless);
    assert!(effects.iter().any(|e| matches!(e, Effect::SendTo(9, ConsensusMessage::Certificate(_)))));
}

#[test]
fn recovery_asks_again_while_views_keep_changing() {
    let mut t = one();
    let start = t.core.view();
    // A notarization of a block this node lacks: it asks for it once.
    let missing = BlockRef { view: start, height: 1, hash: Hash([7; 32]) };
    let e = t.core.handle(Input::Message {
        from: 9,
        message: ConsensusMessage::Certificate(notarization(&t.keys, missing)),
    });
    let requests = |e: &[Effect<usize>]| {
        e.iter()
            .filter(
                |e| matches!(e, Effect::Broadcast(ConsensusMessage::BlockRequest(h)) if *h == missing.hash),
            )
            .count()
    };
    assert_eq!(requests(&e), 1);
    // Views keep ending by nullification before any view's retry timer fires: without a timer of
    // its own, the request would never go out again.
    for _ in 0..3 {
        let view = t.core.view();
        t.core.handle(Input::Message {
            from: 9,
            message: ConsensusMessage::Certificate(certificate(&t.keys[1..], Vote::Nullify(view))),
        });
        assert_eq!(t.core.view(), view + 1);
    }
    let e = t.core.handle(Input::TimeoutFired { view: start, kind: TimeoutKind::Recovery });
    assert_eq!(requests(&e), 1, "the recovery timer asks again");
    assert!(
        e.iter().any(|e| matches!(e, Effect::ScheduleTimeout { kind: TimeoutKind::Recovery, .. })),
        "and runs again"
    );
}

#[test]
fn a_refusal_is_never_final_for_a_certified_block() {
    let mut t = one();
    let (proposal, block) = first_proposal(&t);
    let hash = block.hash();
    let view = t.core.view();
    let e = t.core.handle(Input::Message { from: 9, message: proposal });
    assert_eq!(validations(&e), 1);
    // This node refuses it (say, stamped ahead of its clock): it does not vote for it.
    t.core.handle(Input::BlockValidated { hash, valid: false });
    assert!(!t.core.is_certified(&hash));
    // A quorum notarizes it: it is judged again, as certified.
    let b = BlockRef { view, height: 1, hash };
    let e = t
        .core
        .handle(Input::Message { from: 9, message: ConsensusMessage::Certificate(notarization(&t.keys, b)) });
    assert_eq!(validations(&e), 1, "judged again once notarized");
    assert!(t.core.is_certified(&hash));
    t.core.handle(Input::BlockValidated { hash, valid: false });
    // A finalization outweighs this node's judgement: the block is handed over to commit (which
    // re-executes it and stops the node if it still fails).
    let e = t.core.handle(Input::Message {
        from: 9,
        message: ConsensusMessage::Certificate(certificate(&t.keys[1..], Vote::Finalize(b))),
    });
    assert_eq!(validations(&e), 1);
    let e = t.core.handle(Input::BlockValidated { hash, valid: false });
    assert!(e.iter().any(|e| matches!(e, Effect::Finalized { block, .. } if block.hash() == hash)));
}

#[test]
fn a_restart_never_signs_at_or_below_its_certificates_view() {
    // The head became final as an ancestor of a block certified in view 9; the view stored with
    // the head (2) is not authenticated (a syncing peer may have served any lower one).
    let t = one();
    let certified = BlockRef { view: 9, height: 3, hash: Hash([3; 32]) };
    let cert = FinalityCertificate::new(certificate(&t.keys[1..], Vote::Finalize(certified))).unwrap();
    let anchor =
        Anchor { block: BlockRef { view: 2, height: 1, hash: Hash([1; 32]) }, certificate: Some(cert) };
    let mut core: Core<SigningKey, usize> =
        Core::restore(t.cfg.clone(), t.keys[0].clone(), anchor, []).unwrap();
    core.handle(Input::Start);
    assert_eq!(core.view(), 10, "starts past the certified view");
    for view in 3..=10 {
        for e in core.handle(Input::TimeoutFired { view, kind: TimeoutKind::View }) {
            if let Effect::Persist(PersistRecord::Vote(v)) = e {
                assert!(v.vote.view() > 9, "signed {:?} at or below the certified view", v.vote);
            }
        }
    }
}

// ---- Scale ----

/// One size of the scale study: finality latency and per-node traffic.
struct ScaleRow {
    n: usize,
    blocks: u64,
    p50_ms: u64,
    p99_ms: u64,
    bytes_per_node_per_block: u64,
    messages_per_node_per_block: u64,
}

/// Runs `n` equal validators for `until_ms` on links of 50 ms round trip (25 ± 5 ms one way),
/// 1 % loss and a 100 Mbit/s uplink per node, with a block every 200 ms when idle.
fn scale_run(n: usize, until_ms: u64) -> ScaleRow {
    let mut s = Scenario::new(n, 7);
    s.delay_ms = (20, 30);
    s.drop_permille = 10;
    s.uplink_bytes_per_ms = Some(12_500);
    s.block_interval_ms = 200;
    s.until_ms = until_ms;
    let sim = run(s);
    let mut latency = sim.finality_ms.clone();
    latency.sort_unstable();
    let at = |q: usize| latency.get((latency.len().saturating_sub(1)) * q / 100).copied().unwrap_or(u64::MAX);
    let blocks = sim.min_honest_height().max(1);
    let per_node_block = |total: &[u64]| total.iter().sum::<u64>() / n as u64 / blocks;
    ScaleRow {
        n,
        blocks: sim.min_honest_height(),
        p50_ms: at(50),
        p99_ms: at(99),
        bytes_per_node_per_block: per_node_block(&sim.sent_bytes),
        messages_per_node_per_block: per_node_block(&sim.sent_messages),
    }
}

/// The scale study: 4 and 16 validators in every test run; with `WEFT_SCALE_STUDY=1` also 64
/// and 100 (minutes; run it `--release`), printing the table of docs/performance.md.
#[test]
fn scale_study() {
    let full = std::env::var("WEFT_SCALE_STUDY").is_ok_and(|v| v == "1");
    let sizes: &[(usize, u64)] = if full {
        &[(4, 10_000), (16, 10_000), (64, 6_000), (100, 5_000)]
    } else {
        &[(4, 4_000), (16, 3_000)]
    };
    let rows: Vec<ScaleRow> = sizes.iter().map(|&(n, until)| scale_run(n, until)).collect();
    eprintln!(
        "| validators | blocks | finality p50 | p99 | bytes sent per node per block | messages per node per block |"
    );
    for r in &rows {
        eprintln!(
            "| {} | {} | {} ms | {} ms | {} | {} |",
            r.n, r.blocks, r.p50_ms, r.p99_ms, r.bytes_per_node_per_block, r.messages_per_node_per_block
        );
    }
    for r in &rows {
        // Finality within about four round trips of 50 ms at low load.
        assert!(r.blocks >= 5, "{} validators finalized {} blocks", r.n, r.blocks);
        assert!(r.p50_ms <= 200, "{} validators: finality p50 {} ms", r.n, r.p50_ms);
    }
    // Per-node traffic grows no faster than linearly in the number of validators: what a node
    // sends per block, per other validator, stays within 1.5× of the smallest network's.
    let (small, large) = (&rows[0], &rows[rows.len() - 1]);
    let per_peer = |r: &ScaleRow| r.bytes_per_node_per_block as f64 / (r.n - 1) as f64;
    let growth = per_peer(large) / per_peer(small);
    assert!(
        growth <= 1.5,
        "bytes per node per block per peer grew {growth:.2}× from {} to {} validators",
        small.n,
        large.n
    );
}

#[test]
fn a_silent_leader_costs_its_views_only_a_short_timeout() {
    // One validator of four down for the whole run (crashed, or withholding everything): the
    // views it leads end in a nullification; once it was absent, each of its views waits only a
    // quarter of the view timeout, so the other three keep most of the rate.
    let until_ms = 10_000;
    let mut all = Scenario::new(4, 40);
    all.until_ms = until_ms;
    let healthy = run(all).min_honest_height();
    let mut s = Scenario::new(4, 40);
    s.until_ms = until_ms;
    s.crashes.push(Crash { node: 3, at_ms: 0, down_ms: until_ms * 2, mid_effects: false });
    let sim = run(s);
    let live = (0..3).map(|i| sim.nodes[i].height()).min().unwrap();
    eprintln!("4 validators: {healthy} blocks; one silent: {live}");
    assert!(live * 2 >= healthy, "one silent validator of four: {live} blocks against {healthy}");
}

#[test]
fn byzantine_behaviours_never_split_or_stall_the_others() {
    // One byzantine validator of four, of each kind: the others agree on every block, keep
    // finalizing, and blame nobody but the byzantine one; a tamperer is blamed. The rates (printed)
    // are in docs/reliability.md: a leader whose views fail while it still sends proposals (late,
    // invalid, equivocating) costs each of its views the whole deadline.
    let until_ms = 6_000;
    let scenario = |seed| {
        let mut s = Scenario::new(4, seed);
        s.drop_permille = 10;
        s.delay_ms = (5, 40);
        s.until_ms = until_ms;
        s
    };
    let healthy = run(scenario(50)).min_honest_height();
    for (k, behavior) in BYZANTINE.into_iter().enumerate() {
        let seed = 50 + k as u64;
        let mut s = scenario(seed);
        let byzantine = k % 4;
        s.behaviors[byzantine] = behavior;
        let sim = run(s);
        let height = sim.min_honest_height();
        eprintln!("{behavior:?}: the honest nodes finalized {height} blocks (all honest: {healthy})");
        assert!(height * 8 >= healthy, "{behavior:?}: {height} blocks against {healthy}");
        for (i, node) in sim.nodes.iter().enumerate().filter(|(i, _)| *i != byzantine) {
            for (peer, reason) in &node.penalties {
                assert!(
                    !reason.blames() || *peer == byzantine,
                    "{behavior:?}: node {i} blamed honest node {peer} ({reason:?})"
                );
            }
        }
        if behavior == Behavior::Tamperer {
            assert!(
                sim.nodes.iter().enumerate().any(|(i, n)| i != byzantine
                    && n.penalties.iter().any(|(p, r)| *p == byzantine && *r == Penalty::Invalid)),
                "the tamperer was never blamed"
            );
        }
    }
}
