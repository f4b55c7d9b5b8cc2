//! `weft-node run`: the validator service. One tokio task owns the consensus [`Core`] and feeds it
//! with gossip (consensus and block topics), timer expiries and the answers of block building and
//! validation; it carries out the core's effects in order (persist before broadcast), commits
//! finalized blocks with their certificates, gossips transactions admitted over RPC, serves
//! finalized blocks to peers and fetches them when the core asks for a sync.
//!
//! Blocks validated (or built) but not final yet keep their [`BlockOutput`] in memory, so
//! building or validating on them reads a `Layered` state (the store plus the changes of the
//! uncommitted ancestors) and committing them re-executes nothing.
//!
//! As leader, the service answers `BuildBlock` at once when a transaction is includable, and
//! otherwise `block_interval_ms` after the parent block (or when a transaction arrives first);
//! the core's view deadline includes that wait. Consensus messages go out as
//! `SCALE(message) ‖ copy (u32 LE)` (docs/protocol.md §8.4) so that re-sends pass gossipsub's
//! duplicate filter.
//!
//! The certificate stored with a block (and served to peers) is `view (u64 LE) ‖
//! SCALE(FinalityCertificate)`: the view the block was proposed in, for [`Anchor`] at restart. A
//! served entry is `len(block) (u32 LE) ‖ SCALE(block) ‖ stored certificate`.

use std::{
    collections::{BTreeMap, VecDeque},
    fs,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use ed25519_dalek::SigningKey;
use parity_scale_codec::Encode;
use tokio::{sync::mpsc, task::JoinHandle};
use weft_runtime::{BlockBuilder, BlockOutput, PushError, Runtime, SharedBackend};
use weft_types::{
    Block, Hash, Header,
    consensus::{BlockRef, ConsensusMessage, FinalityCertificate, ValidatorSet, View},
    limits::MAX_BLOCK_TXS,
    tx::address_of,
};

use crate::{
    chain::{Chain, ChainEvent, CommittedBlock, GossipDrops, NodeMeta, SubmitError, account_in},
    config::{NodeConfig, read_key},
    consensus::{self, Anchor, Core, Effect, Input, Penalty, PersistRecord},
    genesis::GenesisFile,
    mempool::MempoolConfig,
    net::{self, BlocksRequest, BlocksResponse, NetConfig, NetEvent, NetHandle, Network, PeerId, Verdict},
    rpc::RpcServer,
    store::{Layered, Store, StoreError},
};

/// Most blocks validated or built and not final yet kept in memory.
const MAX_PENDING_BLOCKS: usize = 1024;
/// Capacity of the internal channels (timers).
const CHANNEL: usize = 1024;
/// First byte of the consensus-table keys of block bodies this node validated or built (votes
/// and proposals are keyed by their view, big-endian, which never starts with it in practice).
const BODY_PREFIX: u8 = 0xff;

/// First byte of the consensus-table keys of evidence of equivocation: `0xfe ‖ view (BE) ‖
/// offender ‖ the first 8 bytes of SHA3-256(SCALE(evidence))`; the value is `SCALE(evidence)`.
const EVIDENCE_PREFIX: u8 = 0xfe;
/// Most pieces of evidence kept in the store; beyond it, those of the lowest views are dropped.
pub const MAX_STORED_EVIDENCE: usize = 1024;

/// Keeps `evidence` in the store's consensus table (bounded by [`MAX_STORED_EVIDENCE`]; pruned
/// neither at finalization nor at restart).
pub fn keep_evidence(store: &Store, evidence: &weft_types::consensus::Evidence) -> Result<(), StoreError> {
    keep_evidence_within(store, evidence, MAX_STORED_EVIDENCE)
}

fn keep_evidence_within(
    store: &Store,
    evidence: &weft_types::consensus::Evidence,
    max: usize,
) -> Result<(), StoreError> {
    let value = evidence.encode();
    let mut key = vec![EVIDENCE_PREFIX];
    key.extend(evidence.view().to_be_bytes());
    key.extend(evidence.offender().0);
    key.extend(&weft_types::sha3_256(&value).0[..8]);
    let kept: Vec<Vec<u8>> = store
        .consensus_records_with_prefix(EVIDENCE_PREFIX)?
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| *k != key)
        .collect();
    // Keys sort by view: drop the lowest to make room.
    let excess = (kept.len() + 1).saturating_sub(max.max(1));
    store.write_consensus_records(&[(key, value)], &kept[..excess])
}

/// The evidence of equivocation kept in the store, lowest view first (entries that do not decode
/// are skipped).
pub fn stored_evidence(store: &Store) -> Result<Vec<weft_types::consensus::Evidence>, StoreError> {
    Ok(store
        .consensus_records_with_prefix(EVIDENCE_PREFIX)?
        .into_iter()
        .filter_map(|(_, v)| weft_types::consensus::Evidence::decode_bounded(&v).ok())
        .collect())
}

/// Most proposals (encoded messages) remembered by block hash, to persist with their block.
const MAX_PROPOSALS: usize = 256;

/// The block of an encoded `ConsensusMessage::Proposal` persisted under [`body_key`].
fn proposal_block(bytes: &[u8]) -> Option<(ConsensusMessage, Block)> {
    match ConsensusMessage::decode_bounded(bytes) {
        Ok(message @ ConsensusMessage::Proposal { .. }) => {
            let ConsensusMessage::Proposal { block, .. } = &message else { return None };
            let block = (**block).clone();
            Some((message, block))
        }
        _ => None,
    }
}

/// The key of a block body in the consensus table: `0xff ‖ height (BE) ‖ hash`; the value is
/// the encoded proposal message (signed proposal and block).
fn body_key(block: &Block) -> Vec<u8> {
    let mut key = vec![BODY_PREFIX];
    key.extend(block.header.height.to_be_bytes());
    key.extend(block.hash().0);
    key
}

/// Attempts of one sync before giving up (the core asks again).
const SYNC_ROUNDS: u32 = 10;
/// Bytes of the copy number that follows a consensus message on the gossip topics.
const COPY_BYTES: usize = 4;
/// Least time between two publications of one consensus message.
const MIN_REPUBLISH: Duration = Duration::from_millis(500);
/// Most consensus messages whose copy count is remembered.
const MAX_COPIES: usize = 8192;
/// Most transactions kept for a later publication when no peer could take them.
const MAX_UNSENT: usize = 4096;
/// How often unsent transactions are published again.
const REGOSSIP_INTERVAL: Duration = Duration::from_secs(1);
/// Most gossiped transactions admitted as one batch ([`Chain::admit_many`]): those already
/// queued behind the first are drained up to this bound.
const MAX_GOSSIP_BATCH: usize = 512;
/// Gossiped transactions waiting for admission at most. More are dropped without blame and
/// not forwarded: the node that sent them still has them and includes them when it leads.
const TX_GOSSIP_QUEUE: usize = 8192;
/// Most transactions taken from the chain's outbox and published in one turn of the loop.
const MAX_OUTBOX_TURN: usize = 256;

