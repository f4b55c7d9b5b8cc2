//! The same blocks applied to the in-memory state and to the redb store give the same state
//! roots, receipts and proofs.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use weft_node::store::Store;
use weft_runtime::{BlockBuilder, BlockOutput, Genesis, Runtime, state::memory::MemoryState, state::tree};
use weft_types::{
    Action, Address, Block, Header, MethodName, Transaction, codec::BoundedBytes, sha3_256,
    state::account_key, tx::address_of,
};

const COUNTER: &str = r#"(module
  (import "weft" "storage_read" (func $sread (param i32 i32 i32 i32) (result i32)))
  (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
  (import "weft" "revert" (func $revert (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  (func $inc (export "inc")
    (drop (call $sread (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $swrite (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
  (func (export "fail") (call $inc) (call $revert (i32.const 0) (i32.const 5)))
  (func (export "spin") (loop $l (br $l))))"#;

#[test]
fn memory_and_redb_agree_block_by_block() {
    let rt = Runtime::new(3, 1).unwrap();
    let keys: Vec<SigningKey> = (1..=3u8).map(|i| SigningKey::from_bytes(&[i; 32])).collect();
    let addr = |i: usize| address_of(&keys[i]);
    let balances = (0..3).map(|i| (addr(i), 1u128 << 80)).collect();
    let genesis = Genesis { timestamp_ms: 5, balances, validators: None };

    // Build a chain on memory state.
    let mut mem = MemoryState::new();
    let g = rt.genesis(Arc::new(mem.clone()), &genesis).unwrap();
    mem.apply(&g.changes);
    let mut head: Header = g.block.header.clone();
    let mut blocks: Vec<BlockOutput> = vec![g];
    let mut nonces = [0u64; 3];
    let mut tx = |i: usize, action: Action| {
        let t = Transaction {
            chain_id: 3,
            sender: addr(i),
            nonce: nonces[i],
            gas_limit: 5_000_000,
            gas_price: 1,
            action,
        };
        nonces[i] += 1;
        t.sign(&keys[i])
    };
    let code = wat::parse_str(COUNTER).unwrap();
    let code_hash = sha3_256(&code);
    let contract = Address::contract(&addr(0), &code_hash, b"");
    let call = |m: &str| Action::Call {
        contract,
        method: MethodName::new(m).unwrap(),
        args: BoundedBytes::new(vec![]).unwrap(),
        value: 0,
    };
    let plan: Vec<Vec<_>> = vec![
        vec![
            tx(0, Action::UploadCode { code: BoundedBytes::new(code).unwrap() }),
            tx(1, Action::Transfer { to: addr(2), amount: 77 }),
        ],
        vec![tx(
            0,
            Action::Instantiate {
                code_hash,
                args: BoundedBytes::new(vec![]).unwrap(),
                value: 10,
                salt: BoundedBytes::new(vec![]).unwrap(),
            },
        )],
        vec![tx(1, call("inc")), tx(2, call("fail")), tx(1, call("inc")), tx(2, call("spin"))],
        vec![],
        vec![tx(0, Action::Transfer { to: addr(1), amount: u128::MAX })],
    ];
    for txs in plan {
        let mut b = BlockBuilder::new(&rt, Arc::new(mem.clone()), &head, head.timestamp_ms + 1000, addr(2));
        for t in txs {
            b.push(t).unwrap();
        }
        let out = b.finish().unwrap();
        mem.apply(&out.changes);
        head = out.block.header.clone();
        blocks.push(out);
    }
    assert!(
        blocks[3].receipts.iter().any(|r| !r.is_success())
            && blocks[3].receipts.iter().any(|r| r.is_success())
    );

    // Replay the blocks on redb.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("chain.redb")).unwrap();
    let g = rt.genesis(Arc::new(store.state().unwrap()), &genesis).unwrap();
    assert_eq!(g, blocks[0]);
    store.commit_block(&g.block, &g.receipts, &g.changes).unwrap();
    for expected in &blocks[1..] {
        let parent = store.head().unwrap().unwrap();
        let block: &Block = &expected.block;
        let out = rt.apply_block(Arc::new(store.state().unwrap()), &parent, block).unwrap();
        assert_eq!(out.changes.root, expected.changes.root, "root at height {}", block.header.height);
        assert_eq!(out.receipts, expected.receipts);
        store.commit_block(&out.block, &out.receipts, &out.changes).unwrap();
    }

    // Same proofs from both, against the same header root.
    let tip = store.head().unwrap().unwrap();
    assert_eq!(tip, head);
    let state = store.state().unwrap();
    for key in [account_key(&contract), account_key(&addr(1)), account_key(&Address([9; 32]))] {
        let (from_redb, proof) = tree::prove(&state, tip.height, &key).unwrap();
        let (from_mem, _) = tree::prove(&mem, tip.height, &key).unwrap();
        assert_eq!(from_redb, from_mem);
        proof.verify(&tip.state_root, &key, from_redb.as_deref()).unwrap();
    }
}
