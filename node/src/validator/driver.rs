//! The driver: one task owning the consensus [`Core`], fed by consensus gossip, direct messages,
//! timer expiries, delayed builds, validation and sync results and transactions arriving,
//! carrying out the core's effects in order (persist before broadcast), committing finalized
//! blocks with their proofs and serving them to peers.
//!
//! Consensus messages cost their peer from its budget of useless traffic ([`UselessBudget`]),
//! and only gossip the core finds new ([`Fate::New`]) is forwarded. A broadcast goes out as
//! gossip; a message to one peer (an answer to its block or certificate request, catch-up
//! certificates) goes to that peer alone over the network's direct protocol, in a task of its
//! own so the loop never waits for the round trip. Executing proposals, and reading blocks for
//! peers, run off this task with bounded queues, so a flood of either never delays votes.
//!
//! As leader, it answers `BuildBlock` at once when a transaction is includable, and otherwise
//! `block_interval_ms` after the parent block (or when a transaction arrives first); the core's
//! view deadline includes that wait.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use tokio::sync::{Notify, mpsc};
use weft_runtime::BlockOutput;
use weft_types::{
    Block, Hash,
    consensus::{ConsensusMessage, FinalityCertificate, FinalityProof, ValidatorSet, View, gossip_message},
};

use super::{
    Network, NodeFault, Stopped,
    answers::Answers,
    blocks::{Blocks, Invalid, ParentError},
    gossip::{Publisher, UselessBudget},
    sync::{SyncError, SyncTask, announce, proposal_block},
    validations::Validations,
};
use crate::{
    admission::OutboxReceiver,
    chain::Chain,
    consensus::{self, Core, Effect, Fate, Input},
    net::{NetEvent, PeerId, Topic, TopicLimits, Verdict},
    producer::{now_ms, on_committed},
    status::GossipDrops,
};

