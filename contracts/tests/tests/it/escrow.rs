//! `escrow` ↔ `token`: deals funded with `transfer_from`, paid out with `transfer`, released by
//! the buyer or arbiter, refunded by the seller or arbiter or after the deadline; failed token
//! calls undo the whole escrow call.

use parity_scale_codec::Encode;
use serde_json::{Value, json};
use weft_testing::{Address, Sandbox};

use crate::support::{amount, deploy, j};
use crate::token::TOKEN;

struct T {
    sb: Sandbox,
    token: Address,
    escrow: Address,
    buyer: Address,
    seller: Address,
    arbiter: Address,
    stranger: Address,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let issuer = sb.account("issuer");
    let buyer = sb.account("buyer");
    let seller = sb.account("seller");
    let arbiter = sb.account("arbiter");
    let stranger = sb.account("stranger");
    let token = deploy(&mut sb, issuer, TOKEN, json!({"supply": "1000000"}));
    sb.call(issuer, token, "transfer", json!({"to": j(buyer), "amount": "500"})).unwrap();
    let escrow = deploy(&mut sb, issuer, "weft-example-escrow", json!({"token": j(token)}));
    T { sb, token, escrow, buyer, seller, arbiter, stranger }
}

impl T {
    fn balance(&self, who: Address) -> Value {
        self.sb.query(self.token, "balance_of", json!({"owner": j(who)})).unwrap()
    }
    fn approve(&mut self, n: u128) {
        let args = json!({"spender": j(self.escrow), "amount": n.to_string()});
        self.sb.call(self.buyer, self.token, "approve", args).unwrap();
    }
    fn open(
        &mut self,
        n: u128,
        timeout_blocks: u64,
    ) -> Result<weft_testing::CallOutput, weft_testing::CallError> {
        let args = json!({"seller": j(self.seller), "arbiter": j(self.arbiter), "amount": n.to_string(),
                          "timeout_blocks": timeout_blocks});
        self.sb.call(self.buyer, self.escrow, "open", args)
    }
    fn deal(&self, id: u64) -> Value {
        self.sb.query(self.escrow, "deal", json!({"id": id})).unwrap()
    }
    fn settle(
        &mut self,
        by: Address,
        method: &str,
        id: u64,
    ) -> Result<weft_testing::CallOutput, weft_testing::CallError> {
        self.sb.call(by, self.escrow, method, json!({"id": id}))
    }
}

#[test]
fn opening_pulls_the_tokens_with_transfer_from() {
    let mut t = setup();
    assert_eq!(t.sb.query(t.escrow, "token", json!({})).unwrap(), j(t.token));
    t.approve(100);
    let out = t.open(100, 10).unwrap();
    assert_eq!(out.value, json!(0));
    // Events of both contracts, in emission order.
    let names: Vec<_> = out.events.iter().map(|e| (e.name.as_str(), e.contract)).collect();
    assert_eq!(names, [("Transfer", t.token), ("Opened", t.escrow)]);
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"from": j(t.buyer), "to": j(t.escrow), "amount": "100"})
    );
    let deadline = t.sb.height() + 10;
    assert_eq!(
        Value::Object(out.events[1].fields.clone()),
        json!({"id": 0, "buyer": j(t.buyer), "seller": j(t.seller), "amount": "100", "deadline": deadline})
    );
    assert_eq!(t.balance(t.buyer), amount(400));
    assert_eq!(t.balance(t.escrow), amount(100));
    let allowance = json!({"owner": j(t.buyer), "spender": j(t.escrow)});
    assert_eq!(t.sb.query(t.token, "allowance", allowance).unwrap(), amount(0));
    assert_eq!(
        t.deal(0),
        json!({"buyer": j(t.buyer), "seller": j(t.seller), "arbiter": j(t.arbiter), "amount": "100",
               "deadline": deadline, "state": "Open"})
    );
}

#[test]
fn the_buyer_releases_to_the_seller_once() {
    let mut t = setup();
    t.approve(100);
    t.open(100, 10).unwrap();
    assert_eq!(t.settle(t.seller, "release", 0).unwrap_err().error_value(), Some(&json!("NotAllowed")));
    assert_eq!(t.settle(t.stranger, "release", 0).unwrap_err().error_value(), Some(&json!("NotAllowed")));
    let out = t.settle(t.buyer, "release", 0).unwrap();
    assert_eq!(out.events_named("Transfer")[0].fields["to"], j(t.seller));
    assert_eq!(
        Value::Object(out.events_named("Settled")[0].fields.clone()),
        json!({"id": 0, "by": j(t.buyer), "state": "Released"})
    );
    assert_eq!(t.balance(t.seller), amount(100));
    assert_eq!(t.balance(t.escrow), amount(0));
    assert_eq!(t.deal(0)["state"], json!("Released"));
    let err = t.settle(t.arbiter, "refund", 0).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NotOpen": {"state": "Released"}})));
    assert_eq!(t.settle(t.buyer, "release", 7).unwrap_err().error_value(), Some(&json!("NoSuchDeal")));
}

