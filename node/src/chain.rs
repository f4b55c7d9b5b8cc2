//! The node's shared view of its chain, used by the RPC server and the block producer: the
//! store (swappable, for `dev_revert`), the runtime, the mempool with its admission checks, and
//! the broadcast of committed blocks and dropped transactions to subscribers.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, MutexGuard, RwLock},
};

use parity_scale_codec::Decode;
use tokio::sync::broadcast;
use weft_abi::Abi;
use weft_runtime::{Runtime, SharedBackend, StateBackend, StateError, TxError};
use weft_types::{
    Account, Address, Block, Hash, Header, Receipt, SignedTransaction,
    state::{account_key, code_key},
};

use crate::{
    mempool::{AddError, Mempool, MempoolConfig, PoolTx},
    store::{Store, StoreError},
};

/// A block as committed, with its receipts and transaction hashes.
#[derive(Debug)]
pub struct CommittedBlock {
    /// The block.
    pub block: Block,
    /// Its receipts.
    pub receipts: Vec<Receipt>,
    /// Its transactions' hashes.
    pub tx_hashes: Vec<Hash>,
}

/// What subscribers hear about.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// A block was committed (and, on a dev chain, finalized).
    Block(Arc<CommittedBlock>),
    /// A transaction left the mempool without being included.
    Dropped {
        /// The transaction.
        hash: Hash,
        /// Why.
        reason: String,
    },
    /// The chain was reset to an earlier block (`dev_revert`).
    Reset(Header),
}

/// Why a submitted transaction was refused: always the submitter's fault, except `Node`.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The bytes do not decode.
    #[error("transaction does not decode: {0}")]
    Decode(String),
    /// A stateless check failed.
    #[error(transparent)]
    Invalid(#[from] TxError),
    /// The mempool refused it.
    #[error(transparent)]
    Pool(#[from] AddError),
    /// The node failed.
    #[error("node error: {0}")]
    Node(String),
}

impl From<ChainError> for SubmitError {
    fn from(e: ChainError) -> Self {
        SubmitError::Node(e.to_string())
    }
}

/// A read of the chain failed: the node's own fault (its disk, its files).
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The state failed (or holds a value that does not decode).
    #[error("state: {0}")]
    State(#[from] StateError),
    /// The store holds no block.
    #[error("the store holds no genesis block")]
    NoGenesis,
}

/// Static facts about the node.
#[derive(Debug, Clone)]
pub struct NodeMeta {
    /// Whether `dev_*` methods are enabled.
    pub dev: bool,
    /// Whether this node votes.
    pub validator: bool,
    /// The libp2p peer id, when networked.
    pub peer_id: Option<String>,
}

/// Capacity of the event broadcast; a subscriber further behind than this is dropped.
pub const EVENT_CAPACITY: usize = 1024;

/// Most ABIs kept parsed.
const ABI_CACHE: usize = 256;

/// The shared chain.
pub struct Chain {
    store: RwLock<Arc<Store>>,
    runtime: Runtime,
    mempool: Mutex<Mempool>,
    events: broadcast::Sender<ChainEvent>,
    abis: Mutex<BTreeMap<Hash, Option<Arc<Abi>>>>,
    meta: NodeMeta,
    /// Where transactions admitted by [`Chain::submit`] are also sent (a validator gossips them).
    tx_hook: Mutex<Option<tokio::sync::mpsc::Sender<Vec<u8>>>>,
    /// Connected peers (id → address), as the network reports them.
    peers: Mutex<BTreeMap<String, String>>,
}

/// Most connected peers remembered for `node_peers`.
const MAX_PEERS: usize = 1024;

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("meta", &self.meta).finish_non_exhaustive()
    }
}

