//! The validator's consensus tables: the votes and proposals it signed (durable before they are
//! sent), the proposals with blocks it validated or built (so that a block it voted for survives
//! a crash of every validator), and the evidence of equivocation it saw.
//!
//! | table | key | value |
//! |---|---|---|
//! | `consensus_records` | (view, first 8 bytes of SHA3-256(value)) | a consensus record (opaque: the core's encoding) |
//! | `consensus_bodies` | (height, block hash) | the encoded proposal message carrying the block |
//! | `evidence` | (view, offender, first 8 bytes of SHA3-256(value)) | SCALE([`Evidence`]) |
//!
//! Records and bodies are pruned by key range when a block is finalized; evidence is kept
//! (bounded, the lowest views dropped first).

use parity_scale_codec::Encode;
use redb::{Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use weft_types::{Hash, consensus::Evidence, sha3_256};

use super::{At, Store, StoreError};

pub(super) const RECORDS: TableDefinition<(u64, [u8; 8]), &[u8]> = TableDefinition::new("consensus_records");
pub(super) const BODIES: TableDefinition<(u64, [u8; 32]), &[u8]> = TableDefinition::new("consensus_bodies");
/// (view, offender, digest).
type EvidenceKey = (u64, [u8; 32], [u8; 8]);

pub(super) const EVIDENCE: TableDefinition<EvidenceKey, &[u8]> = TableDefinition::new("evidence");

/// Most pieces of evidence kept; beyond it, those of the lowest views are dropped.
pub const MAX_STORED_EVIDENCE: usize = 1024;

fn digest(value: &[u8]) -> [u8; 8] {
    let mut out = [0; 8];
    out.copy_from_slice(&sha3_256(value).0[..8]);
    out
}

impl Store {
    /// Makes a consensus record of `view` durable: when this returns, a restarted node reads it
    /// back (a vote is made durable before it is sent).
    pub fn put_consensus_record(&self, view: u64, record: &[u8]) -> Result<(), StoreError> {
        self.write_durably(|txn| {
            txn.open_table(RECORDS)?.insert((view, digest(record)), record)?;
            Ok(())
        })
    }

    /// Every consensus record, lowest view first.
    pub fn consensus_records(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.values(RECORDS)
    }

    /// Makes the proposal message carrying the block `hash` at `height` durable.
    pub fn put_block_body(&self, height: u64, hash: &Hash, message: &[u8]) -> Result<(), StoreError> {
        self.write_durably(|txn| {
            txn.open_table(BODIES)?.insert((height, hash.0), message)?;
            Ok(())
        })
    }

    /// Every kept proposal message, lowest height first.
    pub fn block_bodies(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.values(BODIES)
    }

    /// Deletes the records of views up to `view` and the bodies of heights up to `height` (no
    /// longer needed once the block of that view and height is final), one key range each.
    pub fn prune_consensus(&self, view: u64, height: u64) -> Result<(), StoreError> {
        self.write_durably(|txn| {
            txn.open_table(RECORDS)?.retain_in((0, [0; 8])..=(view, [0xff; 8]), |_, _| false)?;
            txn.open_table(BODIES)?.retain_in((0, [0; 32])..=(height, [0xff; 32]), |_, _| false)?;
            Ok(())
        })
    }

    /// Keeps `evidence` (bounded by [`MAX_STORED_EVIDENCE`]; never pruned at finalization).
    pub fn keep_evidence(&self, evidence: &Evidence) -> Result<(), StoreError> {
        self.keep_evidence_within(evidence, MAX_STORED_EVIDENCE)
    }

    /// [`Self::keep_evidence`] with another bound (at least 1).
    pub fn keep_evidence_within(&self, evidence: &Evidence, max: usize) -> Result<(), StoreError> {
        let value = evidence.encode();
        let key = (evidence.view(), evidence.offender().0, digest(&value));
        self.write_durably(|txn| {
            let mut table = txn.open_table(EVIDENCE)?;
            table.insert(key, &value[..])?;
            // Keys sort by view: drop the lowest to make room.
            let excess = usize::try_from(table.len()?).unwrap_or(usize::MAX).saturating_sub(max.max(1));
            for _ in 0..excess {
                table.pop_first()?;
            }
            Ok(())
        })
    }

    /// The evidence kept, lowest view first (entries that do not decode are skipped).
    pub fn evidence(&self) -> Result<Vec<Evidence>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(EVIDENCE).at(&self.path)?;
        let mut out = Vec::new();
        for entry in table.iter().at(&self.path)? {
            if let Ok(evidence) = Evidence::decode_bounded(entry.at(&self.path)?.1.value()) {
                out.push(evidence);
            }
        }
        Ok(out)
    }

    /// Every value of `table`, in key order.
    fn values<K: redb::Key + 'static>(
        &self,
        table: TableDefinition<K, &[u8]>,
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(table).at(&self.path)?;
        let mut out = Vec::new();
        for entry in table.iter().at(&self.path)? {
            out.push(entry.at(&self.path)?.1.value().to_vec());
        }
        Ok(out)
    }

    /// Runs `write` in one write transaction committed durably.
    fn write_durably(
        &self,
        write: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StoreError> {
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        write(&txn).at(&self.path)?;
        txn.commit().at(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use weft_types::{
        consensus::{BlockRef, Validator, ValidatorSet, View, Vote},
        tx::address_of,
    };

    use super::*;

    const CHAIN: u64 = 77;

    #[test]
    fn evidence_is_kept_bounded_apart_from_records_and_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("chain.redb")).unwrap();
        let key = SigningKey::from_bytes(&[1; 32]);
        let evidence = |view: View| {
            Evidence::ConflictingVotes(Vote::Nullify(view).sign(CHAIN, &key), {
                let b = BlockRef { view, height: 1, hash: Hash([7; 32]) };
                Vote::Finalize(b).sign(CHAIN, &key)
            })
        };
        for view in 1..=6 {
            store.keep_evidence_within(&evidence(view), 4).unwrap();
        }
        store.keep_evidence_within(&evidence(6), 4).unwrap();
        let kept = store.evidence().unwrap();
        assert_eq!(
            kept.iter().map(Evidence::view).collect::<Vec<_>>(),
            vec![3, 4, 5, 6],
            "the lowest views dropped"
        );
        let set =
            ValidatorSet::from_unsorted(vec![Validator { address: address_of(&key), power: 1 }]).unwrap();
        assert!(kept.iter().all(|e| e.verify(CHAIN, &set).is_ok()));
        // Evidence is neither a consensus record nor a body (restart reads those), and pruning
        // at finalization keeps it.
        assert!(store.consensus_records().unwrap().is_empty());
        assert!(store.block_bodies().unwrap().is_empty());
        store.prune_consensus(u64::MAX, u64::MAX).unwrap();
        assert_eq!(store.evidence().unwrap().len(), 4);
    }
}
