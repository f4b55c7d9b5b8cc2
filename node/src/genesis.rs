//! The genesis file of a network (JSON): chain id, start time, the validator set with voting
//! power, initial balances and consensus parameters. Every node of a network loads the same
//! file; its hash names the network in logs and a mismatch is detected at the first block.

use std::path::Path;

use serde::{Deserialize, Serialize};
use weft_types::{Address, Amount, Hash};

/// Largest genesis file read.
pub const MAX_GENESIS_BYTES: u64 = 16 << 20;
/// Most validators.
pub const MAX_VALIDATORS: usize = 256;

/// A validator of the genesis set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisValidator {
    /// Its ed25519 public key (its account address).
    pub address: Address,
    /// Its voting power.
    pub power: u64,
    /// A name for logs.
    #[serde(default)]
    pub name: String,
}

/// An initial balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance {
    /// The account.
    pub address: Address,
    /// Its balance.
    #[serde(with = "weft_rpc_api::types::amount")]
    pub amount: Amount,
}

/// Longest `block_interval_ms` accepted (an idle network makes a block at least this often).
pub const MAX_BLOCK_INTERVAL_MS: u64 = 60_000;

/// Consensus timing. A field left out of the file takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusParams {
    /// How long a validator waits for a proposal or votes before it moves on, in ms.
    pub timeout_ms: u64,
    /// Factor by which the timeout grows after each failed view, in percent (150 = ×1.5).
    pub backoff_percent: u64,
    /// Longest timeout, in ms.
    pub max_timeout_ms: u64,
    /// How long a leader with no transaction to include waits, after its parent block's
    /// timestamp, before it proposes an empty block, in ms: an idle network makes a block about
    /// this often. A leader with transactions waiting proposes at once. Every view's deadline is
    /// extended by it (see `consensus::Config::block_interval_ms`), so waiting never times a view
    /// out. 0: blocks back to back even when idle. At most [`MAX_BLOCK_INTERVAL_MS`].
    pub block_interval_ms: u64,
}

impl Default for ConsensusParams {
    fn default() -> Self {
        Self { timeout_ms: 1_000, backoff_percent: 150, max_timeout_ms: 30_000, block_interval_ms: 1_000 }
    }
}

/// The genesis file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisFile {
    /// Chain id.
    pub chain_id: u64,
    /// Timestamp of the genesis block.
    pub timestamp_ms: u64,
    /// Minimum gas price.
    #[serde(with = "weft_rpc_api::types::amount")]
    pub min_gas_price: Amount,
    /// The validator set.
    pub validators: Vec<GenesisValidator>,
    /// Initial balances.
    pub balances: Vec<GenesisBalance>,
    /// Consensus parameters.
    #[serde(default)]
    pub consensus: ConsensusParams,
}

