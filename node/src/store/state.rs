//! A read snapshot of the committed state, as the runtime reads it: a redb read transaction
//! behind [`StateBackend`]; and that snapshot with uncommitted blocks' changes on top.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::Arc,
};

use redb::{Database, ReadOnlyTable, ReadableDatabase};
use weft_runtime::{
    BlockOutput,
    state::{StateBackend, StateError, tree},
};
use weft_types::{Hash, Header, state::CODE_PREFIX};

use super::{At, HEAD_KEY, META, STATE, StoreError, TREE_NODES, db_error, decode_header};

/// The committed state at one head, frozen: a redb read transaction, so commits made after it
/// was taken do not show through it. Cheap to hold; holding it keeps the pages it reads from
/// being reused, so long-lived snapshots make the file grow.
pub struct StoreState {
    path: PathBuf,
    head: Option<Header>,
    kv: ReadOnlyTable<&'static [u8], &'static [u8]>,
    nodes: ReadOnlyTable<&'static [u8], &'static [u8]>,
}

impl fmt::Debug for StoreState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreState")
            .field("path", &self.path)
            .field("version", &self.version())
            .field("root", &self.root())
            .finish_non_exhaustive()
    }
}

impl StoreState {
    pub(super) fn new(db: &Database, path: &Path) -> Result<Self, StoreError> {
        let txn = db.begin_read().at(path)?;
        let head = {
            let meta = txn.open_table(META).at(path)?;
            let head = meta.get(HEAD_KEY).at(path)?;
            head.map(|bytes| decode_header(path, bytes.value())).transpose()?
        };
        // The tables keep the read transaction's snapshot alive.
        Ok(Self {
            path: path.to_path_buf(),
            head,
            kv: txn.open_table(STATE).at(path)?,
            nodes: txn.open_table(TREE_NODES).at(path)?,
        })
    }

    /// The header of the block this state is after; `None` on an empty store.
    pub fn head(&self) -> Option<&Header> {
        self.head.as_ref()
    }

    /// The tree version of this state (the head's height); `None` on an empty store.
    pub fn version(&self) -> Option<u64> {
        self.head.as_ref().map(|head| head.height)
    }

    /// The state root (the head's); the empty root on an empty store.
    pub fn root(&self) -> Hash {
        self.head.as_ref().map_or_else(tree::empty_root, |head| head.state_root)
    }

    /// The version the next block's state changes must have: 0 on an empty store, else the
    /// head's height plus one.
    pub fn next_version(&self) -> u64 {
        self.version().map_or(0, |version| version + 1)
    }

    /// Calls `f` with every contract code in this state and its hash, in hash order (what a
    /// node compiles at start when it lacks the compiled form). Stops at `f`'s first error.
    pub fn for_each_code<E: From<StoreError>>(
        &self,
        mut f: impl FnMut(Hash, &[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let (from, to) = ([CODE_PREFIX], [CODE_PREFIX + 1]);
        for entry in self.kv.range(&from[..]..&to[..]).at(&self.path)? {
            let (key, code) = entry.at(&self.path)?;
            let hash = key.value().get(1..).and_then(|h| <[u8; 32]>::try_from(h).ok()).ok_or_else(|| {
                StoreError::Corrupt { path: self.path.clone(), reason: "a code key is not 33 bytes".into() }
            })?;
            f(Hash(hash), code.value())?;
        }
        Ok(())
    }

    fn read(
        &self,
        table: &ReadOnlyTable<&'static [u8], &'static [u8]>,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        match table.get(key) {
            Ok(value) => Ok(value.map(|v| v.value().to_vec())),
            Err(e) => Err(match db_error(&self.path, e) {
                corrupt @ StoreError::Corrupt { .. } => StateError::Corrupt(corrupt.to_string()),
                other => StateError::Backend(other.to_string()),
            }),
        }
    }
}

impl StateBackend for StoreState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.read(&self.kv, key)
    }

    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.read(&self.nodes, key)
    }
}

/// The committed state with the changes of uncommitted blocks on top (newest first): the state
/// after the newest of them, for building or validating the next block before they commit.
pub struct Layered {
    /// The committed state.
    pub base: StoreState,
    /// Uncommitted blocks, each extending the next one (the last extends `base`'s head).
    pub layers: Vec<Arc<BlockOutput>>,
}

impl StateBackend for Layered {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        for layer in &self.layers {
            if let Some(v) = layer.changes.kv.get(key) {
                return Ok(v.clone());
            }
        }
        self.base.get(key)
    }

    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        for layer in &self.layers {
            if let Some(v) = layer.changes.nodes.get(key) {
                return Ok(v.clone());
            }
        }
        self.base.get_tree_node(key)
    }
}
