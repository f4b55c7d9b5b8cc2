//! The wasm validation + execution target on mutated real contracts.

use weft_fuzz::{mutate::Mutator, seeds, wasm::target};

/// The small modules of [`seeds::wasm_inputs`] and a compiled example contract (compiling
/// large modules dominates the run in a debug build, so it is one seed of three).
fn wasm_seeds() -> Vec<Vec<u8>> {
    let mut s = seeds::wasm_inputs();
    s.push(weft_testing::contract_wasm("weft-example-token"));
    s
}

#[test]
fn seeds_are_accepted_deployed_and_called() {
    for seed in wasm_seeds() {
        weft_runtime::vm::prepare::prepare(&seed).unwrap();
        target(&seed);
    }
}

/// Mutated modules tried.
const RUNS: usize = 400;

#[test]
fn mutated_modules_never_panic() {
    let mut m = Mutator::new(0x7e57_0002, wasm_seeds(), seeds::wasm_dict(), 64 * 1024);
    let mut accepted = 0;
    for _ in 0..RUNS {
        let input = m.next_input();
        if weft_runtime::vm::prepare::prepare(&input).is_ok() {
            accepted += 1;
        }
        target(&input);
    }
    eprintln!("{accepted} of {RUNS} mutated modules passed validation and ran");
    assert!(accepted > 0, "no mutation passed validation: the run reached no execution");
}
