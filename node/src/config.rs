//! The node's configuration file (TOML) and home directory: where the genesis, keys and data
//! are, where JSON-RPC and p2p listen, and the bootnodes. Paths in the file are relative to the
//! file's directory. Every field is checked at load, and an error names the file and the field.

use std::{
    fs,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use weft_types::key_file;

use crate::rpc::{CorsOrigins, RpcConfig, RpcLimits};

/// Largest config file read.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// Most bootnodes.
pub const MAX_BOOTNODES: usize = 64;

/// The file `weft-node run --config FILE` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// A name for logs.
    #[serde(default)]
    pub name: String,
    /// The genesis file.
    pub genesis: PathBuf,
    /// Where the store lives.
    pub data_dir: PathBuf,
    /// The validator (consensus) key: hex of the 32-byte ed25519 secret. A node whose key is not
    /// in the validator set follows the chain without voting.
    pub validator_key: PathBuf,
    /// The p2p (libp2p) key: the 32-byte ed25519 secret (`net::write_keypair`).
    pub node_key: PathBuf,
    /// JSON-RPC.
    pub rpc: RpcSection,
    /// Peer-to-peer networking.
    pub p2p: P2pSection,
    /// Test-only controls; absent (off) in real configs.
    #[serde(default, skip_serializing_if = "TestSection::is_off")]
    pub test: TestSection,
}

/// `[test]`: controls for tests of the network, off unless set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    /// Where to serve the test admin JSON-RPC (`test_partition`, which cuts this node off from
    /// given peers, see `service`); never set it on a real network. Loopback only.
    #[serde(default)]
    pub admin_rpc: Option<SocketAddr>,
}

impl TestSection {
    /// Whether every control is off.
    pub fn is_off(&self) -> bool {
        self.admin_rpc.is_none()
    }
}

/// `[rpc]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RpcSection {
    /// Listen address (HTTP and WebSocket).
    pub addr: SocketAddr,
    /// Web origins whose pages may call the HTTP endpoint (CORS): `["*"]` for any, origins
    /// as `scheme://host[:port]`, none when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cors: Vec<String>,
    /// `[rpc.limits]`: overrides of the server's limits.
    #[serde(default, skip_serializing_if = "RpcLimits::is_empty")]
    pub limits: RpcLimits,
}

impl RpcSection {
    /// A section listening on `addr`, with no cross-origin access.
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, cors: Vec::new(), limits: RpcLimits::default() }
    }

    /// The JSON-RPC server's settings: the defaults with this section's origins and limits;
    /// the error names the field.
    pub fn rpc_config(&self) -> Result<RpcConfig, String> {
        let cors = CorsOrigins::from_list(&self.cors).map_err(|e| format!("rpc.cors: {e}"))?;
        self.limits.apply(RpcConfig { cors, ..RpcConfig::default() }).map_err(|e| format!("rpc.limits.{e}"))
    }
}

/// `[p2p]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2pSection {
    /// Listen multiaddr, e.g. `/ip4/127.0.0.1/tcp/30333`.
    pub listen: String,
    /// Peers to dial first, as multiaddrs ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub bootnodes: Vec<String>,
    /// Transactions per second each peer may push into the mempool by gossip, on average;
    /// beyond it (and the burst) its transactions are dropped, not forwarded, and counted.
    #[serde(default = "default_gossip_tx_rate")]
    pub gossip_tx_rate: u32,
    /// Transactions a peer may push by gossip in one burst above the average rate.
    #[serde(default = "default_gossip_tx_burst")]
    pub gossip_tx_burst: u32,
}

fn default_gossip_tx_rate() -> u32 {
    crate::net::DEFAULT_GOSSIP_TX_RATE
}

fn default_gossip_tx_burst() -> u32 {
    crate::net::DEFAULT_GOSSIP_TX_BURST
}

impl P2pSection {
    /// A section listening on `listen` with the default limits and no bootnodes.
    pub fn new(listen: String) -> Self {
        Self {
            listen,
            bootnodes: Vec::new(),
            gossip_tx_rate: default_gossip_tx_rate(),
            gossip_tx_burst: default_gossip_tx_burst(),
        }
    }
}

/// Why a config (or a key file) is refused.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// What is wrong.
    pub reason: String,
}

fn config_error(path: &Path, reason: impl ToString) -> ConfigError {
    ConfigError { path: path.display().to_string(), reason: reason.to_string() }
}

