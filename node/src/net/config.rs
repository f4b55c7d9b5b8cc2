//! The network's configuration ([`NetConfig`]) and the node's p2p key: generating it and storing it
//! as its 32-byte ed25519 secret.

use std::{fs, io::Read, path::Path, time::Duration};

use libp2p::{Multiaddr, identity::Keypair, multiaddr::Protocol};
use weft_types::ChainId;

use super::{NetError, PeerId, gossip::TopicLimits, protocol::DEFAULT_MAX_RESPONSE_BYTES};

/// Everything [`super::Network::start`] needs. Build it with [`NetConfig::new`] and change fields.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// The node's p2p identity (an ed25519 key, distinct from its validator key).
    pub keypair: Keypair,
    /// The chain: part of every protocol and topic name.
    pub chain_id: ChainId,
    /// Addresses to listen on, e.g. `/ip4/0.0.0.0/tcp/30333` (port 0 picks a free port).
    pub listen_addrs: Vec<Multiaddr>,
    /// Addresses other peers should dial this node at, when they differ from the listen
    /// addresses (behind NAT, or listening on `0.0.0.0`).
    pub external_addrs: Vec<Multiaddr>,
    /// Peers to start from, each ending in `/p2p/<peer id>`; redialled forever.
    pub bootnodes: Vec<Multiaddr>,
    /// Whether to run Kademlia (discover and dial peers beyond the bootnodes). Off, the node talks
    /// only to its bootnodes, the peers that dial it and the ones given to [`super::NetHandle::dial`].
    pub discovery: bool,
    /// Interval of the Kademlia bootstrap (a lookup of the node's own id).
    pub kad_bootstrap_interval: Duration,
    /// Most established inbound connections.
    pub max_inbound: u32,
    /// Most established outbound connections.
    pub max_outbound: u32,
    /// Most connections to one peer (two lets simultaneous dials both succeed).
    pub max_per_peer: u32,
    /// How long a connection with nothing to do (in no gossip mesh, no request) stays open.
    pub idle_connection_timeout: Duration,
    /// Per-topic gossip size limits.
    pub topic_limits: TopicLimits,
    /// Gossipsub heartbeat: mesh maintenance and score decay bookkeeping.
    pub heartbeat_interval: Duration,
    /// How long a gossip message id is remembered to drop duplicates.
    pub duplicate_cache_time: Duration,
    /// Timeout of an outbound request, from sending to the whole response.
    pub request_timeout: Duration,
    /// Largest response this node accepts (and sends), in bytes.
    pub max_response_bytes: usize,
    /// Most inbound block requests waiting for the application's answer.
    pub max_pending_answers: usize,
    /// How long an inbound block request waits for the application's answer.
    pub answer_timeout: Duration,
    /// Most outbound requests in flight.
    pub max_pending_requests: usize,
    /// Most direct messages ([`super::NetHandle::send_direct`]) in flight, to all peers.
    pub max_pending_direct: usize,
    /// First delay before redialling a known peer that disconnected or failed a dial.
    pub redial_initial: Duration,
    /// Largest delay between redials (the delay doubles per failure up to this).
    pub redial_max: Duration,
    /// Most known peers kept for redialling (bootnodes always are).
    pub max_known_peers: usize,
    /// How long a penalized or graylisted peer is refused.
    pub ban_duration: Duration,
    /// Capacity of the event channel to the application.
    pub event_buffer: usize,
    /// Capacity of the command channel from the handles.
    pub command_buffer: usize,
}

impl NetConfig {
    /// A configuration with the defaults: listen on `/ip4/0.0.0.0/tcp/30333`, no bootnodes,
    /// discovery on.
    pub fn new(keypair: Keypair, chain_id: ChainId) -> NetConfig {
        NetConfig {
            keypair,
            chain_id,
            listen_addrs: vec![
                Multiaddr::empty().with(Protocol::Ip4([0, 0, 0, 0].into())).with(Protocol::Tcp(30333)),
            ],
            external_addrs: Vec::new(),
            bootnodes: Vec::new(),
            discovery: true,
            kad_bootstrap_interval: Duration::from_secs(60),
            max_inbound: 64,
            max_outbound: 32,
            max_per_peer: 2,
            idle_connection_timeout: Duration::from_secs(120),
            topic_limits: TopicLimits::default(),
            heartbeat_interval: Duration::from_millis(700),
            duplicate_cache_time: Duration::from_secs(60),
            request_timeout: Duration::from_secs(10),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_pending_answers: 64,
            answer_timeout: Duration::from_secs(5),
            max_pending_requests: 256,
            max_pending_direct: 256,
            redial_initial: Duration::from_millis(500),
            redial_max: Duration::from_secs(30),
            max_known_peers: 256,
            ban_duration: Duration::from_secs(600),
            event_buffer: 4096,
            command_buffer: 1024,
        }
    }

