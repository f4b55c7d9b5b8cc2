//! Contracts end to end: upload, instantiate, calls, failures, nested calls, reentrancy,
//! deterministic limits, deposits and state proofs.

use std::sync::Arc;

use weft_runtime::{BlockEnv, state::tree};
use weft_types::{
    Action, ExecError, ExecStatus, LimitKind, TrapKind, codec::BoundedBytes, state::account_key,
};

use crate::{
    support::{Chain, GAS_LIMIT, call},
    wat,
};

fn counter_value(c: &mut Chain, contract: weft_types::Address) -> u64 {
    let r = c.call(1, contract, "get", &[]);
    assert!(r.is_success(), "{:?}", r.status);
    u64::from_le_bytes(r.return_data.try_into().unwrap())
}

fn code(r: &weft_types::Receipt) -> i32 {
    i32::from_le_bytes(r.return_data[..4].try_into().unwrap())
}

#[test]
fn upload_instantiate_call() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    assert_eq!(counter_value(&mut c, counter), 0);
    let r = c.call(1, counter, "inc", &[]);
    assert!(r.is_success());
    assert_eq!(r.events.len(), 1);
    assert_eq!(r.events[0].contract, counter);
    assert_eq!(&r.events[0].topics[0].0[..6], b"topic:");
    assert_eq!(r.events[0].data, 1u64.to_le_bytes());
    assert_eq!(counter_value(&mut c, counter), 1);

    // The same query through the read-only path.
    let env = BlockEnv { height: c.head.height + 1, timestamp_ms: 0, proposer: c.proposer };
    let q = c.rt.query(c.state.clone(), env, c.addr(1), counter, "get", vec![], 1_000_000).unwrap();
    assert_eq!(q.result.unwrap(), 1u64.to_le_bytes());
    assert!(q.gas_used > 0);
}

#[test]
fn a_failing_call_reverts_and_still_charges_gas() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    c.call(1, counter, "inc", &[]);
    let before = c.account(&c.addr(1)).balance;
    let r = c.call(1, counter, "inc_then_fail", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::Reverted { contract: counter, data: b"boom".to_vec() })
    );
    assert!(r.events.is_empty(), "events of a failed transaction are dropped");
    assert!(r.gas_used > 0 && r.fee > 0);
    assert_eq!(c.account(&c.addr(1)).balance, before - r.fee);
    assert_eq!(counter_value(&mut c, counter), 1, "the increment was rolled back");

    let r = c.call(1, counter, "inc_then_trap", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::Trap { contract: counter, kind: TrapKind::Unreachable })
    );
    assert_eq!(counter_value(&mut c, counter), 1);
}

#[test]
fn an_infinite_loop_runs_out_of_gas_identically_every_time() {
    let run = || {
        let mut c = Chain::new();
        let counter = c.deploy(&wat::counter());
        let r = c.call(1, counter, "spin", &[]);
        (r, c.head.state_root)
    };
    let (a, root_a) = run();
    let (b, root_b) = run();
    assert_eq!(a.status, ExecStatus::Failed(ExecError::OutOfGas));
    assert_eq!(a.gas_used, GAS_LIMIT, "out of gas uses the whole limit");
    assert_eq!(a, b);
    assert_eq!(root_a, root_b);
}

#[test]
fn recursion_ends_at_the_deterministic_stack_limit() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let fat = c.deploy(&wat::fat_recursion());
    let indirect = c.deploy(&wat::indirect_recursion());
    let mutual = c.deploy(&wat::mutual_recursion());
    for contract in [counter, fat, indirect, mutual] {
        let r1 = c.call(1, contract, "recurse", &[]);
        let r2 = c.call(1, contract, "recurse", &[]);
        assert_eq!(r1.status, ExecStatus::Failed(ExecError::Trap { contract, kind: TrapKind::StackLimit }));
        assert_eq!(r1.gas_used, r2.gas_used);
        assert!(r1.gas_used < GAS_LIMIT, "the stack limit comes before the gas limit");
    }
}

#[test]
fn every_exit_of_a_function_gives_its_stack_units_back() {
    let mut c = Chain::new();
    let contract = c.deploy(&wat::every_exit());
    let r = c.call(1, contract, "run", &[]);
    assert!(r.is_success(), "{:?}", r.status);
}

