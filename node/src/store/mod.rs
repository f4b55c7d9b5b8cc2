//! The node's database: blocks, receipts, the transaction index and the committed state (flat
//! entries and Merkle tree nodes) in one redb file, and compiled contract code in a directory
//! beside it ([`ArtifactDir`]). Nothing else in the project touches redb.
//!
//! # Layout
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | `"format"` | [`FORMAT`] (u32 LE) |
//! | `meta` | `"head"` | SCALE([`Header`]) of the last committed block |
//! | `blocks` | height | SCALE([`Block`]) |
//! | `block_heights` | block hash | height |
//! | `receipts` | (height, index) | SCALE([`Receipt`]) |
//! | `tx_index` | transaction hash | (height, index) |
//! | `state` | state key | state value (see `weft_types::state`) |
//! | `tree_nodes` | encoded node key | encoded node (see `weft_runtime::state::tree`) |
//! | `certificates` | height | the finality certificate committed with the block (opaque bytes) |
//! | `consensus_records`, `consensus_bodies`, `evidence` | see [`consensus`] | a validator's consensus data |
//!
//! # Atomicity and durability
//!
//! [`Store::commit_block`] writes a block, its receipts, its transaction index entries, its
//! state changes and the new head in one redb write transaction committed with
//! [`redb::Durability::Immediate`]: when it returns `Ok` the block is on disk, and a crash at
//! any moment leaves the store at the previous head or the new one, never in between.
//!
//! # Corruption
//!
//! [`Store::open`] has redb verify the checksum of every page of the file
//! (`set_check_integrity_on_open`), so a damaged or truncated file is refused at open with
//! [`StoreError::Corrupt`] naming the file, rather than trusted (redb may panic on a damaged
//! file it trusts). The check reads the whole file, so opening a large store takes time. Stored
//! values that do not decode are reported as [`StoreError::Corrupt`] when read.

mod artifacts;
pub mod consensus;
mod state;

use std::{
    collections::BTreeSet,
    fmt,
    io::ErrorKind,
    path::{Path, PathBuf},
};

use parity_scale_codec::Encode;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use weft_runtime::state::StateChanges;
use weft_types::{
    Block, Hash, Header, Receipt,
    block::tx_root_of_hashes,
    codec::{DecodeError, decode_exact},
    limits::MAX_BLOCK_BYTES,
};

pub use artifacts::ArtifactDir;
pub use state::{Layered, StoreState};

/// Version of the store's layout, kept in `meta`; a store of another format is refused.
pub const FORMAT: u32 = 3;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const BLOCK_HEIGHTS: TableDefinition<&[u8], u64> = TableDefinition::new("block_heights");
const RECEIPTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("receipts");
const TX_INDEX: TableDefinition<&[u8], (u64, u32)> = TableDefinition::new("tx_index");
const STATE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("state");
const TREE_NODES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tree_nodes");
const CERTIFICATES: TableDefinition<u64, &[u8]> = TableDefinition::new("certificates");

const TABLES: [&str; 11] = [
    "meta",
    "blocks",
    "block_heights",
    "receipts",
    "tx_index",
    "state",
    "tree_nodes",
    "certificates",
    "consensus_records",
    "consensus_bodies",
    "evidence",
];

const FORMAT_KEY: &str = "format";
const HEAD_KEY: &str = "head";

/// Decode bound of a stored header (its encoding is 184 bytes).
const MAX_HEADER_BYTES: usize = 1024;
/// Decode bound of a stored receipt: a receipt never exceeds a block.
const MAX_RECEIPT_BYTES: usize = MAX_BLOCK_BYTES;

