//! `weft-node run`: a validator (or follower) node, wired here from its parts: the store and
//! genesis checks, the consensus core restored from the store, the network, JSON-RPC, and the
//! tasks — the [`driver`] (consensus and commits), the gossip ingress split and transaction
//! admission ([`gossip`]), block sync ([`sync`]).
//!
//! Errors are typed by blame: a peer's fault is penalized where it is seen and never stops the
//! node; a [`NodeFault`] (its own store or runtime) stops the node with the reason and never
//! blames a peer.

mod answers;
mod blocks;
mod driver;
mod gossip;
mod network;
#[cfg(test)]
mod sim;
mod sync;
#[cfg(test)]
mod tests;
mod validations;

use std::{fs, path::PathBuf, sync::Arc, time::Duration};

use tokio::{sync::mpsc, task::JoinHandle};
use weft_runtime::{BlockError, Runtime, RuntimeError};
use weft_types::{
    Hash,
    consensus::{BlockRef, COPY_BYTES, FinalityProof},
    tx::address_of,
};

use self::driver::Driver;
pub use self::{
    network::Network,
    sync::{PeerFault, SyncError},
};
use crate::{
    admission::{self, OUTBOX_MAX_BYTES, OUTBOX_MAX_TXS},
    chain::{Chain, NodeMeta},
    config::{NodeConfig, read_key},
    consensus::{self, Anchor, Core, PersistRecord},
    genesis::GenesisFile,
    ledger::prepare_code_at_start,
    mempool::MempoolConfig,
    net::{self, NetConfig, NetHandle, StatusResponse},
    rpc::{AdminServer, RpcServer},
    store::{ArtifactDir, Store, StoreError},
};

/// Gossiped transactions waiting for admission at most. More are dropped without blame and
/// not forwarded: the node that sent them still has them and includes them when it leads.
const TX_GOSSIP_QUEUE: usize = 8192;

