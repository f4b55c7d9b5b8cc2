//! A real network of `weft-node run` processes on loopback, shared by the tests that run one:
//! writing the testnet (four validators and a follower on free ports), spawning and killing the
//! processes, their clients, and the checks on what they finalized (receipts, blocks, agreement).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use parity_scale_codec::Encode;
use weft_node::{
    config::NodeConfig,
    genesis::GenesisFile,
    testnet::{NodeHome, init_home, write_testnet},
};
use weft_rpc_api::{BlockId, ChainApiClient, ReceiptInfo, TxApiClient};
use weft_types::{
    Hash, Transaction,
    dev::{dev_address, dev_key},
    tx::{Action, address_of},
};

/// The node processes; every one still running is killed on drop.
pub(crate) struct Nodes {
    children: Vec<Option<Child>>,
    configs: Vec<PathBuf>,
}

impl Nodes {
    /// The nodes of these configs, none started.
    pub(crate) fn new(configs: Vec<PathBuf>) -> Nodes {
        Nodes { children: configs.iter().map(|_| None).collect(), configs }
    }

    pub(crate) fn spawn(&mut self, i: usize) {
        let config = &self.configs[i];
        let home = config.parent().unwrap();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(home.join("stderr.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_weft-node"))
            .args(["run", "--config"])
            .arg(config)
            // `WEFT_TEST_LOG` overrides the filter, e.g. to see penalties at debug level.
            .env(
                "WEFT_LOG",
                std::env::var("WEFT_TEST_LOG")
                    .unwrap_or_else(|_| "info,jsonrpsee=warn,libp2p=warn,libp2p_gossipsub=error".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children[i] = Some(child);
    }

    pub(crate) fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub(crate) fn logs(&self) -> String {
        let mut out = String::new();
        for config in &self.configs {
            let log =
                std::fs::read_to_string(config.parent().unwrap().join("stderr.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            out.push_str(&format!("--- {}\n", config.display()));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for i in 0..self.children.len() {
            self.kill(i);
        }
    }
}

pub(crate) fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A testnet of four validators and a follower: their configs, peer ids and the genesis.
pub(crate) struct Testnet {
    pub(crate) configs: Vec<PathBuf>,
    pub(crate) peers: Vec<String>,
    pub(crate) admin: Vec<std::net::SocketAddr>,
    pub(crate) genesis: GenesisFile,
}

/// Writes a 4-node testnet (and a fifth, non-validator node) on a base port whose 15 ports
/// are free: RPC, p2p and the test admin RPC of each node.
pub(crate) fn testnet(dir: &Path) -> Testnet {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    for attempt in 0..50u64 {
        let base = 20_000 + ((seed.wrapping_mul(7919).wrapping_add(attempt * 104_729)) % 40_000) as u16;
        if !(base..base + 15).all(port_free) {
            continue;
        }
        let out = dir.join(format!("net{attempt}"));
        let homes = write_testnet(4, &out, base, 4242, 1_700_000_000_000).unwrap();
        let mut genesis = GenesisFile::load(&out.join("genesis.json")).unwrap();
        // An idle network makes a block every 200 ms (the default is 1 s), so the steps below
        // that wait for blocks are short.
        genesis.consensus.block_interval_ms = 200;
        // A dead leader's views end sooner; the timers after a partition stay short.
        genesis.consensus.timeout_ms = 500;
        genesis.consensus.max_timeout_ms = 4_000;
        std::fs::remove_file(out.join("genesis.json")).unwrap();
        genesis.save(&out.join("genesis.json")).unwrap();
        // A fifth node whose key is not in the validator set: it follows without voting.
        let follower = init_home(
            &out.join("follower"),
            "follower",
            &out.join("genesis.json"),
            std::net::SocketAddr::from(([127, 0, 0, 1], base + 8)),
            format!("/ip4/127.0.0.1/tcp/{}", base + 9),
        )
        .unwrap();
        let node0 = NodeConfig::load(&homes[0].config).unwrap();
        let bootnode = format!("{}/p2p/{}", node0.p2p.listen, homes[0].peer_id);
        let all: Vec<NodeHome> = homes.into_iter().chain([follower]).collect();
        let mut admin = Vec::new();
        for (i, home) in all.iter().enumerate() {
            let mut config = NodeConfig::load(&home.config).unwrap();
            if i == 4 {
                config.p2p.bootnodes = vec![bootnode.clone()];
            }
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], base + 10 + i as u16));
            config.test.admin_rpc = Some(addr);
            admin.push(addr);
            // Keep the paths as written (relative to the home).
            config.genesis = "../genesis.json".into();
            config.data_dir = "data".into();
            config.validator_key = "validator.key".into();
            config.node_key = "node.key".into();
            config.save(&home.config).unwrap();
        }
        return Testnet {
            configs: all.iter().map(|h| h.config.clone()).collect(),
            peers: all.iter().map(|h| h.peer_id.to_string()).collect(),
            admin,
            genesis,
        };
    }
    panic!("no free ports");
}

pub(crate) fn http(addr: std::net::SocketAddr) -> HttpClient {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(5))
        .build(format!("http://{addr}"))
        .unwrap()
}

