//! The driver: one task owning the consensus [`Core`], fed by consensus gossip, direct messages,
//! timer expiries, delayed builds, sync results and transactions arriving, carrying out the
//! core's effects in order (persist before broadcast), committing finalized blocks with their
//! proofs and serving them to peers.
//!
//! A broadcast goes out as gossip; a message to one peer (an answer to its block or certificate
//! request, catch-up certificates) goes to that peer alone over the network's direct protocol,
//! in a task of its own so the loop never waits for the round trip.
//!
//! As leader, it answers `BuildBlock` at once when a transaction is includable, and otherwise
//! `block_interval_ms` after the parent block (or when a transaction arrives first); the core's
//! view deadline includes that wait.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use tokio::sync::{Notify, Semaphore, mpsc};
use weft_types::{
    Block, Hash,
    consensus::{ConsensusMessage, FinalityCertificate, FinalityProof, ValidatorSet, View, gossip_message},
};

use super::{
    Network, NodeFault,
    blocks::{Blocks, Invalid, ParentError},
    gossip::Publisher,
    sync::{SyncError, SyncTask, announce, proposal_block},
};
use crate::{
    admission::OutboxReceiver,
    chain::Chain,
    consensus::{self, Core, Effect, Input, Penalty},
    net::{BlocksRequest, BlocksResponse, NetEvent, PeerId, Topic, Verdict},
    producer::{now_ms, on_committed},
};

/// Capacity of the internal channels (timers).
pub(super) const CHANNEL: usize = 1024;
/// Most transactions taken from the chain's outbox and published in one turn of the loop.
const MAX_OUTBOX_TURN: usize = 256;
/// How often unsent transactions are published again.
const REGOSSIP_INTERVAL: Duration = Duration::from_secs(1);
/// Most messages to single peers being sent at once; beyond, the core's answer is dropped (the
/// peer asks again). The network bounds them too (`NetConfig::max_pending_direct`), but only
/// once a send reached it: this bounds the tasks waiting to get there.
const MAX_SENDS_IN_FLIGHT: usize = 256;
/// Longest timer the core may set.
const MAX_TIMER: Duration = Duration::from_secs(3600);

/// A block to build: view, height, parent.
type BuildRequest = (View, u64, Hash);

/// What a sync task reports.
enum SyncDone {
    /// Every block up to the certificate is committed.
    Synced(FinalityCertificate),
    /// It gave up (the core asks again).
    Failed,
    /// This node failed: the driver stops.
    Fault(NodeFault),
}

/// Why the driver stopped.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    /// This node failed (its store or runtime): it cannot go on safely.
    #[error(transparent)]
    Fault(#[from] NodeFault),
    /// The network stopped.
    #[error("the network stopped")]
    Network,
    /// The driver task panicked (a bug; the panic was logged).
    #[error("the validator's driver panicked (see the log)")]
    Panicked,
}

/// The consensus driver of one validator (or follower).
pub(super) struct Driver<N> {
    core: Core<SigningKey, PeerId>,
    chain: Chain,
    net: N,
    chain_id: u64,
    validators: ValidatorSet,
    blocks: Blocks,
    publisher: Publisher<N>,
    /// How long after its parent an empty block is proposed (the genesis file's
    /// `block_interval_ms`); a block with transactions is proposed at once.
    block_interval_ms: u64,
    /// The block the core asked for while nothing was includable: built as soon as a
    /// transaction arrives, or empty once the interval has passed.
    waiting: Option<BuildRequest>,
    syncing: bool,
    sync_next: Option<FinalityCertificate>,
    timers: Loopback<(View, consensus::TimeoutKind)>,
    syncs: Loopback<SyncDone>,
    builds: Loopback<BuildRequest>,
    /// Room for direct sends in flight ([`MAX_SENDS_IN_FLIGHT`]).
    sends: Arc<Semaphore>,
}

/// A channel the driver sends to itself from the tasks it spawns (timers, syncs, delayed builds).
struct Loopback<T> {
    tx: mpsc::Sender<T>,
    rx: mpsc::Receiver<T>,
}

