//! Deploying and calling through the ABI, raw and typed; queries; events; values.

use parity_scale_codec::Encode;
use serde_json::json;
use weft_testing::{Address, CallError, CallOpts, DEFAULT_BALANCE, Sandbox};
use weft_types::{Hash, sha3_256};

use crate::support::{lab, token, token_raw};

#[test]
fn deploy_call_query_with_events() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 40})).unwrap();
    assert_eq!(sb.height(), 1, "upload and instantiate in one block");
    assert_eq!(sb.nonce(alice), 2);
    assert_eq!(sb.query(lab, "get", json!(null)).unwrap(), json!(40));
    assert_eq!(sb.storage(lab, b"n"), Some(40u32.to_le_bytes().to_vec()));
    assert_eq!(sb.storage(lab, b"m"), None);

    let out = sb.call(alice, lab, "inc", json!({"by": 2})).unwrap();
    assert_eq!(out.value, json!(42));
    assert_eq!(out.return_data, 42u32.encode());
    assert!(out.receipt.is_success());
    assert_eq!(out.gas_used, out.receipt.gas_used);
    assert_eq!(out.events.len(), 1);
    let e = &out.events[0];
    assert_eq!((e.name.as_str(), e.contract), ("Incremented", lab));
    assert_eq!(serde_json::Value::Object(e.fields.clone()), json!({"by": 2, "value": 42}));
    assert_eq!(out.raw_events.len(), 1);
    assert_eq!(out.raw_events[0].topics[0], sha3_256(b"Incremented"));
    assert_eq!(out.events_named("Incremented").len(), 1);
    assert!(out.events_named("Other").is_empty());

    // Arguments by position and bare work too.
    assert_eq!(sb.call(alice, lab, "inc", json!([3])).unwrap().value, json!(45));
    assert_eq!(sb.call(alice, lab, "inc", json!(5)).unwrap().value, json!(50));
    // Queries produce no block and change nothing.
    let (height, nonce) = (sb.height(), sb.nonce(alice));
    assert_eq!(sb.query(lab, "get", json!({})).unwrap(), json!(50));
    assert_eq!((sb.height(), sb.nonce(alice)), (height, nonce));
    assert_eq!(sb.query(lab, "who", json!(null)).unwrap(), json!(Address::default()));
    assert_eq!(sb.query_as(alice, lab, "who", json!(null)).unwrap(), json!(alice));
    assert_eq!(sb.call(alice, lab, "who", json!(null)).unwrap().value, json!(alice));
}

#[test]
fn typed_and_raw_calls() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy_raw(alice, &lab(), 1u32.encode(), CallOpts::default()).unwrap();
    let n: u32 = sb.call_typed(alice, lab, "inc", &9u32).unwrap();
    assert_eq!(n, 10);
    assert_eq!(sb.query_typed::<u32>(lab, "get", &()).unwrap(), 10);
    let (height, _ts): (u64, u64) = sb.query_typed(lab, "now", &()).unwrap();
    assert_eq!(height, sb.height() + 1, "queries run in the next block");
    let who: Address = sb.call_typed(alice, lab, "who", &()).unwrap();
    assert_eq!(who, alice);
    let err = sb.query_typed::<u64>(lab, "get", &()).unwrap_err();
    assert!(matches!(err, CallError::Decode { ty: "u64", .. }), "{err:?}");
    let err = sb.query_typed::<u16>(lab, "get", &()).unwrap_err();
    assert_eq!(err.to_string(), "cannot decode the return data as u16: 2 trailing bytes");

    let out = sb.call_raw(alice, lab, "inc", 5u32.encode(), CallOpts::default()).unwrap();
    assert_eq!(out.return_data, 15u32.encode());
    assert_eq!(out.events.len(), 1);
    assert_eq!(sb.query_raw(lab, "get", []).unwrap(), 15u32.encode());
}

