//! Signature checks off the execution path: a bounded memory of parsed sender keys, and the
//! parallel check of a block's signatures before it executes.
//!
//! Invariant: results never depend on this module. A remembered key is what `verifying_key`
//! returned for those exact address bytes, so checking with it is `verify_strict` itself minus
//! one point decompression. Parallel checks run `verify_strict` per signature, the same function
//! as the serial path, and their results are used in block order. Which transactions were
//! verified at admission is not remembered here: the node's mempool holds them as
//! [`crate::VerifiedTx`] values and says so to [`crate::Runtime::apply_block_verified`].
//!
//! Why not ed25519 batch verification: a batch that *passes* does not imply every signature
//! passes `verify_strict` (a signature whose `R` or key has a small torsion component can pass
//! the random linear combination with probability up to 1/2 while failing the single
//! cofactorless check), so two nodes could disagree. Only strict single checks decide here.

use std::{collections::BTreeMap, sync::Mutex};

use ed25519_dalek::VerifyingKey;
use weft_types::{
    Address, SignatureError, SignedTransaction,
    tx::{verify_strict_by, verifying_key},
};

/// Parsed sender keys remembered per generation (two generations: the most recent senders
/// and the ones before them; ~200 bytes each).
const KEYS_PER_GENERATION: usize = 1 << 13;

/// Below this many unchecked signatures a block is checked on the calling thread alone.
const PARALLEL_MIN: usize = 64;

/// Parsed keys by address (ordered maps: addresses are chosen by senders, so no hashing).
#[derive(Default)]
struct Keys {
    current: BTreeMap<Address, VerifyingKey>,
    old: BTreeMap<Address, VerifyingKey>,
}

/// The bounded memory of parsed sender keys. Lookups only; never iterated.
#[derive(Default)]
pub struct SenderKeys {
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for SenderKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderKeys").finish_non_exhaustive()
    }
}

impl SenderKeys {
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
}

impl Keys {
    fn insert(&mut self, sender: Address, key: VerifyingKey) {
        if self.current.len() >= KEYS_PER_GENERATION {
            self.old = std::mem::take(&mut self.current);
        }
        self.current.insert(sender, key);
    }
}

/// The signature result of each of `txs` not `verified` already; `None` for those that are.
/// Checks run through [`parallel_map`].
pub(crate) fn check_all(
    keys: &SenderKeys,
    txs: &[SignedTransaction],
    verified: &[bool],
) -> Vec<Option<Result<(), SignatureError>>> {
    let mut out: Vec<Option<Result<(), SignatureError>>> = vec![None; txs.len()];
    let todo: Vec<usize> = (0..txs.len()).filter(|&i| !verified.get(i).copied().unwrap_or(false)).collect();
    let checked = parallel_map(&todo, |&i| keys.verify(&txs[i]));
    for (i, r) in todo.into_iter().zip(checked) {
        out[i] = Some(r);
    }
    out
}

/// `f` over `items`, results in the order of `items`. Below [`PARALLEL_MIN`] items, or with
/// one thread, it runs on the calling thread; otherwise the items are cut into one chunk per
/// thread ([`threads`]), the calling thread takes the first and a scoped thread each other.
/// Each result depends only on its item, so the answer does not depend on the threads. A panic
/// in `f` is a bug and is re-raised here, as it would be on one thread.
///
/// Why not a pool of long-lived workers (rayon's, measured): on a 2-core machine its idle
/// workers spin between batches and take CPU from block production; the dev node's token
/// transfers fell from 21.9–23.6k to 20.3–21.2k tx/s (`docs/performance.md`). A spawn costs tens
/// of microseconds against milliseconds of signature checks per batch.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads();
    if items.len() < PARALLEL_MIN || threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let mut chunks = items.chunks(chunk);
        let first = chunks.next().unwrap_or_default();
        let others: Vec<_> =
            chunks.map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>())).collect();
        let mut out: Vec<R> = first.iter().map(f).collect();
        for handle in others {
            out.extend(handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        out
    })
}

thread_local! {
    /// A thread count set by [`with_threads`] for calls on this thread.
    static THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The threads [`parallel_map`] uses: the machine's cores (at most 16, read once), unless
/// [`with_threads`] set another count on this thread.
pub fn threads() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    THREADS.with(|t| t.get()).unwrap_or_else(|| {
        *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16))
    })
}

/// Runs `f` with [`parallel_map`] on `threads` threads (at least 1) on this thread: for
/// benchmarks and tests (the answers are the same).
pub fn with_threads<R>(threads: usize, f: impl FnOnce() -> R) -> R {
    let previous = THREADS.with(|t| t.replace(Some(threads.max(1))));
    let out = f();
    THREADS.with(|t| t.set(previous));
    out
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
        let sigs = SenderKeys::default();
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
    fn parallel_map_keeps_the_order_on_any_number_of_threads() {
        let items: Vec<u32> = (0..1_000).collect();
        let expected: Vec<u64> = items.iter().map(|&i| u64::from(i) * 3).collect();
        assert_eq!(parallel_map(&items, |&i| u64::from(i) * 3), expected);
        for threads in [1, 2, 3, 7, 16] {
            assert_eq!(with_threads(threads, || parallel_map(&items, |&i| u64::from(i) * 3)), expected);
        }
        assert_eq!(parallel_map(&items[..3], |&i| i), vec![0, 1, 2]);
    }

    #[test]
    fn remembered_keys_are_bounded() {
        let sigs = SenderKeys::default();
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
