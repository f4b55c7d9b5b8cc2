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

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, mpsc},
    thread,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::oneshot;
use weft_runtime::{BlockOutput, Genesis, Runtime};
use weft_types::{
    Address, Amount, Hash, Header,
    dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address},
};

use crate::{
    chain::{Chain, ChainError, ChainEvent, CommittedBlock, NodeMeta},
    mempool::MempoolConfig,
    producer::{BlockProducer, Produced, on_committed},
    rpc::{RpcConfig, RpcServer},
    store::{Layered, Store},
};

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
        }
    }
}

/// The chain id of dev chains.
pub const DEV_CHAIN_ID: u64 = 1337;

/// The proposer of dev blocks, which receives the fees: an account of its own, so that the
/// dev accounts' balances change exactly by what their transactions cost.
pub fn dev_proposer() -> Address {
    dev_address("dev-validator")
}

/// Why the dev chain failed to start or a dev command failed.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The chain could not be read or written.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// A file of the data directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The runtime failed.
    #[error("runtime: {0}")]
    Runtime(String),
    /// The data directory is not usable.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `dev_revert` to an id that does not exist.
    #[error("no snapshot {0} (snapshots are forgotten once the chain is reverted past them)")]
    UnknownSnapshot(u64),
    /// The JSON-RPC server failed to start.
    #[error(transparent)]
    Rpc(#[from] crate::rpc::RpcError),
    /// The producer has stopped.
    #[error("the block producer has stopped")]
    Stopped,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DevError + '_ {
    move |source| DevError::Io { path: path.to_path_buf(), source }
}

/// A command for the producer.
pub enum DevCommand {
    /// Transactions arrived.
    Wake,
    /// Produce `count` blocks now; answers the new head.
    Mine(u32, oneshot::Sender<Result<Header, DevError>>),
    /// Set a balance in a new block.
    SetBalance(Address, Amount, oneshot::Sender<Result<Header, DevError>>),
    /// Move the clock of the next blocks forward; answers the total offset.
    IncreaseTime(u64, oneshot::Sender<u64>),
    /// Copy the chain; answers the snapshot id.
    Snapshot(oneshot::Sender<Result<u64, DevError>>),
    /// Return to a snapshot; answers the head.
    Revert(u64, oneshot::Sender<Result<Header, DevError>>),
    /// Stop.
    Shutdown,
}

/// A handle that sends commands to the producer.
#[derive(Clone, Debug)]
pub struct DevControl(mpsc::SyncSender<DevCommand>);

impl DevControl {
    /// Wakes the producer (transactions arrived); never blocks.
    pub fn wake(&self) {
        let _ = self.0.try_send(DevCommand::Wake);
    }

    /// Sends a command and awaits its answer.
    pub async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> DevCommand) -> Result<T, DevError> {
        let (tx, rx) = oneshot::channel();
        self.0.send(make(tx)).map_err(|_| DevError::Stopped)?;
        rx.await.map_err(|_| DevError::Stopped)
    }
}

