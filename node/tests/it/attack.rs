//! Attacks on a real network (issue 19, "A validator network that one bad peer cannot stall"):
//! four `weft-node run` validators on loopback under a trickle of transfers, and an attacker
//! speaking the real protocols: the node's own libp2p network library (`weft_node::net`) for
//! gossip, a raw libp2p request-response swarm for the sync protocol. Each named attack runs for
//! a while against the same network, and is judged against the rate measured first without it:
//! honest nodes keep finalizing at least at half that rate, none bans another, all agree on
//! every block, and the attacker is banned where its fault is provable (a decoding failure, a
//! body that is not its header's, a garbage request, a validator's two conflicting votes kept
//! as evidence). Where it is not (valid messages replayed, connections), it must simply do no
//! harm.
//!
//! `cargo test -p weft-node --test it attack` runs every attack for [`DEFAULT_SECS`] seconds;
//! `WEFT_ATTACK_SECS=60 cargo test -p weft-node --test it attack -- --nocapture` runs each for
//! a minute and prints the table. Criteria listed in [`NOT_YET`] (none today) are measured and
//! printed, not asserted (`WEFT_ATTACK_STRICT=1` asserts them too).

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use jsonrpsee_http_client::HttpClient;
use libp2p::{
    request_response::{self, ProtocolSupport},
    swarm::SwarmEvent,
};
use parity_scale_codec::Encode;
use weft_node::{
    config::{NodeConfig, read_key},
    net::{
        Multiaddr, NetConfig, NetError, NetEvent, NetHandle, Network, PeerId, Topic, Verdict,
        generate_keypair,
    },
};
use weft_rpc_api::{BlockId, Bytes, ChainApiClient, NodeApiClient, StateApiClient, TxApiClient};
use weft_types::{
    Address, Hash, SignedTransaction, Transaction,
    codec::BoundedVec,
    consensus::{BlockRef, COPY_BYTES, ConsensusMessage, Vote, gossip_frame, gossip_message},
    dev::{dev_address, dev_key},
    tx::{Action, address_of},
};

use crate::raw::raw_swarm;

use crate::cluster::{Nodes, PATIENCE, Testnet, client, testnet, transfer, wait_for};

/// Seconds each attack (and the unattacked measurement) runs for under plain `cargo test`.
const DEFAULT_SECS: u64 = 3;
/// Attacker swarms per wave of the connection flood: fewer in the short run, whose 3 s windows
/// the test process's own CPU (starting swarms in a debug build, on the nodes' cores) would
/// otherwise dominate.
fn flood_wave(secs: Duration) -> usize {
    if secs < Duration::from_secs(10) { 20 } else { 40 }
}
/// Copies of each consensus message seen that the replay flood publishes.
const REPLAY_COPIES: u32 = 8;

/// A pass criterion of an attack.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Criterion {
    /// Honest nodes finalize at ≥ 50 % of the unattacked rate.
    Rate,
    /// The attacker is banned (or, for a validator, its equivocation kept as evidence).
    Penalized,
    /// No honest node banned another; all are still connected to each other.
    Peers,
}

/// Criteria that today's node does not meet yet, by attack: measured and printed, not asserted
/// (`WEFT_ATTACK_STRICT=1` asserts them anyway). Remove an entry once its fix lands.
const NOT_YET: &[(&str, Criterion)] = &[];

/// The attacks, in the order they run.
const ATTACKS: &[&str] = &[
    "body poisoning",
    "replay flood",
    "out-of-window heights",
    "garbage gossip",
    "garbage sync requests",
    "connection flood",
    "vote withholding",
    "equivocation",
];

fn attack_secs() -> Duration {
    let secs = std::env::var("WEFT_ATTACK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SECS);
    Duration::from_secs(secs.max(1))
}

fn strict() -> bool {
    std::env::var("WEFT_ATTACK_STRICT").is_ok_and(|v| v == "1")
}

/// A small deterministic generator (xorshift64*): garbage and fake hashes, reproducible from the
/// printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Between 1 and `max` random bytes.
    fn garbage(&mut self, max: usize) -> Vec<u8> {
        let len = 1 + self.below(max);
        self.bytes(len)
    }

    fn hash(&mut self) -> Hash {
        Hash(self.bytes(32).try_into().unwrap())
    }
}

/// The running network, its clients, and what the harness knows about it.
struct Cluster {
    net: Testnet,
    nodes: Nodes,
    clients: Vec<HttpClient>,
    /// The validators still honest (node 3 leaves for the byzantine-validator attacks).
    honest: Vec<usize>,
    /// Each node's log length when the current attack began.
    marks: Vec<usize>,
}

impl Cluster {
    fn bootnode(&self, i: usize) -> Multiaddr {
        let config = NodeConfig::load(&self.net.configs[i]).unwrap();
        format!("{}/p2p/{}", config.p2p.listen, self.net.peers[i]).parse().unwrap()
    }

    fn chain_id(&self) -> u64 {
        self.net.genesis.chain_id
    }

