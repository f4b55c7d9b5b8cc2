//! Signature checks off the execution path: a bounded memory of transactions whose signature
//! already passed the protocol rule (filled at mempool admission), a bounded memory of parsed
//! sender keys, and the parallel check of a whole block's signatures before it executes.
//!
//! Invariant: results never depend on this module. A transaction is remembered under its hash,
//! SHA3-256 of its full encoding (signature included), only after `verify_strict` accepted
//! exactly those bytes; a hit therefore stands for the same check with the same answer, and a
//! miss (never seen, evicted, or already used) falls back to checking it. Parallel checks run
//! `verify_strict` per signature, the same function as the serial path, and their results are
//! used in block order. A remembered key is what `verifying_key` returned for those exact
//! address bytes, so checking with it is `verify_strict` itself minus one point decompression.
//!
//! Why not ed25519 batch verification: a batch that *passes* does not imply every signature
//! passes `verify_strict` (a signature whose `R` or key has a small torsion component can pass
//! the random linear combination with probability up to 1/2 while failing the single
//! cofactorless check), so two nodes could disagree. Only strict single checks decide here.

use std::{
    collections::{BTreeMap, HashSet, VecDeque},
    hash::{BuildHasherDefault, Hasher},
    sync::Mutex,
};

use ed25519_dalek::VerifyingKey;
use weft_types::{
    Address, Hash, SignatureError, SignedTransaction,
    tx::{verify_strict_by, verifying_key},
};

/// Transactions remembered as verified at most (beyond the default mempool bound of 100,000,
/// so that everything admitted is still remembered when it reaches a block).
pub const VERIFIED_CAPACITY: usize = 1 << 18;

/// Parsed sender keys remembered per generation (two generations: the most recent senders
/// and the ones before them; ~200 bytes each).
const KEYS_PER_GENERATION: usize = 1 << 13;

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

/// Parsed keys by address (ordered maps: addresses are chosen by senders, so no hashing).
#[derive(Default)]
struct Keys {
    current: BTreeMap<Address, VerifyingKey>,
    old: BTreeMap<Address, VerifyingKey>,
}

/// The bounded memory of verified transaction hashes and of parsed sender keys. Membership
/// only; never iterated.
#[derive(Default)]
pub struct VerifiedSigs {
    inner: Mutex<Inner>,
    keys: Mutex<Keys>,
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

    /// The protocol's signature check of `signed` ([`SignedTransaction::verify_signature`]),
    /// with its sender's key parsed once and remembered.
    pub(crate) fn verify(&self, signed: &SignedTransaction) -> Result<(), SignatureError> {
        let key = self.key(&signed.tx.sender)?;
        verify_strict_by(&key, &signed.tx.signing_payload(), &signed.signature)
    }

