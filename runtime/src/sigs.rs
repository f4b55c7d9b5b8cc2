//! Signature checks off the execution path: a bounded memory of transactions whose signature
//! already passed the protocol rule (filled at mempool admission), and the parallel check of a
//! whole block's signatures before it executes.
//!
//! Invariant: results never depend on this module. A transaction is remembered under its hash,
//! SHA3-256 of its full encoding (signature included), only after `verify_strict` accepted
//! exactly those bytes; a hit therefore stands for the same check with the same answer, and a
//! miss (never seen, evicted, or already used) falls back to checking it. Parallel checks run
//! `verify_strict` per signature, the same function as the serial path, and their results are
//! used in block order.
//!
//! Why not ed25519 batch verification: a batch that *passes* does not imply every signature
//! passes `verify_strict` (a signature whose `R` or key has a small torsion component can pass
//! the random linear combination with probability up to 1/2 while failing the single
//! cofactorless check), so two nodes could disagree. Only strict single checks decide here.

use std::{
    collections::{HashSet, VecDeque},
    hash::{BuildHasherDefault, Hasher},
    sync::Mutex,
};

use weft_types::{Hash, SignatureError, SignedTransaction};

/// Transactions remembered as verified at most (beyond the default mempool bound of 100,000,
/// so that everything admitted is still remembered when it reaches a block).
pub const VERIFIED_CAPACITY: usize = 1 << 18;

/// Below this many unchecked signatures a block is checked on the calling thread alone.
const PARALLEL_MIN: usize = 64;

/// Hashes are SHA3 outputs, not attacker-chosen keys: their first 8 bytes are a good hash.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

type HashSetFast = HashSet<Hash, BuildHasherDefault<PrefixHasher>>;

#[derive(Default)]
struct Inner {
    set: HashSetFast,
    /// Insertion order, for evicting the oldest when full (may hold hashes already taken).
    order: VecDeque<Hash>,
}

/// The bounded memory of verified transaction hashes. Membership only; never iterated.
#[derive(Default)]
pub struct VerifiedSigs {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for VerifiedSigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSigs").field("len", &self.len()).finish()
    }
}

impl VerifiedSigs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Single inserts and removals cannot leave the set inconsistent with a panic.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers that the transaction with this hash has a valid signature. Callers must have
    /// checked it with [`SignedTransaction::verify_signature`] on the bytes hashing to `hash`.
    pub(crate) fn insert(&self, hash: Hash) {
        let mut inner = self.lock();
        if !inner.set.insert(hash) {
            return;
        }
        inner.order.push_back(hash);
        while inner.order.len() > VERIFIED_CAPACITY {
            if let Some(old) = inner.order.pop_front() {
                inner.set.remove(&old);
            }
        }
    }

    /// Whether the transaction with this hash was verified; forgets it (a transaction is
    /// executed once; a block that is abandoned checks it again).
    pub(crate) fn take(&self, hash: &Hash) -> bool {
        self.lock().set.remove(hash)
    }

    /// Transactions remembered.
    pub fn len(&self) -> usize {
        self.lock().set.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The signature result of each of `txs` (with their `hashes`) that is not remembered as
/// verified; `None` for those that are. Checks run on up to `threads` threads.
pub(crate) fn check_all(
    sigs: &VerifiedSigs,
    txs: &[SignedTransaction],
    hashes: &[Hash],
    threads: usize,
) -> Vec<Option<Result<(), SignatureError>>> {
    let mut out: Vec<Option<Result<(), SignatureError>>> = vec![None; txs.len()];
    let todo: Vec<usize> = (0..txs.len()).filter(|&i| !sigs.take(&hashes[i])).collect();
    let checked = parallel_map(&todo, threads, |&i| txs[i].verify_signature());
    for (i, r) in todo.into_iter().zip(checked) {
        out[i] = Some(r);
    }
    out
}

/// `f` over `items`, in order, on up to `threads` threads (at most 16; on the calling thread
/// below [`PARALLEL_MIN`] items). A panic in `f` is a bug and is re-raised here, as it would be
/// on one thread.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, 16);
    if items.len() < PARALLEL_MIN || threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> =
            items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        parts.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}
