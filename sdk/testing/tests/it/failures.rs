//! Reverts (panic, typed, raw), traps, out of gas, bad arguments and what they leave behind.

use serde_json::json;
use weft_abi::{AbiError, Revert};
use weft_testing::{CallError, CallOpts, Sandbox};
use weft_types::{ExecError, TrapKind};

use crate::support::{lab, token};

#[test]
fn panics_and_typed_errors_are_decoded() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 3})).unwrap();
    let (height, nonce) = (sb.height(), sb.nonce(alice));

    let err = sb.call(alice, lab, "fail_panic", json!(null)).unwrap_err();
    assert_eq!(err.to_string(), "reverted: panicked: boom");
    assert_eq!(err.panic_message(), Some("boom"));
    assert_eq!(err.error_value(), None);
    assert!(err.gas_used().unwrap() > 0);
    assert_eq!((sb.height(), sb.nonce(alice)), (height + 1, nonce + 1), "included, in its own block");

    let err = sb.call(alice, lab, "fail_typed", json!({"code": 7})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"Code": {"code": 7}})));
    assert_eq!(err.to_string(), r#"reverted: error: {"Code":{"code":7}}"#);
    assert_eq!(err.panic_message(), None);
    // Without the ABI the typed error is raw bytes; a panic is still a panic.
    let err = sb.call_raw(alice, lab, "fail_typed", [7u8], CallOpts::default()).unwrap_err();
    assert_eq!(
        err.error_value(),
        Some(&json!({"Code": {"code": 7}})),
        "call_raw still uses the ABI if there is one"
    );
    let err = sb.query_raw(lab, "fail_panic", []).unwrap_err();
    assert_eq!(err.panic_message(), Some("boom"));
    let err = sb.query(lab, "fail_typed", json!([1])).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"Code": {"code": 1}})));
    assert_eq!(sb.query(lab, "get", json!(null)).unwrap(), json!(3), "nothing changed");
}

#[test]
fn raw_revert_data_is_shown_as_hex() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let t = sb.deploy(alice, &token(), json!({"amount": 5})).unwrap();
    let err = sb.call(bob, t, "transfer", json!({"to": alice, "amount": 1})).unwrap_err();
    assert_eq!(err.revert(), Some(&Revert::Raw(b"insufficient balance".to_vec())));
    assert_eq!(err.to_string(), format!("reverted: 0x{}", hex_of(b"insufficient balance")));
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn traps_and_out_of_gas_fail_the_transaction() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 0})).unwrap();
    let err = sb.call(alice, lab, "trap", json!(null)).unwrap_err();
    assert!(
        matches!(err, CallError::Failed { error: ExecError::Trap { kind: TrapKind::Unreachable, contract }, .. } if contract == lab),
        "{err:?}"
    );
    assert_eq!(err.to_string(), format!("failed: contract {lab} trapped: Unreachable"));

    let err =
        sb.call_with(alice, lab, "spin", json!(null), CallOpts { value: 0, gas_limit: Some(2_000_000) });
    let err = err.unwrap_err();
    assert!(matches!(err, CallError::Failed { error: ExecError::OutOfGas, gas_used: 2_000_000 }), "{err:?}");
    assert_eq!(err.exec_error(), Some(&ExecError::OutOfGas));
    assert_eq!(err.to_string(), "failed: out of gas");
    // The default gas limit is finite too.
    let err = sb.call(alice, lab, "spin", json!(null)).unwrap_err();
    assert_eq!(err.gas_used(), Some(sb.config().default_gas_limit));
    let err = sb.call_raw(alice, lab, "missing", [], CallOpts::default()).unwrap_err();
    assert!(matches!(err, CallError::Failed { error: ExecError::MethodNotFound { .. }, .. }), "{err:?}");
}

#[test]
fn bad_requests_send_nothing() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 0})).unwrap();
    let (height, nonce) = (sb.height(), sb.nonce(alice));
    let err = sb.call(alice, lab, "inc", json!({"by": "lots"})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ABI: argument `by`: expected u32 as a number or decimal string, got \"lots\""
    );
    let err = sb.call(alice, lab, "inc", json!({"bye": 1})).unwrap_err();
    assert!(matches!(err, CallError::Abi(AbiError::UnknownArgument(ref a)) if a == "bye"), "{err:?}");
    let err = sb.call(alice, lab, "dec", json!(null)).unwrap_err();
    assert_eq!(err.to_string(), "ABI: the contract has no method `dec`");
    let err = sb.call_raw(alice, lab, "not a name", [], CallOpts::default()).unwrap_err();
    assert!(matches!(err, CallError::Invalid(_)), "{err:?}");
    let err = sb.deploy(alice, &crate::support::lab(), json!({})).unwrap_err();
    assert_eq!(err.to_string(), "ABI: missing argument `start`");
    assert_eq!((sb.height(), sb.nonce(alice)), (height, nonce));
}

#[test]
fn invalid_code_is_refused_at_upload() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bad = wat::parse_str(r#"(module (import "env" "f" (func)) (memory (export "memory") 1))"#).unwrap();
    let err = sb.deploy(alice, &bad, json!(null)).unwrap_err();
    assert!(
        matches!(err, CallError::Failed { error: ExecError::InvalidCode(ref m), .. } if m.contains("not a Weft host function")),
        "{err:?}"
    );
    let err = sb.upload(alice, b"\0asm garbage").unwrap_err();
    assert!(matches!(err, CallError::Failed { error: ExecError::InvalidCode(_), .. }), "{err:?}");
}
