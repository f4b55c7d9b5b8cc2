//! Crash safety: a writer process committing blocks is killed with SIGKILL at different
//! moments; every time, the store reopens at a consistent head that holds every block the
//! writer reported committed, and the next writer continues from it. Then the same for a real
//! `weft-node dev` under a stream of transactions from an RPC client, killed and restarted
//! many times: nothing the client saw finalized is ever lost.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use weft_node::store::Store;
use weft_runtime::state::{StateBackend, tree};
use weft_types::Hash;

use crate::support::{commit_next, replay, txs_for, universe, writes_for};

/// Set (to the store's directory) only in the writer child the crash test spawns.
const WRITER_ENV: &str = "WEFT_STORE_WRITER_DIR";
/// The writer child's test name, as `--exact` wants it.
const WRITER_TEST: &str = "crash::store_writer_child_process";
/// Prefix of the line the writer prints after each commit returns.
const COMMITTED: &str = "committed ";

/// Helper process of [`store_survives_kill_9`], not a test: a no-op unless `WEFT_STORE_WRITER_DIR`
/// is set. Then it commits blocks of [`writes_for`] and [`txs_for`] on top of the store's head
/// until it is killed (or for at most a minute), printing `committed <height>` after each.
#[test]
fn store_writer_child_process() {
    let Some(dir) = std::env::var_os(WRITER_ENV) else {
        return;
    };
    let store = Store::open(&Path::new(&dir).join("store.redb")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let height = store.state().unwrap().next_version();
        commit_next(&store, writes_for(height), txs_for(height));
        println!("{COMMITTED}{height}");
    }
}

/// Checks the store at `path` after a crash: a head, whose state is exactly the replayed
/// writes of blocks `0..=head`, authenticated by the head's root; blocks linked; receipts of
/// the head indexed and none beyond it. Returns the head's height.
fn check_recovered(path: &Path) -> u64 {
    let store = Store::open(path).unwrap();
    let head = store.head().unwrap().expect("a head after the writer committed");
    let height = head.height;
    let state = store.state().unwrap();
    assert_eq!(state.head(), Some(&head));

    let expected = replay(height);
    assert_eq!(head.state_root, expected.root(), "head root is the replayed root");
    for key in universe() {
        assert_eq!(state.get(&key).unwrap().as_ref(), expected.kv.get(&key), "key {key:?} at {height}");
        let (value, proof) = tree::prove(&state, height, &key).unwrap();
        assert_eq!(value.as_ref(), expected.kv.get(&key));
        proof.verify(&head.state_root, &key, value.as_deref()).unwrap();
    }
    let (value, proof) = tree::prove(&state, height, b"height").unwrap();
    let last_written = (0..=height).rev().find(|h| h % 11 != 10).unwrap();
    assert_eq!(value, Some(last_written.to_le_bytes().to_vec()));
    proof.verify(&head.state_root, b"height", value.as_deref()).unwrap();

    let block = store.block_by_height(height).unwrap().unwrap();
    assert_eq!(block.header, head);
    assert_eq!(store.block_by_hash(&head.hash()).unwrap().unwrap().header, head);
    let parent = match height {
        0 => Hash::ZERO,
        _ => store.block_by_height(height - 1).unwrap().unwrap().hash(),
    };
    assert_eq!(head.parent_hash, parent);
    for tx in block.txs.iter() {
        assert_eq!(store.receipt(&tx.hash()).unwrap().map(|(h, i, _)| (h, i)), Some((height, 0)));
    }
    assert_eq!(store.block_by_height(height + 1).unwrap(), None);
    for tx in txs_for(height + 1) {
        assert_eq!(store.receipt(&tx.hash()).unwrap(), None);
    }
    height
}

#[test]
fn store_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.redb");
    // (commits to wait for, then how long to let the writer run on before the kill)
    let rounds = [(1, 0), (3, 250), (8, 1_100), (20, 2_700), (40, 6_300)];
    let mut head: Option<u64> = None;
    for (round, (commits, delay_us)) in rounds.into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", WRITER_TEST, "--nocapture", "--test-threads=1"])
            .env(WRITER_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines() {
            // libtest may print `test <name> ... ` on the same line, before the first one.
            if let Some((_, height)) = line.unwrap().split_once(COMMITTED) {
                seen.push(height.parse::<u64>().unwrap());
                if seen.len() == commits {
                    break;
                }
            }
        }
        if seen.len() < commits {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("round {round}: the writer stopped after {seen:?}:\n{stderr}");
        }
        thread::sleep(Duration::from_micros(delay_us));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        assert_eq!(seen[0], head.map_or(0, |h| h + 1), "round {round} continues from the head");
        let last = *seen.last().unwrap();
        let recovered = check_recovered(&path);
        assert!(recovered >= last, "round {round}: head {recovered}, but {last} was reported committed");
        eprintln!("round {round}: killed after commit {last}, recovered head {recovered}");
        head = Some(recovered);
    }
}