/// A fault of this node — its store, its runtime — never a peer's: it stops the validator with
/// the reason, since going on could mean silently never committing again.
#[derive(Debug, thiserror::Error)]
pub enum NodeFault {
    /// The store failed to read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime failed (state I/O, the engine).
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// The store holds no block.
    #[error("the store holds no block")]
    EmptyStore,
    /// A block the network finalized, which this node validated before, does not execute here.
    #[error("finalized block {height} ({hash}) does not execute on this node: {source}")]
    FinalizedInvalid {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: Hash,
        /// Why.
        source: Box<BlockError>,
    },
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

/// Why the validator failed to start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
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
    Runtime(#[from] RuntimeError),
    /// The genesis block.
    #[error("genesis: {0}")]
    GenesisBlock(#[from] weft_runtime::GenesisError),
    /// The store holds another chain than this genesis file's.
    #[error("the store's genesis block {stored} is not this genesis file's ({expected})")]
    OtherGenesis {
        /// The stored genesis block.
        stored: Hash,
        /// This genesis file's.
        expected: Hash,
    },
    /// The stored chain is inconsistent with itself.
    #[error("store {}: {reason}", path.display())]
    Inconsistent {
        /// The store.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A setting of the config file.
    #[error("{key}: {reason}")]
    Setting {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// JSON-RPC failed to start.
    #[error(transparent)]
    Rpc(#[from] crate::rpc::RpcError),
    /// A directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// A running validator (or follower): its chain, RPC server, network and driver task.
#[derive(Debug)]
pub struct ValidatorNode {
    chain: Chain,
    rpc: RpcServer,
    admin: Option<AdminServer>,
    net: NetHandle,
    task: JoinHandle<Stopped>,
}

impl ValidatorNode {
    /// Loads the genesis and keys named by `config`, opens (or creates) the store, restores the
    /// consensus core, starts the network, JSON-RPC and the driver.
    pub async fn start(config: &NodeConfig) -> Result<ValidatorNode, ValidatorError> {
        let genesis = GenesisFile::load(&config.genesis)?;
        let key = read_key(&config.validator_key)?;
        let keypair = net::read_keypair(&config.node_key)?;
        fs::create_dir_all(&config.data_dir)
            .map_err(|source| ValidatorError::Io { path: config.data_dir.clone(), source })?;
        let store = Store::open(&config.data_dir.join("chain.redb"))?;
        let artifacts_dir = config.data_dir.join("artifacts");
        let artifacts = ArtifactDir::open(&artifacts_dir)
            .map_err(|source| ValidatorError::Io { path: artifacts_dir, source })?;
        let runtime = Runtime::with_artifacts(genesis.chain_id, genesis.min_gas_price, Arc::new(artifacts))?;
        let invalid_set = |e: weft_types::consensus::ValidatorSetError| ValidatorError::Setting {
            key: "genesis validators".into(),
            reason: e.to_string(),
        };
        let expected = {
            let empty = Arc::new(weft_runtime::state::memory::MemoryState::new());
            runtime.genesis(empty, &genesis.runtime_genesis().map_err(invalid_set)?)?
        };
        match store.block_by_height(0)? {
            None => store.commit_block(&expected.block, &expected.receipts, &expected.changes)?,
            Some(b) if b.hash() == expected.block.hash() => {}
            Some(b) => {
                return Err(ValidatorError::OtherGenesis {
                    stored: b.hash(),
                    expected: expected.block.hash(),
                });
            }
        }
        let validators = genesis.validator_set().map_err(invalid_set)?;
        let me = address_of(&key);
        let is_validator = validators.contains(&me);
        let mut cfg = consensus::Config::new(genesis.chain_id, validators.clone());
        cfg.view_timeout_ms = genesis.consensus.timeout_ms;
        cfg.backoff_percent = genesis.consensus.backoff_percent;
        cfg.max_timeout_ms = genesis.consensus.max_timeout_ms;
        cfg.block_interval_ms = genesis.consensus.block_interval_ms;

        let anchor = anchor(&store)?;
        let mut records = Vec::new();
        for value in store.consensus_records()? {
            let record = PersistRecord::decode_bounded(&value).map_err(|e| ValidatorError::Inconsistent {
                path: store.path().to_path_buf(),
                reason: format!("a consensus record does not decode: {e}"),
            })?;
            records.push(record);
        }
        let core = Core::restore(cfg, key, anchor, records)?;

        let mut net_config = NetConfig::new(keypair, genesis.chain_id);
        let setting = |key: &str, e: &dyn std::fmt::Display| ValidatorError::Setting {
            key: key.into(),
            reason: e.to_string(),
        };
        net_config.listen_addrs = vec![config.p2p.listen.parse().map_err(|e| setting("p2p.listen", &e))?];
        net_config.bootnodes = config
            .p2p
            .bootnodes
            .iter()
            .map(|b| b.parse().map_err(|e| setting(&format!("p2p bootnode {b}"), &e)))
            .collect::<Result<_, _>>()?;
        net_config.redial_max = Duration::from_secs(5);
        // Consensus gossip carries a copy number after the message.
        net_config.topic_limits.blocks += COPY_BYTES;
        net_config.topic_limits.consensus += COPY_BYTES;
        let net::Network { handle: net, events } = net::Network::start(net_config).await?;
        let peer_id = net.local_peer_id();

        let meta = NodeMeta {
            dev: false,
            validator: is_validator,
            peer_id: Some(peer_id.to_string()),
            alone: is_validator && validators.len() == 1,
        };
        let (outbox_tx, outbox) = admission::outbox(OUTBOX_MAX_TXS, OUTBOX_MAX_BYTES);
        let chain = Chain::new(store, runtime, MempoolConfig::default(), meta, Some(outbox_tx));
        let head = chain.ledger.store().head()?.ok_or_else(|| ValidatorError::Inconsistent {
            path: chain.ledger.store().path().to_path_buf(),
            reason: "the store holds no block".into(),
        })?;
        net.set_status(StatusResponse {
            height: head.height,
            finalized_height: head.height,
            head_hash: head.hash(),
        });
        let rpc_config = config
            .rpc
            .rpc_config()
            .map_err(|reason| ValidatorError::Setting { key: "rpc".into(), reason })?;
        let rpc = RpcServer::start(config.rpc.addr, &rpc_config, Arc::new(chain.clone()), None).await?;
        let admin = match config.test.admin_rpc {
            Some(addr) => Some(AdminServer::start(addr, net.clone()).await?),
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
        let driver = Driver::new(
            core,
            chain.clone(),
            net.clone(),
            genesis.chain_id,
            validators,
            me,
            genesis.consensus.block_interval_ms,
        );
        let budget = net::GossipBudget::new(config.p2p.gossip_tx_rate, config.p2p.gossip_tx_burst);
        let task = spawn_tasks(driver, events, net.clone(), &chain, budget, outbox);
        Ok(ValidatorNode { chain, rpc, admin, net, task })
    }

    /// The node's handles.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Where JSON-RPC listens.
    pub fn rpc_addr(&self) -> std::net::SocketAddr {
        self.rpc.local_addr()
    }

    /// Returns when the driver stops on its own: why (this node's store or runtime failed, or
    /// the network stopped).
    pub async fn stopped(&mut self) -> Stopped {
        match (&mut self.task).await {
            Ok(stopped) => stopped,
            Err(e) if e.is_panic() => Stopped::Panicked,
            // Cancelled: only `shutdown` aborts it, and that consumes the node.
            Err(_) => Stopped::Network,
        }
    }

    /// Stops RPC, the driver and the network.
    pub async fn shutdown(self) {
        self.rpc.stop().await;
        if let Some(admin) = self.admin {
            admin.stop().await;
        }
        self.task.abort();
        self.net.shutdown().await;
    }
}

/// Starts a validator's tasks over `net`: the ingress split, the admission of gossiped
/// transactions and the driver (whose task is returned). Transaction gossip is admitted by its
/// own task, so that a flood of transactions neither delays consensus messages behind signature
/// checks nor fills the network's event channel until it drops them.
fn spawn_tasks<N: Network>(
    driver: Driver<N>,
    events: mpsc::Receiver<net::NetEvent>,
    net: N,
    chain: &Chain,
    budget: net::GossipBudget,
    outbox: admission::OutboxReceiver,
) -> JoinHandle<Stopped> {
    let (txs_tx, txs_rx) = mpsc::channel(TX_GOSSIP_QUEUE);
    let (rest_tx, rest_rx) = mpsc::channel(driver::CHANNEL);
    let arrived = Arc::new(tokio::sync::Notify::new());
    let drops = chain.status.gossip_drops().clone();
    tokio::spawn(gossip::split_events(events, txs_tx, rest_tx, net.clone(), drops.clone()));
    tokio::spawn(gossip::admit_gossip(chain.admission.clone(), drops, net, budget, txs_rx, arrived.clone()));
    let (ledger, status) = (chain.ledger.clone(), chain.status.clone());
    tokio::spawn(async move {
        // The driver is the only one to execute blocks: it starts once stored code is compiled.
        let preparing = status.clone();
        if tokio::task::spawn_blocking(move || prepare_code_at_start(&ledger, &preparing)).await.is_err() {
            // A panic while preparing (logged by the runtime) leaves the rest to execution.
            status.set_syncing(false);
        }
        driver.run(rest_rx, arrived, outbox).await
    })
}

/// The anchor to restore the core from: the head with its stored view and certificate.
fn anchor(store: &Store) -> Result<Anchor, ValidatorError> {
    let inconsistent =
        |reason: String| ValidatorError::Inconsistent { path: store.path().to_path_buf(), reason };
    let head = store.head()?.ok_or_else(|| inconsistent("the store holds no block".into()))?;
    if head.height == 0 {
        return Ok(Anchor::genesis(head.hash()));
    }
    let bytes = store
        .certificate(head.height)?
        .ok_or_else(|| inconsistent(format!("block {} has no certificate", head.height)))?;
    let proof = FinalityProof::decode_bounded(&bytes)
        .map_err(|e| inconsistent(format!("certificate of block {}: {e}", head.height)))?;
    Ok(Anchor {
        block: BlockRef { view: proof.view, height: head.height, hash: head.hash() },
        certificate: Some(proof.certificate),
    })
}
