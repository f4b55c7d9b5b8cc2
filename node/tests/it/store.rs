//! The store: round trips, refusals, state snapshots and proofs, agreement with the in-memory
//! backend, and corrupt files.

use std::{
    fs,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::Arc,
};

use weft_node::store::{FORMAT, Store, StoreError};
use weft_runtime::{
    SharedBackend,
    state::{StateBackend, StateChanges, memory::MemoryState, tree},
};
use weft_types::{Block, Hash};

use crate::support::{Writes, block, commit_next, next_block, receipt, tx, universe, writes_for};

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    (dir, path)
}

fn kv(items: &[(&[u8], Option<&[u8]>)]) -> Writes {
    items.iter().map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec))).collect()
}

/// Commits `count` blocks of [`writes_for`] with a transaction each; returns the blocks.
fn fill(store: &Store, count: u64) -> Vec<Block> {
    (0..count).map(|h| commit_next(store, writes_for(h), vec![tx(h)]).0).collect()
}

#[test]
fn commit_and_reopen_round_trip() {
    let (_dir, path) = temp();
    let blocks = {
        let store = Store::open(&path).unwrap();
        assert_eq!(store.head().unwrap(), None);
        assert_eq!(store.block_by_height(0).unwrap(), None);
        let state = store.state().unwrap();
        assert_eq!((state.version(), state.root(), state.next_version()), (None, tree::empty_root(), 0));
        let mut blocks = vec![commit_next(&store, writes_for(0), vec![]).0];
        blocks.extend((1..6).map(|h| commit_next(&store, writes_for(h), vec![tx(100 + h), tx(200 + h)]).0));
        assert_eq!(store.path(), path);
        blocks
    };

    let store = Store::open(&path).unwrap();
    assert_eq!(store.head().unwrap().as_ref(), Some(&blocks[5].header));
    for (height, block) in blocks.iter().enumerate() {
        assert_eq!(store.block_by_height(height as u64).unwrap().as_ref(), Some(block));
        assert_eq!(store.block_by_hash(&block.hash()).unwrap().as_ref(), Some(block));
        for (index, tx) in block.txs.iter().enumerate() {
            let (h, i, r) = store.receipt(&tx.hash()).unwrap().unwrap();
            assert_eq!((h, i as usize, &r), (height as u64, index, &receipt(tx)));
        }
    }
    assert_eq!(store.block_by_height(6).unwrap(), None);
    assert_eq!(store.block_by_hash(&Hash([7; 32])).unwrap(), None);
    assert_eq!(store.receipt(&tx(999).hash()).unwrap(), None);

    let state = store.state().unwrap();
    assert_eq!(state.version(), Some(5));
    assert_eq!(state.root(), blocks[5].header.state_root);
    let expected = crate::support::replay(5);
    for key in universe() {
        assert_eq!(state.get(&key).unwrap().as_ref(), expected.kv.get(&key), "key {key:?}");
    }

    // The chain continues after the reopen.
    commit_next(&store, writes_for(6), vec![tx(6)]);
    assert_eq!(store.head().unwrap().unwrap().height, 6);
}