#[test]
fn recursion_through_nested_contract_calls_shares_one_stack_budget() {
    let mut c = Chain::new();
    let contract = c.deploy(&wat::nested_recursion());
    let r1 = c.call(1, contract, "nest", &contract.0);
    let r2 = c.call(1, contract, "nest", &contract.0);
    assert!(r1.is_success(), "{:?}", r1.status);
    assert_eq!((&r1.return_data, r1.gas_used), (&r2.return_data, r2.gas_used));
    // Each level holds 200 frames of $rec: the budget runs out a few contract calls down, before
    // the call depth limit would.
    let mut data = &r1.return_data[..];
    let mut levels = 0;
    while i32::from_le_bytes(data[..4].try_into().unwrap()) == 0 {
        levels += 1;
        data = &data[4..];
    }
    assert_eq!(i32::from_le_bytes(data[..4].try_into().unwrap()), weft_types::abi::codes::CALLEE_TRAPPED);
    assert!((1..weft_types::limits::MAX_CALL_DEPTH - 1).contains(&levels), "{levels}");
    let err = <ExecError as parity_scale_codec::Decode>::decode(&mut &data[4..]).unwrap();
    assert_eq!(err, ExecError::Trap { contract, kind: TrapKind::StackLimit });
}

#[test]
fn floats_produce_canonical_nans() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let r = c.call(1, counter, "nan_bits", &[]);
    assert_eq!(u32::from_le_bytes(r.return_data.try_into().unwrap()), 0x7fc0_0000);
}

#[test]
fn nested_calls_roll_back_a_failed_callee_only() {
    let mut c = Chain::new();
    let h = c.upload(&wat::counter());
    let proxy = c.instantiate(h, b"proxy");
    let counter = c.instantiate(h, b"counter");

    let r = c.call(1, proxy, "forward", &wat::forward_input(&counter, "inc", &[]));
    assert!(r.is_success());
    assert_eq!(code(&r), 0);
    assert_eq!(r.events.len(), 1, "the callee's event is kept");
    assert_eq!(counter_value(&mut c, counter), 1);

    let r = c.call(1, proxy, "forward", &wat::forward_input(&counter, "inc_then_fail", &[]));
    assert!(r.is_success(), "the caller handles the failure");
    assert_eq!(code(&r), weft_types::abi::codes::CALLEE_REVERTED);
    assert_eq!(&r.return_data[4..], b"boom");
    assert!(r.events.is_empty(), "the failed callee's event is rolled back");
    assert_eq!(counter_value(&mut c, counter), 1, "the failed callee's write is rolled back");

    let r = c.call(1, proxy, "forward", &wat::forward_input(&counter, "echo_caller", &[]));
    assert_eq!(&r.return_data[4..], &proxy.0, "the callee sees the calling contract");

    let r = c.call(1, proxy, "forward", &wat::forward_input(&counter, "missing", &[]));
    assert_eq!(code(&r), weft_types::abi::codes::METHOD_NOT_FOUND);
    let r = c.call(1, proxy, "forward", &wat::forward_input(&c.addr(2), "get", &[]));
    assert_eq!(code(&r), weft_types::abi::codes::NOT_A_CONTRACT);
    let r = c.call(1, proxy, "forward", &wat::forward_input(&counter, "spin", &[]));
    assert_eq!(code(&r), weft_types::abi::codes::CALLEE_OUT_OF_GAS);
    assert!(r.is_success() || r.status == ExecStatus::Failed(ExecError::OutOfGas));
}

#[test]
fn reentrancy_is_refused_unless_opted_in() {
    let mut c = Chain::new();
    let h = c.upload(&wat::counter());
    let a = c.instantiate(h, b"a");
    let b = c.instantiate(h, b"b");
    // a.forward → b.forward → a.get: a is on the stack.
    let inner = wat::forward_input(&a, "get", &[]);
    let r = c.call(1, a, "forward", &wat::forward_input(&b, "forward", &inner));
    assert_eq!(code(&r), 0, "a → b succeeds");
    assert_eq!(
        i32::from_le_bytes(r.return_data[4..8].try_into().unwrap()),
        weft_types::abi::codes::REENTRANCY_REFUSED
    );

    let hr = c.upload(&wat::reentrant_counter());
    let ra = c.instantiate(hr, b"a");
    let inner = wat::forward_input(&ra, "get", &[]);
    let r = c.call(1, ra, "forward", &wat::forward_input(&b, "forward", &inner));
    assert_eq!(
        i32::from_le_bytes(r.return_data[4..8].try_into().unwrap()),
        0,
        "opted-in contract re-entered"
    );
    assert_eq!(&r.return_data[8..], 0u64.to_le_bytes());
}

