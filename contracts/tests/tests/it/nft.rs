//! `nft`: free minting by the owner and paid public minting (a payable method) with metadata
//! URIs, withdrawal of the proceeds (a native transfer from the contract), transfers by holders,
//! approved accounts and operators, approvals, typed errors, events.

use serde_json::{Value, json};
use weft_testing::{Address, CallOpts, Sandbox};

use crate::support::{deploy, j, zero};

struct T {
    sb: Sandbox,
    nft: Address,
    owner: Address,
    bob: Address,
    carol: Address,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let owner = sb.account("owner");
    let bob = sb.account("bob");
    let carol = sb.account("carol");
    let nft = deploy(&mut sb, owner, "weft-example-nft", json!({"name": "Weft Cats", "price": "50"}));
    T { sb, nft, owner, bob, carol }
}

impl T {
    fn mint(&mut self, to: Address, uri: &str) -> Value {
        self.sb.call(self.owner, self.nft, "mint", json!({"to": j(to), "uri": uri})).unwrap().value
    }
    fn owner_of(&self, id: u64) -> Value {
        self.sb.query(self.nft, "owner_of", json!({"id": id})).unwrap()
    }
    fn balance(&self, who: Address) -> Value {
        self.sb.query(self.nft, "balance_of", json!({"holder": j(who)})).unwrap()
    }
    fn transfer(&mut self, by: Address, to: Address, id: u64) -> Result<(), weft_testing::CallError> {
        self.sb.call(by, self.nft, "transfer", json!({"to": j(to), "id": id})).map(|_| ())
    }
}

#[test]
fn the_owner_mints_tokens_with_uris() {
    let mut t = setup();
    assert_eq!(t.sb.query(t.nft, "name", json!({})).unwrap(), json!("Weft Cats"));
    let out = t.sb.call(t.owner, t.nft, "mint", json!({"to": j(t.bob), "uri": "ipfs://cat/0"})).unwrap();
    assert_eq!(out.value, json!(0));
    assert_eq!(Value::Object(out.events[0].fields.clone()), json!({"from": zero(), "to": j(t.bob), "id": 0}));
    assert_eq!(t.mint(t.bob, "ipfs://cat/1"), json!(1));
    assert_eq!(t.sb.query(t.nft, "total_minted", json!({})).unwrap(), json!(2));
    assert_eq!(t.owner_of(1), j(t.bob));
    assert_eq!(t.owner_of(2), json!(null));
    assert_eq!(t.sb.query(t.nft, "token_uri", json!({"id": 1})).unwrap(), json!("ipfs://cat/1"));
    assert_eq!(t.balance(t.bob), json!(2));
}

#[test]
fn minting_is_refused_to_others_and_for_bad_uris() {
    let mut t = setup();
    let err = t.sb.call(t.bob, t.nft, "mint", json!({"to": j(t.bob), "uri": "x"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));
    let err = t.sb.call(t.owner, t.nft, "mint", json!({"to": j(t.bob), "uri": ""})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"BadUri": {"len": 0}})));
    let long = "u".repeat(513);
    let err = t.sb.call(t.owner, t.nft, "mint", json!({"to": j(t.bob), "uri": long})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"BadUri": {"len": 513}})));
    assert_eq!(t.sb.query(t.nft, "total_minted", json!({})).unwrap(), json!(0));
}

#[test]
fn holders_transfer_and_strangers_cannot() {
    let mut t = setup();
    t.mint(t.bob, "a");
    let err = t.transfer(t.carol, t.carol, 0).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAuthorized")));
    let err = t.transfer(t.bob, t.carol, 9).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NoSuchToken": {"id": 9}})));

    let out = t.sb.call(t.bob, t.nft, "transfer", json!({"to": j(t.carol), "id": 0})).unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"from": j(t.bob), "to": j(t.carol), "id": 0})
    );
    assert_eq!(t.owner_of(0), j(t.carol));
    assert_eq!(t.balance(t.bob), json!(0));
    assert_eq!(t.balance(t.carol), json!(1));
}

#[test]
fn an_approved_account_transfers_once() {
    let mut t = setup();
    t.mint(t.bob, "a");
    let err = t.sb.call(t.carol, t.nft, "approve", json!({"approved": j(t.carol), "id": 0})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAuthorized")));

    let out = t.sb.call(t.bob, t.nft, "approve", json!({"approved": j(t.carol), "id": 0})).unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"owner": j(t.bob), "id": 0, "approved": j(t.carol)})
    );
    assert_eq!(t.sb.query(t.nft, "get_approved", json!({"id": 0})).unwrap(), j(t.carol));
    t.transfer(t.carol, t.carol, 0).unwrap();
    assert_eq!(t.owner_of(0), j(t.carol));
    assert_eq!(t.sb.query(t.nft, "get_approved", json!({"id": 0})).unwrap(), json!(null));

    // Clearing an approval.
    t.sb.call(t.carol, t.nft, "approve", json!({"approved": j(t.bob), "id": 0})).unwrap();
    let out = t.sb.call(t.carol, t.nft, "approve", json!({"approved": null, "id": 0})).unwrap();
    assert_eq!(out.events[0].fields["approved"], json!(null));
    let err = t.transfer(t.bob, t.bob, 0).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAuthorized")));
}

