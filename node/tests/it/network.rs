//! A real 4-validator network of `weft-node run` processes on loopback. A transfer submitted to
//! one node as soon as its RPC answers (before the gossip mesh forms) becomes final in the same
//! block, with the same state root, on all four; so does a contract call (the example token,
//! deployed and called), visible through queries on every node. With one validator killed
//! (`kill -9`) the other three keep finalizing; restarted, it catches up. A fifth node outside
//! the validator set, started late, syncs from genesis and follows. A 2|2 partition (libp2p
//! connection gating through the test admin RPC) stops finality without any fork, and finality
//! resumes when it heals. With all four validators killed at once and restarted, the network
//! finalizes again.

use std::{process::Command, time::Duration};

use jsonrpsee_http_client::HttpClient;
use weft_node::config::NodeConfig;
use weft_rpc_api::{
    BlockId, Bytes, CallInput, ChainApiClient, Conflict, ContractApiClient, NodeApiClient, QueryRequest,
    TxApiClient,
};
use weft_types::{
    Address, Hash,
    codec::BoundedBytes,
    consensus::{BlockRef, Evidence, Proposal, Vote},
    dev::dev_address,
    limits::MAX_TX_GAS,
    tx::{Action, MethodName, address_of},
};

use crate::cluster::{
    Nodes, PATIENCE, alice_tx, client, final_everywhere, finalized, partition, same_blocks, signed_by,
    testnet, transfer, wait_for,
};