/// Capacity of the internal channels (timers).
pub(super) const CHANNEL: usize = 1024;
/// Most transactions taken from the chain's outbox and published in one turn of the loop.
const MAX_OUTBOX_TURN: usize = 256;
/// How often unsent transactions are published again.
const REGOSSIP_INTERVAL: Duration = Duration::from_secs(1);
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
    /// Blocks the core asked to validate, lowest view first; one runs at a time, off this task.
    validations: Validations,
    /// Each peer's budget of useless consensus traffic.
    useless: UselessBudget,
    /// Answers to single peers.
    answers: Answers<N>,
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
            answers: Answers::new(net.clone(), chain.ledger.clone()),
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
            validations: Validations::new(),
            useless: UselessBudget::default(),
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
        self.step(Input::Start).await?;
        // The proposals this node kept (validated or made) before a restart: the core forgot
        // their blocks, and after a crash of every validator nobody else has them.
        let me = self.net.local_peer_id();
        for value in self.chain.ledger.store().block_bodies().map_err(NodeFault::from)? {
            if let Some((message, _)) = proposal_block(&value) {
                self.step(Input::Message { from: me, message }).await?;
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
                    self.step(Input::TimeoutFired { view, kind }).await?;
                }
                Some((hash, result)) = self.validations.finished() => {
                    self.on_validated(hash, result).await?;
                    self.start_validation();
                }
                Some(due) = self.builds.rx.recv() => {
                    // The idle interval has passed: propose, even an empty block.
                    if self.waiting == Some(due) {
                        self.waiting = None;
                        if let Some(block) = self.build_now(due, true)? {
                            self.step(Input::BlockBuilt(block)).await?;
                        }
                    }
                }
                Some(done) = self.syncs.rx.recv() => {
                    self.syncing = false;
                    self.chain.status.set_syncing(false);
                    match done {
                        SyncDone::Synced(cert) => self.step(Input::Synced(cert)).await?,
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

    pub(super) async fn on_event(&mut self, event: NetEvent) -> Result<(), NodeFault> {
        match event {
            NetEvent::Gossip { topic: Topic::Txs, .. } => {
                // Transaction gossip goes to its own admission task instead.
            }
            NetEvent::Gossip { topic, data, id, source } => {
                // A gossip frame is the message and its copy number; no honest peer sends less.
                let verdict = match gossip_message(&data) {
                    Some(message) => self.on_consensus_message(topic, message, source).await?,
                    None => {
                        self.step(Input::Bytes { from: source, bytes: data }).await?;
                        Verdict::Reject
                    }
                };
                self.net.report(id, source, verdict).await;
            }
            NetEvent::Direct { peer, data, permit } => {
                // A message for this node alone (an answer to its request, catch-up
                // certificates): judged like gossip, with nothing to report or forward. Only a
                // proposal can be over the consensus topic's limit: it is charged as one.
                let topic = if data.len() > TopicLimits::default().consensus {
                    Topic::Blocks
                } else {
                    Topic::Consensus
                };
                self.on_consensus_message(topic, &data, peer).await?;
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
            NetEvent::BlocksRequested { request, reply, .. } => self.answers.blocks(request, reply),
        }
        Ok(())
    }

    /// Judges an encoded consensus message within `source`'s budget of useless traffic and hands
    /// it to the core; the verdict forwards only news and blames only what is provably the
    /// peer's.
    async fn on_consensus_message(
        &mut self,
        topic: Topic,
        bytes: &[u8],
        source: PeerId,
    ) -> Result<Verdict, NodeFault> {
        let Some(charge) = self.useless.charge(topic, source, bytes.len()) else {
            let dropped = GossipDrops::count(&self.chain.status.gossip_drops().consensus_over_peer_limit);
            if dropped.is_power_of_two() {
                tracing::warn!(%source, ?topic, dropped, "useless consensus messages over the per-peer limit dropped");
            }
            return Ok(Verdict::Ignore);
        };
        let Ok(message) = ConsensusMessage::decode_bounded(bytes) else {
            // The core penalizes what does not decode.
            self.step(Input::Bytes { from: source, bytes: bytes.to_vec() }).await?;
            return Ok(Verdict::Reject);
        };
        let (effects, fate) = self.core.receive(source, message);
        self.carry_out_all(effects).await?;
        Ok(match fate {
            Fate::New => {
                self.useless.refund(charge);
                Verdict::Accept
            }
            Fate::Refused(reason) if reason.blames() => Verdict::Reject,
            Fate::Useless | Fate::Refused(_) => Verdict::Ignore,
        })
    }

    /// Feeds `first` to the core and carries out the effects.
    pub(super) async fn step(&mut self, first: Input<PeerId>) -> Result<(), NodeFault> {
        let effects = self.core.handle(first);
        self.carry_out_all(effects).await
    }

    /// Carries out `effects` and those of the answers they produce, in order.
    async fn carry_out_all(&mut self, effects: Vec<Effect<PeerId>>) -> Result<(), NodeFault> {
        let mut inputs = VecDeque::new();
        for effect in effects {
            self.carry_out(effect, &mut inputs).await?;
        }
        while let Some(input) = inputs.pop_front() {
            for effect in self.core.handle(input) {
                self.carry_out(effect, &mut inputs).await?;
            }
        }
        Ok(())
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
            // An answer to one peer: a proposal in it is already durable if this node voted for
            // it, and persisting answers would let any peer make this node write at will.
            Effect::SendTo(peer, message) => self.answers.send_to(peer, message.encode()),
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
                let view = self.core.proposal_of(&hash).map_or(0, |p| p.proposal.view);
                if let Some(refused) = self.validations.push(view, hash, block) {
                    inputs.push_back(Input::BlockValidated { hash: refused, valid: false });
                }
                self.start_validation();
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
            self.step(Input::BlockBuilt(block)).await?;
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
                // Its proposal is persisted when it is broadcast.
                self.blocks.keep(out, None)?;
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

    /// Starts the next queued validation, unless one runs.
    fn start_validation(&mut self) {
        let core = &self.core;
        self.validations.start(&self.blocks, now_ms(), |hash| core.is_certified(hash));
    }

    /// A validation finished: keeps a valid block's output (and makes its proposal durable) and
    /// tells the core.
    async fn on_validated(
        &mut self,
        hash: Hash,
        result: Result<BlockOutput, Invalid>,
    ) -> Result<(), NodeFault> {
        let valid = match result {
            Ok(out) => {
                self.blocks.keep(out, self.core.proposal_of(&hash))?;
                true
            }
            Err(Invalid::Parent(ParentError::Node(fault))) => return Err(fault),
            Err(e) => {
                tracing::warn!("block {hash} is invalid: {e}");
                false
            }
        };
        self.step(Input::BlockValidated { hash, valid }).await
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