    /// The peer id of this configuration's key.
    pub fn peer_id(&self) -> PeerId {
        self.keypair.public().to_peer_id()
    }

    /// Checks the values that would break the network rather than merely tune it.
    pub(crate) fn validate(&self) -> Result<(), NetError> {
        let bad = |what: &str| Err(NetError::Config(what.to_string()));
        if self.listen_addrs.is_empty() {
            return bad("no listen address");
        }
        if self.max_per_peer == 0 || self.max_outbound == 0 {
            return bad("connection limits must allow at least one connection");
        }
        if self.event_buffer == 0
            || self.command_buffer == 0
            || self.max_pending_requests == 0
            || self.max_pending_direct == 0
        {
            return bad("channel and queue capacities must be positive");
        }
        if self.heartbeat_interval.is_zero() || self.kad_bootstrap_interval.is_zero() {
            return bad("intervals must be positive");
        }
        if self.redial_initial.is_zero() || self.redial_max < self.redial_initial {
            return bad("redial delays must be positive and redial_max at least redial_initial");
        }
        let year = Duration::from_secs(365 * 24 * 3600);
        let longest = [self.ban_duration, self.redial_max, self.request_timeout, self.answer_timeout];
        if longest.iter().any(|d| *d > year) {
            return bad("durations must be at most a year");
        }
        if self.max_response_bytes < 1024 {
            return bad("max_response_bytes must be at least 1 KiB");
        }
        for (topic, max) in self.topic_limits.iter() {
            if max == 0 {
                return Err(NetError::Config(format!("{topic:?} topic limit is zero")));
            }
        }
        for addr in &self.bootnodes {
            bootnode_peer_id(addr)?;
        }
        Ok(())
    }
}

/// The peer id at the end of a bootnode address.
pub(crate) fn bootnode_peer_id(addr: &Multiaddr) -> Result<PeerId, NetError> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Ok(peer),
        _ => Err(NetError::Config(format!("address {addr} does not end in /p2p/<peer id>"))),
    }
}

/// A new random p2p key (OS randomness).
pub fn generate_keypair() -> Keypair {
    Keypair::generate_ed25519()
}

/// The p2p key with this 32-byte ed25519 secret (zeroed after use). libp2p refuses only other
/// lengths, so this fails only if that changes.
pub fn keypair_from_secret(mut secret: [u8; 32]) -> Result<Keypair, NetError> {
    Keypair::ed25519_from_bytes(&mut secret)
        .map_err(|e| NetError::Config(format!("invalid ed25519 secret: {e}")))
}

/// Writes `keypair`'s 32-byte secret, raw (libp2p's ed25519 secret bytes, not hex), to a new
/// private file `path` ([`weft_types::key_file::create_private`]: mode 0600, never over an
/// existing file). Refuses keys that are not ed25519.
pub fn write_keypair(path: &Path, keypair: &Keypair) -> Result<(), NetError> {
    let key_err = |source| NetError::KeyFile { path: path.to_path_buf(), source };
    let ed = keypair
        .clone()
        .try_into_ed25519()
        .map_err(|_| NetError::BadKey { path: path.to_path_buf(), reason: "not an ed25519 key".into() })?;
    weft_types::key_file::create_private(path, ed.secret().as_ref()).map_err(key_err)
}

/// Reads a p2p key written by [`write_keypair`]: exactly 32 bytes.
pub fn read_keypair(path: &Path) -> Result<Keypair, NetError> {
    let file =
        fs::File::open(path).map_err(|source| NetError::KeyFile { path: path.to_path_buf(), source })?;
    let mut bytes = Vec::with_capacity(33);
    file.take(33)
        .read_to_end(&mut bytes)
        .map_err(|source| NetError::KeyFile { path: path.to_path_buf(), source })?;
    let secret: [u8; 32] = bytes.as_slice().try_into().map_err(|_| NetError::BadKey {
        path: path.to_path_buf(),
        reason: format!("expected a 32-byte ed25519 secret, found {} bytes", bytes.len()),
    })?;
    bytes.fill(0);
    keypair_from_secret(secret)
}
