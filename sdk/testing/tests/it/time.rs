//! Blocks, time travel and snapshots.

use serde_json::json;
use weft_testing::{BLOCK_INTERVAL_MS, DEFAULT_BALANCE, GENESIS_TIMESTAMP_MS, Sandbox};

use crate::support::lab;

fn now(sb: &Sandbox, lab: weft_testing::Address) -> (u64, u64) {
    let v = sb.query(lab, "now", json!(null)).unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

#[test]
fn every_transaction_is_a_block_one_interval_later() {
    let mut sb = Sandbox::new();
    assert_eq!((sb.height(), sb.timestamp_ms()), (0, GENESIS_TIMESTAMP_MS));
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 0})).unwrap();
    assert_eq!((sb.height(), sb.timestamp_ms()), (1, GENESIS_TIMESTAMP_MS + BLOCK_INTERVAL_MS));
    let out = sb.call(alice, lab, "now", json!(null)).unwrap();
    assert_eq!(
        out.value,
        json!([2, GENESIS_TIMESTAMP_MS + 2 * BLOCK_INTERVAL_MS]),
        "the call ran in block 2"
    );
    assert_eq!(sb.height(), 2);
    assert_eq!(sb.head().height, 2);
    // A query sees the block a transaction sent now would be in.
    assert_eq!(now(&sb, lab), (3, sb.timestamp_ms() + BLOCK_INTERVAL_MS));
}

#[test]
fn advancing_blocks_and_time() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 0})).unwrap();
    let (h, t) = (sb.height(), sb.timestamp_ms());
    sb.advance_blocks(10);
    assert_eq!((sb.height(), sb.timestamp_ms()), (h + 10, t + 10 * BLOCK_INTERVAL_MS));
    sb.advance_time(3_600_000);
    assert_eq!((sb.height(), sb.timestamp_ms()), (h + 11, t + 10 * BLOCK_INTERVAL_MS + 3_600_000));
    sb.advance_time(0);
    assert_eq!(sb.height(), h + 11);
    assert!(sb.last_receipts().is_empty(), "an empty block");
    let out = sb.call(alice, lab, "now", json!(null)).unwrap();
    assert_eq!(out.value, json!([h + 12, t + 11 * BLOCK_INTERVAL_MS + 3_600_000]));
    // A thousand empty blocks are cheap.
    sb.advance_blocks(1000);
    assert_eq!(sb.height(), h + 1012);
}

#[test]
fn snapshot_and_revert_restore_everything() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab_addr = sb.deploy(alice, &lab(), json!({"start": 1})).unwrap();
    let snap = sb.snapshot();
    let (height, root, supply) = (sb.height(), sb.state_root(), sb.total_supply());

    sb.call(alice, lab_addr, "inc", json!(10)).unwrap();
    let bob = sb.account("bob");
    sb.transfer(alice, bob, 5).unwrap();
    let second = sb.deploy(alice, &lab(), json!({"start": 2})).unwrap();
    sb.advance_time(1_000_000);
    assert_eq!(sb.query(lab_addr, "get", json!(null)).unwrap(), json!(11));

    sb.revert(snap.clone());
    assert_eq!((sb.height(), sb.state_root(), sb.total_supply()), (height, root, supply));
    assert_eq!(sb.query(lab_addr, "get", json!(null)).unwrap(), json!(1));
    assert_eq!(sb.balance(bob), 0);
    assert_eq!(sb.nonce(alice), 2);
    assert!(sb.account_info(second).code_hash.is_none());
    // Replaying gives the same chain: the same contract address, and bob funded again.
    sb.call(alice, lab_addr, "inc", json!(10)).unwrap();
    assert_eq!(sb.account("bob"), bob);
    assert_eq!(sb.balance(bob), DEFAULT_BALANCE);
    sb.transfer(alice, bob, 5).unwrap();
    assert_eq!(sb.deploy(alice, &lab(), json!({"start": 2})).unwrap(), second);
    // A snapshot can be used again.
    sb.revert(snap);
    assert_eq!(sb.height(), height);
}
