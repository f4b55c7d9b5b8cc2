//! Host functions seen from a contract: crypto, block environment, memory bounds and limits.

use ed25519_dalek::Signer;
use weft_types::{ExecError, ExecStatus, LimitKind, TrapKind};

use crate::{
    support::{Chain, key},
    wat,
};

#[test]
fn hashing_matches_the_native_functions() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let r = c.call(1, probe, "hash", b"weft");
    assert_eq!(&r.return_data[..32], &weft_types::sha3_256(b"weft").0);
    assert_eq!(&r.return_data[32..], &weft_types::keccak_256(b"weft"));
}

#[test]
fn ed25519_verify_uses_the_strict_rule() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let k = key(9);
    let sig = k.sign(b"message").to_bytes();
    let input = |sig: &[u8], msg: &[u8]| [sig, &k.verifying_key().to_bytes()[..], msg].concat();
    let ok = |r: weft_types::Receipt| i32::from_le_bytes(r.return_data.try_into().unwrap());
    assert_eq!(ok(c.call(1, probe, "verify", &input(&sig, b"message"))), 1);
    assert_eq!(ok(c.call(1, probe, "verify", &input(&sig, b"messagf"))), 0);
    assert_eq!(ok(c.call(1, probe, "verify", &input(&[0; 64], b"message"))), 0);
}

#[test]
fn block_environment_is_visible() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let r = c.call(1, probe, "env", &[]);
    let height = u64::from_le_bytes(r.return_data[..8].try_into().unwrap());
    let time = u64::from_le_bytes(r.return_data[8..].try_into().unwrap());
    assert_eq!(height, c.head.height);
    assert_eq!(time, c.head.timestamp_ms);
}

#[test]
fn bad_guest_pointers_and_lengths_fail_deterministically() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let r = c.call(1, probe, "out_of_bounds", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::Trap { contract: probe, kind: TrapKind::HostMemoryAccess })
    );
    let r = c.call(1, probe, "negative_length", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::LimitExceeded {
            limit: LimitKind::ReturnData,
            value: u32::MAX as u64,
            max: 65536
        })
    );
}

#[test]
fn per_transaction_limits_are_enforced() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let r = c.call(1, probe, "event_flood", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::LimitExceeded { limit: LimitKind::EventCount, value: 257, max: 256 })
    );
    assert!(r.events.is_empty());
    let r = c.call(1, probe, "huge_value", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::LimitExceeded {
            limit: LimitKind::StorageValue,
            value: 16385,
            max: 16384
        })
    );
    let r = c.call(1, probe, "huge_key", &[]);
    assert_eq!(
        r.status,
        ExecStatus::Failed(ExecError::LimitExceeded { limit: LimitKind::StorageKey, value: 129, max: 128 })
    );
}

#[test]
fn every_call_starts_from_the_modules_initial_memory() {
    let mut c = Chain::new();
    let scribbler = c.deploy(&wat::scribbler());
    let mut expected = b"seed".to_vec();
    expected.extend_from_slice(&[0; 8]);
    expected.extend_from_slice(&1u32.to_le_bytes());
    expected.extend_from_slice(&[0; 8]);
    for i in 0..4 {
        let r = c.call(1 + i % 2, scribbler, "scribble", &[]);
        assert!(r.is_success(), "{:?}", r.status);
        assert_eq!(r.return_data, expected, "call {i} saw memory a previous call wrote");
    }
}

#[test]
fn memory_growth_stops_at_the_limit_and_is_paid_for() {
    let mut c = Chain::new();
    let probe = c.deploy(&wat::host_probe());
    let r = c.call(1, probe, "grow", &[]);
    let old = i32::from_le_bytes(r.return_data[..4].try_into().unwrap());
    let refused = i32::from_le_bytes(r.return_data[4..].try_into().unwrap());
    assert_eq!((old, refused), (1, -1), "16 pages allowed, the 17th refused");
    let small = c.call(1, probe, "env", &[]);
    assert!(
        r.gas_used - small.gas_used > 14 * weft_runtime::gas::SCHEDULE.memory_page,
        "15 new pages are paid"
    );
}