    async fn finalized(&self) -> Vec<u64> {
        let mut out = Vec::new();
        for &i in &self.honest {
            out.push(self.clients[i].chain_get_finalized().await.map(|b| b.height).unwrap_or(0));
        }
        out
    }

    /// Node `i`'s log, without its colour escapes.
    fn log(&self, i: usize) -> String {
        let log = std::fs::read_to_string(self.net.configs[i].parent().unwrap().join("stderr.log"))
            .unwrap_or_default();
        let mut out = String::with_capacity(log.len());
        let mut escape = false;
        for ch in log.chars() {
            match (escape, ch) {
                (false, '\x1b') => escape = true,
                (false, _) => out.push(ch),
                (true, 'm') => escape = false,
                (true, _) => {}
            }
        }
        out
    }

    /// Where each node's log ends now: bans are looked for after these marks.
    fn mark_logs(&mut self) {
        self.marks = (0..4).map(|i| self.log(i).len()).collect();
    }

    /// The "banning peer" lines the honest nodes logged since [`Cluster::mark_logs`], by node.
    fn bans(&self) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for &i in &self.honest {
            let log = self.log(i);
            let recent = log.get(self.marks[i].min(log.len())..).unwrap_or_default();
            out.extend(recent.lines().filter(|l| l.contains("banning peer")).map(|l| (i, l.to_string())));
        }
        out
    }

    fn banned(&self, peer: &PeerId) -> bool {
        let id = peer.to_string();
        self.bans().iter().any(|(_, l)| l.contains(&id))
    }

    /// Honest nodes banned by another since the mark: (who banned, the log line).
    fn honest_banned(&self) -> Vec<(usize, String)> {
        let ids: Vec<&String> = self.honest.iter().map(|&i| &self.net.peers[i]).collect();
        self.bans().into_iter().filter(|(_, l)| ids.iter().any(|id| l.contains(id.as_str()))).collect()
    }

    /// After an attack that left an honest node banned or cut off: restarts every honest node at
    /// once (bans and gossip scores live in memory; restarting only the sick ones gets them
    /// banned again by the others, for grafting within the prune backoff their peers still
    /// remember) and waits until they finalize again, all linked, so that the next attack starts
    /// from a whole network. Returns the nodes restarted.
    async fn heal(&mut self, banned: &[(usize, String)], missing: &[(usize, usize)]) -> Vec<usize> {
        if banned.is_empty() && missing.is_empty() {
            return Vec::new();
        }
        for &i in &self.honest {
            self.nodes.kill(i);
        }
        for &i in &self.honest {
            self.nodes.spawn(i);
        }
        for &i in &self.honest {
            let c = &self.clients[i];
            wait_for(&format!("node{i}'s RPC"), &self.nodes, PATIENCE, || async { c.node_info().await.ok() })
                .await;
        }
        let target = self.finalized().await.into_iter().max().unwrap_or(0);
        wait_for("the restarted nodes to finalize", &self.nodes, PATIENCE, || async {
            let f = self.finalized().await;
            (f.iter().all(|&h| h > target + 2)).then_some(())
        })
        .await;
        let still = self.missing_links().await;
        assert!(still.is_empty(), "after restarting every honest node, links still missing: {still:?}");
        self.honest.clone()
    }

    /// The honest pairs not connected to each other (by `node_peers`), after waiting a little
    /// for a redial in flight.
    async fn missing_links(&self) -> Vec<(usize, usize)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut missing = Vec::new();
            for &i in &self.honest {
                let peers = self.clients[i].node_peers().await.unwrap_or_default();
                let ids: HashSet<String> = peers.into_iter().map(|p| p.peer_id).collect();
                for &j in &self.honest {
                    if i != j && !ids.contains(&self.net.peers[j]) {
                        missing.push((i, j));
                    }
                }
            }
            if missing.is_empty() || Instant::now() > deadline {
                return missing;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Whether every honest node holds the same block at each height of `heights`.
    async fn agreement(&self, heights: std::ops::RangeInclusive<u64>) -> Result<(), String> {
        for height in heights {
            let mut hashes = Vec::new();
            for &i in &self.honest {
                let block = self.clients[i]
                    .chain_get_block(BlockId::Height(height), None)
                    .await
                    .map_err(|e| format!("node{i} at {height}: {e}"))?
                    .ok_or_else(|| format!("node{i} lacks block {height}"))?;
                hashes.push(block.header.hash);
            }
            if !hashes.windows(2).all(|w| w[0] == w[1]) {
                return Err(format!("FORK at height {height}: {hashes:?}"));
            }
        }
        Ok(())
    }
}

