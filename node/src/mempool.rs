//! The transaction pool: admitted transactions waiting for a block. Pure (no I/O, no clock):
//! callers pass in the sender's committed account; the pool keeps each sender's transactions in
//! nonce order, bounds itself by count, bytes, transactions per sender and how far ahead of the
//! account a nonce may be, and hands the block producer its best transactions first (highest gas
//! price, each sender's in nonce order).
//!
//! Maps are `BTreeMap`s so that the order of everything it returns is a function of its inputs.

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BinaryHeap},
};

use weft_types::{Account, Address, Amount, Hash};

/// Bounds of the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MempoolConfig {
    /// Transactions held at most.
    pub max_txs: usize,
    /// Encoded bytes held at most.
    pub max_bytes: usize,
    /// Transactions one sender may have waiting.
    pub max_per_sender: usize,
    /// How far past the account's nonce a transaction's nonce may be.
    pub max_nonce_gap: u64,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        Self { max_txs: 100_000, max_bytes: 256 << 20, max_per_sender: 1_024, max_nonce_gap: 1_024 }
    }
}

/// Why the pool refused a transaction. All are the submitter's to fix (or to retry later).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddError {
    /// The same transaction is already waiting.
    #[error("transaction {0} is already in the mempool")]
    AlreadyKnown(Hash),
    /// The nonce was used by a committed transaction.
    #[error("nonce too low: account has {account}, tx has {tx}")]
    NonceTooLow {
        /// The account's next nonce.
        account: u64,
        /// The transaction's.
        tx: u64,
    },
    /// The nonce is too far ahead of the account's.
    #[error("nonce too high: account has {account}, tx has {tx}; at most {max_gap} ahead is accepted")]
    NonceTooHigh {
        /// The account's next nonce.
        account: u64,
        /// The transaction's.
        tx: u64,
        /// The limit.
        max_gap: u64,
    },
    /// The sender cannot pay the transaction's maximum fee.
    #[error("insufficient balance for the fee: gas_limit × gas_price = {needed}, balance {available}")]
    InsufficientBalance {
        /// Maximum fee.
        needed: Amount,
        /// Sender's balance.
        available: Amount,
    },
    /// Another transaction with this nonce waits with a gas price at least as high.
    #[error(
        "a transaction with nonce {nonce} is already waiting at gas price {existing}; replace it with a higher price"
    )]
    ReplacementUnderpriced {
        /// The nonce.
        nonce: u64,
        /// The waiting transaction's gas price.
        existing: Amount,
    },
    /// The sender has too many transactions waiting.
    #[error("sender has {max} transactions waiting, the most the mempool holds per sender")]
    SenderFull {
        /// The limit.
        max: usize,
    },
    /// The pool is full and holds nothing cheaper to evict.
    #[error("mempool full ({txs} transactions, {bytes} bytes) and nothing cheaper to evict")]
    PoolFull {
        /// Transactions held.
        txs: usize,
        /// Bytes held.
        bytes: usize,
    },
}

/// A waiting transaction: verified at admission (its hash, length and signature check travel
/// with it into the block).
pub type PoolTx = weft_runtime::VerifiedTx;

/// What an accepted transaction displaced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// The transaction with the same sender and nonce it replaced.
    pub replaced: Option<Hash>,
    /// Transactions evicted to make room.
    pub evicted: Vec<Hash>,
}

/// The pool.
#[derive(Debug, Default)]
pub struct Mempool {
    config: MempoolConfig,
    by_hash: BTreeMap<Hash, PoolTx>,
    by_sender: BTreeMap<Address, BTreeMap<u64, Hash>>,
    bytes: usize,
}

impl Mempool {
    /// An empty pool.
    pub fn new(config: MempoolConfig) -> Self {
        Self { config, ..Self::default() }
    }

    /// Transactions waiting.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Encoded bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The senders with transactions waiting, in address order.
    pub fn senders(&self) -> Vec<Address> {
        self.by_sender.keys().copied().collect()
    }

