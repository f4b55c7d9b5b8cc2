//! The peer book: connected peers, known peers to redial with backoff, and bans. Pure
//! bookkeeping with the time passed in; the swarm task acts on what it returns.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use super::{Multiaddr, PeerId};

/// A non-bootnode known peer is forgotten after this many failed redials in a row.
pub const MAX_REDIAL_FAILURES: u32 = 10;
/// Most addresses kept per known peer.
pub(crate) const MAX_ADDRS_PER_PEER: usize = 8;
/// Most bans kept at once (the one ending first is dropped to make room).
const MAX_BANS: usize = 1024;
/// A connection that closes sooner than this counts as a failed dial (a peer that accepts and
/// drops us at once, e.g. because it banned us, is not redialled in a tight loop).
const MIN_STABLE_CONNECTION: Duration = Duration::from_secs(5);

/// A connected peer.
#[derive(Clone, Debug)]
pub(crate) struct Connected {
    pub(crate) addr: Multiaddr,
    pub(crate) outbound: bool,
    since: Instant,
}

#[derive(Clone, Debug)]
struct Known {
    addrs: Vec<Multiaddr>,
    bootnode: bool,
    failures: u32,
    /// When to dial next; `None` while connected or while a dial is in flight.
    next_dial: Option<Instant>,
}

/// Redial policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// The delay after `failures` failures in a row: `initial · 2^failures`, at most `max`.
    fn delay(self, failures: u32) -> Duration {
        self.initial.saturating_mul(1u32 << failures.min(16)).min(self.max)
    }
}

/// Connected peers, known peers and bans.
#[derive(Debug)]
pub(crate) struct PeerBook {
    local: PeerId,
    connected: HashMap<PeerId, Connected>,
    known: HashMap<PeerId, Known>,
    bans: HashMap<PeerId, Instant>,
    /// Peers cut off for a partition test: never dialled.
    cut: HashSet<PeerId>,
    backoff: Backoff,
    max_known: usize,
}

impl PeerBook {
    pub(crate) fn new(local: PeerId, backoff: Backoff, max_known: usize) -> PeerBook {
        PeerBook {
            local,
            connected: HashMap::new(),
            known: HashMap::new(),
            bans: HashMap::new(),
            cut: HashSet::new(),
            backoff,
            max_known,
        }
    }

    /// Adds a bootnode, to dial at once and forever after.
    pub(crate) fn add_bootnode(&mut self, peer: PeerId, addr: Multiaddr, now: Instant) {
        let entry = self.known.entry(peer).or_insert(Known {
            addrs: Vec::new(),
            bootnode: true,
            failures: 0,
            next_dial: Some(now),
        });
        entry.bootnode = true;
        push_addr(&mut entry.addrs, addr);
    }

    /// Learns addresses of `peer` (its identify listen addresses, or an address dialled
    /// successfully), making it a known peer if there is room. Returns whether it is known.
    pub(crate) fn learn(
        &mut self,
        peer: PeerId,
        addrs: impl IntoIterator<Item = Multiaddr>,
        now: Instant,
    ) -> bool {
        if peer == self.local {
            return false;
        }
        if !self.known.contains_key(&peer) {
            if self.known.len() >= self.max_known {
                return false;
            }
            let next_dial = if self.connected.contains_key(&peer) { None } else { Some(now) };
            self.known.insert(peer, Known { addrs: Vec::new(), bootnode: false, failures: 0, next_dial });
        }
        if let Some(known) = self.known.get_mut(&peer) {
            for addr in addrs {
                push_addr(&mut known.addrs, addr);
            }
        }
        true
    }

    /// Makes a known, unconnected `peer` due for a dial now.
    pub(crate) fn dial_soon(&mut self, peer: PeerId, now: Instant) {
        if !self.connected.contains_key(&peer)
            && let Some(known) = self.known.get_mut(&peer)
        {
            known.next_dial = Some(now);
        }
    }

    pub(crate) fn on_connected(&mut self, peer: PeerId, addr: Multiaddr, outbound: bool, now: Instant) {
        self.connected.insert(peer, Connected { addr, outbound, since: now });
        if let Some(known) = self.known.get_mut(&peer) {
            known.next_dial = None;
        }
    }

    /// The last connection to `peer` closed; `redial` says whether to dial it again (not when it
    /// merely idled out).
    pub(crate) fn on_disconnected(&mut self, peer: PeerId, redial: bool, now: Instant) {
        let stable = self
            .connected
            .remove(&peer)
            .is_some_and(|c| now.saturating_duration_since(c.since) >= MIN_STABLE_CONNECTION);
        let Some(known) = self.known.get_mut(&peer) else { return };
        if !redial && !known.bootnode {
            self.known.remove(&peer);
            return;
        }
        if stable {
            known.failures = 0;
            known.next_dial = Some(now + self.backoff.initial);
        } else {
            known.failures = known.failures.saturating_add(1);
            known.next_dial = Some(now + self.backoff.delay(known.failures));
        }
    }

    /// A dial of `peer` failed: back off, or forget it after too many failures.
    pub(crate) fn on_dial_failed(&mut self, peer: PeerId, now: Instant) {
        if self.connected.contains_key(&peer) {
            return;
        }
        let Some(known) = self.known.get_mut(&peer) else { return };
        known.failures = known.failures.saturating_add(1);
        if !known.bootnode && known.failures >= MAX_REDIAL_FAILURES {
            self.known.remove(&peer);
            return;
        }
        known.next_dial = Some(now + self.backoff.delay(known.failures));
    }