/// Why the store failed or refused an operation.
///
/// [`Io`](Self::Io), [`Corrupt`](Self::Corrupt), [`Incompatible`](Self::Incompatible) and
/// [`Locked`](Self::Locked) are the node's own faults (its disk, its file), and name the file.
/// The other variants refuse a [`Store::commit_block`] call whose block does not extend the
/// stored chain: the caller's fault, and nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read or written, or redb failed.
    #[error("store {}: {source}", path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// redb's error.
        source: redb::Error,
    },
    /// The file is not a valid database, or a stored value does not decode.
    #[error("store {} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file is a redb database, but not a store of this layout or redb version.
    #[error("store {} is incompatible: {reason}", path.display())]
    Incompatible {
        /// The database file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// Another process (or another [`Store`] in this one) has the file open.
    #[error("store {} is already open elsewhere (is another node using this data directory?)", path.display())]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The block's height is not the one after the head.
    #[error("block height {found} is not the next height {expected}")]
    NotNext {
        /// The height after the head (0 on an empty store).
        expected: u64,
        /// The block's height.
        found: u64,
    },
    /// The block's parent is not the head.
    #[error("block {height} has parent {found}, but the head block is {expected}")]
    WrongParent {
        /// The block's height.
        height: u64,
        /// Hash of the head ([`Hash::ZERO`] on an empty store).
        expected: Hash,
        /// The block's parent hash.
        found: Hash,
    },
    /// The state changes are not for the block's height.
    #[error("state changes are for version {version}, but the block has height {height}")]
    WrongVersion {
        /// The block's height.
        height: u64,
        /// The changes' version.
        version: u64,
    },
    /// The state changes do not produce the header's state root.
    #[error("header state root {header} differs from the state changes' root {changes}")]
    RootMismatch {
        /// `header.state_root`.
        header: Hash,
        /// `changes.root`.
        changes: Hash,
    },
    /// There is not one receipt per transaction.
    #[error("{receipts} receipts for {txs} transactions")]
    ReceiptCount {
        /// Transactions in the block.
        txs: usize,
        /// Receipts given.
        receipts: usize,
    },
    /// The header's `tx_root` is not the root of its transactions.
    #[error("the header's tx_root {header} is not the root of the block's transactions")]
    TxRootMismatch {
        /// The header's.
        header: Hash,
    },
    /// A receipt is not for the transaction at its index.
    #[error("receipt {index} is for transaction {receipt}, but transaction {index} is {tx}")]
    ReceiptMismatch {
        /// Position in the block.
        index: usize,
        /// Hash of the transaction at that position.
        tx: Hash,
        /// The receipt's `tx_hash`.
        receipt: Hash,
    },
}

impl StoreError {
    /// Whether this is the node's own fault (disk, file) rather than a refused call.
    pub fn is_node_fault(&self) -> bool {
        matches!(
            self,
            Self::Io { .. } | Self::Corrupt { .. } | Self::Incompatible { .. } | Self::Locked { .. }
        )
    }
}

/// Classifies a redb error.
fn db_error(path: &Path, error: impl Into<redb::Error>) -> StoreError {
    let path = path.to_path_buf();
    match error.into() {
        redb::Error::Corrupted(reason) => StoreError::Corrupt { path, reason },
        redb::Error::DatabaseAlreadyOpen => StoreError::Locked { path },
        redb::Error::UpgradeRequired(version) => StoreError::Incompatible {
            path,
            reason: format!("written by an older redb file format ({version}); it needs an upgrade"),
        },
        e @ (redb::Error::TableTypeMismatch { .. }
        | redb::Error::TypeDefinitionChanged { .. }
        | redb::Error::TableIsMultimap(_)
        | redb::Error::TableIsNotMultimap(_)
        | redb::Error::TableDoesNotExist(_)) => StoreError::Incompatible { path, reason: e.to_string() },
        // redb reports a file that is not a database, or ends too early, as I/O errors of
        // these kinds: bad contents, not a failing disk.
        redb::Error::Io(e) if matches!(e.kind(), ErrorKind::InvalidData | ErrorKind::UnexpectedEof) => {
            StoreError::Corrupt { path, reason: e.to_string() }
        }
        source => StoreError::Io { path, source },
    }
}

/// `.at(path)`: a redb result with its error classified, naming the file.
trait At<T> {
    fn at(self, path: &Path) -> Result<T, StoreError>;
}

