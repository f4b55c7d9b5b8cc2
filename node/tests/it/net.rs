//! The validator network (`weft_node::net`) with real swarms on 127.0.0.1 and ephemeral ports:
//! discovery through a bootnode and gossip to all, validation (rejected messages are not forwarded
//! and cost the sender its connection), topic size limits, block fetching and its failures,
//! direct messages to one peer (delivered every time, to that peer only; limits and errors),
//! reconnection after restarts, chain separation, and the p2p key file; a node syncing
//! through a peer that serves bad blocks (penalized, sync moves to an honest peer), and a
//! validator answering a block request to the asking peer alone.

use std::{future::Future, sync::Arc, time::Duration};

use futures::StreamExt;
use libp2p::{
    multiaddr::Protocol,
    request_response::{self, ProtocolSupport},
    swarm::SwarmEvent,
};
use tokio::{
    sync::mpsc,
    task::JoinHandle,
    time::{Instant, sleep, timeout},
};
use weft_node::net::{
    BlocksReply, BlocksRequest, BlocksResponse, GRAYLIST_THRESHOLD, MAX_DIRECT_BYTES, Multiaddr, NetConfig,
    NetError, NetEvent, NetHandle, Network, PeerId, StatusResponse, Topic, Verdict, generate_keypair,
    read_keypair, write_keypair,
};
use weft_types::{Hash, consensus::MAX_CONSENSUS_MESSAGE_BYTES, limits::MAX_TX_BYTES};

use crate::raw::raw_swarm;

/// Longest wait for something that should happen.
const WAIT: Duration = Duration::from_secs(10);

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn loopback() -> Multiaddr {
    "/ip4/127.0.0.1/tcp/0".parse().unwrap()
}

/// A configuration with fast timers for tests.
fn config(chain_id: u64) -> NetConfig {
    let mut config = NetConfig::new(generate_keypair(), chain_id);
    config.listen_addrs = vec![loopback()];
    config.heartbeat_interval = Duration::from_millis(200);
    config.kad_bootstrap_interval = Duration::from_secs(1);
    config.redial_initial = Duration::from_millis(100);
    config.redial_max = Duration::from_millis(500);
    config.request_timeout = Duration::from_secs(2);
    config
}

fn with_bootnode(mut config: NetConfig, bootnode: &Node) -> NetConfig {
    config.bootnodes = vec![bootnode.addr.clone()];
    config
}

/// What a test node's application saw.
#[derive(Debug)]
enum Seen {
    Gossip { topic: Topic, data: Vec<u8>, source: PeerId },
    Direct { peer: PeerId, data: Vec<u8> },
    Connected(PeerId),
    Disconnected(PeerId),
}

/// How a test node's application answers block requests.
#[derive(Clone)]
enum Serve {
    /// From this list, indexed by height.
    Blocks(Arc<Vec<Vec<u8>>>),
    /// From this list, indexed by height, one entry per response.
    OneByOne(Arc<Vec<Vec<u8>>>),
    /// Never (the replies are held until the node stops).
    Never,
}

/// A network plus a small application: it accepts gossip unless the data starts with `bad`, answers
/// block requests as told, and reports everything it saw.
struct Node {
    handle: NetHandle,
    peer: PeerId,
    /// The dialable address, ending in `/p2p/<peer id>`.
    addr: Multiaddr,
    seen: mpsc::UnboundedReceiver<Seen>,
    app: JoinHandle<()>,
}

async fn spawn(config: NetConfig, serve: Serve) -> Node {
    init_tracing();
    let Network { handle, mut events } = Network::start(config).await.unwrap();
    let peer = handle.local_peer_id();
    let addr = handle.listen_addrs().await[0].clone().with(Protocol::P2p(peer));
    let (tx, seen) = mpsc::unbounded_channel();
    let app_handle = handle.clone();
    let app = tokio::spawn(async move {
        let mut held: Vec<BlocksReply> = Vec::new();
        while let Some(event) = events.recv().await {
            let seen = match event {
                NetEvent::Gossip { topic, data, id, source } => {
                    let verdict = if data.starts_with(b"bad") { Verdict::Reject } else { Verdict::Accept };
                    let _ = app_handle.report(id, source, verdict).await;
                    Seen::Gossip { topic, data, source }
                }
                NetEvent::Direct { peer, data, .. } => Seen::Direct { peer, data },
                NetEvent::PeerConnected { peer, .. } => Seen::Connected(peer),
                NetEvent::PeerDisconnected { peer } => Seen::Disconnected(peer),
                NetEvent::BlocksRequested { request, reply, .. } => {
                    match &serve {
                        Serve::Blocks(list) => {
                            let from = (request.from_height as usize).min(list.len());
                            let to = (from + request.max_count as usize).min(list.len());
                            reply.send(BlocksResponse { blocks: list[from..to].to_vec() });
                        }
                        Serve::OneByOne(list) => {
                            let from = (request.from_height as usize).min(list.len());
                            let to = (from + 1).min(list.len());
                            reply.send(BlocksResponse { blocks: list[from..to].to_vec() });
                        }
                        Serve::Never => held.push(reply),
                    }
                    continue;
                }
            };
            let _ = tx.send(seen);
        }
    });
    Node { handle, peer, addr, seen, app }
}

impl Node {
    /// Waits for an event matching `pred`, skipping others.
    async fn expect(&mut self, what: &str, pred: impl FnMut(&Seen) -> bool) -> Seen {
        let mut seen = self.until(what, pred).await;
        seen.pop().unwrap()
    }

