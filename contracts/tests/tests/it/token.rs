//! `token`: supply, transfers, allowances, minting, typed errors, events, payable and input
//! checks, storage layout.

use parity_scale_codec::Encode;
use serde_json::json;
use weft_testing::{Address, CallOpts, Sandbox};

use crate::support::{amount, deploy, j, zero};

pub const TOKEN: &str = "weft-example-token";

struct T {
    sb: Sandbox,
    token: Address,
    alice: Address,
    bob: Address,
    carol: Address,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let carol = sb.account("carol");
    let token = deploy(&mut sb, alice, TOKEN, json!({"supply": "1000"}));
    T { sb, token, alice, bob, carol }
}

impl T {
    fn balance(&self, who: Address) -> serde_json::Value {
        self.sb.query(self.token, "balance_of", json!({"owner": j(who)})).unwrap()
    }
}

#[test]
fn deploy_mints_the_supply_to_the_deployer() {
    let t = setup();
    assert_eq!(t.sb.query(t.token, "total_supply", json!({})).unwrap(), amount(1000));
    assert_eq!(t.sb.query(t.token, "owner", json!({})).unwrap(), j(t.alice));
    assert_eq!(t.balance(t.alice), amount(1000));
    assert_eq!(t.balance(t.bob), amount(0));
}

#[test]
fn transfer_moves_tokens_and_emits_transfer() {
    let mut t = setup();
    let out = t.sb.call(t.alice, t.token, "transfer", json!({"to": j(t.bob), "amount": "10"})).unwrap();
    assert_eq!(out.value, json!(null));
    assert_eq!(out.events.len(), 1);
    assert_eq!(out.events[0].name, "Transfer");
    assert_eq!(out.events[0].contract, t.token);
    assert_eq!(
        serde_json::Value::Object(out.events[0].fields.clone()),
        json!({"from": j(t.alice), "to": j(t.bob), "amount": "10"})
    );
    assert_eq!(t.balance(t.alice), amount(990));
    assert_eq!(t.balance(t.bob), amount(10));
    assert_eq!(t.sb.query(t.token, "total_supply", json!({})).unwrap(), amount(1000));
}

#[test]
fn transfer_event_bytes_follow_the_abi() {
    let mut t = setup();
    let out = t.sb.call(t.alice, t.token, "transfer", json!({"to": j(t.bob), "amount": "7"})).unwrap();
    let ev = &out.raw_events[0];
    assert_eq!(ev.topics.len(), 3);
    assert_eq!(ev.topics[0], weft_types::sha3_256(b"Transfer"));
    assert_eq!(ev.topics[1].0, t.alice.0);
    assert_eq!(ev.topics[2].0, t.bob.0);
    assert_eq!(ev.data, 7u128.encode());
}

#[test]
fn transfer_to_self_keeps_the_balance() {
    let mut t = setup();
    t.sb.call(t.alice, t.token, "transfer", json!({"to": j(t.alice), "amount": "600"})).unwrap();
    assert_eq!(t.balance(t.alice), amount(1000));
}

