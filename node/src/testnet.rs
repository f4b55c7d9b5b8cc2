//! Setting nodes up on disk: `weft-node init` (one node's keys and config) and `weft-node
//! testnet` (a ready local network: a shared genesis and one home per validator, wired to each
//! other on loopback ports).

use std::{
    fs,
    path::{Path, PathBuf},
};

use weft_types::{
    Address,
    dev::{DEV_ACCOUNTS, DEV_BALANCE, dev_address},
    tx::address_of,
};

use crate::{
    config::{ConfigError, NodeConfig, P2pSection, RpcSection, create_key},
    genesis::{ConsensusParams, GenesisBalance, GenesisFile, GenesisValidator},
    net::{self, PeerId},
};

/// Largest local testnet.
pub const MAX_TESTNET_VALIDATORS: usize = 64;

/// Why setting up failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A file could not be written.
    #[error("{path}: {reason}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A config or key file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The p2p key.
    #[error("p2p key: {0}")]
    Net(#[from] net::NetError),
    /// The genesis file.
    #[error(transparent)]
    Genesis(#[from] crate::genesis::GenesisFileError),
    /// A bad request.
    #[error("{0}")]
    Invalid(String),
}

/// A node home created by [`init_home`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHome {
    /// The directory.
    pub dir: PathBuf,
    /// Its config file.
    pub config: PathBuf,
    /// Its p2p identity.
    pub peer_id: PeerId,
    /// Its validator address (ed25519 public key).
    pub validator: Address,
}

/// Creates `dir` with a p2p key (`node.key`), a validator key (`validator.key`) and a config
/// (`node.toml`) pointing at `genesis`. Refuses a directory that already has keys.
pub fn init_home(
    dir: &Path,
    name: &str,
    genesis: &Path,
    rpc: std::net::SocketAddr,
    p2p_listen: String,
) -> Result<NodeHome, SetupError> {
    let node_key_path = dir.join("node.key");
    if node_key_path.exists() || dir.join("validator.key").exists() {
        return Err(SetupError::Invalid(format!(
            "{} already holds node keys (keys are never replaced): choose another --home",
            dir.display()
        )));
    }
    fs::create_dir_all(dir).map_err(|e| SetupError::Io { path: dir.into(), reason: e.to_string() })?;
    let keypair = net::generate_keypair();
    net::write_keypair(&node_key_path, &keypair)?;
    let validator_key = create_key(&dir.join("validator.key"))?;
    let config = NodeConfig {
        name: name.to_owned(),
        genesis: relative_to(dir, genesis),
        data_dir: "data".into(),
        validator_key: "validator.key".into(),
        node_key: "node.key".into(),
        rpc: RpcSection::new(rpc),
        p2p: P2pSection::new(p2p_listen),
        test: Default::default(),
    };
    let config_path = dir.join("node.toml");
    config.save(&config_path)?;
    Ok(NodeHome {
        dir: dir.to_path_buf(),
        config: config_path,
        peer_id: keypair.public().to_peer_id(),
        validator: address_of(&validator_key),
    })
}

/// `genesis` as seen from `dir` when both are siblings under one parent, else as given.
fn relative_to(dir: &Path, genesis: &Path) -> PathBuf {
    match (dir.parent(), genesis.parent(), genesis.file_name()) {
        (Some(a), Some(b), Some(file)) if a == b => Path::new("..").join(file),
        _ => genesis.to_path_buf(),
    }
}