impl<T, E: Into<redb::Error>> At<T> for Result<T, E> {
    fn at(self, path: &Path) -> Result<T, StoreError> {
        self.map_err(|e| db_error(path, e))
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
}

fn decode_error(path: &Path, what: fmt::Arguments<'_>, error: DecodeError) -> StoreError {
    corrupt(path, format!("{what} does not decode: {error}"))
}

fn decode_header(path: &Path, bytes: &[u8]) -> Result<Header, StoreError> {
    decode_exact(bytes, MAX_HEADER_BYTES, "header")
        .map_err(|e| decode_error(path, format_args!("the head header"), e))
}

/// The blockchain and its state, on disk.
pub struct Store {
    db: Database,
    path: PathBuf,
    /// Test-only fault injection: block commits fail as on a failing disk.
    #[cfg(any(test, feature = "fault-injection"))]
    fail_commits: std::sync::atomic::AtomicBool,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Memory redb may use to cache pages (reads and the write buffer). redb's default (1 GiB)
/// made the node's resident memory grow with the file until it reached it; past this bound, pages
/// come from the operating system's page cache instead, which the node's RSS does not count.
pub const CACHE_BYTES: usize = 64 << 20;

impl Store {
    /// Opens the store at `path`, creating it if the file is missing (or empty). Every page of
    /// an existing file is checked first; a corrupt or truncated file is refused with
    /// [`StoreError::Corrupt`] naming it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = redb::Builder::new()
            .set_check_integrity_on_open(true)
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .at(path)?;
        let store = Store {
            db,
            path: path.to_path_buf(),
            #[cfg(any(test, feature = "fault-injection"))]
            fail_commits: std::sync::atomic::AtomicBool::new(false),
        };
        store.init()?;
        store.head()?;
        Ok(store)
    }

    /// Creates the tables of a new store, or checks those of an existing one.
    fn init(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write().at(&self.path)?;
        let existing: BTreeSet<String> = txn
            .list_tables()
            .at(&self.path)?
            .map(|table| redb::TableHandle::name(&table).to_owned())
            .collect();
        if existing.is_empty() {
            {
                let mut meta = txn.open_table(META).at(&self.path)?;
                meta.insert(FORMAT_KEY, &FORMAT.to_le_bytes()[..]).at(&self.path)?;
                txn.open_table(BLOCKS).at(&self.path)?;
                txn.open_table(BLOCK_HEIGHTS).at(&self.path)?;
                txn.open_table(RECEIPTS).at(&self.path)?;
                txn.open_table(TX_INDEX).at(&self.path)?;
                txn.open_table(STATE).at(&self.path)?;
                txn.open_table(TREE_NODES).at(&self.path)?;
                txn.open_table(CERTIFICATES).at(&self.path)?;
                txn.open_table(consensus::RECORDS).at(&self.path)?;
                txn.open_table(consensus::BODIES).at(&self.path)?;
                txn.open_table(consensus::EVIDENCE).at(&self.path)?;
            }
            return txn.commit().at(&self.path);
        }
        if let Some(missing) = TABLES.iter().find(|name| !existing.contains(**name)) {
            return Err(corrupt(&self.path, format!("table {missing} is missing")));
        }
        let format = {
            let meta = txn.open_table(META).at(&self.path)?;
            let value = meta.get(FORMAT_KEY).at(&self.path)?;
            value.map(|v| v.value().to_vec())
        };
        txn.abort().at(&self.path)?;
        match format.as_deref().map(<[u8; 4]>::try_from) {
            Some(Ok(bytes)) if u32::from_le_bytes(bytes) == FORMAT => Ok(()),
            Some(Ok(bytes)) => Err(StoreError::Incompatible {
                path: self.path.clone(),
                reason: format!("store format {} (this node reads {FORMAT})", u32::from_le_bytes(bytes)),
            }),
            Some(Err(_)) | None => Err(corrupt(&self.path, "the store format is missing or malformed")),
        }
    }

