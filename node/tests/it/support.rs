//! Deterministic blocks, transactions and state writes for the store tests.

use std::collections::BTreeMap;

use weft_node::store::Store;
use weft_runtime::state::{StateChanges, memory::MemoryState, tree};
use weft_types::{
    Action, Address, Block, Hash, Header, Receipt, SignedTransaction, Transaction,
    block::{receipts_root, tx_root},
    codec::BoundedVec,
    receipt::ExecStatus,
    tx::Signature,
};

/// Flat state writes (`None` deletes).
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A transfer with a dummy signature (the store does not check signatures), unique per `n`.
pub fn tx(n: u64) -> SignedTransaction {
    SignedTransaction {
        tx: Transaction {
            chain_id: 7,
            sender: Address([1; 32]),
            nonce: n,
            gas_limit: 21_000,
            gas_price: 1,
            action: Action::Transfer { to: Address([2; 32]), amount: u128::from(n) },
        },
        signature: Signature([0; 64]),
    }
}

/// A successful receipt for `tx`.
pub fn receipt(tx: &SignedTransaction) -> Receipt {
    Receipt {
        tx_hash: tx.hash(),
        status: ExecStatus::Success,
        gas_used: 21_000,
        fee: 21_000,
        deposit_charged: 0,
        deposit_refunded: 0,
        events: vec![],
        return_data: tx.tx.nonce.to_le_bytes().to_vec(),
        contract_address: None,
    }
}

/// A block at `height` over `parent` with `txs` and their receipts.
pub fn block(
    height: u64,
    parent: Hash,
    state_root: Hash,
    txs: Vec<SignedTransaction>,
) -> (Block, Vec<Receipt>) {
    let receipts: Vec<Receipt> = txs.iter().map(receipt).collect();
    let header = Header {
        height,
        parent_hash: parent,
        timestamp_ms: 1_000 * (height + 1),
        proposer: Address([9; 32]),
        tx_root: tx_root(&txs),
        receipts_root: receipts_root(&receipts),
        state_root,
        gas_used: 21_000 * txs.len() as u64,
    };
    (Block { header, txs: BoundedVec::new(txs).unwrap() }, receipts)
}

/// Everything to commit the next block of `store`: `kv` applied with [`tree::commit`] on the
/// store's state, and `txs`.
pub fn next_block(
    store: &Store,
    kv: Writes,
    txs: Vec<SignedTransaction>,
) -> (Block, Vec<Receipt>, StateChanges) {
    let state = store.state().unwrap();
    let height = state.next_version();
    let changes = tree::commit(&state, height, kv).unwrap();
    let parent = state.head().map_or(Hash::ZERO, Header::hash);
    let (block, receipts) = block(height, parent, changes.root, txs);
    (block, receipts, changes)
}

/// Commits the next block of `store`; returns it.
pub fn commit_next(store: &Store, kv: Writes, txs: Vec<SignedTransaction>) -> (Block, StateChanges) {
    let (block, receipts, changes) = next_block(store, kv, txs);
    store.commit_block(&block, &receipts, &changes).unwrap();
    (block, changes)
}

/// Every key [`writes_for`] ever touches.
pub fn universe() -> Vec<Vec<u8>> {
    let mut keys = vec![b"height".to_vec()];
    keys.extend((0..40u8).map(|i| vec![b'k', i]));
    keys.extend((0..4u8).map(|i| vec![b'b', i]));
    keys
}

/// The state writes of the block at `height`: deterministic, with updates, deletions, values
/// of a few KiB, and an empty write set every eleventh block.
pub fn writes_for(height: u64) -> Writes {
    let mut kv = Writes::new();
    if height % 11 == 10 {
        return kv;
    }
    kv.insert(b"height".to_vec(), Some(height.to_le_bytes().to_vec()));
    kv.insert(vec![b'k', (height % 40) as u8], Some(format!("value at {height}").into_bytes()));
    let other = vec![b'k', (height * 7 % 40) as u8];
    if height.is_multiple_of(3) {
        kv.insert(other, None);
    } else {
        kv.entry(other).or_insert_with(|| Some(height.to_be_bytes().to_vec()));
    }
    if height.is_multiple_of(5) {
        kv.insert(vec![b'b', (height / 5 % 4) as u8], Some(vec![height as u8; 3000]));
    }
    kv
}

/// The transactions of the block at `height` in the crash test: one per block but every
/// fourth, which has none.
pub fn txs_for(height: u64) -> Vec<SignedTransaction> {
    if height % 4 == 3 { vec![] } else { vec![tx(height)] }
}

/// The state after blocks `0..=height` of [`writes_for`], replayed in memory.
pub fn replay(height: u64) -> MemoryState {
    let mut state = MemoryState::new();
    for h in 0..=height {
        state.commit(writes_for(h)).unwrap();
    }
    state
}
