//! Transaction admission: the mempool behind its checks (decoding, the runtime's stateless
//! rules with the signature, the sender's committed account), and an optional bounded outbox of
//! what was admitted over RPC, which a validator drains to gossip. The pool is reached only
//! through this handle's methods, each holding its lock for one step.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use weft_runtime::{AdmitError, TxError, sigs::parallel_map};
use weft_types::{Account, Address, Hash};

use crate::{
    events::{ChainEvent, ChainEvents},
    ledger::{ChainError, Ledger, account_in},
    mempool::{AddError, Mempool, MempoolConfig, PoolTx},
};

/// Why a submitted transaction was refused: always the submitter's fault, except `Node`.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The bytes do not decode.
    #[error("transaction does not decode: {0}")]
    Decode(String),
    /// A stateless check failed.
    #[error(transparent)]
    Invalid(#[from] TxError),
    /// The mempool refused it.
    #[error(transparent)]
    Pool(#[from] AddError),
    /// The node failed.
    #[error("node error: {0}")]
    Node(String),
}

impl From<ChainError> for SubmitError {
    fn from(e: ChainError) -> Self {
        SubmitError::Node(e.to_string())
    }
}

/// Admission into the mempool.
#[derive(Debug)]
pub struct Admission {
    ledger: Arc<Ledger>,
    pool: Mutex<Mempool>,
    events: ChainEvents,
    outbox: Option<OutboxSender>,
}

impl Admission {
    /// Admission over `ledger` into a pool bounded by `config`, announcing dropped transactions
    /// on `events`; what RPC admits goes to `outbox` too, when given.
    pub fn new(
        ledger: Arc<Ledger>,
        config: MempoolConfig,
        events: ChainEvents,
        outbox: Option<OutboxSender>,
    ) -> Self {
        Self { ledger, pool: Mutex::new(Mempool::new(config)), events, outbox }
    }

    fn pool(&self) -> MutexGuard<'_, Mempool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decodes, checks and admits transaction bytes submitted over RPC; returns the hash.
    /// Admitted bytes also go to the outbox.
    pub fn submit(&self, bytes: &[u8]) -> Result<Hash, SubmitError> {
        one(self.submit_many(&[bytes]))
    }

    /// [`Admission::submit`] of many transactions, with the same answers in order, cheaper:
    /// the stateless checks (signatures) of a large batch run on every core, the accounts are
    /// read from one state snapshot, and the mempool is locked once.
    pub fn submit_many<B: AsRef<[u8]> + Sync>(&self, txs: &[B]) -> Vec<Result<Hash, SubmitError>> {
        let results = self.admit_many(txs);
        if let Some(outbox) = &self.outbox {
            outbox.send(txs.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(b, _)| b.as_ref()));
        }
        results
    }

    /// Admits transactions received from peers (not put in the outbox), with the same answers
    /// in order, as cheap as [`Admission::submit_many`].
    pub fn admit_many<B: AsRef<[u8]> + Sync>(&self, txs: &[B]) -> Vec<Result<Hash, SubmitError>> {
        let checked = parallel_map(txs, |bytes| self.check_bytes(bytes.as_ref()));
        let state = match self.ledger.store().state() {
            Ok(state) => state,
            Err(e) => {
                let e = ChainError::from(e).to_string();
                return txs.iter().map(|_| Err(SubmitError::Node(e.clone()))).collect();
            }
        };
        let accounts: Vec<_> = checked
            .iter()
            .map(|c| c.as_ref().ok().map(|tx| account_in(&state, &tx.signed().tx.sender)))
            .collect();
        drop(state);
        let mut results = Vec::with_capacity(txs.len());
        let mut dropped = Vec::new();
        {
            let mut pool = self.pool();
            for (c, account) in checked.into_iter().zip(accounts) {
                let result = c.and_then(|tx| {
                    let account = account
                        .unwrap_or_else(|| Ok(Account::default()))
                        .map_err(|e| SubmitError::Node(format!("state: {e}")))?;
                    let hash = tx.hash();
                    let added = pool.add(tx, &account)?;
                    dropped.extend(added.replaced.map(|h| (h, "replaced by a higher-priced transaction")));
                    dropped.extend(added.evicted.into_iter().map(|h| (h, "evicted: the mempool is full")));
                    Ok(hash)
                });
                results.push(result);
            }
        }
        for (hash, reason) in dropped {
            self.events.publish(ChainEvent::Dropped { hash, reason: reason.into() });
        }
        results
    }

    /// The checks of admission that need no state: decoding and the stateless rules (the
    /// signature among them); what passes travels on as a verified value.
    fn check_bytes(&self, bytes: &[u8]) -> Result<PoolTx, SubmitError> {
        self.ledger.runtime().admit(bytes).map_err(|e| match e {
            AdmitError::Decode(e) => SubmitError::Decode(e.to_string()),
            AdmitError::Invalid(e) => SubmitError::Invalid(e),
        })
    }

    /// A waiting transaction.
    pub fn get(&self, hash: &Hash) -> Option<PoolTx> {
        self.pool().get(hash).cloned()
    }

    /// For each of `hashes`, whether that transaction waits here (and so was verified). One
    /// lock for the lot: `hashes` are a block's, at most `MAX_BLOCK_TXS` map lookups.
    pub fn contains_each(&self, hashes: &[Hash]) -> Vec<bool> {
        let pool = self.pool();
        hashes.iter().map(|h| pool.get(h).is_some()).collect()
    }

    /// The next nonce `sender` should use given its committed `account_nonce` (past its
    /// consecutive waiting transactions).
    pub fn next_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        self.pool().next_nonce(sender, account_nonce)
    }

    /// Transactions waiting, and their encoded bytes.
    pub fn size(&self) -> (usize, usize) {
        let pool = self.pool();
        (pool.len(), pool.bytes())
    }

    /// Whether no transaction waits.
    pub fn is_empty(&self) -> bool {
        self.pool().is_empty()
    }

    /// The senders with transactions waiting, in address order.
    pub fn senders(&self) -> Vec<Address> {
        self.pool().senders()
    }

    /// Up to `max` transactions for a block, best first ([`Mempool::select`]).
    pub fn select(&self, max: usize, nonce_of: impl FnMut(&Address) -> u64) -> Vec<PoolTx> {
        self.pool().select(max, nonce_of)
    }

    /// After a commit: removes `included` and every transaction its sender's committed nonce
    /// (`nonce_of`) made stale; returns the stale ones.
    pub fn remove_committed<'a>(
        &self,
        included: impl IntoIterator<Item = &'a Hash>,
        nonce_of: impl FnMut(&Address) -> u64,
    ) -> Vec<Hash> {
        let mut pool = self.pool();
        for hash in included {
            pool.remove(hash);
        }
        pool.prune(nonce_of)
    }

    /// Removes everything (`dev_revert`); returns the hashes.
    pub fn clear(&self) -> Vec<Hash> {
        self.pool().clear()
    }
}

