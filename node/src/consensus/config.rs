//! Configuration of the consensus core (validator set, timeouts, buffer bounds) and the leader
//! schedule.

use parity_scale_codec::Encode;
use weft_types::{
    Address,
    consensus::{ValidatorSet, View},
    hash::sha3_256_parts,
    tx::ChainId,
};

/// Domain tag of the leader schedule's hash.
const LEADER_TAG: &[u8] = b"weft:leader:v1";

/// The leader of `view`: the validator picked by weight ([`ValidatorSet::by_weight`]) at the
/// point given by the first 16 bytes (LE) of `SHA3-256(compact(len(tag)) ‖ "weft:leader:v1" ‖
/// view (u64 LE))`. Deterministic from the view and the set; each validator leads a share of views
/// proportional to its voting power.
pub fn leader(validators: &ValidatorSet, view: View) -> Address {
    let digest = sha3_256_parts(&[&LEADER_TAG.encode(), &view.to_le_bytes()]);
    let mut point = [0u8; 16];
    point.copy_from_slice(&digest.0[..16]);
    validators.by_weight(u128::from_le_bytes(point)).address
}

/// Why a configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A timeout or delay of zero.
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    /// A backoff under 100 % would shrink timeouts.
    #[error("backoff_percent ({0}) must be at least 100")]
    Shrinking(u64),
    /// The base view timeout is above the cap.
    #[error("view_timeout_ms ({base}) is above max_timeout_ms ({max})")]
    TimeoutAboveMax {
        /// The base timeout.
        base: u64,
        /// The cap.
        max: u64,
    },
}

/// Parameters of the core. Every validator of a network must agree on `chain_id` and
/// `validators`; the rest is local policy.
#[derive(Clone, Debug)]
pub struct Config {
    /// The chain id, part of every signed payload.
    pub chain_id: ChainId,
    /// The validators and their voting power.
    pub validators: ValidatorSet,
    /// A view's deadline when the previous view was notarized. It is multiplied by
    /// `backoff_percent / 100` for each directly preceding view that was only nullified, up to
    /// `max_timeout_ms`. Should exceed three message delays plus the time to build and validate a
    /// block (the genesis file's `consensus.timeout_ms`).
    pub view_timeout_ms: u64,
    /// Growth of the timers per failed view or retry, in percent (150 = ×1.5); at least 100.
    pub backoff_percent: u64,
    /// First delay of the re-send timer after a view's deadline (grown by `backoff_percent` on
    /// each retry, up to `max_timeout_ms`).
    pub retry_timeout_ms: u64,
    /// The cap on every timer.
    pub max_timeout_ms: u64,
    /// How long a leader may wait for transactions before it proposes (the genesis file's
    /// `consensus.block_interval_ms`): added to every view's deadline, so that a leader waiting
    /// out an idle interval is not timed out. 0 when leaders propose at once.
    pub block_interval_ms: u64,
    /// Votes and proposals for views more than this past the current one are refused
    /// ([`super::Penalty::FarFuture`]); certificates beyond it are ignored, except finalizations.
    pub future_views: u64,
    /// Most certificates sent to one lagging validator at once.
    pub max_catchup_certificates: usize,
    /// Most answers to block and certificate requests sent to one peer per view.
    pub max_answers_per_peer: u32,
    /// Most peers whose requests are answered per view.
    pub max_answered_peers: usize,
    /// Most blocks, and most certificates, requested at once.
    pub max_requests: usize,
    /// Most pieces of evidence kept; beyond it a new piece replaces the one of the lowest view
    /// (if its own view is higher), so a flood of old evidence cannot hide new offences.
    pub max_evidence: usize,
    /// Most pieces of evidence kept against one validator; more of the same offender add
    /// nothing and are neither kept nor reported, so one offender cannot crowd out the others.
    pub max_evidence_per_offender: usize,
    /// A safety rule switched off on purpose, for the simulation's self-test that its checker
    /// catches a broken protocol. Compiled only into tests (feature `sim-broken-rules`).
    #[cfg(any(test, feature = "sim-broken-rules"))]
    pub broken_rule: Option<BrokenRule>,
}

/// A safety rule the simulation's self-test switches off ([`Config::broken_rule`]).
#[cfg(any(test, feature = "sim-broken-rules"))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BrokenRule {
    /// No lock on notarized blocks: a leader proposes on the finalized block even when a later
    /// block is notarized, and validators vote for a proposal whatever views lie between it and
    /// its parent (Simplex requires them all nullified).
    NoLock,
}

impl Config {
    /// A configuration with default timeouts (1 s view deadline, ×2 backoff, 1 s first retry,
    /// 60 s cap) and bounds.
    pub fn new(chain_id: ChainId, validators: ValidatorSet) -> Self {
        Self {
            chain_id,
            validators,
            view_timeout_ms: 1_000,
            backoff_percent: 200,
            retry_timeout_ms: 1_000,
            max_timeout_ms: 60_000,
            block_interval_ms: 0,
            future_views: 64,
            max_catchup_certificates: 16,
            max_answers_per_peer: 8,
            max_answered_peers: 256,
            max_requests: 64,
            max_evidence: 1024,
            max_evidence_per_offender: 16,
            #[cfg(any(test, feature = "sim-broken-rules"))]
            broken_rule: None,
        }
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("view_timeout_ms", self.view_timeout_ms),
            ("retry_timeout_ms", self.retry_timeout_ms),
            ("max_timeout_ms", self.max_timeout_ms),
            ("future_views", self.future_views),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if self.backoff_percent < 100 {
            return Err(ConfigError::Shrinking(self.backoff_percent));
        }
        if self.view_timeout_ms > self.max_timeout_ms {
            return Err(ConfigError::TimeoutAboveMax {
                base: self.view_timeout_ms,
                max: self.max_timeout_ms,
            });
        }
        Ok(())
    }

    /// Whether the lock rule is switched off ([`BrokenRule::NoLock`]; only ever in tests).
    pub(super) fn no_lock(&self) -> bool {
        #[cfg(any(test, feature = "sim-broken-rules"))]
        return self.broken_rule == Some(BrokenRule::NoLock);
        #[cfg(not(any(test, feature = "sim-broken-rules")))]
        false
    }

    /// A view's deadline when its leader was absent in the last view it led (no proposal from it
    /// reached this node and the view was not notarized): a quarter of `view_timeout_ms`, and
    /// no `block_interval_ms` wait, since a crashed or withholding leader would otherwise cost
    /// every view it leads the full deadline. A live leader with transactions proposes at once
    /// and is present again; an idle one only skips a view nobody needed.
    pub fn absent_leader_timeout_ms(&self) -> u64 {
        (self.view_timeout_ms / 4).max(1)
    }

    /// `base` grown `steps` times by `backoff_percent`, capped at `max_timeout_ms`.
    pub(super) fn backoff(&self, base: u64, steps: u64) -> u64 {
        let mut t = base.min(self.max_timeout_ms);
        for _ in 0..steps.min(64) {
            if t >= self.max_timeout_ms || self.backoff_percent <= 100 {
                break;
            }
            t = t.saturating_mul(self.backoff_percent) / 100;
        }
        t.min(self.max_timeout_ms)
    }
}