#[test]
fn call_depth_is_limited() {
    let mut c = Chain::new();
    let h = c.upload(&wat::reentrant_counter());
    let a = c.instantiate(h, b"");
    // a.forward(a.forward(… a.get)) nested 10 deep.
    let mut input = wat::forward_input(&a, "get", &[]);
    for _ in 0..9 {
        input = wat::forward_input(&a, "forward", &input);
    }
    let r = c.call(1, a, "forward", &input);
    assert!(r.is_success());
    // Depths 1..=7 each report a successful call one level down; depth 8 is refused a ninth.
    let codes: Vec<i32> =
        r.return_data[..32].chunks(4).map(|ch| i32::from_le_bytes(ch.try_into().unwrap())).collect();
    assert_eq!(codes, [0, 0, 0, 0, 0, 0, 0, weft_types::abi::codes::CALL_DEPTH]);
    let err = <ExecError as parity_scale_codec::Decode>::decode(&mut &r.return_data[32..]).unwrap();
    assert_eq!(err, ExecError::LimitExceeded { limit: LimitKind::CallDepth, value: 9, max: 8 });
}

#[test]
fn calls_that_cannot_run_fail_cleanly() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let r = c.call(1, counter, "init", &[]);
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::MethodNotFound { .. })), "init is not callable");
    let r = c.call(1, counter, "__weft_stack", &[]);
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::MethodNotFound { .. })));
    let r = c.call(1, c.addr(2), "get", &[]);
    assert_eq!(r.status, ExecStatus::Failed(ExecError::ContractNotFound(c.addr(2))));

    // Uploading stored code again succeeds, changes nothing and costs only its hash.
    let code = ::wat::parse_str(wat::counter()).unwrap();
    let (len, compiled) = (code.len(), c.rt.vm().compiled());
    let r = c.run(0, Action::UploadCode { code: BoundedBytes::new(code.clone()).unwrap() });
    assert!(r.is_success(), "{:?}", r.status);
    assert_eq!(r.return_data, weft_types::sha3_256(&code).0.to_vec());
    let schedule = weft_runtime::gas::SCHEDULE;
    let encoded = parity_scale_codec::Encode::encode(
        &c.tx(0, Action::UploadCode { code: BoundedBytes::new(code).unwrap() }),
    )
    .len();
    let hashing = schedule.hash_base + schedule.hash_byte * len as u64;
    assert_eq!(r.gas_used, schedule.intrinsic(encoded) + hashing);
    assert_eq!(c.rt.vm().compiled(), compiled, "nothing compiled");

    let h = c.upload(&wat::reentrant_counter());
    c.instantiate(h, b"x");
    let r = c.run(0, crate::support::instantiate(h, b"x", 0));
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::ContractExists(_))));

    let bad =
        ::wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "f") (param i32)))"#).unwrap();
    let r = c.run(0, Action::UploadCode { code: BoundedBytes::new(bad).unwrap() });
    match r.status {
        ExecStatus::Failed(ExecError::InvalidCode(msg)) => assert!(msg.contains('f'), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(r.gas_used > 0);
}

#[test]
fn storage_deposit_is_charged_and_refunded() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let acct = c.account(&counter);
    assert_eq!(acct.storage_bytes, 13, "key \"count\" (5) + u64 value (8)");
    let account_deposit = weft_runtime::gas::SCHEDULE.account_deposit;
    assert_eq!(acct.deposit, 13 * weft_runtime::gas::SCHEDULE.deposit_per_byte + account_deposit);

    let before = c.account(&c.addr(1)).balance;
    let r = c.call(1, counter, "clear", &[]);
    assert!(r.is_success());
    assert_eq!(r.deposit_refunded, 13_000);
    assert_eq!(c.account(&counter).deposit, account_deposit, "the account's own deposit stays");
    assert_eq!(c.account(&c.addr(1)).balance, before - r.fee + 13_000);

    let r = c.call(2, counter, "inc", &[]);
    assert_eq!(r.deposit_charged, 13_000);

    // An address funded before a contract is instantiated there already holds its account's
    // deposit: the instantiation adds only the storage's.
    let code_hash = c.account(&counter).code_hash.unwrap();
    let address = weft_types::Address::contract(&c.addr(0), &code_hash, b"funded");
    let fund = c.run(1, Action::Transfer { to: address, amount: 5 });
    assert_eq!(fund.deposit_charged, account_deposit);
    let r = c.run(0, crate::support::instantiate(code_hash, b"funded", 0));
    assert_eq!(r.contract_address, Some(address));
    assert_eq!((r.deposit_charged, r.deposit_refunded), (13_000, 0));
    assert_eq!(c.account(&address).deposit, 13_000 + account_deposit);
}

