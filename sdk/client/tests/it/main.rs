//! Integration tests of weft-client against an in-process dev node (127.0.0.1, ephemeral port,
//! temporary data directory): transfers and finality, nonces over consecutive sends, deploy,
//! call and query through the ABI, events (subscription and history), verified proofs, and the
//! error cases.

mod fixture;

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::json;
use weft_client::{
    Client, ClientError, DeployOptions, Signer, TxOptions, WaitFor,
    api::{BlockId, EventFilter, TxStatus, codes},
    verify_state_proof,
};
use weft_types::{Action, Address, dev::dev_address};

use fixture::{dev_node, token_wasm, token_wasm_without_abi, url};

fn alice() -> Signer {
    Signer::dev("alice").expect("alice")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_waits_for_finality_and_moves_the_balance() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    let info = client.node_info().await?;
    assert!(info.dev);
    assert_eq!(client.chain_params().await?.chain_id, info.chain_id);

    // Not alice: she proposes the dev blocks and so gets the fees back.
    let eve = Signer::dev("eve").expect("eve");
    let to = Signer::generate()?.address();
    let before = client.account(eve.address()).await?;
    let receipt = client.transfer(&eve, to, 1_000).await?;
    assert!(receipt.success);
    assert!(receipt.fee > 0);
    let finalized = client.finalized_head().await?;
    assert!(finalized.height >= receipt.location.block_height, "waited for finality");
    assert_eq!(client.account(to).await?.balance, 1_000);
    let after = client.account(eve.address()).await?;
    assert!(receipt.deposit_charged > 0, "a new account holds a deposit, which the sender pays");
    assert_eq!(after.balance, before.balance - 1_000 - receipt.fee - receipt.deposit_charged);
    assert_eq!(after.nonce, before.nonce + 1);

    // The transaction as the node reports it.
    let tx = client.transaction(receipt.tx_hash).await?.expect("known");
    assert_eq!(tx.sender, eve.address());
    assert_eq!(tx.location.expect("included").block_height, receipt.location.block_height);
    let block = client.block(BlockId::Height(receipt.location.block_height), true).await?.expect("block");
    assert!(block.tx_hashes.contains(&receipt.tx_hash));

    // Waiting for inclusion only, through an http:// URL (the same port).
    let http = Client::connect(&format!("http://{}", node.rpc_addr())).await?;
    let options = TxOptions { wait: WaitFor::Included, ..TxOptions::default() };
    let receipt = http.send(&alice(), Action::Transfer { to, amount: 5 }, &options).await?;
    assert!(receipt.success);
    assert_eq!(client.account(to).await?.balance, 1_005);
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consecutive_sends_get_consecutive_nonces() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    let bob = Signer::dev("bob").expect("bob");
    let start = client.account(bob.address()).await?.nonce;
    let to = dev_address("charlie");

    // Five sends without waiting: the client tracks the nonces itself.
    let mut sent = Vec::new();
    for i in 0..5u128 {
        let action = Action::Transfer { to, amount: 10 + i };
        sent.push(client.submit_action(&bob, action, &TxOptions::default()).await?);
    }
    let nonces: Vec<u64> = sent.iter().map(|s| s.tx.nonce).collect();
    assert_eq!(nonces, (start..start + 5).collect::<Vec<_>>());
    for s in &sent {
        let receipt = client.wait(s.hash(), WaitFor::Finalized, Duration::from_secs(30)).await?;
        assert!(receipt.success);
    }
    assert_eq!(client.account(bob.address()).await?.nonce, start + 5);
    assert_eq!(client.next_nonce(bob.address()).await?, start + 5);

    // A second client starts from the chain's nonce.
    let other = Client::connect(&url(&node)).await?;
    let receipt = other.transfer(&bob, to, 1).await?;
    let tx = other.transaction(receipt.tx_hash).await?.expect("known");
    assert_eq!(tx.nonce, start + 5);

    // The first client continues after the second one's transaction.
    let receipt = client.transfer(&bob, to, 1).await?;
    assert_eq!(client.transaction(receipt.tx_hash).await?.expect("known").nonce, start + 6);

    // Transactions undone behind the client's back (another client reverts the dev chain):
    // the client notices its last transaction is gone and starts again from the chain's nonce.
    let snapshot = other.dev_snapshot().await?;
    client.transfer(&bob, to, 1).await?;
    client.transfer(&bob, to, 1).await?;
    other.dev_revert(snapshot).await?;
    assert_eq!(client.account(bob.address()).await?.nonce, start + 7);
    assert_eq!(client.next_nonce(bob.address()).await?, start + 7);
    let receipt = client.transfer(&bob, to, 1).await?;
    assert_eq!(client.transaction(receipt.tx_hash).await?.expect("known").nonce, start + 7);

    // Concurrent sends through one client take distinct nonces.
    let (a, b, c) = tokio::join!(
        client.transfer(&bob, to, 2),
        client.transfer(&bob, to, 3),
        client.transfer(&bob, to, 4)
    );
    let mut nonces = Vec::new();
    for receipt in [a?, b?, c?] {
        nonces.push(client.transaction(receipt.tx_hash).await?.expect("known").nonce);
    }
    nonces.sort_unstable();
    assert_eq!(nonces, vec![start + 8, start + 9, start + 10]);

    // Two clients (as two processes would) sending from one account at once: each picks the
    // head's nonce, one finds it held by the other's pending transaction and moves on.
    let third = Client::connect(&url(&node)).await?;
    let defaults = TxOptions::default();
    let (a, b) = tokio::join!(
        client.submit_action(&bob, Action::Transfer { to, amount: 1 }, &defaults),
        third.submit_action(&bob, Action::Transfer { to, amount: 2 }, &defaults)
    );
    let (a, b) = (a?, b?);
    assert_ne!(a.tx.nonce, b.tx.nonce);
    for s in [a, b] {
        assert!(client.wait(s.hash(), WaitFor::Finalized, Duration::from_secs(30)).await?.success);
    }

    // An explicit, used nonce is refused with the stable error code.
    let options = TxOptions { nonce: Some(start), ..TxOptions::default() };
    let err = client.send(&bob, Action::Transfer { to, amount: 1 }, &options).await.expect_err("used nonce");
    assert_eq!(err.rpc_code(), Some(codes::TX_NONCE_TOO_LOW), "{err}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_call_and_query_through_the_abi() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    let alice = alice();
    let bob = dev_address("bob");
    let wasm = token_wasm();

    let deployed =
        client.deploy_with(&alice, &wasm, json!({"supply": 1_000}), &DeployOptions::default()).await?;
    assert!(deployed.upload.is_some(), "first deployment uploads the code");
    assert_eq!(deployed.code_hash, weft_types::sha3_256(&wasm));
    assert_eq!(deployed.receipt.contract_address, Some(deployed.address));

    let token = client.contract(deployed.address).await?;
    assert_eq!(token.abi().expect("abi").contract, "wat_token");
    assert_eq!(token.query("balance_of", json!({"owner": alice.address()})).await?, json!(1_000));
    assert_eq!(token.query("balance_of", json!([bob])).await?, json!(0));

    let outcome = token.call(&alice, "transfer", json!({"to": bob, "amount": 250})).await?;
    assert!(outcome.receipt.success);
    assert_eq!(outcome.value, serde_json::Value::Null);
    assert_eq!(outcome.events.len(), 1);
    let event = &outcome.events[0];
    assert_eq!(event.name.as_deref(), Some("Transfer"));
    assert_eq!(
        event.fields,
        Some(json!({"from": alice.address(), "to": bob, "amount": 250})),
        "the event is decoded through the ABI"
    );
    assert_eq!(token.query("balance_of", json!(bob)).await?, json!(250));
    assert_eq!(token.query("balance_of", json!(alice.address())).await?, json!(750));

    // The same code again: the upload is skipped, and the nonce-derived salt gives a new
    // address.
    let again = client.deploy_with(&alice, &wasm, json!({"supply": 7}), &DeployOptions::default()).await?;
    assert!(again.upload.is_none(), "the code was already on chain");
    assert_ne!(again.address, deployed.address);
    let token2 = client.contract(again.address).await?;
    assert_eq!(token2.query("balance_of", json!(alice.address())).await?, json!(7));

    // A contract without an ABI takes raw input.
    let (raw, _) = client.deploy(&alice, &token_wasm_without_abi(), json!("0x0500000000000000")).await?;
    let raw = client.contract(raw).await?;
    assert!(raw.abi().is_none());
    let input = weft_types::hex::encode(&alice.address().0);
    assert_eq!(raw.query("balance_of", json!(input)).await?, json!("0x0500000000000000"));
    let err = raw.query("balance_of", json!({"owner": bob})).await.expect_err("no ABI");
    assert!(matches!(err, ClientError::Abi(_)), "{err:?}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_decoded_and_charged_only_when_sent() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    // Not alice, who gets the fees back as the dev proposer.
    let alice = Signer::dev("eve").expect("eve");
    let bob = dev_address("bob");
    let (address, _) = client.deploy(&alice, &token_wasm(), json!({"supply": 10})).await?;
    let token = client.contract(address).await?;

    // The dry run fails: nothing is sent.
    let nonce = client.account(alice.address()).await?.nonce;
    let err = token.call(&alice, "transfer", json!({"to": bob, "amount": 11})).await.expect_err("too much");
    let ClientError::WouldFail { error } = &err else { panic!("expected WouldFail, got {err:?}") };
    assert_eq!(error.kind, "reverted");
    assert_eq!(error.panic.as_deref(), Some("insufficient balance"));
    assert!(err.to_string().contains("insufficient balance"), "{err}");
    assert_eq!(client.account(alice.address()).await?.nonce, nonce, "nothing was sent");

    // With an explicit gas limit it is sent, fails on chain, and pays its fee.
    let before = client.account(alice.address()).await?.balance;
    let options = TxOptions { gas_limit: Some(2_000_000), ..TxOptions::default() };
    let err = token
        .call_with(&alice, "transfer", json!({"to": bob, "amount": 11}), 0, &options)
        .await
        .expect_err("reverts on chain");
    let ClientError::TxFailed { error, receipt, .. } = &err else { panic!("expected TxFailed, got {err:?}") };
    assert_eq!(error.panic.as_deref(), Some("insufficient balance"));
    assert!(!receipt.success);
    assert_eq!(client.account(alice.address()).await?.balance, before - receipt.fee);
    assert_eq!(client.account(alice.address()).await?.nonce, nonce + 1, "the nonce is used");

    // The next send goes through with the next nonce.
    token.call(&alice, "transfer", json!({"to": bob, "amount": 3})).await?;

    // A failing query.
    let err = token.query("transfer", json!({"to": bob, "amount": 1_000})).await.expect_err("query fails");
    assert!(matches!(err, ClientError::QueryFailed { .. }), "{err:?}");

    // Arguments that do not fit the ABI are refused before anything is sent.
    let err = token.call(&alice, "transfer", json!({"to": bob})).await.expect_err("missing arg");
    assert!(matches!(err, ClientError::Abi(_)), "{err:?}");
    assert!(err.to_string().contains("amount"), "{err}");
    let err = token.query("no_such_method", json!(null)).await.expect_err("unknown method");
    assert!(matches!(err, ClientError::Abi(_)), "{err:?}");

    // Not a contract.
    let err = client.contract(bob).await.expect_err("an account");
    assert_eq!(err.rpc_code(), Some(codes::NOT_A_CONTRACT), "{err}");

    // An account with no funds cannot pay.
    let broke = Signer::generate()?;
    let err = client.transfer(&broke, bob, 1).await.expect_err("no funds");
    assert!(
        matches!(err, ClientError::WouldFail { .. })
            || err.rpc_code() == Some(codes::TX_INSUFFICIENT_BALANCE),
        "{err:?}"
    );

    // Waiting for a transaction the node never saw times out.
    let err = client
        .wait(weft_types::Hash([7; 32]), WaitFor::Included, Duration::from_millis(300))
        .await
        .expect_err("unknown tx");
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_and_heads_stream_and_page() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    let alice = alice();
    let (address, deployed) = client.deploy(&alice, &token_wasm(), json!({"supply": 100})).await?;
    let token = client.contract(address).await?;

    let filter =
        EventFilter { contract: Some(address), event: Some("Transfer".into()), ..EventFilter::default() };
    let mut events = client.subscribe_events(filter.clone()).await?;
    let mut heads = client.subscribe_heads().await?;
    let mut finalized = client.subscribe_finalized().await?;

    let recipients = [dev_address("bob"), dev_address("charlie")];
    for (i, to) in recipients.iter().enumerate() {
        token.call(&alice, "transfer", json!({"to": to, "amount": i + 1})).await?;
    }
    for (i, to) in recipients.iter().enumerate() {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next()).await?.expect("an event")?;
        assert_eq!(event.contract, address);
        assert_eq!(event.name.as_deref(), Some("Transfer"));
        assert_eq!(event.fields, Some(json!({"from": alice.address(), "to": to, "amount": i + 1})));
        assert!(event.block_height.is_some() && event.tx_hash.is_some());
    }
    let head = tokio::time::timeout(Duration::from_secs(10), heads.next()).await?.expect("a head")?;
    assert!(head.height > deployed.location.block_height);
    let fin = tokio::time::timeout(Duration::from_secs(10), finalized.next()).await?.expect("a head")?;
    assert!(fin.height > deployed.location.block_height);

    // The same events from history, with a block range, and paged.
    let past = client.events(filter.clone(), 100).await?;
    assert_eq!(past.len(), 2);
    assert_eq!(past[0].fields.as_ref().expect("decoded")["to"], json!(recipients[0]));
    let later = EventFilter { from_block: Some(past[1].block_height.expect("height")), ..filter.clone() };
    assert_eq!(client.events(later, 100).await?.len(), 1);
    let paged = EventFilter { limit: Some(1), ..filter.clone() };
    assert_eq!(client.events(paged, 100).await?.len(), 2);
    let err = client.events(filter, 1).await.expect_err("over the cap");
    assert!(matches!(err, ClientError::InvalidInput(_)), "{err:?}");

    // Transaction status: a finalized transaction reports Finalized at once.
    let receipt = client.transfer(&alice, dev_address("dave"), 1).await?;
    let mut status = client.subscribe_tx_status(receipt.tx_hash).await?;
    let first = status.next().await.expect("a status")?;
    assert!(matches!(first, TxStatus::Finalized { success: true, .. }), "{first:?}");
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_verify_against_the_finalized_header() -> anyhow::Result<()> {
    let node = dev_node().await;
    let client = Client::connect(&url(&node)).await?;
    let alice = alice();
    let (address, _) = client.deploy(&alice, &token_wasm(), json!({"supply": 42})).await?;

    // An account.
    let verified = client.verified_state(alice.address(), &[]).await?;
    let account = verified.account.expect("alice exists");
    let rpc = client.account(alice.address()).await?;
    assert_eq!(account.balance, rpc.balance);
    assert_eq!(account.nonce, rpc.nonce);
    assert_eq!(verified.header, client.finalized_head().await?);

    // An absent account is proven absent.
    let nobody = Signer::generate()?.address();
    assert_eq!(client.verified_state(nobody, &[]).await?.account, None);

    // Contract storage: alice's balance (u64 LE under her address) and an absent key.
    let keys = vec![alice.address().0.to_vec(), b"missing".to_vec()];
    let verified = client.verified_state(address, &keys).await?;
    assert!(verified.account.expect("the contract").code_hash.is_some());
    assert_eq!(verified.storage[0], (keys[0].clone(), Some(42u64.to_le_bytes().to_vec())));
    assert_eq!(verified.storage[1], (keys[1].clone(), None));

    // Tampering with a value, the header, or the key is caught.
    let info = client.proof(address, &keys).await?;
    verify_state_proof(&info, &address, &keys, Some(&verified.header))?;
    let mut bad = info.clone();
    bad.storage[0].value = Some(43u64.to_le_bytes().to_vec().into());
    assert!(matches!(verify_state_proof(&bad, &address, &keys, None), Err(ClientError::BadProof(_))));
    let mut bad = info.clone();
    bad.storage[1].value = Some(vec![1].into());
    assert!(matches!(verify_state_proof(&bad, &address, &keys, None), Err(ClientError::BadProof(_))));
    let mut bad = info.clone();
    bad.header.state_root = weft_types::Hash([9; 32]);
    let err = verify_state_proof(&bad, &address, &keys, None).expect_err("header hash");
    assert!(err.to_string().contains("hash"), "{err}");
    let wrong = Address([5; 32]);
    assert!(verify_state_proof(&info, &wrong, &keys, None).is_err());
    let mut other_header = verified.header.clone();
    other_header.hash = weft_types::Hash([1; 32]);
    assert!(verify_state_proof(&info, &address, &keys, Some(&other_header)).is_err());
    node.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_errors_are_plain() -> anyhow::Result<()> {
    let node = dev_node().await;
    let addr = node.rpc_addr();
    let client = Client::connect(&url(&node)).await?;
    assert!(client.head().await?.height <= client.node_info().await?.height);
    node.shutdown().await;

    // The node is gone: requests fail as transport errors, and new connections as connect
    // errors naming the URL.
    let err = client.head().await.expect_err("node stopped");
    assert!(err.is_connection(), "{err:?}");
    let err = Client::connect(&format!("ws://{addr}")).await.expect_err("nothing listens");
    assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    let err = Client::connect("ftp://example").await.expect_err("bad scheme");
    assert!(matches!(err, ClientError::InvalidInput(_)), "{err:?}");
    Ok(())
}