/// A peer of the testnet built with the node's own network library: fresh p2p identity,
/// dialling the given validators, never redialling one that dropped it (so a ban shows), no
/// discovery.
async fn start_peer(cluster: &Cluster, targets: &[usize]) -> Network {
    let mut config = NetConfig::new(generate_keypair(), cluster.chain_id());
    config.listen_addrs = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    config.bootnodes = targets.iter().map(|&i| cluster.bootnode(i)).collect();
    config.discovery = false;
    config.redial_initial = Duration::from_secs(3600);
    config.redial_max = Duration::from_secs(3600);
    config.topic_limits.blocks += COPY_BYTES;
    config.topic_limits.consensus += COPY_BYTES;
    Network::start(config).await.unwrap()
}

/// Waits (at most 15 s) until `handle` sees `count` peers on the consensus topic.
async fn wait_subscribed(handle: &NetHandle, count: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if handle.topic_peers(Topic::Consensus).await.len() >= count
            && handle.topic_peers(Topic::Blocks).await.len() >= count
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What an attacker sent.
#[derive(Default, Debug)]
struct Sent {
    published: u64,
    refused: u64,
}

/// What the attack logic is told: a gossip message it received, or a timer tick.
enum Seen<'a> {
    Gossip(Topic, &'a [u8]),
    Tick,
}

/// Runs an attacker until `deadline`: every gossip message it receives is reported `Ignore` (it
/// forwards nothing honest) and shown to `attack`, as is a tick every `tick`; what `attack`
/// queues is published.
async fn drive(
    network: &mut Network,
    deadline: Instant,
    tick: Duration,
    mut attack: impl FnMut(Seen<'_>, &mut Vec<(Topic, Vec<u8>)>),
) -> Sent {
    let mut sent = Sent::default();
    let mut ticks = tokio::time::interval(tick);
    let mut queue = Vec::new();
    let end = tokio::time::sleep_until(deadline.into());
    tokio::pin!(end);
    loop {
        tokio::select! {
            _ = &mut end => return sent,
            event = network.events.recv() => match event {
                Some(NetEvent::Gossip { topic, data, id, source }) => {
                    let _ = network.handle.report(id, source, Verdict::Ignore).await;
                    attack(Seen::Gossip(topic, &data), &mut queue);
                }
                Some(_) => {}
                None => return sent,
            },
            _ = ticks.tick() => attack(Seen::Tick, &mut queue),
        }
        for (topic, data) in queue.drain(..) {
            match network.handle.publish(topic, data).await {
                Ok(_) => sent.published += 1,
                Err(NetError::Stopped) => return sent,
                Err(_) => sent.refused += 1,
            }
        }
    }
}

/// The decoded consensus message of a gossip frame.
fn decode(data: &[u8]) -> Option<ConsensusMessage> {
    ConsensusMessage::decode_bounded(gossip_message(data)?).ok()
}

/// The gossip topic a consensus message travels on.
fn topic_of(message: &ConsensusMessage) -> Topic {
    match message {
        ConsensusMessage::Proposal { .. } => Topic::Blocks,
        _ => Topic::Consensus,
    }
}

/// A signed transfer from the dev account `name`.
fn signed(name: &str, nonce: u64, chain_id: u64) -> SignedTransaction {
    let key = dev_key(name);
    let action = Action::Transfer { to: dev_address("bob"), amount: 1 };
    Transaction { chain_id, sender: address_of(&key), nonce, gas_limit: 1_000_000, gas_price: 1, action }
        .sign(&key)
}

/// Attack 1: every proposal seen is published again with another body under the same signed
/// header: its transactions replaced, one added, or all removed.
async fn body_poisoning(cluster: &Cluster, network: &mut Network, deadline: Instant, rng: &mut Rng) -> Sent {
    let chain_id = cluster.chain_id();
    let mut nonce = 1_000;
    drive(network, deadline, Duration::from_secs(1), |seen, out| {
        let Seen::Gossip(Topic::Blocks, data) = seen else { return };
        let Some(ConsensusMessage::Proposal { proposal, block }) = decode(data) else { return };
        nonce += 1;
        let extra = signed("mallory", nonce, chain_id);
        let mut variants = Vec::new();
        let mut replaced = block.clone();
        replaced.txs = BoundedVec::new(vec![extra.clone()]).unwrap();
        variants.push(replaced);
        let mut added = block.clone();
        let mut txs = added.txs.clone().into_inner();
        txs.push(extra);
        added.txs = BoundedVec::new(txs).unwrap();
        variants.push(added);
        if !block.txs.is_empty() {
            let mut emptied = block.clone();
            emptied.txs = BoundedVec::new(Vec::new()).unwrap();
            variants.push(emptied);
        }
        for poisoned in variants {
            let message = ConsensusMessage::Proposal { proposal, block: poisoned };
            out.push((Topic::Blocks, gossip_frame(&message.encode(), rng.next() as u32 | 1 << 31)));
        }
    })
    .await
}

/// Attack 2: every consensus message seen is published again [`REPLAY_COPIES`] times with new
/// copy numbers, and each second the messages seen more than two seconds earlier are replayed
/// again.
async fn replay_flood(network: &mut Network, deadline: Instant, rng: &mut Rng) -> Sent {
    let mut seen_at: Vec<(Instant, Topic, Vec<u8>)> = Vec::new();
    let mut copy = (rng.next() as u32) | 1 << 31;
    drive(network, deadline, Duration::from_secs(1), |seen, out| match seen {
        Seen::Gossip(topic, data) => {
            let Some(message) = gossip_message(data) else { return };
            for _ in 0..REPLAY_COPIES {
                copy = copy.wrapping_add(1);
                out.push((topic, gossip_frame(message, copy)));
            }
            if seen_at.len() < 4096 {
                seen_at.push((Instant::now(), topic, message.to_vec()));
            }
        }
        Seen::Tick => {
            let old = Instant::now() - Duration::from_secs(2);
            for (_, topic, message) in seen_at.iter().filter(|(at, ..)| *at < old).take(500) {
                copy = copy.wrapping_add(1);
                out.push((*topic, gossip_frame(message, copy)));
            }
        }
    })
    .await
}

/// Attack 3: proposals, votes and certificates recorded before the baseline measurement (views
/// and heights far below the finalized ones by now) replayed in a loop with new copy numbers.
async fn out_of_window(
    network: &mut Network,
    deadline: Instant,
    history: &[(Topic, Vec<u8>)],
    rng: &mut Rng,
) -> Sent {
    let mut copy = (rng.next() as u32) | 1 << 31;
    let mut next = 0;
    drive(network, deadline, Duration::from_millis(50), |seen, out| {
        if !matches!(seen, Seen::Tick) || history.is_empty() {
            return;
        }
        for _ in 0..20 {
            let (topic, message) = &history[next % history.len()];
            next += 1;
            copy = copy.wrapping_add(1);
            out.push((*topic, gossip_frame(message, copy)));
        }
    })
    .await
}

/// Attack 4: garbage on every gossip topic: random bytes, truncated transactions and consensus
/// messages, frames too short for a copy number, a transaction with a broken signature.
async fn garbage_gossip(cluster: &Cluster, network: &mut Network, deadline: Instant, rng: &mut Rng) -> Sent {
    let chain_id = cluster.chain_id();
    let mut last_proposal: Option<Vec<u8>> = None;
    let mut last_vote: Option<Vec<u8>> = None;
    let mut nonce = 0;
    drive(network, deadline, Duration::from_millis(25), |seen, out| match seen {
        Seen::Gossip(topic, data) => match topic {
            Topic::Blocks => last_proposal = gossip_message(data).map(<[u8]>::to_vec),
            Topic::Consensus => last_vote = gossip_message(data).map(<[u8]>::to_vec),
            Topic::Txs => {}
        },
        Seen::Tick => {
            nonce += 1;
            let tx = signed("mallory", nonce, chain_id).encode();
            let cut = 1 + rng.below(tx.len() - 1);
            let mut forged = tx.clone();
            let last = forged.len() - 1;
            forged[last] ^= 0x55;
            let random = rng.garbage(600);
            let txs = [tx[..cut].to_vec(), forged, random];
            out.push((Topic::Txs, txs[rng.below(3)].clone()));
            let short = rng.garbage(3);
            let random = gossip_frame(&rng.garbage(300), 0);
            let mut choices = vec![short, random];
            if let Some(vote) = &last_vote {
                choices.push(gossip_frame(&vote[..rng.below(vote.len())], rng.next() as u32));
            }
            out.push((Topic::Consensus, choices[rng.below(choices.len())].clone()));
            let random = gossip_frame(&rng.garbage(2000), 0);
            let mut choices = vec![random];
            if let Some(proposal) = &last_proposal {
                choices.push(gossip_frame(&proposal[..rng.below(proposal.len())], rng.next() as u32));
            }
            out.push((Topic::Blocks, choices[rng.below(choices.len())].clone()));
        }
    })
    .await
}

/// What the garbage sync requests got back.
#[derive(Default, Debug)]
struct SyncStats {
    sent: u64,
    answered: u64,
    failed: u64,
}

/// A garbage sync request: a length prefix over the 1 KiB limit, a frame cut short, random
/// bytes in a well-formed frame, a frame with trailing bytes, or nothing at all.
fn garbage_request(rng: &mut Rng) -> Vec<u8> {
    let frame = |body: &[u8]| {
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    };
    match rng.below(5) {
        0 => {
            let mut out = u32::MAX.to_be_bytes().to_vec();
            out.extend(rng.bytes(16));
            out
        }
        1 => {
            let mut out = 100u32.to_be_bytes().to_vec();
            out.extend(rng.bytes(10));
            out
        }
        2 => frame(&rng.garbage(1000)),
        // `Request::Status` (variant 1) and a trailing byte.
        3 => frame(&[1, 0]),
        _ => Vec::new(),
    }
}

/// Attack 4b: garbage requests on the sync protocol, from a raw libp2p swarm, to every target.
async fn garbage_sync(
    cluster: &Cluster,
    targets: &[usize],
    deadline: Instant,
    rng: &mut Rng,
) -> (PeerId, SyncStats) {
    let mut swarm = raw_swarm(
        format!("/weft/{}/sync/1", cluster.chain_id()),
        ProtocolSupport::Outbound,
        Duration::from_secs(2),
    );
    let me = *swarm.local_peer_id();
    let peers: Vec<PeerId> = targets
        .iter()
        .map(|&i| {
            let peer: PeerId = cluster.net.peers[i].parse().unwrap();
            let config = NodeConfig::load(&cluster.net.configs[i]).unwrap();
            swarm.add_peer_address(peer, config.p2p.listen.parse().unwrap());
            peer
        })
        .collect();
    let mut stats = SyncStats::default();
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    let end = tokio::time::sleep_until(deadline.into());
    tokio::pin!(end);
    loop {
        tokio::select! {
            _ = &mut end => return (me, stats),
            _ = ticks.tick() => {
                for peer in &peers {
                    swarm.behaviour_mut().send_request(peer, garbage_request(rng));
                    stats.sent += 1;
                }
            }
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(request_response::Event::Message {
                    message: request_response::Message::Response { .. },
                    ..
                }) => stats.answered += 1,
                SwarmEvent::Behaviour(request_response::Event::OutboundFailure { .. }) => stats.failed += 1,
                _ => {}
            },
        }
    }
}

/// Attack 5: waves of [`flood_wave`] fresh peers connecting to every target at once, staying a
/// second, and going away. Returns how many connected.
async fn connection_flood(
    cluster: &Cluster,
    targets: &[usize],
    deadline: Instant,
    wave_size: usize,
) -> (usize, usize) {
    let (mut started, mut connected) = (0, 0);
    while Instant::now() < deadline {
        let wave: Vec<Network> =
            futures::future::join_all((0..wave_size).map(|_| start_peer(cluster, targets))).await;
        started += wave.len();
        tokio::time::sleep(Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now())))
            .await;
        for network in &wave {
            if !network.handle.peers().await.is_empty() {
                connected += 1;
            }
        }
        futures::future::join_all(wave.iter().map(|n| n.handle.shutdown())).await;
    }
    (started, connected)
}