/// The only answer of a batch of one.
fn one(results: Vec<Result<Hash, SubmitError>>) -> Result<Hash, SubmitError> {
    results.into_iter().next().unwrap_or_else(|| Err(SubmitError::Node("no answer for a transaction".into())))
}

/// Most transactions waiting in the outbox (a few seconds of load at the rates measured).
pub const OUTBOX_MAX_TXS: usize = 65_536;
/// Most bytes of transactions waiting in the outbox.
pub const OUTBOX_MAX_BYTES: usize = 64 << 20;
/// Least time between two warnings about transactions the full outbox refused.
const OUTBOX_LOG_INTERVAL: Duration = Duration::from_secs(1);

/// A bounded channel of admitted transactions to gossip, bounded by count and by bytes (a
/// tokio channel bounds only the count; transactions are up to 300 KiB). What does not fit is
/// not gossiped (it stays in the mempool, and is included when this node leads) and is counted
/// in a warning.
pub fn outbox(max_txs: usize, max_bytes: usize) -> (OutboxSender, OutboxReceiver) {
    let shared =
        Arc::new(Outbox { queue: Mutex::default(), ready: tokio::sync::Notify::new(), max_txs, max_bytes });
    (OutboxSender(shared.clone()), OutboxReceiver(shared))
}

#[derive(Debug)]
struct Outbox {
    queue: Mutex<OutboxQueue>,
    /// Woken when transactions are added (a permit is kept when nobody waits).
    ready: tokio::sync::Notify,
    max_txs: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct OutboxQueue {
    txs: VecDeque<Vec<u8>>,
    /// Sum of the lengths in `txs`.
    bytes: usize,
    /// Refused since the last warning.
    dropped: u64,
    logged: Option<Instant>,
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, OutboxQueue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The admitting end of [`outbox`].
#[derive(Debug, Clone)]
pub struct OutboxSender(Arc<Outbox>);

impl OutboxSender {
    /// Puts admitted transactions in the outbox, in order, as far as they fit.
    fn send<'a>(&self, txs: impl IntoIterator<Item = &'a [u8]>) {
        let outbox = &self.0;
        let mut added = false;
        let mut dropped = 0u64;
        {
            let mut queue = outbox.lock();
            for bytes in txs {
                if queue.txs.len() >= outbox.max_txs || queue.bytes + bytes.len() > outbox.max_bytes {
                    dropped += 1;
                    continue;
                }
                queue.bytes += bytes.len();
                queue.txs.push_back(bytes.to_vec());
                added = true;
            }
            if dropped > 0 {
                queue.dropped = queue.dropped.saturating_add(dropped);
                let now = Instant::now();
                if queue.logged.is_none_or(|t| now.saturating_duration_since(t) >= OUTBOX_LOG_INTERVAL) {
                    tracing::warn!(
                        dropped = queue.dropped,
                        waiting = queue.txs.len(),
                        max_txs = outbox.max_txs,
                        max_bytes = outbox.max_bytes,
                        "gossip outbox full: admitted transactions not gossiped (they stay in this \
                         node's mempool)"
                    );
                    queue.logged = Some(now);
                    queue.dropped = 0;
                }
            }
        }
        if added {
            outbox.ready.notify_one();
        }
    }
}

/// The gossiping end of [`outbox`].
#[derive(Debug)]
pub struct OutboxReceiver(Arc<Outbox>);

impl OutboxReceiver {
    /// Waits until the outbox holds transactions (returns at once if it did since the last
    /// wait).
    pub async fn ready(&self) {
        self.0.ready.notified().await
    }

