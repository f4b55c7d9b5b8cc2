//! `hostile`: every attack ends in a deterministic error (the same error and gas on two fresh
//! chains), its gas is charged (gas price 1: the sender pays exactly `gas_used`, the proposer
//! gets it), and nothing else changes (storage, deposits, events, the other contracts).

use serde_json::{Value, json};
use weft_testing::{Address, CallError, CallOpts, ExecError, Gas, Sandbox, SandboxConfig};
use weft_types::{LimitKind, TrapKind};

use crate::support::{contract_wasm, j};

const HOSTILE: &str = "weft-example-hostile";

struct Chain {
    sb: Sandbox,
    /// Who sends the attack.
    alice: Address,
    /// The attacker.
    h: Address,
    /// A second instance, for calls between the two.
    h2: Address,
    token: Address,
}

/// A chain with gas price 1, the attacker deployed twice and a token; the sender is funded with
/// `balance` (or the default balance).
fn chain(balance: Option<u128>) -> Chain {
    let mut sb = Sandbox::with_config(SandboxConfig { gas_price: 1, ..SandboxConfig::default() });
    let deployer = sb.account("deployer");
    let alice = match balance {
        Some(b) => sb.funded_account("alice", b),
        None => sb.account("alice"),
    };
    let wasm = contract_wasm(HOSTILE);
    let h = sb.deploy(deployer, &wasm, json!(null)).unwrap();
    let h2 = sb.deploy(deployer, &wasm, json!(null)).unwrap();
    let token = sb.deploy(deployer, &contract_wasm(crate::token::TOKEN), json!({"supply": "1"})).unwrap();
    Chain { sb, alice, h, h2, token }
}

/// What an attack may not change.
#[derive(Debug, PartialEq)]
struct Untouched {
    counters: (Value, Value),
    counter_key: Option<Vec<u8>>,
    junk_key: Option<Vec<u8>>,
    deposits: (u128, u128),
    supply: u128,
}

fn untouched(c: &Chain) -> Untouched {
    let counter = |a| c.sb.query(a, "counter", json!({})).unwrap();
    let mut junk = vec![1u8];
    junk.extend_from_slice(&0u32.to_le_bytes());
    Untouched {
        counters: (counter(c.h), counter(c.h2)),
        counter_key: c.sb.storage(c.h, [0u8]),
        junk_key: c.sb.storage(c.h, junk),
        deposits: (c.sb.deposit(c.h), c.sb.deposit(c.h2)),
        supply: c.sb.total_supply(),
    }
}

/// Runs `attack` on two fresh chains; checks the error and gas are the same, the gas was paid
/// and nothing else changed. Returns the error and the gas.
fn attack(run: impl Fn(&mut Chain) -> Result<Value, CallError>) -> (CallError, Gas) {
    attack_from(None, run)
}

/// [`attack`] sent by an account holding `balance`.
fn attack_from(
    balance: Option<u128>,
    run: impl Fn(&mut Chain) -> Result<Value, CallError>,
) -> (CallError, Gas) {
    let mut results = Vec::new();
    for _ in 0..2 {
        let mut c = chain(balance);
        let before = untouched(&c);
        let (balance, proposer, nonce) =
            (c.sb.balance(c.alice), c.sb.balance(c.sb.proposer()), c.sb.nonce(c.alice));
        let err = run(&mut c).expect_err("the attack must fail");
        let gas = err.gas_used().expect("the attack was included in a block");
        assert!(gas > 0);
        assert_eq!(c.sb.balance(c.alice), balance - u128::from(gas), "the sender paid exactly the gas");
        assert_eq!(c.sb.balance(c.sb.proposer()), proposer + u128::from(gas));
        assert_eq!(c.sb.nonce(c.alice), nonce + 1);
        assert_eq!(untouched(&c), before, "the attack changed state: {err}");
        // The contract still works afterwards.
        let deployer = c.sb.account("deployer");
        let out = c.sb.call(deployer, c.h, "bump", json!({})).unwrap();
        assert_eq!(out.value, json!(1));
        results.push((format!("{err:?}"), gas, err));
    }
    let (second, first) = (results.pop().unwrap(), results.pop().unwrap());
    assert_eq!((&first.0, first.1), (&second.0, second.1), "the attack is not deterministic");
    (first.2, first.1)
}

fn call(c: &mut Chain, method: &str, args: Value, gas_limit: Option<Gas>) -> Result<Value, CallError> {
    let (alice, h) = (c.alice, c.h);
    c.sb.call_with(alice, h, method, args, CallOpts { value: 0, gas_limit }).map(|o| o.value)
}

#[test]
fn an_infinite_loop_runs_out_of_gas() {
    let (err, gas) = attack(|c| call(c, "spin", json!({}), Some(20_000_000)));
    assert!(matches!(err.exec_error(), Some(ExecError::OutOfGas)), "{err:?}");
    assert_eq!(gas, 20_000_000, "running out of gas uses the whole limit");
}