    /// Everything seen up to and including the first event matching `pred`.
    async fn until(&mut self, what: &str, mut pred: impl FnMut(&Seen) -> bool) -> Vec<Seen> {
        let deadline = Instant::now() + WAIT;
        let mut all = Vec::new();
        loop {
            match timeout(deadline.saturating_duration_since(Instant::now()), self.seen.recv()).await {
                Ok(Some(seen)) => {
                    let done = pred(&seen);
                    all.push(seen);
                    if done {
                        return all;
                    }
                }
                Ok(None) => panic!("{what}: the node stopped"),
                Err(_) => panic!("{what}: not seen within {WAIT:?}; saw {all:?}"),
            }
        }
    }

    async fn expect_gossip(&mut self, data: &[u8]) -> PeerId {
        let what = format!("gossip {:?}", String::from_utf8_lossy(data));
        match self.expect(&what, |s| matches!(s, Seen::Gossip { data: d, .. } if d == data)).await {
            Seen::Gossip { source, .. } => source,
            _ => unreachable!(),
        }
    }

    /// Collects everything seen for `period`.
    async fn drain(&mut self, period: Duration) -> Vec<Seen> {
        let deadline = Instant::now() + period;
        let mut all = Vec::new();
        while let Ok(Some(seen)) =
            timeout(deadline.saturating_duration_since(Instant::now()), self.seen.recv()).await
        {
            all.push(seen);
        }
        all
    }

    async fn peer_ids(&self) -> Vec<PeerId> {
        self.handle.peers().await.into_iter().map(|p| p.peer_id).collect()
    }

    /// Shuts the network down and waits for the application to finish.
    async fn stop(self) {
        self.handle.shutdown().await;
        drop(self.handle);
        timeout(WAIT, self.app).await.unwrap().unwrap();
    }
}