#[test]
fn operators_act_for_all_tokens_until_revoked() {
    let mut t = setup();
    t.mint(t.bob, "a");
    t.mint(t.bob, "b");
    let args = json!({"operator": j(t.carol), "approved": true});
    let out = t.sb.call(t.bob, t.nft, "set_approval_for_all", args).unwrap();
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"owner": j(t.bob), "operator": j(t.carol), "approved": true})
    );
    let q = json!({"holder": j(t.bob), "operator": j(t.carol)});
    assert_eq!(t.sb.query(t.nft, "is_approved_for_all", q.clone()).unwrap(), json!(true));
    t.transfer(t.carol, t.owner, 0).unwrap();
    // An operator may also approve.
    t.sb.call(t.carol, t.nft, "approve", json!({"approved": j(t.owner), "id": 1})).unwrap();

    let args = json!({"operator": j(t.carol), "approved": false});
    t.sb.call(t.bob, t.nft, "set_approval_for_all", args).unwrap();
    assert_eq!(t.sb.query(t.nft, "is_approved_for_all", q).unwrap(), json!(false));
    let err = t.transfer(t.carol, t.carol, 1).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotAuthorized")));
    assert_eq!(t.owner_of(0), j(t.owner));
    assert_eq!(t.owner_of(1), j(t.bob));
}

#[test]
fn anyone_mints_by_paying_the_exact_price() {
    let mut t = setup();
    assert_eq!(t.sb.query(t.nft, "price", json!({})).unwrap(), json!("50"));
    let before = t.sb.balance(t.bob);
    let pay = |value| CallOpts { value, gas_limit: None };
    let out = t.sb.call_with(t.bob, t.nft, "buy", json!({"uri": "ipfs://mine"}), pay(50)).unwrap();
    assert_eq!(out.value, json!(0));
    assert_eq!(t.owner_of(0), j(t.bob));
    assert_eq!(t.sb.balance(t.nft), 50);
    let deposit = out.receipt.deposit_charged;
    assert_eq!(t.sb.balance(t.bob), before - 50 - deposit, "the price and the storage deposit (gas price 0)");

    for paid in [0u128, 49, 51] {
        let err = t.sb.call_with(t.carol, t.nft, "buy", json!({"uri": "x"}), pay(paid)).unwrap_err();
        assert_eq!(
            err.error_value(),
            Some(&json!({"WrongPayment": {"paid": paid.to_string(), "price": "50"}}))
        );
    }
    assert_eq!(t.sb.balance(t.nft), 50, "refused payments went back");

    // The owner's free mint refuses a value: it is not payable.
    let args = json!({"to": j(t.bob), "uri": "x"});
    let err = t.sb.call_with(t.owner, t.nft, "mint", args, pay(1)).unwrap_err();
    assert_eq!(err.panic_message(), Some("method `mint` is not payable"));
}

#[test]
fn the_owner_withdraws_the_proceeds() {
    let mut t = setup();
    let pay = CallOpts { value: 50, gas_limit: None };
    t.sb.call_with(t.bob, t.nft, "buy", json!({"uri": "a"}), pay).unwrap();
    t.sb.call_with(t.carol, t.nft, "buy", json!({"uri": "b"}), pay).unwrap();
    let err = t.sb.call(t.bob, t.nft, "withdraw", json!({"to": j(t.bob)})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NotOwner")));

    let dave = t.sb.funded_account("dave", 0);
    let out = t.sb.call(t.owner, t.nft, "withdraw", json!({"to": j(dave)})).unwrap();
    assert_eq!(out.value, json!("100"));
    assert_eq!(t.sb.balance(dave), 100);
    assert_eq!(t.sb.balance(t.nft), 0);
}

#[test]
fn public_minting_can_be_closed() {
    let mut sb = Sandbox::new();
    let owner = sb.account("owner");
    let bob = sb.account("bob");
    let nft = deploy(&mut sb, owner, "weft-example-nft", json!({"name": "Closed", "price": "0"}));
    let err = sb.call(bob, nft, "buy", json!({"uri": "x"})).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("PublicMintClosed")));
}