#[test]
fn commit_block_refusals() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let check = |result: Result<(), StoreError>| {
        let err = result.unwrap_err();
        assert!(!err.is_node_fault(), "{err}");
        err
    };

    // Empty store: only height 0 with the zero parent.
    let (genesis, receipts, changes) = next_block(&store, writes_for(0), vec![tx(0)]);
    let (mut wrong, _) = block(1, Hash::ZERO, changes.root, genesis.txs.to_vec());
    let one = StateChanges { version: 1, ..changes.clone() };
    assert!(matches!(
        check(store.commit_block(&wrong, &receipts, &one)),
        StoreError::NotNext { expected: 0, found: 1 }
    ));
    wrong.header.height = 0;
    wrong.header.parent_hash = Hash([1; 32]);
    assert!(matches!(
        check(store.commit_block(&wrong, &receipts, &changes)),
        StoreError::WrongParent { height: 0, expected: Hash::ZERO, .. }
    ));
    assert_eq!(store.head().unwrap(), None, "refusals write nothing");
    store.commit_block(&genesis, &receipts, &changes).unwrap();
    // The same block again.
    assert!(matches!(
        check(store.commit_block(&genesis, &receipts, &changes)),
        StoreError::NotNext { expected: 1, found: 0 }
    ));

    let (next, receipts, changes) = next_block(&store, writes_for(1), vec![tx(1), tx(2)]);
    let head = store.head().unwrap().unwrap();

    // A gap.
    let (gap, _) = block(2, next.header.parent_hash, changes.root, next.txs.to_vec());
    let two = StateChanges { version: 2, ..changes.clone() };
    assert!(matches!(
        check(store.commit_block(&gap, &receipts, &two)),
        StoreError::NotNext { expected: 1, found: 2 }
    ));
    // Another parent.
    let mut fork = next.clone();
    fork.header.parent_hash = Hash([3; 32]);
    match check(store.commit_block(&fork, &receipts, &changes)) {
        StoreError::WrongParent { height: 1, expected, found } => {
            assert_eq!((expected, found), (head.hash(), Hash([3; 32])));
        }
        other => panic!("{other}"),
    }
    // Changes for another version.
    assert!(matches!(
        check(store.commit_block(&next, &receipts, &StateChanges { version: 2, ..changes.clone() })),
        StoreError::WrongVersion { height: 1, version: 2 }
    ));
    // Changes with another root.
    let mut bad_root = changes.clone();
    bad_root.root = Hash([4; 32]);
    match check(store.commit_block(&next, &receipts, &bad_root)) {
        StoreError::RootMismatch { header, changes: root } => {
            assert_eq!((header, root), (next.header.state_root, Hash([4; 32])));
        }
        other => panic!("{other}"),
    }
    // Receipts missing, or out of order.
    assert!(matches!(
        check(store.commit_block(&next, &receipts[..1], &changes)),
        StoreError::ReceiptCount { txs: 2, receipts: 1 }
    ));
    let swapped = [receipts[1].clone(), receipts[0].clone()];
    assert!(matches!(
        check(store.commit_block(&next, &swapped, &changes)),
        StoreError::ReceiptMismatch { index: 0, .. }
    ));
    // A header whose tx_root is not its transactions' (the receipts are theirs).
    let mut bad_tx_root = next.clone();
    bad_tx_root.header.tx_root = Hash([5; 32]);
    assert!(matches!(
        check(store.commit_block(&bad_tx_root, &receipts, &changes)),
        StoreError::TxRootMismatch { header } if header == Hash([5; 32])
    ));

    // Nothing was written by any refusal, and the right block still commits.
    assert_eq!(store.head().unwrap().as_ref(), Some(&head));
    assert_eq!(store.receipt(&tx(1).hash()).unwrap(), None);
    assert_eq!(store.state().unwrap().get(b"height").unwrap(), Some(0u64.to_le_bytes().to_vec()));
    store.commit_block(&next, &receipts, &changes).unwrap();
    assert_eq!(store.head().unwrap().unwrap().height, 1);
}

#[test]
fn state_snapshots_and_proofs() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    commit_next(&store, kv(&[(b"a", Some(b"1")), (b"b", Some(b"2"))]), vec![]);
    let (block1, _) = commit_next(&store, kv(&[(b"a", Some(b"1'")), (b"c", Some(b"3"))]), vec![]);
    let root1 = block1.header.state_root;

    let old = store.state().unwrap();
    assert_eq!(old.head(), Some(&block1.header));
    // Usable as the runtime's shared backend.
    let _shared: SharedBackend = Arc::new(store.state().unwrap());

    // Inclusion and exclusion against the header's state root.
    let (value, proof) = tree::prove(&old, 1, b"a").unwrap();
    assert_eq!(value.as_deref(), Some(&b"1'"[..]));
    proof.verify(&root1, b"a", Some(b"1'")).unwrap();
    assert!(proof.verify(&root1, b"a", Some(b"1")).is_err());
    let (value, proof) = tree::prove(&old, 1, b"zzz").unwrap();
    assert_eq!(value, None);
    proof.verify(&root1, b"zzz", None).unwrap();

    // A later block does not show through the snapshot taken before it.
    let (block2, _) = commit_next(&store, kv(&[(b"a", None), (b"d", Some(b"4"))]), vec![]);
    assert_eq!(old.get(b"a").unwrap().as_deref(), Some(&b"1'"[..]));
    assert_eq!(old.get(b"d").unwrap(), None);
    let (value, proof) = tree::prove(&old, 1, b"a").unwrap();
    assert_eq!(value.as_deref(), Some(&b"1'"[..]));
    proof.verify(&root1, b"a", Some(b"1'")).unwrap();

    let new = store.state().unwrap();
    assert_eq!(new.root(), block2.header.state_root);
    assert_eq!(new.get(b"a").unwrap(), None);
    let (value, proof) = tree::prove(&new, 2, b"a").unwrap();
    assert_eq!(value, None);
    proof.verify(&block2.header.state_root, b"a", None).unwrap();
    // Only the latest version is kept.
    assert!(tree::prove(&new, 1, b"a").is_err());
}