/// Polls `check` until it holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not true within {WAIT:?}");
        sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_topic_peers(node: &Node, topic: Topic, count: usize) {
    eventually(&format!("{count} peers on {topic:?}"), || async {
        node.handle.topic_peers(topic).await.len() == count
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_discover_each_other_through_a_bootnode_and_gossip_reaches_all() {
    let started = Instant::now();
    let mut boot = spawn(config(1), Serve::Never).await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(spawn(with_bootnode(config(1), &boot), Serve::Never).await);
    }
    // Each node knows only the bootnode, yet ends up connected to all three others: Kademlia.
    for node in nodes.iter().chain([&boot]) {
        eventually("connected to the 3 others", || async { node.peer_ids().await.len() == 3 }).await;
        wait_topic_peers(node, Topic::Consensus, 3).await;
    }
    nodes[2].handle.publish(Topic::Consensus, b"vote".to_vec()).await.unwrap();
    for node in nodes[..2].iter_mut().chain([&mut boot]) {
        node.expect(
            "the vote",
            |s| matches!(s, Seen::Gossip { topic: Topic::Consensus, data, .. } if data == b"vote"),
        )
        .await;
    }
    // A proposal far over gossipsub's default 64 KiB and the `txs` limit goes through the raised
    // `blocks` limit. (The full MAX_CONSENSUS_MESSAGE_BYTES works too, but its SHA3 message ids take
    // seconds in an unoptimized build.)
    let proposal = vec![0xab; 2 * MAX_TX_BYTES];
    assert!(proposal.len() < MAX_CONSENSUS_MESSAGE_BYTES);
    let sent = Instant::now();
    nodes[0].handle.publish(Topic::Blocks, proposal.clone()).await.unwrap();
    for node in nodes[1..].iter_mut().chain([&mut boot]) {
        node.expect(
            "the proposal",
            |s| matches!(s, Seen::Gossip { topic: Topic::Blocks, data, .. } if *data == proposal),
        )
        .await;
    }
    eprintln!("{} byte proposal reached 3 peers in {:?}", proposal.len(), sent.elapsed());
    // Republishing identical bytes is a duplicate (content ids).
    let again = nodes[2].handle.publish(Topic::Consensus, b"vote".to_vec()).await;
    assert!(matches!(again, Err(NetError::Duplicate)), "{again:?}");
    eprintln!("discovery + gossip: {:?}", started.elapsed());
    for node in nodes {
        node.stop().await;
    }
    boot.stop().await;
}

/// Nodes without discovery: they talk to their bootnodes only, so a line topology holds.
fn line_config() -> NetConfig {
    let mut config = config(1);
    config.discovery = false;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_messages_are_not_forwarded_and_get_the_sender_banned() {
    let started = Instant::now();
    // A – B – C: B is the only path from A to C.
    let mut b = spawn(line_config(), Serve::Never).await;
    let mut a = spawn(with_bootnode(line_config(), &b), Serve::Never).await;
    let mut c = spawn(with_bootnode(line_config(), &b), Serve::Never).await;
    wait_topic_peers(&a, Topic::Txs, 1).await;
    wait_topic_peers(&b, Topic::Txs, 2).await;
    wait_topic_peers(&c, Topic::Txs, 1).await;
    assert_eq!(a.peer_ids().await, vec![b.peer]);
    assert_eq!(c.peer_ids().await, vec![b.peer]);

    // Accepted by B: forwarded to C.
    a.handle.publish(Topic::Txs, b"good-1".to_vec()).await.unwrap();
    assert_eq!(b.expect_gossip(b"good-1").await, a.peer);
    assert_eq!(c.expect_gossip(b"good-1").await, b.peer);

    // Rejected by B: C never sees it, and A's score at B drops below zero.
    a.handle.publish(Topic::Txs, b"bad-1".to_vec()).await.unwrap();
    b.expect_gossip(b"bad-1").await;
    eventually("A's score at B below 0", || async {
        b.handle.peer_score(a.peer).await.is_some_and(|s| s < 0.0)
    })
    .await;
    a.handle.publish(Topic::Txs, b"good-2".to_vec()).await.unwrap();
    let mut at_c = c.until("good-2", |s| matches!(s, Seen::Gossip { data, .. } if data == b"good-2")).await;
    at_c.extend(c.drain(Duration::from_millis(500)).await);
    assert!(
        !at_c.iter().any(|s| matches!(s, Seen::Gossip { data, .. } if data.starts_with(b"bad"))),
        "C received a rejected message: {at_c:?}"
    );

    // Two more rejected messages take A below the graylist threshold: B disconnects and bans it.
    for bad in [b"bad-2", b"bad-3"] {
        a.handle.publish(Topic::Txs, bad.to_vec()).await.unwrap();
        b.expect_gossip(bad).await;
    }
    b.expect("B drops A", |s| matches!(s, Seen::Disconnected(p) if *p == a.peer)).await;
    a.expect("A loses B", |s| matches!(s, Seen::Disconnected(p) if *p == b.peer)).await;
    let score = b.handle.peer_score(a.peer).await.unwrap();
    assert!(score < GRAYLIST_THRESHOLD, "score {score}");
    // A keeps redialling its bootnode, and B keeps refusing it.
    sleep(Duration::from_secs(1)).await;
    assert!(!b.peer_ids().await.contains(&a.peer));
    assert_eq!(c.peer_ids().await, vec![b.peer], "C keeps its link to B");
    eprintln!("validation + scoring: {:?}", started.elapsed());
    for node in [a, b, c] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_gossip_is_never_delivered() {
    let mut strict = line_config();
    strict.topic_limits.txs = 1024;
    let mut b = spawn(strict, Serve::Never).await;
    let a = spawn(with_bootnode(line_config(), &b), Serve::Never).await;
    wait_topic_peers(&a, Topic::Txs, 1).await;

    // The publisher's own limit is checked before anything is sent.
    let too_big = a.handle.publish(Topic::Txs, vec![0; MAX_TX_BYTES + 1]).await;
    assert!(matches!(too_big, Err(NetError::MessageTooLarge { topic: Topic::Txs, .. })), "{too_big:?}");

    // Within A's limit but over B's: B drops them (4096 bytes in gossipsub's codec, 1025 bytes in
    // the network's own check before delivery); the messages within the limit arrive.
    a.handle.publish(Topic::Txs, vec![7; 4096]).await.unwrap();
    a.handle.publish(Topic::Txs, vec![7; 1025]).await.unwrap();
    a.handle.publish(Topic::Txs, vec![7; 1024]).await.unwrap();
    a.handle.publish(Topic::Txs, b"small".to_vec()).await.unwrap();
    let mut seen =
        b.until("the small message", |s| matches!(s, Seen::Gossip { data, .. } if data == b"small")).await;
    seen.extend(b.drain(Duration::from_millis(300)).await);
    let sizes: Vec<usize> = seen
        .iter()
        .filter_map(|s| if let Seen::Gossip { data, .. } = s { Some(data.len()) } else { None })
        .collect();
    assert_eq!(sizes, [1024, 5], "only the messages within B's limit arrive, in order");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_status_are_fetched_by_request() {
    let blocks: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 1000 + usize::from(i)]).collect();
    let server = spawn(config(1), Serve::Blocks(Arc::new(blocks.clone()))).await;
    let mut client = spawn(with_bootnode(config(1), &server), Serve::Never).await;
    client.expect("connected", |s| matches!(s, Seen::Connected(p) if *p == server.peer)).await;

    let started = Instant::now();
    let got = client
        .handle
        .request_blocks(server.peer, BlocksRequest { from_height: 2, max_count: 3 })
        .await
        .unwrap();
    assert_eq!(got.blocks, blocks[2..5]);
    eprintln!("blocks request round trip: {:?}", started.elapsed());
    let tail =
        client.handle.request_blocks(server.peer, BlocksRequest { from_height: 8, max_count: 100 }).await;
    assert_eq!(tail.unwrap().blocks, blocks[8..]);
    let past =
        client.handle.request_blocks(server.peer, BlocksRequest { from_height: 50, max_count: 5 }).await;
    assert!(past.unwrap().blocks.is_empty());

    let status = StatusResponse { height: 9, finalized_height: 7, head_hash: Hash([7; 32]) };
    server.handle.set_status(status);
    assert_eq!(client.handle.request_status(server.peer).await.unwrap(), status);

    // Penalized: disconnected, and refused while the ban lasts (the client keeps redialling).
    server.handle.penalize(client.peer).await.unwrap();
    client.expect("penalized", |s| matches!(s, Seen::Disconnected(p) if *p == server.peer)).await;
    let refused = client.handle.request_status(server.peer).await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(!server.peer_ids().await.contains(&client.peer));
    client.stop().await;
    server.stop().await;
}

/// A peer that speaks the sync protocol's name but answers with the given raw bytes, in turn.
async fn garbage_server(chain_id: u64, answers: Vec<Vec<u8>>) -> (PeerId, Multiaddr) {
    let mut swarm =
        raw_swarm(format!("/weft/{chain_id}/sync/1"), ProtocolSupport::Inbound, Duration::from_secs(10));
    swarm.listen_on(loopback()).unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let peer = *swarm.local_peer_id();
    tokio::spawn(async move {
        let mut answers = answers.into_iter();
        loop {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }) = swarm.select_next_some().await
            {
                let answer = answers.next().unwrap_or_default();
                let _ = swarm.behaviour_mut().send_response(channel, answer);
            }
        }
    });
    (peer, addr.with(Protocol::P2p(peer)))
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_fetch_failures_are_clear_errors() {
    let ask = BlocksRequest { from_height: 0, max_count: 2 };

    // A peer that never answers: a timeout, on time.
    let silent = spawn(config(1), Serve::Never).await;
    let mut impatient = config(1);
    impatient.request_timeout = Duration::from_secs(1);
    impatient.max_response_bytes = 1024;
    let mut client = spawn(with_bootnode(impatient, &silent), Serve::Never).await;
    client.expect("connected", |s| matches!(s, Seen::Connected(p) if *p == silent.peer)).await;
    let started = Instant::now();
    let err = client.handle.request_blocks(silent.peer, ask).await.unwrap_err();
    assert!(matches!(err, NetError::Timeout(p) if p == silent.peer), "{err:?}");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(3), "timeout after {waited:?}");
    eprintln!("timeout error after {waited:?}");

    // A response over the client's size limit (4 KiB entries, limit 1 KiB).
    let big = spawn(config(1), Serve::Blocks(Arc::new(vec![vec![1; 4096]; 2]))).await;
    client.handle.dial(big.addr.clone()).await.unwrap();
    let err = client.handle.request_blocks(big.peer, ask).await.unwrap_err();
    assert!(
        matches!(&err, NetError::BadResponse { reason, .. } if reason.contains("over the limit")),
        "{err:?}"
    );

    // Garbage: a huge length prefix, an undecodable body, more blocks than asked for.
    let three_blocks = [0u8, 3 << 2, 1 << 2, 1, 1 << 2, 2, 1 << 2, 3];
    let answers = vec![u32::MAX.to_be_bytes().to_vec(), framed(&[9, 9, 9, 9]), framed(&three_blocks)];
    let (garbage, garbage_addr) = garbage_server(1, answers).await;
    client.handle.dial(garbage_addr).await.unwrap();
    client
        .expect("connected to the garbage peer", |s| matches!(s, Seen::Connected(p) if *p == garbage))
        .await;
    for expected in ["over the limit", "invalid", "3 blocks for a request of at most 2"] {
        let err = client.handle.request_blocks(garbage, ask).await.unwrap_err();
        assert!(matches!(&err, NetError::BadResponse { reason, .. } if reason.contains(expected)), "{err:?}");
    }

    // A peer nobody knows an address for.
    let err = client.handle.request_blocks(PeerId::random(), ask).await.unwrap_err();
    assert!(matches!(err, NetError::Unreachable(_)), "{err:?}");
    for node in [client, silent, big] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_reach_one_peer_every_time() {
    // Three nodes, all connected (discovery): A sends to B alone.
    let mut b = spawn(config(1), Serve::Never).await;
    let mut a = spawn(with_bootnode(config(1), &b), Serve::Never).await;
    let mut c = spawn(with_bootnode(config(1), &b), Serve::Never).await;
    for node in [&a, &b, &c] {
        eventually("connected to the 2 others", || async { node.peer_ids().await.len() == 2 }).await;
    }
    let is_direct = |s: &Seen| matches!(s, Seen::Direct { .. });

    let started = Instant::now();
    a.handle.send_direct(b.peer, b"answer".to_vec()).await.unwrap();
    eprintln!("direct message acknowledged in {:?}", started.elapsed());
    // The same bytes again: no duplicate filter, it arrives a second time.
    a.handle.send_direct(b.peer, b"answer".to_vec()).await.unwrap();
    // The largest message goes through too.
    let largest = vec![0x5a; MAX_DIRECT_BYTES];
    let started = Instant::now();
    a.handle.send_direct(b.peer, largest.clone()).await.unwrap();
    eprintln!("{MAX_DIRECT_BYTES} byte direct message acknowledged in {:?}", started.elapsed());
    let mut at_b = b
        .until(
            "the largest message",
            |s| matches!(s, Seen::Direct { data, .. } if data.len() == MAX_DIRECT_BYTES),
        )
        .await;
    at_b.extend(b.drain(Duration::from_millis(300)).await);
    let direct: Vec<(PeerId, usize)> = at_b
        .iter()
        .filter_map(|s| match s {
            Seen::Direct { peer, data } => Some((*peer, data.len())),
            _ => None,
        })
        .collect();
    assert_eq!(
        direct,
        [(a.peer, 6), (a.peer, 6), (a.peer, MAX_DIRECT_BYTES)],
        "each send arrives once, in order"
    );
    let first = at_b.iter().find(|s| is_direct(s));
    assert!(matches!(first, Some(Seen::Direct { data, .. }) if data == b"answer"));
    // Never forwarded, and no gossip on the way.
    let at_c = c.drain(Duration::from_millis(300)).await;
    assert!(!at_c.iter().any(is_direct), "C saw a message sent to B: {at_c:?}");
    assert!(!at_b.iter().chain(&at_c).any(|s| matches!(s, Seen::Gossip { .. })));
    let at_a = a.drain(Duration::from_millis(10)).await;
    assert!(!at_a.iter().any(is_direct));

    // Refused before anything is sent: over the limit, to a peer not connected, to itself.
    let err = a.handle.send_direct(b.peer, vec![0; MAX_DIRECT_BYTES + 1]).await.unwrap_err();
    assert!(
        matches!(err, NetError::DirectTooLarge { len, max } if len == MAX_DIRECT_BYTES + 1 && max == MAX_DIRECT_BYTES),
        "{err:?}"
    );
    let stranger = PeerId::random();
    let err = a.handle.send_direct(stranger, b"hello".to_vec()).await.unwrap_err();
    assert!(matches!(err, NetError::NotConnected(p) if p == stranger), "{err:?}");
    assert!(err.to_string().contains("not connected"), "{err}");
    let err = a.handle.send_direct(a.peer, b"hello".to_vec()).await.unwrap_err();
    assert!(matches!(err, NetError::NotConnected(_)), "{err:?}");
    // A peer that left is not connected either.
    let gone = c.peer;
    c.stop().await;
    eventually("C gone", || async { !a.peer_ids().await.contains(&gone) }).await;
    let err = a.handle.send_direct(gone, b"hello".to_vec()).await.unwrap_err();
    assert!(matches!(err, NetError::NotConnected(_)), "{err:?}");
    assert!(!b.drain(Duration::from_millis(200)).await.iter().any(is_direct));
    a.stop().await;
    b.stop().await;
}

/// A peer that speaks the direct protocol's name and writes the given raw bytes as its message.
async fn raw_direct_sender(chain_id: u64, to: &Node, raw: Vec<u8>) -> PeerId {
    let mut swarm =
        raw_swarm(format!("/weft/{chain_id}/direct/1"), ProtocolSupport::Outbound, Duration::from_secs(10));
    let peer = *swarm.local_peer_id();
    swarm.dial(to.addr.clone()).unwrap();
    let target = to.peer;
    tokio::spawn(async move {
        let mut raw = Some(raw);
        loop {
            if let SwarmEvent::ConnectionEstablished { .. } = swarm.select_next_some().await
                && let Some(raw) = raw.take()
            {
                swarm.behaviour_mut().send_request(&target, raw);
            }
        }
    });
    peer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_frame_over_the_limit_gets_its_sender_banned() {
    let mut b = spawn(config(1), Serve::Never).await;
    // A length prefix one byte over the limit, and a little of the body: refused by the prefix.
    let mut raw = u32::try_from(MAX_DIRECT_BYTES + 1).unwrap().to_be_bytes().to_vec();
    raw.extend_from_slice(&[0; 1024]);
    let liar = raw_direct_sender(1, &b, raw).await;
    let seen = b.until("the liar banned", |s| matches!(s, Seen::Disconnected(p) if *p == liar)).await;
    assert!(!seen.iter().any(|s| matches!(s, Seen::Direct { .. })), "{seen:?}");
    sleep(Duration::from_millis(300)).await;
    assert!(!b.peer_ids().await.contains(&liar));

    // A truncated frame within the limit fails its stream but blames nobody: the connection
    // could have broken.
    let mut raw = 100u32.to_be_bytes().to_vec();
    raw.extend_from_slice(&[0; 10]);
    let clumsy = raw_direct_sender(1, &b, raw).await;
    b.expect("the clumsy peer connects", |s| matches!(s, Seen::Connected(p) if *p == clumsy)).await;
    let seen = b.drain(Duration::from_millis(1500)).await;
    assert!(!seen.iter().any(|s| matches!(s, Seen::Direct { .. } | Seen::Disconnected(_))), "{seen:?}");
    assert!(b.peer_ids().await.contains(&clumsy));
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_nodes_are_reconnected() {
    let started = Instant::now();
    let boot_config = config(1);
    let boot = spawn(boot_config.clone(), Serve::Never).await;
    let mut b = spawn(with_bootnode(config(1), &boot), Serve::Never).await;
    let c_config = with_bootnode(config(1), &boot);
    let c = spawn(c_config.clone(), Serve::Never).await;
    for node in [&boot, &b, &c] {
        eventually("full mesh", || async { node.peer_ids().await.len() == 2 }).await;
    }

    // The bootnode restarts with the same key on the same port: B and C redial it.
    let boot_peer = boot.peer;
    let mut same_port = boot.addr.clone();
    same_port.pop();
    boot.stop().await;
    b.expect("B loses the bootnode", |s| matches!(s, Seen::Disconnected(p) if *p == boot_peer)).await;
    let mut boot_config = boot_config;
    boot_config.listen_addrs = vec![same_port];
    let boot = spawn(boot_config, Serve::Never).await;
    assert_eq!(boot.peer, boot_peer);
    eventually("B and C back at the bootnode", || async {
        let peers = boot.peer_ids().await;
        peers.contains(&b.peer) && peers.contains(&c.peer)
    })
    .await;
    eprintln!("bootnode restart, reconnected: {:?}", started.elapsed());

    // C restarts with the same key on a new port: it comes back through the bootnode, and B finds
    // it again.
    let c_peer = c.peer;
    c.stop().await;
    b.expect("B loses C", |s| matches!(s, Seen::Disconnected(p) if *p == c_peer)).await;
    let c = spawn(c_config, Serve::Never).await;
    assert_eq!(c.peer, c_peer);
    b.expect("B reconnects to C", |s| matches!(s, Seen::Connected(p) if *p == c_peer)).await;
    eventually("C back at the bootnode", || async { boot.peer_ids().await.contains(&c_peer) }).await;
    eprintln!("restarts: {:?}", started.elapsed());
    for node in [b, c, boot] {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_chains_never_mix() {
    let x = spawn(config(1), Serve::Never).await;
    let mut z = spawn(with_bootnode(config(1), &x), Serve::Never).await;
    let mut y = spawn(with_bootnode(config(2), &x), Serve::Never).await;
    wait_topic_peers(&x, Topic::Txs, 1).await;
    // Y reaches X's transport, learns through identify that X is on another chain, and leaves.
    y.expect("Y drops X", |s| matches!(s, Seen::Disconnected(p) if *p == x.peer)).await;

    x.handle.publish(Topic::Txs, b"chain 1 tx".to_vec()).await.unwrap();
    z.expect_gossip(b"chain 1 tx").await;
    let at_y = y.drain(Duration::from_secs(1)).await;
    assert!(!at_y.iter().any(|s| matches!(s, Seen::Gossip { .. })), "{at_y:?}");
    let published = y.handle.publish(Topic::Txs, b"chain 2 tx".to_vec()).await;
    assert!(matches!(published, Err(NetError::NoPeers)), "{published:?}");
    assert!(y.peer_ids().await.is_empty());
    assert_eq!(x.handle.topic_peers(Topic::Txs).await, vec![z.peer]);
    for node in [x, y, z] {
        node.stop().await;
    }
}

#[test]
fn p2p_key_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p2p.key");
    let key = generate_keypair();
    write_keypair(&path, &key).unwrap();
    assert_eq!(std::fs::read(&path).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(read_keypair(&path).unwrap().public().to_peer_id(), key.public().to_peer_id());
    assert!(
        matches!(write_keypair(&path, &generate_keypair()), Err(NetError::KeyFile { .. })),
        "no overwrite"
    );
    std::fs::write(&path, [1u8; 31]).unwrap();
    assert!(matches!(read_keypair(&path), Err(NetError::BadKey { .. })));
    std::fs::write(&path, [1u8; 64]).unwrap();
    assert!(matches!(read_keypair(&path), Err(NetError::BadKey { .. })));
}

/// A served chain: the blocks, their certificates, the honest entries and forged ones.
struct ServedChain {
    blocks: Vec<weft_types::Block>,
    certs: Vec<weft_types::consensus::FinalityCertificate>,
    good: Vec<Vec<u8>>,
    forged: Vec<Vec<u8>>,
}

/// A finalized chain of `count` empty blocks over `genesis`, each with its own finality
/// certificate signed by `validator` (the only validator), as served entries (indexed by
/// height; entry 0 is a placeholder), and a forged copy whose entries claim other views.
fn served_chain(
    genesis: &weft_node::genesis::GenesisFile,
    validator: &ed25519_dalek::SigningKey,
    count: u64,
) -> ServedChain {
    use parity_scale_codec::Encode;
    use weft_types::consensus::{BlockRef, Certificate, FinalityCertificate, ValidatorSignature, Vote};
    let dir = tempfile::tempdir().unwrap();
    let store = weft_node::store::Store::open(&dir.path().join("chain.redb")).unwrap();
    let runtime = weft_runtime::Runtime::new(genesis.chain_id, genesis.min_gas_price).unwrap();
    let empty = Arc::new(weft_runtime::state::memory::MemoryState::new());
    let g = runtime.genesis(empty, &genesis.runtime_genesis().unwrap()).unwrap();
    store.commit_block(&g.block, &g.receipts, &g.changes).unwrap();
    let proposer = weft_types::tx::address_of(validator);
    let (mut blocks, mut certs, mut good, mut forged) = (vec![], vec![], vec![vec![]], vec![vec![]]);
    for height in 1..=count {
        let parent = store.head().unwrap().unwrap();
        let state: weft_runtime::SharedBackend = Arc::new(store.state().unwrap());
        let out =
            weft_runtime::BlockBuilder::new(&runtime, state, &parent, parent.timestamp_ms + 1, proposer)
                .finish()
                .unwrap();
        store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
        let view = height * 2;
        let vote = Vote::Finalize(BlockRef { view, height, hash: out.block.hash() });
        let signed = vote.sign(genesis.chain_id, validator);
        let sig = ValidatorSignature { validator: signed.signer, signature: signed.signature };
        let cert = FinalityCertificate::new(Certificate::new(vote, [sig]).unwrap()).unwrap();
        // A served entry: SCALE(CertifiedBlock) = block ‖ view (u64 LE) ‖ certificate.
        let entry = |view: u64| {
            let proof = weft_types::consensus::FinalityProof { view, certificate: cert.clone() };
            weft_types::consensus::CertifiedBlock { block: out.block.clone(), proof }.encode()
        };
        good.push(entry(view));
        forged.push(entry(view + 1_000));
        blocks.push(out.block);
        certs.push(cert);
    }
    ServedChain { blocks, certs, good, forged }
}

/// A one-validator genesis (the validator's key is `validator`) funding alice, saved in `dir`.
fn one_validator_genesis(
    dir: &std::path::Path,
    chain_id: u64,
    validator: &ed25519_dalek::SigningKey,
) -> weft_node::genesis::GenesisFile {
    use weft_node::genesis::{ConsensusParams, GenesisBalance, GenesisFile, GenesisValidator};
    let genesis = GenesisFile {
        chain_id,
        timestamp_ms: 1_000,
        min_gas_price: 1,
        validators: vec![GenesisValidator {
            address: weft_types::tx::address_of(validator),
            power: 1,
            name: "v".into(),
        }],
        balances: vec![GenesisBalance {
            address: weft_types::dev::dev_address("alice"),
            amount: weft_types::dev::DEV_BALANCE,
        }],
        consensus: ConsensusParams::default(),
    };
    genesis.save(&dir.join("genesis.json")).unwrap();
    genesis
}

/// Starts an in-process `weft-node run` follower (its key is not the validator's) over the
/// genesis in `dir`, dialling `bootnodes`.
async fn start_follower(
    dir: &std::path::Path,
    bootnodes: &[&Node],
    tune: impl FnOnce(&mut weft_node::config::P2pSection),
) -> (weft_node::validator::ValidatorNode, PeerId) {
    // A key of its own, not the validator's.
    let key =
        ed25519_dalek::SigningKey::from_bytes(&weft_types::sha3_256(dir.as_os_str().as_encoded_bytes()).0);
    start_node(dir, &key, bootnodes, tune).await
}

/// Starts an in-process `weft-node run` node with the validator key `key` over the genesis in
/// `dir`, dialling `bootnodes`.
async fn start_node(
    dir: &std::path::Path,
    key: &ed25519_dalek::SigningKey,
    bootnodes: &[&Node],
    tune: impl FnOnce(&mut weft_node::config::P2pSection),
) -> (weft_node::validator::ValidatorNode, PeerId) {
    use weft_node::config::{NodeConfig, P2pSection, RpcSection, TestSection, write_key};
    write_key(&dir.join("validator.key"), key).unwrap();
    write_keypair(&dir.join("node.key"), &generate_keypair()).unwrap();
    let mut p2p = P2pSection::new("/ip4/127.0.0.1/tcp/0".into());
    p2p.bootnodes = bootnodes.iter().map(|n| n.addr.to_string()).collect();
    tune(&mut p2p);
    let node_config = NodeConfig {
        name: "node".into(),
        genesis: dir.join("genesis.json"),
        data_dir: dir.join("data"),
        validator_key: dir.join("validator.key"),
        node_key: dir.join("node.key"),
        rpc: RpcSection::new("127.0.0.1:0".parse().unwrap()),
        p2p,
        test: TestSection::default(),
    };
    let node = weft_node::validator::ValidatorNode::start(&node_config).await.unwrap();
    let me: PeerId = node.chain().status.meta().peer_id.clone().unwrap().parse().unwrap();
    (node, me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_whose_store_fails_to_commit_stops_with_the_reason() {
    let chain_id = 9_193;
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[44; 32]);
    one_validator_genesis(dir.path(), chain_id, &key);
    // The only validator: it finalizes blocks alone, one per block interval.
    let (mut node, _) = start_node(dir.path(), &key, &[], |_| {}).await;
    let chain = node.chain().clone();
    let height = || chain.ledger.store().head().unwrap().unwrap().height;
    eventually("a block finalized", || async { height() >= 1 }).await;
    chain.ledger.store().fail_commits(true);
    let stopped = tokio::time::timeout(WAIT, node.stopped()).await.expect("the validator stopped");
    let reason = stopped.to_string();
    assert!(reason.contains("injected write fault") && reason.contains("chain.redb"), "{reason}");
    let at_stop = height();
    sleep(Duration::from_millis(1_500)).await;
    assert_eq!(height(), at_stop, "nothing committed once stopped");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gossiped_transactions_are_limited_per_peer() {
    use parity_scale_codec::Encode;
    let chain_id = 9_192;
    let dir = tempfile::tempdir().unwrap();
    one_validator_genesis(dir.path(), chain_id, &ed25519_dalek::SigningKey::from_bytes(&[43; 32]));
    let peer = spawn(config(chain_id), Serve::Never).await;
    // A budget of 5 transactions at once and 1 per second.
    let (follower, me) = start_follower(dir.path(), &[&peer], |p2p| {
        p2p.gossip_tx_rate = 1;
        p2p.gossip_tx_burst = 5;
    })
    .await;
    eventually("connected", || async { peer.peer_ids().await.contains(&me) }).await;
    wait_topic_peers(&peer, Topic::Txs, 1).await;
    // 30 valid transactions (alice's nonces 0..30) pushed by one peer at once.
    let alice = weft_types::dev::dev_key("alice");
    let started = Instant::now();
    for nonce in 0..30 {
        let tx = weft_types::Transaction {
            chain_id,
            sender: weft_types::tx::address_of(&alice),
            nonce,
            gas_limit: 100_000,
            gas_price: 1,
            action: weft_types::tx::Action::Transfer { to: weft_types::dev::dev_address("bob"), amount: 1 },
        };
        peer.handle.publish(Topic::Txs, tx.sign(&alice).encode()).await.unwrap();
    }
    let pooled = || follower.chain().admission.size().0 as u64;
    eventually("the burst admitted", || async { pooled() >= 5 }).await;
    sleep(Duration::from_millis(500)).await;
    let allowed = 5 + started.elapsed().as_secs() + 1;
    assert!(pooled() <= allowed, "{} transactions admitted; the budget allows {allowed}", pooled());
    assert!(pooled() < 30);
    // What the budget dropped is counted in node_metrics: with what was admitted, all thirty.
    let rpc = jsonrpsee_http_client::HttpClientBuilder::default()
        .build(format!("http://{}", follower.rpc_addr()))
        .unwrap();
    let over_limit = || async {
        use weft_rpc_api::NodeApiClient;
        rpc.node_metrics().await.unwrap().gossip_txs_over_peer_limit
    };
    eventually("every transaction admitted or counted", || async { over_limit().await + pooled() == 30 })
        .await;
    assert!(over_limit().await >= 30 - allowed);
    follower.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_catch_up_with_the_network_is_not_healthy() {
    use weft_rpc_api::NodeApiClient;
    use weft_types::consensus::ConsensusMessage;
    let chain_id = 9_194;
    let dir = tempfile::tempdir().unwrap();
    let validator = ed25519_dalek::SigningKey::from_bytes(&[45; 32]);
    let genesis = one_validator_genesis(dir.path(), chain_id, &validator);
    let ServedChain { certs, .. } = served_chain(&genesis, &validator, 4);
    // Its only peer answers every blocks request with nothing.
    let peer = spawn(config(chain_id), Serve::Blocks(Arc::new(vec![vec![]]))).await;
    let (follower, me) = start_follower(dir.path(), &[&peer], |_| {}).await;
    eventually("connected", || async { peer.peer_ids().await.contains(&me) }).await;
    wait_topic_peers(&peer, Topic::Consensus, 1).await;
    let rpc = jsonrpsee_http_client::HttpClientBuilder::default()
        .build(format!("http://{}", follower.rpc_addr()))
        .unwrap();
    assert!(rpc.node_health().await.unwrap().healthy, "connected and up to date");
    // The network finalized block 4; the follower cannot fetch it, and its sync gives up.
    let certificate = ConsensusMessage::Certificate(certs[3].certificate());
    let mut data = parity_scale_codec::Encode::encode(&certificate);
    data.extend(0u32.to_le_bytes());
    peer.handle.publish(Topic::Consensus, data).await.unwrap();
    eventually("the follower heard of block 4", || async { follower.chain().status.network_final() == 4 })
        .await;
    // Its sync runs out of attempts at once (empty answers); then it is no longer syncing.
    sleep(Duration::from_millis(500)).await;
    eventually("its sync gave up", || async { !rpc.node_health().await.unwrap().syncing }).await;
    let health = rpc.node_health().await.unwrap();
    assert_eq!(health.height, 0);
    assert!(!health.healthy && health.peers == 1, "behind the network yet healthy: {health:?}");
    follower.shutdown().await;
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_drops_a_peer_serving_bad_blocks_and_finishes_from_another() {
    use weft_types::consensus::ConsensusMessage;
    let chain_id = 9_191;
    let dir = tempfile::tempdir().unwrap();
    let validator = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let genesis = one_validator_genesis(dir.path(), chain_id, &validator);
    let ServedChain { blocks, certs, good: good_entries, forged: bad_entries } =
        served_chain(&genesis, &validator, 4);

    // An honest peer serving one block per request and a peer serving made-up views (with the
    // valid certificates: only the views are wrong).
    let good = spawn(config(chain_id), Serve::OneByOne(Arc::new(good_entries))).await;
    let bad = spawn(config(chain_id), Serve::Blocks(Arc::new(bad_entries))).await;
    let (follower, me) = start_follower(dir.path(), &[&good, &bad], |_| {}).await;
    eventually("the follower connected to both peers", || async {
        good.peer_ids().await.contains(&me) && bad.peer_ids().await.contains(&me)
    })
    .await;
    wait_topic_peers(&good, Topic::Consensus, 1).await;

    // The finality certificate of block 4, gossiped (with its copy number) until the follower
    // has synced: it fetches the blocks from both peers in turn.
    let certificate = ConsensusMessage::Certificate(certs[3].certificate());
    let head = |f: &weft_node::validator::ValidatorNode| f.chain().ledger.store().head().unwrap().unwrap();
    let deadline = Instant::now() + WAIT * 3;
    let mut copy = 0u32;
    while head(&follower).height < 4 {
        assert!(Instant::now() < deadline, "the follower did not sync: head {}", head(&follower).height);
        let mut data = parity_scale_codec::Encode::encode(&certificate);
        data.extend(copy.to_le_bytes());
        copy += 1;
        let _ = good.handle.publish(Topic::Consensus, data).await;
        sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(head(&follower).hash(), blocks[3].hash());
    // Every block is stored with the honest entry's view and certificate.
    for height in 1..=4u64 {
        let stored = follower.chain().ledger.store().certificate(height).unwrap().unwrap();
        assert_eq!(stored[..8], (height * 2).to_le_bytes(), "block {height}: the view");
    }
    // The bad peer was penalized: disconnected and refused.
    eventually("the bad peer dropped", || async { !bad.peer_ids().await.contains(&me) }).await;
    sleep(Duration::from_secs(1)).await;
    assert!(!bad.peer_ids().await.contains(&me), "the bad peer is refused");
    assert!(good.peer_ids().await.contains(&me), "the honest peer is kept");
    follower.shutdown().await;
    good.stop().await;
    bad.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_answers_a_block_request_to_the_asking_peer_alone() {
    use parity_scale_codec::Encode;
    use weft_types::consensus::ConsensusMessage;
    let chain_id = 9_195;
    let dir = tempfile::tempdir().unwrap();
    let key = ed25519_dalek::SigningKey::from_bytes(&[46; 32]);
    one_validator_genesis(dir.path(), chain_id, &key);
    let mut asker = spawn(config(chain_id), Serve::Never).await;
    let mut bystander = spawn(config(chain_id), Serve::Never).await;
    // The only validator: it finalizes blocks alone.
    let (node, me) = start_node(dir.path(), &key, &[&asker, &bystander], |_| {}).await;
    eventually("connected to both", || async {
        asker.peer_ids().await.contains(&me) && bystander.peer_ids().await.contains(&me)
    })
    .await;
    wait_topic_peers(&asker, Topic::Consensus, 1).await;
    let chain = node.chain().clone();
    eventually("a block finalized", || async { chain.ledger.store().head().unwrap().unwrap().height >= 1 })
        .await;

    // A block the validator does not have: it answers with its latest finalization, from which
    // the asker could sync. Asked over gossip (as validators ask, with a copy number) and then
    // directly, the answer comes each time to the asker alone, as a direct message.
    let request = ConsensusMessage::BlockRequest(Hash([9; 32])).encode();
    let mut gossiped = request.clone();
    gossiped.extend(0u32.to_le_bytes());
    asker.handle.publish(Topic::Consensus, gossiped).await.unwrap();
    let is_answer = |s: &Seen| matches!(s, Seen::Direct { peer, .. } if *peer == me);
    for round in 0..2 {
        let Seen::Direct { data, .. } = asker.expect("the answer", is_answer).await else { unreachable!() };
        let answer = ConsensusMessage::decode_bounded(&data).unwrap();
        assert!(matches!(answer, ConsensusMessage::Certificate(_)), "round {round}: {answer:?}");
        if round == 0 {
            asker.handle.send_direct(me, request.clone()).await.unwrap();
        }
    }
    let elsewhere = bystander.drain(Duration::from_millis(500)).await;
    assert!(!elsewhere.iter().any(|s| matches!(s, Seen::Direct { .. })), "{elsewhere:?}");
    node.shutdown().await;
    asker.stop().await;
    bystander.stop().await;
}