impl Chain {
    /// A chain over `store`, which must hold at least its genesis block.
    pub fn new(store: Store, runtime: Runtime, mempool: MempoolConfig, meta: NodeMeta) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Self {
            store: RwLock::new(Arc::new(store)),
            runtime,
            mempool: Mutex::new(Mempool::new(mempool)),
            events,
            abis: Mutex::new(BTreeMap::new()),
            meta,
            tx_hook: Mutex::new(None),
            peers: Mutex::new(BTreeMap::new()),
        }
    }

    /// The store (a cheap handle; after `dev_revert` a new one).
    pub fn store(&self) -> Arc<Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the store (`dev_revert`); returns the old one.
    pub fn replace_store(&self, store: Store) -> Arc<Store> {
        let mut guard = self.store.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, Arc::new(store))
    }

    /// The runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Static facts.
    pub fn meta(&self) -> &NodeMeta {
        &self.meta
    }

    /// The mempool, locked.
    pub fn mempool(&self) -> MutexGuard<'_, Mempool> {
        self.mempool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Listens to chain events.
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// Tells subscribers (nobody listening is fine).
    pub fn publish(&self, event: ChainEvent) {
        let _ = self.events.send(event);
    }

    /// The head header.
    pub fn head(&self) -> Result<Header, ChainError> {
        self.store().head()?.ok_or(ChainError::NoGenesis)
    }

    /// A snapshot of the head state, for the runtime.
    pub fn state(&self) -> Result<SharedBackend, ChainError> {
        Ok(Arc::new(self.store().state()?))
    }

    /// An account at the head.
    pub fn account(&self, address: &Address) -> Result<Account, ChainError> {
        Ok(account_in(&self.store().state()?, address)?)
    }

    /// Records a peer connecting (`Some(address)`) or disconnecting (`None`).
    pub fn set_peer(&self, peer: String, address: Option<String>) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        match address {
            Some(address) if peers.len() < MAX_PEERS || peers.contains_key(&peer) => {
                peers.insert(peer, address);
            }
            Some(_) => {}
            None => {
                peers.remove(&peer);
            }
        }
    }

    /// The connected peers (id, address).
    pub fn peers(&self) -> Vec<(String, String)> {
        let peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        peers.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    /// Sends the bytes of every transaction [`Chain::submit`] admits to `hook` as well (bounded:
    /// when it is full, the copy is dropped).
    pub fn set_tx_hook(&self, hook: tokio::sync::mpsc::Sender<Vec<u8>>) {
        *self.tx_hook.lock().unwrap_or_else(|p| p.into_inner()) = Some(hook);
    }

    /// Decodes, checks and admits transaction bytes; returns the hash. Admitted bytes also go
    /// to the hook ([`Chain::set_tx_hook`]).
    pub fn submit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let hash = self.admit(bytes)?;
        if let Some(hook) = &*self.tx_hook.lock().unwrap_or_else(|p| p.into_inner()) {
            let _ = hook.try_send(bytes.to_vec());
        }
        Ok(hash)
    }

    /// [`Chain::submit`] of many transactions, with the same answers in order, cheaper: the
    /// stateless checks (signatures) of a large batch run on every core, the accounts are read
    /// from one state snapshot, and the mempool is locked once.
    pub fn submit_many<B: AsRef<[u8]> + Sync>(&self, txs: &[B]) -> Vec<Result<Hash, SubmitError>> {
        let checked = parallel_map(txs, |bytes| self.check_bytes(bytes.as_ref()));
        let mut results = Vec::with_capacity(txs.len());
        let state = match self.store().state() {
            Ok(state) => state,
            Err(e) => {
                let e = ChainError::from(e).to_string();
                return txs.iter().map(|_| Err(SubmitError::Node(e.clone()))).collect();
            }
        };
        let mut accounts = Vec::with_capacity(txs.len());
        for c in &checked {
            accounts.push(match c {
                Ok(tx) => Some(account_in(&state, &tx.signed.tx.sender)),
                Err(_) => None,
            });
        }
        drop(state);
        let mut dropped = Vec::new();
        {
            let mut pool = self.mempool();
            for (c, account) in checked.into_iter().zip(accounts) {
                let result = c.and_then(|tx| {
                    let account = account
                        .unwrap_or_else(|| Ok(Account::default()))
                        .map_err(|e| SubmitError::Node(format!("state: {e}")))?;
                    let hash = tx.hash;
                    let added = pool.add(tx, &account)?;
                    dropped.extend(added.replaced.map(|h| (h, "replaced by a higher-priced transaction")));
                    dropped.extend(added.evicted.into_iter().map(|h| (h, "evicted: the mempool is full")));
                    Ok(hash)
                });
                results.push(result);
            }
        }
        for (hash, reason) in dropped {
            self.publish(ChainEvent::Dropped { hash, reason: reason.into() });
        }
        if let Some(hook) = &*self.tx_hook.lock().unwrap_or_else(|p| p.into_inner()) {
            for (bytes, r) in txs.iter().zip(&results) {
                if r.is_ok() {
                    let _ = hook.try_send(bytes.as_ref().to_vec());
                }
            }
        }
        results
    }

    /// The checks of admission that need no state: decoding and the stateless rules (the
    /// signature among them, remembered as verified when it passes).
    fn check_bytes(&self, bytes: &[u8]) -> Result<PoolTx, SubmitError> {
        let signed =
            SignedTransaction::decode_bounded(bytes).map_err(|e| SubmitError::Decode(e.to_string()))?;
        let hash = weft_types::sha3_256(bytes);
        self.runtime.check_admission(&signed, bytes.len(), &hash)?;
        Ok(PoolTx { signed: Arc::new(signed), hash, len: bytes.len() })
    }

    /// Decodes, checks and admits transaction bytes received from a peer (not sent to the hook).
    pub fn admit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        let tx = self.check_bytes(bytes)?;
        let account = self.account(&tx.signed.tx.sender)?;
        let hash = tx.hash;
        let added = self.mempool().add(tx, &account)?;
        for old in added.replaced.into_iter() {
            self.publish(ChainEvent::Dropped {
                hash: old,
                reason: "replaced by a higher-priced transaction".into(),
            });
        }
        for old in added.evicted {
            self.publish(ChainEvent::Dropped { hash: old, reason: "evicted: the mempool is full".into() });
        }
        Ok(hash)
    }

    /// The wasm code of `contract` at the head: `None` when it is not a contract.
    pub fn code(&self, contract: &Address) -> Result<Option<(Hash, Vec<u8>)>, ChainError> {
        let state = self.store().state()?;
        let Some(code_hash) = account_in(&state, contract)?.code_hash else { return Ok(None) };
        Ok(state.get(&code_key(&code_hash))?.map(|c| (code_hash, c)))
    }

    /// The ABI embedded in `contract`'s code (parsed once per code hash). `Ok(None)` when it is
    /// not a contract or carries no (valid) ABI.
    pub fn abi(&self, contract: &Address) -> Result<Option<Arc<Abi>>, ChainError> {
        let state = self.store().state()?;
        let Some(code_hash) = account_in(&state, contract)?.code_hash else { return Ok(None) };
        if let Some(abi) = self.abis.lock().unwrap_or_else(|p| p.into_inner()).get(&code_hash) {
            return Ok(abi.clone());
        }
        let code = state.get(&code_key(&code_hash))?;
        let abi = code.and_then(|c| Abi::from_wasm(&c).ok().flatten()).map(Arc::new);
        let mut cache = self.abis.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= ABI_CACHE {
            cache.pop_first();
        }
        cache.insert(code_hash, abi.clone());
        Ok(abi)
    }
}

/// Below this many items [`parallel_map`] stays on the calling thread.
const PARALLEL_MIN: usize = 64;

/// `f` over `items`, in order, on up to as many threads as there are cores.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get).min(8);
    if items.len() < PARALLEL_MIN || threads < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        // A panic in `f` is a bug; it is re-raised here as it would be on one thread.
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// The account at `address` in `state` (the empty account when absent).
pub fn account_in(state: &dyn StateBackend, address: &Address) -> Result<Account, StateError> {
    match state.get(&account_key(address))? {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(&mut &bytes[..])
            .map_err(|e| StateError::Corrupt(format!("account {address}: {e}"))),
    }
}
