//! Per-peer limits on gossip: a token bucket per propagation source, for what a peer may push
//! into the mempool (one token per transaction) and for the useless consensus traffic it may
//! cost this node (tokens per message or per byte, refunded for news). Pure bookkeeping with
//! the time passed in.

use std::{collections::HashMap, time::Instant};

use super::PeerId;

/// Default average rate of gossiped transactions accepted from one peer, per second.
pub const DEFAULT_GOSSIP_TX_RATE: u32 = 5_000;
/// Default burst of gossiped transactions accepted from one peer above the rate.
pub const DEFAULT_GOSSIP_TX_BURST: u32 = 20_000;
/// Most peers with a bucket; the least recently refilled is dropped to make room (a peer
/// dropped that way starts again with a full burst, which a peer cannot force: it needs
/// [`MAX_BUCKETS`] other peers to push transactions meanwhile).
pub const MAX_BUCKETS: usize = 1024;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per peer: each peer may spend `burst` tokens at once and `rate` per second on
/// average; the rest is refused and counted.
#[derive(Debug)]
pub struct GossipBudget {
    rate: f64,
    burst: f64,
    buckets: HashMap<PeerId, Bucket>,
    refused: u64,
}

impl GossipBudget {
    /// A budget of `rate` per second and `burst` at once per peer (each at least 1).
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
            refused: 0,
        }
    }

    /// Takes one token of `peer`'s bucket at `now`; false (and counted) when it is empty.
    pub fn allow(&mut self, peer: PeerId, now: Instant) -> bool {
        self.take(peer, now, 1.0)
    }

    /// Takes `cost` tokens of `peer`'s bucket at `now`; false (and counted) when it holds fewer.
    /// A cost above the burst is never allowed.
    pub fn take(&mut self, peer: PeerId, now: Instant, cost: f64) -> bool {
        if !self.buckets.contains_key(&peer)
            && self.buckets.len() >= MAX_BUCKETS
            && let Some(oldest) = self.buckets.iter().min_by_key(|(_, b)| b.at).map(|(p, _)| *p)
        {
            self.buckets.remove(&oldest);
        }
        let bucket = self.buckets.entry(peer).or_insert(Bucket { tokens: self.burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            true
        } else {
            self.refused = self.refused.saturating_add(1);
            false
        }
    }

    /// Gives `cost` tokens back to `peer` (up to the burst): what it spent on something useful.
    pub fn refund(&mut self, peer: PeerId, cost: f64) {
        if let Some(bucket) = self.buckets.get_mut(&peer) {
            bucket.tokens = (bucket.tokens + cost).min(self.burst);
        }
    }

    /// Takes refused so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_peer_gets_a_burst_then_the_rate() {
        let mut budget = GossipBudget::new(10, 5);
        let (a, b, t) = (PeerId::random(), PeerId::random(), Instant::now());
        assert_eq!((0..8).filter(|_| budget.allow(a, t)).count(), 5, "the burst");
        assert_eq!(budget.refused(), 3);
        assert!(budget.allow(b, t), "another peer has its own bucket");
        let later = t + Duration::from_millis(300);
        assert_eq!((0..8).filter(|_| budget.allow(a, later)).count(), 3, "10/s for 0.3 s");
        let much_later = t + Duration::from_secs(60);
        assert_eq!((0..8).filter(|_| budget.allow(a, much_later)).count(), 5, "refilled up to the burst");
    }

    #[test]
    fn costs_are_taken_and_refunded() {
        let mut budget = GossipBudget::new(1, 100);
        let (a, t) = (PeerId::random(), Instant::now());
        assert!(budget.take(a, t, 60.0));
        assert!(!budget.take(a, t, 60.0), "40 left");
        budget.refund(a, 60.0);
        assert!(budget.take(a, t, 100.0), "refunded up to the burst");
        assert!(!budget.take(a, t, 101.0));
        assert!(!budget.take(PeerId::random(), t, 101.0), "never above the burst");
    }

    #[test]
    fn buckets_are_bounded() {
        let mut budget = GossipBudget::new(1, 1);
        let t = Instant::now();
        for _ in 0..MAX_BUCKETS + 10 {
            budget.allow(PeerId::random(), t);
        }
        assert_eq!(budget.buckets.len(), MAX_BUCKETS);
    }
}