#[test]
fn memory_and_store_agree() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    let mut memory = MemoryState::new();
    // Every node key ever written or deleted, to compare presence in both.
    let mut node_keys = std::collections::BTreeSet::new();
    for height in 0..60 {
        let writes = writes_for(height);
        let mem_changes = memory.commit(writes.clone()).unwrap();
        let (block, changes) = commit_next(&store, writes, vec![]);
        assert_eq!(changes, mem_changes, "height {height}");
        assert_eq!(block.header.state_root, memory.root());
        node_keys.extend(changes.nodes.keys().cloned());
    }
    let state = store.state().unwrap();
    assert_eq!(state.root(), memory.root());
    for key in universe() {
        assert_eq!(state.get(&key).unwrap().as_ref(), memory.kv.get(&key));
    }
    for key in &node_keys {
        assert_eq!(state.get_tree_node(key).unwrap().as_ref(), memory.nodes.get(key));
    }
}

#[test]
fn second_open_is_locked_and_missing_directory_is_io() {
    let (dir, path) = temp();
    let _store = Store::open(&path).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");

    let missing = dir.path().join("no/such/dir/store.redb");
    let err = Store::open(&missing).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err}");
    assert!(err.to_string().contains(&missing.display().to_string()), "{err}");
}

/// Opens `path` and reads everything `reference` holds: returns the error, or panics if the
/// store returns different data (a damaged file must never be read as something else).
fn open_and_read_all(path: &Path, reference: &[Block]) -> Result<(), StoreError> {
    let store = Store::open(path)?;
    let head = store.head()?;
    assert_eq!(head.as_ref(), reference.last().map(|b| &b.header), "head of a damaged copy");
    for block in reference {
        assert_eq!(store.block_by_height(block.header.height)?.as_ref(), Some(block));
        assert_eq!(store.block_by_hash(&block.hash())?.as_ref(), Some(block));
        for tx in block.txs.iter() {
            assert!(store.receipt(&tx.hash())?.is_some());
        }
    }
    let state = store.state()?;
    let height = state.version().unwrap_or(0);
    for key in universe() {
        let (value, proof) = tree::prove(&state, height, &key)
            .unwrap_or_else(|e| panic!("damaged copy read as a bad state: {e}"));
        proof.verify(&state.root(), &key, value.as_deref()).unwrap();
    }
    Ok(())
}

/// Copies `original` to a new file in `dir`, damages it with `damage`, and opens and reads it:
/// `Some(error)` (which must name the file) if the damage was detected, `None` if the copy
/// read back exactly as the original (the damage hit unused space). Never a panic.
fn damaged(
    dir: &Path,
    name: &str,
    original: &[u8],
    reference: &[Block],
    damage: impl FnOnce(&mut Vec<u8>),
) -> Option<StoreError> {
    let path = dir.join(name);
    let mut bytes = original.to_vec();
    damage(&mut bytes);
    fs::write(&path, &bytes).unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| open_and_read_all(&path, reference)))
        .unwrap_or_else(|_| panic!("reading {name} panicked"));
    let err = result.err()?;
    assert!(err.is_node_fault(), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "error does not name the file: {err}");
    Some(err)
}

