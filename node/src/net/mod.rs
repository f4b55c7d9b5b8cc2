//! The validator network: the only module that knows libp2p. It runs one libp2p swarm in a tokio
//! task and talks to the rest of the node through a cloneable [`NetHandle`] (commands in) and a
//! bounded channel of [`NetEvent`]s (gossip, peers, requests out).
//!
//! # Stack
//!
//! TCP + noise + yamux; identify (its protocol version names the chain); Kademlia over the
//! bootnodes with a periodic bootstrap, in server mode, on `/weft/<chain_id>/kad/1`; gossipsub on
//! three topics `/weft/<chain_id>/{txs,consensus,blocks}/1` with the protocol prefix
//! `/weft/<chain_id>/meshsub`; a request-response protocol `/weft/<chain_id>/sync/1` for block
//! fetching and status ([`protocol`]); a request-response protocol `/weft/<chain_id>/direct/1`
//! for one message to one peer (`direct`); connection limits and a block list for bans. A chain id
//! appears in every protocol and topic name, and a peer whose identify protocol version names
//! another chain is disconnected and banned, so two chains never exchange a message.
//!
//! # Using it
//!
//! [`Network::start`] returns a [`NetHandle`] (cheap to clone: `publish`, `report`, `penalize`,
//! `send_direct`, `request_blocks`, `request_status`, `set_status`, `dial`, `peers`,
//! `topic_peers`, `peer_score`, `listen_addrs`, `local_peer_id`, `partition` (tests only),
//! `shutdown`) and the event receiver. Status
//! requests are answered by the swarm itself from the value last given to
//! [`NetHandle::set_status`], so they cost the application nothing; block requests come to the
//! application as [`NetEvent::BlocksRequested`] with a [`BlocksReply`] to answer from its store.
//!
//! ```text
//! let Network { handle, mut events } = Network::start(config).await?;
//! while let Some(event) = events.recv().await {
//!     match event {
//!         NetEvent::Gossip { topic, data, id, source } => {
//!             let verdict = check(topic, &data); // decode_bounded, signature, ...
//!             handle.report(id, source, verdict).await?;
//!         }
//!         NetEvent::Direct { peer, data, permit } => {
//!             if provably_bad(&data) {
//!                 handle.penalize(peer).await?; // nothing to report: it is not gossip
//!             }
//!             drop(permit); // with the message
//!         }
//!         NetEvent::BlocksRequested { request, reply, .. } => {
//!             reply.send(read_blocks(request)); // cut to the limits if needed
//!         }
//!         NetEvent::PeerConnected { .. } | NetEvent::PeerDisconnected { .. } => {}
//!     }
//! }
//! ```
//!
//! # Decisions
//!
//! * **Anonymous gossip, content ids.** Transactions, votes, proposals and certificates are all
//!   ed25519-signed by their authors and checked by the application, so gossipsub runs with
//!   [`MessageAuthenticity::Anonymous`](libp2p::gossipsub::MessageAuthenticity) and
//!   `ValidationMode::Anonymous`: no second signature, no author or sequence number on the wire.
//!   The message id is then `sha3_256(len(topic) ‖ topic ‖ data)` ([`MessageId`]), so the same
//!   transaction published by two nodes is one message, and republishing identical bytes within
//!   [`NetConfig::duplicate_cache_time`] is refused with [`NetError::Duplicate`] (gossipsub's
//!   IHAVE/IWANT already repairs losses inside the mesh). Blame goes to the propagation source,
//!   the peer that delivered the message over an authenticated (noise) connection.
//! * **Blocks ride gossip, catch-up rides request-response.** The `blocks` topic carries a
//!   leader's proposal together with its block (`ConsensusMessage::Proposal`, at most
//!   `MAX_CONSENSUS_MESSAGE_BYTES` = 8 MiB + 153 bytes): every validator needs the body to vote,
//!   and gossiping only a header would add a fetch round trip to every view. Its gossip limit is
//!   raised to that size; the other topics keep small limits (`txs`: `MAX_TX_BYTES`, `consensus`:
//!   64 KiB, which holds a vote or a full certificate). Finalized blocks for a node that lags are
//!   fetched by [`NetHandle::request_blocks`].
//! * **Answers to one peer ride their own request-response protocol.** A message meant for one
//!   peer (the consensus core's answers to its block and certificate requests, catch-up
//!   certificates) goes over `/weft/<chain_id>/direct/1` with [`NetHandle::send_direct`] and
//!   arrives as one [`NetEvent::Direct`]: no broadcast to every peer, no duplicate filter (the
//!   same bytes sent twice arrive twice, so no copy number), no validation round and never
//!   forwarded. It is a protocol and behaviour of its own rather than a variant of `sync/1`
//!   because its limits differ: a direct message may be as large as a proposal with its block
//!   ([`MAX_DIRECT_BYTES`] = `MAX_CONSENSUS_MESSAGE_BYTES`) where a sync request is at most
//!   1 KiB, and it has its own stream count. The answer is a one-byte ack (taken, or refused
//!   for lack of room), so `send_direct` returns once the peer's application has the message.
//!   It goes only to a connected peer ([`NetError::NotConnected`] otherwise, no dial: the
//!   answer is for a peer that just spoke). Bounds: at most
//!   [`NetConfig::max_pending_direct`] in flight in all and 16 per peer ([`NetError::Busy`]
//!   beyond), [`NetConfig::request_timeout`] each, 32 streams per connection; inbound, a
//!   peer's messages held by the application are capped in count (64) and bytes (three of the
//!   largest) through the [`DirectPermit`] each event carries, and a full event channel
//!   refuses the message (logged, like gossip). A length prefix over the limit is provable
//!   misbehaviour (the sender checks before writing): its sender is banned like a penalized
//!   peer; the application judges the content and calls [`NetHandle::penalize`] for a
//!   provable fault.
//! * **Sizes are checked before decoding.** Each topic's limit ([`TopicLimits`]) is given to
//!   gossipsub per topic (a larger message is dropped in its codec and counts as an invalid
//!   delivery of its sender) and checked again on `data.len()` before a message reaches the
//!   application. Request-response frames carry a length prefix that is refused over the limit
//!   before anything is read or allocated.
//! * **Validation and scoring.** Gossipsub runs with `validate_messages()`: nothing is forwarded
//!   until the application reports [`Verdict::Accept`]. [`Verdict::Reject`] drops the message and
//!   counts an invalid delivery against the peer that sent it (score weight
//!   [`INVALID_MESSAGE_WEIGHT`] × count², the count decaying by [`INVALID_MESSAGE_DECAY`] per
//!   second, so it halves in about 69 s); a peer whose score falls below [`GRAYLIST_THRESHOLD`]
//!   (three rejected messages within about 20 s, or more spread out) is graylisted by gossipsub
//!   and, at once, disconnected and banned for
//!   [`NetConfig::ban_duration`]. Reject only what no honest peer forwards (bad encoding or
//!   signature, wrong chain); use [`Verdict::Ignore`] for what is merely stale. Mesh-delivery
//!   penalties and IP colocation penalties are off: topics are quiet on an idle chain and
//!   validators may share a host.
//! * **Bounded everything.** The event channel ([`NetConfig::event_buffer`]) is filled with
//!   `try_send`: when the application falls behind, gossip is dropped (and reported `Ignore`, so
//!   not forwarded), a block request or direct message is refused, and all are logged. Commands,
//!   pending requests, pending answers, direct messages both ways, known peers, bans and
//!   addresses per peer are all capped.
//! * **Reconnection.** Bootnodes and peers this node was connected to are *known peers*; when one
//!   disconnects (other than by idling out of every mesh) it is redialled with exponential backoff
//!   between [`NetConfig::redial_initial`] and [`NetConfig::redial_max`]. Bootnodes are redialled
//!   forever, other known peers until [`MAX_REDIAL_FAILURES`] failures in a row. Kademlia finds
//!   peers that moved to a new address.
//!
//! * **Per-peer transaction budget.** [`GossipBudget`] is a token bucket per propagation source
//!   that the application consults before admitting a gossiped transaction (the service drops
//!   and counts what is over it, reporting [`Verdict::Ignore`]).
//! * **Partitions for tests.** [`NetHandle::partition`] cuts the node off from given peers with
//!   the block list (connections closed and refused both ways, no redials) and heals by dialling
//!   them again; the node exposes it only through its test admin RPC.
//!
//! Other modules name libp2p types only through the re-exports here ([`PeerId`], [`Multiaddr`],
//! [`Keypair`]).

