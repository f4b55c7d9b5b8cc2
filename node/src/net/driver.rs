//! The swarm task: builds the libp2p swarm from a [`NetConfig`], then runs one loop over the
//! handles' commands, swarm events, the application's answers to block requests and a
//! maintenance tick (bans, score checks, redials, direct-message shares).

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use futures::{StreamExt, future::BoxFuture, stream::FuturesUnordered};
use libp2p::{
    StreamProtocol, Swarm, SwarmBuilder, gossipsub, identify, kad, noise,
    request_response::{OutboundRequestId, ResponseChannel},
    swarm::{
        ConnectionError, SwarmEvent,
        dial_opts::{DialOpts, PeerCondition},
    },
    tcp, yamux,
};
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::MissedTickBehavior,
};

use super::{
    BlocksResponse, Command, MessageId, Multiaddr, NetConfig, NetError, NetEvent, NetHandle, Network, PeerId,
    PeerInfo, StatusResponse, Verdict,
    config::bootnode_peer_id,
    direct,
    gossip::{self, GRAYLIST_THRESHOLD, TopicLimits, Topics},
    peers::{Backoff, MAX_ADDRS_PER_PEER, PeerBook},
    protocol::{Inbound, Response},
    swarm::{Behaviour, BehaviourEvent, behaviour, listen},
};

mod requests;

/// Interval of the maintenance tick.
const TICK: Duration = Duration::from_millis(250);
/// Most listen addresses remembered.
const MAX_LISTEN_ADDRS: usize = 64;

/// An inbound block request waiting for the application: where the answer goes, and the answer
/// (`None` if refused or late).
type Answer = (ResponseChannel<Response>, Option<BlocksResponse>, usize);

struct Driver {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<NetEvent>,
    status: watch::Receiver<StatusResponse>,
    topics: Topics,
    topic_limits: TopicLimits,
    protocol_version: String,
    kad_protocol: StreamProtocol,
    discovery: bool,
    max_outbound: usize,
    max_response_bytes: usize,
    max_pending_answers: usize,
    answer_timeout: Duration,
    max_pending_requests: usize,
    ban_duration: Duration,
    book: PeerBook,
    outbound: HashMap<OutboundRequestId, oneshot::Sender<Result<Response, NetError>>>,
    answers: FuturesUnordered<BoxFuture<'static, Answer>>,
    direct_out: direct::Outbound,
    direct_in: direct::Inbound,
    listen_addrs: Vec<Multiaddr>,
    dropped_gossip: u64,
    dropped_direct: u64,
}

pub(super) async fn start(config: NetConfig) -> Result<Network, NetError> {
    config.validate()?;
    let local = config.peer_id();
    let topics = Topics::new(config.chain_id);
    let protocol_version = format!("/weft/{}/1", config.chain_id);
    let kad_protocol = StreamProtocol::try_from_owned(format!("/weft/{}/kad/1", config.chain_id))
        .map_err(|e| NetError::Config(e.to_string()))?;
    let behaviour = behaviour(&config, &topics, &protocol_version, &kad_protocol)?;
    let Ok(builder) = SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
        .map_err(|e| NetError::Transport(e.to_string()))?
        .with_behaviour(|_| behaviour);
    let mut swarm =
        builder.with_swarm_config(|c| c.with_idle_connection_timeout(config.idle_connection_timeout)).build();
    let listen_addrs = listen(&mut swarm, &config.listen_addrs).await?;
    for addr in &config.external_addrs {
        swarm.add_external_address(addr.clone());
    }

    let (command_tx, commands) = mpsc::channel(config.command_buffer);
    let (events_tx, events) = mpsc::channel(config.event_buffer);
    let (status_tx, status) = watch::channel(StatusResponse::default());
    let backoff = Backoff { initial: config.redial_initial, max: config.redial_max };
    let mut driver = Driver {
        swarm,
        commands,
        events: events_tx,
        status,
        topics,
        topic_limits: config.topic_limits,
        protocol_version,
        kad_protocol,
        discovery: config.discovery,
        max_outbound: config.max_outbound as usize,
        max_response_bytes: config.max_response_bytes,
        max_pending_answers: config.max_pending_answers,
        answer_timeout: config.answer_timeout,
        max_pending_requests: config.max_pending_requests,
        ban_duration: config.ban_duration,
        book: PeerBook::new(local, backoff, config.max_known_peers),
        outbound: HashMap::new(),
        answers: FuturesUnordered::new(),
        direct_out: direct::Outbound::new(config.max_pending_direct),
        direct_in: direct::Inbound::default(),
        listen_addrs,
        dropped_gossip: 0,
        dropped_direct: 0,
    };
    let now = Instant::now();
    for addr in &config.bootnodes {
        let peer = bootnode_peer_id(addr)?;
        if peer == local {
            continue;
        }
        driver.book.add_bootnode(peer, addr.clone(), now);
        if let Some(kad) = driver.swarm.behaviour_mut().kad.as_mut() {
            let mut plain = addr.clone();
            plain.pop();
            kad.add_address(&peer, plain);
        }
    }
    driver.redial(now);
    let handle = NetHandle {
        commands: command_tx,
        local_peer_id: local,
        topic_limits: config.topic_limits,
        status: Arc::new(status_tx),
    };
    tokio::spawn(async move {
        if let Some(ack) = driver.run().await {
            let _ = ack.send(());
        }
        tracing::debug!(peer = %local, "network stopped");
    });
    Ok(Network { handle, events })
}

