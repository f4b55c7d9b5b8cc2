//! Sandbox tests: the contract built to wasm and run on the real runtime, called through its ABI
//! with JSON arguments (u128 as decimal strings, addresses as `0x…` hex).
#![allow(missing_docs, clippy::unwrap_used)]

use serde_json::{Value, json};
use weft_testing::{Address, Sandbox, contract_wasm};

/// This crate built with the `contract` profile (once per test process).
fn wasm() -> Vec<u8> {
    contract_wasm(env!("CARGO_MANIFEST_DIR"))
}

fn addr(a: Address) -> Value {
    json!(a.to_string())
}

#[test]
fn transfer_moves_tokens_and_emits_an_event() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let token = sb.deploy(alice, &wasm(), json!({"supply": "1000"})).unwrap();

    let out = sb.call(alice, token, "transfer", json!({"to": addr(bob), "amount": "10"})).unwrap();
    assert_eq!(out.events[0].name, "Transfer");
    assert_eq!(out.events[0].fields["amount"], json!("10"));
    assert_eq!(sb.query(token, "balance_of", json!({"owner": addr(bob)})).unwrap(), json!("10"));
    assert_eq!(sb.query(token, "balance_of", json!({"owner": addr(alice)})).unwrap(), json!("990"));
}

#[test]
fn errors_revert_with_a_typed_value() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let token = sb.deploy(alice, &wasm(), json!({"supply": "1000"})).unwrap();

    let err = sb.call(bob, token, "transfer", json!({"to": addr(alice), "amount": "5"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientBalance": {"have": "0", "need": "5"}})));
    let err = sb.call(bob, token, "mint", json!({"to": addr(bob), "amount": "5"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));
    assert_eq!(sb.query(token, "total_supply", json!({})).unwrap(), json!("1000"));
}