#[test]
fn a_memory_bomb_stops_at_the_memory_cap() {
    let (err, gas) = attack(|c| call(c, "memory_bomb", json!({}), None));
    assert_eq!(err.panic_message(), Some("memory allocation of 1048576 bytes failed"));
    // The first 1 MiB block would pass the 16-page cap (the whole memory) and is refused before
    // `memory.grow`: the bomb costs little more than a call, most of it loading the contract's
    // code.
    assert!(gas < 500_000, "{gas}");
}

#[test]
fn deep_recursion_hits_the_stack_limit() {
    let (err, _) = attack(|c| call(c, "recurse", json!({"depth": u64::MAX}), None));
    assert!(matches!(err.exec_error(), Some(ExecError::Trap { kind: TrapKind::StackLimit, .. })), "{err:?}");
}

#[test]
fn huge_return_data_is_refused() {
    let (err, _) = attack(|c| call(c, "huge_return", json!({}), None));
    assert!(
        matches!(
            err.exec_error(),
            Some(ExecError::LimitExceeded { limit: LimitKind::ReturnData, value: 65_540, max: 65_536 })
        ),
        "{err:?}"
    );
}

#[test]
fn an_event_flood_hits_the_event_limit() {
    let (err, _) = attack(|c| call(c, "event_flood", json!({}), None));
    assert!(
        matches!(
            err.exec_error(),
            Some(ExecError::LimitExceeded { limit: LimitKind::EventCount, value: 257, max: 256 })
        ),
        "{err:?}"
    );
}

#[test]
fn a_storage_flood_runs_out_of_gas() {
    let (err, gas) = attack(|c| call(c, "storage_flood", json!({}), Some(20_000_000)));
    assert!(matches!(err.exec_error(), Some(ExecError::OutOfGas)), "{err:?}");
    assert_eq!(gas, 20_000_000);
}

#[test]
fn storage_the_sender_cannot_pay_for_is_refused() {
    // Enough for the gas (2,000,000 at price 1), not for the deposit of 50 × 107 bytes.
    let (err, _) = attack_from(Some(3_000_000), |c| {
        let args = json!({"count": 50, "size": 100});
        call(c, "storage_fill", args, Some(2_000_000))
    });
    assert!(matches!(err.exec_error(), Some(ExecError::InsufficientDeposit { .. })), "{err:?}");
}

#[test]
fn a_reentrant_call_is_refused() {
    let (err, _) = attack(|c| call(c, "reenter", json!({}), None));
    // abi::codes::REENTRANCY_REFUSED
    assert_eq!(err.error_value(), Some(&json!({"CallFailed": {"code": 7}})));
}

#[test]
fn a_callee_calling_back_is_refused() {
    let (err, _) = attack(|c| {
        let via = c.h2;
        call(c, "bounce", json!({"via": j(via)}), None)
    });
    // The inner call back was refused, so `call_back` reverted: CALLEE_REVERTED for `bounce`.
    assert_eq!(err.error_value(), Some(&json!({"CallFailed": {"code": 2}})));
}

#[test]
fn a_call_to_a_missing_method_fails() {
    let (err, _) = attack(|c| {
        let token = c.token;
        call(c, "call_missing", json!({"target": j(token)}), None)
    });
    // abi::codes::METHOD_NOT_FOUND
    assert_eq!(err.error_value(), Some(&json!({"CallFailed": {"code": 6}})));

    let (err, _) = attack(|c| {
        let (alice, h) = (c.alice, c.h);
        c.sb.call_raw(alice, h, "no_such_method", [], CallOpts::default()).map(|o| json!(o.return_data))
    });
    assert!(
        matches!(err.exec_error(), Some(ExecError::MethodNotFound { method, .. }) if method == "no_such_method")
    );
}

#[test]
fn storage_writes_that_succeed_are_kept_and_paid_for() {
    let mut c = chain(None);
    let deposit = c.sb.deposit(c.h);
    let out = c.sb.call(c.alice, c.h, "storage_fill", json!({"count": 3, "size": 10})).unwrap();
    assert_eq!(out.receipt.deposit_charged, c.sb.deposit(c.h) - deposit);
    // counter (1 + 8) + 3 × (key 5 + value 1 + 10)
    assert_eq!(c.sb.deposit(c.h) - deposit, (9 + 3 * 16) * 1_000);
    assert_eq!(c.sb.query(c.h, "counter", json!({})).unwrap(), json!(1));
}

#[test]
fn crunch_is_bounded_pure_computation() {
    let mut c = chain(None);
    let before = untouched(&c);
    let queried = c.sb.query(c.h, "crunch", json!({"rounds": 20})).unwrap();
    let deployer = c.sb.account("deployer");
    let out = c.sb.call(deployer, c.h, "crunch", json!({"rounds": 20})).unwrap();
    assert_eq!(out.value, queried, "a transaction and a query compute the same value");
    assert_ne!(out.value, c.sb.query(c.h, "crunch", json!({"rounds": 21})).unwrap());
    assert_eq!(untouched(&c), before, "crunch writes nothing");
}
