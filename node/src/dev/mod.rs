//! `weft-node dev`: a single-validator development chain. It owns the block producer (a thread
//! that builds a block as soon as transactions arrive, or every `block_time`; while they keep
//! coming, each block commits on a second thread while the next one executes), the dev-only
//! controls behind the `dev_*` RPC methods (mine, set balance, move time, snapshot and revert),
//! the data directory layout, and the start and clean shutdown of the whole service.
//!
//! Data directory: `CURRENT` names the live database file (`chain-N.redb`); `snapshots/ID.redb`
//! are copies made by `dev_snapshot`. A revert opens a copy of the snapshot as the next
//! `chain-N.redb` and then points `CURRENT` at it (written to a temporary file and renamed), so a
//! crash at any moment leaves a directory that starts.

pub mod control;
mod producer;

use std::{
    collections::BTreeMap,
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use weft_runtime::{Genesis, Runtime};
use weft_types::{
    Address, Amount,
    dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address},
};

pub use self::control::{DEV_CHAIN_ID, DevCommand, DevControl, DevError, dev_proposer};
use self::{control::io, producer::Producer};
use crate::producer::now_ms;
use crate::{
    chain::{Chain, ChainError, NodeMeta},
    mempool::MempoolConfig,
    rpc::{RpcConfig, RpcError, RpcServer},
    store::{ArtifactDir, Store},
};

/// Why the dev chain failed to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Its data, its runtime or its producer.
    #[error(transparent)]
    Dev(#[from] DevError),
    /// Its JSON-RPC server.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// Deploying `DevConfig::examples`.
    #[error("deploying the examples: {0}")]
    Examples(#[from] crate::examples::DeployError),
}

impl From<ChainError> for StartError {
    fn from(e: ChainError) -> Self {
        StartError::Dev(e.into())
    }
}

/// Configuration of a dev chain.
#[derive(Debug, Clone)]
pub struct DevConfig {
    /// Where JSON-RPC listens (HTTP and WebSocket on one port); port 0 picks a free one.
    pub rpc_addr: SocketAddr,
    /// Where the chain is kept; `None`: a temporary directory removed at shutdown.
    pub data_dir: Option<PathBuf>,
    /// Produce a block every this often even when idle; `None`: a block as soon as
    /// transactions arrive.
    pub block_time: Option<Duration>,
    /// Chain id.
    pub chain_id: u64,
    /// Minimum gas price.
    pub min_gas_price: Amount,
    /// RPC limits.
    pub rpc: RpcConfig,
    /// Mempool bounds.
    pub mempool: MempoolConfig,
    /// Contracts deployed at start, before JSON-RPC serves (`--with-examples`).
    pub examples: Vec<crate::examples::Example>,
}

impl Default for DevConfig {
    fn default() -> Self {
        Self {
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 9944)),
            data_dir: None,
            block_time: None,
            chain_id: DEV_CHAIN_ID,
            min_gas_price: 1,
            rpc: RpcConfig::default(),
            mempool: MempoolConfig::default(),
            examples: Vec::new(),
        }
    }
}

/// A running dev chain: the producer thread and the JSON-RPC server.
pub struct DevNode {
    chain: Arc<Chain>,
    control: DevControl,
    producer: Option<thread::JoinHandle<()>>,
    rpc: RpcServer,
    data_dir: PathBuf,
    examples: Vec<(String, Address)>,
    _temp: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for DevNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevNode").field("rpc", &self.rpc_addr()).field("data_dir", &self.data_dir).finish()
    }
}