    /// Makes every later block commit fail (`true`) as on a failing disk, or succeed again: for
    /// tests of how the node handles its own faults (feature `fault-injection`).
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn fail_commits(&self, fail: bool) {
        self.fail_commits.store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    #[cfg(any(test, feature = "fault-injection"))]
    fn check_writable(&self) -> Result<(), StoreError> {
        if self.fail_commits.load(std::sync::atomic::Ordering::SeqCst) {
            let fault = std::io::Error::other("injected write fault");
            return Err(StoreError::Io { path: self.path.clone(), source: redb::Error::Io(fault) });
        }
        Ok(())
    }

    #[cfg(not(any(test, feature = "fault-injection")))]
    fn check_writable(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits `block` with its `receipts` and the state `changes` it makes, atomically and
    /// durably (see the module doc). Refuses, writing nothing, a block whose height is not the
    /// head's plus one (0 on an empty store), whose parent is not the head ([`Hash::ZERO`] for
    /// genesis), whose changes are for another version or give another root than the
    /// header's, or whose receipts are not one per transaction, in order.
    pub fn commit_block(
        &self,
        block: &Block,
        receipts: &[Receipt],
        changes: &StateChanges,
    ) -> Result<(), StoreError> {
        self.commit(block, receipts, changes, None)
    }

    /// [`Self::commit_block`] with the block's finality certificate, stored in the same
    /// transaction (a validator commits a block only with the certificate that finalized it).
    pub fn commit_certified(
        &self,
        block: &Block,
        receipts: &[Receipt],
        changes: &StateChanges,
        certificate: &[u8],
    ) -> Result<(), StoreError> {
        self.commit(block, receipts, changes, Some(certificate))
    }

    fn commit(
        &self,
        block: &Block,
        receipts: &[Receipt],
        changes: &StateChanges,
        certificate: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let header = &block.header;
        let height = header.height;
        if changes.version != height {
            return Err(StoreError::WrongVersion { height, version: changes.version });
        }
        if changes.root != header.state_root {
            return Err(StoreError::RootMismatch { header: header.state_root, changes: changes.root });
        }
        if receipts.len() != block.txs.len() {
            return Err(StoreError::ReceiptCount { txs: block.txs.len(), receipts: receipts.len() });
        }
        // The receipts name the transactions by hash: their root is the header's `tx_root` exactly
        // when each receipt is for the transaction at its index (the builder and re-execution
        // compute `tx_root` from the transactions), so a block is not hashed again to commit it.
        let tx_hashes: Vec<Hash> = receipts.iter().map(|r| r.tx_hash).collect();
        if tx_root_of_hashes(&tx_hashes) != header.tx_root {
            // Refused: find the receipt that is not its transaction's.
            for (index, (tx, receipt)) in block.txs.iter().zip(receipts).enumerate() {
                let tx = tx.hash();
                if receipt.tx_hash != tx {
                    return Err(StoreError::ReceiptMismatch { index, tx, receipt: receipt.tx_hash });
                }
            }
            return Err(StoreError::TxRootMismatch { header: header.tx_root });
        }

        self.check_writable()?;
        let mut txn = self.db.begin_write().at(&self.path)?;
        txn.set_durability(Durability::Immediate).at(&self.path)?;
        {
            let mut meta = txn.open_table(META).at(&self.path)?;
            let (expected, parent) = match meta.get(HEAD_KEY).at(&self.path)? {
                Some(head) => {
                    let head = decode_header(&self.path, head.value())?;
                    (head.height + 1, head.hash())
                }
                None => (0, Hash::ZERO),
            };
            if height != expected {
                return Err(StoreError::NotNext { expected, found: height });
            }
            if header.parent_hash != parent {
                return Err(StoreError::WrongParent { height, expected: parent, found: header.parent_hash });
            }

            let hash = block.hash();
            txn.open_table(BLOCKS).at(&self.path)?.insert(height, &block.encode()[..]).at(&self.path)?;
            txn.open_table(BLOCK_HEIGHTS).at(&self.path)?.insert(&hash.0[..], height).at(&self.path)?;
            {
                let mut receipts_table = txn.open_table(RECEIPTS).at(&self.path)?;
                let mut tx_index = txn.open_table(TX_INDEX).at(&self.path)?;
                // A block holds at most MAX_BLOCK_TXS transactions, so indices fit a u32.
                for (index, (tx, receipt)) in (0u32..).zip(tx_hashes.iter().zip(receipts)) {
                    receipts_table.insert((height, index), &receipt.encode()[..]).at(&self.path)?;
                    tx_index.insert(&tx.0[..], (height, index)).at(&self.path)?;
                }
            }
            write_all(&txn, STATE, &changes.kv).at(&self.path)?;
            write_all(&txn, TREE_NODES, &changes.nodes).at(&self.path)?;
            if let Some(certificate) = certificate {
                txn.open_table(CERTIFICATES).at(&self.path)?.insert(height, certificate).at(&self.path)?;
            }
            meta.insert(HEAD_KEY, &header.encode()[..]).at(&self.path)?;
        }
        txn.commit().at(&self.path)
    }

    /// The header of the last committed block, `None` on an empty store.
    pub fn head(&self) -> Result<Option<Header>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let meta = txn.open_table(META).at(&self.path)?;
        let head = meta.get(HEAD_KEY).at(&self.path)?;
        head.map(|bytes| decode_header(&self.path, bytes.value())).transpose()
    }

    /// The block at height `height`.
    pub fn block_by_height(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let blocks = txn.open_table(BLOCKS).at(&self.path)?;
        let Some(bytes) = blocks.get(height).at(&self.path)? else {
            return Ok(None);
        };
        let block = Block::decode_bounded(bytes.value())
            .map_err(|e| decode_error(&self.path, format_args!("block {height}"), e))?;
        if block.header.height != height {
            return Err(corrupt(
                &self.path,
                format!("block stored at height {height} has height {}", block.header.height),
            ));
        }
        Ok(Some(block))
    }

    /// The block with hash `hash`.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        let height = {
            let txn = self.db.begin_read().at(&self.path)?;
            let heights = txn.open_table(BLOCK_HEIGHTS).at(&self.path)?;
            let Some(height) = heights.get(&hash.0[..]).at(&self.path)? else {
                return Ok(None);
            };
            height.value()
        };
        // Blocks are never removed, so the block indexed is still there.
        match self.block_by_height(height)? {
            Some(block) if block.hash() == *hash => Ok(Some(block)),
            Some(_) => Err(corrupt(
                &self.path,
                format!("block {hash} is indexed at height {height}, which holds another"),
            )),
            None => Err(corrupt(
                &self.path,
                format!("block {hash} is indexed at height {height}, which is empty"),
            )),
        }
    }

