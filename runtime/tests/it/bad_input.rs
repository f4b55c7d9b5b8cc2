//! Bad input the other modules do not try: a long loop that ends in a trap, and a proposer's
//! block that carries one transaction twice.

use weft_types::{
    Action, Block, ExecError, ExecStatus, TrapKind,
    block::{receipts_root, tx_root},
    codec::BoundedVec,
};

use crate::support::{Chain, GAS_LIMIT};

/// Writes a storage value, loops `(i32.const N)` times, then traps.
const LOOP_THEN_TRAP: &str = r#"(module
  (import "weft" "storage_write" (func $swrite (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "key")
  (func (export "run") (local $i i32)
    (call $swrite (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 3))
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 200000))))
    unreachable))"#;

#[test]
fn a_long_loop_then_a_trap_fails_identically_with_gas_charged_and_nothing_changed() {
    let run = || {
        let mut c = Chain::new();
        let contract = c.deploy(LOOP_THEN_TRAP);
        let before = c.account(&c.addr(1));
        let r = c.call(1, contract, "run", &[]);
        let after = c.account(&c.addr(1));
        assert_eq!(r.status, ExecStatus::Failed(ExecError::Trap { contract, kind: TrapKind::Unreachable }));
        assert!(r.gas_used > 200_000 && r.gas_used < GAS_LIMIT, "gas {}", r.gas_used);
        assert_eq!(after.balance, before.balance - r.fee, "only the fee is charged");
        assert_eq!(after.nonce, before.nonce + 1);
        assert!(r.events.is_empty() && r.return_data.is_empty());
        // The storage write before the trap is gone.
        let key = weft_types::state::storage_key(&contract, b"key");
        assert_eq!(weft_runtime::StateBackend::get(&*c.state, &key).unwrap(), None);
        (r, c.head.state_root)
    };
    let (a, root_a) = run();
    let (b, root_b) = run();
    assert_eq!(a, b, "the same receipt on every run");
    assert_eq!(root_a, root_b);
}

#[test]
fn a_block_carrying_one_transaction_twice_is_rejected() {
    let mut c = Chain::new();
    let tx = c.tx(0, Action::Transfer { to: c.addr(1), amount: 1 });
    let mut b = c.builder();
    b.push(tx.clone()).unwrap();
    let built = b.finish().unwrap();
    // A proposer that appends the same transaction again (header roots made to match).
    let mut block: Block = built.block.clone();
    let txs = vec![tx.clone(), tx];
    let receipts = vec![built.receipts[0].clone(), built.receipts[0].clone()];
    block.header.tx_root = tx_root(&txs);
    block.header.receipts_root = receipts_root(&receipts);
    block.txs = BoundedVec::new(txs).unwrap();
    let err = c.rt.apply_block(c.state.clone(), &c.head, &block).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("transaction 1 (") && text.contains("nonce too low"), "{text}");
    // The block without the copy is fine.
    c.block(vec![c.tx(0, Action::Transfer { to: c.addr(1), amount: 1 })]);
}

/// A module exporting `memory` and `run`, whose body is `body` (raw bytes, `end` included).
fn module_with_body(body: &[u8]) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, MemorySection, MemoryType, Module,
        TypeSection,
    };
    let mut m = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    m.section(&types);
    let mut funcs = FunctionSection::new();
    funcs.function(0);
    m.section(&funcs);
    let mut mem = MemorySection::new();
    mem.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    m.section(&mem);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("run", ExportKind::Func, 0);
    m.section(&exports);
    let mut code = CodeSection::new();
    let mut f = Function::new([]);
    f.raw(body.iter().copied());
    code.function(&f);
    m.section(&code);
    m.finish()
}

#[test]
fn encodings_only_other_wasm_features_allow_are_refused_before_compilation() {
    // Found by the wasm fuzz target (fuzz/regressions/wasm/memarg-offset-as-u64-leb): validation
    // read memory arguments with every wasm feature on, so a memory offset written as a 7-byte
    // LEB (memory64's encoding) or with the multi-memory flag passed, and the upload then failed
    // to compile with an opaque error.
    let good = module_with_body(&[0x41, 0x00, 0x28, 0x02, 0xe4, 0xf6, 0x2a, 0x1a, 0x0b]);
    weft_runtime::vm::prepare::prepare(&good).unwrap();
    for (what, body) in [
        (
            "offset as a 7-byte LEB",
            &[0x41, 0x00, 0x28, 0x02, 0xe4, 0xf6, 0xaa, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b][..],
        ),
        ("multi-memory flag, memory 0", &[0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1a, 0x0b][..]),
    ] {
        let err = weft_runtime::vm::prepare::prepare(&module_with_body(body)).unwrap_err();
        assert!(matches!(err, weft_runtime::vm::prepare::CodeError::Malformed(_)), "{what}: {err}");
    }
    // And through a transaction: refused with the reason, gas charged, nothing stored.
    let mut c = Chain::new();
    let code =
        module_with_body(&[0x41, 0x00, 0x28, 0x02, 0xe4, 0xf6, 0xaa, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b]);
    let r = c.run(0, Action::UploadCode { code: weft_types::codec::BoundedBytes::new(code).unwrap() });
    match &r.status {
        ExecStatus::Failed(ExecError::InvalidCode(msg)) => {
            assert!(msg.contains("invalid module") && !msg.contains("failed to compile"), "{msg}")
        }
        other => panic!("{other:?}"),
    }
}
