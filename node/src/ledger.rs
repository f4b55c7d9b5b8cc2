//! The committed chain as everyone but its one writer sees it: the store (behind a swappable
//! handle, for `dev_revert`), the runtime that executes on it, and the contract ABIs parsed from
//! its code (cached by code hash). Read-only: blocks are written only by the dev producer or the
//! validator driver, through the store.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, RwLock},
};

use parity_scale_codec::Decode;
use weft_abi::Abi;
use weft_runtime::{Runtime, SharedBackend, StateBackend, StateError};
use weft_types::{
    Account, Address, Hash, Header,
    state::{account_key, code_key},
};

use crate::{
    status::NodeStatus,
    store::{Store, StoreError},
};

/// Most ABIs kept parsed.
const ABI_CACHE: usize = 256;

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

/// The committed chain, read-only.
pub struct Ledger {
    store: RwLock<Arc<Store>>,
    runtime: Runtime,
    abis: Mutex<BTreeMap<Hash, Option<Arc<Abi>>>>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("store", &self.store()).finish_non_exhaustive()
    }
}

impl Ledger {
    /// The ledger of `store`, which must hold at least its genesis block, executed by `runtime`.
    pub fn new(store: Store, runtime: Runtime) -> Self {
        Self { store: RwLock::new(Arc::new(store)), runtime, abis: Mutex::new(BTreeMap::new()) }
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

/// [`prepare_code`] as a node runs it at start: on the thread that will execute blocks, before
/// the first, while the network and JSON-RPC already serve (queries for code not compiled yet
/// answer busy), with the node reported as syncing until it is done. A failure only costs
/// speed (execution compiles what has no artifact, charged the same), so it is logged.
pub fn prepare_code_at_start(ledger: &Ledger, status: &NodeStatus) {
    status.set_syncing(true);
    if let Err(e) = prepare_code(&ledger.store(), ledger.runtime()) {
        tracing::error!("preparing stored contract code failed; calls will compile it: {e}");
    }
    status.set_syncing(false);
}

/// Makes sure every code in the committed state has its compiled form, compiling the ones that
/// lack it (deleted artifacts, or ones of another build), so that no block has to wait for a
/// compile. Run at start, before the node executes anything. Returns how many it compiled.
pub fn prepare_code(store: &Store, runtime: &Runtime) -> Result<usize, StoreError> {
    let mut compiled = 0;
    store.state()?.for_each_code(|code_hash, wasm| {
        match runtime.vm().prepare_stored(&code_hash, wasm) {
            Ok(true) => compiled += 1,
            Ok(false) => {}
            // Only a change of the deploy rules could do this; executing a call into it will
            // report the same as a node fault.
            Err(e) => tracing::error!(%code_hash, "stored code no longer compiles: {e}"),
        }
        Ok::<(), StoreError>(())
    })?;
    if compiled > 0 {
        tracing::info!(compiled, "compiled stored contract code that had no usable compiled form");
    }
    Ok(compiled)
}

/// The account at `address` in `state` (the empty account when absent).
pub fn account_in(state: &dyn StateBackend, address: &Address) -> Result<Account, StateError> {
    match state.get(&account_key(address))? {
        None => Ok(Account::default()),
        Some(bytes) => Account::decode(&mut &bytes[..])
            .map_err(|e| StateError::Corrupt(format!("account {address}: {e}"))),
    }
}