impl<T> Loopback<T> {
    fn new(capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity);
        Self { tx, rx }
    }
}

impl<N: Network> Driver<N> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        core: Core<SigningKey, PeerId>,
        chain: Chain,
        net: N,
        chain_id: u64,
        validators: ValidatorSet,
        me: weft_types::Address,
        block_interval_ms: u64,
    ) -> Self {
        Self {
            core,
            blocks: Blocks::new(chain.ledger.clone(), chain.admission.clone(), me),
            publisher: Publisher::new(net.clone()),
            chain,
            net,
            chain_id,
            validators,
            block_interval_ms,
            waiting: None,
            syncing: false,
            sync_next: None,
            timers: Loopback::new(CHANNEL),
            syncs: Loopback::new(16),
            builds: Loopback::new(16),
            sends: Arc::new(Semaphore::new(MAX_SENDS_IN_FLIGHT)),
        }
    }

    /// Runs until the network stops or this node fails.
    pub(super) async fn run(
        mut self,
        mut events: mpsc::Receiver<NetEvent>,
        arrived: Arc<Notify>,
        outbox: OutboxReceiver,
    ) -> Stopped {
        match self.run_until_stopped(&mut events, &arrived, &outbox).await {
            Ok(never) => match never {},
            Err(stopped) => {
                tracing::error!("validator stopped: {stopped}");
                stopped
            }
        }
    }

    async fn run_until_stopped(
        &mut self,
        events: &mut mpsc::Receiver<NetEvent>,
        arrived: &Notify,
        outbox: &OutboxReceiver,
    ) -> Result<std::convert::Infallible, Stopped> {
        self.step(Input::Start, None).await?;
        // The proposals this node kept (validated or made) before a restart: the core forgot
        // their blocks, and after a crash of every validator nobody else has them.
        let me = self.net.local_peer_id();
        for value in self.chain.ledger.store().block_bodies().map_err(NodeFault::from)? {
            if let Some((message, block)) = proposal_block(&value) {
                self.blocks.remember_proposal(&block, value);
                self.step(Input::Message { from: me, message }, None).await?;
            }
        }
        let pool = self.chain.admission.clone();
        let mut regossip = tokio::time::interval(REGOSSIP_INTERVAL);
        regossip.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event).await?,
                    None => return Err(Stopped::Network),
                },
                () = arrived.notified() => self.on_tx_arrived().await?,
                () = outbox.ready() => {
                    for bytes in outbox.take(MAX_OUTBOX_TURN) {
                        self.publisher.transaction(bytes).await;
                    }
                    self.on_tx_arrived().await?
                }
                _ = regossip.tick() => self.publisher.unsent(&pool).await,
                Some((view, kind)) = self.timers.rx.recv() => {
                    self.step(Input::TimeoutFired { view, kind }, None).await?;
                }
                Some(due) = self.builds.rx.recv() => {
                    // The idle interval has passed: propose, even an empty block.
                    if self.waiting == Some(due) {
                        self.waiting = None;
                        if let Some(block) = self.build_now(due, true)? {
                            self.step(Input::BlockBuilt(block), None).await?;
                        }
                    }
                }
                Some(done) = self.syncs.rx.recv() => {
                    self.syncing = false;
                    self.chain.status.set_syncing(false);
                    match done {
                        SyncDone::Synced(cert) => { self.step(Input::Synced(cert), None).await?; }
                        SyncDone::Failed => {}
                        SyncDone::Fault(fault) => return Err(fault.into()),
                    }
                    if let Some(next) = self.sync_next.take() {
                        self.start_sync(next);
                    }
                }
            }
        }
    }

    async fn on_event(&mut self, event: NetEvent) -> Result<(), NodeFault> {
        match event {
            NetEvent::Gossip { topic: Topic::Txs, .. } => {
                // Transaction gossip goes to its own admission task instead.
            }
            NetEvent::Gossip { topic, data, id, source } => {
                let decoded = gossip_message(&data).and_then(|m| ConsensusMessage::decode_bounded(m).ok());
                let input = match decoded {
                    Some(message) => {
                        if topic == Topic::Blocks
                            && let ConsensusMessage::Proposal { block, .. } = &message
                            && let Some(bytes) = gossip_message(&data)
                        {
                            self.blocks.remember_proposal(block, bytes.to_vec());
                        }
                        Input::Message { from: source, message }
                    }
                    // The core penalizes what does not decode.
                    None => Input::Bytes { from: source, bytes: data },
                };
                let verdict = match self.step(input, Some(source)).await? {
                    None => Verdict::Accept,
                    Some(reason) if !reason.blames() => Verdict::Ignore,
                    Some(_) => Verdict::Reject,
                };
                self.net.report(id, source, verdict).await;
            }
            NetEvent::Direct { peer, data, permit } => {
                // A message for this node alone (an answer to its request, catch-up
                // certificates): fed to the core like gossip, with nothing to report. The core
                // blames `peer` for a provable fault through `Effect::Penalize`.
                let input = match ConsensusMessage::decode_bounded(&data) {
                    Ok(message) => {
                        if let ConsensusMessage::Proposal { block, .. } = &message {
                            self.blocks.remember_proposal(block, data);
                        }
                        Input::Message { from: peer, message }
                    }
                    // The core penalizes what does not decode.
                    Err(_) => Input::Bytes { from: peer, bytes: data },
                };
                self.step(input, Some(peer)).await?;
                // The peer's share of pending direct messages is held until the core is done.
                drop(permit);
            }
            NetEvent::PeerConnected { peer, addr } => {
                tracing::info!("connected to {peer} at {addr}");
                self.chain.status.set_peer(peer.to_string(), Some(addr.to_string()));
                self.publisher.unsent(&self.chain.admission).await;
            }
            NetEvent::PeerDisconnected { peer } => {
                tracing::info!("disconnected from {peer}");
                self.chain.status.set_peer(peer.to_string(), None);
            }
            NetEvent::BlocksRequested { request, reply, .. } => {
                reply.send(self.read_blocks(request)?);
            }
        }
        Ok(())
    }

    /// The finalized blocks a peer asked for, with their proofs, up to the first missing.
    fn read_blocks(&self, request: BlocksRequest) -> Result<BlocksResponse, NodeFault> {
        let store = self.chain.ledger.store();
        let mut blocks = Vec::new();
        let start = request.from_height.max(1);
        for height in start..start.saturating_add(u64::from(request.max_count)) {
            let (Some(block), Some(proof)) = (store.block_by_height(height)?, store.certificate(height)?)
            else {
                break;
            };
            let mut entry = block.encode();
            // The stored proof is already `SCALE(FinalityProof)`: an entry is `Block ‖ proof`.
            entry.extend(proof);
            blocks.push(entry);
        }
        Ok(BlocksResponse { blocks })
    }

    /// Feeds `first` to the core and carries out the effects (and those of the answers they
    /// produce), in order. Returns the penalty the core gave `source`, if any.
    async fn step(
        &mut self,
        first: Input<PeerId>,
        source: Option<PeerId>,
    ) -> Result<Option<Penalty>, NodeFault> {
        let mut inputs = VecDeque::from([first]);
        let mut penalty = None;
        while let Some(input) = inputs.pop_front() {
            for effect in self.core.handle(input) {
                if let Effect::Penalize { peer, reason } = &effect
                    && Some(*peer) == source
                {
                    penalty = Some(*reason);
                }
                self.carry_out(effect, &mut inputs).await?;
            }
        }
        Ok(penalty)
    }

    async fn carry_out(
        &mut self,
        effect: Effect<PeerId>,
        inputs: &mut VecDeque<Input<PeerId>>,
    ) -> Result<(), NodeFault> {
        match effect {
            Effect::Persist(record) => {
                self.chain.ledger.store().put_consensus_record(record.view(), &record.encode())?
            }
            Effect::Broadcast(message) => {
                let topic = match consensus::Topic::of(&message) {
                    consensus::Topic::Blocks => Topic::Blocks,
                    consensus::Topic::Consensus => Topic::Consensus,
                };
                let bytes = message.encode();
                if let ConsensusMessage::Proposal { block, .. } = &message {
                    self.blocks.persist_body(block, &bytes)?;
                }
                self.publisher.consensus(topic, &bytes).await;
            }
            Effect::SendTo(peer, message) => {
                let bytes = message.encode();
                if let ConsensusMessage::Proposal { block, .. } = &message {
                    self.blocks.persist_body(block, &bytes)?;
                }
                self.send_to(peer, bytes);
            }
            Effect::BuildBlock { view, height, parent } => {
                // With transactions to include, propose at once; otherwise wait until
                // `block_interval_ms` after the parent (or a transaction, `on_tx_arrived`). The
                // core's view deadline includes that wait. A parent stamped in the future (another
                // proposer's clock) delays by at most the interval.
                let parent_time = match self.blocks.header(&parent) {
                    Ok(header) => header.timestamp_ms,
                    Err(ParentError::Node(fault)) => return Err(fault),
                    Err(_) => 0,
                };
                let wait = parent_time
                    .saturating_add(self.block_interval_ms)
                    .saturating_sub(now_ms())
                    .min(self.block_interval_ms);
                if let Some(block) = self.build_now((view, height, parent), wait == 0)? {
                    self.waiting = None;
                    inputs.push_back(Input::BlockBuilt(block));
                } else if wait > 0 {
                    self.waiting = Some((view, height, parent));
                    let tx = self.builds.tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        let _ = tx.send((view, height, parent)).await;
                    });
                }
            }
            Effect::ValidateBlock(block) => {
                let hash = block.hash();
                let valid = match self.blocks.validate_proposal(&block, now_ms()) {
                    Ok(out) => {
                        self.blocks.keep(out)?;
                        true
                    }
                    Err(Invalid::Parent(ParentError::Node(fault))) => return Err(fault),
                    Err(e) => {
                        tracing::warn!(height = block.header.height, "block {hash} is invalid: {e}");
                        false
                    }
                };
                inputs.push_back(Input::BlockValidated { hash, valid });
            }
            Effect::ScheduleTimeout { view, kind, after_ms } => {
                let tx = self.timers.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms).min(MAX_TIMER)).await;
                    let _ = tx.send((view, kind)).await;
                });
            }
            Effect::Finalized { block, view, certificate } => {
                self.chain.status.note_final(block.header.height);
                self.commit(block, view, certificate)?
            }
            Effect::Sync(cert) => {
                self.chain.status.note_final(cert.block().height);
                self.start_sync(cert)
            }
            Effect::Evidence(evidence) => {
                tracing::warn!(view = evidence.view(), "evidence of equivocation by {}", evidence.offender());
                self.chain.ledger.store().keep_evidence(&evidence)?;
            }
            Effect::Penalize { peer, reason } => {
                tracing::debug!(%peer, ?reason, "peer penalized");
                if reason.blames() && peer != self.net.local_peer_id() {
                    self.net.penalize(peer).await;
                }
            }
        }
        Ok(())
    }

    /// Sends an encoded consensus message to `peer` alone, in a task of its own (the loop does not
    /// wait for the round trip). Dropped when [`MAX_SENDS_IN_FLIGHT`] are under way, and never
    /// sent to this node itself (the proposals replayed after a restart come from this node's
    /// own peer id: whatever the core answers them with has nowhere to go).
    fn send_to(&self, peer: PeerId, bytes: Vec<u8>) {
        if peer == self.net.local_peer_id() {
            return;
        }
        let Ok(permit) = self.sends.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "too many direct sends in flight: message dropped");
            return;
        };
        let net = self.net.clone();
        tokio::spawn(async move {
            if let Err(e) = net.send_to(peer, bytes).await {
                tracing::debug!(%peer, "direct send failed: {e}");
            }
            drop(permit);
        });
    }

    /// A transaction entered the mempool: if the core's block request waits for one, build it
    /// now (unless nothing is includable on its parent yet, e.g. a nonce gap).
    async fn on_tx_arrived(&mut self) -> Result<(), NodeFault> {
        let Some(due) = self.waiting else { return Ok(()) };
        if due.0 != self.core.view() {
            self.waiting = None;
            return Ok(());
        }
        if let Some(block) = self.build_now(due, false)? {
            self.waiting = None;
            self.step(Input::BlockBuilt(block), None).await?;
        }
        Ok(())
    }

    /// Builds the block of `due` and keeps its output. Without `allow_empty`, gives `None`
    /// instead of a block with no transaction. A parent this node lacks gives `None` (the core
    /// times the view out); a fault of this node stops it.
    fn build_now(&mut self, due: BuildRequest, allow_empty: bool) -> Result<Option<Block>, NodeFault> {
        let (view, height, parent) = due;
        match self.blocks.build(&parent, now_ms(), allow_empty) {
            Ok(None) => Ok(None),
            Ok(Some(out)) if out.block.header.height == height => {
                let block = out.block.clone();
                self.blocks.keep(out)?;
                Ok(Some(block))
            }
            Ok(Some(_)) => {
                tracing::error!(view, height, "built a block at the wrong height");
                Ok(None)
            }
            Err(ParentError::Node(fault)) => Err(fault),
            Err(e) => {
                tracing::warn!(view, height, "cannot build a block on {parent}: {e}");
                Ok(None)
            }
        }
    }

    /// Commits a block the core finalized, with its proof. A block at or below the head is
    /// already committed; a block whose parent this node lacks is left to sync. A finalized
    /// block that does not execute here, or a store that cannot write it, stops the node: going
    /// on would mean silently never committing again.
    fn commit(
        &mut self,
        block: Block,
        view: View,
        certificate: FinalityCertificate,
    ) -> Result<(), NodeFault> {
        let hash = block.hash();
        let height = block.header.height;
        let store = self.chain.ledger.store();
        let head = store.head()?.ok_or(NodeFault::EmptyStore)?;
        if height <= head.height {
            self.blocks.prune(head.height);
            return Ok(());
        }
        let out = match self.blocks.get(&hash) {
            Some(out) => out,
            None => match self.blocks.validate(&block) {
                Ok(out) => Arc::new(out),
                Err(Invalid::Parent(ParentError::Node(fault))) => return Err(fault),
                // `validate` does not judge the clock: a finalized block commits whatever its stamp.
                Err(e @ (Invalid::Parent(_) | Invalid::AheadOfClock { .. })) => {
                    tracing::warn!(height, "finalized block {hash} not committed yet: {e}");
                    return Ok(());
                }
                Err(Invalid::Block(source)) => {
                    return Err(NodeFault::FinalizedInvalid { height, hash, source: Box::new(source) });
                }
            },
        };
        let proof = FinalityProof { view, certificate };
        match store.commit_certified(&out.block, &out.receipts, &out.changes, &proof.encode()) {
            Ok(()) => {}
            Err(e) if e.is_node_fault() => return Err(e.into()),
            Err(e) => {
                // Sync committed another block at this height meanwhile.
                tracing::warn!(height, "block {hash} not committed: {e}");
                return Ok(());
            }
        }
        let c = &self.chain;
        announce(&self.net, &on_committed(&c.ledger, &c.admission, &c.events, out, Vec::new()));
        self.blocks.prune(height);
        // Records of views at or below the finalized one, and bodies at or below its height,
        // are no longer needed.
        store.prune_consensus(view, height)?;
        Ok(())
    }

    fn start_sync(&mut self, cert: FinalityCertificate) {
        if self.syncing {
            if self.sync_next.as_ref().is_none_or(|c| c.block().height < cert.block().height) {
                self.sync_next = Some(cert);
            }
            return;
        }
        self.syncing = true;
        self.chain.status.set_syncing(true);
        let task = SyncTask {
            chain: self.chain.clone(),
            net: self.net.clone(),
            chain_id: self.chain_id,
            validators: self.validators.clone(),
        };
        let done = self.syncs.tx.clone();
        tokio::spawn(async move {
            let report = match task.run(&cert).await {
                Ok(()) => SyncDone::Synced(cert),
                Err(SyncError::Node(fault)) => SyncDone::Fault(fault),
                Err(e) => {
                    tracing::warn!("sync failed: {e}");
                    SyncDone::Failed
                }
            };
            let _ = done.send(report).await;
        });
    }
}