    /// The known peers due for a dial at `now`, marked as dialling.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let mut due = Vec::new();
        for (peer, known) in &mut self.known {
            let ready = known.next_dial.is_some_and(|t| t <= now);
            if ready
                && !self.connected.contains_key(peer)
                && !self.bans.contains_key(peer)
                && !self.cut.contains(peer)
            {
                known.next_dial = None;
                due.push((*peer, known.addrs.clone()));
            }
        }
        due
    }

    /// Bans `peer` until `until`. Returns whether it was not banned before, and the peer whose
    /// ban was dropped to make room, if any.
    pub(crate) fn ban(&mut self, peer: PeerId, until: Instant) -> (bool, Option<PeerId>) {
        let mut evicted = None;
        if self.bans.len() >= MAX_BANS
            && !self.bans.contains_key(&peer)
            && let Some(first) = self.bans.iter().min_by_key(|(_, t)| **t).map(|(p, _)| *p)
        {
            self.bans.remove(&first);
            evicted = Some(first);
        }
        (self.bans.insert(peer, until).is_none(), evicted)
    }

    pub(crate) fn is_banned(&self, peer: &PeerId) -> bool {
        self.bans.contains_key(peer)
    }

    /// Replaces the set of cut-off peers; returns the peers no longer cut (made due for a dial
    /// now, with their failures forgotten).
    pub(crate) fn set_cut(&mut self, peers: HashSet<PeerId>, now: Instant) -> Vec<PeerId> {
        let healed: Vec<PeerId> = self.cut.difference(&peers).copied().collect();
        for peer in &healed {
            if let Some(known) = self.known.get_mut(peer) {
                known.failures = 0;
                known.next_dial = Some(now);
            }
        }
        self.cut = peers;
        healed
    }

    pub(crate) fn is_cut(&self, peer: &PeerId) -> bool {
        self.cut.contains(peer)
    }

    /// Removes the bans that ended by `now` and returns their peers; a known peer among them is
    /// dialled again.
    pub(crate) fn expire_bans(&mut self, now: Instant) -> Vec<PeerId> {
        let ended: Vec<PeerId> = self.bans.iter().filter(|(_, t)| **t <= now).map(|(p, _)| *p).collect();
        for peer in &ended {
            self.bans.remove(peer);
            if let Some(known) = self.known.get_mut(peer) {
                known.next_dial = Some(now);
            }
        }
        ended
    }

    pub(crate) fn is_connected(&self, peer: &PeerId) -> bool {
        self.connected.contains_key(peer)
    }

    pub(crate) fn connected(&self) -> impl Iterator<Item = (&PeerId, &Connected)> {
        self.connected.iter()
    }

    pub(crate) fn outbound_count(&self) -> usize {
        self.connected.values().filter(|c| c.outbound).count()
    }
}

fn push_addr(addrs: &mut Vec<Multiaddr>, addr: Multiaddr) {
    if !addrs.contains(&addr) {
        if addrs.len() >= MAX_ADDRS_PER_PEER {
            addrs.remove(0);
        }
        addrs.push(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> PeerBook {
        let backoff = Backoff { initial: Duration::from_millis(100), max: Duration::from_secs(1) };
        PeerBook::new(PeerId::random(), backoff, 2)
    }

    #[test]
    fn bootnodes_are_redialled_with_backoff_forever() {
        let mut book = book();
        let (peer, now) = (PeerId::random(), Instant::now());
        book.add_bootnode(peer, Multiaddr::empty(), now);
        assert_eq!(book.due(now).len(), 1);
        assert!(book.due(now).is_empty(), "a dial in flight is not due again");
        for _ in 0..MAX_REDIAL_FAILURES + 5 {
            book.on_dial_failed(peer, now);
        }
        assert!(book.due(now).is_empty());
        assert_eq!(book.due(now + Duration::from_secs(1)).len(), 1, "backoff is capped at max");
        book.on_connected(peer, Multiaddr::empty(), true, now);
        let later = now + MIN_STABLE_CONNECTION;
        book.on_disconnected(peer, true, later);
        assert_eq!(book.due(later + Duration::from_millis(100)).len(), 1, "a stable peer is redialled soon");
        book.on_connected(peer, Multiaddr::empty(), true, later);
        book.on_disconnected(peer, true, later);
        assert!(book.due(later + Duration::from_millis(100)).is_empty(), "a flapping peer backs off");
    }

    #[test]
    fn other_peers_are_forgotten_and_bounded() {
        let mut book = book();
        let now = Instant::now();
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        assert!(book.learn(a, [Multiaddr::empty()], now));
        assert!(book.learn(b, [], now));
        assert!(!book.learn(c, [], now), "max_known reached");
        for _ in 0..MAX_REDIAL_FAILURES {
            book.on_dial_failed(a, now);
        }
        assert!(book.learn(c, [], now), "a was forgotten, making room");
        book.ban(b, now + Duration::from_secs(5));
        assert!(book.due(now + Duration::from_secs(2)).iter().all(|(p, _)| *p != b));
        assert_eq!(book.expire_bans(now + Duration::from_secs(5)), vec![b]);
        assert!(book.due(now + Duration::from_secs(5)).iter().any(|(p, _)| *p == b));
    }
}