    /// A waiting transaction.
    pub fn get(&self, hash: &Hash) -> Option<&PoolTx> {
        self.by_hash.get(hash)
    }

    /// The next nonce `sender` should use given its committed `account_nonce`: one past the
    /// end of its consecutive waiting transactions.
    pub fn next_nonce(&self, sender: &Address, account_nonce: u64) -> u64 {
        let mut next = account_nonce;
        if let Some(queue) = self.by_sender.get(sender) {
            for nonce in queue.range(account_nonce..).map(|(n, _)| *n) {
                if nonce != next {
                    break;
                }
                next += 1;
            }
        }
        next
    }

    /// Admits `tx` (already checked statelessly: size, chain id, gas, signature) given its
    /// sender's committed `account`.
    pub fn add(&mut self, tx: PoolTx, account: &Account) -> Result<Added, AddError> {
        let t = &tx.signed().tx;
        if self.by_hash.contains_key(&tx.hash()) {
            return Err(AddError::AlreadyKnown(tx.hash()));
        }
        if t.nonce < account.nonce {
            return Err(AddError::NonceTooLow { account: account.nonce, tx: t.nonce });
        }
        let max_gap = self.config.max_nonce_gap;
        if t.nonce - account.nonce > max_gap {
            return Err(AddError::NonceTooHigh { account: account.nonce, tx: t.nonce, max_gap });
        }
        let needed = Amount::from(t.gas_limit).saturating_mul(t.gas_price);
        if account.balance < needed {
            return Err(AddError::InsufficientBalance { needed, available: account.balance });
        }
        let (sender, nonce, price) = (t.sender, t.nonce, t.gas_price);
        let mut added = Added::default();
        let existing = self.by_sender.get(&sender).and_then(|q| q.get(&nonce)).copied();
        if let Some(old) = existing {
            let old_price = self.by_hash.get(&old).map_or(0, |p| p.signed().tx.gas_price);
            if price <= old_price {
                return Err(AddError::ReplacementUnderpriced { nonce, existing: old_price });
            }
            self.remove(&old);
            added.replaced = Some(old);
        } else if self.by_sender.get(&sender).map_or(0, BTreeMap::len) >= self.config.max_per_sender {
            return Err(AddError::SenderFull { max: self.config.max_per_sender });
        }
        while self.by_hash.len() >= self.config.max_txs || self.bytes + tx.len() > self.config.max_bytes {
            match self.cheapest_tail(price) {
                Some(victim) => {
                    self.remove(&victim);
                    added.evicted.push(victim);
                }
                None => return Err(AddError::PoolFull { txs: self.by_hash.len(), bytes: self.bytes }),
            }
        }
        self.bytes += tx.len();
        self.by_sender.entry(sender).or_default().insert(nonce, tx.hash());
        self.by_hash.insert(tx.hash(), tx);
        Ok(added)
    }

    /// The lowest-priced last transaction of any sender priced below `price` (evicting a
    /// sender's last transaction never leaves a nonce gap behind).
    fn cheapest_tail(&self, price: Amount) -> Option<Hash> {
        self.by_sender
            .values()
            .filter_map(|q| q.values().next_back())
            .filter_map(|h| self.by_hash.get(h).map(|p| (p.signed().tx.gas_price, *h)))
            .filter(|(p, _)| *p < price)
            .min()
            .map(|(_, h)| h)
    }

