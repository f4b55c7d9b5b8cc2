//! Code is compiled once, when it is uploaded: calls, nested calls, queries and estimates only
//! load compiled artifacts, after a restart too.

use std::sync::Arc;

use weft_runtime::{
    BlockEnv, Runtime, RuntimeError,
    gas::SCHEDULE,
    vm::{ArtifactStore, MemoryArtifacts},
};
use weft_types::{
    Action, ExecError, ExecStatus, Transaction, codec::BoundedBytes, state::code_key, tx::address_of,
};

use crate::{
    support::{CHAIN_ID, Chain, GAS_LIMIT},
    wat,
};

fn env(c: &Chain) -> BlockEnv {
    BlockEnv { height: c.head.height + 1, timestamp_ms: 0, proposer: c.proposer }
}

/// A chain whose runtime keeps its artifacts in `artifacts`.
fn chain_over(artifacts: &Arc<MemoryArtifacts>) -> Chain {
    let mut c = Chain::new();
    c.rt = Runtime::with_artifacts(CHAIN_ID, 1, artifacts.clone() as Arc<dyn ArtifactStore>).unwrap();
    c
}

#[test]
fn after_a_restart_calls_and_nested_calls_load_artifacts_and_never_compile() {
    let artifacts = Arc::new(MemoryArtifacts::default());
    let mut c = chain_over(&artifacts);
    let counter_code = c.upload(&wat::counter());
    let counter = c.instantiate(counter_code, b"");
    let proxy_code = c.upload(&wat::reentrant_counter());
    let proxy = c.instantiate(proxy_code, b"");
    assert_eq!(c.rt.vm().compiled(), 2, "each upload compiles its code once");
    let inc = wat::forward_input(&counter, "inc", &[]);
    let before = c.call(1, proxy, "forward", &inc);
    assert!(before.is_success(), "{:?}", before.status);
    assert_eq!(c.rt.vm().compiled(), 2, "calls load what the upload compiled");

    // A restart: nothing in memory, the artifacts on "disk". The node prepares what is stored
    // (here: finds both artifacts usable, compiling nothing).
    c.rt = Runtime::with_artifacts(CHAIN_ID, 1, artifacts.clone() as Arc<dyn ArtifactStore>).unwrap();
    for code in [counter_code, proxy_code] {
        let wasm = c.state.kv[&code_key(&code)].clone();
        assert!(!c.rt.vm().prepare_stored(&code, &wasm).unwrap(), "the artifact is usable");
    }
    let after = c.call(1, proxy, "forward", &inc);
    assert!(after.is_success(), "{:?}", after.status);
    assert_eq!(after.gas_used, before.gas_used, "the charge does not depend on what is in memory");
    assert_eq!(c.rt.vm().compiled(), 0, "the call and its nested call loaded both modules");

    let q = c.rt.query(c.state.clone(), env(&c), c.addr(1), counter, "get", vec![], GAS_LIMIT).unwrap();
    assert_eq!(q.result.unwrap(), 2u64.to_le_bytes());
    assert_eq!(c.rt.query_vm().unwrap().compiled(), 0, "the query VM loads the block VM's artifacts");
}

#[test]
fn lost_artifacts_are_rebuilt_by_blocks_and_refused_by_queries() {
    let mut c = Chain::new();
    let counter = c.deploy(&wat::counter());
    // A node that lost its artifacts (a fresh store).
    c.rt = Runtime::new(CHAIN_ID, 1).unwrap();
    let err = c.rt.query(c.state.clone(), env(&c), c.addr(1), counter, "get", vec![], GAS_LIMIT).unwrap_err();
    assert!(matches!(err, RuntimeError::NotCompiled(_)), "{err}");
    assert_eq!(c.rt.query_vm().unwrap().compiled(), 0, "a query never compiles");

    let r = c.call(1, counter, "inc", &[]);
    assert!(r.is_success(), "{:?}", r.status);
    assert_eq!(c.rt.vm().compiled(), 1, "block execution rebuilds a lost artifact from state");
    let q = c.rt.query(c.state.clone(), env(&c), c.addr(1), counter, "get", vec![], GAS_LIMIT).unwrap();
    assert_eq!(q.result.unwrap(), 1u64.to_le_bytes(), "and queries load it from then on");
}