/// Why a genesis file is refused.
#[derive(Debug, thiserror::Error)]
pub enum GenesisFileError {
    /// It could not be read.
    #[error("genesis file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// It is not valid.
    #[error("genesis file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

impl GenesisFile {
    /// Reads and checks a genesis file.
    pub fn load(path: &Path) -> Result<GenesisFile, GenesisFileError> {
        let shown = path.display().to_string();
        let io = |e: std::io::Error| GenesisFileError::Io { path: shown.clone(), reason: e.to_string() };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_GENESIS_BYTES {
            return Err(GenesisFileError::Invalid {
                path: shown,
                reason: format!("{len} bytes; genesis files are at most {MAX_GENESIS_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let genesis: GenesisFile = serde_json::from_str(&text)
            .map_err(|e| GenesisFileError::Invalid { path: shown.clone(), reason: e.to_string() })?;
        genesis.check().map_err(|reason| GenesisFileError::Invalid { path: shown, reason })?;
        Ok(genesis)
    }

    /// Writes it as pretty JSON.
    pub fn save(&self, path: &Path) -> Result<(), GenesisFileError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| GenesisFileError::Invalid {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, text)
            .map_err(|e| GenesisFileError::Io { path: path.display().to_string(), reason: e.to_string() })
    }

    /// Checks the invariants a network needs: validators present, distinct, with power, and
    /// within bounds; distinct balance accounts; a total voting power that fits; sane timeouts.
    pub fn check(&self) -> Result<(), String> {
        if self.validators.is_empty() {
            return Err("no validators".into());
        }
        if self.validators.len() > MAX_VALIDATORS {
            return Err(format!("{} validators; at most {MAX_VALIDATORS}", self.validators.len()));
        }
        let mut total: u64 = 0;
        let mut seen = std::collections::BTreeSet::new();
        for v in &self.validators {
            if v.power == 0 {
                return Err(format!("validator {} has voting power 0", v.address));
            }
            if !seen.insert(v.address) {
                return Err(format!("validator {} is listed twice", v.address));
            }
            if ed25519_dalek::VerifyingKey::from_bytes(&v.address.0).is_err() {
                return Err(format!("validator {} is not an ed25519 public key", v.address));
            }
            total = total.checked_add(v.power).ok_or("total voting power overflows u64")?;
        }
        let mut accounts = std::collections::BTreeSet::new();
        for b in &self.balances {
            if !accounts.insert(b.address) {
                return Err(format!("balance of {} is listed twice", b.address));
            }
        }
        let c = &self.consensus;
        if c.timeout_ms == 0 || c.timeout_ms > c.max_timeout_ms || c.backoff_percent < 100 {
            return Err(format!(
                "consensus timeouts: timeout_ms {} must be > 0 and ≤ max_timeout_ms {}, backoff_percent {} ≥ 100",
                c.timeout_ms, c.max_timeout_ms, c.backoff_percent
            ));
        }
        if c.block_interval_ms > MAX_BLOCK_INTERVAL_MS {
            return Err(format!(
                "consensus block_interval_ms {} is over the limit of {MAX_BLOCK_INTERVAL_MS}",
                c.block_interval_ms
            ));
        }
        Ok(())
    }

    /// The validator set the consensus runs with.
    pub fn validator_set(
        &self,
    ) -> Result<weft_types::consensus::ValidatorSet, weft_types::consensus::ValidatorSetError> {
        weft_types::consensus::ValidatorSet::from_unsorted(
            self.validators
                .iter()
                .map(|v| weft_types::consensus::Validator { address: v.address, power: v.power })
                .collect(),
        )
    }

    /// The runtime's genesis: the balances, and the validator set, which the genesis state (and
    /// so the genesis block hash) binds.
    pub fn runtime_genesis(&self) -> Result<weft_runtime::Genesis, weft_types::consensus::ValidatorSetError> {
        Ok(weft_runtime::Genesis {
            timestamp_ms: self.timestamp_ms,
            balances: self.balances.iter().map(|b| (b.address, b.amount)).collect(),
            validators: Some(self.validator_set()?),
        })
    }

    /// SHA3-256 of the canonical JSON: names the network.
    pub fn hash(&self) -> Hash {
        weft_types::sha3_256(serde_json::to_string(self).unwrap_or_default().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_types::dev::dev_address;

    fn sample() -> GenesisFile {
        GenesisFile {
            chain_id: 9,
            timestamp_ms: 1,
            min_gas_price: 1,
            validators: vec![GenesisValidator { address: dev_address("alice"), power: 1, name: "v0".into() }],
            balances: vec![GenesisBalance { address: dev_address("bob"), amount: u128::MAX }],
            consensus: ConsensusParams::default(),
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genesis.json");
        sample().save(&path).unwrap();
        assert_eq!(GenesisFile::load(&path).unwrap(), sample());
        let mut bad = sample();
        bad.validators[0].power = 0;
        assert!(bad.check().unwrap_err().contains("power 0"));
        let mut bad = sample();
        bad.validators.push(bad.validators[0].clone());
        assert!(bad.check().unwrap_err().contains("twice"));
        let mut bad = sample();
        bad.validators.clear();
        assert_eq!(bad.check().unwrap_err(), "no validators");
        let mut bad = sample();
        bad.consensus.block_interval_ms = MAX_BLOCK_INTERVAL_MS + 1;
        assert!(bad.check().unwrap_err().contains("block_interval_ms"));
        // Consensus fields left out take their defaults; unknown ones are refused.
        let mut json: serde_json::Value = serde_json::to_value(sample()).unwrap();
        json["consensus"] = serde_json::json!({"timeout_ms": 700});
        let parsed: GenesisFile = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(parsed.consensus.timeout_ms, 700);
        assert_eq!(parsed.consensus.block_interval_ms, ConsensusParams::default().block_interval_ms);
        json["consensus"] = serde_json::json!({"block_time": 1});
        assert!(serde_json::from_value::<GenesisFile>(json).is_err());
        std::fs::write(&path, r#"{"chain_id": 1, "surprise": true}"#).unwrap();
        let err = GenesisFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("genesis.json"), "{err}");
    }

    #[test]
    fn the_genesis_block_binds_the_validator_set() {
        let runtime = weft_runtime::Runtime::new(9, 1).unwrap();
        let block = |file: &GenesisFile| {
            let empty = std::sync::Arc::new(weft_runtime::state::memory::MemoryState::new());
            runtime.genesis(empty, &file.runtime_genesis().unwrap()).unwrap().block.hash()
        };
        let base = block(&sample());
        assert_eq!(block(&sample()), base);
        // Another power, another member: another chain.
        let mut other = sample();
        other.validators[0].power = 2;
        assert_ne!(block(&other), base);
        let mut other = sample();
        other.validators.push(GenesisValidator {
            address: dev_address("carol"),
            power: 1,
            name: "v1".into(),
        });
        assert_ne!(block(&other), base);
        // A set that is not one is refused, not left out.
        let mut bad = sample();
        bad.validators[0].power = 0;
        assert!(bad.runtime_genesis().is_err());
    }
}