/// Attack 6b: validator 3's key, its node stopped: for every proposal seen, a Notarize of a
/// made-up block of that view, then a Notarize of the real one (two conflicting votes), a
/// Finalize of the made-up one and a Nullify of the view (conflicting with it).
async fn equivocation(
    cluster: &Cluster,
    network: &mut Network,
    deadline: Instant,
    key: &ed25519_dalek::SigningKey,
    rng: &mut Rng,
) -> Sent {
    let chain_id = cluster.chain_id();
    let mut done = HashSet::new();
    drive(network, deadline, Duration::from_secs(1), |seen, out| {
        let Seen::Gossip(Topic::Blocks, data) = seen else { return };
        let Some(ConsensusMessage::Proposal { proposal, .. }) = decode(data) else { return };
        let real = proposal.proposal.block_ref();
        if !done.insert(real.view) {
            return;
        }
        let fake = BlockRef { hash: rng.hash(), ..real };
        for vote in
            [Vote::Notarize(fake), Vote::Notarize(real), Vote::Finalize(fake), Vote::Nullify(real.view)]
        {
            let message = ConsensusMessage::Vote(vote.sign(chain_id, key));
            out.push((topic_of(&message), gossip_frame(&message.encode(), 0)));
        }
    })
    .await
}

/// Consensus messages (encoded, without copy numbers) and their topics, in arrival order.
type History = Vec<(Topic, Vec<u8>)>;