#[test]
fn corrupt_files_are_refused_at_open() {
    let (dir, path) = temp();
    let reference = {
        let store = Store::open(&path).unwrap();
        fill(&store, 40)
    };
    let original = fs::read(&path).unwrap();
    assert!(original.len() > 64 * 1024, "{} bytes", original.len());
    // The intact file reads back.
    assert!(damaged(dir.path(), "intact.redb", &original, &reference, |_| ()).is_none());

    // Truncated at several lengths.
    for len in [original.len() - 4096, original.len() / 2, 8192, 100] {
        let err =
            damaged(dir.path(), &format!("truncated-{len}.redb"), &original, &reference, |b| b.truncate(len));
        let err = err.unwrap_or_else(|| panic!("truncation to {len} bytes went unnoticed"));
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    // Garbage over each page of the file in turn: every hit on live data is detected.
    let pages = original.len() / 4096;
    let mut detected = 0;
    for page in 0..pages {
        let name = format!("page-{page}.redb");
        if let Some(err) = damaged(dir.path(), &name, &original, &reference, |b| {
            let at = page * 4096 + 1000;
            b[at..at + 200].fill(0xa5);
        }) {
            detected += 1;
            assert!(matches!(err, StoreError::Corrupt { .. }), "page {page}: {err}");
        }
        fs::remove_file(dir.path().join(name)).unwrap();
    }
    assert!(detected > 0, "no damaged page of {pages} was detected");
    eprintln!("damage detected in {detected} of {pages} pages (the rest are free space)");

    // Not a database at all.
    let err = damaged(dir.path(), "garbage.redb", &original, &reference, |b| b.fill(0x5a)).unwrap();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
}

#[test]
fn undecodable_values_are_corrupt() {
    let (_dir, path) = temp();
    let blocks = {
        let store = Store::open(&path).unwrap();
        fill(&store, 3)
    };
    // Damage stored values through redb itself, so the file is valid but its contents are not.
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let blocks: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("blocks");
            txn.open_table(blocks).unwrap().insert(1, &[1u8, 2, 3][..]).unwrap();
        }
        txn.commit().unwrap();
    }
    let store = Store::open(&path).unwrap();
    let err = store.block_by_height(1).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
    assert!(matches!(store.block_by_hash(&blocks[1].hash()), Err(StoreError::Corrupt { .. })));
    assert_eq!(store.block_by_height(2).unwrap().as_ref(), Some(&blocks[2]));
    drop(store);

    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
            txn.open_table(meta).unwrap().insert("head", &[0xffu8; 7][..]).unwrap();
        }
        txn.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn other_formats_and_missing_tables_are_refused() {
    let (_dir, path) = temp();
    drop(Store::open(&path).unwrap());
    let meta: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(meta).unwrap().insert("format", &(FORMAT + 1).to_le_bytes()[..]).unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Incompatible { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");

    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(meta).unwrap().insert("format", &FORMAT.to_le_bytes()[..]).unwrap();
        let receipts: redb::TableDefinition<(u64, u32), &[u8]> = redb::TableDefinition::new("receipts");
        assert!(txn.delete_table(receipts).unwrap());
        txn.commit().unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { ref reason, .. } if reason.contains("receipts")), "{err}");
}

#[test]
fn block_receipts_come_back_in_order() {
    let (_dir, path) = temp();
    let store = Store::open(&path).unwrap();
    commit_next(&store, writes_for(0), vec![]);
    let txs = vec![tx(1), tx(2), tx(3)];
    commit_next(&store, writes_for(1), txs.clone());
    assert!(store.block_receipts(0).unwrap().is_empty());
    let expected: Vec<_> = txs.iter().map(receipt).collect();
    assert_eq!(store.block_receipts(1).unwrap(), expected);
    assert!(store.block_receipts(2).unwrap().is_empty());
}

#[test]
fn certificates_and_consensus_records_are_durable() {
    let (_dir, path) = temp();
    {
        let store = Store::open(&path).unwrap();
        commit_next(&store, writes_for(0), vec![]);
        let (block, receipts, changes) = next_block(&store, writes_for(1), vec![tx(1)]);
        store.commit_certified(&block, &receipts, &changes, b"certificate of 1").unwrap();
        assert_eq!(store.certificate(0).unwrap(), None);
        store.put_consensus_record(1, b"vote 1").unwrap();
        store.put_consensus_record(2, b"vote 2").unwrap();
        store.put_block_body(1, &Hash([1; 32]), b"proposal 1").unwrap();
        store.put_block_body(2, &Hash([2; 32]), b"proposal 2").unwrap();
        // Finalizing view 1 at height 1 prunes what is at or below them.
        store.prune_consensus(1, 1).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.certificate(1).unwrap().as_deref(), Some(&b"certificate of 1"[..]));
    assert_eq!(store.consensus_records().unwrap(), vec![b"vote 2".to_vec()]);
    assert_eq!(store.block_bodies().unwrap(), vec![b"proposal 2".to_vec()]);
}
