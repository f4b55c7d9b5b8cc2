//! The example token built from the workspace with `contract_wasm`, driven the way contract
//! tests drive it.

use serde_json::json;
use weft_testing::{Address, CallOpts, Sandbox, built_contract, contract_wasm};

#[test]
fn the_example_token_end_to_end() {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.funded_account("bob", 1_000u128);
    let wasm = contract_wasm("weft-example-token");
    assert_eq!(wasm, built_contract("weft-example-token").wasm);
    let token = sb.deploy(alice, &wasm, json!({"supply": "1000"})).unwrap();
    let supply = sb.total_supply();
    // The constructor's mint event, from the deploy block.
    let minted = sb.last_events();
    assert_eq!(minted.len(), 1);
    assert_eq!(
        serde_json::Value::Object(minted[0].fields.clone()),
        json!({"from": Address::default(), "to": alice, "amount": "1000"})
    );
    assert_eq!(sb.last_receipts().len(), 2, "upload and instantiate");

    let out = sb.call(alice, token, "transfer", json!({"to": bob, "amount": "10"})).unwrap();
    assert_eq!(out.value, json!(null));
    let transfers = out.events_named("Transfer");
    assert_eq!(transfers.len(), 1);
    assert_eq!(transfers[0].contract, token);
    assert_eq!(
        serde_json::Value::Object(transfers[0].fields.clone()),
        json!({"from": alice, "to": bob, "amount": "10"})
    );
    assert_eq!(sb.query(token, "balance_of", json!({"owner": bob})).unwrap(), json!("10"));
    assert_eq!(sb.query(token, "owner", json!(null)).unwrap(), json!(alice));
    let balance: u128 = sb.query_typed(token, "balance_of", &alice).unwrap();
    assert_eq!(balance, 990);
    sb.call_typed::<()>(alice, token, "transfer", &(bob, 5u128)).unwrap();
    assert_eq!(sb.query_typed::<u128>(token, "balance_of", &bob).unwrap(), 15);

    // A typed error, decoded with the method's error type.
    let err = sb.call(bob, token, "transfer", json!({"to": alice, "amount": "100"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientBalance": {"have": "15", "need": "100"}})));
    let err = sb.call(bob, token, "mint", json!({"to": bob, "amount": "1"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));
    assert_eq!(err.to_string(), r#"reverted: error: "NotOwner""#);
    // A panic: the method is not payable.
    let err = sb
        .call_with(alice, token, "transfer", json!([bob, "1"]), CallOpts { value: 5, gas_limit: None })
        .unwrap_err();
    assert!(err.panic_message().is_some(), "{err}");
    assert_eq!(sb.total_supply(), supply);
    assert_eq!(sb.query(token, "total_supply", json!(null)).unwrap(), json!("1000"));
    let _: Address = token;
}
