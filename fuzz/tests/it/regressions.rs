//! Every input that once made a target fail, kept in `fuzz/regressions/<target>/` (one file
//! each, named after what it found), replayed on its target.

use std::path::Path;

use weft_fuzz::rpc::Harness;

/// The inputs kept for `target`.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return vec![] };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn tx_regressions() {
    for (name, input) in inputs("tx") {
        eprintln!("tx regression {name}");
        weft_fuzz::tx::target(&input);
    }
}

#[test]
fn wasm_regressions() {
    for (name, input) in inputs("wasm") {
        eprintln!("wasm regression {name}");
        weft_fuzz::wasm::target(&input);
    }
}

#[test]
fn rpc_regressions() {
    let inputs = inputs("rpc");
    if inputs.is_empty() {
        return;
    }
    let harness = Harness::start();
    for (name, input) in inputs {
        eprintln!("rpc regression {name}");
        harness.run(&input);
    }
    harness.shutdown();
}
