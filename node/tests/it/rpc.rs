//! The dev chain's JSON-RPC API over real HTTP and WebSocket on 127.0.0.1: every method, the
//! JSON-RPC 2.0 error cases, the application error codes, subscriptions, dev controls, proofs,
//! restarts, and the OpenRPC document against the registered methods.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use jsonrpsee::core::client::{ClientT, Subscription};
use jsonrpsee_http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee_ws_client::{WsClient, WsClientBuilder};
use parity_scale_codec::{Decode, Encode};
use serde_json::{Value, json};
use weft_node::{
    dev::{DEV_CHAIN_ID, DevConfig, DevNode},
    rpc::{CorsOrigins, RpcConfig, WeftRpc},
};
use weft_rpc_api::{
    BlockId, Bytes, CallInput, ChainApiClient, ContractApiClient, DevApiClient, EstimateAction,
    EstimateRequest, EventFilter, NodeApiClient, QueryRequest, StateApiClient, TxApiClient, TxStatus, codes,
    openrpc,
};
use weft_runtime::state::tree::StateProof;
use weft_types::{
    Address, Transaction,
    codec::BoundedBytes,
    dev::{DEV_BALANCE, dev_address, dev_key},
    state::account_key,
    tx::{Action, address_of},
};

/// A dev node on an ephemeral port with clients for it.
struct Dev {
    node: DevNode,
    http: HttpClient,
    ws: WsClient,
}

impl Dev {
    async fn start(data_dir: Option<std::path::PathBuf>) -> Dev {
        let config = DevConfig {
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            data_dir,
            rpc: RpcConfig { max_batch_len: 16, max_request_bytes: 1 << 20, ..RpcConfig::default() },
            ..DevConfig::default()
        };
        let node = DevNode::start(config).await.unwrap();
        let addr = node.rpc_addr();
        let http = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();
        let ws = WsClientBuilder::default().build(format!("ws://{addr}")).await.unwrap();
        Dev { node, http, ws }
    }

    fn addr(&self) -> SocketAddr {
        self.node.rpc_addr()
    }

    /// Signs a transaction of `who` with its next nonce.
    async fn tx(&self, who: &str, action: Action) -> Vec<u8> {
        let nonce = self.http.state_get_account(dev_address(who)).await.unwrap().nonce;
        sign(who, nonce, DEV_CHAIN_ID, 50_000_000, action)
    }

    /// Submits `bytes` and waits for finality through `tx_subscribeStatus`.
    async fn send(&self, bytes: Vec<u8>) -> weft_rpc_api::ReceiptInfo {
        let hash = self.http.tx_submit(Bytes(bytes)).await.unwrap();
        let mut sub: Subscription<TxStatus> = self.ws.tx_subscribe_status(hash).await.unwrap();
        loop {
            let status =
                tokio::time::timeout(Duration::from_secs(20), sub.next()).await.unwrap().unwrap().unwrap();
            match status {
                TxStatus::Finalized { .. } => break,
                TxStatus::Dropped { reason } => panic!("dropped: {reason}"),
                TxStatus::Pending | TxStatus::Included { .. } => {}
                TxStatus::Unknown => panic!("unknown after submit"),
            }
        }
        self.http.tx_get_receipt(hash).await.unwrap().expect("a receipt once finalized")
    }

    /// Uploads and instantiates `wasm` from alice; returns the contract address.
    async fn deploy(&self, wasm: Vec<u8>, args: Vec<u8>) -> Address {
        let code_hash = weft_types::sha3_256(&wasm);
        let r = self
            .send(self.tx("alice", Action::UploadCode { code: BoundedBytes::new(wasm).unwrap() }).await)
            .await;
        assert!(r.success, "{:?}", r.error);
        let instantiate = Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(args).unwrap(),
            value: 0,
            salt: BoundedBytes::new(vec![]).unwrap(),
        };
        let r = self.send(self.tx("alice", instantiate).await).await;
        assert!(r.success, "{:?}", r.error);
        r.contract_address.unwrap()
    }
}

fn sign(who: &str, nonce: u64, chain_id: u64, gas_limit: u64, action: Action) -> Vec<u8> {
    let key = dev_key(who);
    Transaction { chain_id, sender: address_of(&key), nonce, gas_limit, gas_price: 1, action }
        .sign(&key)
        .encode()
}

fn transfer(to: Address, amount: u128) -> Action {
    Action::Transfer { to, amount }
}

/// The WAT token with an ABI section, so that calls and results go through JSON.
fn token_wasm() -> Vec<u8> {
    let wasm = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/wat/token.wat")).unwrap();
    let abi = json!({
        "weft_abi": 1,
        "contract": "wat-token",
        "constructor": { "args": [{ "name": "supply", "type": "u64" }] },
        "methods": [
            { "name": "transfer", "args": [{ "name": "to", "type": "address" }, { "name": "amount", "type": "u64" }] },
            { "name": "balance_of", "args": [{ "name": "who", "type": "address" }], "returns": "u64", "mutates": false }
        ]
    });
    weft_abi::with_abi_section(&wasm, &abi.to_string())
}

/// A contract emitting `Ping(n: u64)` (its own name hashed as topic 0) from `ping(n)`.
fn pinger_wasm() -> Vec<u8> {
    let wasm = wat::parse_str(
        r#"(module
          (import "weft" "input_read" (func $iread (param i32)))
          (import "weft" "sha3_256" (func $sha3 (param i32 i32 i32)))
          (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "Ping")
          (func (export "ping")
            (call $sha3 (i32.const 0) (i32.const 4) (i32.const 64))
            (call $iread (i32.const 128))
            (call $emit (i32.const 64) (i32.const 1) (i32.const 128) (i32.const 8))))"#,
    )
    .unwrap();
    let abi = json!({
        "weft_abi": 1,
        "methods": [{ "name": "ping", "args": [{ "name": "n", "type": "u64" }] }],
        "events": [{ "name": "Ping", "fields": [{ "name": "n", "type": "u64", "indexed": false }] }]
    });
    weft_abi::with_abi_section(&wasm, &abi.to_string())
}