    /// Takes up to `max` of the oldest transactions waiting, in the order they were admitted.
    /// When more remain, the next [`OutboxReceiver::ready`] returns at once.
    pub fn take(&self, max: usize) -> Vec<Vec<u8>> {
        let mut queue = self.0.lock();
        let n = queue.txs.len().min(max);
        let taken: Vec<Vec<u8>> = queue.txs.drain(..n).collect();
        queue.bytes -= taken.iter().map(Vec::len).sum::<usize>();
        if !queue.txs.is_empty() {
            self.0.ready.notify_one();
        }
        taken
    }
}

#[cfg(test)]
mod tests {
    use parity_scale_codec::Encode;
    use weft_runtime::{Genesis, Runtime};
    use weft_types::{
        Transaction,
        dev::{dev_address, dev_key},
        tx::{Action, address_of},
    };

    use super::*;
    use crate::store::Store;

    const CHAIN_ID: u64 = 5;

    fn ledger(dir: &std::path::Path) -> Arc<Ledger> {
        let store = Store::open(&dir.join("chain.redb")).unwrap();
        let runtime = Runtime::new(CHAIN_ID, 1).unwrap();
        let genesis =
            Genesis { timestamp_ms: 1, balances: vec![(dev_address("alice"), 1 << 40)], validators: None };
        let out = runtime.genesis(Arc::new(store.state().unwrap()), &genesis).unwrap();
        store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
        Arc::new(Ledger::new(store, runtime))
    }

    fn admission(ledger: &Arc<Ledger>, outbox: Option<OutboxSender>) -> Admission {
        Admission::new(ledger.clone(), MempoolConfig::default(), ChainEvents::default(), outbox)
    }

    fn transfer(nonce: u64) -> Vec<u8> {
        let key = dev_key("alice");
        let action = Action::Transfer { to: dev_address("bob"), amount: 1 };
        Transaction {
            chain_id: CHAIN_ID,
            sender: address_of(&key),
            nonce,
            gas_limit: 1_000_000,
            gas_price: 1,
            action,
        }
        .sign(&key)
        .encode()
    }

    #[test]
    fn the_outbox_keeps_what_rpc_admitted_in_order_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger(dir.path());
        let txs: Vec<Vec<u8>> = (0..6).map(transfer).collect();
        // Without an outbox nothing is kept (and admission works).
        assert!(admission(&ledger, None).submit(&txs[0]).is_ok());
        let (sender, outbox) = outbox(3, 1 << 20);
        let chain = admission(&ledger, Some(sender));
        assert!(chain.submit(&txs[0]).is_ok());
        assert_eq!(outbox.take(10), vec![txs[0].clone()]);

        // Only admitted transactions, in order; a refused one (garbage) is not kept.
        let batch = [txs[1].clone(), vec![1, 2, 3], txs[2].clone()];
        let results = chain.submit_many(&batch);
        assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
        // What peers sent is not gossiped back.
        assert!(chain.admit_many(&[&txs[3]])[0].is_ok());
        assert_eq!(outbox.take(1), vec![txs[1].clone()]);
        assert_eq!(outbox.take(10), vec![txs[2].clone()]);
        assert!(outbox.take(10).is_empty());

        // Beyond `max_txs` the newest are refused (still admitted to the mempool).
        assert!(chain.submit(&txs[4]).is_ok());
        let results = chain.submit_many(&[&txs[5], &transfer(6), &transfer(7)]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(outbox.take(10), vec![txs[4].clone(), txs[5].clone(), transfer(6)]);
        assert!(chain.get(&weft_types::sha3_256(&transfer(7))).is_some());

        // The byte bound too.
        let (sender, outbox) = super::outbox(100, txs[0].len() * 2);
        let chain = admission(&ledger, Some(sender));
        let results = chain.submit_many(&[&transfer(8), &transfer(9), &transfer(10)]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(outbox.take(10).len(), 2);
    }

    #[tokio::test]
    async fn the_outbox_wakes_its_reader_while_transactions_remain() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = ledger(dir.path());
        let (sender, outbox) = outbox(OUTBOX_MAX_TXS, OUTBOX_MAX_BYTES);
        let chain = admission(&ledger, Some(sender));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            while got.len() < 4 {
                outbox.ready().await;
                got.extend(outbox.take(1));
            }
            got
        });
        let txs: Vec<Vec<u8>> = (0..4).map(transfer).collect();
        assert!(chain.submit_many(&txs).iter().all(Result::is_ok));
        assert_eq!(reader.await.unwrap(), txs);
    }
}