#[test]
fn paying_a_new_account_costs_its_creation_and_its_deposit_natively_and_from_a_contract() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    let fund = c.run(0, weft_types::Action::Transfer { to: counter, amount: 1_000 });
    assert!(fund.is_success());
    let (new_account, deposit) =
        (weft_runtime::gas::SCHEDULE.new_account, weft_runtime::gas::SCHEDULE.account_deposit);
    let pay = |to: weft_types::Address| [&to.0[..], &1u128.to_le_bytes()[..]].concat();
    let existing = c.call(1, counter, "pay", &pay(c.addr(2)));
    let (fresh_address, sender) = (weft_types::Address([0x42; 32]), c.addr(1));
    let before = c.account(&sender).balance;
    let fresh = c.call(1, counter, "pay", &pay(fresh_address));
    assert!(existing.is_success() && fresh.is_success());
    assert_eq!(fresh.gas_used - existing.gas_used, new_account, "from a contract");
    assert_eq!((existing.deposit_charged, fresh.deposit_charged), (0, deposit));
    assert_eq!(c.account(&sender).balance, before - fresh.fee - deposit, "the sender pays it");
    assert_eq!((c.account(&fresh_address).balance, c.account(&fresh_address).deposit), (1, deposit));

    let existing = c.run(0, weft_types::Action::Transfer { to: c.addr(2), amount: 1 });
    let fresh_address = weft_types::Address([0x43; 32]);
    let fresh = c.run(0, weft_types::Action::Transfer { to: fresh_address, amount: 1 });
    assert_eq!(fresh.gas_used - existing.gas_used, new_account, "natively");
    assert_eq!((existing.deposit_charged, fresh.deposit_charged), (0, deposit));
    assert_eq!((c.account(&fresh_address).balance, c.account(&fresh_address).deposit), (1, deposit));
    let again = c.run(0, weft_types::Action::Transfer { to: fresh_address, amount: 1 });
    assert_eq!(again.deposit_charged, 0, "only creating an account holds a deposit");

    // A sender who cannot hold the deposit fails, saying so, and pays only the fee.
    let poor = crate::support::key(9);
    let poor_address = weft_types::tx::address_of(&poor);
    let fee = 100_000;
    let r = c.run(0, weft_types::Action::Transfer { to: poor_address, amount: fee + 5 });
    assert!(r.is_success());
    let tx = weft_types::Transaction {
        chain_id: crate::support::CHAIN_ID,
        sender: poor_address,
        nonce: 0,
        gas_limit: 100_000,
        gas_price: 1,
        action: weft_types::Action::Transfer { to: weft_types::Address([0x44; 32]), amount: 1 },
    }
    .sign(&poor);
    let r = c.block(vec![tx]).receipts.remove(0);
    match r.status {
        weft_types::ExecStatus::Failed(weft_types::ExecError::InsufficientDeposit { needed, .. }) => {
            assert_eq!(needed, deposit)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.account(&poor_address).balance, fee + 5 - r.fee);
}

/// Emits the most events a transaction may: 256 of 4 topics and 4 KiB each.
fn event_spammer() -> String {
    r#"(module
      (import "weft" "emit_event" (func $emit (param i32 i32 i32 i32)))
      (memory (export "memory") 1)
      (func (export "spam") (local $i i32)
        (loop $l
          (call $emit (i32.const 0) (i32.const 4) (i32.const 1024) (i32.const 4096))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 256))))))"#
        .to_owned()
}

#[test]
fn a_block_holds_receipts_up_to_its_byte_limit() {
    use parity_scale_codec::Encode;
    use weft_types::limits::{MAX_BLOCK_RECEIPT_BYTES, MAX_TX_RECEIPT_BYTES};
    let mut c = Chain::new();
    let spammer = c.deploy(&event_spammer());
    let sender = c.addr(1);
    let mut builder = c.builder();
    let nonce = c.account(&sender).nonce;
    let mut included = Vec::new();
    let refusal = loop {
        let tx = weft_types::Transaction {
            chain_id: crate::support::CHAIN_ID,
            sender,
            nonce: nonce + included.len() as u64,
            gas_limit: crate::support::GAS_LIMIT,
            gas_price: 1,
            action: crate::support::call(spammer, "spam", &[], 0),
        }
        .sign(&c.keys[1]);
        match builder.push(tx) {
            Ok(r) => {
                assert!(r.is_success(), "{:?}", r.status);
                included.push(r.encoded_size());
            }
            Err(e) => break e,
        }
    };
    assert!(
        matches!(refusal, weft_runtime::PushError::BlockFull("MAX_BLOCK_RECEIPT_BYTES reached")),
        "{refusal}"
    );
    let total: usize = included.iter().sum();
    assert!(included.iter().all(|&b| b > 1_000_000 && b <= MAX_TX_RECEIPT_BYTES), "{included:?}");
    assert!(total <= MAX_BLOCK_RECEIPT_BYTES && total + MAX_TX_RECEIPT_BYTES > MAX_BLOCK_RECEIPT_BYTES);
    let out = builder.finish().unwrap();
    assert_eq!(out.receipts.iter().map(|r| r.encode().len()).sum::<usize>(), total);
}
