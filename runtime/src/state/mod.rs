//! State access for execution: the backend trait that committed state implements (in memory
//! here, on redb in `weft-node`), the journaled overlay execution writes into, and the Merkle
//! tree that authenticates the state.

pub mod memory;
pub mod overlay;
pub mod tree;

use std::collections::BTreeMap;

use weft_types::Hash;

/// A fault of the state backend: I/O or corruption. Always the node's own fault, never the
/// transaction's, so it aborts block execution.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The backend could not be read.
    #[error("state backend read failed: {0}")]
    Backend(String),
    /// A stored value does not decode: the database is corrupt.
    #[error("state is corrupt: {0}")]
    Corrupt(String),
    /// The Merkle tree refused an update or lookup.
    #[error("state tree error: {0}")]
    Tree(String),
}

/// Committed state as execution reads it: the flat key-value map and the Merkle tree's nodes,
/// both as opaque bytes, so backends know nothing of the tree's encoding.
pub trait StateBackend {
    /// The value at `key` in the flat state.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// A node of the Merkle tree, by its encoded node key.
    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

impl<B: StateBackend + ?Sized> StateBackend for &B {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key)
    }
    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get_tree_node(key)
    }
}

impl<B: StateBackend + ?Sized> StateBackend for std::sync::Arc<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key)
    }
    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get_tree_node(key)
    }
}

/// Everything one block changes in the state, ready to be written atomically with the block:
/// the flat entries (`None` deletes) and the tree nodes (`None` deletes a stale node).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// The tree version these changes produce (the block height).
    pub version: u64,
    /// The state root after the changes.
    pub root: Hash,
    /// Flat key-value writes.
    pub kv: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Tree node writes.
    pub nodes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}