/// Why the service failed to start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A config or key file.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The genesis file.
    #[error(transparent)]
    Genesis(#[from] crate::genesis::GenesisFileError),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The network.
    #[error(transparent)]
    Net(#[from] net::NetError),
    /// The consensus core.
    #[error(transparent)]
    Consensus(#[from] consensus::ConsensusError),
    /// The runtime.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The stored chain is inconsistent with the genesis or itself.
    #[error("{0}")]
    Invalid(String),
    /// RPC or another start-up step.
    #[error(transparent)]
    Dev(#[from] crate::dev::DevError),
    /// A directory.
    #[error("{path}: {reason}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A running validator (or follower): its chain, RPC server, network and service task.
#[derive(Debug)]
pub struct ValidatorNode {
    chain: Arc<Chain>,
    rpc: RpcServer,
    admin: Option<jsonrpsee::server::ServerHandle>,
    net: NetHandle,
    task: JoinHandle<()>,
}

impl ValidatorNode {
    /// Loads the genesis and keys named by `config`, opens (or creates) the store, restores the
    /// consensus core, starts the network, JSON-RPC and the service task.
    pub async fn start(config: &NodeConfig) -> Result<ValidatorNode, ServiceError> {
        let genesis = GenesisFile::load(&config.genesis)?;
        let key = read_key(&config.validator_key)?;
        let keypair = net::read_keypair(&config.node_key)?;
        fs::create_dir_all(&config.data_dir)
            .map_err(|e| ServiceError::Io { path: config.data_dir.clone(), reason: e.to_string() })?;
        let store = Store::open(&config.data_dir.join("chain.redb"))?;
        let runtime = Runtime::new(genesis.chain_id, genesis.min_gas_price)
            .map_err(|e| ServiceError::Runtime(e.to_string()))?;
        let expected_genesis = {
            let empty = Arc::new(weft_runtime::state::memory::MemoryState::new());
            runtime
                .genesis(empty, &genesis.runtime_genesis())
                .map_err(|e| ServiceError::Runtime(e.to_string()))?
        };
        match store.block_by_height(0)? {
            None => store.commit_block(
                &expected_genesis.block,
                &expected_genesis.receipts,
                &expected_genesis.changes,
            )?,
            Some(b) if b.hash() == expected_genesis.block.hash() => {}
            Some(b) => {
                return Err(ServiceError::Invalid(format!(
                    "the store's genesis block {} is not this genesis file's ({})",
                    b.hash(),
                    expected_genesis.block.hash()
                )));
            }
        }
        let validators =
            genesis.validator_set().map_err(|e| ServiceError::Invalid(format!("validator set: {e}")))?;
        let me = address_of(&key);
        let is_validator = validators.contains(&me);
        let mut cfg = consensus::Config::new(genesis.chain_id, validators.clone());
        cfg.view_timeout_ms = genesis.consensus.timeout_ms;
        cfg.backoff_percent = genesis.consensus.backoff_percent;
        cfg.max_timeout_ms = genesis.consensus.max_timeout_ms;
        cfg.block_interval_ms = genesis.consensus.block_interval_ms;

        let anchor = anchor(&store)?;
        let mut records = Vec::new();
        for (k, v) in store.consensus_records()? {
            if matches!(k.first(), Some(&BODY_PREFIX | &EVIDENCE_PREFIX)) {
                continue;
            }
            match PersistRecord::decode_bounded(&v) {
                Ok(r) => records.push(r),
                Err(e) => {
                    return Err(ServiceError::Invalid(format!("consensus record {}: {e}", hex::encode(&k))));
                }
            }
        }
        let core = Core::restore(cfg, key, anchor.clone(), records)?;

        let mut net_config = NetConfig::new(keypair, genesis.chain_id);
        net_config.listen_addrs =
            vec![config.p2p.listen.parse().map_err(|e| ServiceError::Invalid(format!("p2p.listen: {e}")))?];
        net_config.bootnodes = config
            .p2p
            .bootnodes
            .iter()
            .map(|b| b.parse().map_err(|e| ServiceError::Invalid(format!("p2p bootnode {b}: {e}"))))
            .collect::<Result<_, _>>()?;
        net_config.redial_max = Duration::from_secs(5);
        // Consensus gossip carries a copy number after the message (see `publish_consensus`).
        net_config.topic_limits.blocks += COPY_BYTES;
        net_config.topic_limits.consensus += COPY_BYTES;
        let Network { handle: net, events } = Network::start(net_config).await?;
        let peer_id = net.local_peer_id();

        let meta = NodeMeta {
            dev: false,
            validator: is_validator,
            peer_id: Some(peer_id.to_string()),
            alone: is_validator && validators.len() == 1,
        };
        let mut chain = Chain::new(store, runtime, MempoolConfig::default(), meta);
        chain.enable_outbox();
        let chain = Arc::new(chain);
        let head = chain.store().head()?.ok_or_else(|| ServiceError::Invalid("no head".into()))?;
        set_status(&net, &head);
        let rpc_config = config.rpc.rpc_config().map_err(ServiceError::Invalid)?;
        let rpc = RpcServer::start(config.rpc.addr, &rpc_config, chain.clone(), None).await?;
        let admin = match config.test.admin_rpc {
            Some(addr) => Some(start_admin(addr, net.clone()).await?),
            None => None,
        };
        tracing::info!(
            name = %config.name,
            peer = %peer_id,
            validator = is_validator,
            height = head.height,
            rpc = %rpc.local_addr(),
            "node started (validator {me})"
        );
        let (timer_tx, timer_rx) = mpsc::channel(CHANNEL);
        let (sync_tx, sync_rx) = mpsc::channel(16);
        let (build_tx, build_rx) = mpsc::channel(16);
        let service = Service {
            core,
            chain: chain.clone(),
            net: net.clone(),
            chain_id: genesis.chain_id,
            validators,
            pending: BTreeMap::new(),
            proposals: BTreeMap::new(),
            timer_tx,
            sync_tx,
            build_tx,
            block_interval_ms: genesis.consensus.block_interval_ms,
            waiting: None,
            unsent: VecDeque::new(),
            unsent_dropped: 0,
            copies: BTreeMap::new(),
            copy_order: VecDeque::new(),
            syncing: false,
            sync_next: None,
            me,
        };
        // Transaction gossip is admitted by its own task, so that a flood of transactions
        // neither delays consensus messages behind signature checks nor fills the network's
        // event channel until it drops them.
        let (txs_tx, txs_rx) = mpsc::channel(TX_GOSSIP_QUEUE);
        let (rest_tx, rest_rx) = mpsc::channel(CHANNEL);
        let arrived = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(split_events(events, txs_tx, rest_tx, net.clone(), chain.gossip_drops().clone()));
        let budget = net::GossipBudget::new(config.p2p.gossip_tx_rate, config.p2p.gossip_tx_burst);
        tokio::spawn(admit_gossip(chain.clone(), net.clone(), budget, txs_rx, arrived.clone()));
        let task = tokio::spawn(service.run(rest_rx, arrived, timer_rx, sync_rx, build_rx));
        Ok(ValidatorNode { chain, rpc, admin, net, task })
    }

    /// The shared chain.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// Where JSON-RPC listens.
    pub fn rpc_addr(&self) -> std::net::SocketAddr {
        self.rpc.local_addr()
    }

    /// Returns when the service task stops on its own (the store cannot be written, or the
    /// network stopped); the reason is logged.
    pub async fn stopped(&mut self) {
        let _ = (&mut self.task).await;
    }

    /// Stops RPC, the service and the network.
    pub async fn shutdown(self) {
        self.rpc.stop().await;
        if let Some(admin) = self.admin {
            let _ = admin.stop();
            admin.stopped().await;
        }
        self.task.abort();
        self.net.shutdown().await;
    }
}

/// Most peers one `test_partition` call may name.
const MAX_PARTITION_PEERS: usize = 256;

/// Serves the test admin JSON-RPC (`[test] admin_rpc`, loopback only): `test_partition(peers)`
/// cuts this node off from exactly the peer ids given (an empty list heals), through libp2p
/// connection gating ([`NetHandle::partition`]).
async fn start_admin(
    addr: std::net::SocketAddr,
    net: NetHandle,
) -> Result<jsonrpsee::server::ServerHandle, ServiceError> {
    use jsonrpsee::{
        RpcModule,
        server::Server,
        types::{ErrorObjectOwned, error::INVALID_PARAMS_CODE},
    };
    let server = Server::builder()
        .build(addr)
        .await
        .map_err(|e| ServiceError::Invalid(format!("test.admin_rpc {addr}: {e}")))?;
    let mut module = RpcModule::new(net);
    module
        .register_async_method("test_partition", |params, net, _| async move {
            let invalid = |m: String| ErrorObjectOwned::owned(INVALID_PARAMS_CODE, m, None::<()>);
            let (ids,): (Vec<String>,) = params.parse()?;
            if ids.len() > MAX_PARTITION_PEERS {
                return Err(invalid(format!("{} peers; at most {MAX_PARTITION_PEERS}", ids.len())));
            }
            let peers = ids
                .iter()
                .map(|id| id.parse::<PeerId>().map_err(|e| invalid(format!("peer id {id}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            net.partition(peers).await.map_err(|e| invalid(e.to_string()))?;
            Ok::<bool, ErrorObjectOwned>(true)
        })
        .map_err(|e| ServiceError::Invalid(format!("test admin RPC: {e}")))?;
    tracing::warn!(%addr, "test admin RPC enabled (test_partition): never on a real network");
    Ok(server.start(module))
}

/// The anchor to restore the core from: the head with its stored view and certificate.
fn anchor(store: &Store) -> Result<Anchor, ServiceError> {
    let head = store.head()?.ok_or_else(|| ServiceError::Invalid("the store holds no block".into()))?;
    if head.height == 0 {
        return Ok(Anchor::genesis(head.hash()));
    }
    let bytes = store
        .certificate(head.height)?
        .ok_or_else(|| ServiceError::Invalid(format!("block {} has no certificate", head.height)))?;
    let (view, certificate) = decode_stored(&bytes)
        .map_err(|e| ServiceError::Invalid(format!("certificate of block {}: {e}", head.height)))?;
    Ok(Anchor {
        block: BlockRef { view, height: head.height, hash: head.hash() },
        certificate: Some(certificate),
    })
}

/// `view (u64 LE) ‖ SCALE(certificate)`.
fn encode_stored(view: View, certificate: &FinalityCertificate) -> Vec<u8> {
    let mut out = view.to_le_bytes().to_vec();
    out.extend(certificate.encode());
    out
}

fn decode_stored(bytes: &[u8]) -> Result<(View, FinalityCertificate), String> {
    if bytes.len() < 8 {
        return Err("too short".into());
    }
    let (view, cert) = bytes.split_at(8);
    let mut v = [0u8; 8];
    v.copy_from_slice(view);
    let cert = FinalityCertificate::decode_bounded(cert).map_err(|e| e.to_string())?;
    Ok((View::from_le_bytes(v), cert))
}

/// A served entry: `len(block) (u32 LE) ‖ block ‖ stored certificate`.
fn encode_entry(block: &Block, stored: &[u8]) -> Vec<u8> {
    let block = block.encode();
    let mut out = Vec::with_capacity(4 + block.len() + stored.len());
    out.extend((block.len() as u32).to_le_bytes());
    out.extend(block);
    out.extend(stored);
    out
}

fn decode_entry(bytes: &[u8]) -> Result<(Block, View, FinalityCertificate, Vec<u8>), String> {
    if bytes.len() < 4 {
        return Err("entry too short".into());
    }
    let (len, rest) = bytes.split_at(4);
    let mut l = [0u8; 4];
    l.copy_from_slice(len);
    let len = u32::from_le_bytes(l) as usize;
    if len > rest.len() {
        return Err("block length past the entry".into());
    }
    let (block, stored) = rest.split_at(len);
    let block = Block::decode_bounded(block).map_err(|e| e.to_string())?;
    let (view, cert) = decode_stored(stored)?;
    Ok((block, view, cert, stored.to_vec()))
}

fn set_status(net: &NetHandle, head: &Header) {
    net.set_status(net::StatusResponse {
        height: head.height,
        finalized_height: head.height,
        head_hash: head.hash(),
    });
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What a sync task reports.
enum SyncDone {
    /// Every block up to the certificate is committed.
    Synced(FinalityCertificate),
    /// It gave up.
    Failed,
}

struct Service {
    core: Core<SigningKey, PeerId>,
    chain: Arc<Chain>,
    net: NetHandle,
    chain_id: u64,
    validators: ValidatorSet,
    /// Blocks validated or built, not committed yet, by hash.
    pending: BTreeMap<Hash, Arc<BlockOutput>>,
    /// Recent proposals (encoded messages) by block hash.
    proposals: BTreeMap<Hash, Vec<u8>>,
    timer_tx: mpsc::Sender<(View, consensus::TimeoutKind)>,
    sync_tx: mpsc::Sender<SyncDone>,
    /// Delayed block builds (view, height, parent).
    build_tx: mpsc::Sender<(View, u64, Hash)>,
    /// How long after its parent an empty block is proposed (the genesis file's
    /// `block_interval_ms`); a block with transactions is proposed at once.
    block_interval_ms: u64,
    /// The block the core asked for while nothing was includable: built as soon as a
    /// transaction arrives, or empty once the interval has passed.
    waiting: Option<(View, u64, Hash)>,
    /// Transactions admitted over RPC whose publication failed (gossipsub drops such a message
    /// and never retries it): published again when a peer connects and every
    /// [`REGOSSIP_INTERVAL`], while they are still in the mempool.
    unsent: VecDeque<Unsent>,
    /// Unsent transactions dropped because [`MAX_UNSENT`] were waiting (counted for the log).
    unsent_dropped: u64,
    /// How often each recent consensus message was published (by the hash of its encoding),
    /// oldest first in `copy_order`.
    copies: BTreeMap<Hash, (u32, std::time::Instant)>,
    copy_order: VecDeque<Hash>,
    syncing: bool,
    sync_next: Option<FinalityCertificate>,
    me: weft_types::Address,
}

/// A transaction whose publication failed.
struct Unsent {
    hash: Hash,
    bytes: Vec<u8>,
    /// Gossipsub already remembers its id (it failed after that: every peer's queue was full),
    /// so it answers `Duplicate` until the id expires: keep trying through that.
    remembered: bool,
    attempts: u32,
}

/// Attempts to publish a remembered transaction again (one per [`REGOSSIP_INTERVAL`]), past
/// gossipsub's duplicate cache time (60 s).
const MAX_REMEMBERED_ATTEMPTS: u32 = 90;

/// A failure that stops the service (the store cannot be written).
#[derive(Debug)]
struct Fatal(String);

/// Sends the network's transaction gossip to `txs` and every other event to `rest`. A full
/// `txs` drops the transaction (reported ignored: no blame, not forwarded); `rest` is waited
/// for, so consensus messages are never dropped here.
async fn split_events(
    mut events: mpsc::Receiver<NetEvent>,
    txs: mpsc::Sender<NetEvent>,
    rest: mpsc::Sender<NetEvent>,
    net: NetHandle,
    drops: Arc<GossipDrops>,
) {
    while let Some(event) = events.recv().await {
        if !matches!(event, NetEvent::Gossip { topic: net::Topic::Txs, .. }) {
            if rest.send(event).await.is_err() {
                return;
            }
            continue;
        }
        if let Err(mpsc::error::TrySendError::Full(NetEvent::Gossip { id, source, .. })) = txs.try_send(event)
        {
            let dropped = GossipDrops::count(&drops.queue_full);
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "transaction gossip dropped: admission is not keeping up");
            }
            let _ = net.report(id, source, Verdict::Ignore).await;
        }
    }
}

/// Admits gossiped transactions: each within its peer's `budget`, in batches of those already
/// queued (up to [`MAX_GOSSIP_BATCH`]), checked off the async threads. Reports each message's
/// verdict: accepted, rejected (undecodable or invalid: the peer is blamed) or ignored (over
/// the budget, refused by the mempool, or this node failed), and wakes `arrived` when one
/// entered the mempool.
async fn admit_gossip(
    chain: Arc<Chain>,
    net: NetHandle,
    mut budget: net::GossipBudget,
    mut txs: mpsc::Receiver<NetEvent>,
    arrived: Arc<tokio::sync::Notify>,
) {
    while let Some(first) = txs.recv().await {
        let mut batch = Vec::new();
        let mut next = Some(first);
        let mut drained = 0;
        while let Some(event) = next.take() {
            if let NetEvent::Gossip { data, id, source, .. } = event {
                if budget.allow(source, std::time::Instant::now()) {
                    batch.push((data, id, source));
                } else {
                    GossipDrops::count(&chain.gossip_drops().over_peer_limit);
                    let refused = budget.refused();
                    if refused.is_power_of_two() {
                        tracing::warn!(%source, refused, "gossiped transactions over the per-peer limit dropped");
                    }
                    let _ = net.report(id, source, Verdict::Ignore).await;
                }
            }
            drained += 1;
            if drained < MAX_GOSSIP_BATCH {
                next = txs.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        let checker = chain.clone();
        let checked = tokio::task::spawn_blocking(move || {
            let results = checker.admit_many(&batch.iter().map(|(data, ..)| &data[..]).collect::<Vec<_>>());
            (batch, results)
        })
        .await;
        let (batch, results) = match checked {
            Ok(done) => done,
            Err(e) => {
                tracing::error!("transaction gossip admission stopped: {e}");
                return;
            }
        };
        let mut accepted = false;
        for ((_, id, source), result) in batch.iter().zip(results) {
            let verdict = match result {
                Ok(_) => Verdict::Accept,
                Err(SubmitError::Decode(_) | SubmitError::Invalid(_)) => Verdict::Reject,
                Err(SubmitError::Pool(_) | SubmitError::Node(_)) => Verdict::Ignore,
            };
            accepted |= verdict == Verdict::Accept;
            let _ = net.report(*id, *source, verdict).await;
        }
        if accepted {
            arrived.notify_one();
        }
    }
}

impl Service {
    async fn run(
        mut self,
        mut events: mpsc::Receiver<NetEvent>,
        arrived: Arc<tokio::sync::Notify>,
        mut timers: mpsc::Receiver<(View, consensus::TimeoutKind)>,
        mut syncs: mpsc::Receiver<SyncDone>,
        mut builds: mpsc::Receiver<(View, u64, Hash)>,
    ) {
        if let Err(Fatal(e)) = self.step(Input::Start, None).await {
            tracing::error!("service stopped: {e}");
            return;
        }
        // The proposals this node kept (validated or made) before a restart: the core forgot
        // their blocks, and after a crash of every validator nobody else has them.
        let records = self.chain.store().consensus_records().unwrap_or_default();
        let me = self.net.local_peer_id();
        for (key, value) in records {
            if key.first() != Some(&BODY_PREFIX) {
                continue;
            }
            if let Some((message, block)) = proposal_block(&value) {
                self.proposals.insert(block.hash(), value);
                if let Err(Fatal(e)) = self.step(Input::Message { from: me, message }, None).await {
                    tracing::error!("service stopped: {e}");
                    return;
                }
            }
        }
        let chain = self.chain.clone();
        let mut regossip = tokio::time::interval(REGOSSIP_INTERVAL);
        regossip.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let result = tokio::select! {
                event = events.recv() => match event {
                    Some(event) => self.on_event(event).await,
                    None => { tracing::warn!("the network stopped"); return }
                },
                () = arrived.notified() => self.on_tx_arrived().await,
                () = chain.outbox_ready() => {
                    for bytes in self.chain.take_outbox(MAX_OUTBOX_TURN) {
                        self.publish_tx(bytes).await;
                    }
                    self.on_tx_arrived().await
                }
                _ = regossip.tick() => {
                    self.publish_unsent().await;
                    Ok(())
                }
                Some((view, kind)) = timers.recv() => {
                    self.step(Input::TimeoutFired { view, kind }, None).await.map(|_| ())
                }
                Some(due) = builds.recv() => {
                    // The idle interval has passed: propose, even an empty block.
                    if self.waiting == Some(due) {
                        self.waiting = None;
                        let (view, height, parent) = due;
                        match self.build_now(view, height, parent, true) {
                            Ok(Some(block)) => self.step(Input::BlockBuilt(block), None).await.map(|_| ()),
                            Ok(None) => Ok(()),
                            Err(e) => Err(e),
                        }
                    } else {
                        Ok(())
                    }
                }
                Some(done) = syncs.recv() => {
                    self.syncing = false;
                    self.chain.set_syncing(false);
                    let r = match done {
                        SyncDone::Synced(cert) => self.step(Input::Synced(cert), None).await.map(|_| ()),
                        SyncDone::Failed => Ok(()),
                    };
                    if let Some(next) = self.sync_next.take() {
                        self.start_sync(next);
                    }
                    r
                }
            };
            if let Err(Fatal(e)) = result {
                tracing::error!("service stopped: {e}");
                return;
            }
        }
    }

    async fn on_event(&mut self, event: NetEvent) -> Result<(), Fatal> {
        match event {
            NetEvent::Gossip { topic: net::Topic::Txs, .. } => {
                // `split_events` sends transaction gossip to `admit_gossip` instead.
            }
            NetEvent::Gossip { topic, mut data, id, source } => {
                // Strip the copy number (a message too short for one is malformed).
                data.truncate(data.len().saturating_sub(COPY_BYTES));
                let input = match ConsensusMessage::decode_bounded(&data) {
                    Ok(message) => {
                        if topic == net::Topic::Blocks
                            && let ConsensusMessage::Proposal { block, .. } = &message
                        {
                            if self.proposals.len() >= MAX_PROPOSALS {
                                self.proposals.pop_first();
                            }
                            self.proposals.insert(block.hash(), data);
                        }
                        Input::Message { from: source, message }
                    }
                    // The core penalizes what does not decode.
                    Err(_) => Input::Bytes { from: source, bytes: data },
                };
                let penalty = self.step(input, Some(source)).await?;
                let verdict = match penalty {
                    None => Verdict::Accept,
                    Some(Penalty::FarFuture) => Verdict::Ignore,
                    Some(_) => Verdict::Reject,
                };
                let _ = self.net.report(id, source, verdict).await;
            }
            NetEvent::PeerConnected { peer, addr } => {
                tracing::info!("connected to {peer} at {addr}");
                self.chain.set_peer(peer.to_string(), Some(addr.to_string()));
                self.publish_unsent().await;
            }
            NetEvent::PeerDisconnected { peer } => {
                tracing::info!("disconnected from {peer}");
                self.chain.set_peer(peer.to_string(), None);
            }
            NetEvent::BlocksRequested { request, reply, .. } => {
                reply.send(self.read_blocks(request));
            }
        }
        Ok(())
    }

    fn read_blocks(&self, request: BlocksRequest) -> BlocksResponse {
        let store = self.chain.store();
        let mut blocks = Vec::new();
        let start = request.from_height.max(1);
        for height in start..start.saturating_add(u64::from(request.max_count)) {
            let (Ok(Some(block)), Ok(Some(stored))) =
                (store.block_by_height(height), store.certificate(height))
            else {
                break;
            };
            blocks.push(encode_entry(&block, &stored));
        }
        BlocksResponse { blocks }
    }

    /// Feeds `first` to the core and carries out the effects (and those of the answers they
    /// produce), in order. Returns the penalty the core gave `source`, if any.
    async fn step(&mut self, first: Input<PeerId>, source: Option<PeerId>) -> Result<Option<Penalty>, Fatal> {
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
    ) -> Result<(), Fatal> {
        match effect {
            Effect::Persist(record) => {
                let value = record.encode();
                let mut key = record.view().to_be_bytes().to_vec();
                key.extend_from_slice(&weft_types::sha3_256(&value).0[..8]);
                self.chain
                    .store()
                    .write_consensus_records(&[(key, value)], &[])
                    .map_err(|e| Fatal(format!("persisting a consensus record: {e}")))?;
            }
            Effect::Broadcast(message) | Effect::SendTo(_, message) => {
                let topic = match consensus::Topic::of(&message) {
                    consensus::Topic::Blocks => net::Topic::Blocks,
                    consensus::Topic::Consensus => net::Topic::Consensus,
                };
                let bytes = message.encode();
                if let ConsensusMessage::Proposal { block, .. } = &message {
                    self.persist_body(block, &bytes)?;
                }
                self.publish_consensus(topic, bytes).await;
            }
            Effect::BuildBlock { view, height, parent } => {
                // With transactions to include, propose at once; otherwise wait until
                // `block_interval_ms` after the parent (or a transaction, `on_tx_arrived`). The
                // core's view deadline includes that wait. A parent stamped in the future (another
                // proposer's clock) delays by at most the interval.
                let parent_time = self.parent_state(&parent).map(|(h, _)| h.timestamp_ms).unwrap_or(0);
                let wait = parent_time
                    .saturating_add(self.block_interval_ms)
                    .saturating_sub(now_ms())
                    .min(self.block_interval_ms);
                if let Some(block) = self.build_now(view, height, parent, wait == 0)? {
                    self.waiting = None;
                    inputs.push_back(Input::BlockBuilt(block));
                } else if wait > 0 {
                    self.waiting = Some((view, height, parent));
                    let tx = self.build_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        let _ = tx.send((view, height, parent)).await;
                    });
                }
            }
            Effect::ValidateBlock(block) => {
                let hash = block.hash();
                let valid = match self.validate(&block) {
                    Ok(out) => {
                        self.keep(out)?;
                        true
                    }
                    Err(e) => {
                        tracing::warn!(height = block.header.height, "block {hash} is invalid: {e}");
                        false
                    }
                };
                inputs.push_back(Input::BlockValidated { hash, valid });
            }
            Effect::ScheduleTimeout { view, kind, after_ms } => {
                let tx = self.timer_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms.min(3_600_000))).await;
                    let _ = tx.send((view, kind)).await;
                });
            }
            Effect::Finalized { block, view, certificate } => self.commit(block, view, certificate).await?,
            Effect::Sync(cert) => self.start_sync(cert),
            Effect::Evidence(evidence) => {
                tracing::warn!(view = evidence.view(), "evidence of equivocation by {}", evidence.offender());
                keep_evidence(&self.chain.store(), &evidence)
                    .map_err(|e| Fatal(format!("persisting evidence: {e}")))?;
            }
            Effect::Penalize { peer, reason } => {
                tracing::debug!(%peer, ?reason, "peer penalized");
                if reason != Penalty::FarFuture && peer != self.net.local_peer_id() {
                    let _ = self.net.penalize(peer).await;
                }
            }
        }
        Ok(())
    }

    /// A transaction entered the mempool: if the core's block request waits for one, build it
    /// now (unless nothing is includable on its parent yet, e.g. a nonce gap).
    async fn on_tx_arrived(&mut self) -> Result<(), Fatal> {
        let Some((view, height, parent)) = self.waiting else { return Ok(()) };
        if view != self.core.view() {
            self.waiting = None;
            return Ok(());
        }
        if let Some(block) = self.build_now(view, height, parent, false)? {
            self.waiting = None;
            self.step(Input::BlockBuilt(block), None).await?;
        }
        Ok(())
    }

    /// Publishes an encoded consensus message followed by its copy number (u32 LE): 0 the first
    /// time, then 1, 2, … Gossipsub ids messages by content and refuses to publish an id it has
    /// seen (and forgets ids only when new messages arrive), so without the copy number the
    /// core's re-sends (votes and certificates after a partition heals, answers to block and
    /// certificate requests) would never leave this node.
    ///
    /// The same message goes out at most once per [`MIN_REPUBLISH`]: one publication reaches
    /// every peer, so answering a burst of requests for one block or certificate (which peers
    /// can send at will) costs one broadcast, not one per request.
    async fn publish_consensus(&mut self, topic: net::Topic, mut bytes: Vec<u8>) {
        let hash = weft_types::sha3_256(&bytes);
        let now = std::time::Instant::now();
        let copy = match self.copies.get_mut(&hash) {
            Some((_, last)) if now.saturating_duration_since(*last) < MIN_REPUBLISH => return,
            Some((count, last)) => {
                *count = count.saturating_add(1);
                *last = now;
                *count
            }
            None => {
                if self.copy_order.len() >= MAX_COPIES
                    && let Some(oldest) = self.copy_order.pop_front()
                {
                    self.copies.remove(&oldest);
                }
                self.copies.insert(hash, (0, now));
                self.copy_order.push_back(hash);
                0
            }
        };
        bytes.extend(copy.to_le_bytes());
        publish(&self.net, topic, bytes).await;
    }

    /// Publishes a transaction admitted over RPC; keeps it for later if no peer could take it.
    async fn publish_tx(&mut self, bytes: Vec<u8>) {
        match self.net.publish(net::Topic::Txs, bytes.clone()).await {
            Ok(_) | Err(net::NetError::Duplicate) => {}
            Err(e) => {
                tracing::debug!("transaction not gossiped yet ({e}): kept to publish again");
                if self.unsent.len() >= MAX_UNSENT {
                    self.unsent.pop_front();
                    self.unsent_dropped = self.unsent_dropped.saturating_add(1);
                    if self.unsent_dropped.is_power_of_two() {
                        tracing::warn!(
                            dropped = self.unsent_dropped,
                            "transactions waiting to be gossiped again dropped ({MAX_UNSENT} kept at \
                             most; they stay in this node's mempool)"
                        );
                    }
                }
                let remembered = matches!(e, net::NetError::Publish(_));
                let hash = weft_types::sha3_256(&bytes);
                self.unsent.push_back(Unsent { hash, bytes, remembered, attempts: 0 });
            }
        }
    }

    /// Publishes the unsent transactions again, dropping those no longer in the mempool.
    async fn publish_unsent(&mut self) {
        if self.unsent.is_empty() {
            return;
        }
        let waiting: Vec<Unsent> = {
            let pool = self.chain.mempool();
            self.unsent.drain(..).filter(|u| pool.get(&u.hash).is_some()).collect()
        };
        for mut u in waiting {
            u.attempts = u.attempts.saturating_add(1);
            match self.net.publish(net::Topic::Txs, u.bytes.clone()).await {
                Ok(_) => {}
                Err(net::NetError::Duplicate) if !u.remembered || u.attempts >= MAX_REMEMBERED_ATTEMPTS => {}
                Err(_) => self.unsent.push_back(u),
            }
        }
    }

    /// Builds a block for `view` at `height` on `parent` and keeps its output. Without
    /// `allow_empty`, gives `None` instead of a block with no transaction.
    fn build_now(
        &mut self,
        view: View,
        height: u64,
        parent: Hash,
        allow_empty: bool,
    ) -> Result<Option<Block>, Fatal> {
        match self.build(parent, allow_empty) {
            Ok(None) => Ok(None),
            Ok(Some(out)) if out.block.header.height == height => {
                let block = out.block.clone();
                self.keep(out)?;
                Ok(Some(block))
            }
            Ok(Some(_)) => {
                tracing::error!(view, height, "built a block at the wrong height");
                Ok(None)
            }
            Err(e) => {
                tracing::error!(view, height, "cannot build a block on {parent}: {e}");
                Ok(None)
            }
        }
    }

    /// Makes the block's body durable (so that a block this node voted for survives a crash of
    /// every validator) and keeps its output in memory.
    fn keep(&mut self, out: BlockOutput) -> Result<(), Fatal> {
        if let Some(message) = self.proposals.get(&out.block.hash()) {
            self.persist_body(&out.block, message)?;
        }
        if self.pending.len() >= MAX_PENDING_BLOCKS {
            // Drop the lowest (oldest) block; the core asks again for what it needs.
            if let Some(hash) =
                self.pending.iter().min_by_key(|(_, o)| o.block.header.height).map(|(h, _)| *h)
            {
                self.pending.remove(&hash);
            }
        }
        self.pending.insert(out.block.hash(), Arc::new(out));
        Ok(())
    }

    fn persist_body(&self, block: &Block, message: &[u8]) -> Result<(), Fatal> {
        self.chain
            .store()
            .write_consensus_records(&[(body_key(block), message.to_vec())], &[])
            .map_err(|e| Fatal(format!("persisting a block body: {e}")))
    }

    /// The header of `hash` and the state after it (committed head or a pending block).
    fn parent_state(&self, hash: &Hash) -> Result<(Header, Layered), String> {
        let store = self.chain.store();
        let base = store.state().map_err(|e| e.to_string())?;
        let head = base.head().cloned().ok_or("empty store")?;
        let head_hash = head.hash();
        if *hash == head_hash {
            return Ok((head, Layered { base, layers: Vec::new() }));
        }
        let mut layers = Vec::new();
        let mut cursor = *hash;
        while cursor != head_hash {
            let out = self.pending.get(&cursor).ok_or_else(|| format!("unknown parent {cursor}"))?;
            if out.block.header.height <= head.height {
                return Err(format!("block {hash} does not extend the head"));
            }
            cursor = out.block.header.parent_hash;
            layers.push(out.clone());
        }
        let header = layers.first().map_or(head, |o| o.block.header.clone());
        Ok((header, Layered { base, layers }))
    }

    /// Builds a block on `parent` from the mempool; `None` when it would be empty and
    /// `allow_empty` is false.
    fn build(&self, parent: Hash, allow_empty: bool) -> Result<Option<BlockOutput>, String> {
        let (header, state) = self.parent_state(&parent)?;
        let state: SharedBackend = Arc::new(state);
        let candidates = {
            let pool = self.chain.mempool();
            if pool.is_empty() && !allow_empty {
                return Ok(None);
            }
            pool.select(MAX_BLOCK_TXS, |sender| account_in(&*state, sender).map_or(0, |a| a.nonce))
        };
        if candidates.is_empty() && !allow_empty {
            return Ok(None);
        }
        let timestamp = now_ms().max(header.timestamp_ms + 1);
        let runtime = self.chain.runtime();
        let mut builder = BlockBuilder::new(runtime, state.clone(), &header, timestamp, self.me);
        for tx in candidates {
            match builder.push((*tx.signed).clone()) {
                Ok(_) => {}
                Err(PushError::BlockFull(_)) => break,
                Err(PushError::Tx(_)) => {}
                Err(PushError::Runtime(e)) => return Err(e.to_string()),
            }
        }
        let out = builder.finish().map_err(|e| e.to_string())?;
        Ok((allow_empty || !out.block.txs.is_empty()).then_some(out))
    }

    fn validate(&self, block: &Block) -> Result<BlockOutput, String> {
        let (header, state) = self.parent_state(&block.header.parent_hash)?;
        self.chain.runtime().apply_block(Arc::new(state), &header, block).map_err(|e| e.to_string())
    }

    async fn commit(
        &mut self,
        block: Block,
        view: View,
        certificate: FinalityCertificate,
    ) -> Result<(), Fatal> {
        let hash = block.hash();
        let height = block.header.height;
        let store = self.chain.store();
        let head = store.head().map_err(|e| Fatal(e.to_string()))?.map_or(0, |h| h.height);
        if height <= head {
            self.pending.remove(&hash);
            return Ok(());
        }
        let out = match self.pending.get(&hash) {
            Some(out) => out.clone(),
            None => match self.validate(&block) {
                Ok(out) => Arc::new(out),
                Err(e) => {
                    tracing::error!(height, "cannot execute finalized block {hash}: {e}");
                    return Ok(());
                }
            },
        };
        let stored = encode_stored(view, &certificate);
        match store.commit_certified(&out.block, &out.receipts, &out.changes, &stored) {
            Ok(()) => {}
            Err(e) if e.is_node_fault() => return Err(Fatal(format!("committing block {height}: {e}"))),
            Err(e) => {
                tracing::warn!(height, "block {hash} not committed: {e}");
                return Ok(());
            }
        }
        after_commit(&self.chain, &self.net, &out);
        self.pending.retain(|_, o| o.block.header.height > height);
        // Records of views at or below the finalized one are no longer needed.
        if let Ok(records) = store.consensus_records() {
            let old: Vec<Vec<u8>> = records
                .into_iter()
                .filter(|(k, _)| match k.first() {
                    Some(&BODY_PREFIX) => k.len() >= 9 && k[1..9] <= height.to_be_bytes()[..],
                    Some(&EVIDENCE_PREFIX) => false,
                    _ => k.len() >= 8 && k[..8] <= view.to_be_bytes()[..],
                })
                .map(|(k, _)| k)
                .collect();
            if !old.is_empty() {
                let _ = store.write_consensus_records(&[], &old);
            }
        }
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
        self.chain.set_syncing(true);
        let task = SyncTask {
            chain: self.chain.clone(),
            net: self.net.clone(),
            chain_id: self.chain_id,
            validators: self.validators.clone(),
        };
        let done = self.sync_tx.clone();
        tokio::spawn(async move {
            let result = task.run(&cert).await;
            let report = match result {
                Ok(()) => SyncDone::Synced(cert),
                Err(e) => {
                    tracing::warn!("sync failed: {e}");
                    SyncDone::Failed
                }
            };
            let _ = done.send(report).await;
        });
    }
}

/// Publishes, treating a duplicate as success and a lack of peers as a debug note.
async fn publish(net: &NetHandle, topic: net::Topic, data: Vec<u8>) {
    match net.publish(topic, data).await {
        Ok(_) | Err(net::NetError::Duplicate) => {}
        Err(net::NetError::NoPeers) => tracing::debug!(?topic, "no peers to publish to"),
        Err(e) => tracing::warn!(?topic, "publish failed: {e}"),
    }
}

/// Announces a committed block, prunes the mempool and updates the network status.
fn after_commit(chain: &Chain, net: &NetHandle, out: &BlockOutput) {
    let header = &out.block.header;
    let tx_hashes: Vec<Hash> = out.receipts.iter().map(|r| r.tx_hash).collect();
    let mut dropped = Vec::new();
    if let Ok(state) = chain.store().state() {
        let mut pool = chain.mempool();
        for hash in &tx_hashes {
            pool.remove(hash);
        }
        dropped = pool.prune(|sender| account_in(&state, sender).map_or(0, |a| a.nonce));
    }
    tracing::info!(
        height = header.height,
        finalized_height = header.height,
        txs = tx_hashes.len(),
        "finalized block {}",
        header.hash()
    );
    set_status(net, header);
    let committed =
        Arc::new(CommittedBlock { block: out.block.clone(), receipts: out.receipts.clone(), tx_hashes });
    chain.publish(ChainEvent::Block(committed));
    for hash in dropped {
        chain.publish(ChainEvent::Dropped {
            hash,
            reason: "nonce already used by a committed transaction".into(),
        });
    }
}

/// Fetches, checks and commits finalized blocks from peers.
struct SyncTask {
    chain: Arc<Chain>,
    net: NetHandle,
    chain_id: u64,
    validators: ValidatorSet,
}

impl SyncTask {
    async fn run(&self, target: &FinalityCertificate) -> Result<(), String> {
        target.verify(self.chain_id, &self.validators).map_err(|e| format!("target certificate: {e}"))?;
        let goal = target.block().height;
        match self.commit_local(target) {
            Ok(0) => {}
            Ok(n) => tracing::info!(blocks = n, "committed finalized blocks from this node's own copies"),
            Err(e) => tracing::warn!("finalized blocks from this node's own copies: {e}"),
        }
        let mut failures = 0;
        let mut turn = 0usize;
        loop {
            let head = self.head()?;
            if head.height >= goal {
                return Ok(());
            }
            let peers = self.net.peers().await;
            if peers.is_empty() || failures >= SYNC_ROUNDS * peers.len().max(1) as u32 {
                if failures >= SYNC_ROUNDS * peers.len().max(1) as u32 {
                    return Err(format!("no peer served blocks above {}", head.height));
                }
                failures += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            turn = turn.wrapping_add(1);
            let peer = peers[turn % peers.len()].peer_id;
            let count = (goal - head.height).min(net::protocol::MAX_BLOCKS_PER_RESPONSE as u64) as u32;
            let request = BlocksRequest { from_height: head.height + 1, max_count: count };
            let response = match self.net.request_blocks(peer, request).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::debug!(%peer, "blocks request failed: {e}");
                    failures += 1;
                    continue;
                }
            };
            match self.apply(&head, response, target) {
                Ok(0) => failures += 1,
                Ok(_) => failures = 0,
                Err(e) => {
                    tracing::warn!(%peer, "bad blocks response: {e}");
                    let _ = self.net.penalize(peer).await;
                    failures += 1;
                }
            }
        }
    }

    /// Commits the blocks up to `target` (already verified) from the bodies this node persisted
    /// when it validated or built them (after a crash, possibly of every validator, they are
    /// nowhere else). Their views are unknown except the certified block's: 0 is stored.
    fn commit_local(&self, target: &FinalityCertificate) -> Result<usize, String> {
        let store = self.chain.store();
        let head = self.head()?;
        let mut bodies = BTreeMap::new();
        for (key, value) in store.consensus_records().map_err(|e| e.to_string())? {
            if key.first() == Some(&BODY_PREFIX)
                && let Some((_, block)) = proposal_block(&value)
            {
                bodies.insert(block.hash(), block);
            }
        }
        let mut chain = Vec::new();
        let mut cursor = target.block().hash;
        while cursor != head.hash() {
            let Some(block) = bodies.remove(&cursor) else { return Ok(0) };
            if block.header.height <= head.height {
                return Ok(0);
            }
            cursor = block.header.parent_hash;
            chain.push(block);
        }
        let mut committed = 0;
        for block in chain.into_iter().rev() {
            let view = if block.hash() == target.block().hash { target.block().view } else { 0 };
            if self.commit_one(&block, &encode_stored(view, target))? {
                committed += 1;
            }
        }
        Ok(committed)
    }

    /// Re-executes `block` on the head and commits it with `stored`; false when the head moved
    /// past it meanwhile.
    fn commit_one(&self, block: &Block, stored: &[u8]) -> Result<bool, String> {
        let store = self.chain.store();
        let current = self.head()?;
        if block.header.height <= current.height {
            return Ok(false);
        }
        let state: SharedBackend = Arc::new(store.state().map_err(|e| e.to_string())?);
        let out = self
            .chain
            .runtime()
            .apply_block(state, &current, block)
            .map_err(|e| format!("block {}: {e}", block.header.height))?;
        match store.commit_certified(&out.block, &out.receipts, &out.changes, stored) {
            Ok(()) => {}
            Err(e) if e.is_node_fault() => return Err(e.to_string()),
            Err(_) => return Ok(false),
        }
        after_commit(&self.chain, &self.net, &out);
        Ok(true)
    }

    fn head(&self) -> Result<Header, String> {
        self.chain.store().head().map_err(|e| e.to_string())?.ok_or_else(|| "empty store".to_string())
    }

    /// Checks a response ([`verify_response`]) and commits its certified prefix. Returns how
    /// many blocks were committed.
    fn apply(
        &self,
        head: &Header,
        response: BlocksResponse,
        target: &FinalityCertificate,
    ) -> Result<usize, String> {
        if self.head()?.hash() != head.hash() {
            // The service committed blocks meanwhile: ask again from the new head.
            return Ok(0);
        }
        let mut committed = 0;
        for (block, stored) in verify_response(head, &response, target, self.chain_id, &self.validators)? {
            if self.commit_one(&block, &stored)? {
                committed += 1;
            }
        }
        Ok(committed)
    }
}

/// Checks a blocks response against the head: the entries must form a hash chain from the head,
/// and the prefix returned (with each block's stored `view ‖ certificate`, to commit as is) ends
/// at the highest entry certified by a valid finality certificate (its own, a later entry's, or
/// `target`). Every entry of that prefix must carry a valid certificate of itself (with its view)
/// or of a descendant (in the response, by hash, or above it) proposed in a later view: a peer
/// cannot make this node store, serve or restart from a certificate or view it made up. Any
/// failure blames the peer. Entries beyond the prefix are dropped (asked for again).
fn verify_response(
    head: &Header,
    response: &BlocksResponse,
    target: &FinalityCertificate,
    chain_id: u64,
    validators: &ValidatorSet,
) -> Result<Vec<(Block, Vec<u8>)>, String> {
    let mut entries = Vec::new();
    let mut parent = head.hash();
    for (i, bytes) in response.blocks.iter().enumerate() {
        let (block, view, cert, stored) = decode_entry(bytes).map_err(|e| format!("entry {i}: {e}"))?;
        if block.header.height != head.height + 1 + i as u64 || block.header.parent_hash != parent {
            return Err(format!("entry {i} does not extend the chain"));
        }
        parent = block.hash();
        entries.push((block, view, cert, stored));
    }
    let hashes: Vec<Hash> = entries.iter().map(|(b, ..)| b.hash()).collect();
    // Certificates already verified in this response (a batch of blocks finalized together
    // shares its descendant's).
    let mut valid: Vec<FinalityCertificate> = Vec::new();
    let mut check = |cert: &FinalityCertificate| -> Result<(), String> {
        if !valid.contains(cert) {
            cert.verify(chain_id, validators).map_err(|e| e.to_string())?;
            valid.push(cert.clone());
        }
        Ok(())
    };
    // The highest entry certified by a valid certificate.
    let mut last = None;
    let candidates = entries.iter().map(|(_, _, c, _)| c).chain([target]);
    for cert in candidates {
        let b = cert.block();
        if let Some(index) = hashes.iter().position(|h| *h == b.hash)
            && last.is_none_or(|l| index > l)
            && check(cert).is_ok()
        {
            last = Some(index);
        }
    }
    let Some(last) = last else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (i, (block, view, cert, stored)) in entries.into_iter().take(last + 1).enumerate() {
        let named = cert.block();
        check(&cert).map_err(|e| format!("entry {i} (block {}): certificate: {e}", block.header.height))?;
        let offset = named.height.checked_sub(block.header.height).ok_or_else(|| {
            format!("entry {i} (block {}): certificate of a lower block", block.header.height)
        })?;
        let in_response = usize::try_from(offset).ok().and_then(|o| hashes.get(i + o));
        if in_response.is_some_and(|h| *h != named.hash) {
            return Err(format!("entry {i}: certificate of a block off this chain"));
        }
        let view_ok = if offset == 0 { view == named.view } else { view < named.view };
        if !view_ok {
            return Err(format!(
                "entry {i}: view {view} does not match its certificate (view {})",
                named.view
            ));
        }
        out.push((block, stored));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use weft_types::{
        Address, BoundedVec,
        consensus::{Certificate, Evidence, Validator, Vote},
    };

    use super::*;

    const CHAIN: u64 = 77;

    fn keys() -> Vec<SigningKey> {
        (0..4u8).map(|i| SigningKey::from_bytes(&[i + 1; 32])).collect()
    }

    fn set(keys: &[SigningKey]) -> ValidatorSet {
        ValidatorSet::from_unsorted(
            keys.iter().map(|k| Validator { address: address_of(k), power: 1 }).collect(),
        )
        .unwrap()
    }

    fn block(height: u64, parent: Hash) -> Block {
        let header = Header {
            height,
            parent_hash: parent,
            timestamp_ms: height,
            proposer: Address([1; 32]),
            tx_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            state_root: Hash([height as u8; 32]),
            gas_used: 0,
        };
        Block { header, txs: BoundedVec::new(vec![]).unwrap() }
    }

    fn cert(keys: &[SigningKey], b: &Block, view: View) -> FinalityCertificate {
        let vote = Vote::Finalize(BlockRef { view, height: b.header.height, hash: b.hash() });
        let sigs = keys[..3].iter().map(|k| {
            let signed = vote.sign(CHAIN, k);
            weft_types::consensus::ValidatorSignature {
                validator: signed.signer,
                signature: signed.signature,
            }
        });
        FinalityCertificate::new(Certificate::new(vote, sigs).unwrap()).unwrap()
    }

    fn entry(b: &Block, view: View, c: &FinalityCertificate) -> Vec<u8> {
        encode_entry(b, &encode_stored(view, c))
    }

    #[test]
    fn sync_responses_are_checked_entry_by_entry() {
        let keys = keys();
        let set = set(&keys);
        let head = block(0, Hash::ZERO).header;
        let b1 = block(1, head.hash());
        let b2 = block(2, b1.hash());
        let b3 = block(3, b2.hash());
        // b1 and b2 became final with b3 (views 2, ?, 5): they carry b3's certificate.
        let c3 = cert(&keys, &b3, 5);
        let good = vec![entry(&b1, 2, &c3), entry(&b2, 0, &c3), entry(&b3, 5, &c3)];
        let verify =
            |blocks: Vec<Vec<u8>>| verify_response(&head, &BlocksResponse { blocks }, &c3, CHAIN, &set);
        let ok = verify(good.clone()).unwrap();
        assert_eq!(ok.iter().map(|(b, _)| b.header.height).collect::<Vec<_>>(), vec![1, 2, 3]);

        // A forged signature on an intermediate entry's certificate.
        let mut forged = c3.certificate();
        let mut sigs: Vec<_> = forged.signatures.to_vec();
        sigs[1].signature.0[0] ^= 1;
        forged.signatures = BoundedVec::new(sigs).unwrap();
        let forged = FinalityCertificate::new(forged).unwrap();
        let mut bad = good.clone();
        bad[1] = entry(&b2, 0, &forged);
        assert!(verify(bad).unwrap_err().contains("entry 1"), "a forged certificate");
        // A view that is not the certified one.
        let mut bad = good.clone();
        bad[2] = entry(&b3, 7, &c3);
        assert!(verify(bad).unwrap_err().contains("view 7"));
        // An intermediate view above its certified descendant's.
        let mut bad = good.clone();
        bad[0] = entry(&b1, 9, &c3);
        assert!(verify(bad).unwrap_err().contains("view 9"));
        // A certificate of a block off this chain (another block at height 3).
        let other = block(3, b1.hash());
        let mut bad = good.clone();
        bad[0] = entry(&b1, 2, &cert(&keys, &other, 5));
        assert!(verify(bad).unwrap_err().contains("off this chain"));
        // A certificate of a lower block.
        let mut bad = good.clone();
        bad[1] = entry(&b2, 3, &cert(&keys, &b1, 2));
        assert!(verify(bad).unwrap_err().contains("lower block"));
        // A broken hash chain.
        let mut bad = good.clone();
        bad[1] = entry(&block(2, Hash([9; 32])), 0, &c3);
        assert!(verify(bad).unwrap_err().contains("does not extend"));
        // Garbage.
        assert!(verify(vec![vec![1, 2, 3]]).unwrap_err().contains("entry 0"));
        // Nothing certified yet (the certified block is beyond the response): nothing to commit.
        let c4 = cert(&keys, &block(4, b3.hash()), 6);
        let uncertified = vec![entry(&b1, 2, &c4)];
        let none = verify_response(&head, &BlocksResponse { blocks: uncertified }, &c4, CHAIN, &set).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn evidence_is_kept_in_the_store_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chain.redb")).unwrap();
        let key = &keys()[0];
        let evidence = |view: View| {
            Evidence::ConflictingVotes(Vote::Nullify(view).sign(CHAIN, key), {
                let b = BlockRef { view, height: 1, hash: Hash([7; 32]) };
                Vote::Finalize(b).sign(CHAIN, key)
            })
        };
        for view in 1..=6 {
            keep_evidence_within(&store, &evidence(view), 4).unwrap();
        }
        keep_evidence_within(&store, &evidence(6), 4).unwrap();
        let kept = stored_evidence(&store).unwrap();
        assert_eq!(
            kept.iter().map(Evidence::view).collect::<Vec<_>>(),
            vec![3, 4, 5, 6],
            "the lowest views dropped"
        );
        assert!(kept.iter().all(|e| e.verify(CHAIN, &set(&keys())).is_ok()));
        // Consensus records and bodies are told apart from evidence at restart.
        let records = store.consensus_records().unwrap();
        assert!(records.iter().all(|(k, _)| k.first() == Some(&EVIDENCE_PREFIX)));
    }

    #[tokio::test]
    async fn transaction_gossip_never_crowds_out_consensus_events() {
        let mut config = NetConfig::new(net::generate_keypair(), CHAIN);
        config.listen_addrs = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
        let network = Network::start(config).await.unwrap();
        let (events_tx, events_rx) = mpsc::channel(64);
        let (txs_tx, mut txs_rx) = mpsc::channel(4);
        let (rest_tx, mut rest_rx) = mpsc::channel(64);
        let drops = Arc::new(GossipDrops::default());
        let split =
            tokio::spawn(split_events(events_rx, txs_tx, rest_tx, network.handle.clone(), drops.clone()));
        let source = PeerId::random();
        let gossip =
            |topic, i: u8| NetEvent::Gossip { topic, data: vec![i], id: net::MessageId([i; 32]), source };
        for i in 0..20 {
            events_tx.send(gossip(net::Topic::Txs, i)).await.unwrap();
        }
        events_tx.send(gossip(net::Topic::Consensus, 100)).await.unwrap();
        events_tx.send(NetEvent::PeerDisconnected { peer: source }).await.unwrap();
        drop(events_tx);
        split.await.unwrap();

        // Nobody took transactions: the first four wait, the other sixteen were dropped; every
        // other event came through, in order.
        let mut queued = Vec::new();
        while let Ok(NetEvent::Gossip { topic, data, .. }) = txs_rx.try_recv() {
            assert_eq!(topic, net::Topic::Txs);
            queued.push(data[0]);
        }
        assert_eq!(queued, vec![0, 1, 2, 3]);
        assert_eq!(
            drops.queue_full.load(std::sync::atomic::Ordering::Relaxed),
            16,
            "counted for node_metrics"
        );
        assert!(matches!(
            rest_rx.try_recv(),
            Ok(NetEvent::Gossip { topic: net::Topic::Consensus, data, .. }) if data == vec![100]
        ));
        assert!(matches!(rest_rx.try_recv(), Ok(NetEvent::PeerDisconnected { .. })));
        assert!(rest_rx.try_recv().is_err());
    }
}