async fn token_balance(client: &HttpClient, token: Address, who: &str) -> Option<serde_json::Value> {
    let q = client
        .contract_query(QueryRequest {
            contract: token,
            method: "balance_of".into(),
            input: CallInput { args: Some(serde_json::json!({ "owner": dev_address(who) })), input: None },
            caller: None,
            gas_limit: None,
        })
        .await
        .ok()?;
    assert!(q.success, "{:?}", q.error);
    q.value
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_finalize_survive_a_crash_partition_and_catch_up() {
    // The example token, built meanwhile (cached by cargo after the first build).
    let token_build = std::thread::spawn(|| weft_build::build_cached("weft-example-token").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let net = testnet(dir.path());
    let chain_id = net.genesis.chain_id;
    let configs = net.configs.clone();
    let mut nodes = Nodes::new(configs.clone());
    // The four validators; the follower (node4) joins late.
    for i in 0..4 {
        nodes.spawn(i);
    }
    let clients: Vec<HttpClient> = configs.iter().map(|c| client(c)).collect();
    for (i, c) in clients.iter().enumerate().take(4) {
        wait_for(&format!("node{i}'s RPC"), &nodes, PATIENCE, || async { c.node_info().await.ok() }).await;
    }

    // Submitted at once, before the gossip mesh has formed (its first publication may find no
    // peer): the node publishes it again when peers join, and it is final on all four.
    let hash = clients[0].tx_submit(Bytes(transfer(0, chain_id))).await.unwrap();
    let receipt = final_everywhere(&nodes, &clients, &[0, 1, 2, 3], hash).await;
    let first = (hash, receipt.location.clone());
    let info = clients[1].node_info().await.unwrap();
    assert!(info.validator && !info.dev && info.peer_id.is_some());
    assert!(info.finalized_height >= receipt.location.block_height);
    let peers = clients[1].node_peers().await.unwrap();
    assert!(peers.len() >= 3, "{peers:?}");

    // A contract: the example token uploaded, instantiated and called (transfer to bob), sent
    // to node1; the call is final in one block with one state root on all four, and every node
    // answers the query the same.
    let token = token_build.join().unwrap();
    let abi = token.abi.as_ref().unwrap();
    let alice = dev_address("alice");
    let address = Address::contract(&alice, &token.code_hash, b"token");
    let upload = Action::UploadCode { code: BoundedBytes::new(token.wasm.clone()).unwrap() };
    let instantiate = Action::Instantiate {
        code_hash: token.code_hash,
        args: BoundedBytes::new(abi.encode_constructor(&serde_json::json!({"supply": "1000000"})).unwrap())
            .unwrap(),
        value: 0,
        salt: BoundedBytes::new(b"token".to_vec()).unwrap(),
    };
    let args = serde_json::json!({"to": dev_address("bob"), "amount": "250"});
    let call = Action::Call {
        contract: address,
        method: MethodName::new("transfer").unwrap(),
        args: BoundedBytes::new(abi.encode_call("transfer", &args).unwrap()).unwrap(),
        value: 0,
    };
    let mut last = Hash::ZERO;
    for (nonce, action) in [(1, upload), (2, instantiate), (3, call)] {
        last = clients[1].tx_submit(Bytes(alice_tx(nonce, chain_id, MAX_TX_GAS, action))).await.unwrap();
    }
    let receipt = final_everywhere(&nodes, &clients, &[0, 1, 2, 3], last).await;
    assert!(!receipt.events.is_empty(), "the transfer emits an event");
    for (i, c) in clients.iter().enumerate().take(4) {
        let balance =
            wait_for(&format!("the token on node{i}"), &nodes, PATIENCE, || token_balance(c, address, "bob"))
                .await;
        assert_eq!(balance, serde_json::json!("250"), "node{i}");
    }

    // Kill node3: the other three keep finalizing.
    nodes.kill(3);
    let hash = clients[1].tx_submit(Bytes(transfer(4, chain_id))).await.unwrap();
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
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3], hash).await;
    wait_for("node3 healthy", &nodes, PATIENCE, || async {
        let health = clients[3].node_health().await.ok()?;
        (health.healthy && health.peers > 0 && !health.syncing).then_some(())
    })
    .await;
    // Replayed to the restarted node, a transfer it committed before the crash and one it
    // only fetched while catching up are both refused.
    for (nonce, (hash, included)) in [(0, first.clone()), (4, (hash, receipt.location.clone()))] {
        let refused = clients[3].tx_submit(Bytes(transfer(nonce, chain_id))).await.unwrap_err();
        let jsonrpsee::core::client::Error::Call(e) = refused else { panic!("{refused}") };
        assert_eq!(e.code(), weft_rpc_api::codes::TX_NONCE_TOO_LOW, "nonce {nonce}: {}", e.message());
        let found = clients[3].tx_get_receipt(hash).await.unwrap().unwrap();
        assert_eq!(found.location, included, "nonce {nonce} stays where it was included");
    }
    // Idle, a block comes every `block_interval_ms`, not back to back.
    let parent = clients[3].chain_get_block(BlockId::Height(target.height - 1), None).await.unwrap().unwrap();
    assert_eq!(block.header.parent_hash, parent.header.hash);
    if block.tx_hashes.is_empty() {
        assert!(
            block.header.timestamp_ms >= parent.header.timestamp_ms + 200,
            "empty blocks wait the interval"
        );
    }

    // A node outside the validator set, started now, syncs from genesis and follows.
    nodes.spawn(4);
    wait_for("node4's RPC", &nodes, PATIENCE, || async { clients[4].node_info().await.ok() }).await;
    assert!(!clients[4].node_info().await.unwrap().validator, "node4 is not in the validator set");
    let target = clients[0].chain_get_head().await.unwrap();
    wait_for("node4 to sync from genesis", &nodes, PATIENCE, || async {
        let head = clients[4].chain_get_head().await.ok()?;
        (head.height >= target.height).then_some(())
    })
    .await;
    let block = clients[4].chain_get_block(BlockId::Height(target.height), None).await.unwrap().unwrap();
    assert_eq!(block.header.hash, target.hash);
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], last).await;
    assert_eq!(token_balance(&clients[4], address, "bob").await, Some(serde_json::json!("250")));

    // A 2|2 partition: {node0, node1 (and the follower)} | {node2, node3}. Neither side holds
    // a quorum: finality stops everywhere, with no fork.
    let (a, b) = ([0, 1, 4], [2, 3]);
    for i in a {
        partition(&net, i, &b).await;
    }
    for i in b {
        partition(&net, i, &a).await;
    }
    let cut = |i: usize| if a.contains(&i) { b.to_vec() } else { a.to_vec() };
    for (i, c) in clients.iter().enumerate() {
        wait_for(&format!("node{i} to be cut off"), &nodes, PATIENCE, || async {
            let peers = c.node_peers().await.ok()?;
            let ids: Vec<String> = peers.iter().map(|p| p.peer_id.clone()).collect();
            cut(i).iter().all(|&j| !ids.contains(&net.peers[j])).then_some(())
        })
        .await;
    }
    // Blocks in flight when the partition began may still finalize; then nothing does.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut stalled = Vec::new();
    for c in &clients {
        stalled.push(finalized(c).await);
    }
    let during_a = clients[0].tx_submit(Bytes(transfer(5, chain_id))).await.unwrap();
    // Bob's first transaction, so that it does not compete with alice's nonces.
    let from_bob = signed_by("bob", 0, chain_id, 1_000_000, Action::Transfer { to: alice, amount: 1 });
    let during_b = clients[2].tx_submit(Bytes(from_bob)).await.unwrap();
    // No certificate can form on either side: no node goes past the highest block finalized
    // before (a node may still catch up to it from its side).
    let high = *stalled.iter().max().unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (i, c) in clients.iter().enumerate() {
        assert!(finalized(c).await <= high, "node{i} finalized a block without a quorum");
    }
    let low = *stalled.iter().min().unwrap();
    same_blocks(&clients, &[0, 1, 2, 3, 4], low.saturating_sub(5).max(1)..=low).await;

    // Healed: finality resumes, the transactions sent to either side are final everywhere and
    // every node holds the same chain.
    for i in 0..5 {
        partition(&net, i, &[]).await;
    }
    for (i, c) in clients.iter().enumerate() {
        wait_for(&format!("node{i} to finalize after the partition"), &nodes, PATIENCE, || async {
            (c.chain_get_finalized().await.ok()?.height > high + 2).then_some(())
        })
        .await;
    }
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], during_a).await;
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], during_b).await;
    // The whole chain, from genesis: one block per height on every node.
    same_blocks(&clients, &[0, 1, 2, 3, 4], 1..=high + 2).await;

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
    let hash = clients[2].tx_submit(Bytes(transfer(6, chain_id))).await.unwrap();
    final_everywhere(&nodes, &clients, &[0, 1, 2, 3, 4], hash).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kept_evidence_is_served_over_json_rpc_and_printed_by_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let net = testnet(dir.path());
    let chain_id = net.genesis.chain_id;
    let config = NodeConfig::load(&net.configs[1]).unwrap();
    // Validator 1 signed a nullify and a finalize of view 7, and two proposals of view 9: kept
    // in its store as the service keeps what it sees, before the node starts.
    let key = weft_node::config::read_key(&config.validator_key).unwrap();
    let offender = address_of(&key);
    let block = |height, byte| BlockRef { view: 7, height, hash: Hash([byte; 32]) };
    let votes = Evidence::ConflictingVotes(
        Vote::Nullify(7).sign(chain_id, &key),
        Vote::Finalize(block(3, 1)).sign(chain_id, &key),
    );
    let proposal = |byte| {
        Proposal { view: 9, parent_view: 7, height: 4, block_hash: Hash([byte; 32]) }.sign(chain_id, &key)
    };
    let proposals = Evidence::ConflictingProposals(proposal(2), proposal(3));
    std::fs::create_dir_all(&config.data_dir).unwrap();
    {
        let store = weft_node::store::Store::open(&config.data_dir.join("chain.redb")).unwrap();
        store.keep_evidence(&proposals).unwrap();
        store.keep_evidence(&votes).unwrap();
    }

    let mut nodes = Nodes::new(net.configs.clone());
    nodes.spawn(1);
    let client = client(&net.configs[1]);
    let served =
        wait_for("node1's RPC", &nodes, PATIENCE, || async { client.node_evidence().await.ok() }).await;
    assert_eq!(served.len(), 2, "{served:?}");
    assert_eq!((served[0].view, served[0].offender), (7, offender), "lowest view first");
    assert_eq!(
        serde_json::to_value(&served[0].conflict).unwrap(),
        serde_json::json!({
            "type": "votes",
            "first": { "kind": "nullify", "view": 7, "block": null },
            "second": { "kind": "finalize", "view": 7, "block": { "height": 3, "hash": Hash([1; 32]) } },
        })
    );
    let Conflict::Proposals { first, second } = &served[1].conflict else { panic!("{served:?}") };
    assert_eq!(
        (served[1].view, first.parent_view, first.block.hash, second.block.hash),
        (9, 7, Hash([2; 32]), Hash([3; 32]))
    );
    // The raw form is the evidence itself: anyone can check both signatures.
    let set = net.genesis.validator_set().unwrap();
    for (info, kept) in served.iter().zip([&votes, &proposals]) {
        let decoded = Evidence::decode_bounded(&info.raw.0).unwrap();
        assert_eq!(&decoded, kept);
        decoded.verify(chain_id, &set).unwrap();
    }

    // Alone, one validator of four is not healthy: load balancers are told with a 503.
    let (status, _, body) = crate::rpc::raw_request(config.rpc.addr, "GET /health", &[], b"");
    assert_eq!(status, 503, "{body}");
    let health: weft_rpc_api::Health = serde_json::from_str(&body).unwrap();
    assert!(!health.healthy && health.peers == 0 && !health.syncing, "{health:?}");
    // Prometheus scrapers see it too, on a validator.
    let (status, _, metrics) = crate::rpc::raw_request(config.rpc.addr, "GET /metrics", &[], b"");
    assert_eq!(status, 200, "{metrics}");
    assert!(metrics.lines().any(|l| l == "weft_evidence 2"), "{metrics}");
    assert!(metrics.contains("validator=\"true\",dev=\"false\"} 1"), "{metrics}");

    // Stopped, the node prints the same evidence from its store.
    nodes.kill(1);
    let out = Command::new(env!("CARGO_BIN_EXE_weft-node"))
        .args(["evidence", "--config"])
        .arg(&net.configs[1])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(&format!("view 7 validator {offender}: conflicting votes")), "{text}");
    assert!(text.contains(&format!("view 9 validator {offender}: two proposals")), "{text}");
}
