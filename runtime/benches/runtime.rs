//! Hot-path micro-benchmarks of the runtime: signature verification, and one call of a
//! token-transfer contract (instantiate + execute + tear down, on a cached module).
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
    let genesis = Genesis { timestamp_ms: 0, balances: vec![(alice, u128::MAX / 2)] };
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

criterion_group!(benches, signatures, token_call);
criterion_main!(benches);