#[test]
fn estimating_an_upload_validates_it_without_compiling_and_charges_what_the_block_does() {
    let mut c = Chain::new();
    let sender = c.addr(0);
    let dry_run = |c: &Chain, code: Vec<u8>| {
        let tx = Transaction {
            chain_id: CHAIN_ID,
            sender,
            nonce: 0,
            gas_limit: GAS_LIMIT,
            gas_price: 1,
            action: Action::UploadCode { code: BoundedBytes::new(code).unwrap() },
        };
        c.rt.dry_run(c.state.clone(), env(c), tx).unwrap()
    };
    let code = ::wat::parse_str(wat::counter()).unwrap();
    let estimate = dry_run(&c, code.clone());
    assert!(estimate.is_success(), "{:?}", estimate.status);
    let bad = dry_run(&c, b"\0asm\x01\0\0\0\x99".to_vec());
    assert!(matches!(bad.status, ExecStatus::Failed(ExecError::InvalidCode(_))), "{:?}", bad.status);
    assert_eq!(c.rt.query_vm().unwrap().compiled(), 0);

    let key = crate::support::key(0);
    assert_eq!(address_of(&key), sender);
    let r = c.run(0, Action::UploadCode { code: BoundedBytes::new(code).unwrap() });
    assert_eq!(r.gas_used, estimate.gas_used);
}

#[test]
fn code_entered_again_in_the_same_block_pays_no_second_load() {
    let mut c = Chain::new();
    let counter_code = c.upload(&wat::counter());
    let counter = c.instantiate(counter_code, b"");
    let proxy = c.deploy(&wat::reentrant_counter());
    let inc = crate::support::call(counter, "inc", &[], 0);
    let alone = c.run(1, inc.clone());
    let code_len = c.state.kv[&code_key(&counter_code)].len();
    let load = c.rt.vm().load_cost(&counter_code).unwrap() - SCHEDULE.enter(code_len);
    assert!(load > 0);

    // Re-executed by `Chain::block`, which checks the replay charges the same.
    let b = c.block(vec![c.tx(1, inc.clone()), c.tx(2, inc.clone())]);
    assert_eq!(b.receipts[0].gas_used, alone.gas_used, "the block's first entry loads the module");
    assert_eq!(b.receipts[1].gas_used, alone.gas_used - load, "the second only enters it");
    assert_eq!(c.run(1, inc).gas_used, alone.gas_used, "the next block loads it again");

    // Within one transaction too: the proxy's entry, then the counter's, each loaded once.
    let forward = wat::forward_input(&counter, "inc", &[]);
    let once = c.call(1, proxy, "forward", &forward);
    let both = c.block(vec![
        c.tx(1, crate::support::call(counter, "inc", &[], 0)),
        c.tx(2, crate::support::call(proxy, "forward", &forward, 0)),
    ]);
    assert_eq!(both.receipts[1].gas_used, once.gas_used - load, "the nested call found the counter warm");
}

#[test]
fn a_query_vm_interrupts_executions_past_its_time_limit_even_in_nested_calls() {
    let mut c = Chain::new();
    let spinner =
        c.deploy(r#"(module (memory (export "memory") 1) (func (export "spin") (loop $l (br $l))))"#);
    let proxy = c.deploy(&wat::reentrant_counter());
    let vm = c.rt.query_vm().unwrap();
    let query = |contract, method: &str, input: Vec<u8>| {
        c.rt.query(
            c.state.clone(),
            env(&c),
            c.addr(1),
            contract,
            method,
            input,
            weft_types::limits::MAX_TX_GAS,
        )
    };
    // No limit: the loop runs until its gas is gone.
    assert!(matches!(query(spinner, "spin", vec![]).unwrap().result, Err(ExecError::OutOfGas)));

    vm.limit_time(2);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (vm, done) = (vm.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(5));
                vm.tick();
            }
        })
    };
    let err = query(spinner, "spin", vec![]).unwrap_err();
    assert!(matches!(err, RuntimeError::Interrupted), "{err}");
    let nested = query(proxy, "forward", wat::forward_input(&spinner, "spin", &[])).unwrap_err();
    assert!(matches!(nested, RuntimeError::Interrupted), "carried through the calling frame: {nested}");
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();

    // The block VM has no clock: ticking it does nothing, and blocks run to their gas.
    c.rt.vm().tick();
    assert_eq!(c.rt.vm().execution_deadline(), None);
    let r = c.call(1, spinner, "spin", &[]);
    assert!(matches!(r.status, ExecStatus::Failed(ExecError::OutOfGas)), "{:?}", r.status);
}