    fn key(&self, sender: &Address) -> Result<VerifyingKey, SignatureError> {
        let lock = || self.keys.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut keys = lock();
            if let Some(key) = keys.current.get(sender) {
                return Ok(*key);
            }
            if let Some(key) = keys.old.remove(sender) {
                keys.insert(*sender, key);
                return Ok(key);
            }
        }
        // Parsed outside the lock (a point decompression); a key that does not parse is not
        // remembered and fails again the same way.
        let key = verifying_key(sender)?;
        lock().insert(*sender, key);
        Ok(key)
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

impl Keys {
    fn insert(&mut self, sender: Address, key: VerifyingKey) {
        if self.current.len() >= KEYS_PER_GENERATION {
            self.old = std::mem::take(&mut self.current);
        }
        self.current.insert(sender, key);
    }
}

/// The signature result of each of `txs` (with their `hashes`) that is not remembered as
/// verified; `None` for those that are. Checks run through [`parallel_map`].
pub(crate) fn check_all(
    sigs: &VerifiedSigs,
    txs: &[SignedTransaction],
    hashes: &[Hash],
) -> Vec<Option<Result<(), SignatureError>>> {
    let mut out: Vec<Option<Result<(), SignatureError>>> = vec![None; txs.len()];
    let todo: Vec<usize> = (0..txs.len()).filter(|&i| !sigs.take(&hashes[i])).collect();
    let checked = parallel_map(&todo, |&i| sigs.verify(&txs[i]));
    for (i, r) in todo.into_iter().zip(checked) {
        out[i] = Some(r);
    }
    out
}

/// `f` over `items`, results in the order of `items`. Below [`PARALLEL_MIN`] items it runs on
/// the calling thread; otherwise on the current rayon pool: the process's global pool, built
/// once on first use with one thread per core (`RAYON_NUM_THREADS` overrides), or the pool of
/// an enclosing [`rayon::ThreadPool::install`]. Each result depends only on its item, so the
/// answer does not depend on the pool. A panic in `f` is a bug and is re-raised here, as it
/// would be on one thread.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < PARALLEL_MIN || rayon::current_num_threads() == 1 {
        return items.iter().map(f).collect();
    }
    use rayon::prelude::*;
    // Shared by reference: `f` need only be `Sync`, as each worker calls it through `&f`.
    items.par_iter().map(&f).collect()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use weft_types::{Action, Transaction, address::Address, tx::Signature};

    use super::*;

    fn signed(seed: u8, nonce: u64) -> SignedTransaction {
        let key = SigningKey::from_bytes(&[seed; 32]);
        Transaction {
            chain_id: 7,
            sender: weft_types::tx::address_of(&key),
            nonce,
            gas_limit: 30_000,
            gas_price: 1,
            action: Action::Transfer { to: Address([9; 32]), amount: 5 },
        }
        .sign(&key)
    }

    #[test]
    fn remembered_keys_give_the_protocol_rules_answers() {
        let sigs = VerifiedSigs::default();
        let good = signed(1, 0);
        let mut forged = signed(1, 1);
        forged.signature.0[0] ^= 1;
        let mut other_sender = signed(2, 0);
        other_sender.tx.sender = good.tx.sender;
        // Not a curve point: y = 2 has no x on the curve.
        let mut bad_key = signed(3, 0);
        bad_key.tx.sender = Address({
            let mut b = [0; 32];
            b[0] = 2;
            b
        });
        // A small-order key (the identity), refused by verify_strict.
        let mut small = signed(4, 0);
        small.tx.sender = Address({
            let mut b = [0; 32];
            b[0] = 1;
            b
        });
        small.signature = Signature([0; 64]);
        for round in 0..2 {
            for tx in [&good, &forged, &other_sender, &bad_key, &small] {
                assert_eq!(sigs.verify(tx), tx.verify_signature(), "round {round}: {:?}", tx.tx.sender);
            }
        }
        assert!(sigs.verify(&good).is_ok());
        assert!(matches!(sigs.verify(&bad_key), Err(SignatureError::BadPublicKey(_))));
        assert!(matches!(sigs.verify(&small), Err(SignatureError::Invalid(_))));
    }

    #[test]
    fn parallel_map_keeps_the_order_on_any_pool() {
        let items: Vec<u32> = (0..1_000).collect();
        let expected: Vec<u64> = items.iter().map(|&i| u64::from(i) * 3).collect();
        assert_eq!(parallel_map(&items, |&i| u64::from(i) * 3), expected);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a pool");
        assert_eq!(one.install(|| parallel_map(&items, |&i| u64::from(i) * 3)), expected);
        assert_eq!(parallel_map(&items[..3], |&i| i), vec![0, 1, 2]);
    }

    #[test]
    fn remembered_keys_are_bounded() {
        let sigs = VerifiedSigs::default();
        let key = verifying_key(&signed(1, 0).tx.sender).expect("a valid key");
        for i in 0..(3 * KEYS_PER_GENERATION) as u32 {
            let mut address = [0; 32];
            address[..4].copy_from_slice(&i.to_le_bytes());
            sigs.keys.lock().expect("not poisoned").insert(Address(address), key);
        }
        let keys = sigs.keys.lock().expect("not poisoned");
        assert!(keys.current.len() + keys.old.len() <= 2 * KEYS_PER_GENERATION);
    }
}