    /// Removes a transaction; returns it.
    pub fn remove(&mut self, hash: &Hash) -> Option<PoolTx> {
        let tx = self.by_hash.remove(hash)?;
        self.bytes -= tx.len();
        let sender = tx.signed().tx.sender;
        if let Some(queue) = self.by_sender.get_mut(&sender) {
            queue.remove(&tx.signed().tx.nonce);
            if queue.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        Some(tx)
    }

    /// Up to `max` transactions for a block, best first: a merge of the senders' queues by gas
    /// price, each sender's in nonce order starting at its committed nonce (`nonce_of`) and
    /// without gaps. Equal prices go round-robin (every sender's first transaction, then every
    /// sender's second, …; within a round, lower sender address first), so that under load no
    /// sender waits behind another's long queue.
    pub fn select(&self, max: usize, mut nonce_of: impl FnMut(&Address) -> u64) -> Vec<PoolTx> {
        // (price, earlier round first, lower address first, nonce, round)
        let mut heap = BinaryHeap::new();
        for (sender, queue) in &self.by_sender {
            let start = nonce_of(sender);
            if let Some(hash) = queue.get(&start) {
                let price = self.by_hash.get(hash).map_or(0, |p| p.signed().tx.gas_price);
                heap.push((price, Reverse(0u64), Reverse(*sender), start));
            }
        }
        let mut out = Vec::new();
        while out.len() < max {
            let Some((_, Reverse(round), Reverse(sender), nonce)) = heap.pop() else { break };
            let Some(queue) = self.by_sender.get(&sender) else { continue };
            let Some(tx) = queue.get(&nonce).and_then(|h| self.by_hash.get(h)) else { continue };
            out.push(tx.clone());
            if let Some(next) = queue.get(&(nonce + 1)).and_then(|h| self.by_hash.get(h)) {
                heap.push((next.signed().tx.gas_price, Reverse(round + 1), Reverse(sender), nonce + 1));
            }
        }
        out
    }

    /// After a block: drops every transaction whose nonce is below its sender's committed nonce
    /// (`nonce_of`), i.e. included or made obsolete. Returns the hashes dropped.
    pub fn prune(&mut self, mut nonce_of: impl FnMut(&Address) -> u64) -> Vec<Hash> {
        let mut stale = Vec::new();
        for (sender, queue) in &self.by_sender {
            let nonce = nonce_of(sender);
            stale.extend(queue.range(..nonce).map(|(_, h)| *h));
        }
        for hash in &stale {
            self.remove(hash);
        }
        stale
    }

    /// Removes everything; returns the hashes.
    pub fn clear(&mut self) -> Vec<Hash> {
        let hashes = self.by_hash.keys().copied().collect();
        *self = Self::new(self.config);
        hashes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_scale_codec::Encode;
    use weft_types::{
        Transaction,
        dev::dev_key,
        tx::{Action, address_of},
    };

    fn tx(who: &str, nonce: u64, price: Amount) -> PoolTx {
        tx_of(who, nonce, price, 1)
    }

    /// Admits transactions as the node does (the pool holds only verified ones): chain 1, any
    /// gas price.
    fn runtime() -> &'static weft_runtime::Runtime {
        static RUNTIME: std::sync::OnceLock<weft_runtime::Runtime> = std::sync::OnceLock::new();
        RUNTIME.get_or_init(|| weft_runtime::Runtime::new(1, 0).unwrap())
    }

    fn tx_of(who: &str, nonce: u64, price: Amount, amount: Amount) -> PoolTx {
        let key = dev_key(who);
        let signed = Transaction {
            chain_id: 1,
            sender: address_of(&key),
            nonce,
            gas_limit: 100_000,
            gas_price: price,
            action: Action::Transfer { to: Address([1; 32]), amount },
        }
        .sign(&key);
        runtime().admit(&signed.encode()).unwrap()
    }

    fn rich(nonce: u64) -> Account {
        Account { balance: u128::MAX / 2, nonce, ..Account::default() }
    }

    #[test]
    fn admission_refusals_say_why() {
        let mut pool = Mempool::new(MempoolConfig { max_nonce_gap: 4, ..MempoolConfig::default() });
        let t = tx("alice", 3, 1);
        assert_eq!(pool.add(t.clone(), &rich(3)), Ok(Added::default()));
        assert_eq!(pool.add(t.clone(), &rich(3)), Err(AddError::AlreadyKnown(t.hash())));
        assert_eq!(pool.add(tx("alice", 2, 1), &rich(3)), Err(AddError::NonceTooLow { account: 3, tx: 2 }));
        let err = pool.add(tx("alice", 8, 1), &rich(3)).unwrap_err();
        assert_eq!(err.to_string(), "nonce too high: account has 3, tx has 8; at most 4 ahead is accepted");
        let poor = Account { balance: 10, ..Account::default() };
        assert_eq!(
            pool.add(tx("bob", 0, 1), &poor),
            Err(AddError::InsufficientBalance { needed: 100_000, available: 10 })
        );
        assert_eq!(
            pool.add(tx_of("alice", 3, 1, 2), &rich(3)),
            Err(AddError::ReplacementUnderpriced { nonce: 3, existing: 1 })
        );
        let replaced = pool.add(tx("alice", 3, 2), &rich(3)).unwrap();
        assert_eq!(replaced.replaced, Some(t.hash()));
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn select_orders_by_price_and_keeps_nonce_order() {
        let mut pool = Mempool::default();
        for n in 0..3 {
            pool.add(tx("alice", n, 1), &rich(0)).unwrap();
        }
        pool.add(tx("bob", 0, 5), &rich(0)).unwrap();
        pool.add(tx("bob", 1, 5), &rich(0)).unwrap();
        pool.add(tx("bob", 3, 9), &rich(0)).unwrap(); // gap: not selectable
        let picked: Vec<(Address, u64)> =
            pool.select(10, |_| 0).iter().map(|p| (p.signed().tx.sender, p.signed().tx.nonce)).collect();
        let (a, b) = (weft_types::dev::dev_address("alice"), weft_types::dev::dev_address("bob"));
        assert_eq!(picked, vec![(b, 0), (b, 1), (a, 0), (a, 1), (a, 2)]);
        assert_eq!(pool.select(2, |_| 0).len(), 2);
        assert_eq!(pool.next_nonce(&a, 0), 3);
        assert_eq!(pool.next_nonce(&b, 0), 2);
    }

    #[test]
    fn equal_prices_are_served_round_robin() {
        let mut pool = Mempool::default();
        for n in 0..3 {
            pool.add(tx("alice", n, 1), &rich(0)).unwrap();
            pool.add(tx("bob", n, 1), &rich(0)).unwrap();
        }
        let (a, b) = (weft_types::dev::dev_address("alice"), weft_types::dev::dev_address("bob"));
        let (first, second) = if a < b { (a, b) } else { (b, a) };
        let picked: Vec<(Address, u64)> =
            pool.select(4, |_| 0).iter().map(|p| (p.signed().tx.sender, p.signed().tx.nonce)).collect();
        assert_eq!(picked, vec![(first, 0), (second, 0), (first, 1), (second, 1)]);
    }

    #[test]
    fn prune_drops_used_nonces_and_bounds_evict_the_cheapest() {
        let mut pool = Mempool::new(MempoolConfig { max_txs: 3, ..MempoolConfig::default() });
        pool.add(tx("alice", 0, 1), &rich(0)).unwrap();
        pool.add(tx("alice", 1, 1), &rich(0)).unwrap();
        pool.add(tx("bob", 0, 3), &rich(0)).unwrap();
        // Full: a richer tx evicts alice's last (cheapest tail), a cheap one is refused.
        let added = pool.add(tx("carol", 0, 5), &rich(0)).unwrap();
        assert_eq!(added.evicted, vec![tx("alice", 1, 1).hash()]);
        assert!(matches!(pool.add(tx("dave", 0, 1), &rich(0)), Err(AddError::PoolFull { txs: 3, .. })));
        let a = weft_types::dev::dev_address("alice");
        let dropped = pool.prune(|s| if *s == a { 1 } else { 0 });
        assert_eq!(dropped, vec![tx("alice", 0, 1).hash()]);
        assert_eq!(pool.len(), 2);
        let bytes = pool.bytes();
        assert!(bytes > 0);
        assert_eq!(pool.clear().len(), 2);
        assert_eq!(pool.bytes(), 0);
    }
}