/// A passive peer that records every distinct consensus message it receives (for the
/// out-of-window replays), forwarding nothing.
fn record(mut network: Network, history: Arc<Mutex<History>>) -> NetHandle {
    let handle = network.handle.clone();
    tokio::spawn(async move {
        let mut known = HashSet::new();
        while let Some(event) = network.events.recv().await {
            if let NetEvent::Gossip { topic, data, id, source } = event {
                let _ = network.handle.report(id, source, Verdict::Ignore).await;
                if topic == Topic::Txs {
                    continue;
                }
                if let Some(message) = gossip_message(&data)
                    && known.insert(message.to_vec())
                {
                    let mut history = history.lock().unwrap();
                    if history.len() < 20_000 {
                        history.push((topic, message.to_vec()));
                    }
                }
            }
        }
    });
    handle
}

/// Submits a transfer from alice every 250 ms to nodes 0, 1 and 2 in turn (always honest).
/// Transfers lost with a restarted node's mempool would leave a nonce gap that stops every
/// later one: when alice's pending nonce on node 0 falls 8 behind, it starts again from there.
fn trickle(clients: Vec<HttpClient>, chain_id: u64, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let (mut nonce, mut accepted) = (0, 0);
        for round in 0u64.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if round % 8 == 7
                && let Ok(account) = clients[0].state_get_account(dev_address("alice")).await
                && nonce > account.pending_nonce + 8
            {
                nonce = account.pending_nonce;
            }
            let to = &clients[(round % 3) as usize];
            if to.tx_submit(Bytes(transfer(nonce, chain_id))).await.is_ok() {
                accepted += 1;
            }
            nonce += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        accepted
    })
}