impl DevNode {
    /// Opens (or creates, with the dev accounts funded) the chain and starts producing blocks
    /// and serving JSON-RPC.
    pub async fn start(config: DevConfig) -> Result<DevNode, StartError> {
        let (temp, data_dir) = match &config.data_dir {
            Some(dir) => (None, dir.clone()),
            None => {
                let t =
                    tempfile::Builder::new().prefix("weft-dev-").tempdir().map_err(io(Path::new("/tmp")))?;
                let path = t.path().to_path_buf();
                (Some(t), path)
            }
        };
        fs::create_dir_all(data_dir.join("snapshots")).map_err(io(&data_dir))?;
        let artifacts = ArtifactDir::open(&data_dir.join("artifacts")).map_err(io(&data_dir))?;
        let runtime = Runtime::with_artifacts(config.chain_id, config.min_gas_price, Arc::new(artifacts))
            .map_err(|e| DevError::Runtime(e.to_string()))?;
        let store = open_current(&data_dir)?;
        if store.head().map_err(ChainError::from)?.is_none() {
            let genesis = Genesis {
                timestamp_ms: now_ms(),
                balances: DEV_ACCOUNTS.iter().map(|n| (dev_address(n), DEV_BALANCE)).collect(),
                validators: None,
            };
            let state = Arc::new(store.state().map_err(ChainError::from)?);
            let out = runtime.genesis(state, &genesis).map_err(|e| DevError::Runtime(e.to_string()))?;
            store.commit_block(&out.block, &out.receipts, &out.changes).map_err(ChainError::from)?;
        }
        let meta = NodeMeta { dev: true, validator: true, peer_id: None, alone: true };
        let chain = Arc::new(Chain::new(store, runtime, config.mempool, meta, None));
        let head = chain.ledger.head()?;
        if head.height > 0 {
            tracing::info!(height = head.height, "continuing the chain in {}", data_dir.display());
        }

        let (tx, rx) = mpsc::sync_channel(1024);
        let control = DevControl(tx);
        let snapshots = existing_snapshots(&data_dir)?;
        let producer = Producer {
            chain: chain.clone(),
            data_dir: data_dir.clone(),
            block_time: config.block_time,
            time_offset: 0,
            snapshots,
        };
        let handle = thread::Builder::new()
            .name("weft-producer".into())
            .spawn(move || producer.run(rx))
            .map_err(io(&data_dir))?;
        let started = async {
            let examples = crate::examples::deploy(&chain, &control, &config.examples).await?;
            let rpc =
                RpcServer::start(config.rpc_addr, &config.rpc, chain.clone(), Some(control.clone())).await?;
            Ok::<_, StartError>((examples, rpc))
        };
        let (examples, rpc) = match started.await {
            Ok(started) => started,
            Err(e) => {
                let _ = control.0.send(DevCommand::Shutdown);
                let _ = handle.join();
                return Err(e);
            }
        };
        Ok(DevNode { chain, control, producer: Some(handle), rpc, data_dir, examples, _temp: temp })
    }

    /// The contracts deployed at start (`DevConfig::examples`): name and address, in order.
    pub fn examples(&self) -> &[(String, Address)] {
        &self.examples
    }

    /// Where JSON-RPC listens.
    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc.local_addr()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The shared chain.
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// Commands for the producer.
    pub fn control(&self) -> &DevControl {
        &self.control
    }

    /// Stops the RPC server, then the producer (after the block it is building, if any, is
    /// committed). The data directory keeps the chain unless it was temporary.
    pub async fn shutdown(mut self) {
        self.rpc.stop().await;
        let _ = self.control.0.send(DevCommand::Shutdown);
        if let Some(handle) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || handle.join()).await;
        }
        // The stopped RPC server's connection tasks may hold the chain (and with it the open
        // database) a moment longer: wait for them (bounded), so that the data directory opens
        // again as soon as this returns.
        for _ in 0..500 {
            if Arc::strong_count(&self.chain) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Opens the live database of `data_dir`, creating the first one.
fn open_current(data_dir: &Path) -> Result<Store, DevError> {
    let pointer = data_dir.join("CURRENT");
    let name = match fs::read_to_string(&pointer) {
        Ok(name) => name.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_pointer(data_dir, "chain-0.redb")?;
            "chain-0.redb".to_owned()
        }
        Err(e) => return Err(DevError::Io { path: pointer, source: e }),
    };
    if name.contains('/') || name.contains('\\') || !name.ends_with(".redb") {
        return Err(DevError::DataDir {
            path: data_dir.to_path_buf(),
            reason: format!("CURRENT names {name:?}, not a database file of this directory"),
        });
    }
    Store::open(&data_dir.join(name)).map_err(|e| DevError::Chain(e.into()))
}

pub(super) fn write_pointer(data_dir: &Path, name: &str) -> Result<(), DevError> {
    let tmp = data_dir.join("CURRENT.tmp");
    fs::write(&tmp, name).map_err(io(&tmp))?;
    fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io(&tmp))?;
    let pointer = data_dir.join("CURRENT");
    fs::rename(&tmp, &pointer).map_err(io(&pointer))
}

fn existing_snapshots(data_dir: &Path) -> Result<BTreeMap<u64, PathBuf>, DevError> {
    let dir = data_dir.join("snapshots");
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(&dir).map_err(io(&dir))? {
        let path = entry.map_err(io(&dir))?.path();
        let id = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u64>().ok());
        if let (Some(id), Some("redb")) = (id, path.extension().and_then(|e| e.to_str())) {
            out.insert(id, path);
        }
    }
    Ok(out)
}

/// `chain-N.redb` → `chain-(N+1).redb`.
pub(super) fn next_db_name(current: &Path) -> String {
    let n = current
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("chain-"))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    format!("chain-{}.redb", n + 1)
}