/// A `weft-node dev` process on `dir`; returns it and its RPC address.
fn start_dev(dir: &Path, round: usize) -> (std::process::Child, String) {
    let log = std::fs::File::create(dir.join(format!("stderr-{round}.log"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-node"))
        .args(["dev", "--rpc-addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.join("chain"))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if let Some(url) = line.unwrap().strip_prefix("weft-node ready: rpc=") {
            let addr = url.trim_start_matches("http://").to_owned();
            thread::spawn(move || lines.for_each(drop));
            return (child, addr);
        }
    }
    let _ = child.wait();
    let stderr = std::fs::read_to_string(dir.join(format!("stderr-{round}.log"))).unwrap_or_default();
    panic!("round {round}: weft-node dev exited before it was ready:\n{stderr}");
}

/// The live database of a dev data directory (the file `CURRENT` names).
fn dev_store(dir: &Path) -> Store {
    let chain = dir.join("chain");
    let name = std::fs::read_to_string(chain.join("CURRENT")).unwrap();
    Store::open(&chain.join(name.trim())).unwrap()
}

/// Sends transfers of 1 to `sink` from `senders` in turn, as fast as the node takes them,
/// re-reading a sender's pending nonce after a refusal, until the node goes away. Returns the
/// hashes the node accepted.
async fn load(
    http: jsonrpsee_http_client::HttpClient,
    senders: Vec<&'static str>,
    sink: weft_types::Address,
) {
    use parity_scale_codec::Encode;
    use weft_rpc_api::{Bytes, StateApiClient, TxApiClient};
    use weft_types::{
        Action, Transaction,
        dev::{dev_address, dev_key},
    };
    let mut nonces = Vec::new();
    for who in &senders {
        let Ok(account) = http.state_get_account(dev_address(who)).await else { return };
        nonces.push(account.pending_nonce);
    }
    loop {
        for (i, who) in senders.iter().enumerate() {
            let key = dev_key(who);
            let tx = Transaction {
                chain_id: weft_node::dev::DEV_CHAIN_ID,
                sender: dev_address(who),
                nonce: nonces[i],
                gas_limit: 100_000,
                gas_price: 1,
                action: Action::Transfer { to: sink, amount: 1 },
            };
            match http.tx_submit(Bytes(tx.sign(&key).encode())).await {
                Ok(_) => nonces[i] += 1,
                Err(jsonrpsee::core::client::Error::Call(_)) => {
                    let Ok(account) = http.state_get_account(dev_address(who)).await else { return };
                    nonces[i] = account.pending_nonce;
                }
                Err(_) => return,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_node_survives_repeated_kill_9_under_load() {
    use jsonrpsee_http_client::HttpClientBuilder;
    use jsonrpsee_ws_client::WsClientBuilder;
    use weft_rpc_api::ChainApiClient;
    use weft_types::{Address, dev::dev_address, state::account_key};

    let dir = tempfile::tempdir().unwrap();
    let sink = Address([0x5a; 32]);
    let senders = ["alice", "charlie", "dave"];
    // Per round: finalized blocks to see before the kill, then how long to let the node run on.
    let rounds: [(usize, u64); 12] =
        [(1, 0), (3, 1), (5, 7), (2, 13), (8, 3), (4, 29), (1, 2), (6, 0), (2, 5), (3, 11), (7, 17), (1, 23)];
    // Every block a client saw finalized, over all rounds: (height, hash).
    let mut finalized: Vec<(u64, weft_types::Hash)> = Vec::new();
    let mut last_head = 0;
    for (round, (blocks, delay_ms)) in rounds.into_iter().enumerate() {
        let (mut child, addr) = start_dev(dir.path(), round);
        let http = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();
        let ws = WsClientBuilder::default().build(format!("ws://{addr}")).await.unwrap();
        let head = http.chain_get_head().await.unwrap();
        assert_eq!(head.height, last_head, "round {round}: the restarted node continues from the last head");
        let mut heads = ws.chain_subscribe_finalized().await.unwrap();
        let loader = tokio::spawn(load(http.clone(), senders.to_vec(), sink));
        let mut seen = 0;
        while seen < blocks {
            let h = tokio::time::timeout(Duration::from_secs(60), heads.next())
                .await
                .unwrap_or_else(|_| panic!("round {round}: no block finalized within 60 s"))
                .unwrap()
                .unwrap();
            if h.tx_count > 0 {
                seen += 1;
            }
            finalized.push((h.height, h.hash));
        }
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL, mid-stream: the producer is committing blocks
        child.wait().unwrap();
        loader.abort();
        drop(ws);

        let store = dev_store(dir.path());
        let head = store.head().unwrap().expect("a head");
        let state = store.state().unwrap();
        assert_eq!(state.head(), Some(&head));
        for (height, hash) in &finalized {
            let block = store.block_by_height(*height).unwrap();
            assert_eq!(block.map(|b| b.hash()), Some(*hash), "round {round}: finalized block {height} lost");
            assert!(*height <= head.height);
        }
        let block = store.block_by_height(head.height).unwrap().unwrap();
        assert_eq!(block.header, head);
        for (i, tx) in block.txs.iter().enumerate() {
            assert_eq!(
                store.receipt(&tx.hash()).unwrap().map(|(h, n, _)| (h, n)),
                Some((head.height, i as u32))
            );
        }
        assert_eq!(store.block_by_height(head.height + 1).unwrap(), None);
        // The state at the head is the one its header commits to.
        let mut keys: Vec<Vec<u8>> = senders.iter().map(|n| account_key(&dev_address(n))).collect();
        keys.push(account_key(&sink));
        keys.push(account_key(&weft_node::dev::dev_proposer()));
        for key in keys {
            let (value, proof) = tree::prove(&state, head.height, &key).unwrap();
            assert_eq!(value, state.get(&key).unwrap());
            proof.verify(&head.state_root, &key, value.as_deref()).unwrap();
        }
        // Every transfer included is in the sink's balance, once: nonces count them.
        let nonces: u64 = senders
            .iter()
            .map(|n| weft_node::chain::account_in(&state, &dev_address(n)).unwrap().nonce)
            .sum();
        let balance = weft_node::chain::account_in(&state, &sink).unwrap().balance;
        assert_eq!(balance, u128::from(nonces), "round {round}");
        eprintln!("round {round}: killed; reopened at height {} with {nonces} transfers", head.height);
        assert!(head.height >= last_head);
        last_head = head.height;
    }
}