#[test]
fn the_seller_or_the_arbiter_refunds() {
    let mut t = setup();
    t.approve(300);
    t.open(100, 10).unwrap();
    t.open(200, 10).unwrap();
    assert_eq!(t.settle(t.buyer, "refund", 0).unwrap_err().error_value(), Some(&json!("NotAllowed")));
    t.settle(t.seller, "refund", 0).unwrap();
    assert_eq!(t.balance(t.buyer), amount(300));
    t.settle(t.arbiter, "release", 1).unwrap();
    assert_eq!(t.balance(t.seller), amount(200));
    assert_eq!(t.deal(0)["state"], json!("Refunded"));
    assert_eq!(t.deal(1)["state"], json!("Released"));
    assert_eq!(t.balance(t.escrow), amount(0));
}

#[test]
fn anyone_refunds_the_buyer_after_the_deadline() {
    let mut t = setup();
    t.approve(100);
    t.open(100, 5).unwrap();
    let deadline = t.deal(0)["deadline"].as_u64().unwrap();
    let err = t.settle(t.stranger, "claim_timeout", 0).unwrap_err();
    assert_eq!(
        err.error_value(),
        Some(&json!({"NotExpired": {"deadline": deadline, "height": t.sb.height()}})),
        "the call ran at the height the sandbox now reports"
    );
    t.sb.advance_blocks(deadline - t.sb.height() - 1);
    // The next block has height `deadline`.
    let out = t.settle(t.stranger, "claim_timeout", 0).unwrap();
    assert_eq!(out.events_named("Settled")[0].fields["state"], json!("Expired"));
    assert_eq!(t.balance(t.buyer), amount(500));
    assert_eq!(t.deal(0)["state"], json!("Expired"));
    let err = t.settle(t.seller, "release", 0).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"NotOpen": {"state": "Expired"}})));
}

#[test]
fn time_passing_alone_does_not_expire_a_deal() {
    let mut t = setup();
    t.approve(100);
    t.open(100, 5).unwrap();
    // One block, a day later: the deadline counts blocks.
    t.sb.advance_time(24 * 3600 * 1000);
    let err = t.settle(t.stranger, "claim_timeout", 0).unwrap_err();
    assert!(err.error_value().unwrap().get("NotExpired").is_some());
}

#[test]
fn a_failing_token_call_undoes_the_escrow_call() {
    let mut t = setup();
    // No allowance: the token reverts with InsufficientAllowance, the escrow reports it.
    let err = t.open(100, 10).unwrap_err();
    let mut token_error = vec![0x01u8, 0x01];
    token_error.extend(0u128.encode());
    token_error.extend(100u128.encode());
    assert_eq!(
        err.error_value(),
        Some(&json!({"TokenCallFailed": {"code": 2, "data": format!("0x{}", hex(&token_error))}}))
    );
    assert_eq!(t.deal(0), json!(null), "the deal written before the call was rolled back");
    assert_eq!(t.balance(t.buyer), amount(500));

    // Approved but too poor.
    t.approve(10_000);
    let err = t.open(1_000, 10).unwrap_err();
    let data = err.error_value().unwrap()["TokenCallFailed"]["data"].as_str().unwrap().to_owned();
    assert!(data.starts_with("0x0100"), "InsufficientBalance is variant 0: {data}");
    // The next successful deal still gets id 0.
    assert_eq!(t.open(500, 10).unwrap().value, json!(0));
}

#[test]
fn invalid_deals_and_a_missing_token_are_refused() {
    let mut t = setup();
    t.approve(100);
    assert_eq!(t.open(0, 10).unwrap_err().error_value(), Some(&json!("InvalidDeal")));
    assert_eq!(t.open(10, 0).unwrap_err().error_value(), Some(&json!("InvalidDeal")));

    let issuer = t.sb.account("issuer");
    let nowhere = t.sb.account("nowhere");
    let broken = deploy(&mut t.sb, issuer, "weft-example-escrow", json!({"token": j(nowhere)}));
    let args = json!({"seller": j(t.seller), "arbiter": j(t.arbiter), "amount": "1", "timeout_blocks": 1});
    let err = t.sb.call(t.buyer, broken, "open", args).unwrap_err();
    // NOT_A_CONTRACT, with the callee's encoded ExecError::ContractNotFound (variant 6).
    let data = format!("0x06{}", hex(&nowhere.0));
    assert_eq!(err.error_value(), Some(&json!({"TokenCallFailed": {"code": 5, "data": data}})));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