#[test]
fn contracts_transfer_native_tokens() {
    let mut c = Chain::new();
    let h = c.upload(&wat::counter());
    let r = c.run(0, crate::support::instantiate(h, b"rich", 500));
    let contract = r.contract_address.unwrap();
    assert_eq!(c.account(&contract).balance, 500);
    let mut input = c.addr(3).0.to_vec();
    input.extend_from_slice(&200u128.to_le_bytes());
    let before = c.account(&c.addr(3)).balance;
    let r = c.call(1, contract, "pay", &input);
    assert_eq!(code(&r), 0);
    assert_eq!(c.account(&c.addr(3)).balance, before + 200);
    input[32..].copy_from_slice(&1000u128.to_le_bytes());
    let r = c.call(1, contract, "pay", &input);
    assert_eq!(code(&r), weft_types::abi::codes::INSUFFICIENT_BALANCE);
    assert_eq!(c.account(&contract).balance, 300);
    let r = c.run(1, call(contract, "get", &[], 7));
    assert!(r.is_success());
    assert_eq!(c.account(&contract).balance, 307, "value sent with a call");
}

#[test]
fn state_proofs_verify_against_the_header_root() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let key = account_key(&counter);
    let (value, proof) = tree::prove(&c.state, c.head.height, &key).unwrap();
    let value = value.unwrap();
    proof.verify(&c.head.state_root, &key, Some(&value)).unwrap();
    let mut tampered = value.clone();
    tampered[0] ^= 1;
    assert!(proof.verify(&c.head.state_root, &key, Some(&tampered)).is_err());
    assert!(proof.verify(&c.head.state_root, &key, None).is_err());

    let absent = account_key(&weft_types::Address([0x55; 32]));
    let (none, proof) = tree::prove(&c.state, c.head.height, &absent).unwrap();
    assert!(none.is_none());
    proof.verify(&c.head.state_root, &absent, None).unwrap();
    let _ = Arc::clone(&c.state);
}

/// A method that is all straight-line code after its first host call (which also pays for the
/// memory): wasmtime checks fuel only at function entries and loop headers, so nothing after
/// the host call checks it.
fn straight_line() -> String {
    let body = "(local.set 0 (i32.add (local.get 0) (i32.const 3)))".repeat(2_000);
    format!(
        r#"(module (import "weft" "input_len" (func $ilen (result i32)))
             (memory (export "memory") 1)
             (func (export "run") (local i32) (local.set 0 (call $ilen)) {body}
               (i32.store (i32.const 0) (local.get 0))))"#
    )
}

#[test]
fn work_past_the_gas_limit_is_out_of_gas_and_the_estimate_is_the_minimum() {
    let run = |limit_below_estimate: u64| {
        let mut c = Chain::new();
        let contract = c.deploy(&straight_line());
        let action = call(contract, "run", &[], 0);
        let sender = c.addr(1);
        let mut tx = weft_types::Transaction {
            chain_id: crate::support::CHAIN_ID,
            sender,
            nonce: c.account(&sender).nonce,
            gas_limit: GAS_LIMIT,
            gas_price: 1,
            action,
        };
        let env = BlockEnv { height: c.head.height + 1, timestamp_ms: 0, proposer: c.proposer };
        let estimate = c.rt.dry_run(c.state.clone(), env, tx.clone()).unwrap();
        assert!(estimate.is_success(), "{:?}", estimate.status);
        tx.gas_limit = estimate.gas_used - limit_below_estimate;
        let r = c.block(vec![tx.sign(&c.keys[1])]).receipts.remove(0);
        (estimate.gas_used, r)
    };
    let (estimate, exact) = run(0);
    assert!(exact.is_success(), "the estimate itself is enough: {:?}", exact.status);
    assert_eq!(exact.gas_used, estimate);
    for below in [1, 100, 2_000] {
        let (_, a) = run(below);
        let (_, b) = run(below);
        assert_eq!(a.status, ExecStatus::Failed(ExecError::OutOfGas), "{below} under the estimate");
        assert_eq!(a.gas_used, estimate - below, "out of gas is charged the limit");
        assert_eq!(a, b, "and identically every time");
    }
}