mod budget;
mod config;
mod direct;
mod driver;
mod gossip;
mod peers;
pub mod protocol;
mod swarm;

use std::{fmt, sync::Arc};

use tokio::sync::{mpsc, oneshot, watch};

pub use libp2p::{Multiaddr, PeerId, identity::Keypair};

pub use self::{
    budget::{DEFAULT_GOSSIP_TX_BURST, DEFAULT_GOSSIP_TX_RATE, GossipBudget},
    config::{NetConfig, generate_keypair, keypair_from_secret, read_keypair, write_keypair},
    direct::{DirectPermit, MAX_DIRECT_BYTES},
    gossip::{
        GRAYLIST_THRESHOLD, INVALID_MESSAGE_DECAY, INVALID_MESSAGE_WEIGHT, TOPIC_SCORE_CAP, Topic,
        TopicLimits,
    },
    peers::MAX_REDIAL_FAILURES,
    protocol::{BlocksRequest, BlocksResponse, StatusResponse},
};

/// The id of a gossip message: `sha3_256(len(topic) ‖ topic ‖ data)` (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub [u8; 32]);

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId(")?;
        for b in &self.0[..8] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// The application's judgement of a gossip message, given back with [`NetHandle::report`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// Valid: deliver it to the mesh.
    Accept,
    /// Invalid in a way no honest peer forwards: drop it and lower the sender's score.
    Reject,
    /// Not useful (stale, duplicate, too far ahead): drop it without blame.
    Ignore,
}

