//! Integration tests of the `weft` binary against an in-process dev node (127.0.0.1, ephemeral
//! port, temporary data directory): every command, `--json` output parsed, and the failures
//! (non-zero exit and a message that says what to do).

#[path = "../../../client/tests/it/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::{path::Path, process::Output};

use serde_json::{Value, json};
use weft_types::dev::dev_address;

/// Runs `weft` against one node with its own keystore.
struct Weft {
    rpc: String,
    keystore: tempfile::TempDir,
}

impl Weft {
    fn new(rpc: String) -> Self {
        Self { rpc, keystore: tempfile::tempdir().expect("tempdir") }
    }

    /// Runs `weft --rpc URL --keystore DIR ARGS…` on a blocking thread.
    async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.arg("--rpc").arg(&self.rpc).arg("--keystore").arg(self.keystore.path()).args(args);
        cmd.env_remove("WEFT_RPC").env_remove("WEFT_KEYSTORE");
        tokio::task::spawn_blocking(move || cmd.output().expect("weft runs")).await.expect("join")
    }

    /// Runs with `--json`, expects success and exactly one JSON value on stdout.
    async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "weft {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("weft {args:?}: stdout is not one JSON value ({e}):\n{stdout}"))
    }

    /// Runs in human mode, expects success, returns stdout.
    async fn text(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(out.status.success(), "weft {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs, expects failure; returns stderr.
    async fn fail(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(!out.status.success(), "weft {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
        assert_eq!(out.status.code(), Some(1), "failures exit with 1");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn write_token(dir: &Path) -> String {
    let path = dir.join("token.wasm");
    std::fs::write(&path, fixture::token_wasm()).expect("write wasm");
    path.to_str().expect("utf-8").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_balance_transfer_block_and_tx() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));

    let status = weft.json(&["status"]).await;
    assert_eq!(status["node"]["chain_id"], json!(1337));
    assert_eq!(status["node"]["dev"], json!(true));
    assert_eq!(status["health"]["healthy"], json!(true));
    assert_eq!(status["evidence"], json!([]), "a dev chain has no evidence");
    assert!(weft.text(&["status"]).await.contains("chain id       1337"));

    let bob = weft.json(&["balance", "bob"]).await;
    assert_eq!(bob["address"], json!(dev_address("bob")));
    assert_eq!(bob["balance"], json!(weft_types::dev::DEV_BALANCE.to_string()));

    // alice (the default signer) pays charlie; the receipt is final.
    let sent = weft.json(&["transfer", "charlie", "777"]).await;
    assert_eq!(sent["receipt"]["success"], json!(true));
    let tx_hash = sent["tx_hash"].as_str().expect("hash").to_string();
    let height = sent["receipt"]["location"]["block_height"].as_u64().expect("height");
    let charlie = weft.json(&["balance", &dev_address("charlie").to_string()]).await;
    assert_eq!(charlie["balance"], json!((weft_types::dev::DEV_BALANCE + 777).to_string()));

    // --from signs with another dev account; human output names the amount.
    let text = weft.text(&["--from", "dave", "transfer", "eve", "5", "--wait", "included"]).await;
    assert!(text.contains("transferred 5 to"), "{text}");
    assert!(text.contains("status    success"), "{text}");

    let block = weft.json(&["block", &height.to_string()]).await;
    assert_eq!(block["header"]["height"], json!(height));
    assert!(block["tx_hashes"].as_array().expect("hashes").contains(&json!(tx_hash)));
    let by_hash = weft.json(&["block", block["header"]["hash"].as_str().expect("hash"), "--full"]).await;
    assert_eq!(by_hash["header"], block["header"]);
    assert_eq!(by_hash["transactions"][0]["action"]["type"], json!("transfer"));
    let head = weft.json(&["block"]).await;
    assert!(head["header"]["height"].as_u64().expect("height") >= height);

    let tx = weft.json(&["tx", &tx_hash]).await;
    assert_eq!(tx["transaction"]["sender"], json!(dev_address("alice")));
    assert_eq!(tx["receipt"]["success"], json!(true));
    assert!(weft.text(&["tx", &tx_hash]).await.contains("transfer 777 to"));
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_call_query_abi_and_events() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));
    let dir = tempfile::tempdir().expect("tempdir");
    let wasm = write_token(dir.path());

    let deployed = weft.json(&["deploy", &wasm, "--args", r#"{"supply": 1000}"#]).await;
    let token = deployed["address"].as_str().expect("address").to_string();
    assert_eq!(deployed["receipt"]["contract_address"], json!(token));
    assert!(!deployed["upload"].is_null());

    let abi = weft.json(&["abi", &token]).await;
    assert_eq!(abi["abi"]["contract"], json!("wat_token"));
    let summary = weft.text(&["abi", &token]).await;
    assert!(summary.contains("balance_of(owner: address) -> u64"), "{summary}");

    // Names work for address arguments.
    assert_eq!(weft.json(&["query", &token, "balance_of", "alice"]).await["value"], json!(1000));
    assert_eq!(weft.text(&["query", &token, "balance_of", r#"{"owner": "bob"}"#]).await.trim(), "0");

    let called = weft.json(&["call", &token, "transfer", r#"{"to": "bob", "amount": 40}"#]).await;
    assert_eq!(called["receipt"]["success"], json!(true));
    assert_eq!(called["events"][0]["name"], json!("Transfer"));
    assert_eq!(called["events"][0]["fields"]["to"], json!(dev_address("bob")));
    assert_eq!(weft.json(&["query", &token, "balance_of", "bob"]).await["value"], json!(40));

    // History.
    let events = weft.json(&["events", "--contract", &token]).await;
    let list = events["events"].as_array().expect("events");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["fields"]["amount"], json!(40));
    let none = weft.json(&["events", "--contract", &token, "--event", "Approval"]).await;
    assert_eq!(none["events"], json!([]));
    let text = weft.text(&["events", "--event", "Transfer"]).await;
    assert!(text.contains("Transfer {"), "{text}");

    // Follow: from the next block, one event, then exit. The subscription starts before the
    // history is read, so the event is caught whenever the call lands.
    let next = weft.json(&["block"]).await["header"]["height"].as_u64().expect("height") + 1;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args(["--json", "--rpc", &weft.rpc, "events", "--follow", "--limit", "1", "--contract", &token])
        .args(["--from", &next.to_string()]);
    let follower = tokio::task::spawn_blocking(move || cmd.output().expect("weft runs"));
    weft.json(&["call", &token, "transfer", r#"["charlie", 2]"#]).await;
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), follower)
        .await
        .expect("the follower exits after one event")
        .expect("join");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["fields"]["to"], json!(dev_address("charlie")));
    assert_eq!(line["fields"]["amount"], json!(2));

    // Live events before --from-block are skipped: the first transfer lands in block `at`, the
    // follower asks from `at + 1`.
    let at = weft.json(&["block"]).await["header"]["height"].as_u64().expect("height") + 1;
    let follow = |extra: Vec<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.args(["--json", "--rpc", &weft.rpc, "events", "--follow", "--contract", &token]).args(extra);
        tokio::task::spawn_blocking(move || cmd.output().expect("weft runs"))
    };
    let follower = follow(vec!["--from-block".into(), (at + 1).to_string(), "--limit".into(), "1".into()]);
    weft.json(&["call", &token, "transfer", r#"["dave", 3]"#]).await;
    weft.json(&["call", &token, "transfer", r#"["dave", 4]"#]).await;
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), follower)
        .await
        .expect("exits")
        .expect("join");
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["fields"]["amount"], json!(4), "the event of block {at} is before --from-block");

    // A range the chain is already past: the history, then exit, not a wait for ever.
    let head = weft.json(&["block"]).await["header"]["height"].as_u64().expect("height");
    let bounded = follow(vec!["--from-block".into(), "0".into(), "--to".into(), head.to_string()]);
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), bounded)
        .await
        .expect("--to ends following")
        .expect("join");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 4, "bob, charlie, dave twice");

    // A failing call is not sent, and says why.
    let err = weft.fail(&["call", &token, "transfer", r#"{"to": "bob", "amount": 100000}"#]).await;
    assert!(err.contains("insufficient balance"), "{err}");
    assert!(err.contains("--gas-limit"), "{err}");
    let out = weft.run(&["--json", "call", &token, "transfer", r#"{"to": "bob", "amount": 100000}"#]).await;
    let obj: Value = serde_json::from_slice(&out.stdout).expect("one JSON error object");
    assert_eq!(obj["error"]["kind"], json!("would_fail"));
    assert_eq!(obj["error"]["exec_error"]["panic"], json!("insufficient balance"));

    // Sent anyway with a gas limit: it fails on chain.
    let err = weft.fail(&["call", &token, "transfer", r#"["bob", 100000]"#, "--gas-limit", "2000000"]).await;
    assert!(err.contains("failed") && err.contains("insufficient balance"), "{err}");

    // ABI mismatches.
    let err = weft.fail(&["call", &token, "transfer", r#"{"to": "bob"}"#]).await;
    assert!(err.contains("amount") && err.contains("weft abi"), "{err}");
    let err = weft.fail(&["query", &token, "nope"]).await;
    assert!(err.contains("nope"), "{err}");
    let err = weft.fail(&["abi", "bob"]).await;
    assert!(err.contains("not a contract"), "{err}");

    // Upgrades: only the admin (alice, who deployed it); `weft admin … none` ends them. The
    // token has no `migrate`, so it takes no --input.
    let err = weft.fail(&["--from", "bob", "upgrade", &token, &wasm]).await;
    assert!(err.contains("only the admin") && err.contains(&dev_address("alice").to_string()), "{err}");
    let err = weft.fail(&["upgrade", &token, &wasm, "--input", "0x01", "--gas-limit", "2000000"]).await;
    assert!(err.contains("no `migrate`"), "{err}");
    let upgraded = weft.json(&["upgrade", &token, &wasm]).await;
    assert_eq!(upgraded["receipt"]["success"], json!(true));
    assert!(upgraded["upload"].is_null(), "the code was on chain");
    assert_eq!(upgraded["receipt"]["events"][0]["topics"].as_array().map(Vec::len), Some(1));
    assert_eq!(weft.json(&["query", &token, "balance_of", "bob"]).await["value"], json!(40), "state kept");
    let text = weft.text(&["admin", &token, "none"]).await;
    assert!(text.contains("immutable"), "{text}");
    let err = weft.fail(&["upgrade", &token, &wasm, "--gas-limit", "2000000"]).await;
    assert!(err.contains("immutable"), "{err}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_sign_and_resolve() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));

    let created = weft.json(&["keys", "new", "deployer"]).await;
    assert_eq!(created["encrypted"], json!(false));
    let address = created["address"].as_str().expect("address").to_string();
    let path = created["path"].as_str().expect("path").to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).expect("file").permissions().mode() & 0o777, 0o600);
    }
    let text = weft.text(&["keys", "new", "second"]).await;
    assert!(text.contains("NOT encrypted"), "{text}");

    let list = weft.json(&["keys", "list"]).await;
    let names: Vec<&str> =
        list["keys"].as_array().expect("keys").iter().filter_map(|k| k["name"].as_str()).collect();
    assert_eq!(names, ["deployer", "second"]);
    assert_eq!(list["dev_accounts"].as_array().expect("dev").len(), 6);
    assert_eq!(weft.json(&["keys", "show", "deployer"]).await["address"], json!(address));
    let shown = weft.json(&["keys", "show", "deployer", "--secret"]).await;
    assert!(shown["secret_key"].as_str().expect("secret").starts_with("0x"));
    assert_eq!(weft.json(&["keys", "show", "bob"]).await["address"], json!(dev_address("bob")));

    // Fund the key, then sign with it, by name and by key file.
    weft.json(&["transfer", "deployer", "1000000000"]).await;
    assert_eq!(weft.json(&["balance", "deployer"]).await["balance"], json!("1000000000"));
    let sent = weft.json(&["--from", "deployer", "transfer", "second", "10"]).await;
    assert_eq!(sent["receipt"]["success"], json!(true));
    let sent = weft.json(&["--from", &path, "transfer", "second", "10"]).await;
    assert_eq!(sent["receipt"]["success"], json!(true));
    assert_eq!(weft.json(&["balance", "second"]).await["balance"], json!("20"));

    let err = weft.fail(&["keys", "new", "deployer"]).await;
    assert!(err.contains("already exists"), "{err}");
    let err = weft.fail(&["keys", "new", "alice"]).await;
    assert!(err.contains("dev account"), "{err}");
    let err = weft.fail(&["--from", "nobody", "transfer", "bob", "1"]).await;
    assert!(err.contains("`nobody` is not a dev account"), "{err}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_exit_non_zero_with_the_fix() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));

    let err = weft.fail(&["balance", "0x12"]).await;
    assert!(err.contains("`0x12` is not a valid address"), "{err}");
    let err = weft.fail(&["balance", "mallory"]).await;
    assert!(err.contains("is not an address"), "{err}");
    let err = weft.fail(&["transfer", "bob", "1.5"]).await;
    assert!(err.contains("whole number"), "{err}");
    let err = weft.fail(&["tx", "0x1234"]).await;
    assert!(err.contains("not a transaction hash"), "{err}");
    let err = weft.fail(&["tx", &format!("0x{}", "ab".repeat(32))]).await;
    assert!(err.contains("knows no transaction"), "{err}");
    let err = weft.fail(&["block", "999999"]).await;
    assert!(err.contains("no block"), "{err}");
    let err = weft.fail(&["deploy", "/nonexistent.wasm"]).await;
    assert!(err.contains("cannot read /nonexistent.wasm"), "{err}");
    let err = weft.fail(&["--from", "eve", "transfer", "bob", &u128::MAX.to_string()]).await;
    assert!(err.contains("insufficient balance") && err.contains("weft balance"), "{err}");

    // The node goes away.
    let url = weft.rpc.clone();
    node.shutdown().await;
    let err = weft.fail(&["status"]).await;
    assert!(err.contains(&format!("cannot connect to {url}")), "{err}");
    assert!(err.contains("is `weft-node dev` running?"), "{err}");
    let out = weft.run(&["--json", "balance", "bob"]).await;
    assert_eq!(out.status.code(), Some(1));
    let obj: Value = serde_json::from_slice(&out.stdout).expect("one JSON error object");
    assert_eq!(obj["error"]["kind"], json!("connect"));
    assert!(obj["error"]["hint"].as_str().expect("hint").contains("weft-node dev"));

    // Usage errors are clap's (exit 2).
    let out = weft.run(&["transfer"]).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_creates_a_contract_crate() {
    let weft = Weft::new("ws://127.0.0.1:1".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let created = weft.json(&["new", "my-token", "--dir", dir.path().to_str().expect("utf-8")]).await;
    let path = Path::new(created["path"].as_str().expect("path"));
    assert!(path.join("Cargo.toml").is_file());
    let lib = std::fs::read_to_string(path.join("src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("#[contract(events = [Bumped])]"), "{lib}");
    assert!(path.join("tests/counter.rs").is_file() && path.join("build.rs").is_file());
    let err = weft.fail(&["new", "my-token", "--dir", dir.path().to_str().expect("utf-8")]).await;
    assert!(err.contains("already exists"), "{err}");
    let coin = weft
        .json(&["new", "coin", "--template", "token", "--dir", dir.path().to_str().expect("utf-8")])
        .await;
    let manifest =
        std::fs::read_to_string(Path::new(coin["path"].as_str().expect("path")).join("Cargo.toml"))
            .expect("manifest");
    assert!(manifest.contains("name = \"coin\""), "{manifest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_checks_the_example_token_and_the_template() {
    let weft = Weft::new("ws://127.0.0.1:1".into());
    let token_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/token");
    let built = weft.json(&["build", token_dir.to_str().expect("utf-8")]).await;
    assert!(built["size"].as_u64().expect("size") > 0);
    assert_eq!(built["abi"]["contract"], json!("token"));
    assert!(built["methods"].as_array().expect("methods").contains(&json!("transfer")));
    assert_eq!(built["has_constructor"], json!(true));
    let wasm = std::fs::read(built["wasm_path"].as_str().expect("path")).expect("the wasm exists");
    assert_eq!(built["code_hash"], json!(weft_types::sha3_256(&wasm)));

    // The template of `weft new` builds and passes the node's checks.
    let dir = tempfile::tempdir().expect("tempdir");
    let created = weft.json(&["new", "fresh", "--dir", dir.path().to_str().expect("utf-8")]).await;
    let text = weft.text(&["build", created["path"].as_str().expect("path")]).await;
    assert!(text.contains("constructor: init(limit: u64)"), "{text}");
    assert!(text.contains("bump() -> u64 ! FreshError"), "{text}");
    assert!(text.contains("checks: passed"), "{text}");

    let err = weft.fail(&["build", dir.path().to_str().expect("utf-8")]).await;
    assert!(err.contains("has no Cargo.toml") && err.contains("weft new"), "{err}");
}

/// `weft bench --json` against a real dev node: every workload with a small load, counts only
/// (speed is measured by running it, never asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_reports_every_workload() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));
    let small =
        ["--accounts", "12", "--connections", "2", "--batch", "25", "--window", "100", "--timeout", "300"];

    let run = |workload: &'static str, txs: &'static str| {
        let mut args = vec!["bench", "--workload", workload, "--txs", txs];
        args.extend_from_slice(&small);
        args
    };
    for (workload, txs) in [("transfer", 120u64), ("token", 60), ("compute", 24)] {
        let txs_text: &'static str = Box::leak(txs.to_string().into_boxed_str());
        let out = weft.json(&run(workload, txs_text)).await;
        assert_eq!(out["workload"], json!(workload), "{out}");
        assert_eq!(out["submitted"], json!(txs), "{out}");
        assert_eq!(out["rejected"], json!(0), "{out}");
        assert_eq!(out["finalized"], json!(txs), "{out}");
        assert_eq!(out["timed_out"], json!(false), "{out}");
        for key in ["finalized_tps", "submitted_tps", "latency_p50_ms", "latency_p99_ms"] {
            assert!(out[key].as_f64().is_some_and(|v| v >= 0.0), "{key} in {out}");
        }
        assert!(out["latency_p99_ms"].as_f64() >= out["latency_p50_ms"].as_f64(), "{out}");
        assert!(out["node"]["rss_bytes"].as_u64().is_some_and(|r| r > 0), "{out}");
        assert!(out["blocks"].as_u64().is_some_and(|b| b >= 1), "{out}");
        if workload != "transfer" {
            assert!(out["contract"].as_str().is_some_and(|c| c.starts_with("0x")), "{out}");
        }
    }

    let reads = weft
        .json(&["bench", "--workload", "reads", "--txs", "400", "--clients", "4", "--inflight", "2"])
        .await;
    assert_eq!(reads["requests"], json!(400), "{reads}");
    assert_eq!(reads["clients"], json!(4), "{reads}");
    assert!(reads["requests_per_s"].as_f64().is_some_and(|r| r > 0.0), "{reads}");

    let err = weft.fail(&["bench", "--batch", "0"]).await;
    assert!(err.contains("--batch 0 must be between 1 and 2000"), "{err}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_the_example_token_to_v2_on_a_node() {
    let node = fixture::dev_node().await;
    let weft = Weft::new(fixture::url(&node));
    let path = |package: &str| {
        let built = weft_build::build_cached(package).expect("the example builds");
        built.wasm_path.to_str().expect("utf-8").to_string()
    };
    let (v1, v2) = (path("weft-example-token"), path("weft-example-token-v2"));
    let deployed = weft.json(&["deploy", &v1, "--args", r#"{"supply": "1000"}"#]).await;
    let token = deployed["address"].as_str().expect("address").to_string();
    weft.json(&["call", &token, "transfer", r#"{"to": "bob", "amount": "300"}"#]).await;

    let upgraded = weft.json(&["upgrade", &token, &v2, "--args", r#"{"new_owner": "charlie"}"#]).await;
    assert_eq!(upgraded["receipt"]["success"], json!(true));
    assert!(!upgraded["upload"].is_null(), "v2 was uploaded first");
    assert_eq!(weft.json(&["query", &token, "owner"]).await["value"], json!(dev_address("charlie")));
    assert_eq!(weft.json(&["query", &token, "balance_of", "bob"]).await["value"], json!("300"));
    let burned = weft.json(&["--from", "bob", "call", &token, "burn", r#"{"amount": "100"}"#]).await;
    assert_eq!(burned["events"][0]["name"], json!("Transfer"), "decoded with v2's ABI");
    assert_eq!(weft.json(&["query", &token, "total_supply"]).await["value"], json!("900"));
    node.shutdown().await;
}