/// Whether the attacker is to blame, and whether it was penalized.
#[derive(Clone, Copy, Debug)]
enum Penalty {
    /// Its fault is provable: it must be penalized; `true` if it was.
    Due(bool),
    /// Its fault is not provable (it sent valid messages, or connections): only watched;
    /// `true` if it was banned anyway.
    NotProvable(bool),
}

/// One attack's measurements.
struct Outcome {
    attack: &'static str,
    base: f64,
    rate: f64,
    penalty: Penalty,
    agreement: Result<(), String>,
    honest_banned: Vec<(usize, String)>,
    /// Honest nodes restarted afterwards to clear their bans.
    restarted: Vec<usize>,
    missing_links: Vec<(usize, usize)>,
    note: String,
}

impl Outcome {
    fn ratio(&self) -> f64 {
        if self.base > 0.0 { self.rate / self.base } else { 0.0 }
    }

    /// The criteria this outcome fails.
    fn failed(&self) -> Vec<Criterion> {
        let mut failed = Vec::new();
        if self.ratio() < 0.5 {
            failed.push(Criterion::Rate);
        }
        if matches!(self.penalty, Penalty::Due(false)) {
            failed.push(Criterion::Penalized);
        }
        if !self.honest_banned.is_empty() || !self.missing_links.is_empty() {
            failed.push(Criterion::Peers);
        }
        failed
    }
}

/// Blocks finalized per second by the slowest honest node between `before` and `after`.
fn rate(before: &[u64], after: &[u64], elapsed: Duration) -> f64 {
    let least = before.iter().zip(after).map(|(b, a)| a.saturating_sub(*b)).min().unwrap_or(0);
    least as f64 / elapsed.as_secs_f64()
}

/// What the attack did, for the table and the verdict on the attacker.
struct Report {
    penalty: Penalty,
    note: String,
    /// The peer to look for in the honest nodes' bans if it was not banned yet.
    suspect: Option<PeerId>,
}

/// Runs `attack` for `secs` while measuring the honest nodes' finality, then checks the
/// network: agreement from the first height finalized during the attack to the lowest finalized
/// now, honest bans and links.
async fn measure<F, Fut>(
    cluster: &Cluster,
    attack: &'static str,
    base: f64,
    secs: Duration,
    run: F,
) -> Outcome
where
    F: FnOnce(Instant) -> Fut,
    Fut: std::future::Future<Output = Report>,
{
    let before = cluster.finalized().await;
    let start = Instant::now();
    let mut report = run(start + secs).await;
    let elapsed = start.elapsed();
    let after = cluster.finalized().await;
    // A ban decided as the attack ended may take a moment to show in the log.
    if let (Penalty::Due(false), Some(peer)) = (report.penalty, report.suspect) {
        report.penalty = Penalty::Due(banned_soon(cluster, &peer).await);
    }
    let rate = rate(&before, &after, elapsed);
    let from = before.iter().min().copied().unwrap_or(1).max(1);
    let to = *after.iter().min().unwrap();
    let agreement = cluster.agreement(from..=to).await;
    let outcome = Outcome {
        attack,
        base,
        rate,
        penalty: report.penalty,
        agreement,
        honest_banned: cluster.honest_banned(),
        restarted: Vec::new(),
        missing_links: cluster.missing_links().await,
        note: report.note,
    };
    eprintln!(
        "attack {attack}: {:.2} blocks/s ({:.0} % of {base:.2}), {:?}, {:?}, {}",
        outcome.rate,
        100.0 * outcome.ratio(),
        outcome.penalty,
        outcome.agreement,
        outcome.note
    );
    outcome
}