/// A contract whose `run` calls `$outer`, which calls `$divide`, which divides by zero.
fn trapper_wasm() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (memory (export "memory") 1)
          (func $divide (result i32) (i32.div_u (i32.const 1) (i32.const 0)))
          (func $outer (drop (call $divide)))
          (func (export "run") (call $outer)))"#,
    )
    .unwrap()
}

/// Posts raw bytes to the server; returns the status code and the body.
fn raw_post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let (status, _, body) = raw_request(addr, "POST /", &[], body);
    (status, body)
}

/// Sends one HTTP/1.1 request (`target`: method and path, e.g. `GET /metrics`) with a JSON
/// content type; returns the status code, the header lines in lower case and the body.
pub(crate) fn raw_request(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<String>, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!(
        "{target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers = head.lines().skip(1).map(str::to_ascii_lowercase).collect();
    (status, headers, body.to_owned())
}

fn error_code(e: jsonrpsee::core::client::Error) -> (i32, String) {
    match e {
        jsonrpsee::core::client::Error::Call(obj) => (obj.code(), obj.message().to_owned()),
        other => panic!("not a call error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_blocks_receipts_and_subscriptions() {
    let dev = Dev::start(None).await;
    let info = dev.http.node_info().await.unwrap();
    assert_eq!((info.chain_id, info.height, info.dev, info.validator), (DEV_CHAIN_ID, 0, true, true));
    assert!(dev.http.node_health().await.unwrap().healthy);
    assert!(dev.http.node_peers().await.unwrap().is_empty());
    let alice = dev.http.state_get_account(dev_address("alice")).await.unwrap();
    assert_eq!((alice.balance, alice.nonce), (DEV_BALANCE, 0));

    let mut heads = dev.ws.chain_subscribe_heads().await.unwrap();
    let mut finalized = dev.ws.chain_subscribe_finalized().await.unwrap();
    let bob = Address([0xb0; 32]);
    let receipt = dev.send(dev.tx("alice", transfer(bob, 1234)).await).await;
    assert!(receipt.success);
    assert_eq!(receipt.location.block_height, 1);
    assert_eq!(dev.http.state_get_account(bob).await.unwrap().balance, 1234);
    let head = heads.next().await.unwrap().unwrap();
    assert_eq!((head.height, head.tx_count), (1, 1));
    assert_eq!(finalized.next().await.unwrap().unwrap().hash, head.hash);
    assert_eq!(dev.http.chain_get_head().await.unwrap(), head);
    assert_eq!(dev.http.chain_get_finalized().await.unwrap(), head);

    let block = dev.http.chain_get_block(BlockId::Hash(head.hash), Some(true)).await.unwrap().unwrap();
    assert_eq!(block.tx_hashes, vec![receipt.tx_hash]);
    let txs = block.transactions.unwrap();
    assert_eq!(txs[0].sender, dev_address("alice"));
    assert_eq!(dev.http.chain_get_block(BlockId::Height(1), None).await.unwrap().unwrap().transactions, None);
    assert!(dev.http.chain_get_block(BlockId::Height(99), None).await.unwrap().is_none());
    let tx = dev.http.tx_get(receipt.tx_hash).await.unwrap().unwrap();
    assert_eq!(tx.location.unwrap().block_hash, head.hash);
    assert!(dev.http.tx_get(weft_types::Hash([1; 32])).await.unwrap().is_none());
    assert!(dev.http.tx_get_receipt(weft_types::Hash([1; 32])).await.unwrap().is_none());

    // A status subscription to a finalized transaction answers at once.
    let mut done = dev.ws.tx_subscribe_status(receipt.tx_hash).await.unwrap();
    assert!(matches!(done.next().await.unwrap().unwrap(), TxStatus::Finalized { success: true, .. }));

    // Subscribe, then submit: `unknown` first, then the transaction followed to finality.
    let bytes = dev.tx("alice", transfer(bob, 3)).await;
    let hash = weft_types::sha3_256(&bytes);
    let mut early = dev.ws.tx_subscribe_status(hash).await.unwrap();
    assert_eq!(early.next().await.unwrap().unwrap(), TxStatus::Unknown);
    assert_eq!(dev.http.tx_submit(Bytes(bytes)).await.unwrap(), hash);
    let mut seen = Vec::new();
    while let Ok(Some(status)) = tokio::time::timeout(Duration::from_secs(20), early.next()).await {
        seen.push(status.unwrap());
    }
    assert!(matches!(seen.last(), Some(TxStatus::Finalized { success: true, .. })), "{seen:?}");

    // A batch: two good, one bad, one result each.
    let n = dev.http.state_get_account(dev_address("bob")).await.unwrap().nonce;
    let batch = vec![
        Bytes(sign("bob", n, DEV_CHAIN_ID, 50_000, transfer(bob, 1))),
        Bytes(sign("bob", n + 1, DEV_CHAIN_ID, 50_000, transfer(bob, 2))),
        Bytes(vec![1, 2, 3]),
    ];
    let results = dev.http.tx_submit_batch(batch).await.unwrap();
    assert!(results[0].hash.is_some() && results[1].hash.is_some());
    assert_eq!(results[2].error.as_ref().unwrap().code, codes::TX_DECODE);
    for _ in 0..100 {
        if dev.http.state_get_account(bob).await.unwrap().balance == 1240 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dev.http.state_get_account(bob).await.unwrap().balance, 1240);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_stable_codes_and_say_why() {
    let dev = Dev::start(None).await;
    let bob = Address([0xb0; 32]);
    let submit = |bytes: Vec<u8>| {
        let http = dev.http.clone();
        async move { error_code(http.tx_submit(Bytes(bytes)).await.unwrap_err()) }
    };
    // Garbage, truncated, a length prefix far past the end.
    assert_eq!(submit(vec![0xff; 3]).await.0, codes::TX_DECODE);
    let good = sign("alice", 0, DEV_CHAIN_ID, 50_000, transfer(bob, 1));
    assert_eq!(submit(good[..good.len() - 5].to_vec()).await.0, codes::TX_DECODE);
    // A bad signature.
    let mut forged = good.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let (code, msg) = submit(forged).await;
    assert_eq!(code, codes::TX_BAD_SIGNATURE, "{msg}");
    // The wrong chain.
    let (code, msg) = submit(sign("alice", 0, 7, 50_000, transfer(bob, 1))).await;
    assert_eq!(code, codes::TX_WRONG_CHAIN);
    assert!(msg.contains("1337") && msg.contains('7'), "{msg}");
    // Nonces too low and too high.
    dev.send(good.clone()).await;
    let (code, msg) = submit(sign("alice", 0, DEV_CHAIN_ID, 50_000, transfer(bob, 1))).await;
    assert_eq!((code, msg.as_str()), (codes::TX_NONCE_TOO_LOW, "nonce too low: account has 1, tx has 0"));
    let (code, msg) = submit(sign("alice", 1_000_000, DEV_CHAIN_ID, 50_000, transfer(bob, 1))).await;
    assert_eq!(code, codes::TX_NONCE_TOO_HIGH, "{msg}");
    // No balance for the fee.
    let (code, msg) = submit(sign("nobody", 0, DEV_CHAIN_ID, 50_000, transfer(bob, 1))).await;
    assert_eq!(code, codes::TX_INSUFFICIENT_BALANCE, "{msg}");
    // Gas out of bounds.
    let (code, _) = submit(sign("alice", 1, DEV_CHAIN_ID, 10, transfer(bob, 1))).await;
    assert_eq!(code, codes::TX_BAD_GAS);
    // The same transaction twice.
    let dup = sign("alice", 5, DEV_CHAIN_ID, 50_000, transfer(bob, 1));
    dev.http.tx_submit(Bytes(dup.clone())).await.unwrap();
    assert_eq!(submit(dup).await.0, codes::TX_ALREADY_KNOWN);

    // JSON-RPC 2.0 errors over raw HTTP.
    let (_, body) = raw_post(dev.addr(), b"{not json");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32700);
    let (_, body) =
        raw_post(dev.addr(), br#"{"jsonrpc":"2.0","id":1,"method":"no_such_method","params":[]}"#);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"]["code"], -32601);
    let (_, body) =
        raw_post(dev.addr(), br#"{"jsonrpc":"2.0","id":1,"method":"state_getAccount","params":[42]}"#);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], -32602, "{v}");
    let (_, body) =
        raw_post(dev.addr(), br#"{"jsonrpc":"2.0","id":1,"method":"state_getAccount","params":["0x12"]}"#);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], -32602);
    assert!(v["error"]["data"].as_str().unwrap().contains("64 hex digits"), "{v}");
    let (_, body) = raw_post(dev.addr(), br#"{"jsonrpc":"2.0","method":"node_info"}"#);
    assert!(body.is_empty() || !body.contains("result"), "a notification gets no answer: {body}");
    // A batch over the limit (16 in this test) and one within it.
    let call = json!({"jsonrpc":"2.0","id":1,"method":"node_health","params":[]});
    let (_, body) = raw_post(dev.addr(), json!(vec![call.clone(); 17]).to_string().as_bytes());
    assert!(body.contains("-32010") || body.contains("Batch"), "{body}");
    let (_, body) = raw_post(dev.addr(), json!(vec![call; 3]).to_string().as_bytes());
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 3);
    // A body over the request limit (1 MiB here) is refused before it is parsed.
    let big =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tx_submit","params":["0x{}"]}}"#, "00".repeat(600_000));
    let (status, _) = raw_post(dev.addr(), big.as_bytes());
    assert_eq!(status, 413);
    // An oversized transaction within the body limit: refused by its decode limit.
    let (code, msg) = submit(vec![0; 400_000]).await;
    assert_eq!(code, codes::TX_DECODE, "{msg}");
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_through_the_abi() {
    let dev = Dev::start(None).await;
    let token = dev.deploy(token_wasm(), 1_000u64.encode()).await;
    let alice = dev_address("alice");
    let bob = Address([0xb0; 32]);

    let abi = dev.http.contract_get_abi(token).await.unwrap().unwrap();
    assert_eq!(abi["contract"], "wat-token");
    assert_eq!(dev.http.contract_get_code(token).await.unwrap().0, token_wasm());
    let (code, _) = error_code(dev.http.contract_get_code(bob).await.unwrap_err());
    assert_eq!(code, codes::NOT_A_CONTRACT);

    let query = |method: &str, args: Value| QueryRequest {
        contract: token,
        method: method.into(),
        input: CallInput { args: Some(args), input: None },
        caller: None,
        gas_limit: None,
    };
    let q = dev.http.contract_query(query("balance_of", json!({ "who": alice }))).await.unwrap();
    assert!(q.success);
    assert_eq!(q.value, Some(json!(1000)));
    assert!(q.gas_used > 0);

    // Estimate a call exactly, then make it with that gas limit.
    let call = Action::Call {
        contract: token,
        method: weft_types::MethodName::new("transfer").unwrap(),
        args: BoundedBytes::new((bob, 10u64).encode()).unwrap(),
        value: 0,
    };
    let estimate = dev
        .http
        .contract_estimate_gas(EstimateRequest {
            from: alice,
            action: EstimateAction::Call {
                contract: token,
                method: "transfer".into(),
                input: CallInput { args: Some(json!({ "to": bob, "amount": 10 })), input: None },
                value: None,
            },
        })
        .await
        .unwrap();
    assert!(estimate.success, "{estimate:?}");
    assert!(estimate.storage_deposit > 0, "a new balance entry needs a deposit");
    let nonce = dev.http.state_get_account(alice).await.unwrap().nonce;
    let receipt = dev.send(sign("alice", nonce, DEV_CHAIN_ID, estimate.gas_used, call)).await;
    assert!(receipt.success, "{:?}", receipt.error);
    assert_eq!(receipt.gas_used, estimate.gas_used);
    assert_eq!(receipt.deposit_charged, estimate.storage_deposit);
    let q = dev.http.contract_query(query("balance_of", json!([bob]))).await.unwrap();
    assert_eq!(q.value, Some(json!(10)));

    // A failing query comes back decoded; bad args are refused with the reason.
    let q = dev
        .http
        .contract_query(QueryRequest {
            caller: Some(bob),
            ..query("transfer", json!({ "to": alice, "amount": 11 }))
        })
        .await
        .unwrap();
    assert!(!q.success);
    let e = q.error.unwrap();
    assert_eq!(e.kind, "reverted");
    assert_eq!(e.revert_data.unwrap().0, b"insufficient balance");
    let (code, msg) =
        error_code(dev.http.contract_query(query("balance_of", json!({ "whom": alice }))).await.unwrap_err());
    assert_eq!(code, codes::ABI_MISMATCH);
    assert!(msg.contains("whom") || msg.contains("who"), "{msg}");
    let (code, _) = error_code(dev.http.contract_query(query("nope", json!({}))).await.unwrap_err());
    assert_eq!(code, codes::ABI_MISMATCH);

    // A trap comes back with its kind and a backtrace naming the functions.
    let trapper = dev.deploy(trapper_wasm(), vec![]).await;
    let q = dev
        .http
        .contract_query(QueryRequest {
            contract: trapper,
            method: "run".into(),
            input: CallInput::default(),
            caller: None,
            gas_limit: None,
        })
        .await
        .unwrap();
    let e = q.error.unwrap();
    assert_eq!(e.kind, "trap");
    assert!(e.message.contains("IntegerDivisionByZero"), "{}", e.message);
    let bt = e.backtrace.unwrap();
    assert!(bt[0].contains("divide") && bt[1].contains("outer"), "{bt:?}");

    // Storage and proofs against the finalized root.
    let key = bob.0.to_vec();
    let value = dev.http.state_get_storage(token, Bytes(key.clone())).await.unwrap().unwrap();
    assert_eq!(value.0, 10u64.to_le_bytes());
    let proof = dev.http.state_get_proof(token, Some(vec![Bytes(key), Bytes(vec![9; 32])])).await.unwrap();
    let root = proof.header.state_root;
    assert_eq!(proof.header, dev.http.chain_get_finalized().await.unwrap());
    for item in std::iter::once(&proof.account).chain(&proof.storage) {
        let p = StateProof::decode(&mut &item.proof.0[..]).unwrap();
        p.verify(&root, &item.key.0, item.value.as_ref().map(|v| &v.0[..])).unwrap();
    }
    assert_eq!(proof.account.key.0, account_key(&token));
    assert!(proof.storage[1].value.is_none(), "absence is proven too");
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_past_and_live() {
    let dev = Dev::start(None).await;
    let pinger = dev.deploy(pinger_wasm(), vec![]).await;
    let filter = EventFilter { contract: Some(pinger), event: Some("Ping".into()), ..EventFilter::default() };
    let mut live = dev.ws.contract_subscribe_events(filter.clone()).await.unwrap();
    for n in 1..=5u64 {
        let call = Action::Call {
            contract: pinger,
            method: weft_types::MethodName::new("ping").unwrap(),
            args: BoundedBytes::new(n.encode()).unwrap(),
            value: 0,
        };
        dev.send(dev.tx("alice", call).await).await;
    }
    for n in 1..=5u64 {
        let e = live.next().await.unwrap().unwrap();
        assert_eq!((e.name.as_deref(), e.fields), (Some("Ping"), Some(json!({ "n": n }))));
    }
    // Pages of two: 2 + 2 + 1, with cursors.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = dev
            .http
            .contract_get_events(EventFilter { limit: Some(2), cursor: cursor.clone(), ..filter.clone() })
            .await
            .unwrap();
        seen.extend(page.events.iter().map(|e| e.fields.clone().unwrap()["n"].as_u64().unwrap()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    let other = EventFilter { event: Some("Pong".into()), ..EventFilter::default() };
    assert!(dev.http.contract_get_events(other).await.unwrap().events.is_empty());
    let (code, _) = error_code(
        dev.http.contract_get_events(EventFilter { limit: Some(100_000), ..filter }).await.unwrap_err(),
    );
    assert_eq!(code, codes::LIMIT_EXCEEDED);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_controls_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(Some(dir.path().to_path_buf())).await;
    let bob = Address([0xb0; 32]);
    assert_eq!(dev.http.dev_mine(Some(3)).await.unwrap().height, 3);
    let snap = dev.http.dev_snapshot().await.unwrap();
    dev.send(dev.tx("alice", transfer(bob, 5)).await).await;
    let set = dev.http.dev_set_balance(bob, weft_rpc_api::AmountArg(77)).await.unwrap();
    assert_eq!(set.balance, 77);
    let before = dev.http.chain_get_head().await.unwrap();
    assert_eq!(dev.http.dev_increase_time(3_600_000).await.unwrap(), 3_600_000);
    let later = dev.http.dev_mine(None).await.unwrap();
    assert!(later.timestamp_ms >= before.timestamp_ms + 3_600_000);

    let head = dev.http.dev_revert(snap).await.unwrap();
    assert_eq!(head.height, 3);
    assert_eq!(dev.http.state_get_account(bob).await.unwrap().balance, 0);
    assert_eq!(dev.http.dev_increase_time(0).await.unwrap(), 0, "the clock's offset is the snapshot's");
    let (code, _) = error_code(dev.http.dev_revert(snap + 5).await.unwrap_err());
    assert_eq!(code, codes::UNKNOWN_SNAPSHOT);
    let (code, _) = error_code(dev.http.dev_mine(Some(0)).await.unwrap_err());
    assert_eq!(code, codes::LIMIT_EXCEEDED);
    // The chain goes on from the snapshot and survives a restart.
    dev.send(dev.tx("alice", transfer(bob, 6)).await).await;
    let head = dev.http.chain_get_head().await.unwrap();
    dev.node.shutdown().await;

    let dev = Dev::start(Some(dir.path().to_path_buf())).await;
    assert_eq!(dev.http.chain_get_head().await.unwrap(), head);
    assert_eq!(dev.http.state_get_account(bob).await.unwrap().balance, 6);
    dev.send(dev.tx("alice", transfer(bob, 1)).await).await;
    assert_eq!(dev.http.chain_get_head().await.unwrap().height, head.height + 1);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_methods_are_refused_off_a_dev_chain_and_discover_lists_every_method() {
    let dev = Dev::start(None).await;
    let config = RpcConfig::default();
    // A second server over the dev chain, without its dev control: a node off a dev chain.
    let plain_server = || async {
        let rpc = weft_node::rpc::RpcServer::start(
            "127.0.0.1:0".parse().unwrap(),
            &config,
            dev.node.chain().clone(),
            None,
        )
        .await
        .unwrap();
        let client = HttpClientBuilder::default().build(format!("http://{}", rpc.local_addr())).unwrap();
        (rpc, client)
    };
    let (rpc, client) = plain_server().await;
    let (code, msg) = error_code(client.dev_mine(None).await.unwrap_err());
    assert_eq!(code, codes::DEV_ONLY);
    assert!(msg.contains("weft-node dev"), "{msg}");
    rpc.stop().await;

    // A server that is dropped stops too, its query clock with it.
    let (rpc, client) = plain_server().await;
    assert!(client.chain_get_head().await.is_ok());
    drop(rpc);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.chain_get_head().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "a dropped server still answers");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The OpenRPC document lists exactly the methods the server registers (unsubscribe
    // methods aside).
    let doc: Value = dev.http.request("rpc.discover", jsonrpsee::rpc_params![]).await.unwrap();
    let mut listed: Vec<String> =
        doc["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect();
    let module = WeftRpc::new(dev.node.chain().clone(), None, config).into_rpc();
    let mut registered: Vec<String> =
        module.method_names().filter(|m| !m.contains("_unsubscribe")).map(str::to_owned).collect();
    listed.sort();
    registered.sort();
    assert_eq!(listed, registered);
    assert_eq!(listed.len(), openrpc::METHODS.len());
    dev.node.shutdown().await;
}

/// A contract whose `flood` emits 200 `Ping` events of 4 KiB each.
fn flooder_wasm() -> Vec<u8> {
    wat::parse_str(
        r#"(module
          (import "weft" "sha3_256" (func $sha3 (param i32 i32 i32)))
          (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "Ping")
          (func (export "flood") (local $i i32)
            (call $sha3 (i32.const 0) (i32.const 4) (i32.const 64))
            (loop $again
              (call $emit (i32.const 64) (i32.const 1) (i32.const 1024) (i32.const 4096))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $again (i32.lt_u (local.get $i) (i32.const 200))))))"#,
    )
    .unwrap()
}

/// A WebSocket client that subscribes and then reads only when told to: a subscriber that
/// does not read. Just enough of RFC 6455 for the test (masked text frames out, frames in).
struct LazySubscriber(tokio::net::TcpStream);

impl LazySubscriber {
    async fn subscribe(addr: SocketAddr, request: &Value) -> LazySubscriber {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let handshake = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(handshake.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        while !response.ends_with(b"\r\n\r\n") {
            response.push(s.read_u8().await.unwrap());
        }
        assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 101"));
        let payload = request.to_string().into_bytes();
        let mut frame = vec![0x81, 0x80 | 126];
        frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        frame.extend_from_slice(&[0; 4]); // mask key 0: the payload goes as is
        frame.extend_from_slice(&payload);
        s.write_all(&frame).await.unwrap();
        LazySubscriber(s)
    }

    /// Reads frames until none arrives for `quiet`; returns their payloads.
    async fn drain(&mut self, quiet: Duration) -> Vec<String> {
        use tokio::io::AsyncReadExt;
        let mut out = Vec::new();
        loop {
            let Ok(Ok(b0)) = tokio::time::timeout(quiet, self.0.read_u8()).await else { return out };
            let _ = b0;
            let b1 = self.0.read_u8().await.unwrap();
            let len = match b1 & 0x7f {
                126 => u64::from(self.0.read_u16().await.unwrap()),
                127 => self.0.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0; len as usize];
            self.0.read_exact(&mut payload).await.unwrap();
            out.push(String::from_utf8_lossy(&payload).into_owned());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_does_not_read_is_dropped() {
    let config = DevConfig {
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc: RpcConfig {
            message_buffer: 8,
            subscriber_patience: Duration::from_millis(500),
            ..RpcConfig::default()
        },
        ..DevConfig::default()
    };
    let node = DevNode::start(config).await.unwrap();
    let addr = node.rpc_addr();
    let dev = Dev {
        http: HttpClientBuilder::default().build(format!("http://{addr}")).unwrap(),
        ws: WsClientBuilder::default().build(format!("ws://{addr}")).await.unwrap(),
        node,
    };
    let flooder = dev.deploy(flooder_wasm(), vec![]).await;
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "contract_subscribeEvents", "params": [{}]});
    let mut lazy = LazySubscriber::subscribe(addr, &request).await;
    let flood = || Action::Call {
        contract: flooder,
        method: weft_types::MethodName::new("flood").unwrap(),
        args: BoundedBytes::new(vec![]).unwrap(),
        value: 0,
    };
    // 20 × 200 events of 4 KiB (about 33 MB of notifications) while it does not read.
    for _ in 0..20 {
        assert!(dev.send(dev.tx("alice", flood()).await).await.success);
    }
    let received = lazy.drain(Duration::from_secs(2)).await;
    let events = received.iter().filter(|m| m.contains("contract_event")).count();
    assert!(events < 4_000, "all {events} notifications were buffered for a client that did not read");
    // Its subscription is gone: new events reach a healthy subscriber but not it.
    let mut healthy = dev.ws.contract_subscribe_events(EventFilter::default()).await.unwrap();
    dev.send(dev.tx("alice", flood()).await).await;
    for _ in 0..200 {
        healthy.next().await.unwrap().unwrap();
    }
    let after = lazy.drain(Duration::from_secs(1)).await;
    assert_eq!(after.iter().filter(|m| m.contains("contract_event")).count(), 0, "{:?}", after.first());
    assert!(dev.http.node_health().await.unwrap().healthy);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_queued_behind_wake_ups_are_answered() {
    let config = DevConfig { rpc_addr: "127.0.0.1:0".parse().unwrap(), ..DevConfig::default() };
    let node = DevNode::start(config).await.unwrap();
    for _ in 0..200 {
        node.control().wake();
        node.control().wake();
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            node.control().ask(|r| weft_node::dev::DevCommand::IncreaseTime(1, r)),
        )
        .await
        .unwrap();
        assert!(answer.is_ok(), "a command behind wake-ups was lost: {answer:?}");
    }
    node.shutdown().await;
}

/// The resident set size of this process (the node under test runs in it), from /proc.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_subscriptions_stop_at_the_per_connection_limit() {
    const PER_CONNECTION: u32 = 1024;
    const CONNECTIONS: usize = 3;
    let config = DevConfig {
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc: RpcConfig { max_subscriptions_per_connection: PER_CONNECTION, ..RpcConfig::default() },
        ..DevConfig::default()
    };
    let node = DevNode::start(config).await.unwrap();
    let url = format!("ws://{}", node.rpc_addr());
    let http = HttpClientBuilder::default().build(format!("http://{}", node.rpc_addr())).unwrap();
    let before = rss_bytes();
    let mut clients = Vec::new();
    let mut subs = Vec::new();
    for _ in 0..CONNECTIONS {
        let ws = WsClientBuilder::default().build(&url).await.unwrap();
        for _ in 0..PER_CONNECTION {
            subs.push(ws.chain_subscribe_heads().await.unwrap());
        }
        // One more on this connection: refused with the limit named.
        let (code, message) = error_code(ws.chain_subscribe_heads().await.map(|_| ()).unwrap_err());
        assert_eq!(code, -32006, "{message}");
        assert!(message.contains("Too many subscriptions"), "{message}");
        clients.push(ws);
    }
    let grown = rss_bytes().saturating_sub(before);
    eprintln!("{} subscriptions: RSS grew by {} KiB", subs.len(), grown / 1024);
    assert!(grown < 256 << 20, "{} subscriptions cost {grown} bytes", subs.len());

    // Every subscription hears the next block.
    let head = http.dev_mine(None).await.unwrap();
    for sub in &mut subs {
        let h = tokio::time::timeout(Duration::from_secs(30), sub.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(h.hash, head.hash);
    }
    // Unsubscribing frees a slot on a full connection (once the server's subscription task has
    // ended, just after the answer to the unsubscribe).
    let last = subs.pop().unwrap();
    last.unsubscribe().await.unwrap();
    let full = &clients[CONNECTIONS - 1];
    let mut resubscribed = None;
    for _ in 0..200 {
        if let Ok(sub) = full.chain_subscribe_heads().await {
            resubscribed = Some(sub);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    subs.push(resubscribed.expect("the slot freed by unsubscribing was never available again"));
    assert!(full.chain_subscribe_heads().await.is_err());
    // A closed connection takes its subscriptions with it; the node goes on serving.
    drop(subs);
    drop(clients);
    let ws = WsClientBuilder::default().build(&url).await.unwrap();
    let mut again = ws.chain_subscribe_heads().await.unwrap();
    let head = http.dev_mine(None).await.unwrap();
    assert_eq!(again.next().await.unwrap().unwrap().hash, head.hash);
    assert!(http.node_health().await.unwrap().healthy);
    node.shutdown().await;
}

/// Opens a WebSocket connection and completes the handshake; returns the stream, or the HTTP
/// status line and body of a refusal.
async fn ws_handshake(addr: SocketAddr) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let handshake = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(handshake.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        response.push(s.read_u8().await.unwrap());
    }
    let head = String::from_utf8_lossy(&response).into_owned();
    if head.starts_with("HTTP/1.1 101") {
        return Ok(s);
    }
    let mut body = vec![0; 256];
    let n =
        tokio::time::timeout(Duration::from_secs(5), s.read(&mut body)).await.unwrap_or(Ok(0)).unwrap_or(0);
    Err(format!("{}{}", head.lines().next().unwrap_or(""), String::from_utf8_lossy(&body[..n])))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_stop_at_the_connection_limit_and_the_node_serves_again() {
    const MAX: u32 = 16;
    let config = DevConfig {
        rpc_addr: "127.0.0.1:0".parse().unwrap(),
        rpc: RpcConfig { max_connections: MAX, ..RpcConfig::default() },
        ..DevConfig::default()
    };
    let node = DevNode::start(config).await.unwrap();
    let addr = node.rpc_addr();
    let health = br#"{"jsonrpc":"2.0","id":1,"method":"node_health","params":[]}"#;

    // Hundreds of TCP connections that never send a byte hold no connection slot: the node
    // keeps answering requests.
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    let (status, body) = tokio::task::spawn_blocking(move || raw_post(addr, health)).await.unwrap();
    assert_eq!(status, 200, "{body}");

    // WebSocket connections that do nothing fill the slots; then the next connection, WebSocket
    // or HTTP, is refused with 429 and a message saying why.
    let client = WsClientBuilder::default().build(format!("ws://{addr}")).await.unwrap();
    let mut idle = Vec::new();
    for _ in 1..MAX {
        idle.push(ws_handshake(addr).await.unwrap());
    }
    let refused = ws_handshake(addr).await.map(|_| ()).unwrap_err();
    assert!(refused.starts_with("HTTP/1.1 429") && refused.contains("Too many connections"), "{refused}");
    let (status, body) = tokio::task::spawn_blocking(move || raw_post(addr, health)).await.unwrap();
    assert_eq!(status, 429, "{body}");
    // Clients already connected are still served.
    assert!(client.node_health().await.unwrap().healthy);

    // One idle client leaves: its slot serves others again.
    drop(idle.pop());
    let mut served = false;
    for _ in 0..100 {
        let (status, body) = tokio::task::spawn_blocking(move || raw_post(addr, health)).await.unwrap();
        if status == 200 {
            assert!(body.contains("\"healthy\":true"), "{body}");
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the node did not serve again after an idle connection closed");
    drop(idle);
    drop(silent);
    drop(client);
    let http = HttpClientBuilder::default().build(format!("http://{addr}")).unwrap();
    for _ in 0..100 {
        if http.node_health().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(http.node_health().await.unwrap().healthy);
    node.shutdown().await;
}

/// The group order L of ed25519, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Canonical encodings of small-order points: the identity, the point of order 2, one of order 4
/// and one of order 8.
const SMALL_ORDER_POINTS: [[u8; 32]; 4] = {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut order2 = [0xff; 32];
    order2[0] = 0xec;
    order2[31] = 0x7f;
    let order4 = [0u8; 32];
    let order8 = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a,
        0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
    ];
    [identity, order2, order4, order8]
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fee_overflow_small_order_keys_and_bad_signatures_are_refused() {
    use weft_types::{SignedTransaction, tx::Signature};
    let dev = Dev::start(None).await;
    let bob = Address([0xb0; 32]);
    let submit = |bytes: Vec<u8>| {
        let http = dev.http.clone();
        async move { error_code(http.tx_submit(Bytes(bytes)).await.unwrap_err()) }
    };
    let alice = dev_key("alice");
    let tx = |gas_limit: u64, gas_price: u128| Transaction {
        chain_id: DEV_CHAIN_ID,
        sender: address_of(&alice),
        nonce: 0,
        gas_limit,
        gas_price,
        action: transfer(bob, 1),
    };

    // gas_limit × gas_price past u128::MAX: refused before any balance is read.
    for (gas_limit, gas_price) in
        [(50_000, u128::MAX / 1_000), (50_000, u128::MAX), (500_000_000, u128::MAX / 2)]
    {
        let (code, msg) = submit(tx(gas_limit, gas_price).sign(&alice).encode()).await;
        assert_eq!(code, codes::TX_BAD_GAS, "{msg}");
        assert!(msg.contains("fee overflows"), "{msg}");
    }
    // Just below the overflow: a fee no one can pay, refused for the balance.
    let (code, msg) = submit(tx(50_000, u128::MAX / 50_000).sign(&alice).encode()).await;
    assert_eq!(code, codes::TX_INSUFFICIENT_BALANCE, "{msg}");

    // Malleated signatures of a valid transaction: S + L, S = L, S = 2^256 − 1, a small-order R,
    // all zero.
    let good = tx(100_000, 1).sign(&alice);
    let mut malleated = Vec::new();
    let mut sig = good.signature.0;
    let mut carry = 0u16;
    for (s, l) in sig[32..].iter_mut().zip(ED25519_L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    malleated.push(sig);
    for s in [ED25519_L, [0xff; 32]] {
        let mut sig = good.signature.0;
        sig[32..].copy_from_slice(&s);
        malleated.push(sig);
    }
    for r in SMALL_ORDER_POINTS {
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        malleated.push(sig);
    }
    malleated.push([0; 64]);
    for sig in malleated {
        let bad = SignedTransaction { tx: good.tx.clone(), signature: Signature(sig) };
        let (code, msg) = submit(bad.encode()).await;
        assert_eq!(code, codes::TX_BAD_SIGNATURE, "{msg}");
    }
    // A signature one byte short or long: the encoding does not decode.
    let encoded = good.encode();
    let (code, msg) = submit(encoded[..encoded.len() - 1].to_vec()).await;
    assert_eq!(code, codes::TX_DECODE, "{msg}");
    let (code, msg) = submit([&encoded[..], &[0]].concat()).await;
    assert_eq!(code, codes::TX_DECODE, "{msg}");
    assert!(msg.contains("trailing"), "{msg}");

    // Small-order public keys, funded so that only the signature can be wrong. With the identity
    // as key, (R = B, S = 1) satisfies the cofactorless equation for every message: a forgery the
    // plain check accepts and the protocol's strict check refuses.
    let basepoint: [u8; 32] = {
        let mut b = [0x66; 32];
        b[0] = 0x58;
        b
    };
    for key in SMALL_ORDER_POINTS {
        let sender = Address(key);
        dev.http.dev_set_balance(sender, weft_rpc_api::AmountArg(DEV_BALANCE)).await.unwrap();
        let unsigned = Transaction { sender, ..tx(100_000, 1) };
        let mut forged = [0u8; 64];
        forged[..32].copy_from_slice(&basepoint);
        forged[32] = 1;
        for signature in [forged, good.signature.0, [0; 64]] {
            let bad = SignedTransaction { tx: unsigned.clone(), signature: Signature(signature) };
            let (code, msg) = submit(bad.encode()).await;
            assert_eq!(code, codes::TX_BAD_SIGNATURE, "key {}: {msg}", weft_types::hex::Hex(&key));
        }
    }
    // Nothing of it reached the pool or the chain; the valid transaction still goes through once.
    assert_eq!(dev.http.node_health().await.unwrap().pending_txs, 0);
    assert!(dev.send(good.encode()).await.success);
    // Refused again: by its nonce, or as already known in the moment between the block's
    // announcement (which `send` waits for) and the mempool's pruning.
    let (code, msg) = submit(good.encode()).await;
    assert!(code == codes::TX_NONCE_TOO_LOW || code == codes::TX_ALREADY_KNOWN, "{code}: {msg}");
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_included_before_a_restart_is_refused_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let dev = Dev::start(Some(dir.path().to_path_buf())).await;
    let bob = Address([0xb0; 32]);
    let first = sign("alice", 0, DEV_CHAIN_ID, 100_000, transfer(bob, 10));
    let second = sign("alice", 1, DEV_CHAIN_ID, 100_000, transfer(bob, 20));
    let r1 = dev.send(first.clone()).await;
    let r2 = dev.send(second.clone()).await;
    // Replays before the restart: in the next block's pool, the same bytes are refused.
    assert_eq!(
        error_code(dev.http.tx_submit(Bytes(first.clone())).await.unwrap_err()).0,
        codes::TX_NONCE_TOO_LOW
    );
    dev.node.shutdown().await;

    let dev = Dev::start(Some(dir.path().to_path_buf())).await;
    for (bytes, receipt) in [(first, r1), (second, r2)] {
        let (code, msg) = error_code(dev.http.tx_submit(Bytes(bytes.clone())).await.unwrap_err());
        assert_eq!(code, codes::TX_NONCE_TOO_LOW, "{msg}");
        let results = dev.http.tx_submit_batch(vec![Bytes(bytes)]).await.unwrap();
        assert_eq!(results[0].error.as_ref().unwrap().code, codes::TX_NONCE_TOO_LOW);
        // Still found where it was included, exactly once.
        let found = dev.http.tx_get_receipt(receipt.tx_hash).await.unwrap().unwrap();
        assert_eq!(found.location, receipt.location);
    }
    assert_eq!(dev.http.state_get_account(bob).await.unwrap().balance, 30);
    assert_eq!(dev.http.node_health().await.unwrap().pending_txs, 0);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_over_plain_http_is_refused_saying_why() {
    let dev = Dev::start(None).await;
    let addr = dev.addr();
    let (status, body) = tokio::task::spawn_blocking(move || {
        raw_post(addr, br#"{"jsonrpc":"2.0","id":1,"method":"chain_subscribeHeads","params":[]}"#)
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], -32601, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("WebSocket"), "{v}");
    // In a batch too, next to calls that are answered.
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"tx_subscribeStatus","params":[format!("0x{}", "00".repeat(32))]},
        {"jsonrpc":"2.0","id":2,"method":"node_health","params":[]},
        {"jsonrpc":"2.0","id":3,"method":"chain_unsubscribeHeads","params":["x"]}
    ]);
    let (status, body) =
        tokio::task::spawn_blocking(move || raw_post(addr, batch.to_string().as_bytes())).await.unwrap();
    assert_eq!(status, 200);
    let v: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(v.len(), 3);
    assert_eq!(v[0]["error"]["code"], -32601, "{v:?}");
    assert_eq!(v[1]["result"]["healthy"], true, "{v:?}");
    assert_eq!(v[2]["error"]["code"], -32601, "{v:?}");
    // Over WebSocket the same subscription works.
    assert!(dev.ws.chain_subscribe_heads().await.is_ok());
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moving_dev_time_to_the_end_of_u64_stops_blocks_not_the_producer() {
    // Found by the RPC fuzz target (fuzz/regressions/rpc/dev-time-overflow.json): the block after
    // one timestamped u64::MAX ms overflowed `parent + 1` and killed the producer thread.
    let dev = Dev::start(None).await;
    let snap = dev.http.dev_snapshot().await.unwrap();
    assert_eq!(dev.http.dev_increase_time(u64::MAX).await.unwrap(), u64::MAX);
    assert_eq!(dev.http.dev_mine(None).await.unwrap().timestamp_ms, u64::MAX);
    let (code, msg) = error_code(dev.http.dev_mine(None).await.unwrap_err());
    assert_eq!(code, codes::NODE_ERROR);
    assert!(msg.contains("u64::MAX") && msg.contains("dev_revert"), "{msg}");
    // The producer still answers; reverting brings the chain back to a usable time.
    assert_eq!(dev.http.dev_revert(snap).await.unwrap().height, 0);
    assert_eq!(dev.http.dev_mine(None).await.unwrap().height, 1);
    dev.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_pages_get_what_the_cors_setting_allows() {
    const APP: &str = "http://localhost:5173";
    let info = br#"{"jsonrpc":"2.0","id":1,"method":"node_info"}"#;
    let allowed = |headers: &[String]| {
        headers.iter().find_map(|h| h.strip_prefix("access-control-allow-origin: ").map(str::to_owned))
    };
    for (cors, app_sees, other_sees) in [
        (CorsOrigins::None, None, None),
        (CorsOrigins::Any, Some("*"), Some("*")),
        (CorsOrigins::List(vec![APP.into()]), Some(APP), None),
    ] {
        let config = DevConfig {
            rpc_addr: "127.0.0.1:0".parse().unwrap(),
            rpc: RpcConfig { cors: cors.clone(), ..RpcConfig::default() },
            ..DevConfig::default()
        };
        let node = DevNode::start(config).await.unwrap();
        let addr = node.rpc_addr();
        let preflight = [
            ("Origin", APP),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ];
        let (status, headers, _) = raw_request(addr, "OPTIONS /", &preflight, b"");
        assert_eq!(allowed(&headers).as_deref(), app_sees, "{cors:?}: preflight {status} {headers:?}");
        if app_sees.is_some() {
            assert_eq!(status, 200, "{cors:?}");
            assert!(
                headers.iter().any(|h| h.starts_with("access-control-allow-methods:") && h.contains("post")),
                "{headers:?}"
            );
            assert!(
                headers
                    .iter()
                    .any(|h| h.starts_with("access-control-allow-headers:") && h.contains("content-type")),
                "{headers:?}"
            );
        }
        for (origin, sees) in [(APP, app_sees), ("http://other.example", other_sees)] {
            let (status, headers, body) = raw_request(addr, "POST /", &[("Origin", origin)], info);
            assert_eq!(status, 200, "{cors:?} {origin}: {body}");
            assert!(body.contains(r#""chain_id":"#), "{body}");
            assert_eq!(allowed(&headers).as_deref(), sees, "{cors:?} {origin}: {headers:?}");
        }
        node.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_get_health_and_prometheus_metrics_over_plain_http() {
    let dev = Dev::start(None).await;
    let receipt = dev.send(dev.tx("alice", transfer(Address([0xb0; 32]), 5)).await).await;
    let height = receipt.location.block_height;
    assert!(height >= 1);

    let (status, headers, body) = raw_request(dev.addr(), "GET /health", &[], b"");
    assert_eq!(status, 200, "{body}");
    assert!(headers.iter().any(|h| h == "content-type: application/json"), "{headers:?}");
    let health: weft_rpc_api::Health = serde_json::from_str(&body).unwrap();
    assert!(health.healthy && health.height >= height, "{health:?}");

    let (status, headers, body) = raw_request(dev.addr(), "GET /metrics", &[], b"");
    assert_eq!(status, 200, "{body}");
    assert!(headers.iter().any(|h| h.starts_with("content-type: text/plain; version=0.0.4")), "{headers:?}");
    let sample = |name: &str| -> f64 {
        let line = body
            .lines()
            .find(|l| l.split(['{', ' ']).next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in\n{body}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let head = dev.http.chain_get_head().await.unwrap();
    assert!(
        sample("weft_block_height") >= height as f64 && sample("weft_block_height") <= head.height as f64
    );
    assert_eq!(sample("weft_healthy"), 1.0);
    assert_eq!(sample("weft_evidence"), 0.0);
    assert!(body.contains(&format!("weft_node_info{{chain_id=\"{DEV_CHAIN_ID}\",")), "{body}");
    assert!(body.contains("dev=\"true\"} 1"), "{body}");
    assert!(sample("process_resident_memory_bytes") > 1e6, "{body}");
    assert!(sample("process_cpu_seconds_total") > 0.0, "{body}");

    // Anything else is JSON-RPC as before.
    let (status, body) = raw_post(dev.addr(), br#"{"jsonrpc":"2.0","id":1,"method":"node_health"}"#);
    assert_eq!(status, 200);
    assert!(body.contains(r#""healthy":true"#), "{body}");
    let (status, _, _) = raw_request(dev.addr(), "POST /metrics", &[], b"");
    assert_ne!(status, 200, "only GET serves the metrics");
    dev.node.shutdown().await;
}
