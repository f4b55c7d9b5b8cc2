//! The journaled write overlay execution works in: reads fall through to the committed backend,
//! writes stay here, and checkpoints let a failed call frame or transaction undo exactly its own
//! writes.

use std::{collections::BTreeMap, sync::Arc};

use parity_scale_codec::{Decode, Encode};
use weft_types::{
    Account, Address,
    state::{account_key, code_key},
};

use super::{StateBackend, StateError};

/// A shared handle to committed state.
pub type SharedBackend = Arc<dyn StateBackend + Send + Sync>;

/// A written key and what the overlay held for it before (`None`: no entry).
type JournalEntry = (Vec<u8>, Option<Option<Vec<u8>>>);

/// A position in the journal to revert to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint(usize);

/// Uncommitted writes over a backend.
pub struct Overlay {
    backend: SharedBackend,
    changes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// For each write, the key and what `changes` held for it before (`None`: nothing).
    journal: Vec<JournalEntry>,
}

impl Overlay {
    /// An empty overlay over `backend`.
    pub fn new(backend: SharedBackend) -> Self {
        Self { backend, changes: BTreeMap::new(), journal: Vec::new() }
    }

    /// The committed state below the overlay.
    pub fn backend(&self) -> &SharedBackend {
        &self.backend
    }

    /// The current value at `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.changes.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.backend.get(key),
        }
    }

    /// Writes (`Some`) or deletes (`None`) `key`.
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let previous = self.changes.insert(key.clone(), value);
        self.journal.push((key, previous));
    }

    /// Marks the current state so that [`Overlay::revert_to`] can return to it.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint(self.journal.len())
    }

    /// Undoes every write made since `checkpoint`.
    pub fn revert_to(&mut self, checkpoint: Checkpoint) {
        while self.journal.len() > checkpoint.0 {
            let Some((key, previous)) = self.journal.pop() else { break };
            match previous {
                Some(value) => self.changes.insert(key, value),
                None => self.changes.remove(&key),
            };
        }
    }

    /// Drops the undo history; earlier checkpoints become invalid. Called between transactions
    /// so the journal does not grow with the block.
    pub fn forget_journal(&mut self) {
        self.journal.clear();
    }

    /// All writes, for committing.
    pub fn into_changes(self) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
        self.changes
    }

    /// The account at `address` (the default, empty account if there is none).
    pub fn account(&self, address: &Address) -> Result<Account, StateError> {
        match self.get(&account_key(address))? {
            None => Ok(Account::default()),
            Some(bytes) => Account::decode(&mut &bytes[..])
                .map_err(|e| StateError::Corrupt(format!("account {address}: {e}"))),
        }
    }

    /// Writes the account at `address`; an empty account is deleted instead.
    pub fn put_account(&mut self, address: &Address, account: &Account) {
        let value = (*account != Account::default()).then(|| account.encode());
        self.set(account_key(address), value);
    }

    /// Whether code with `hash` was uploaded.
    pub fn code(&self, hash: &weft_types::Hash) -> Result<Option<Vec<u8>>, StateError> {
        self.get(&code_key(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::memory::MemoryState;

    #[test]
    fn checkpoints_undo_exactly_their_writes() {
        let mut o = Overlay::new(Arc::new(MemoryState::default()));
        o.set(b"a".to_vec(), Some(b"1".to_vec()));
        let cp = o.checkpoint();
        o.set(b"a".to_vec(), Some(b"2".to_vec()));
        o.set(b"b".to_vec(), Some(b"3".to_vec()));
        o.set(b"a".to_vec(), None);
        assert_eq!(o.get(b"a").unwrap(), None);
        o.revert_to(cp);
        assert_eq!(o.get(b"a").unwrap(), Some(b"1".to_vec()));
        assert_eq!(o.get(b"b").unwrap(), None);
        let changes = o.into_changes();
        assert_eq!(changes.len(), 1, "a reverted first write of a key leaves no entry");
    }
}