    /// The receipt of transaction `tx`, with the height of its block and its index there.
    pub fn receipt(&self, tx: &Hash) -> Result<Option<(u64, u32, Receipt)>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let tx_index = txn.open_table(TX_INDEX).at(&self.path)?;
        let Some(position) = tx_index.get(&tx.0[..]).at(&self.path)? else {
            return Ok(None);
        };
        let (height, index) = position.value();
        let receipts = txn.open_table(RECEIPTS).at(&self.path)?;
        let Some(bytes) = receipts.get((height, index)).at(&self.path)? else {
            return Err(corrupt(
                &self.path,
                format!("transaction {tx} is indexed at ({height}, {index}), which has no receipt"),
            ));
        };
        let receipt: Receipt = decode_exact(bytes.value(), MAX_RECEIPT_BYTES, "receipt")
            .map_err(|e| decode_error(&self.path, format_args!("receipt ({height}, {index})"), e))?;
        if receipt.tx_hash != *tx {
            return Err(corrupt(
                &self.path,
                format!("receipt ({height}, {index}) is not transaction {tx}'s"),
            ));
        }
        Ok(Some((height, index, receipt)))
    }

    /// The finality certificate stored with the block at `height`, if any.
    pub fn certificate(&self, height: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let table = txn.open_table(CERTIFICATES).at(&self.path)?;
        let value = table.get(height).at(&self.path)?;
        Ok(value.map(|v| v.value().to_vec()))
    }

    /// The receipts of the block at `height`, in transaction order (empty for an unknown height).
    pub fn block_receipts(&self, height: u64) -> Result<Vec<Receipt>, StoreError> {
        let txn = self.db.begin_read().at(&self.path)?;
        let receipts = txn.open_table(RECEIPTS).at(&self.path)?;
        let mut out = Vec::new();
        for entry in receipts.range((height, 0)..=(height, u32::MAX)).at(&self.path)? {
            let (key, bytes) = entry.at(&self.path)?;
            let (h, index) = key.value();
            let receipt = decode_exact(bytes.value(), MAX_RECEIPT_BYTES, "receipt")
                .map_err(|e| decode_error(&self.path, format_args!("receipt ({h}, {index})"), e))?;
            out.push(receipt);
        }
        Ok(out)
    }

    /// A consistent snapshot of the committed state, as of the head when called: later commits
    /// do not show through it.
    pub fn state(&self) -> Result<StoreState, StoreError> {
        StoreState::new(&self.db, &self.path)
    }
}

/// Writes (`Some`) and deletes (`None`) `writes` in `table`.
fn write_all(
    txn: &redb::WriteTransaction,
    table: TableDefinition<&[u8], &[u8]>,
    writes: &std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(), redb::Error> {
    let mut table = txn.open_table(table)?;
    for (key, value) in writes {
        match value {
            Some(value) => table.insert(&key[..], &value[..])?,
            None => table.remove(&key[..])?,
        };
    }
    Ok(())
}