impl NodeConfig {
    /// Reads and checks a config file; relative paths become relative to its directory.
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let len = fs::metadata(path).map_err(|e| config_error(path, e))?.len();
        if len > MAX_CONFIG_BYTES {
            return Err(config_error(
                path,
                format!("{len} bytes; config files are at most {MAX_CONFIG_BYTES}"),
            ));
        }
        let text = fs::read_to_string(path).map_err(|e| config_error(path, e))?;
        let mut config: NodeConfig = toml::from_str(&text).map_err(|e| config_error(path, e))?;
        if config.p2p.bootnodes.len() > MAX_BOOTNODES {
            return Err(config_error(
                path,
                format!("p2p.bootnodes lists {}; at most {MAX_BOOTNODES}", config.p2p.bootnodes.len()),
            ));
        }
        if let Some(admin) = config.test.admin_rpc
            && !admin.ip().is_loopback()
        {
            return Err(config_error(path, format!("test.admin_rpc {admin} must be a loopback address")));
        }
        config.rpc.rpc_config().map_err(|e| config_error(path, e))?;
        if config.p2p.gossip_tx_rate == 0 || config.p2p.gossip_tx_burst == 0 {
            return Err(config_error(path, "p2p.gossip_tx_rate and p2p.gossip_tx_burst must be > 0"));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut config.genesis, &mut config.data_dir, &mut config.validator_key, &mut config.node_key]
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }

    /// Writes it as TOML.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = toml::to_string_pretty(self).map_err(|e| config_error(path, e))?;
        fs::write(path, text).map_err(|e| config_error(path, e))
    }
}

/// Writes a new random ed25519 secret to `path` ([`write_key`]) and returns it.
pub fn create_key(path: &Path) -> Result<SigningKey, ConfigError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| config_error(path, format!("no OS randomness: {e}")))?;
    let key = SigningKey::from_bytes(&secret);
    write_key(path, &key)?;
    Ok(key)
}

/// Writes `key` to a new file at `path`: the secret key file of
/// [`weft_types::key_file::write_secret`] (64 hex digits, mode 0600, never over an existing file).
pub fn write_key(path: &Path, key: &SigningKey) -> Result<(), ConfigError> {
    key_file::write_secret(path, &key.to_bytes()).map_err(|e| config_error(path, e))
}

/// Reads a key file written by [`write_key`].
pub fn read_key(path: &Path) -> Result<SigningKey, ConfigError> {
    let secret = key_file::read_secret(path).map_err(|e| config_error(path, e))?;
    Ok(SigningKey::from_bytes(&secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trip_relative_paths_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        let config = NodeConfig {
            name: "node0".into(),
            genesis: "../genesis.json".into(),
            data_dir: "data".into(),
            validator_key: "validator.key".into(),
            node_key: "node.key".into(),
            rpc: RpcSection::new("127.0.0.1:9944".parse().unwrap()),
            p2p: P2pSection::new("/ip4/127.0.0.1/tcp/30333".into()),
            test: TestSection::default(),
        };
        config.save(&path).unwrap();
        let loaded = NodeConfig::load(&path).unwrap();
        assert_eq!(loaded.data_dir, dir.path().join("data"));
        assert_eq!(loaded.rpc, config.rpc);
        assert_eq!(loaded.p2p, config.p2p);
        assert!(!fs::read_to_string(&path).unwrap().contains("[test]"), "off controls are not written");
        let mut admin = config.clone();
        admin.test.admin_rpc = Some("10.0.0.1:9".parse().unwrap());
        admin.save(&path).unwrap();
        let err = NodeConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("loopback"), "{err}");
        let mut cors = config.clone();
        cors.rpc.cors = vec!["https://app.example".into()];
        cors.save(&path).unwrap();
        assert_eq!(NodeConfig::load(&path).unwrap().rpc.cors, cors.rpc.cors);
        cors.rpc.cors = vec!["https://app.example/".into()];
        cors.save(&path).unwrap();
        let err = NodeConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("rpc.cors") && err.contains("no path"), "{err}");
        let mut limits = config.clone();
        limits.rpc.limits.max_connections = Some(8);
        limits.save(&path).unwrap();
        assert!(fs::read_to_string(&path).unwrap().contains("[rpc.limits]\nmax_connections = 8"));
        let loaded = NodeConfig::load(&path).unwrap();
        assert_eq!(loaded.rpc.rpc_config().unwrap().max_connections, 8);
        limits.rpc.limits.max_request_bytes = Some(100);
        limits.save(&path).unwrap();
        let err = NodeConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("rpc.limits.max_request_bytes is 100; it must be at least 1024"), "{err}");
        fs::write(&path, "name = 3").unwrap();
        let err = NodeConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("node.toml"), "{err}");
    }

    #[test]
    fn keys_are_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = create_key(&path).unwrap();
        assert_eq!(read_key(&path).unwrap().to_bytes(), key.to_bytes());
        assert!(create_key(&path).is_err(), "an existing key is never overwritten");
        fs::write(&path, "abcd").unwrap();
        assert!(read_key(&path).unwrap_err().to_string().contains("2 bytes"));
    }
}
