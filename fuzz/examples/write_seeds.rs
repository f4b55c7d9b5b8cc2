//! Writes the seed corpora of the cargo-fuzz targets: `cargo run -p weft-fuzz --example
//! write-seeds -- DIR` fills `DIR/{tx,wasm,rpc}/` with the seeds of `weft_fuzz::seeds` (and the
//! compiled example contracts found in `target/contracts`, if built), and `DIR/*.dict` with the
//! dictionaries in libFuzzer's format.
#![allow(clippy::unwrap_used)]

use std::{fs, path::PathBuf};

fn write_dict(path: PathBuf, tokens: &[Vec<u8>]) {
    let mut text = String::new();
    for t in tokens {
        let escaped: String = t.iter().map(|b| format!("\\x{b:02x}")).collect();
        text.push_str(&format!("\"{escaped}\"\n"));
    }
    fs::write(path, text).unwrap();
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: write-seeds DIR"));
    let mut wasm = weft_fuzz::seeds::wasm_inputs();
    let built = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/contracts/wasm32v1-none/contract");
    if let Ok(entries) = fs::read_dir(&built) {
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "wasm") {
                wasm.push(fs::read(p).unwrap());
            }
        }
    }
    for (target, seeds) in
        [("tx", weft_fuzz::seeds::tx_inputs()), ("wasm", wasm), ("rpc", weft_fuzz::seeds::rpc_inputs())]
    {
        let d = dir.join(target);
        fs::create_dir_all(&d).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            fs::write(d.join(format!("seed-{i:03}")), s).unwrap();
        }
        println!("{}: {} seeds", d.display(), seeds.len());
    }
    write_dict(dir.join("tx.dict"), &weft_fuzz::seeds::tx_dict());
    write_dict(dir.join("wasm.dict"), &weft_fuzz::seeds::wasm_dict());
    write_dict(dir.join("rpc.dict"), &weft_fuzz::seeds::rpc_dict());
}
