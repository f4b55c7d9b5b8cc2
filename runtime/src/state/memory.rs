//! An in-memory state backend: the flat state and the tree's nodes in ordered maps, for
//! tests, tools and building genesis.

use std::collections::BTreeMap;

use weft_types::Hash;

use super::{StateBackend, StateChanges, StateError, tree};

/// Committed state held in memory. Applying the [`StateChanges`] of successive versions keeps
/// it exactly where a persistent backend applying the same changes would be.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryState {
    /// The flat state.
    pub kv: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The tree's nodes, by encoded node key.
    pub nodes: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Version and root of the last applied changes.
    last: Option<(u64, Hash)>,
}

impl MemoryState {
    /// An empty state, with no version applied.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies `changes`: writes and deletes their flat entries and tree nodes, and takes their
    /// version and root. It does not check that the version follows the last one; that is the
    /// caller's (and [`tree::commit`]'s) business.
    pub fn apply(&mut self, changes: &StateChanges) {
        write_all(&mut self.kv, &changes.kv);
        write_all(&mut self.nodes, &changes.nodes);
        self.last = Some((changes.version, changes.root));
    }

    /// The version of the last applied changes, `None` before any.
    pub fn version(&self) -> Option<u64> {
        self.last.map(|(version, _)| version)
    }

    /// The state root of the last applied changes; [`tree::empty_root`] before any.
    pub fn root(&self) -> Hash {
        self.last.map_or_else(tree::empty_root, |(_, root)| root)
    }

    /// The version the next changes must have: 0 before any, else the last one plus 1.
    pub fn next_version(&self) -> u64 {
        self.version().map_or(0, |version| version + 1)
    }

    /// Commits `kv` as the next version ([`tree::commit`]), applies the changes and returns them.
    pub fn commit(&mut self, kv: BTreeMap<Vec<u8>, Option<Vec<u8>>>) -> Result<StateChanges, StateError> {
        let changes = tree::commit(self, self.next_version(), kv)?;
        self.apply(&changes);
        Ok(changes)
    }
}

fn write_all(map: &mut BTreeMap<Vec<u8>, Vec<u8>>, writes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>) {
    for (key, value) in writes {
        match value {
            Some(value) => map.insert(key.clone(), value.clone()),
            None => map.remove(key),
        };
    }
}

impl StateBackend for MemoryState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.kv.get(key).cloned())
    }

    fn get_tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.nodes.get(key).cloned())
    }
}