/// A running dev chain: the producer thread and the JSON-RPC server.
pub struct DevNode {
    chain: Arc<Chain>,
    control: DevControl,
    producer: Option<thread::JoinHandle<()>>,
    rpc: RpcServer,
    data_dir: PathBuf,
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
    pub async fn start(config: DevConfig) -> Result<DevNode, DevError> {
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
        let runtime = Runtime::new(config.chain_id, config.min_gas_price)
            .map_err(|e| DevError::Runtime(e.to_string()))?;
        let store = open_current(&data_dir)?;
        if store.head().map_err(ChainError::from)?.is_none() {
            let genesis = Genesis {
                timestamp_ms: now_ms(),
                balances: DEV_ACCOUNTS.iter().map(|n| (dev_address(n), DEV_BALANCE)).collect(),
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
        let rpc = match RpcServer::start(config.rpc_addr, &config.rpc, chain.clone(), Some(control.clone()))
            .await
        {
            Ok(rpc) => rpc,
            Err(e) => {
                let _ = control.0.send(DevCommand::Shutdown);
                let _ = handle.join();
                return Err(e.into());
            }
        };
        Ok(DevNode { chain, control, producer: Some(handle), rpc, data_dir, _temp: temp })
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

fn write_pointer(data_dir: &Path, name: &str) -> Result<(), DevError> {
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

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The block producer: the only writer of the store.
struct Producer {
    chain: Arc<Chain>,
    data_dir: PathBuf,
    block_time: Option<Duration>,
    time_offset: u64,
    snapshots: BTreeMap<u64, PathBuf>,
}

impl Producer {
    fn run(mut self, rx: mpsc::Receiver<DevCommand>) {
        // A command read while coalescing wake-ups, to handle next.
        let mut next: Option<DevCommand> = None;
        loop {
            let command = if let Some(command) = next.take() {
                Some(command)
            } else {
                match self.block_time {
                    None => rx.recv().ok(),
                    Some(every) => match rx.recv_timeout(every) {
                        Ok(c) => Some(c),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            self.log(self.produce(None));
                            continue;
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => None,
                    },
                }
            };
            let Some(command) = command else { return };
            match command {
                DevCommand::Wake => {
                    // Coalesce a burst of wake-ups into one pass; without a block time, a block
                    // as soon as transactions wait, repeated while they keep coming.
                    loop {
                        match rx.try_recv() {
                            Ok(DevCommand::Wake) => {}
                            Ok(other) => {
                                next = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    if self.block_time.is_none() {
                        self.produce_burst();
                    }
                }
                DevCommand::Mine(count, reply) => {
                    let mut result = self.chain.ledger.head().map_err(DevError::from);
                    for _ in 0..count.max(1) {
                        result = self.produce(None).map(|b| b.block.header.clone());
                        if result.is_err() {
                            break;
                        }
                    }
                    let _ = reply.send(result);
                }
                DevCommand::SetBalance(address, balance, reply) => {
                    let _ =
                        reply.send(self.produce(Some((address, balance))).map(|b| b.block.header.clone()));
                }
                DevCommand::IncreaseTime(ms, reply) => {
                    self.time_offset = self.time_offset.saturating_add(ms);
                    let _ = reply.send(self.time_offset);
                }
                DevCommand::Snapshot(reply) => {
                    let _ = reply.send(self.snapshot());
                }
                DevCommand::Revert(id, reply) => {
                    let _ = reply.send(self.revert(id));
                }
                DevCommand::Shutdown => return,
            }
        }
    }

    fn log(&self, result: Result<Arc<CommittedBlock>, DevError>) {
        if let Err(e) = result {
            tracing::error!("block production failed: {e}");
        }
    }

    /// Builds, commits and announces the next block from the mempool (and, for
    /// `dev_setBalance`, a balance change).
    fn produce(&self, set_balance: Option<(Address, Amount)>) -> Result<Arc<CommittedBlock>, DevError> {
        let built = self.build(None, set_balance)?;
        commit(&self.chain, built)
    }

    /// Blocks while transactions wait, each block's durable commit running on a second thread
    /// while the next block executes on the state it leaves (the committed state with its
    /// changes on top). Blocks are announced, and their transactions leave the mempool, only
    /// once committed, as with [`Self::produce`]. Ends with every block committed.
    fn produce_burst(&self) {
        thread::scope(|scope| {
            // One committer thread for the whole burst, one block at a time. A panic there ends
            // its loop, the `recv` below fails, and the scope re-raises the panic here.
            let (blocks, to_commit) = mpsc::sync_channel::<Built>(1);
            let (done, committed) = mpsc::channel();
            let chain = &self.chain;
            scope.spawn(move || {
                for built in to_commit {
                    if done.send(commit(chain, built).map(|_| ())).is_err() {
                        return;
                    }
                }
            });
            let wait = || {
                committed
                    .recv()
                    .unwrap_or_else(|_| Err(DevError::Runtime("the block committer stopped".into())))
            };
            // The block being committed, to build the next one on.
            let mut in_flight: Option<Pending> = None;
            while !self.chain.admission.is_empty() {
                let on_pending = in_flight.is_some();
                let built = self.build(in_flight.take(), None);
                let done = if on_pending { wait() } else { Ok(()) };
                let built = match (built, done) {
                    (Ok(built), Ok(())) if !built.out.block.txs.is_empty() => built,
                    // Nothing includable after the block in flight: decide again on the
                    // committed state, where its transactions have left the mempool.
                    (Ok(_), Ok(())) if on_pending => continue,
                    // Transactions wait but none is includable: one empty block, as `produce`.
                    (Ok(built), Ok(())) => {
                        self.log(commit(&self.chain, built));
                        return;
                    }
                    (Err(e), _) | (_, Err(e)) => {
                        tracing::error!("block production failed: {e}");
                        return;
                    }
                };
                in_flight = Some(Pending {
                    out: built.out.clone(),
                    refused: built.dropped.iter().map(|(hash, _)| *hash).collect(),
                });
                if blocks.send(built).is_err() {
                    break;
                }
            }
            if in_flight.is_some()
                && let Err(e) = wait()
            {
                tracing::error!("block production failed: {e}");
            }
        });
    }

    /// Executes the next block from the mempool (and a balance change), on the committed state
    /// or on `pending`, a built block not committed yet whose changes are laid over it (the
    /// transactions it refused, still in the mempool until it commits, are not tried again).
    fn build(
        &self,
        pending: Option<Pending>,
        set_balance: Option<(Address, Amount)>,
    ) -> Result<Built, DevError> {
        let chain = &self.chain;
        let base = chain.ledger.store().state().map_err(ChainError::from)?;
        let (parent, refused, layers) = match pending {
            Some(p) => (p.out.block.header.clone(), p.refused, vec![p.out]),
            None => (chain.ledger.head()?, BTreeSet::new(), Vec::new()),
        };
        let state = Arc::new(Layered { base, layers });
        // dev_increaseTime can move the clock to u64::MAX ms: then no later block exists.
        let Some(after_parent) = parent.timestamp_ms.checked_add(1) else {
            return Err(DevError::Runtime(format!(
                "no block can follow one timestamped u64::MAX ms ({}); dev_increaseTime moved time too far \
                 (dev_revert to an earlier snapshot)",
                parent.timestamp_ms
            )));
        };
        let timestamp = now_ms().saturating_add(self.time_offset).max(after_parent);
        let mut producer =
            BlockProducer::new(&chain.ledger, &chain.admission, state, &parent, timestamp, dev_proposer());
        if let Some((address, balance)) = set_balance {
            producer.set_balance(&address, balance).map_err(|e| DevError::Runtime(e.to_string()))?;
        }
        // The nonces are those after `pending`, so its transactions are not selected again.
        let Produced { out, refused } =
            producer.fill_and_finish(&refused).map_err(|e| DevError::Runtime(e.to_string()))?;
        Ok(Built { out: Arc::new(out), dropped: refused })
    }

    fn snapshot(&mut self) -> Result<u64, DevError> {
        let id = self.snapshots.keys().next_back().map_or(1, |last| last + 1);
        let target = self.data_dir.join("snapshots").join(format!("{id}.redb"));
        let store = self.chain.ledger.store();
        // The producer is the only writer and is here, so no write transaction is open and
        // the file holds exactly the last committed block.
        fs::copy(store.path(), &target).map_err(io(&target))?;
        self.snapshots.insert(id, target);
        Ok(id)
    }

    fn revert(&mut self, id: u64) -> Result<Header, DevError> {
        let source = self.snapshots.get(&id).cloned().ok_or(DevError::UnknownSnapshot(id))?;
        let old = self.chain.ledger.store();
        let next = next_db_name(old.path());
        let target = self.data_dir.join(&next);
        fs::copy(&source, &target).map_err(io(&target))?;
        let store = Store::open(&target).map_err(|e| DevError::Chain(e.into()))?;
        write_pointer(&self.data_dir, &next)?;
        let old_path = old.path().to_path_buf();
        drop(old);
        let old = self.chain.ledger.replace_store(store);
        drop(old);
        // Readers may still hold the old file open; unlinking it is safe on Unix and the space
        // is freed when they finish.
        let _ = fs::remove_file(&old_path);
        for later in self.snapshots.split_off(&(id + 1)).into_values() {
            let _ = fs::remove_file(later);
        }
        let head = self.chain.ledger.head()?;
        for hash in self.chain.admission.clear() {
            self.chain.events.publish(ChainEvent::Dropped { hash, reason: "the chain was reverted".into() });
        }
        self.chain.events.publish(ChainEvent::Reset(head.clone()));
        Ok(head)
    }
}

/// A block being committed in [`Producer::produce_burst`], and the transactions it refused.
struct Pending {
    out: Arc<BlockOutput>,
    refused: BTreeSet<Hash>,
}

/// A block executed and not committed yet, with the transactions it refused.
struct Built {
    out: Arc<BlockOutput>,
    dropped: Vec<(Hash, String)>,
}

/// Commits `built` durably, then takes it through the one commit path (mempool pruning, the
/// announcement).
fn commit(chain: &Chain, built: Built) -> Result<Arc<CommittedBlock>, DevError> {
    let Built { out, dropped } = built;
    chain.ledger.store().commit_block(&out.block, &out.receipts, &out.changes).map_err(ChainError::from)?;
    let header = &out.block.header;
    tracing::info!(
        height = header.height,
        txs = out.receipts.len(),
        gas = header.gas_used,
        "block {}",
        header.hash()
    );
    Ok(on_committed(&chain.ledger, &chain.admission, &chain.events, out, dropped))
}

/// `chain-N.redb` → `chain-(N+1).redb`.
fn next_db_name(current: &Path) -> String {
    let n = current
        .file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.strip_prefix("chain-"))
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    format!("chain-{}.redb", n + 1)
}