pub(crate) fn client(config: &Path) -> HttpClient {
    http(NodeConfig::load(config).unwrap().rpc.addr)
}

pub(crate) async fn wait_for<T, F, Fut>(what: &str, nodes: &Nodes, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}\n{}", nodes.logs());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How long any step may take. Generous: the test shares 2 cores with the other node tests
/// (the consensus simulation among them), and debug builds are slow; a passing run takes seconds.
pub(crate) const PATIENCE: Duration = Duration::from_secs(90);

/// A transaction signed by alice.
pub(crate) fn alice_tx(nonce: u64, chain_id: u64, gas_limit: u64, action: Action) -> Vec<u8> {
    signed_by("alice", nonce, chain_id, gas_limit, action)
}

/// A transaction signed by the dev account `name`.
pub(crate) fn signed_by(name: &str, nonce: u64, chain_id: u64, gas_limit: u64, action: Action) -> Vec<u8> {
    let key = dev_key(name);
    Transaction { chain_id, sender: address_of(&key), nonce, gas_limit, gas_price: 1, action }
        .sign(&key)
        .encode()
}

pub(crate) fn transfer(nonce: u64, chain_id: u64) -> Vec<u8> {
    alice_tx(nonce, chain_id, 1_000_000, Action::Transfer { to: dev_address("bob"), amount: 1_000 })
}

/// Waits until every node in `which` has the receipt of `hash`, and checks they agree on the
/// block holding it and its state root.
pub(crate) async fn final_everywhere(
    nodes: &Nodes,
    clients: &[HttpClient],
    which: &[usize],
    hash: Hash,
) -> ReceiptInfo {
    let mut first: Option<(ReceiptInfo, Hash)> = None;
    for &i in which {
        let receipt = wait_for(&format!("the receipt on node{i}"), nodes, PATIENCE, || async {
            clients[i].tx_get_receipt(hash).await.ok().flatten()
        })
        .await;
        assert!(receipt.success, "{:?}", receipt.error);
        let block = clients[i]
            .chain_get_block(BlockId::Height(receipt.location.block_height), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(block.header.hash, receipt.location.block_hash);
        match &first {
            None => first = Some((receipt, block.header.state_root)),
            Some((f, root)) => {
                assert_eq!(f.location, receipt.location, "node{i} holds the tx elsewhere");
                assert_eq!(*root, block.header.state_root, "node{i} has another state root");
            }
        }
    }
    first.unwrap().0
}

/// Checks that every node in `which` holds the same block at each height in `heights`.
pub(crate) async fn same_blocks(
    clients: &[HttpClient],
    which: &[usize],
    heights: std::ops::RangeInclusive<u64>,
) {
    for height in heights {
        let mut hashes = Vec::new();
        for &i in which {
            let block = clients[i].chain_get_block(BlockId::Height(height), None).await.unwrap();
            hashes.push(block.unwrap_or_else(|| panic!("node{i} lacks block {height}")).header.hash);
        }
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "FORK at height {height}: {hashes:?}");
    }
}

pub(crate) async fn finalized(client: &HttpClient) -> u64 {
    client.chain_get_finalized().await.unwrap().height
}

/// Cuts node `i` off from `peers` (all of them at once; empty heals) through its admin RPC.
pub(crate) async fn partition(net: &Testnet, i: usize, peers: &[usize]) {
    use jsonrpsee::{core::client::ClientT, rpc_params};
    let ids: Vec<String> = peers.iter().map(|&j| net.peers[j].clone()).collect();
    let done: bool = http(net.admin[i]).request("test_partition", rpc_params![ids]).await.unwrap();
    assert!(done);
}