/// A connected peer.
#[derive(Clone, PartialEq, Debug)]
pub struct PeerInfo {
    /// Its identity.
    pub peer_id: PeerId,
    /// The remote address of its first connection.
    pub addr: Multiaddr,
    /// Whether this node dialled it (outbound) rather than accepted it.
    pub outbound: bool,
    /// Its gossipsub score, once it has one.
    pub score: Option<f64>,
}

/// What the network tells the application.
#[derive(Debug)]
pub enum NetEvent {
    /// A gossip message within its topic's size limit. Answer it with [`NetHandle::report`]; it
    /// is forwarded to other peers only after [`Verdict::Accept`].
    Gossip {
        /// Its topic.
        topic: Topic,
        /// Its bytes, not yet decoded.
        data: Vec<u8>,
        /// Its id, for [`NetHandle::report`].
        id: MessageId,
        /// The peer that delivered it (not necessarily its author), for [`NetHandle::report`].
        source: PeerId,
    },
    /// The first connection to a peer opened.
    PeerConnected {
        /// The peer.
        peer: PeerId,
        /// The remote address of that connection.
        addr: Multiaddr,
    },
    /// The last connection to a peer closed.
    PeerDisconnected {
        /// The peer.
        peer: PeerId,
    },
    /// A message sent to this node alone with [`NetHandle::send_direct`] (never forwarded, never
    /// deduplicated). Judge it like gossip, but there is nothing to report: blame a provable
    /// fault with [`NetHandle::penalize`].
    Direct {
        /// The sending peer (authenticated by the connection).
        peer: PeerId,
        /// Its bytes (at most [`MAX_DIRECT_BYTES`]), not yet decoded.
        data: Vec<u8>,
        /// The room the message takes in `peer`'s share of pending direct messages; drop it
        /// with the message.
        permit: DirectPermit,
    },
    /// A peer asks for finalized blocks; answer with [`BlocksReply::send`] (dropping the reply
    /// refuses the request).
    BlocksRequested {
        /// The asking peer.
        peer: PeerId,
        /// What it asks for (`max_count` already capped to [`protocol::MAX_BLOCKS_PER_RESPONSE`]).
        request: BlocksRequest,
        /// Where the answer goes.
        reply: BlocksReply,
    },
}

