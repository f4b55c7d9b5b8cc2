//! The node's shared view of its chain, used by the RPC server and the block producer: the
//! store (swappable, for `dev_revert`), the runtime, the mempool with its admission checks, the
//! bounded outbox of transactions admitted over RPC that a validator gossips, and the broadcast
//! of committed blocks and dropped transactions to subscribers.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use parity_scale_codec::Decode;
use tokio::sync::broadcast;
use weft_abi::Abi;
use weft_runtime::{Runtime, SharedBackend, StateBackend, StateError, TxError, sigs::parallel_map};
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
    /// Whether this node is the only validator (a dev chain, a one-validator network): it is
    /// healthy without peers.
    pub alone: bool,
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
    /// Transactions admitted by [`Chain::submit`] and [`Chain::submit_many`] waiting to be
    /// gossiped, when a validator service takes them ([`Chain::enable_outbox`]).
    outbox: Option<Outbox>,
    /// Connected peers (id → address), as the network reports them.
    peers: Mutex<BTreeMap<String, String>>,
    gossip_drops: Arc<GossipDrops>,
    /// Whether the node is fetching blocks it missed (set by the validator service).
    syncing: AtomicBool,
}

/// Transactions received by gossip and dropped before admission, by reason, since the node
/// started (`node_metrics`). Dropped ones are neither blamed on the peer nor forwarded.
#[derive(Debug, Default)]
pub struct GossipDrops {
    /// Over the sending peer's budget (`p2p.gossip_tx_rate`, `p2p.gossip_tx_burst`).
    pub over_peer_limit: AtomicU64,
    /// The admission queue was full: this node was not keeping up.
    pub queue_full: AtomicU64,
}

impl GossipDrops {
    /// Counts one more in `counter`; returns the new count.
    pub fn count(counter: &AtomicU64) -> u64 {
        counter.fetch_add(1, Ordering::Relaxed).saturating_add(1)
    }
}

/// Most connected peers remembered for `node_peers`.
const MAX_PEERS: usize = 1024;

/// Most transactions waiting in the outbox (a few seconds of load at the rates measured).
pub const OUTBOX_MAX_TXS: usize = 65_536;
/// Most bytes of transactions waiting in the outbox.
pub const OUTBOX_MAX_BYTES: usize = 64 << 20;
/// Least time between two warnings about transactions the full outbox refused.
const OUTBOX_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// Admitted transactions waiting to be gossiped: bounded by `max_txs` and `max_bytes`
/// ([`OUTBOX_MAX_TXS`], [`OUTBOX_MAX_BYTES`]); what does not fit is not gossiped (it stays in
/// the mempool, and is included when this node leads) and is counted in a warning.
struct Outbox {
    queue: Mutex<OutboxQueue>,
    /// Woken when transactions are added (a permit is kept when nobody waits).
    ready: tokio::sync::Notify,
    max_txs: usize,
    max_bytes: usize,
}

