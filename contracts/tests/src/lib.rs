//! Sandbox tests of the example contracts.
//!
//! Everything is in the integration test binary `tests/it` (one module per contract, plus
//! `wasm` for the built modules themselves); this library is empty. Run with
//! `cargo test -p weft-contract-tests`: the contracts are built to wasm with the `contract`
//! profile into `target/contracts` on first use.
