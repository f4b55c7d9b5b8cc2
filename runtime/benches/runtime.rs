//! Hot-path micro-benchmarks of the runtime: signature verification (one, and a block's worth
//! in parallel), one call of a token-transfer contract (instantiate + execute + tear down, on a
//! cached module), and the cost of fuel metering: the same compute-heavy contract, prepared as
//! the node prepares it, on the node's engine and on the same engine with fuel off.
//!
//! Run: `cargo bench -p weft-runtime --bench runtime`.
#![allow(clippy::unwrap_used)]

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use weft_runtime::{BlockBuilder, BlockEnv, Genesis, Runtime, state::memory::MemoryState};
use weft_types::{Action, Address, MethodName, Transaction, codec::BoundedBytes, tx::address_of};

fn signatures(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let tx = Transaction {
        chain_id: 1,
        sender: address_of(&key),
        nonce: 0,
        gas_limit: 1_000_000,
        gas_price: 1,
        action: Action::Transfer { to: Address([1; 32]), amount: 5 },
    }
    .sign(&key);
    c.bench_function("ed25519 verify_strict (tx)", |b| b.iter(|| black_box(&tx).verify_signature()));
}

fn token_call(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let alice = address_of(&key);
    let rt = Runtime::new(1, 1).unwrap();
    let mut state = MemoryState::new();
    let genesis = Genesis { timestamp_ms: 0, balances: vec![(alice, u128::MAX / 2)], validators: None };
    let out = rt.genesis(Arc::new(state.clone()), &genesis).unwrap();
    state.apply(&out.changes);
    let mut head = out.block.header;
    let code = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/wat/token.wat")).unwrap();
    let code_hash = weft_types::sha3_256(&code);
    let actions = [
        Action::UploadCode { code: BoundedBytes::new(code).unwrap() },
        Action::Instantiate {
            code_hash,
            args: BoundedBytes::new(1_000_000u64.to_le_bytes().to_vec()).unwrap(),
            value: 0,
            salt: BoundedBytes::new(vec![]).unwrap(),
        },
    ];
    let mut token = None;
    for (nonce, action) in actions.into_iter().enumerate() {
        let tx = Transaction {
            chain_id: 1,
            sender: alice,
            nonce: nonce as u64,
            gas_limit: 100_000_000,
            gas_price: 1,
            action,
        }
        .sign(&key);
        let mut b = BlockBuilder::new(&rt, Arc::new(state.clone()), &head, 0, Address::default());
        let r = b.push(tx).unwrap();
        assert!(r.is_success(), "{:?}", r.status);
        token = r.contract_address.or(token);
        let out = b.finish().unwrap();
        state.apply(&out.changes);
        head = out.block.header;
    }
    let token = token.unwrap();
    let state = Arc::new(state);
    let env = BlockEnv { height: head.height + 1, timestamp_ms: 0, proposer: Address::default() };
    let mut input = [9u8; 32].to_vec();
    input.extend_from_slice(&1u64.to_le_bytes());
    let method = MethodName::new("transfer").unwrap();
    c.bench_function("token transfer call (instantiate + execute)", |b| {
        b.iter(|| {
            let q = rt
                .query(state.clone(), env, alice, token, method.as_str(), input.clone(), 1_000_000)
                .unwrap();
            assert!(q.result.is_ok());
        })
    });
}

/// A compute-heavy contract: `crunch` runs 200 rounds of xorshift mixing over 512 u64 slots of
/// memory, with a call per round (loads, stores, arithmetic, branches and calls, as compiled
/// contracts mix them).
const CRUNCH_WAT: &str = r#"
(module
  (memory (export "memory") 1)
  (func $round (param $r i64) (param $x i64) (result i64)
    (local $i i32)
    (loop $slots
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (i64.store (local.get $i)
        (i64.add (i64.load (local.get $i)) (i64.xor (local.get $x) (local.get $r))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $slots (i32.lt_u (local.get $i) (i32.const 4096))))
    (local.get $x))
  (func (export "crunch")
    (local $r i64) (local $x i64)
    (local.set $x (i64.const 0x9e3779b97f4a7c15))
    (loop $rounds
      (local.set $x (call $round (local.get $r) (local.get $x)))
      (local.set $r (i64.add (local.get $r) (i64.const 1)))
      (br_if $rounds (i64.lt_u (local.get $r) (i64.const 200))))))
"#;

fn metering(c: &mut Criterion) {
    use wasmtime::{Engine, Linker, Module, Store};
    let prepared = weft_runtime::vm::prepare::prepare(&wat::parse_str(CRUNCH_WAT).unwrap()).unwrap();
    let mut group = c.benchmark_group("metering: crunch (200 rounds x 512 slots)");
    for (name, metered) in [("fuel (node engine)", true), ("no fuel (same engine otherwise)", false)] {
        let engine = Engine::new(&weft_runtime::vm::engine_config(metered, 16)).unwrap();
        let module = Module::new(&engine, &prepared.code).unwrap();
        let pre = Linker::<()>::new(&engine).instantiate_pre(&module).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut store = Store::new(&engine, ());
                store.set_epoch_deadline(u64::MAX / 2);
                if metered {
                    store.set_fuel(u64::MAX / 2).unwrap();
                }
                let instance = pre.instantiate(&mut store).unwrap();
                let f = instance.get_typed_func::<(), ()>(&mut store, "crunch").unwrap();
                f.call(&mut store, ()).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, signatures, token_call, metering);
criterion_main!(benches);
