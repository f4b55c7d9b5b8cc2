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
    /// A view's deadline when the previous view was notarized (it doubles for each directly
    /// preceding view that was only nullified, up to `max_timeout_ms`). Should exceed three
    /// message delays plus the time to build and validate a block.
    pub view_timeout_ms: u64,
    /// First delay of the re-send timer after a view's deadline (it doubles on each retry, up to
    /// `max_timeout_ms`).
    pub retry_timeout_ms: u64,
    /// The cap on every timer.
    pub max_timeout_ms: u64,
    /// Votes and proposals for views more than this past the current one are refused
    /// ([`super::Penalty::FarFuture`]); certificates beyond it are ignored, except finalizations.
    pub future_views: u64,
    /// Most certificates sent to one lagging validator at once.
    pub max_catchup_certificates: usize,
    /// Most block-request answers sent to one peer per view.
    pub max_block_answers_per_peer: u32,
    /// Most peers whose block requests are answered per view.
    pub max_answered_peers: usize,
    /// Most blocks requested at once.
    pub max_wanted_blocks: usize,
    /// Most pieces of evidence kept; later ones are neither kept nor reported.
    pub max_evidence: usize,
}

impl Config {
    /// A configuration with default timeouts (1 s view deadline, 1 s first retry, 60 s cap) and
    /// bounds.
    pub fn new(chain_id: ChainId, validators: ValidatorSet) -> Self {
        Self {
            chain_id,
            validators,
            view_timeout_ms: 1_000,
            retry_timeout_ms: 1_000,
            max_timeout_ms: 60_000,
            future_views: 64,
            max_catchup_certificates: 16,
            max_block_answers_per_peer: 4,
            max_answered_peers: 256,
            max_wanted_blocks: 64,
            max_evidence: 1024,
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
        if self.view_timeout_ms > self.max_timeout_ms {
            return Err(ConfigError::TimeoutAboveMax { base: self.view_timeout_ms, max: self.max_timeout_ms });
        }
        Ok(())
    }

    /// `base` doubled `doublings` times, capped at `max_timeout_ms`.
    pub(super) fn backoff(&self, base: u64, doublings: u64) -> u64 {
        let factor = 1u64.checked_shl(u32::try_from(doublings.min(32)).unwrap_or(32)).unwrap_or(u64::MAX);
        base.saturating_mul(factor).min(self.max_timeout_ms)
    }
}
