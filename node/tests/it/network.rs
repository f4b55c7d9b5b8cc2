//! A real 4-validator network of `weft-node run` processes on loopback: a transfer submitted to
//! one node becomes final in the same block on all four (and on a fifth node that follows without
//! voting); with one validator killed (`kill -9`) the other three keep finalizing; restarted, it
//! catches up; with all four killed at once and restarted, the network finalizes again.

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
    testnet::{init_home, write_testnet},
};
use weft_rpc_api::{BlockId, Bytes, ReceiptInfo, WeftApiClient};
use weft_types::{
    Hash, Transaction,
    dev::{dev_address, dev_key},
    tx::{Action, address_of},
};

/// The node processes; every one still running is killed on drop.
struct Nodes {
    children: Vec<Option<Child>>,
    configs: Vec<PathBuf>,
}

impl Nodes {
    fn spawn(&mut self, i: usize) {
        let config = &self.configs[i];
        let home = config.parent().unwrap();
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(home.join("stderr.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_weft-node"))
            .args(["run", "--config"])
            .arg(config)
            .env("WEFT_LOG", "info,jsonrpsee=warn,libp2p=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children[i] = Some(child);
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.children[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for config in &self.configs {
            let log =
                std::fs::read_to_string(config.parent().unwrap().join("stderr.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
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

fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// Writes a 4-node testnet on a base port whose 8 ports are free.
fn testnet(dir: &Path) -> (Vec<PathBuf>, GenesisFile) {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    for attempt in 0..50u64 {
        let base = 20_000 + ((seed.wrapping_mul(7919).wrapping_add(attempt * 104_729)) % 40_000) as u16;
        if !(base..base + 10).all(port_free) {
            continue;
        }
        let out = dir.join(format!("net{attempt}"));
        let homes = write_testnet(4, &out, base, 4242, 1_700_000_000_000).unwrap();
        // A block at most every 100 ms, so an idle network does not spin.
        let mut genesis = GenesisFile::load(&out.join("genesis.json")).unwrap();
        genesis.consensus.block_interval_ms = 100;
        // A dead leader's views end sooner.
        genesis.consensus.timeout_ms = 500;
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
        let mut config = NodeConfig::load(&follower.config).unwrap();
        let node0 = NodeConfig::load(&homes[0].config).unwrap();
        config.p2p.bootnodes = vec![format!("{}/p2p/{}", node0.p2p.listen, homes[0].peer_id)];
        config.genesis = "../genesis.json".into();
        config.data_dir = "data".into();
        config.validator_key = "validator.key".into();
        config.node_key = "node.key".into();
        config.save(&follower.config).unwrap();
        let mut configs: Vec<PathBuf> = homes.into_iter().map(|h| h.config).collect();
        configs.push(follower.config);
        return (configs, genesis);
    }
    panic!("no free ports");
}

fn client(config: &Path) -> HttpClient {
    let addr = NodeConfig::load(config).unwrap().rpc.addr;
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(5))
        .build(format!("http://{addr}"))
        .unwrap()
}

async fn wait_for<T, F, Fut>(what: &str, nodes: &Nodes, timeout: Duration, mut f: F) -> T
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
const PATIENCE: Duration = Duration::from_secs(90);

fn transfer(nonce: u64, chain_id: u64) -> Vec<u8> {
    let key = dev_key("alice");
    Transaction {
        chain_id,
        sender: address_of(&key),
        nonce,
        gas_limit: 1_000_000,
        gas_price: 1,
        action: Action::Transfer { to: dev_address("bob"), amount: 1_000 },
    }
    .sign(&key)
    .encode()
}

/// Waits until every node in `which` has the receipt of `hash`, and checks they agree on the
/// block holding it.
async fn final_everywhere(nodes: &Nodes, clients: &[HttpClient], which: &[usize], hash: Hash) -> ReceiptInfo {
    let mut first: Option<ReceiptInfo> = None;
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
            None => first = Some(receipt),
            Some(f) => assert_eq!(f.location, receipt.location, "node{i} holds the tx elsewhere"),
        }
    }
    first.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_finalize_survive_a_crash_and_catch_up() {
    let dir = tempfile::tempdir().unwrap();
    let (configs, genesis) = testnet(dir.path());
    let mut nodes = Nodes { children: (0..5).map(|_| None).collect(), configs: configs.clone() };
    for i in 0..5 {
        nodes.spawn(i);
    }
    let clients: Vec<HttpClient> = configs.iter().map(|c| client(c)).collect();
    for (i, c) in clients.iter().enumerate() {
        wait_for(&format!("node{i}'s RPC"), &nodes, PATIENCE, || async { c.node_info().await.ok() }).await;
    }

    // Once the network runs (every node has finalized a few blocks, so the gossip mesh has
    // formed), a transfer submitted to node0 is final in the same block on all of them.
    for (i, c) in clients.iter().enumerate() {
        wait_for(&format!("node{i} to finalize blocks"), &nodes, PATIENCE, || async {
            (c.chain_get_finalized().await.ok()?.height >= 3).then_some(())
        })
        .await;
    }
    let hash = clients[0].tx_submit(Bytes(transfer(0, genesis.chain_id))).await.unwrap();
    let receipt = final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], hash).await;
    let info = clients[1].node_info().await.unwrap();
    assert!(info.validator && !info.dev && info.peer_id.is_some());
    assert!(info.finalized_height >= receipt.location.block_height);
    let peers = clients[1].node_peers().await.unwrap();
    assert!(peers.len() >= 3, "{peers:?}");
    let follower = clients[4].node_info().await.unwrap();
    assert!(!follower.validator, "node 4 is not in the validator set");

    // Kill node3: the other three keep finalizing.
    nodes.kill(3);
    let hash = clients[1].tx_submit(Bytes(transfer(1, genesis.chain_id))).await.unwrap();
    let receipt = final_everywhere(&nodes, &clients, &[0, 1, 2], hash).await;
    let height = receipt.location.block_height;

    // The three move on well past node3's last block; restarted, node3 catches up.
    wait_for("the three to move on", &nodes, PATIENCE, || async {
        let head = clients[0].chain_get_head().await.ok()?;
        (head.height >= height + 10).then_some(())
    })
    .await;
    nodes.spawn(3);
    let target = clients[0].chain_get_head().await.unwrap();
    assert!(target.height >= height);
    wait_for("node3 to catch up", &nodes, PATIENCE, || async {
        let head = clients[3].chain_get_head().await.ok()?;
        (head.height >= target.height).then_some(())
    })
    .await;
    let block = clients[3].chain_get_block(BlockId::Height(target.height), None).await.unwrap().unwrap();
    assert_eq!(block.header.hash, target.hash);
    let parent = clients[3].chain_get_block(BlockId::Height(target.height - 1), None).await.unwrap().unwrap();
    assert_eq!(block.header.parent_hash, parent.header.hash);
    assert!(block.header.timestamp_ms >= parent.header.timestamp_ms + 100, "block_interval_ms is kept");
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3], hash).await;

    // Every validator killed at once and restarted: the network recovers from what each one
    // persisted (its votes and the proposals it voted on) and finalizes again.
    for i in 0..4 {
        nodes.kill(i);
    }
    for i in 0..4 {
        nodes.spawn(i);
    }
    for (i, c) in clients.iter().enumerate().take(4) {
        wait_for(&format!("node{i}'s RPC after the restart"), &nodes, PATIENCE, || async {
            c.node_info().await.ok()
        })
        .await;
    }
    let hash = clients[2].tx_submit(Bytes(transfer(2, genesis.chain_id))).await.unwrap();
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], hash).await;
}