/// The answer slot of a [`NetEvent::BlocksRequested`]. The network waits for it at most
/// [`NetConfig::answer_timeout`].
#[derive(Debug)]
pub struct BlocksReply {
    tx: oneshot::Sender<BlocksResponse>,
    max_count: usize,
    max_bytes: usize,
}

impl BlocksReply {
    /// Sends `response`, cut to the longest prefix that fits the request's `max_count`, the
    /// response size limit and [`protocol::MAX_BLOCK_ENTRY_BYTES`] per entry (the requester asks
    /// again from where it stopped). Returns how many entries are sent.
    pub fn send(self, mut response: BlocksResponse) -> usize {
        let kept = protocol::fitting_prefix(&response.blocks, self.max_count, self.max_bytes);
        if kept < response.blocks.len() {
            tracing::debug!(kept, offered = response.blocks.len(), "blocks response cut to its limits");
            response.blocks.truncate(kept);
        }
        let _ = self.tx.send(response);
        kept
    }
}

/// A running network: the handle to drive it and the events it produces.
#[derive(Debug)]
pub struct Network {
    /// Commands to the network.
    pub handle: NetHandle,
    /// What the network observed; bounded ([`NetConfig::event_buffer`]). The channel closes when
    /// the network stops.
    pub events: mpsc::Receiver<NetEvent>,
}

