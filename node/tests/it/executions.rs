//! Contract execution for RPC clients is bounded and never takes block production down: many
//! clients running maximal queries (each seven nested calls deep, then spinning to the gas
//! limit) get answers or a clear "busy" refusal, while transfers keep being included; and code
//! compiled once, at upload, is loaded from disk after a restart (rebuilt at start if deleted).

use std::time::{Duration, Instant};

use jsonrpsee_http_client::HttpClientBuilder;
use jsonrpsee_ws_client::WsClientBuilder;
use parity_scale_codec::Encode;
use weft_node::{
    dev::{DEV_CHAIN_ID, DevConfig, DevNode},
    rpc::RpcConfig,
};
use weft_rpc_api::{
    Bytes, CallInput, ContractApiClient, NodeApiClient, QueryRequest, StateApiClient, TxApiClient, TxStatus,
    codes,
};
use weft_types::{
    Address, Transaction,
    codec::BoundedBytes,
    dev::{dev_address, dev_key},
    limits::MAX_TX_GAS,
    tx::{Action, address_of},
};

/// `deep(n)`: calls itself `n` times nested (reentrant), then spins until out of gas (each
/// caller keeps 1/64 of its gas, so the outermost call ends well).
fn deep_wasm() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (import "weft" "input_read" (func $iread (param i32)))
          (import "weft" "self_address" (func $self (param i32)))
          (import "weft" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "deep")
          (func (export "__weft_reentrant"))
          (func (export "deep")
            (call $iread (i32.const 0))
            (if (i32.load8_u (i32.const 0))
              (then
                (i32.store8 (i32.const 0) (i32.sub (i32.load8_u (i32.const 0)) (i32.const 1)))
                (call $self (i32.const 32))
                (drop (call $call (i32.const 32) (i32.const 64) (i32.const 4) (i32.const 0) (i32.const 1)
                  (i32.const 128) (i64.const 0))))
              (else (loop $l (br $l))))))"#,
    )
    .unwrap()
}

fn sign(who: &str, nonce: u64, action: Action) -> Vec<u8> {
    let key = dev_key(who);
    Transaction {
        chain_id: DEV_CHAIN_ID,
        sender: address_of(&key),
        nonce,
        gas_limit: 50_000_000,
        gas_price: 1,
        action,
    }
    .sign(&key)
    .encode()
}

/// A dev node with `rpc` on an ephemeral port, and HTTP and WebSocket clients of it.
async fn start(
    rpc: RpcConfig,
) -> (DevNode, jsonrpsee_http_client::HttpClient, jsonrpsee_ws_client::WsClient) {
    let config = DevConfig { rpc_addr: "127.0.0.1:0".parse().unwrap(), rpc, ..DevConfig::default() };
    let node = DevNode::start(config).await.unwrap();
    let url = node.rpc_addr();
    let http = HttpClientBuilder::default().build(format!("http://{url}")).unwrap();
    let ws = WsClientBuilder::default().build(format!("ws://{url}")).await.unwrap();
    (node, http, ws)
}

/// Submits `tx` and waits until it is finalized; returns how long that took.
async fn finalize(
    ws: &jsonrpsee_ws_client::WsClient,
    http: &jsonrpsee_http_client::HttpClient,
    tx: Vec<u8>,
) -> Duration {
    let started = Instant::now();
    let hash = http.tx_submit(Bytes(tx)).await.unwrap();
    let mut sub = ws.tx_subscribe_status(hash).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), sub.next()).await.unwrap().unwrap().unwrap() {
            TxStatus::Finalized { .. } => return started.elapsed(),
            TxStatus::Dropped { reason } => panic!("dropped: {reason}"),
            _ => {}
        }
    }
}