#[derive(Default)]
struct OutboxQueue {
    txs: VecDeque<Vec<u8>>,
    /// Sum of the lengths in `txs`.
    bytes: usize,
    /// Refused since the last warning.
    dropped: u64,
    logged: Option<Instant>,
}

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
            outbox: None,
            peers: Mutex::new(BTreeMap::new()),
            gossip_drops: Arc::default(),
            syncing: AtomicBool::new(false),
        }
    }

    /// Whether the node is fetching blocks it missed.
    pub fn syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }

    /// Marks the node as fetching blocks it missed, or done.
    pub fn set_syncing(&self, syncing: bool) {
        self.syncing.store(syncing, Ordering::Relaxed);
    }

    /// The counts of gossiped transactions dropped before admission.
    pub fn gossip_drops(&self) -> &Arc<GossipDrops> {
        &self.gossip_drops
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

    /// From now on, keeps the bytes of every transaction admitted over RPC ([`Chain::submit`],
    /// [`Chain::submit_many`]) in a bounded outbox for the caller to gossip: take them with
    /// [`Chain::take_outbox`] when [`Chain::outbox_ready`] wakes. Call before sharing the chain.
    pub fn enable_outbox(&mut self) {
        self.enable_outbox_within(OUTBOX_MAX_TXS, OUTBOX_MAX_BYTES);
    }

    fn enable_outbox_within(&mut self, max_txs: usize, max_bytes: usize) {
        self.outbox.get_or_insert_with(|| Outbox {
            queue: Mutex::default(),
            ready: tokio::sync::Notify::new(),
            max_txs,
            max_bytes,
        });
    }

    /// Waits until the outbox holds transactions (returns at once if it did since the last
    /// wait); never returns when the outbox is not enabled.
    pub async fn outbox_ready(&self) {
        match &self.outbox {
            Some(outbox) => outbox.ready.notified().await,
            None => std::future::pending().await,
        }
    }

    /// Takes up to `max` of the oldest transactions waiting in the outbox, in the order they
    /// were admitted. When more remain, the next [`Chain::outbox_ready`] returns at once.
    pub fn take_outbox(&self, max: usize) -> Vec<Vec<u8>> {
        let Some(outbox) = &self.outbox else { return Vec::new() };
        let mut queue = outbox.queue.lock().unwrap_or_else(|p| p.into_inner());
        let n = queue.txs.len().min(max);
        let taken: Vec<Vec<u8>> = queue.txs.drain(..n).collect();
        queue.bytes -= taken.iter().map(Vec::len).sum::<usize>();
        if !queue.txs.is_empty() {
            outbox.ready.notify_one();
        }
        taken
    }

    /// Puts admitted transactions in the outbox (if enabled), in order.
    fn to_outbox<'a>(&self, txs: impl IntoIterator<Item = &'a [u8]>) {
        let Some(outbox) = &self.outbox else { return };
        let mut added = false;
        let mut dropped = 0u64;
        {
            let mut queue = outbox.queue.lock().unwrap_or_else(|p| p.into_inner());
            for bytes in txs {
                if queue.txs.len() >= outbox.max_txs || queue.bytes + bytes.len() > outbox.max_bytes {
                    dropped += 1;
                    continue;
                }
                queue.bytes += bytes.len();
                queue.txs.push_back(bytes.to_vec());
                added = true;
            }
            if dropped > 0 {
                queue.dropped = queue.dropped.saturating_add(dropped);
                let now = Instant::now();
                if queue.logged.is_none_or(|t| now.saturating_duration_since(t) >= OUTBOX_LOG_INTERVAL) {
                    tracing::warn!(
                        dropped = queue.dropped,
                        waiting = queue.txs.len(),
                        max_txs = outbox.max_txs,
                        max_bytes = outbox.max_bytes,
                        "gossip outbox full: admitted transactions not gossiped (they stay in this \
                         node's mempool)"
                    );
                    queue.logged = Some(now);
                    queue.dropped = 0;
                }
            }
        }
        if added {
            outbox.ready.notify_one();
        }
    }

    /// Decodes, checks and admits transaction bytes; returns the hash. Admitted bytes also go
    /// to the outbox ([`Chain::enable_outbox`]).
    pub fn submit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        one(self.submit_many(&[bytes]))
    }

    /// [`Chain::submit`] of many transactions, with the same answers in order, cheaper: the
    /// stateless checks (signatures) of a large batch run on every core, the accounts are read
    /// from one state snapshot, and the mempool is locked once.
    pub fn submit_many<B: AsRef<[u8]> + Sync>(&self, txs: &[B]) -> Vec<Result<Hash, SubmitError>> {
        let results = self.admit_many(txs);
        self.to_outbox(txs.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(b, _)| b.as_ref()));
        results
    }

    /// [`Chain::admit`] of many transactions (received from peers: not put in the outbox), with
    /// the same answers in order, as cheap as [`Chain::submit_many`].
    pub fn admit_many<B: AsRef<[u8]> + Sync>(&self, txs: &[B]) -> Vec<Result<Hash, SubmitError>> {
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

    /// Decodes, checks and admits transaction bytes received from a peer (not put in the outbox).
    pub fn admit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        one(self.admit_many(&[bytes]))
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

/// The only answer of a batch of one.
fn one(results: Vec<Result<Hash, SubmitError>>) -> Result<Hash, SubmitError> {
    results.into_iter().next().unwrap_or_else(|| Err(SubmitError::Node("no answer for a transaction".into())))
}

/// The account at `address` in `state` (the empty account when absent).
pub fn account_in(state: &dyn StateBackend, address: &Address) -> Result<Account, StateError> {
    match state.get(&account_key(address))? {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(&mut &bytes[..])
            .map_err(|e| StateError::Corrupt(format!("account {address}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use parity_scale_codec::Encode;
    use weft_runtime::Genesis;
    use weft_types::{
        Transaction,
        dev::{dev_address, dev_key},
        tx::{Action, address_of},
    };

    use super::*;

    const CHAIN_ID: u64 = 5;

    fn chain(dir: &std::path::Path) -> Chain {
        let store = Store::open(&dir.join("chain.redb")).unwrap();
        let runtime = Runtime::new(CHAIN_ID, 1).unwrap();
        let genesis = Genesis { timestamp_ms: 1, balances: vec![(dev_address("alice"), 1 << 40)] };
        let out = runtime.genesis(Arc::new(store.state().unwrap()), &genesis).unwrap();
        store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
        let meta = NodeMeta { dev: false, validator: true, peer_id: None, alone: true };
        Chain::new(store, runtime, MempoolConfig::default(), meta)
    }

    fn transfer(nonce: u64) -> Vec<u8> {
        let key = dev_key("alice");
        let action = Action::Transfer { to: dev_address("bob"), amount: 1 };
        Transaction {
            chain_id: CHAIN_ID,
            sender: address_of(&key),
            nonce,
            gas_limit: 1_000_000,
            gas_price: 1,
            action,
        }
        .sign(&key)
        .encode()
    }

    #[test]
    fn the_outbox_keeps_what_rpc_admitted_in_order_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = chain(dir.path());
        let txs: Vec<Vec<u8>> = (0..6).map(transfer).collect();
        // Without an outbox nothing is kept.
        assert!(chain.submit(&txs[0]).is_ok());
        assert!(chain.take_outbox(10).is_empty());
        chain.enable_outbox_within(3, 1 << 20);

        // Only admitted transactions, in order; a refused one (garbage) is not kept.
        let batch = [txs[1].clone(), vec![1, 2, 3], txs[2].clone()];
        let results = chain.submit_many(&batch);
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
        // What peers sent is not gossiped back.
        assert!(chain.admit_many(&[&txs[3]])[0].is_ok());
        assert_eq!(chain.take_outbox(1), vec![txs[1].clone()]);
        assert_eq!(chain.take_outbox(10), vec![txs[2].clone()]);
        assert!(chain.take_outbox(10).is_empty());

        // Beyond `max_txs` the newest are refused (still admitted to the mempool).
        assert!(chain.submit(&txs[4]).is_ok());
        let results = chain.submit_many(&[&txs[5], &transfer(6), &transfer(7)]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(chain.take_outbox(10), vec![txs[4].clone(), txs[5].clone(), transfer(6)]);
        assert!(chain.mempool().get(&weft_types::sha3_256(&transfer(7))).is_some());

        // The byte bound too.
        chain.outbox = None;
        chain.enable_outbox_within(100, txs[0].len() * 2);
        let results = chain.submit_many(&[&transfer(8), &transfer(9), &transfer(10)]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(chain.take_outbox(10).len(), 2);
    }

    #[tokio::test]
    async fn the_outbox_wakes_its_reader_while_transactions_remain() {
        let dir = tempfile::tempdir().unwrap();
        let mut chain = chain(dir.path());
        chain.enable_outbox();
        let chain = Arc::new(chain);
        let reader = {
            let chain = chain.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while got.len() < 4 {
                    chain.outbox_ready().await;
                    got.extend(chain.take_outbox(1));
                }
                got
            })
        };
        let txs: Vec<Vec<u8>> = (0..4).map(transfer).collect();
        assert!(chain.submit_many(&txs).iter().all(Result::is_ok));
        assert_eq!(reader.await.unwrap(), txs);
    }
}
