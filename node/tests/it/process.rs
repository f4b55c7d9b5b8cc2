//! The `weft-node dev` binary as a user runs it: it prints the dev accounts and its address,
//! serves JSON-RPC, stops cleanly on Ctrl-C (SIGINT) or SIGTERM, and continues the chain from the same
//! `--data-dir`.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use jsonrpsee_http_client::HttpClientBuilder;
use weft_rpc_api::{ChainApiClient, ContractApiClient, DevApiClient, NodeApiClient};

/// Starts the binary; returns it, its RPC URL and what it printed before it was ready.
fn start(data_dir: &std::path::Path, extra: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-node"))
        .args(["dev", "--rpc-addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(data_dir.join("stderr.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(url) = line.strip_prefix("weft-node ready: rpc=") {
            // Keep draining stdout so the node never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, url.to_owned(), printed);
        }
    }
    let _ = child.wait();
    let stderr = std::fs::read_to_string(data_dir.join("stderr.log")).unwrap_or_default();
    panic!("weft-node exited before it was ready:\n{printed}\n{stderr}");
}

/// Sends SIGINT, as Ctrl-C does, and waits for a clean exit.
fn interrupt(child: Child) {
    stop_with(child, "-INT");
}

/// Sends `signal` (a `kill` flag) and waits for a clean exit.
fn stop_with(mut child: Child, signal: &str) {
    let status = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("weft-node did not stop within 10 s of {signal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_binary_serves_stops_on_ctrl_c_or_sigterm_and_continues_its_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, printed) = start(dir.path(), &[]);
    for name in weft_types::dev::DEV_ACCOUNTS {
        let line = printed.lines().find(|l| l.trim_start().starts_with(name)).unwrap();
        assert!(line.contains(&weft_types::dev::dev_address(name).to_string()), "{line}");
    }
    let client = HttpClientBuilder::default().build(&url).unwrap();
    assert_eq!(client.node_info().await.unwrap().chain_id, weft_node::dev::DEV_CHAIN_ID);
    let head = client.dev_mine(Some(2)).await.unwrap();
    assert_eq!(head.height, 2);
    interrupt(child);

    let (child, url, _) = start(dir.path(), &[]);
    let client = HttpClientBuilder::default().build(&url).unwrap();
    assert_eq!(client.chain_get_head().await.unwrap(), head);
    stop_with(child, "-TERM");
}

#[test]
fn a_temporary_chain_is_removed_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weft-node"))
        .args(["dev", "--rpc-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut data_dir = None;
    // Kept open until the end: the node must never write to a closed pipe.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some((_, dir)) = line.split_once(" — data in ") {
            data_dir = Some(std::path::PathBuf::from(dir));
        }
        if line.starts_with("weft-node ready: rpc=") {
            break;
        }
    }
    let data_dir = data_dir.expect("the node prints its data directory");
    assert!(data_dir.exists());
    stop_with(child, "-TERM");
    assert!(!data_dir.exists(), "{} left behind", data_dir.display());
    drop(lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_examples_deploys_the_example_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, printed) = start(dir.path(), &["--with-examples"]);
    let client = HttpClientBuilder::default().build(&url).unwrap();
    let address = |name: &str| -> weft_types::Address {
        let line = printed.lines().find(|l| l.trim_start().starts_with(&format!("example {name} "))).unwrap();
        line.split_whitespace().last().unwrap().parse().unwrap()
    };
    for name in ["token", "nft", "voting", "supply-chain", "ip-registry", "escrow"] {
        let abi = client.contract_get_abi(address(name)).await.unwrap().unwrap();
        assert!(abi["methods"].as_array().is_some_and(|m| !m.is_empty()), "{name}: {abi}");
    }
    let q = client
        .contract_query(weft_rpc_api::QueryRequest {
            contract: address("token"),
            method: "total_supply".into(),
            input: weft_rpc_api::CallInput::default(),
            caller: None,
            gas_limit: None,
        })
        .await
        .unwrap();
    assert_eq!(q.value, Some(serde_json::json!("1000000000000")));
    let alice = weft_types::dev::dev_address("alice");
    let state = |client: jsonrpsee_http_client::HttpClient| async move {
        let nonce = weft_rpc_api::StateApiClient::state_get_account(&client, alice).await.unwrap().nonce;
        (nonce, client.chain_get_head().await.unwrap().height)
    };
    let before = state(client).await;
    interrupt(child);

    // Restarted on the same data directory: the examples are found where they are, nothing
    // is sent again.
    let (child, url, again) = start(dir.path(), &["--with-examples"]);
    let examples =
        |printed: &str| printed.lines().filter(|l| l.contains("example ")).collect::<Vec<_>>().join("\n");
    assert_eq!(examples(&again), examples(&printed));
    assert_eq!(state(HttpClientBuilder::default().build(&url).unwrap()).await, before);
    interrupt(child);
}
