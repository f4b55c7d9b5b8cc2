//! The swarm's parts: every protocol the node speaks ([`Behaviour`]), configured from a
//! [`NetConfig`], and binding the listeners.

use std::{collections::HashMap, time::Duration};

use futures::StreamExt;
use libp2p::{
    StreamProtocol, Swarm, allow_block_list, connection_limits, identify, kad,
    request_response::{self, ProtocolSupport},
    swarm::{NetworkBehaviour, SwarmEvent, behaviour::toggle::Toggle},
};

use super::{
    Multiaddr, NetConfig, NetError,
    direct::{self, DirectCodec, MAX_DIRECT_STREAMS},
    gossip::{self, Gossipsub, Topics},
    protocol::{self, SyncCodec},
};

/// How long `start` waits for the listeners to bind.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Concurrent inbound and outbound streams of the sync protocol per connection.
const MAX_SYNC_STREAMS: usize = 16;

/// Every protocol the node speaks, in the order the swarm consults them (limits and bans first).
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    pub(super) limits: connection_limits::Behaviour,
    pub(super) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(super) identify: identify::Behaviour,
    pub(super) kad: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
    pub(super) gossipsub: Gossipsub,
    pub(super) sync: request_response::Behaviour<SyncCodec>,
    /// One message to one peer (`/weft/<chain_id>/direct/1`): a behaviour of its own, for its
    /// own frame limit and stream count.
    pub(super) direct: request_response::Behaviour<DirectCodec>,
}

pub(super) fn behaviour(
    config: &NetConfig,
    topics: &Topics,
    protocol_version: &str,
    kad_protocol: &StreamProtocol,
) -> Result<Behaviour, NetError> {
    let local = config.peer_id();
    let limits = connection_limits::ConnectionLimits::default()
        .with_max_established_incoming(Some(config.max_inbound))
        .with_max_established_outgoing(Some(config.max_outbound))
        .with_max_pending_incoming(Some(config.max_inbound))
        .with_max_pending_outgoing(Some(config.max_outbound))
        .with_max_established_per_peer(Some(config.max_per_peer));
    let identify = identify::Config::new(protocol_version.to_string(), config.keypair.public())
        .with_agent_version(format!("weft-node/{}", env!("CARGO_PKG_VERSION")))
        .with_push_listen_addr_updates(true);
    let kad = config.discovery.then(|| {
        let mut kad_config = kad::Config::new(kad_protocol.clone());
        kad_config.set_periodic_bootstrap_interval(Some(config.kad_bootstrap_interval));
        let mut kad = kad::Behaviour::with_config(local, kad::store::MemoryStore::new(local), kad_config);
        // Answer lookups even without a confirmed external address (validators on private or
        // loopback networks have none).
        kad.set_mode(Some(kad::Mode::Server));
        kad
    });
    let sync_protocol = protocol::protocol_name(config.chain_id).map_err(NetError::Config)?;
    let sync = request_response::Behaviour::with_codec(
        SyncCodec { max_response_bytes: config.max_response_bytes },
        [(sync_protocol, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(MAX_SYNC_STREAMS),
    );
    let direct_protocol = direct::protocol_name(config.chain_id).map_err(NetError::Config)?;
    let direct = request_response::Behaviour::with_codec(
        DirectCodec,
        [(direct_protocol, ProtocolSupport::Full)],
        request_response::Config::default()
            .with_request_timeout(config.request_timeout)
            .with_max_concurrent_streams(MAX_DIRECT_STREAMS),
    );
    Ok(Behaviour {
        limits: connection_limits::Behaviour::new(limits),
        blocked: allow_block_list::Behaviour::default(),
        identify: identify::Behaviour::new(identify),
        kad: kad.into(),
        gossipsub: gossip::behaviour(config, topics)?,
        sync,
        direct,
    })
}

/// Starts every listener and waits until each has bound an address.
pub(super) async fn listen(
    swarm: &mut Swarm<Behaviour>,
    addrs: &[Multiaddr],
) -> Result<Vec<Multiaddr>, NetError> {
    let mut pending = HashMap::new();
    for addr in addrs {
        let id = swarm
            .listen_on(addr.clone())
            .map_err(|e| NetError::Listen { addr: addr.clone(), reason: e.to_string() })?;
        pending.insert(id, addr.clone());
    }
    let mut bound = Vec::new();
    let deadline = tokio::time::sleep(LISTEN_TIMEOUT);
    tokio::pin!(deadline);
    while !pending.is_empty() {
        tokio::select! {
            event = swarm.select_next_some() => match event {
                SwarmEvent::NewListenAddr { listener_id, address } => {
                    pending.remove(&listener_id);
                    bound.push(address);
                }
                SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                    if let Some(addr) = pending.remove(&listener_id) {
                        return Err(NetError::Listen { addr, reason: format!("{reason:?}") });
                    }
                }
                SwarmEvent::ListenerError { listener_id, error } => {
                    if let Some(addr) = pending.remove(&listener_id) {
                        return Err(NetError::Listen { addr, reason: error.to_string() });
                    }
                }
                _ => {}
            },
            () = &mut deadline => {
                let addr = pending.into_values().next().unwrap_or_else(Multiaddr::empty);
                return Err(NetError::Listen { addr, reason: "no address bound in time".into() });
            }
        }
    }
    Ok(bound)
}