impl Driver {
    /// Runs until a shutdown command (returning its acknowledgement) or until every handle is
    /// dropped. The swarm is dropped, closing listeners and connections, before this returns.
    async fn run(mut self) -> Option<oneshot::Sender<()>> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                command = self.commands.recv() => match command {
                    None => return None,
                    Some(Command::Shutdown(ack)) => return Some(ack),
                    Some(command) => self.on_command(command),
                },
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                Some((channel, answer, max_count)) = self.answers.next(), if !self.answers.is_empty() => {
                    self.on_answer(channel, answer, max_count);
                }
                _ = tick.tick() => self.maintain(),
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { topic, data, reply } => {
                let hash = self.topics.hash(topic);
                let len = data.len();
                let publish = self.swarm.behaviour_mut().gossipsub.publish(hash, data);
                let result = publish.map(|id| gossip::our_id(&id)).map_err(|e| match e {
                    gossipsub::PublishError::Duplicate => NetError::Duplicate,
                    gossipsub::PublishError::NoPeersSubscribedToTopic => NetError::NoPeers,
                    gossipsub::PublishError::MessageTooLarge => {
                        NetError::MessageTooLarge { topic, len, max: self.topic_limits.get(topic) }
                    }
                    other => NetError::Publish(other.to_string()),
                });
                let _ = reply.send(result);
            }
            Command::Report { id, source, verdict } => self.report(id, source, verdict),
            Command::Penalize { peer } => self.ban(peer, "penalized by the application"),
            Command::Request { peer, request, reply } => {
                if self.outbound.len() >= self.max_pending_requests {
                    let _ = reply.send(Err(NetError::Busy));
                } else if peer == *self.swarm.local_peer_id() {
                    let _ = reply.send(Err(NetError::Unreachable(peer)));
                } else {
                    let id = self.swarm.behaviour_mut().sync.send_request(&peer, Inbound::Request(request));
                    self.outbound.insert(id, reply);
                }
            }
            Command::SendDirect { peer, data, reply } => {
                // Only to a connected peer: a direct message answers a peer that just spoke, and
                // dialling one that left would outlast the answer's use.
                if peer == *self.swarm.local_peer_id() || !self.book.is_connected(&peer) {
                    let _ = reply.send(Err(NetError::NotConnected(peer)));
                } else if !self.direct_out.has_room(&peer) {
                    let _ = reply.send(Err(NetError::Busy));
                } else {
                    let frame = direct::Frame::Message(data);
                    let id = self.swarm.behaviour_mut().direct.send_request(&peer, frame);
                    self.direct_out.insert(id, peer, reply);
                }
            }
            Command::Dial { addr, reply } => {
                let result = bootnode_peer_id(&addr).and_then(|peer| {
                    if peer == *self.swarm.local_peer_id() {
                        return Err(NetError::Config("cannot dial this node itself".into()));
                    }
                    let now = Instant::now();
                    if !self.book.learn(peer, [addr], now) {
                        return Err(NetError::Config("the known-peer table is full".into()));
                    }
                    self.book.dial_soon(peer, now);
                    self.redial(now);
                    Ok(())
                });
                let _ = reply.send(result);
            }
            Command::Peers(reply) => {
                let gossipsub = &self.swarm.behaviour().gossipsub;
                let peers = self
                    .book
                    .connected()
                    .map(|(peer, c)| PeerInfo {
                        peer_id: *peer,
                        addr: c.addr.clone(),
                        outbound: c.outbound,
                        score: gossipsub.peer_score(peer),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            Command::TopicPeers { topic, reply } => {
                let hash = self.topics.hash(topic);
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .filter(|(_, topics)| topics.contains(&&hash))
                    .map(|(peer, _)| *peer)
                    .collect();
                let _ = reply.send(peers);
            }
            Command::PeerScore { peer, reply } => {
                let _ = reply.send(self.swarm.behaviour().gossipsub.peer_score(&peer));
            }
            Command::ListenAddrs(reply) => {
                let _ = reply.send(self.listen_addrs.clone());
            }
            Command::Partition { peers, reply } => {
                let now = Instant::now();
                let cut: std::collections::HashSet<PeerId> = peers.into_iter().collect();
                for peer in &cut {
                    tracing::info!(%peer, "partition test: cut off");
                    self.swarm.behaviour_mut().blocked.block_peer(*peer);
                }
                for peer in self.book.set_cut(cut, now) {
                    tracing::info!(%peer, "partition test: reconnecting");
                    if !self.book.is_banned(&peer) {
                        self.swarm.behaviour_mut().blocked.unblock_peer(peer);
                    }
                }
                self.redial(now);
                let _ = reply.send(());
            }
            // Handled by `run`.
            Command::Shutdown(_) => {}
        }
    }

    fn report(&mut self, id: MessageId, source: PeerId, verdict: Verdict) {
        let acceptance = match verdict {
            Verdict::Accept => gossipsub::MessageAcceptance::Accept,
            Verdict::Reject => gossipsub::MessageAcceptance::Reject,
            Verdict::Ignore => gossipsub::MessageAcceptance::Ignore,
        };
        let id = gossipsub::MessageId::new(&id.0);
        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(&id, &source, acceptance);
        if verdict == Verdict::Reject {
            self.check_score(source);
        }
    }

    /// Bans `peer` if its gossip score fell below the graylist threshold.
    fn check_score(&mut self, peer: PeerId) {
        let score = self.swarm.behaviour().gossipsub.peer_score(&peer);
        if score.is_some_and(|s| s < GRAYLIST_THRESHOLD) && !self.book.is_banned(&peer) {
            self.ban(peer, "gossip score below the graylist threshold");
        }
    }

    /// Disconnects `peer` and refuses it for the ban duration.
    fn ban(&mut self, peer: PeerId, reason: &'static str) {
        if peer == *self.swarm.local_peer_id() {
            return;
        }
        let (new, evicted) = self.book.ban(peer, Instant::now() + self.ban_duration);
        if new {
            tracing::warn!(%peer, reason, "banning peer");
        }
        let blocked = &mut self.swarm.behaviour_mut().blocked;
        if let Some(evicted) = evicted {
            blocked.unblock_peer(evicted);
        }
        blocked.block_peer(peer);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossip(event),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            SwarmEvent::Behaviour(BehaviourEvent::Direct(event)) => self.on_direct(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => self.on_identify(peer_id, info),
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer,
                addresses,
                ..
            })) => self.on_discovered(peer, addresses.into_vec()),
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, num_established, .. }
                if num_established.get() == 1 =>
            {
                let addr = endpoint.get_remote_address().clone();
                self.book.on_connected(peer_id, addr.clone(), endpoint.is_dialer(), now);
                if endpoint.is_dialer() {
                    self.book.learn(peer_id, [addr.clone()], now);
                }
                tracing::debug!(peer = %peer_id, %addr, "peer connected");
                self.emit(NetEvent::PeerConnected { peer: peer_id, addr });
            }
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, cause, .. } => {
                let idle = matches!(cause, Some(ConnectionError::KeepAliveTimeout));
                self.book.on_disconnected(peer_id, !idle, now);
                tracing::debug!(peer = %peer_id, ?cause, "peer disconnected");
                self.emit(NetEvent::PeerDisconnected { peer: peer_id });
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } => {
                tracing::debug!(%peer, %error, "dial failed");
                self.book.on_dial_failed(peer, now);
            }
            SwarmEvent::NewListenAddr { address, .. }
                if !self.listen_addrs.contains(&address) && self.listen_addrs.len() < MAX_LISTEN_ADDRS =>
            {
                self.listen_addrs.push(address);
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => self.listen_addrs.retain(|a| *a != address),
            _ => {}
        }
    }

    fn on_identify(&mut self, peer: PeerId, info: identify::Info) {
        if info.protocol_version != self.protocol_version {
            tracing::info!(%peer, theirs = %info.protocol_version, ours = %self.protocol_version, "peer is on another chain");
            self.ban(peer, "peer is on another chain");
            return;
        }
        let addrs: Vec<Multiaddr> = info.listen_addrs.into_iter().take(MAX_ADDRS_PER_PEER).collect();
        if info.protocols.contains(&self.kad_protocol)
            && let Some(kad) = self.swarm.behaviour_mut().kad.as_mut()
        {
            for addr in &addrs {
                kad.add_address(&peer, addr.clone());
            }
        }
        self.book.learn(peer, addrs, Instant::now());
    }

    /// Kademlia found `peer`: dial it while there is outbound room.
    fn on_discovered(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        if !self.discovery
            || peer == *self.swarm.local_peer_id()
            || self.book.is_connected(&peer)
            || self.book.is_banned(&peer)
            || self.book.is_cut(&peer)
            || self.book.outbound_count() >= self.max_outbound
        {
            return;
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        if let Err(error) = self.swarm.dial(opts) {
            tracing::trace!(%peer, %error, "not dialling discovered peer");
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message { propagation_source: source, message_id, message } = event else {
            return;
        };
        let verdict_now = |driver: &mut Driver, verdict| {
            let acceptance = match verdict {
                Verdict::Reject => gossipsub::MessageAcceptance::Reject,
                _ => gossipsub::MessageAcceptance::Ignore,
            };
            let gossipsub = &mut driver.swarm.behaviour_mut().gossipsub;
            gossipsub.report_message_validation_result(&message_id, &source, acceptance);
        };
        let Some(topic) = self.topics.topic_of(&message.topic) else {
            verdict_now(self, Verdict::Ignore);
            return;
        };
        let max = self.topic_limits.get(topic);
        if message.data.len() > max {
            tracing::debug!(%source, ?topic, len = message.data.len(), max, "oversized gossip");
            verdict_now(self, Verdict::Reject);
            self.check_score(source);
            return;
        }
        let id = gossip::our_id(&message_id);
        let event = NetEvent::Gossip { topic, data: message.data, id, source };
        if self.events.try_send(event).is_err() {
            self.dropped_gossip += 1;
            if self.dropped_gossip.is_power_of_two() {
                tracing::warn!(
                    dropped = self.dropped_gossip,
                    "application is not keeping up: gossip dropped"
                );
            }
            verdict_now(self, Verdict::Ignore);
        }
    }

    fn maintain(&mut self) {
        let now = Instant::now();
        self.direct_in.prune();
        for peer in self.book.expire_bans(now) {
            if !self.book.is_cut(&peer) {
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
        }
        let low: Vec<PeerId> = {
            let gossipsub = &self.swarm.behaviour().gossipsub;
            self.book
                .connected()
                .filter(|(peer, _)| gossipsub.peer_score(peer).is_some_and(|s| s < GRAYLIST_THRESHOLD))
                .map(|(peer, _)| *peer)
                .collect()
        };
        for peer in low {
            self.ban(peer, "gossip score below the graylist threshold");
        }
        self.redial(now);
    }

    /// Dials the known peers that are due.
    fn redial(&mut self, now: Instant) {
        for (peer, addrs) in self.book.due(now) {
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(error) = self.swarm.dial(opts) {
                tracing::debug!(%peer, %error, "redial not started");
                self.book.on_dial_failed(peer, now);
            }
        }
    }

    fn emit(&mut self, event: NetEvent) {
        if let Err(e) = self.events.try_send(event) {
            tracing::warn!(event = ?e.into_inner(), "application is not keeping up: peer event dropped");
        }
    }
}