/// Waits up to 3 s for a ban of `peer` in an honest node's log.
async fn banned_soon(cluster: &Cluster, peer: &PeerId) -> bool {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        if cluster.banned(peer) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// "banned node<j> (<reason>)" of a "banning peer" log line, `peers` naming the nodes.
fn ban_summary(line: &str, peers: &[String]) -> String {
    let who =
        peers.iter().position(|p| line.contains(p.as_str())).map_or("a peer".into(), |j| format!("node{j}"));
    let reason = line.split("reason=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
    format!("banned {who} ({reason})")
}

fn table(outcomes: &[Outcome], peers: &[String]) -> String {
    let mut out = String::from(
        "| attack | blocks/s unattacked | blocks/s attacked | ratio | penalized? | agreement | honest links |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for o in outcomes {
        let penalized = match o.penalty {
            Penalty::Due(true) => "yes".to_string(),
            Penalty::Due(false) => "NO (provable)".to_string(),
            Penalty::NotProvable(banned) => {
                format!("n/a (not provable; banned: {})", if banned { "yes" } else { "no" })
            }
        };
        let agreement = match &o.agreement {
            Ok(()) => "yes".to_string(),
            Err(e) => format!("NO: {e}"),
        };
        let links = if o.honest_banned.is_empty() && o.missing_links.is_empty() {
            "all connected, none banned".to_string()
        } else {
            format!(
                "BANS: {}; missing links {:?}; restarted {:?}",
                o.honest_banned
                    .iter()
                    .map(|(i, l)| format!("node{i} {}", ban_summary(l, peers)))
                    .collect::<Vec<_>>()
                    .join(", "),
                o.missing_links,
                o.restarted
            )
        };
        out.push_str(&format!(
            "| {} | {:.2} | {:.2} | {:.2} | {penalized} | {agreement} | {links} |\n",
            o.attack,
            o.base,
            o.rate,
            o.ratio()
        ));
        if !o.note.is_empty() {
            out.push_str(&format!("|  ({}) |||||||\n", o.note));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn attacks_on_four_validators_neither_stall_nor_split_them() {
    let secs = attack_secs();
    let seed = 0x9e37_79b9_7f4a_7c15 ^ u64::from(std::process::id());
    eprintln!("attack: {} s per attack, seed {seed:#x}", secs.as_secs());
    let mut rng = Rng(seed);
    let dir = tempfile::Builder::new().prefix("weft-attack").tempdir().unwrap();
    let net = testnet(dir.path());
    // `WEFT_ATTACK_KEEP=1` keeps the nodes' homes and logs for a look afterwards.
    let _dir = if std::env::var("WEFT_ATTACK_KEEP").is_ok_and(|v| v == "1") {
        eprintln!("attack: keeping {}", dir.path().display());
        let _ = dir.keep();
        None
    } else {
        Some(dir)
    };
    let chain_id = net.genesis.chain_id;
    let mut nodes = Nodes::new(net.configs.clone());
    for i in 0..4 {
        nodes.spawn(i);
    }
    let clients: Vec<HttpClient> = net.configs.iter().map(|c| client(c)).collect();
    let mut cluster = Cluster { net, nodes, clients, honest: vec![0, 1, 2, 3], marks: vec![0; 4] };
    for i in 0..4 {
        let c = &cluster.clients[i];
        wait_for(&format!("node{i}'s RPC"), &cluster.nodes, PATIENCE, || async { c.node_info().await.ok() })
            .await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = trickle(cluster.clients.clone(), chain_id, stop.clone());
    // The network finalizes before anything is measured.
    wait_for("the first blocks", &cluster.nodes, PATIENCE, || async {
        let f = cluster.finalized().await;
        (f.iter().all(|&h| h >= 3)).then_some(())
    })
    .await;

    // A passive recorder, connected throughout: the consensus messages of these early heights
    // are what the out-of-window attack replays later.
    let history = Arc::new(Mutex::new(Vec::new()));
    let recorder = record(start_peer(&cluster, &[0, 1, 2, 3]).await, history.clone());
    assert!(wait_subscribed(&recorder, 4).await, "the recorder joined the mesh");

    // Unattacked.
    let base = measure(&cluster, "none (unattacked)", 0.0, secs, |deadline| async move {
        tokio::time::sleep_until(deadline.into()).await;
        Report { penalty: Penalty::NotProvable(false), note: String::new(), suspect: None }
    })
    .await;
    let base_rate = base.rate;
    assert!(base_rate > 0.0, "the unattacked network finalizes\n{}", cluster.nodes.logs());
    assert!(base.agreement.is_ok() && base.failed().iter().all(|c| *c == Criterion::Rate));
    let history: History = history.lock().unwrap().clone();
    let mut outcomes = Vec::new();

    for &attack in ATTACKS {
        if attack == "vote withholding" {
            // Validator 3 turns byzantine: its node stops, the attacker holds its key.
            cluster.nodes.kill(3);
            cluster.honest = vec![0, 1, 2];
        }
        cluster.mark_logs();
        let honest = cluster.honest.clone();
        let mut attacker = start_peer(&cluster, &honest).await;
        let handle = attacker.handle.clone();
        let joined = wait_subscribed(&handle, honest.len()).await;
        assert!(joined, "{attack}: the attacker joined the honest nodes' mesh");
        let me = handle.local_peer_id();
        let (c, rng, honest) = (&cluster, &mut rng, &honest);
        let due = |sent: &dyn std::fmt::Debug| Report {
            penalty: Penalty::Due(c.banned(&me)),
            note: format!("{sent:?}"),
            suspect: Some(me),
        };
        let not_provable =
            |note: String| Report { penalty: Penalty::NotProvable(c.banned(&me)), note, suspect: None };
        let outcome = match attack {
            "body poisoning" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    due(&body_poisoning(c, &mut attacker, deadline, rng).await)
                })
                .await
            }
            "replay flood" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    not_provable(format!("{:?}", replay_flood(&mut attacker, deadline, rng).await))
                })
                .await
            }
            "out-of-window heights" => {
                let history = &history;
                measure(c, attack, base_rate, secs, |deadline| async move {
                    let sent = out_of_window(&mut attacker, deadline, history, rng).await;
                    not_provable(format!("{} old messages, {sent:?}", history.len()))
                })
                .await
            }
            "garbage gossip" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    due(&garbage_gossip(c, &mut attacker, deadline, rng).await)
                })
                .await
            }
            "garbage sync requests" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    let (peer, stats) = garbage_sync(c, honest, deadline, rng).await;
                    Report {
                        penalty: Penalty::Due(c.banned(&peer)),
                        note: format!("{stats:?}"),
                        suspect: Some(peer),
                    }
                })
                .await
            }
            "connection flood" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    let (started, connected) = connection_flood(c, honest, deadline, flood_wave(secs)).await;
                    not_provable(format!("{started} peers started, {connected} connected"))
                })
                .await
            }
            "vote withholding" => {
                measure(c, attack, base_rate, secs, |deadline| async move {
                    // Holding validator 3's key and connected, it sends nothing.
                    not_provable(format!(
                        "{:?}",
                        drive(&mut attacker, deadline, Duration::from_secs(1), |_, _| {}).await
                    ))
                })
                .await
            }
            "equivocation" => {
                let config = NodeConfig::load(&c.net.configs[3]).unwrap();
                let key = read_key(&config.validator_key).unwrap();
                let offender = Address(key.verifying_key().to_bytes());
                let before = evidence_count(c, offender).await;
                measure(c, attack, base_rate, secs, |deadline| async move {
                    let sent = equivocation(c, &mut attacker, deadline, &key, rng).await;
                    let kept = wait_evidence(c, offender, &before).await;
                    Report {
                        penalty: Penalty::Due(kept.iter().all(|&k| k > 0)),
                        note: format!("{sent:?}, new evidence per honest node {kept:?}"),
                        suspect: None,
                    }
                })
                .await
            }
            _ => unreachable!("unknown attack {attack}"),
        };
        handle.shutdown().await;
        let mut outcome = outcome;
        outcome.restarted = cluster.heal(&outcome.honest_banned, &outcome.missing_links).await;
        outcomes.push(outcome);
    }

    stop.store(true, Ordering::Relaxed);
    let accepted = trickle.await.unwrap();
    // Alice's transfers are final with one nonce on every honest node.
    let c = &cluster;
    let nonce = wait_for("alice's transfers final everywhere", &c.nodes, PATIENCE, || async {
        let mut nonces = Vec::new();
        for &i in &c.honest {
            nonces.push(c.clients[i].state_get_account(dev_address("alice")).await.ok()?.nonce);
        }
        (nonces.windows(2).all(|w| w[0] == w[1]) && nonces[0] > 0).then_some(nonces[0])
    })
    .await;
    eprintln!("attack: {accepted} transfers accepted by RPC, {nonce} final");
    recorder.shutdown().await;

    let mut all = vec![base];
    all.extend(outcomes);
    eprintln!("\n{}", table(&all, &cluster.net.peers));

    // Agreement is never waived; the other criteria are, per attack, while listed in NOT_YET.
    let mut failures = Vec::new();
    for o in &all[1..] {
        if let Err(e) = &o.agreement {
            failures.push(format!("{}: honest nodes disagree: {e}", o.attack));
        }
        for criterion in o.failed() {
            let waived = NOT_YET.contains(&(o.attack, criterion)) && !strict();
            let line =
                format!("{}: {criterion:?} ({:.2} vs {:.2} blocks/s, {})", o.attack, o.rate, o.base, o.note);
            if waived {
                eprintln!("NOT YET (waived): {line}");
            } else {
                failures.push(line);
            }
        }
    }
    for (attack, criterion) in NOT_YET {
        if let Some(o) = all.iter().find(|o| o.attack == *attack)
            && !o.failed().contains(criterion)
        {
            eprintln!("NOW PASSES: {attack}: {criterion:?} (remove it from NOT_YET)");
        }
    }
    assert!(
        failures.is_empty(),
        "attacks that hurt the network:\n{}\n{}",
        failures.join("\n"),
        cluster.nodes.logs()
    );
}

/// Evidence against `offender` kept by each honest node.
async fn evidence_count(cluster: &Cluster, offender: Address) -> Vec<usize> {
    let mut out = Vec::new();
    for &i in &cluster.honest {
        let kept = cluster.clients[i].node_evidence().await.unwrap_or_default();
        out.push(kept.iter().filter(|e| e.offender == offender).count());
    }
    out
}

/// Waits up to 3 s for every honest node to keep new evidence against `offender`; returns how
/// much each kept.
async fn wait_evidence(cluster: &Cluster, offender: Address, before: &[usize]) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let now = evidence_count(cluster, offender).await;
        let new: Vec<usize> = now.iter().zip(before).map(|(n, b)| n.saturating_sub(*b)).collect();
        if new.iter().all(|&n| n > 0) || Instant::now() > deadline {
            return new;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
