//! `voting`: proposals with a deadline height, one vote per account, tallies and winners,
//! token-weighted votes through cross-contract `balance_of` calls.

use serde_json::{Value, json};
use weft_testing::{Address, Sandbox};

use crate::support::{deploy, j};

struct T {
    sb: Sandbox,
    voting: Address,
    alice: Address,
    bob: Address,
    carol: Address,
}

fn setup() -> T {
    let mut sb = Sandbox::new();
    let alice = sb.account("alice");
    let bob = sb.account("bob");
    let carol = sb.account("carol");
    let voting = deploy(&mut sb, alice, "weft-example-voting", json!(null));
    T { sb, voting, alice, bob, carol }
}

impl T {
    /// Opens a proposal closing `blocks` blocks after the current height.
    fn create(&mut self, blocks: u64, token: Value) -> u64 {
        let deadline = self.sb.height() + blocks;
        let args = json!({
            "description": "Lunch?",
            "choices": ["pizza", "sushi", "salad"],
            "deadline": deadline,
            "token": token,
        });
        self.sb.call(self.alice, self.voting, "create", args).unwrap().value.as_u64().unwrap()
    }
    fn vote(&mut self, who: Address, id: u64, choice: u8) -> Result<Value, weft_testing::CallError> {
        self.sb.call(who, self.voting, "vote", json!({"id": id, "choice": choice})).map(|o| o.value)
    }
    fn tally(&self, id: u64) -> Value {
        self.sb.query(self.voting, "tally", json!({"id": id})).unwrap()
    }
}

#[test]
fn the_abi_has_no_constructor() {
    let t = setup();
    assert!(t.sb.abi(t.voting).unwrap().unwrap().constructor.is_none());
}

#[test]
fn proposals_are_created_and_readable() {
    let mut t = setup();
    let deadline = t.sb.height() + 10;
    let args = json!({"description": "Lunch?", "choices": ["a", "b"], "deadline": deadline, "token": null});
    let out = t.sb.call(t.alice, t.voting, "create", args).unwrap();
    assert_eq!(out.value, json!(0));
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"id": 0, "creator": j(t.alice), "deadline": deadline})
    );
    assert_eq!(
        t.sb.query(t.voting, "proposal", json!({"id": 0})).unwrap(),
        json!({"creator": j(t.alice), "description": "Lunch?", "choices": ["a", "b"], "deadline": deadline,
               "token": null})
    );
    assert_eq!(t.sb.query(t.voting, "count", json!({})).unwrap(), json!(1));
    assert_eq!(t.sb.query(t.voting, "proposal", json!({"id": 1})).unwrap(), json!(null));
}

#[test]
fn invalid_proposals_are_refused() {
    let mut t = setup();
    let h = t.sb.height();
    let args = json!({"description": "x", "choices": ["a", "b"], "deadline": h + 1, "token": null});
    let err = t.sb.call(t.alice, t.voting, "create", args).unwrap_err();
    // The call runs in the next block, at height h + 1.
    assert_eq!(err.error_value(), Some(&json!({"DeadlineInPast": {"deadline": h + 1, "height": h + 1}})));
    for (description, choices) in [("x", json!(["only"])), ("", json!(["a", "b"])), ("x", json!(["a", ""]))] {
        let args = json!({"description": description, "choices": choices, "deadline": h + 50, "token": null});
        let err = t.sb.call(t.alice, t.voting, "create", args).unwrap_err();
        assert_eq!(err.error_value(), Some(&json!("InvalidProposal")));
    }
}

#[test]
fn one_vote_per_account_until_the_deadline() {
    let mut t = setup();
    let id = t.create(10, json!(null));
    let out = t.sb.call(t.bob, t.voting, "vote", json!({"id": id, "choice": 1})).unwrap();
    assert_eq!(out.value, json!("1"));
    assert_eq!(
        Value::Object(out.events[0].fields.clone()),
        json!({"id": id, "voter": j(t.bob), "choice": 1, "weight": "1"})
    );
    assert_eq!(
        t.vote(t.bob, id, 2).unwrap_err().error_value(),
        Some(&json!("AlreadyVoted")),
        "a second vote is refused"
    );
    assert_eq!(t.vote(t.carol, id, 3).unwrap_err().error_value(), Some(&json!("InvalidChoice")));
    assert_eq!(t.vote(t.carol, 7, 0).unwrap_err().error_value(), Some(&json!("NoSuchProposal")));
    t.vote(t.carol, id, 1).unwrap();
    t.vote(t.alice, id, 0).unwrap();
    let q = json!({"id": id, "voter": j(t.bob)});
    assert_eq!(t.sb.query(t.voting, "has_voted", q).unwrap(), json!(true));

    assert_eq!(
        t.tally(id),
        json!({"counts": ["1", "2", "0"], "voters": 3, "closed": false, "winner": null}),
        "no winner while open"
    );
    let deadline = t.sb.query(t.voting, "proposal", json!({"id": id})).unwrap()["deadline"].as_u64().unwrap();
    t.sb.advance_blocks(deadline - t.sb.height() - 1);
    // The next block has height `deadline`: closed.
    let dave = t.sb.account("dave");
    let err = t.vote(dave, id, 0).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!({"Closed": {"deadline": deadline}})));
    assert_eq!(t.tally(id), json!({"counts": ["1", "2", "0"], "voters": 3, "closed": true, "winner": 1}));
}

#[test]
fn the_last_block_before_the_deadline_still_counts() {
    let mut t = setup();
    let id = t.create(3, json!(null));
    // Created at height h+1 with deadline h+3: the vote runs at h+2.
    t.vote(t.bob, id, 0).unwrap();
    let err = t.vote(t.carol, id, 0).unwrap_err();
    assert!(err.error_value().unwrap().get("Closed").is_some());
}

#[test]
fn a_tie_has_no_winner() {
    let mut t = setup();
    let id = t.create(5, json!(null));
    t.vote(t.bob, id, 0).unwrap();
    t.vote(t.carol, id, 2).unwrap();
    t.sb.advance_blocks(5);
    assert_eq!(t.tally(id), json!({"counts": ["1", "0", "1"], "voters": 2, "closed": true, "winner": null}));
}

#[test]
fn token_weighted_votes_read_balances_from_the_token() {
    let mut t = setup();
    let token = deploy(&mut t.sb, t.alice, crate::token::TOKEN, json!({"supply": "1000"}));
    t.sb.call(t.alice, token, "transfer", json!({"to": j(t.bob), "amount": "300"})).unwrap();
    let id = t.create(10, j(token));

    assert_eq!(t.vote(t.alice, id, 0).unwrap(), json!("700"));
    assert_eq!(t.vote(t.bob, id, 1).unwrap(), json!("300"));
    let err = t.vote(t.carol, id, 1).unwrap_err();
    assert_eq!(err.error_value(), Some(&json!("NoVotingPower")));
    let q = json!({"id": id, "voter": j(t.carol)});
    assert_eq!(t.sb.query(t.voting, "has_voted", q).unwrap(), json!(false), "the failed vote was undone");
    assert_eq!(t.tally(id)["counts"], json!(["700", "300", "0"]));
}

#[test]
fn a_weighting_token_that_is_not_a_contract_fails_the_vote() {
    let mut t = setup();
    let nowhere = t.sb.account("nowhere");
    let id = t.create(10, j(nowhere));
    let err = t.vote(t.bob, id, 0).unwrap_err();
    // abi::codes::NOT_A_CONTRACT
    assert_eq!(err.error_value(), Some(&json!({"TokenCallFailed": {"code": 5}})));
}