/// Uploads and instantiates `wasm` from alice (her first two transactions); returns the contract.
async fn deploy(
    ws: &jsonrpsee_ws_client::WsClient,
    http: &jsonrpsee_http_client::HttpClient,
    wasm: Vec<u8>,
) -> Address {
    let code_hash = weft_types::sha3_256(&wasm);
    finalize(ws, http, sign("alice", 0, Action::UploadCode { code: BoundedBytes::new(wasm).unwrap() })).await;
    let salt = BoundedBytes::new(vec![]).unwrap();
    let instantiate =
        Action::Instantiate { code_hash, args: BoundedBytes::new(vec![]).unwrap(), value: 0, salt };
    finalize(ws, http, sign("alice", 1, instantiate)).await;
    Address::contract(&dev_address("alice"), &code_hash, &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saturating_queries_are_bounded_and_blocks_keep_coming() {
    let rpc = RpcConfig {
        max_executions: 2,
        max_executions_per_connection: 1,
        execution_wait: Duration::from_millis(300),
        // Not what this test is about: a loaded machine may run a maximal query slowly.
        max_execution_time: Duration::from_secs(60),
        ..RpcConfig::default()
    };
    let (node, http, ws) = start(rpc).await;

    let contract = deploy(&ws, &http, deep_wasm()).await;

    // 20 WebSocket clients, each keeping two maximal queries in flight, for the whole test: 40
    // executions of 8 frames each would need more instances than a VM pool holds (256).
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut clients = Vec::new();
    for _ in 0..20 {
        let client = WsClientBuilder::default().build(format!("ws://{}", node.rpc_addr())).await.unwrap();
        clients.push(std::sync::Arc::new(client));
    }
    let mut load = Vec::new();
    for client in clients.iter().flat_map(|c| [c.clone(), c.clone()]) {
        load.push(tokio::spawn(async move {
            let (mut answered, mut busy) = (0, 0);
            while Instant::now() < deadline {
                let request = QueryRequest {
                    contract,
                    method: "deep".into(),
                    input: CallInput { args: None, input: Some(Bytes(vec![7])) },
                    caller: None,
                    gas_limit: Some(MAX_TX_GAS),
                };
                match client.contract_query(request).await {
                    Ok(result) => {
                        assert!(result.gas_used > MAX_TX_GAS / 2, "the query ran: {result:?}");
                        answered += 1;
                    }
                    Err(jsonrpsee::core::client::Error::Call(e)) if e.code() == codes::BUSY => {
                        assert!(e.message().contains("limit"), "{}", e.message());
                        busy += 1;
                    }
                    Err(e) => panic!("unexpected answer: {e}"),
                }
            }
            (answered, busy)
        }));
    }

    // Transfers keep being included, each promptly, while the queries saturate their bounds.
    let dave = dev_address("dave");
    let mut slowest = Duration::ZERO;
    for nonce in 0..5 {
        let transfer = Action::Transfer { to: dave, amount: 1 };
        slowest = slowest.max(finalize(&ws, &http, sign("bob", nonce, transfer)).await);
    }
    let (mut answered, mut busy) = (0, 0);
    for task in load {
        let (a, b) = task.await.unwrap();
        answered += a;
        busy += b;
    }
    assert!(answered > 0, "queries are served");
    assert!(busy > 0, "and the ones over the bounds are refused as busy");
    let metrics = http.node_metrics().await.unwrap();
    assert_eq!(metrics.rpc_executions_busy, busy, "operators see every refusal");
    assert_eq!(metrics.code_compiled, 1, "the upload; no query compiled anything");
    assert!(slowest < Duration::from_secs(5), "a transfer took {slowest:?} under query load");
    assert_eq!(http.state_get_account(dev_address("bob")).await.unwrap().nonce, 5);
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_and_estimates_past_the_time_limit_are_interrupted_and_say_so() {
    let rpc = RpcConfig { max_execution_time: Duration::from_millis(30), ..RpcConfig::default() };
    let (node, http, ws) = start(rpc).await;
    let contract = deploy(&ws, &http, deep_wasm()).await;
    let query = |depth: u8, gas| QueryRequest {
        contract,
        method: "deep".into(),
        input: CallInput { args: None, input: Some(Bytes(vec![depth])) },
        caller: None,
        gas_limit: Some(gas),
    };
    // Spinning on 500M gas takes well over 30 ms; a nested call spinning too.
    for depth in [0, 3] {
        let started = Instant::now();
        let e = match http.contract_query(query(depth, MAX_TX_GAS)).await {
            Err(jsonrpsee::core::client::Error::Call(e)) => e,
            other => panic!("expected the time limit, got {other:?}"),
        };
        assert_eq!(e.code(), codes::LIMIT_EXCEEDED, "{}", e.message());
        assert!(e.message().contains("30 ms"), "{}", e.message());
        assert!(started.elapsed() < Duration::from_secs(2), "interrupted promptly: {:?}", started.elapsed());
    }
    // Within the limit, the same code answers.
    let small = http.contract_query(query(0, 1_000_000)).await.unwrap();
    assert!(!small.success && small.gas_used > 0, "{small:?}");
    // An estimate is bounded the same way.
    let action = weft_rpc_api::EstimateAction::Call {
        contract,
        method: "deep".into(),
        input: CallInput { args: None, input: Some(Bytes(vec![0])) },
        value: None,
    };
    let request = weft_rpc_api::EstimateRequest { from: dev_address("bob"), action };
    match http.contract_estimate_gas(request).await {
        Err(jsonrpsee::core::client::Error::Call(e)) => assert_eq!(e.code(), codes::LIMIT_EXCEEDED),
        other => panic!("expected the time limit, got {other:?}"),
    }
    // And blocks are not limited by it.
    let transfer = Action::Transfer { to: dev_address("dave"), amount: 1 };
    finalize(&ws, &http, sign("bob", 0, transfer)).await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_loads_compiled_code_from_disk_and_rebuilds_what_was_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let config = || DevConfig {
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: Some(dir.path().to_path_buf()),
        ..DevConfig::default()
    };
    let query = |contract| QueryRequest {
        contract,
        method: "deep".into(),
        input: CallInput { args: None, input: Some(Bytes(vec![1])) },
        caller: None,
        gas_limit: Some(1_000_000),
    };
    let node = DevNode::start(config()).await.unwrap();
    let url = node.rpc_addr();
    let http = HttpClientBuilder::default().build(format!("http://{url}")).unwrap();
    let ws = WsClientBuilder::default().build(format!("ws://{url}")).await.unwrap();
    let contract = deploy(&ws, &http, deep_wasm()).await;
    let before = http.contract_query(query(contract)).await.unwrap();
    // Code that takes a while to compile (in a test build), so that preparing it is seen.
    let mut bulky = String::from("(module (memory (export \"memory\") 1)");
    for i in 0..150 {
        bulky.push_str(&format!("(func $f{i} (param i64) (result i64) local.get 0"));
        bulky.push_str(&" i64.const 3 i64.mul i64.const 7 i64.add".repeat(40));
        bulky.push(')');
    }
    bulky.push(')');
    let code = BoundedBytes::new(wat::parse_str(bulky).unwrap()).unwrap();
    let key = dev_key("alice");
    let upload = Transaction {
        chain_id: DEV_CHAIN_ID,
        sender: address_of(&key),
        nonce: 2,
        gas_limit: 200_000_000,
        gas_price: 1,
        action: Action::UploadCode { code },
    };
    finalize(&ws, &http, upload.sign(&key).encode()).await;
    assert_eq!(node.chain().ledger.runtime().vm().compiled(), 2, "each upload compiled its code");
    node.shutdown().await;

    for (deleted, compiled_at_start) in [(false, 0), (true, 2)] {
        if deleted {
            std::fs::remove_dir_all(dir.path().join("artifacts")).unwrap();
        }
        let node = DevNode::start(config()).await.unwrap();
        let vm = node.chain().ledger.runtime().vm().clone();
        let http = HttpClientBuilder::default().build(format!("http://{}", node.rpc_addr())).unwrap();
        // JSON-RPC serves while stored code is prepared in the background, the node reporting
        // itself syncing until then.
        if deleted {
            assert!(http.node_health().await.unwrap().syncing, "answers while compiling");
        }
        let ready = Instant::now() + Duration::from_secs(60);
        while http.node_health().await.unwrap().syncing {
            assert!(Instant::now() < ready, "preparing stored code never finished");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(vm.compiled(), compiled_at_start, "artifacts deleted: {deleted}");
        let after = http.contract_query(query(contract)).await.unwrap();
        assert_eq!(after.gas_used, before.gas_used);
        assert_eq!(vm.compiled(), compiled_at_start, "queries and their nested calls compile nothing");
        node.shutdown().await;
    }
}

/// `outer` calls `work` (itself, reentrant) with all the gas it may give, and reverts if the
/// call failed; `work` loops 20,000 times. At a limit of exactly the gas `outer` uses with more,
/// `work` gets only 63/64 of what is left and runs out.
fn nested_worker_wasm() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (import "weft" "self_address" (func $self (param i32)))
          (import "weft" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
          (import "weft" "revert" (func $revert (param i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 64) "work")
          (func (export "__weft_reentrant"))
          (func (export "work") (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 20000)))))
          (func (export "outer")
            (call $self (i32.const 32))
            (if (call $call (i32.const 32) (i32.const 64) (i32.const 4) (i32.const 0) (i32.const 0)
                  (i32.const 128) (i64.const 0))
              (then (call $revert (i32.const 0) (i32.const 0))))))"#,
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estimate_is_the_smallest_gas_limit_that_succeeds_even_with_nested_calls() {
    let (node, http, ws) = start(RpcConfig::default()).await;
    let contract = deploy(&ws, &http, nested_worker_wasm()).await;

    let request = weft_rpc_api::EstimateRequest {
        from: dev_address("bob"),
        action: weft_rpc_api::EstimateAction::Call {
            contract,
            method: "outer".into(),
            input: CallInput { args: None, input: Some(Bytes(vec![])) },
            value: None,
        },
    };
    let estimate = http.contract_estimate_gas(request).await.unwrap();
    assert!(estimate.success, "{:?}", estimate.error);
    let call = || Action::Call {
        contract,
        method: weft_types::MethodName::new("outer").unwrap(),
        args: BoundedBytes::new(vec![]).unwrap(),
        value: 0,
    };
    let receipt = |limit: u64, nonce: u64| {
        let key = dev_key("bob");
        let tx = Transaction {
            chain_id: DEV_CHAIN_ID,
            sender: address_of(&key),
            nonce,
            gas_limit: limit,
            gas_price: 1,
            action: call(),
        };
        tx.sign(&key)
    };
    for (nonce, (limit, succeeds)) in
        [(estimate.gas_used - 1, false), (estimate.gas_used, true)].into_iter().enumerate()
    {
        let tx = receipt(limit, nonce as u64);
        let hash = tx.hash();
        finalize(&ws, &http, tx.encode()).await;
        let r = http.tx_get_receipt(hash).await.unwrap().unwrap();
        assert_eq!(r.success, succeeds, "limit {limit} (estimate {})", estimate.gas_used);
    }
    node.shutdown().await;
}