#[test]
fn a_contract_without_abi_is_called_raw() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let t = sb.deploy_raw(alice, &token_raw(), 1000u64.encode(), CallOpts::default()).unwrap();
    sb.call_raw(alice, t, "transfer", (bob, 250u64).encode(), CallOpts::default()).unwrap();
    assert_eq!(sb.query_raw(t, "balance_of", bob.encode()).unwrap(), 250u64.encode());
    assert_eq!(sb.query_typed::<u64>(t, "balance_of", &alice).unwrap(), 750);
    // The JSON API says why it cannot work.
    let err = sb.call(alice, t, "transfer", json!([bob, 1])).unwrap_err();
    assert!(matches!(err, CallError::Invalid(ref m) if m.contains("has no weft:abi section")), "{err}");
    let err = sb.query(t, "balance_of", json!([bob])).unwrap_err();
    assert!(matches!(err, CallError::Invalid(_)), "{err}");
    let err = sb.deploy(alice, &token_raw(), json!({"amount": 5})).unwrap_err();
    assert!(err.to_string().contains("use deploy_raw"), "{err}");
    // With no arguments, a module without an ABI deploys through `deploy` too.
    sb.deploy(alice, &token_raw(), json!(null)).unwrap();
    let nobody = Address([7; 32]);
    assert!(
        matches!(sb.query(nobody, "get", json!(null)), Err(CallError::Invalid(m)) if m.contains("no contract at"))
    );
}

#[test]
fn the_wat_token_through_its_abi() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let t = sb.deploy(alice, &token(), json!({"amount": 1000})).unwrap();
    sb.call(alice, t, "transfer", json!({"to": bob, "amount": 10})).unwrap();
    assert_eq!(sb.query(t, "balance_of", json!({"who": bob})).unwrap(), json!(10));
    assert_eq!(sb.query(t, "balance_of", json!([alice])).unwrap(), json!(990));
    assert_eq!(sb.abi(t).unwrap().unwrap().contract, "wat-token");
    // Storage deposits are charged to the sender and kept in the supply.
    assert!(sb.deposit(t) > 0);
    assert_eq!(sb.balance(alice) + sb.balance(bob) + sb.deposit(t), sb.total_supply());
    assert_eq!(sb.total_supply(), 2 * DEFAULT_BALANCE);
}

#[test]
fn deploys_share_code_and_get_new_addresses() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let a = sb.deploy(alice, &lab(), json!({"start": 1})).unwrap();
    let nonce = sb.nonce(alice);
    let b = sb.deploy(alice, &lab(), json!({"start": 2})).unwrap();
    assert_ne!(a, b);
    assert_eq!(sb.nonce(alice), nonce + 1, "the code is uploaded once");
    assert_eq!(sb.account_info(a).code_hash, Some(sha3_256(&lab())));
    assert_eq!(sb.account_info(a).code_hash, sb.account_info(b).code_hash);
    assert_eq!(sb.query(a, "get", json!(null)).unwrap(), json!(1));
    assert_eq!(sb.query(b, "get", json!(null)).unwrap(), json!(2));
    assert_eq!(sb.upload(alice, &lab()).unwrap(), sha3_256(&lab()));
    let other: Hash = sb.upload(alice, &token()).unwrap();
    assert_eq!(other, sha3_256(&token()));
}

#[test]
fn payable_calls_move_value() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let lab = sb.deploy(alice, &lab(), json!({"start": 0})).unwrap();
    let out =
        sb.call_with(alice, lab, "deposit", json!(null), CallOpts { value: 5, gas_limit: None }).unwrap();
    assert_eq!(out.value, json!("5"));
    assert_eq!(sb.balance(lab), 5);
    let lab2 = sb
        .deploy_with(
            alice,
            &crate::support::lab(),
            json!({"start": 0}),
            CallOpts { value: 7, gas_limit: None },
        )
        .unwrap();
    assert_eq!(sb.balance(lab2), 7);
    assert_eq!(sb.balance(alice), DEFAULT_BALANCE - 12 - sb.deposit(lab) - sb.deposit(lab2));
}