/// Writes a local network of `validators` nodes under `out`: `out/genesis.json` (the
/// validators with power 1 each, the dev accounts funded) and `out/node{i}` with keys and a
/// config serving JSON-RPC on `127.0.0.1:(base_port + i)` and p2p on
/// `127.0.0.1:(base_port + validators + i)`, every node listing the others as bootnodes.
pub fn write_testnet(
    validators: usize,
    out: &Path,
    base_port: u16,
    chain_id: u64,
    timestamp_ms: u64,
) -> Result<Vec<NodeHome>, SetupError> {
    if validators == 0 || validators > MAX_TESTNET_VALIDATORS {
        return Err(SetupError::Invalid(format!(
            "--validators {validators}: a local testnet has 1 to {MAX_TESTNET_VALIDATORS}"
        )));
    }
    let last = u32::from(base_port) + 2 * validators as u32;
    if base_port < 1024 || last > u32::from(u16::MAX) {
        return Err(SetupError::Invalid(format!(
            "--base-port {base_port}: the network needs ports {base_port}..{last}, within 1024..65535"
        )));
    }
    let genesis_path = out.join("genesis.json");
    if genesis_path.exists() {
        return Err(SetupError::Invalid(format!("{} exists: choose an empty --out", genesis_path.display())));
    }
    fs::create_dir_all(out).map_err(|e| SetupError::Io { path: out.into(), reason: e.to_string() })?;
    let mut homes = Vec::new();
    for i in 0..validators {
        let offset = u16::try_from(i).map_err(|_| SetupError::Invalid("too many validators".into()))?;
        let count =
            u16::try_from(validators).map_err(|_| SetupError::Invalid("too many validators".into()))?;
        let rpc = std::net::SocketAddr::from(([127, 0, 0, 1], base_port + offset));
        let p2p = format!("/ip4/127.0.0.1/tcp/{}", base_port + count + offset);
        homes.push(init_home(&out.join(format!("node{i}")), &format!("node{i}"), &genesis_path, rpc, p2p)?);
    }
    for (i, home) in homes.iter().enumerate() {
        let mut config = NodeConfig::load(&home.config)?;
        config.p2p.bootnodes = homes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(j, other)| {
                format!(
                    "/ip4/127.0.0.1/tcp/{}/p2p/{}",
                    usize::from(base_port) + validators + j,
                    other.peer_id
                )
            })
            .collect();
        // Keep the paths as written (relative to the home).
        config.genesis = relative_to(&home.dir, &genesis_path);
        config.data_dir = "data".into();
        config.validator_key = "validator.key".into();
        config.node_key = "node.key".into();
        config.save(&home.config)?;
    }
    let genesis = GenesisFile {
        chain_id,
        timestamp_ms,
        min_gas_price: 1,
        validators: homes
            .iter()
            .enumerate()
            .map(|(i, h)| GenesisValidator { address: h.validator, power: 1, name: format!("node{i}") })
            .collect(),
        balances: DEV_ACCOUNTS
            .iter()
            .map(|n| GenesisBalance { address: dev_address(n), amount: DEV_BALANCE })
            .collect(),
        consensus: ConsensusParams::default(),
    };
    genesis.check().map_err(SetupError::Invalid)?;
    genesis.save(&genesis_path)?;
    Ok(homes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_testnet_is_written_and_every_file_loads() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("net");
        let homes = write_testnet(4, &out, 20_000, 77, 1).unwrap();
        let genesis = GenesisFile::load(&out.join("genesis.json")).unwrap();
        assert_eq!(genesis.chain_id, 77);
        assert_eq!(genesis.validators.len(), 4);
        for (i, home) in homes.iter().enumerate() {
            let config = NodeConfig::load(&home.config).unwrap();
            assert_eq!(config.rpc.addr.port(), 20_000 + i as u16);
            assert_eq!(config.p2p.listen, format!("/ip4/127.0.0.1/tcp/{}", 20_004 + i));
            assert_eq!(config.p2p.bootnodes.len(), 3);
            assert_eq!(GenesisFile::load(&config.genesis).unwrap(), genesis);
            assert_eq!(
                genesis.validators[i].address,
                address_of(&crate::config::read_key(&config.validator_key).unwrap())
            );
            assert_eq!(net::read_keypair(&config.node_key).unwrap().public().to_peer_id(), home.peer_id);
        }
        assert!(write_testnet(4, &out, 20_000, 77, 1).unwrap_err().to_string().contains("exists"));
        assert!(write_testnet(0, &dir.path().join("x"), 20_000, 77, 1).is_err());
        assert!(write_testnet(4, &dir.path().join("y"), 65_530, 77, 1).is_err());
    }
}