impl Network {
    /// Builds the swarm, starts listening (returning once every listen address is bound, so
    /// [`NetHandle::listen_addrs`] shows the real ports), dials the bootnodes and runs the swarm
    /// in a tokio task. Must be called inside a tokio runtime.
    pub async fn start(config: NetConfig) -> Result<Network, NetError> {
        driver::start(config).await
    }
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The configuration is unusable.
    #[error("invalid network configuration: {0}")]
    Config(String),
    /// The transport could not be built.
    #[error("cannot build the transport: {0}")]
    Transport(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file does not hold a 32-byte ed25519 secret.
    #[error("key file {path}: {reason}")]
    BadKey {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// A message over its topic's size limit was not published.
    #[error("{topic:?} message of {len} bytes is over the topic limit of {max} bytes")]
    MessageTooLarge {
        /// The topic.
        topic: Topic,
        /// The message size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A direct message over [`MAX_DIRECT_BYTES`] was not sent.
    #[error("direct message of {len} bytes is over the limit of {max} bytes")]
    DirectTooLarge {
        /// The message size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A direct message goes only to a connected peer (it is never dialled for one).
    #[error("peer {0} is not connected")]
    NotConnected(PeerId),
    /// The peer refused a direct message: it holds too many from this node, or its application
    /// is not keeping up.
    #[error("peer {0} refused the message: too busy")]
    Refused(PeerId),
    /// No connected peer is subscribed to the topic.
    #[error("no peer is subscribed to the topic")]
    NoPeers,
    /// The same bytes were published on the topic recently (see [`NetConfig::duplicate_cache_time`]).
    #[error("identical message published recently")]
    Duplicate,
    /// Gossipsub refused to publish for another reason.
    #[error("publish failed: {0}")]
    Publish(String),
    /// The peer gave no answer within the request timeout.
    #[error("request to {0} timed out")]
    Timeout(PeerId),
    /// The peer could not be reached.
    #[error("cannot reach peer {0}")]
    Unreachable(PeerId),
    /// The connection closed before the answer arrived, or the peer refused to answer.
    #[error("peer {0} closed the request without an answer")]
    NoAnswer(PeerId),
    /// The peer does not speak this chain's protocol (sync or direct) of the request.
    #[error("peer {0} does not speak this chain's protocol for the request")]
    Unsupported(PeerId),
    /// The peer's answer was too large, malformed, or not an answer to the request.
    #[error("bad response from {peer}: {reason}")]
    BadResponse {
        /// The peer.
        peer: PeerId,
        /// What was wrong.
        reason: String,
    },
    /// Too many requests (or direct messages, in all or to the peer) are in flight.
    #[error("too many requests in flight")]
    Busy,
    /// The network has stopped.
    #[error("the network has stopped")]
    Stopped,
}

/// Commands from a [`NetHandle`] to the swarm task.
#[derive(Debug)]
enum Command {
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<MessageId, NetError>>,
    },
    Report {
        id: MessageId,
        source: PeerId,
        verdict: Verdict,
    },
    Penalize {
        peer: PeerId,
    },
    Request {
        peer: PeerId,
        request: protocol::Request,
        reply: oneshot::Sender<Result<protocol::Response, NetError>>,
    },
    SendDirect {
        peer: PeerId,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), NetError>>,
    },
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    TopicPeers {
        topic: Topic,
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    PeerScore {
        peer: PeerId,
        reply: oneshot::Sender<Option<f64>>,
    },
    ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
    Partition {
        peers: Vec<PeerId>,
        reply: oneshot::Sender<()>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// A cloneable handle to a running network. When every handle is dropped the network stops.
#[derive(Clone, Debug)]
pub struct NetHandle {
    commands: mpsc::Sender<Command>,
    local_peer_id: PeerId,
    topic_limits: TopicLimits,
    status: Arc<watch::Sender<StatusResponse>>,
}

impl NetHandle {
    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Publishes `data` on `topic` to the connected peers subscribed to it.
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<MessageId, NetError> {
        let max = self.topic_limits.get(topic);
        if data.len() > max {
            return Err(NetError::MessageTooLarge { topic, len: data.len(), max });
        }
        self.call(|reply| Command::Publish { topic, data, reply }).await?
    }

    /// Gives the verdict on a [`NetEvent::Gossip`]: forward, reject (and blame `source`), or
    /// drop. Call it once per message, soon (gossipsub forgets unjudged messages after a few
    /// heartbeats).
    pub async fn report(&self, id: MessageId, source: PeerId, verdict: Verdict) -> Result<(), NetError> {
        self.send(Command::Report { id, source, verdict }).await
    }

    /// Disconnects `peer` and refuses it for [`NetConfig::ban_duration`], for misbehaviour seen
    /// outside gossip validation.
    pub async fn penalize(&self, peer: PeerId) -> Result<(), NetError> {
        self.send(Command::Penalize { peer }).await
    }

    /// Asks `peer` for finalized blocks (dialling it if needed). Fails with a clear error on a
    /// timeout ([`NetConfig::request_timeout`]), an unreachable peer, or a response that is too
    /// large, malformed or longer than `max_count`.
    pub async fn request_blocks(
        &self,
        peer: PeerId,
        request: BlocksRequest,
    ) -> Result<BlocksResponse, NetError> {
        let request = request.capped();
        let max_count = request.max_count as usize;
        match self.request(peer, protocol::Request::Blocks(request)).await? {
            protocol::Response::Blocks(blocks) if blocks.len() <= max_count => Ok(BlocksResponse {
                blocks: blocks.into_inner().into_iter().map(|b| b.into_inner()).collect(),
            }),
            protocol::Response::Blocks(blocks) => Err(NetError::BadResponse {
                peer,
                reason: format!("{} blocks for a request of at most {max_count}", blocks.len()),
            }),
            protocol::Response::Status(_) => {
                Err(NetError::BadResponse { peer, reason: "a status answer to a blocks request".into() })
            }
        }
    }

    /// Sends `data` to the connected `peer` alone, over `/weft/<chain_id>/direct/1`: it arrives
    /// there as one [`NetEvent::Direct`], every time it is sent. Returns once `peer` handed it to
    /// its application. Fails at once for a message over [`MAX_DIRECT_BYTES`]
    /// ([`NetError::DirectTooLarge`]), a peer not connected ([`NetError::NotConnected`]; it is
    /// not dialled) or too many direct messages in flight ([`NetError::Busy`]:
    /// [`NetConfig::max_pending_direct`] in all, 16 to one peer); later on a timeout
    /// ([`NetConfig::request_timeout`]), a closed connection, or a refusal by a busy peer
    /// ([`NetError::Refused`]).
    pub async fn send_direct(&self, peer: PeerId, data: Vec<u8>) -> Result<(), NetError> {
        if data.len() > MAX_DIRECT_BYTES {
            return Err(NetError::DirectTooLarge { len: data.len(), max: MAX_DIRECT_BYTES });
        }
        self.call(|reply| Command::SendDirect { peer, data, reply }).await?
    }

    /// Asks `peer` for its chain status.
    pub async fn request_status(&self, peer: PeerId) -> Result<StatusResponse, NetError> {
        match self.request(peer, protocol::Request::Status).await? {
            protocol::Response::Status(status) => Ok(status),
            protocol::Response::Blocks(_) => {
                Err(NetError::BadResponse { peer, reason: "a blocks answer to a status request".into() })
            }
        }
    }

    /// Sets the status this node answers [`NetHandle::request_status`] with (the swarm answers
    /// on its own, without an event). Call it after every commit.
    pub fn set_status(&self, status: StatusResponse) {
        self.status.send_replace(status);
    }

    /// Adds `addr` (which must end in `/p2p/<peer id>`) to the known peers and dials it.
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), NetError> {
        self.call(|reply| Command::Dial { addr, reply }).await?
    }

    /// The connected peers (empty once the network has stopped).
    pub async fn peers(&self) -> Vec<PeerInfo> {
        self.call(Command::Peers).await.unwrap_or_default()
    }

    /// The connected peers subscribed to `topic`.
    pub async fn topic_peers(&self, topic: Topic) -> Vec<PeerId> {
        self.call(|reply| Command::TopicPeers { topic, reply }).await.unwrap_or_default()
    }

    /// `peer`'s gossipsub score as this node sees it (kept for a while after it disconnects).
    pub async fn peer_score(&self, peer: PeerId) -> Option<f64> {
        self.call(|reply| Command::PeerScore { peer, reply }).await.ok().flatten()
    }

    /// The addresses this node listens on, with their real ports.
    pub async fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.call(Command::ListenAddrs).await.unwrap_or_default()
    }

    /// For tests of partitions: cuts this node off from exactly `peers` (replacing the previous
    /// set; empty heals). Connections to them are closed and refused both ways, and they are
    /// not dialled; peers no longer cut are dialled again at once.
    pub async fn partition(&self, peers: Vec<PeerId>) -> Result<(), NetError> {
        self.call(|reply| Command::Partition { peers, reply }).await
    }

    /// Stops the network and waits until its listeners and connections are closed.
    pub async fn shutdown(&self) {
        let _ = self.call(Command::Shutdown).await;
    }

    async fn request(
        &self,
        peer: PeerId,
        request: protocol::Request,
    ) -> Result<protocol::Response, NetError> {
        self.call(|reply| Command::Request { peer, request, reply }).await?
    }

    async fn send(&self, command: Command) -> Result<(), NetError> {
        self.commands.send(command).await.map_err(|_| NetError::Stopped)
    }

    async fn call<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, NetError> {
        let (tx, rx) = oneshot::channel();
        self.send(command(tx)).await?;
        rx.await.map_err(|_| NetError::Stopped)
    }
}
