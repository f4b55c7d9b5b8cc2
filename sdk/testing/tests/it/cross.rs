//! Cross-contract calls run on the real runtime: results, events of the callee, failures.

use serde_json::json;
use weft_testing::Sandbox;

use crate::support::{lab, relay, token};

#[test]
fn a_contract_calls_another() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 100})).unwrap();
    let relay = sb.deploy(alice, &relay(), json!(null)).unwrap();
    let out = sb.call(alice, relay, "relay", json!({"target": lab, "by": 5})).unwrap();
    assert_eq!(out.value, json!(105));
    assert_eq!(sb.query(lab, "get", json!(null)).unwrap(), json!(105));
    // The callee's event is decoded with the callee's ABI.
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].contract, lab);
    assert_eq!(out.events[0].name, "Incremented");
    assert_eq!(out.events[0].fields["value"], json!(105));
}

#[test]
fn a_failing_callee_is_reported_by_the_caller() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let t = sb.deploy(alice, &token(), json!({"amount": 1})).unwrap();
    let relay = sb.deploy(alice, &relay(), json!(null)).unwrap();
    // The token has no `inc`: the call returns METHOD_NOT_FOUND and the relay reverts.
    let err = sb.call(alice, relay, "relay", json!({"target": t, "by": 5})).unwrap_err();
    assert_eq!(err.panic_message(), Some("callee failed"));
    let err = sb.call(alice, relay, "relay", json!({"target": relay, "by": 5})).unwrap_err();
    assert_eq!(err.panic_message(), Some("callee failed"), "reentrancy is refused");
}