#[test]
fn overdrawing_reverts_with_a_typed_error_and_changes_nothing() {
    let mut t = setup();
    let nonce = t.sb.nonce(t.bob);
    let err = t.sb.call(t.bob, t.token, "transfer", json!({"to": j(t.alice), "amount": "1"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientBalance": {"have": "0", "need": "1"}})));
    assert!(err.gas_used().unwrap() > 0);
    assert_eq!(t.sb.nonce(t.bob), nonce + 1, "the failed transaction was included");
    assert_eq!(t.balance(t.alice), amount(1000));
}

#[test]
fn allowances_and_transfer_from() {
    let mut t = setup();
    let out = t.sb.call(t.alice, t.token, "approve", json!({"spender": j(t.bob), "amount": "100"})).unwrap();
    assert_eq!(out.events[0].name, "Approval");
    assert_eq!(
        serde_json::Value::Object(out.events[0].fields.clone()),
        json!({"owner": j(t.alice), "spender": j(t.bob), "amount": "100"})
    );
    let allowance =
        |t: &T| t.sb.query(t.token, "allowance", json!({"owner": j(t.alice), "spender": j(t.bob)})).unwrap();
    assert_eq!(allowance(&t), amount(100));

    let args = json!({"from": j(t.alice), "to": j(t.carol), "amount": "60"});
    let out = t.sb.call(t.bob, t.token, "transfer_from", args).unwrap();
    assert_eq!(out.events_named("Transfer").len(), 1);
    assert_eq!(allowance(&t), amount(40));
    assert_eq!(t.balance(t.carol), amount(60));
    assert_eq!(t.balance(t.alice), amount(940));

    let args = json!({"from": j(t.alice), "to": j(t.carol), "amount": "41"});
    let err = t.sb.call(t.bob, t.token, "transfer_from", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientAllowance": {"have": "40", "need": "41"}})));
    // Carol has no allowance at all.
    let args = json!({"from": j(t.alice), "to": j(t.carol), "amount": "1"});
    let err = t.sb.call(t.carol, t.token, "transfer_from", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientAllowance": {"have": "0", "need": "1"}})));
    assert_eq!(allowance(&t), amount(40));
}

#[test]
fn transfer_from_beyond_the_balance_keeps_the_allowance() {
    let mut t = setup();
    t.sb.call(t.alice, t.token, "approve", json!({"spender": j(t.bob), "amount": "5000"})).unwrap();
    let args = json!({"from": j(t.alice), "to": j(t.bob), "amount": "2000"});
    let err = t.sb.call(t.bob, t.token, "transfer_from", args).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"InsufficientBalance": {"have": "1000", "need": "2000"}})));
    let left = t.sb.query(t.token, "allowance", json!({"owner": j(t.alice), "spender": j(t.bob)})).unwrap();
    assert_eq!(left, amount(5000), "the allowance decrease was rolled back with the revert");
}

#[test]
fn only_the_owner_mints() {
    let mut t = setup();
    let err = t.sb.call(t.bob, t.token, "mint", json!({"to": j(t.bob), "amount": "5"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));

    let out = t.sb.call(t.alice, t.token, "mint", json!({"to": j(t.bob), "amount": "5"})).unwrap();
    assert_eq!(
        serde_json::Value::Object(out.events[0].fields.clone()),
        json!({"from": zero(), "to": j(t.bob), "amount": "5"})
    );
    assert_eq!(t.sb.query(t.token, "total_supply", json!({})).unwrap(), amount(1005));
    assert_eq!(t.balance(t.bob), amount(5));

    let err = t.sb.call(t.alice, t.token, "mint", json!({"to": j(t.bob), "amount": u128::MAX.to_string()}));
    assert_eq!(err.unwrap_err().error_value(), Some(&json!("Overflow")));
}

#[test]
fn non_payable_methods_refuse_value() {
    let mut t = setup();
    let before = t.sb.balance(t.alice);
    let args = json!({"to": j(t.bob), "amount": "1"});
    let err = t.sb.call_with(t.alice, t.token, "transfer", args, CallOpts { value: 5, gas_limit: None });
    assert_eq!(err.unwrap_err().panic_message(), Some("method `transfer` is not payable"));
    assert_eq!(t.sb.balance(t.alice), before, "the value went back with the revert (gas price 0)");
    assert_eq!(t.sb.balance(t.token), 0);
    assert_eq!(t.balance(t.bob), amount(0));
}

#[test]
fn undecodable_input_reverts_with_a_message() {
    let mut t = setup();
    let opts = CallOpts::default();
    let err = t.sb.call_raw(t.alice, t.token, "transfer", [1, 2, 3], opts).unwrap_err();
    assert_eq!(err.panic_message(), Some("method `transfer`: cannot decode argument `to`"));
    let err = t.sb.call_raw(t.alice, t.token, "transfer", [0u8; 40], opts).unwrap_err();
    assert_eq!(err.panic_message(), Some("method `transfer`: cannot decode argument `amount`"));
    let err = t.sb.call_raw(t.alice, t.token, "transfer", [0u8; 49], opts).unwrap_err();
    assert_eq!(err.panic_message(), Some("method `transfer`: unexpected bytes after the arguments"));
    let err = t.sb.call_raw(t.alice, t.token, "total_supply", [0], opts).unwrap_err();
    assert_eq!(err.panic_message(), Some("method `total_supply` takes no arguments"));
}

#[test]
fn raw_and_typed_calls_use_scale() {
    let mut t = setup();
    let bob = t.bob;
    let () = t.sb.call_typed(t.alice, t.token, "transfer", &(bob, 3u128)).unwrap();
    let balance: u128 = t.sb.query_typed(t.token, "balance_of", &(bob,)).unwrap();
    assert_eq!(balance, 3);
}

#[test]
fn storage_layout_is_prefix_then_scale_key() {
    let t = setup();
    // Field 2 is `balances: Map<Address, u128>`: key [2] ‖ address, value SCALE(u128).
    let mut key = vec![2u8];
    key.extend_from_slice(&t.alice.0);
    assert_eq!(t.sb.storage(t.token, &key), Some(1000u128.encode()));
    // Field 0 is `owner: Item<Address>`.
    assert_eq!(t.sb.storage(t.token, [0u8]), Some(t.alice.0.to_vec()));
    assert_eq!(t.sb.storage(t.token, [1u8]), Some(1000u128.encode()));
}

#[test]
fn storage_deposit_is_paid_by_the_sender() {
    let mut t = setup();
    let deposit = t.sb.deposit(t.token);
    assert!(deposit > 0);
    let before = t.sb.balance(t.alice);
    // Bob's balance entry is new: 33 key bytes + 16 value bytes.
    t.sb.call(t.alice, t.token, "transfer", json!({"to": j(t.bob), "amount": "1"})).unwrap();
    let added = t.sb.deposit(t.token) - deposit;
    assert_eq!(added, 49 * 1_000);
    assert_eq!(t.sb.balance(t.alice), before - added);
}

#[test]
fn the_admin_upgrades_the_token_to_v2_with_a_migration_and_balances_stay() {
    let mut t = setup();
    t.sb.call(t.alice, t.token, "transfer", json!({"to": j(t.bob), "amount": "300"})).unwrap();
    let v2 = crate::support::contract_wasm("weft-example-token-v2");
    let migrate = json!({"new_owner": j(t.carol)});

    let err = t.sb.upgrade(t.bob, t.token, &v2, migrate.clone()).unwrap_err();
    assert!(err.to_string().contains("only the admin"), "{err}");
    let upgraded = t.sb.upgrade(t.alice, t.token, &v2, migrate).unwrap();
    assert_eq!(upgraded.events.len(), 1, "weft:Upgraded");
    assert_eq!(t.balance(t.alice), amount(700), "balances carried over");
    assert_eq!(t.balance(t.bob), amount(300));
    assert_eq!(t.sb.query(t.token, "owner", json!({})).unwrap(), j(t.carol), "the migration ran");
    assert!(t.sb.abi(t.token).unwrap().unwrap().method("burn").is_some(), "the ABI is the new code's");

    // The new method, its event decoded through the new ABI.
    let burned = t.sb.call(t.bob, t.token, "burn", json!({"amount": "100"})).unwrap();
    assert_eq!(burned.events[0].name, "Transfer");
    assert_eq!(burned.events[0].fields["to"], zero());
    assert_eq!(t.sb.query(t.token, "total_supply", json!({})).unwrap(), amount(900));
    assert!(t.sb.call(t.alice, t.token, "migrate", json!({"new_owner": j(t.bob)})).is_err(), "not a method");

    // Made immutable, it can no longer be upgraded, even back.
    t.sb.set_admin(t.alice, t.token, None).unwrap();
    let err = t.sb.upgrade(t.alice, t.token, &crate::support::contract_wasm(TOKEN), json!({})).unwrap_err();
    assert!(err.to_string().contains("immutable"), "{err}");
}
